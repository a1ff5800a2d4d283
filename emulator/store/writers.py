"""The writers of a SQLite file take turns here, each woken as soon as the one before it is done.

Why: SQLite lets one writer in at a time, and a writer that finds the database locked waits in SQLite's busy
handler, which sleeps and tries again (1, 2, 5, 10 ... then 100 ms between tries). Under steady writes a waiting
writer kept missing its turn to writers that came after it: eight clients putting 1000-record batches (13 ms
each) through ``serve --workers 2`` waited 13 ms at the median and 0.66-1.27 s at the 99th percentile. Here the
threads of a process queue on a lock, and the processes on a lock of a file beside the database
(``<database>-writers``, ``flock``), which the kernel hands over the moment it is released; ``BEGIN IMMEDIATE``
then finds the database free. A writer that takes no turn here (a user's ``sqlite3`` shell) is still waited for in
SQLite's busy handler, as before.

The file lock belongs to an open file, and a forked worker shares its master's open files: each process opens its
own (``serve``'s master holds no turn when it forks its workers). Where there is no ``flock`` (Windows, which runs
one process), the threads' lock is the turn.

The same file counts the commits its writers made (:meth:`WriterTurns.count`, eight bytes mapped into every
process, as the control version's beacon is): "has anyone committed since?" answered without a statement, which a
kept answer asks on every request (emulator.answers). A writer, holding its turn, makes the count odd before its
COMMIT and even again after it: a count read before a transaction's first statement and found again later means
no commit landed in between; an odd count means one is under way (or its writer died in it: the next writer goes
on from there). Only writers that take turns count: where the turns cannot be taken (no ``flock``), a writer marks
the count as not kept (``UNCOUNTED``) for good, and readers ask SQLite, as they do anyway at least once a second
(for a writer outside the emulator: a ``sqlite3`` shell).
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


_COUNT = struct.Struct("<q")
UNCOUNTED = -1  # the count is not kept (a writer could not take its turn): never a count


class TurnTimeout(Exception):
    """No turn within the wait allowed (the store answers as SQLite does when its busy timeout runs out)."""


class WriterTurns:
    """The turns of the writers of one SQLite file."""

    def __init__(self, path: Path):
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None
        self._count = _map_count(path) if fcntl is not None else None
        self._exclusive = False  # this turn holds the file's lock (every process's writers wait for it)

    def take(self, timeout: float) -> None:
        """Wait for this writer's turn (at most ``timeout`` seconds for the process's other writers)."""
        if not self._threads.acquire(timeout=timeout):
            raise TurnTimeout(f"no writer's turn within {timeout:g} s")
        try:
            fd = self._file()
            self._exclusive = False
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    self._exclusive = True
                except OSError:  # a file system without flock: the processes wait in SQLite's busy handler
                    os.close(fd)
                    self._fd = None
            if not self._exclusive and self._count is not None:
                _COUNT.pack_into(self._count, 0, UNCOUNTED)  # its commit would not be counted: nobody's is
        except BaseException:
            self._threads.release()
            raise

    def count(self) -> int | None:
        """The commits counted so far (odd: one under way); None where they are not counted."""
        if self._count is None:
            return None
        found = _COUNT.unpack_from(self._count)[0]
        return None if found == UNCOUNTED else found

    def committing(self) -> None:
        """Before this turn's COMMIT: the count made odd (past any count seen before)."""
        self._step(lambda found: found + 1 if found % 2 == 0 else found + 2)

    def committed(self) -> None:
        """After this turn's COMMIT (or its failure): the count made even again."""
        self._step(lambda found: found + 1 if found % 2 else found + 2)

    def _step(self, step) -> None:
        if self._exclusive and self._count is not None:  # a count only one writer at a time moves
            found = _COUNT.unpack_from(self._count)[0]
            if found != UNCOUNTED:
                _COUNT.pack_into(self._count, 0, step(found))

    def give(self) -> None:
        """End this writer's turn (after its commit or rollback)."""
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _file(self) -> int | None:
        """This process's open lock file; None without one (no ``flock``, or a file that cannot be made: then the
        processes wait for each other in SQLite's busy handler, as they did)."""
        if fcntl is not None and self._pid != os.getpid():
            self._pid = os.getpid()
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                self._fd = None
        return self._fd


def _map_count(path: Path) -> mmap.mmap | None:
    """The count's eight bytes of the turns' file, mapped; None where the file cannot be made or mapped (then nothing
    is counted and readers ask SQLite)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size < _COUNT.size:
            os.write(fd, _COUNT.pack(0))
        return mmap.mmap(fd, _COUNT.size)
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def beside(database: str) -> WriterTurns:
    """The turns of the SQLite file ``database`` (a path): ``<database>-writers``."""
    return WriterTurns(Path(database + "-writers"))
