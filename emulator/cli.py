"""The ``mindsphere-emulator`` command: ``serve`` and the data commands (:mod:`emulator.commands.line`).

This module imports nothing heavy itself: the command line, Flask, SQLAlchemy and the app are imported inside
:func:`main`, with the garbage collector paused (:mod:`emulator.collector`; a tenth of ``serve``'s start).
"""

from __future__ import annotations

import sys

from emulator import collector


def main(argv: list[str] | None = None) -> int:
    with collector.paused():  # resumed by the command once it has made what lasts (or at its end)
        from emulator.commands.line import run

        return run(argv)


if __name__ == "__main__":
    sys.exit(main())
