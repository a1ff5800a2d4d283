"""Pre-computed aggregates, kept up to date on every write and delete of time series.

Like MindSphere's pre-calculated 2-minute, 1-hour and 1-day aggregates: an aggregate query then
costs in proportion to the intervals it returns, not to the raw points beneath them. Buckets are
left-open and right-closed, ``(start, start + size]``, as MindSphere's intervals are (``starttime``
exclusive, ``endtime`` inclusive). Days are the tenant's local days.

A write or delete refreshes exactly the 2-minute buckets it touched (from the raw records), then
the hours holding them (from the 2-minute rollups), then the days holding those (from the hours, or
from the 2-minute rollups where a local midnight is not on a whole UTC hour). A write of records
later than every stored one (the usual append) replaces nothing: each bucket it touched becomes its
stored statistics, if any, combined with those of its new records (Chan's parallel combination,
as a refresh folds finer rollups), without reading records or finer rollups back.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import orjson

from emulator import limits
from emulator.store import TenantScope
from emulator.store.engine import fast_executemany, fast_rows
from emulator.timeseries import blocks
from emulator.timeseries.records import AspectSchema, Checked
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
# the rollups of one bucket, its variables' values packed
_AT = f"SELECT variable, packed FROM ts_rollups WHERE {_SERIES} AND variable IN ({{marks}}) AND size = ? AND start = ?"
_DELETE = f"DELETE FROM ts_rollups WHERE {_SERIES} AND variable = ? AND size = ? AND start = ?"
_KEY = "tenant_id, asset_id, aspect, variable, size, start"
# a bucket written again is updated in place (one statement for the usual write, none to delete first)
_UPSERT = (f"INSERT INTO ts_rollups ({_KEY}, {', '.join(FIELDS)}, packed) "
           f"VALUES ({', '.join('?' * (7 + len(FIELDS)))}) ON CONFLICT ({_KEY}) DO UPDATE SET "
           + ", ".join(f"{column} = excluded.{column}" for column in (*FIELDS, "packed")))
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


def _from_records(records: list[tuple[int, dict]], var: str) -> tuple | None:
    """A variable's (times, values, quality codes) in records (time, record) that need not all carry it; codes only
    beside a value (records.py)."""
    times = [t for t, r in records if var in r]
    if not times:
        return None
    qc_key = var + "_qc"
    return times, [float(r[var]) for _t, r in records if var in r], [r[qc_key] for _t, r in records if qc_key in r]


def _from_columns(times: list[int], columns: dict[str, list], a: int, b: int, var: str) -> tuple | None:
    """A variable's (times, values, quality codes) in records ``[a, b)`` of a checked batch's columns (each record
    carries every variable of the columns; a code of 0, good, where a record has none)."""
    column = columns.get(var)
    if column is None:
        return None
    codes = columns.get(var + "_qc")
    return times, list(map(float, column[a:b])), codes[a:b] if codes is not None else []


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

    def after_write(self, written: Checked, last: int | None) -> None:
        """``written``: the records just stored; ``last``: the time of the series' newest record before them (None
        when it had none). Records later than every stored one (the pump's, an agent's, a client's readings sent
        in order) are added to the buckets' statistics (:meth:`_append`); any other write refreshes the buckets
        it touched from what they hold now."""
        if not self.schema.numeric:
            return
        if last is None or last < written.times[0]:
            self._append(written, last)
        else:
            self._refresh({start for start, _i, _j in _bucket_runs(written.times, 0, len(written))}, written)

    def _append(self, written: Checked, last: int | None) -> None:
        """The rollups after a write of records later than ``last``, the newest stored one: at each level the
        statistics of a bucket's new records, combined after the bucket's stored ones where it is the bucket that
        holds ``last`` (no later one held records). Records and finer rollups are not read back: a 1000-record
        append into a day of data read the hour's 2-minute rollups and the day's hours again, and parsed the
        records already in its first 2-minute bucket."""
        numeric = self.schema.numeric
        runs = []  # (2-minute start, hour start, day start, {variable: the new records' stats}), in time order
        for start, a, b in _bucket_runs(written.times, 0, len(written)):
            series_of = self._written(written, a, b)
            stats = {}
            for var in numeric:
                series = series_of(var)
                if series is not None:
                    stats[var] = Stats.of_series(*series).as_tuple()
            runs.append((*self._holding(start), stats))
        held = None if last is None else self._holding(bucket(last, TWO_MIN))
        for level, size in enumerate((TWO_MIN, HOUR, DAY)):
            parts: dict[tuple[str, int], list[tuple]] = defaultdict(list)
            for run in runs:
                for var, values in run[3].items():
                    parts[(var, run[level])].append(values)
            if held is not None and any(key == held[level] for _var, key in parts):
                for var, values in self._stored(size, held[level]).items():
                    if (var, held[level]) in parts:
                        parts[(var, held[level])].insert(0, values)
            self._upsert(size, {key: rows[0] if len(rows) == 1 else combine(rows).as_tuple()
                                for key, rows in parts.items()})

    def _holding(self, start: int) -> tuple[int, int, int]:
        """The starts of the 2-minute bucket at ``start``, of the hour and of the local day that hold it."""
        return start, start // HOUR * HOUR, local_day(start + 1, self.zone)[0]

    def _stored(self, size: int, start: int) -> dict[str, tuple]:
        """The stored rollups of the bucket of ``size`` at ``start``: variable -> values in ``FIELDS`` order."""
        out = {}
        for names in _groups(self.schema.numeric):
            for var, packed in fast_rows(self.scope.conn, _AT.format(marks=_marks(names)), *self.series, *names,
                                         size // 1000, start):
                out[var] = PACKED.unpack(packed)
        return out

    @staticmethod
    def _written(written: Checked, a: int, b: int) -> Callable:
        """The function that gives a variable's (times, values, quality codes) in records ``[a, b)`` of a batch."""
        if written.columns is not None:
            return partial(_from_columns, written.times[a:b], written.columns, a, b)
        return partial(_from_records, list(zip(written.times[a:b], written.bodies[a:b], strict=True)))

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

    def _refresh(self, two_min: set[int], written: Checked | None = None) -> None:
        if not two_min:
            return
        fresh = {}
        numeric = self.schema.numeric
        for lo, hi in _runs(list(two_min), TWO_MIN):
            for start, series_of in self._buckets(lo, hi, written):
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

    def _buckets(self, lo: int, hi: int, written: Checked | None) -> Iterator[tuple[int, Callable]]:
        """The 2-minute buckets of ``(lo, hi]`` that hold records, each with the function that gives a variable's
        (times, values, quality codes) in it, or None. A bucket holding as many records as were just written in
        it holds just those (they were all stored): it is taken from ``written``, its columns when the batch has
        them. Only the others' records are read and parsed; the counts come from the stored times alone."""
        new = written.times if written is not None else []
        stored = blocks.times_in(self.scope.conn, self.series, lo, hi)
        others = []
        for start, i, j in _bucket_runs(stored, 0, len(stored)):
            a, b = bisect_right(new, start), bisect_right(new, start + TWO_MIN)
            if b - a != j - i:
                others.append(start)
            else:
                yield start, self._written(written, a, b)
        if not others:
            return
        wanted = set(others)
        records: dict[int, list] = defaultdict(list)
        for block, i, j in blocks.slices(self.scope.conn, self.series, others[0], others[-1] + TWO_MIN):
            for start, k, end in _bucket_runs(block.times, i, j):
                if start in wanted:
                    records[start] += zip(block.times[k:end], map(orjson.loads, block.texts(k, end)), strict=True)
        for start in others:
            yield start, partial(_from_records, records[start])

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
