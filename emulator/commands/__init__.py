"""Subcommands of ``mindsphere-emulator`` that act on data (``contract``, ``seed``, ``snapshot``, ``token``): each a
module with ``add_parser`` and ``run``. They sit with the CLI, above the API packages whose services they call;
:mod:`.line` is the command line that parses and runs them and ``serve`` (:mod:`emulator.cli` enters it).

Each acts on the emulator the user means (:mod:`.target`): a running server through its HTTP API (``--url``,
the default), or a store named explicitly (``--data-dir``, ``--database-url``).
"""


class CommandError(ValueError):
    """A command cannot do what it was asked; the message is the one-line reason the CLI prints."""
