"""Writes the rollups do not hold yet: a write stores its records and notes its span here; the rollups take the
noted writes in (:meth:`emulator.timeseries.rollups.Rollups.catch_up`) before anything reads them.

Why: folding every write into the 2-minute, hourly and daily statistics was a third of the cost of ``PUT
/timeseries`` (2.1-2.4 of 7 ms for 1000 records of 5 variables here), paid by every write, while most series are
written far more often than their aggregates are read (a pump's second-by-second history, an agent's uploads,
a test's fixtures). Noting the write costs one statement; the statistics are made once, for all the writes
noted since, by the first reader: a request of TS Aggregates or the Data Hub (the request chain does it before
the route reads, in a write transaction of its own), the dashboard, a snapshot's export, a delete of records
(which refreshes what it removes from, so the rollups must hold what was written before it).

What a reader sees is therefore what it saw when every write folded itself in: the same rollups, made from the
same records, by the same code. A run of appends (each later than every stored record: the usual write) is one row
whose span grows, so the table holds a row or two per written series, never one per write.
"""

from __future__ import annotations

from emulator.store.engine import fast_execute, fast_rows

Series = tuple[str, str, str]  # (tenant, asset id, aspect)

_KEY = "tenant_id = ? AND asset_id = ? AND aspect = ?"
_NEWEST = f"SELECT seq, hi FROM ts_pending WHERE {_KEY} ORDER BY seq DESC LIMIT 1"
_EXTEND = f"UPDATE ts_pending SET hi = ? WHERE {_KEY} AND seq = ?"
_INSERT = "INSERT INTO ts_pending (tenant_id, asset_id, aspect, seq, lo, hi) VALUES (?, ?, ?, ?, ?, ?)"
_OF_SERIES = f"SELECT seq, lo, hi FROM ts_pending WHERE {_KEY} ORDER BY seq"
_DONE = f"DELETE FROM ts_pending WHERE {_KEY} AND seq <= ?"
_ANY = "SELECT 1 FROM ts_pending WHERE tenant_id = ? LIMIT 1"
_SERIES = "SELECT DISTINCT asset_id, aspect FROM ts_pending WHERE tenant_id = ? ORDER BY asset_id, aspect"


def note(conn, series: Series, lo: int, hi: int, base: int | None) -> None:
    """A write of records ``[lo, hi]`` into a series whose newest record was at ``base`` before it, in the
    writer's transaction (which holds the series: emulator.timeseries.service.serialize). A write after that record,
    when it ends the newest noted span, extends that span: nothing is stored between the two."""
    newest = fast_rows(conn, _NEWEST, *series)
    seq = 0
    if newest:
        last_seq, last_hi = newest[0]
        if base is not None and last_hi == base < lo:
            fast_execute(conn, _EXTEND, hi, *series, last_seq)
            return
        seq = last_seq + 1
    fast_execute(conn, _INSERT, *series, seq, lo, hi)


def waiting(conn, tenant: str) -> bool:
    """Has the tenant writes the rollups do not hold yet?"""
    return bool(fast_rows(conn, _ANY, tenant))


def series_of(conn, tenant: str) -> list[tuple[str, str]]:
    """(asset id, aspect) of each of the tenant's series with writes noted."""
    return [tuple(row) for row in fast_rows(conn, _SERIES, tenant)]


def noted(conn, series: Series) -> list[tuple[int, int, int, int | None]]:
    """The series' noted writes, (seq, lo, hi), in write order."""
    return [tuple(row) for row in fast_rows(conn, _OF_SERIES, *series)]


def done(conn, series: Series, upto_seq: int) -> None:
    """The noted writes up to ``upto_seq`` are in the rollups now."""
    fast_execute(conn, _DONE, *series, upto_seq)


__all__ = ["done", "note", "noted", "series_of", "waiting"]
