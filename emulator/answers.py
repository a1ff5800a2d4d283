"""Answers kept while the store holds what it held: a GET asked again is answered with what was rendered for it,
once it is known that nothing has been committed since, instead of its reads and its rendering.

Why: a served small read spends most of its time beyond the static floor in its statements (each a round of the
interpreter's lock under load) and in rendering; dashboards, Data Hub grids and SDK loops ask the same reads over
and over. Why it cannot serve a stale answer: an answer is kept with what its read saw of the store
(emulator.store.engine.Seen: the count of the emulator's commits, which every writer of every process moves, read
before the read began; SQLite's ``PRAGMA data_version`` of the read's snapshot; the rows the connection changed
itself), on the connection that read it, and given again only while that connection finds the same: nothing
committed since, by anyone. A kept answer asks no statement while the count says so (a writer outside the
emulator, which the count does not see, is seen by SQLite's version, asked at least once a second). The request
journal's commits are not counted: no kept answer reads the journal. Every input of
a kept answer besides the store is in its key (tenant, path, query, the base URL its links carry); the request
chain (token, faults, quotas, journal) runs for every request as before.

PostgreSQL tells no such version (its clients may be on other machines): nothing is kept there.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from flask import Response

from emulator import context
from emulator.store.engine import seen_now, unchanged_since

ENTRIES = 256  # answers kept per connection, the least recently used first out
BYTES = 1 << 20  # their bodies' bytes per connection (a worker has a connection per thread)
LARGEST = 64 * 1024  # an answer larger than this is not kept


class _Shelf(OrderedDict):
    """A connection's kept answers: key -> (what its read saw of the store, status, headers, body)."""

    size = 0

    def put(self, key: tuple, entry: tuple) -> None:
        old = self.pop(key, None)
        if old is not None:
            self.size -= len(old[3])
        self[key] = entry
        self.size += len(entry[3])
        while len(self) > ENTRIES or self.size > BYTES:
            _key, dropped = self.popitem(last=False)
            self.size -= len(dropped[3])


def kept(make: Callable[[], Response]) -> Response:
    """The answer of this GET: the one kept for it when the store has not changed since it was read, else
    ``make()``'s (kept when it is a 200 read in the request's own snapshot)."""
    st = context.state()
    conn = st.db
    req = st.req
    if conn is None or req.method != "GET" or conn.info.get("write"):
        return make()
    key = (st.tenant, req.path, req.query_string, context.base_url())
    shelf = conn.info.get("answers")
    if shelf is not None and (hit := shelf.get(key)) is not None and unchanged_since(conn, hit[0]):
        shelf.move_to_end(key)
        return Response(hit[3], status=hit[1], headers=hit[2])
    resp = make()
    if resp.status_code != 200 or resp.is_streamed:
        return resp
    body = resp.get_data()
    seen = seen_now(conn)  # None: nothing to tell a change by later (it read nothing, a commit was under way...)
    if seen is not None and len(body) <= LARGEST:
        if shelf is None:
            shelf = conn.info["answers"] = _Shelf()
        headers = [(k, v) for k, v in resp.headers.items() if k.lower() != "content-length"]
        shelf.put(key, (seen, resp.status_code, headers, body))
    return resp
