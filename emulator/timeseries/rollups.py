"""Pre-computed aggregates of time series, brought up to date with the writes before anything reads them.

Like MindSphere's pre-calculated 2-minute, 1-hour and 1-day aggregates: an aggregate query then
costs in proportion to the intervals it returns, not to the raw points beneath them. Buckets are
left-open and right-closed, ``(start, start + size]``, as MindSphere's intervals are (``starttime``
exclusive, ``endtime`` inclusive). Days are the tenant's local days.

The 2-minute buckets holding records that were written or deleted are made again from the raw records, then
the hours holding them (from the 2-minute rollups), then the days holding those (from the hours, or from the
2-minute rollups where a local midnight is not on a whole UTC hour). A delete does it at once; a write only notes
its span (``emulator.timeseries.pending``), and :meth:`Rollups.catch_up` takes the noted writes in when something
is about to read the rollups.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from operator import itemgetter
from zoneinfo import ZoneInfo

import orjson

from emulator import limits
from emulator.store import TenantScope
from emulator.store.engine import fast_executemany, fast_rows
from emulator.timeseries import blocks
from emulator.timeseries.records import AspectSchema
from emulator.timeseries.stats import FIELDS, PACKED, Stats, combine

TWO_MIN, HOUR, DAY = (seconds * 1000 for seconds in limits.ROLLUP_SIZES)  # bucket lengths in ms

# Statements through the driver (the rollups of a 1000-record write are a few hundred rows: SQLAlchemy's statement
# and row handling cost more than the database's work). Each names the variables, so that it seeks in the key
# (tenant, asset, aspect, variable, size, start) instead of stepping every rollup the series has ever had: without
# them a write's statements cost in proportion to the series' history.
_SERIES = "tenant_id = ? AND asset_id = ? AND aspect = ?"
_STARTS = (f"SELECT DISTINCT start FROM ts_rollups WHERE {_SERIES} AND variable IN ({{marks}}) AND size = ? "
           "AND start >= ? AND start <= ?")
# the finer rollups a coarser one folds, their values read packed (one column: exact, and the cheaper read)
_ROLLUPS = (f"SELECT variable, packed FROM ts_rollups WHERE {_SERIES} AND variable IN ({{marks}}) AND size = ? "
            "AND start >= ? AND start < ? ORDER BY variable, start")
_DELETE = f"DELETE FROM ts_rollups WHERE {_SERIES} AND variable = ? AND size = ? AND start = ?"
_KEY = "tenant_id, asset_id, aspect, variable, size, start"
# a bucket written again is updated in place (one statement for the usual write, none to delete first)
_UPSERT = (f"INSERT INTO ts_rollups ({_KEY}, {', '.join(FIELDS)}, packed) "
           f"VALUES ({', '.join('?' * (7 + len(FIELDS)))}) ON CONFLICT ({_KEY}) DO UPDATE SET "
           + ", ".join(f"{column} = excluded.{column}" for column in (*FIELDS, "packed")))
CATCH_UP_RECORDS = 10_000  # records read back and parsed at a time (and more, to the end of a bucket): bounded memory
NAMES_PER_STATEMENT = 500  # variables named in one statement (an aspect has no cap on them; the databases do)


def bucket(t: int, size_ms: int) -> int:
    """The start of the bucket ``(start, start + size]`` holding time t."""
    return ((t - 1) // size_ms) * size_ms


def local_day(t: int, zone: ZoneInfo) -> tuple[int, int]:
    """(start, end) of the local day ``(midnight, next midnight]`` holding time t, in epoch ms."""
    day = datetime.fromtimestamp((t - 1) / 1000, tz=zone).date()
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _series_of(times: list[int], bodies: list[dict]) -> Callable[[str], tuple | None]:
    """The function that gives a variable's (times, values, quality codes) in a bucket's records, or None when none
    carries it: with C loops for a variable every record carries (the usual record), a comprehension otherwise;
    codes only where a record has one (beside a value, records.py)."""
    keys = set().union(*bodies)

    def series(var: str) -> tuple | None:
        if var not in keys:
            return None
        qc_key = var + "_qc"
        codes = [r[qc_key] for r in bodies if qc_key in r] if qc_key in keys else []
        try:
            return times, list(map(float, map(itemgetter(var), bodies))), codes
        except KeyError:  # some records lack it
            held = [(t, r[var]) for t, r in zip(times, bodies, strict=True) if var in r]
            return [t for t, _v in held], [float(v) for _t, v in held], codes

    return series


def _bucket_runs(times, i: int, j: int) -> Iterator[tuple[int, int, int]]:
    """(bucket start, k, end) of each 2-minute bucket's run ``[k, end)`` of ``times[i:j]`` (ascending): a step per
    bucket, not per time."""
    while i < j:
        start = bucket(times[i], TWO_MIN)
        end = bisect_right(times, start + TWO_MIN, i, j)
        yield start, i, end
        i = end


def _runs(starts: list[int], size: int) -> list[tuple[int, int]]:
    """Consecutive bucket starts joined into (first start, last end) ranges."""
    runs: list[list[int]] = []
    for s in sorted(starts):
        if runs and s == runs[-1][1]:
            runs[-1][1] = s + size
        else:
            runs.append([s, s + size])
    return [(a, b) for a, b in runs]


class Rollups:
    """Rollup maintenance for one asset's aspect, within the caller's transaction."""

    def __init__(self, scope: TenantScope, asset_id: str, schema: AspectSchema, zone: str):
        self.scope = scope
        self.asset_id = asset_id
        self.schema = schema
        self.zone = ZoneInfo(zone)
        self.series = (scope.tenant, asset_id, schema.name)

    def catch_up(self, noted: list[tuple[int, int, int]]) -> None:
        """Take in the writes noted since the rollups were last made (``emulator.timeseries.pending``: (seq, lo,
        hi)): every 2-minute bucket that holds records of their spans is made again from what it holds now, and
        the hours and days holding those, about ``CATCH_UP_RECORDS`` records at a time. The spans are joined first:
        a bucket rewritten by many writes (thousands, from concurrent clients) is made once, from its records as they
        are after the last of them."""
        if not self.schema.numeric:
            return
        joined: list[list[int]] = []
        for _seq, lo, hi in sorted(noted, key=itemgetter(1)):
            if joined and lo <= joined[-1][1] + 1:
                joined[-1][1] = max(joined[-1][1], hi)
            elif lo <= hi:
                joined.append([lo, hi])
        for lo, hi in joined:
            chunk: set[int] = set()
            held = 0
            for block, i, j in blocks.slices(self.scope.conn, self.series, lo - 1, hi):  # a few blocks at a time
                chunk.update(start for start, _k, _end in _bucket_runs(block.times, i, j))
                held += j - i
                if held >= CATCH_UP_RECORDS:  # a bucket going on in the next block is made again with it: whole
                    self._refresh(chunk)
                    chunk, held = set(), 0
            self._refresh(chunk)

    def after_delete(self, after: int, upto: int) -> None:
        """Refresh every 2-minute bucket that had data in ``(after, upto]``."""
        if not self.schema.numeric:
            return
        starts = set()
        for names in _groups(self.schema.numeric):
            starts.update(start for start, in fast_rows(
                self.scope.conn, _STARTS.format(marks=_marks(names)), *self.series, *names, TWO_MIN // 1000,
                bucket(after + 1, TWO_MIN), bucket(upto, TWO_MIN)))
        self._refresh(starts)

    # --- the three levels ----------------------------------------------------------------------------

    def _refresh(self, two_min: set[int]) -> None:
        if not two_min:
            return
        fresh = {}
        numeric = self.schema.numeric
        for lo, hi in _runs(list(two_min), TWO_MIN):
            for start, series_of in self._buckets(lo, hi):
                for var in numeric:
                    series = series_of(var)
                    if series is not None:
                        fresh[(var, start)] = Stats.of_series(*series)
        self._replace(TWO_MIN, two_min, fresh)
        hours = {(s // HOUR) * HOUR for s in two_min}
        self._replace(HOUR, hours, self._combine(TWO_MIN, [(h, h + HOUR) for h in hours]))
        days = {local_day(h + 1, self.zone) for h in hours}
        by_source: dict[int, list] = defaultdict(list)
        for lo, hi in days:
            by_source[HOUR if lo % HOUR == 0 and hi % HOUR == 0 else TWO_MIN].append((lo, hi))
        day_stats = {}
        for source, spans in by_source.items():
            day_stats.update(self._combine(source, spans))
        self._replace(DAY, {lo for lo, _ in days}, day_stats)

    def _buckets(self, lo: int, hi: int) -> Iterator[tuple[int, Callable]]:
        """The 2-minute buckets of ``(lo, hi]`` that hold records, in time order, each with the function that gives a
        variable's (times, values, quality codes) in it, or None: their records read and parsed, a bucket's records
        of a block at once (their texts joined with commas are a JSON array's items)."""
        times: dict[int, list[int]] = defaultdict(list)
        bodies: dict[int, list[dict]] = defaultdict(list)
        for block, i, j in blocks.slices(self.scope.conn, self.series, lo, hi):
            for start, k, end in _bucket_runs(block.times, i, j):
                times[start] += block.times[k:end]
                bodies[start] += orjson.loads("[" + block.text(k, end) + "]")
        for start, found in bodies.items():
            yield start, _series_of(times[start], found)

    def _combine(self, source: int, spans: list[tuple[int, int]]) -> dict:
        """Stats per (variable, span start) from the ``source`` rollups lying in each span."""
        out = {}
        for names in _groups(self.schema.numeric):
            sql = _ROLLUPS.format(marks=_marks(names))
            for lo, hi in spans:
                by_var: dict[str, list] = defaultdict(list)
                for var, packed in fast_rows(self.scope.conn, sql, *self.series, *names, source // 1000, lo, hi):
                    by_var[var].append(PACKED.unpack(packed))
                for var, rows in by_var.items():
                    out[(var, lo)] = combine(rows)
        return out

    def _replace(self, size: int, starts: set[int], fresh: dict) -> None:
        """The rollups of ``size`` at ``starts`` become ``fresh`` ((variable, start) -> Stats): each fresh one written
        over the stored one, and the variables a bucket no longer holds deleted (after a delete; after a write only
        where it replaced records with records that lack a variable)."""
        seconds = size // 1000
        ordered = sorted(starts)
        stale = [(*self.series, var, seconds, start) for var in self.schema.numeric for start in ordered
                 if (var, start) not in fresh]
        if stale:
            fast_executemany(self.scope.conn, _DELETE, stale)
        self._upsert(size, {key: stats.as_tuple() for key, stats in fresh.items()})

    def _upsert(self, size: int, fresh: dict[tuple[str, int], tuple]) -> None:
        """The rollups of ``size`` at (variable, start) written over the stored ones: values in ``FIELDS`` order, as
        columns and the same packed."""
        seconds = size // 1000
        rows = [(*self.series, var, seconds, start, *values, PACKED.pack(*values))
                for (var, start), values in fresh.items()]
        if rows:
            fast_executemany(self.scope.conn, _UPSERT, rows)


def _groups(names: list[str]) -> Iterator[list[str]]:
    """The names in groups small enough to be named in one statement."""
    for i in range(0, len(names), NAMES_PER_STATEMENT):
        yield names[i:i + NAMES_PER_STATEMENT]


def _marks(names: list[str]) -> str:
    return ", ".join("?" * len(names))


__all__ = ["FIELDS", "Rollups", "bucket", "local_day"]
