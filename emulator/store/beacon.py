"""The control version's beacon: the last committed ``control.version``, readable without a query.

Every data-plane request compares the store's control version with the one its process loaded (the fault rules, the
clock, the quotas). Read from the database, that is a statement of its own on every request; served under load, each
statement a request runs costs it a round of the interpreter's lock, and this one was a tenth of a small GET's
throughput. Where every process sharing the store is on one machine, the writer of a change announces the committed
version here, and a reader that finds the version it holds skips the query:

* an in-memory store (one process): a number in memory;
* a SQLite file: eight bytes in a file beside it (``<database>-control``, made as private as the database), mapped
  into memory by every process that opens the store, as SQLite's own ``-shm`` file is;
* PostgreSQL (whose clients may be on other machines): none; the version is read from the database.

A beacon only spares a query: a reader that finds another number queries, as without one. A change is announced after
its commit (before the control call answers); a process killed between the two leaves the previous number, so readers
also query at least once a second whatever the beacon says (``ControlPlane.sync``).
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path

_VALUE = struct.Struct("<q")
UNKNOWN = -1  # no version announced yet: never a version's number


class Beacon:
    """The beacon of an in-memory store."""

    def __init__(self) -> None:
        self._value = UNKNOWN

    def read(self) -> int:
        return self._value

    def announce(self, version: int) -> None:
        self._value = version


class FileBeacon(Beacon):
    """Eight bytes of a file shared by every process that maps it (a worker forked from the master shares its map)."""

    def __init__(self, path: Path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _VALUE.size:
                os.write(fd, _VALUE.pack(UNKNOWN))
            self._map = mmap.mmap(fd, _VALUE.size)
        finally:
            os.close(fd)

    def read(self) -> int:
        return _VALUE.unpack_from(self._map)[0]

    def announce(self, version: int) -> None:
        _VALUE.pack_into(self._map, 0, version)


def beside(database: str) -> Beacon | None:
    """The beacon of the SQLite file ``database`` (a path): ``<database>-control``. None where the file cannot be
    mapped (a beacon only spares queries: without one, every request queries)."""
    try:
        return FileBeacon(Path(database + "-control"))
    except (OSError, ValueError):
        return None
