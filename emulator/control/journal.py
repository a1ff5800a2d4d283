"""The request journal: what each request asked and got, for tests to assert on what an app sent.

Entries are buffered in memory and written to the store in batches (every quarter second, and
before every read of the journal), so a request does not pay for a write of its own; the table is a
ring buffer trimmed to ``cap`` entries, so memory and disk stay flat over a day-long run.
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
import threading

from sqlalchemy import delete, func, select

from emulator.store import Store
from emulator.store.engine import fast_executemany
from emulator.store.models import journal
from emulator.times import parse_instant

FLUSH_SECONDS = 0.25
MAX_LIMIT = 100_000  # entries one GET /_emulator/journal answers at most
_FIELDS = ("time", "tenant", "method", "path", "query", "status", "duration_ms", "fault", "request_body",
           "response_body")
# through the driver: under load the flush of a few thousand entries a second through SQLAlchemy's insert took a
# tenth of the worker's time, with the GIL held
_INSERT = f"INSERT INTO journal ({', '.join(_FIELDS)}) VALUES ({', '.join('?' * len(_FIELDS))})"


class Journal:
    def __init__(self, store: Store, cap: int):
        self.store = store
        self.cap = cap
        self._buffer: list[dict] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # held from taking a batch to its commit: a query waits for a flush under way
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def record(self, entry: dict) -> None:
        with self._lock:
            self._buffer.append(entry)
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(target=self._run, name="journal-flush", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            with contextlib.suppress(Exception):  # a full disk or a restarting database must not end the journal
                self.flush()

    def close(self) -> None:
        """End the background flush, after a last one, before the store it writes to is closed (an in-process server
        stopping): a flush on a closed store's connection is at best lost, at worst a crash."""
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(Exception):
            self.flush()  # what was recorded while the thread made its last one

    def flush(self) -> None:
        """Write the buffered entries. A query flushes first; if the background flush has just taken the buffer,
        the query waits for its commit (it found the buffer empty and read before the entries were stored)."""
        with self._flushing:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if not batch:
                return
            with self.store.transaction(write=True, counted=False) as conn:  # no kept answer reads the journal
                fast_executemany(conn, _INSERT, [tuple(e[f] for f in _FIELDS) for e in batch])
                newest = conn.execute(select(func.max(journal.c.id))).scalar() or 0
                conn.execute(delete(journal).where(journal.c.id <= newest - self.cap))

    def query(self, *, method=None, path=None, status=None, tenant=None, since=None, limit=1000) -> list[dict]:
        """The newest ``limit`` entries that pass every filter, oldest first. The path glob is matched before the
        limit counts (the store narrows by the glob's literal prefix, Python matches the rest)."""
        self.flush()
        stmt = select(journal).order_by(journal.c.id.desc())
        if method:
            stmt = stmt.where(journal.c.method == method.upper())
        if status is not None:
            stmt = stmt.where(journal.c.status == status)
        if tenant:
            stmt = stmt.where(journal.c.tenant == tenant)
        if since is not None:
            stmt = stmt.where(journal.c.time >= since)
        if not path:
            with self.store.transaction() as conn:
                rows = conn.execute(stmt.limit(limit)).mappings().all()
            return list(reversed(rows))
        prefix = re.split(r"[*?\[]", path, maxsplit=1)[0]
        if prefix:
            stmt = stmt.where(journal.c.path.startswith(prefix, autoescape=True))
        rows = []
        with self.store.transaction() as conn:
            for row in conn.execute(stmt.execution_options(yield_per=500)).mappings():
                if fnmatch.fnmatchcase(row["path"], path):
                    rows.append(row)
                    if len(rows) == limit:
                        break
        return list(reversed(rows))

    def clear(self, tenant: str | None = None) -> None:
        with self._lock:
            self._buffer = [e for e in self._buffer if tenant is not None and e["tenant"] != tenant]
        with self.store.transaction(write=True) as conn:
            conn.execute(delete(journal).where(journal.c.tenant == tenant) if tenant else delete(journal))


def parse_filters(args) -> dict:
    """The filters of ``GET /_emulator/journal`` (checked against the contract: a status 100-599, a limit of
    1 to MAX_LIMIT, a time)."""
    out = {"method": args.get("method"), "path": args.get("path"), "tenant": args.get("tenant")}
    for name in ("status", "limit"):
        if args.get(name):
            out[name] = int(args[name])
    if args.get("since"):
        out["since"] = parse_instant(args["since"], "since", zone_required=False) / 1000
    return out
