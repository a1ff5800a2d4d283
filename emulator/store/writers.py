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
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


class TurnTimeout(Exception):
    """No turn within the wait allowed (the store answers as SQLite does when its busy timeout runs out)."""


class WriterTurns:
    """The turns of the writers of one SQLite file."""

    def __init__(self, path: Path):
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    def take(self, timeout: float) -> None:
        """Wait for this writer's turn (at most ``timeout`` seconds for the process's other writers)."""
        if not self._threads.acquire(timeout=timeout):
            raise TurnTimeout(f"no writer's turn within {timeout:g} s")
        try:
            fd = self._file()
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError:  # a file system without flock: the processes wait in SQLite's busy handler
                    os.close(fd)
                    self._fd = None
        except BaseException:
            self._threads.release()
            raise

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


def beside(database: str) -> WriterTurns:
    """The turns of the SQLite file ``database`` (a path): ``<database>-writers``."""
    return WriterTurns(Path(database + "-writers"))
