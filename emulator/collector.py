"""The cyclic garbage collector paused while a start makes what lives as long as the process.

Why: a start imports Flask, SQLAlchemy and the emulator and makes the app, about 100,000 objects of which none is
garbage; the collector, triggered by the count of allocations, walked them about 200 times on the way (measured:
a tenth of ``serve``'s start, 70 ms of 600, and as much of the in-thread server's), and found nothing to free.
Paused, the same objects are made without those walks; ``serve`` then freezes them (``gc.freeze``, before its
workers fork) and the collector resumes for everything made after. What the pause leaves uncollected is the
imports' few cycles of garbage (about 600 objects of the 134,000: a collection before the freeze would cost 58 ms
of the start to free them).

A pause restores the state it found (a process that had the collector off keeps it off), and :func:`resume` may be
called more than once: ``serve`` resumes it itself before its workers fork, and the command's end resumes it
whatever happened between.

What a pause made is handed to the collector's oldest generation (``gc.freeze`` then ``gc.unfreeze``), where only
its full passes look: left young, the first pass after the pause walked all of it (46 ms for the in-thread server's
143,000 objects) and the next generation's pass again (44 ms), to find it all alive. Not where something was frozen
already (``serve`` freezes its heap before it forks, for good; a process may have frozen its own): ``unfreeze``
would thaw it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_found: list[bool] = []  # the collector's state at each pause not resumed yet, the innermost last


def pause() -> None:
    _found.append(gc.isenabled())
    gc.disable()


def resume() -> None:
    """End the innermost pause (none: nothing to do), as it found the collector."""
    if _found and _found.pop():
        if not gc.get_freeze_count():
            gc.freeze()  # everything tracked, what the pause made among it, to the oldest generation
            gc.unfreeze()
        gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    depth = len(_found)
    pause()
    try:
        yield
    finally:
        while len(_found) > depth:  # this pause, unless the body resumed it already
            resume()
