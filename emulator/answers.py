"""Answers kept while the store holds what it held: a GET asked again is answered with what was rendered for it,
after one question to SQLite (has anything been committed since?) instead of its reads and its rendering.

Why: a served small read spends most of its time beyond the static floor in its statements (each a round of the
interpreter's lock under load) and in rendering; dashboards, Data Hub grids and SDK loops ask the same reads over
and over. Why it cannot serve a stale answer: SQLite's ``PRAGMA data_version`` moves whenever any other connection
(another thread's, another worker's) commits a change, and the connection's own ``total_changes`` whenever it
changes a row itself (emulator.store.engine.store_version). An answer is kept with the version of the snapshot it
was read from, on the connection that read it (the numbers are that connection's), and given again only while that
connection finds the same version: nothing committed since, by anyone. Every input of a kept answer besides the
store is in its key (tenant, path, query, the base URL its links carry); the request chain (token, faults, quotas,
journal) runs for every request as before.

PostgreSQL tells no such version (its clients may be on other machines): nothing is kept there.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from flask import Response, request

from emulator import context
from emulator.store.engine import store_version

ENTRIES = 256  # answers kept per connection, the least recently used first out
BYTES = 1 << 20  # their bodies' bytes per connection (a worker has a connection per thread)
LARGEST = 64 * 1024  # an answer larger than this is not kept


class _Shelf(OrderedDict):
    """A connection's kept answers: key -> (version, status, headers, body)."""

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
    if conn is None or request.method != "GET" or conn.info.get("write"):
        return make()
    key = (st.tenant, request.path, request.query_string, context.base_url())
    shelf = conn.info.get("answers")
    if shelf is not None and (hit := shelf.get(key)) is not None and hit[0] == store_version(conn):
        shelf.move_to_end(key)
        return Response(hit[3], status=hit[1], headers=hit[2])
    resp = make()
    if resp.status_code != 200 or resp.is_streamed:
        return resp
    body = resp.get_data()
    version = store_version(conn, snapshot=True)  # the version the answer was read at; None if it read nothing
    if version is not None and len(body) <= LARGEST:
        if shelf is None:
            shelf = conn.info["answers"] = _Shelf()
        headers = [(k, v) for k, v in resp.headers.items() if k.lower() != "content-length"]
        shelf.put(key, (version, resp.status_code, headers, body))
    return resp
