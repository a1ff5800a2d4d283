"""Aggregate queries answered from the rollups: cost follows the intervals, not the raw points.

Minute intervals combine 2-minute rollups, hours combine hourly ones, days, weeks and months combine
the tenant's local daily ones. Intervals without data are left out; a variable without data in an
interval is left out of it.
"""

from __future__ import annotations

import functools
from bisect import bisect_right

import orjson

from emulator import errors
from emulator.aggregates.intervals import Plan
from emulator.store import TenantScope
from emulator.store.engine import fast_rows
from emulator.times import iso_compact as iso
from emulator.timeseries.records import AspectSchema
from emulator.timeseries.stats import PACKED, Stats, combine

SOURCE_SECONDS = {"minute": 120, "hour": 3600, "day": 86400, "week": 86400, "month": 86400}
# through the driver: a month of day rollups is 150 rows, and SQLAlchemy's row handling cost a fifth of the answer;
# each row's values packed in one column (reading them column by column cost two thirds of a 30-day answer); in the
# key's order (each variable's rows in time order), so the database sorts nothing
_ROLLUPS = ("SELECT variable, start, packed FROM ts_rollups WHERE tenant_id = ? AND asset_id = ? AND aspect = ? "
            "AND variable IN ({marks}) AND size = ? AND start >= ? AND start < ? ORDER BY variable, start")
PUBLIC_FIELDS = ("countgood", "countuncertain", "countbad", "sum", "average", "minvalue", "mintime", "maxvalue",
                 "maxtime", "firstvalue", "firsttime", "lastvalue", "lasttime", "sd")


def parse_select(raw: str | None, schema: AspectSchema) -> dict[str, tuple[str, ...] | None]:
    """``var1,var2`` or ``var1.sum,var2.average``: variable -> fields (None: all). Numeric variables only."""
    numeric = schema.numeric
    if raw is None or raw.strip() == "":
        return {var: None for var in numeric}
    wanted: dict[str, list[str] | None] = {}
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        var, _, field = item.partition(".")
        if var not in schema.variables:
            raise errors.BadRequest(f"select: {var!r} is not a variable of aspect {schema.name!r}")
        if var not in numeric:
            raise errors.BadRequest(f"select: {var!r} is {schema.variables[var]['dataType']}; only INT, LONG and "
                                    "DOUBLE variables are aggregated")
        if field and field not in PUBLIC_FIELDS:
            raise errors.BadRequest(f"select: {field!r} is not an aggregate ({', '.join(PUBLIC_FIELDS)})")
        if field:
            current = wanted.get(var, [])
            if current is not None:
                wanted[var] = [*current, field]
        else:
            wanted[var] = None
    return {var: tuple(fields) if fields is not None else None for var, fields in wanted.items()}


def _interval_rows(scope: TenantScope, asset_id: str, schema: AspectSchema, plan: Plan,
                   variables) -> list[tuple[int, int, dict[str, list[bytes]]]]:
    """(start, end, {variable: its rollup rows packed (``stats.PACKED``), in time order}) of each interval of the plan
    that has data. A rollup that starts an interval (every one, when an interval is one rollup long: a day of days)
    finds it by its start; any other by bisection."""
    if not plan.intervals or not variables:
        return []
    intervals = plan.intervals
    names = list(variables)
    rows = fast_rows(scope.conn, _ROLLUPS.format(marks=", ".join("?" * len(names))), scope.tenant, asset_id,
                     schema.name, *names, SOURCE_SECONDS[plan.unit], intervals[0][0], intervals[-1][1])
    index_of = {lo: i for i, (lo, _) in enumerate(intervals)}
    starts = [lo for lo, _ in intervals]
    grouped: dict[int, dict[str, list[bytes]]] = {}
    for var, start, packed in rows:
        index = index_of.get(start)
        if index is None:
            index = bisect_right(starts, start) - 1
        of_interval = grouped.get(index)
        if of_interval is None:
            of_interval = grouped[index] = {}
        same = of_interval.get(var)
        if same is None:
            of_interval[var] = [bytes(packed)]  # PostgreSQL's driver: a memoryview
        else:
            same.append(bytes(packed))
    return [(*intervals[index], grouped[index]) for index in sorted(grouped)]


def _combined(packed_rows: list[bytes]) -> Stats:
    return combine(map(PACKED.unpack, packed_rows))


def interval_stats(scope: TenantScope, asset_id: str, schema: AspectSchema, plan: Plan,
                   variables) -> list[tuple[int, int, dict[str, Stats]]]:
    """(start, end, {variable: stats}) of each interval of the plan that has data, in time order."""
    return [(lo, hi, {var: _combined(items) for var, items in rows_of.items()})
            for lo, hi, rows_of in _interval_rows(scope, asset_id, schema, plan, variables)]


# A rollup row's whole answer object, encoded, by the row's packed values: an interval of one rollup (a day of days,
# an hour of hours) answers its row as it is, so a range asked again (a dashboard's refresh, a chart's pan) encodes
# none of its unchanged rows again. Keyed by content (exact: the sign of a zero too), every worker agrees with the
# store; emptied when full. Each is kept as text of its own length: the bytes ``orjson.dumps`` returns keep the
# buffer it wrote into (8 KB for a 300-byte object), which made a full store 400 MB of a worker's memory.
_ENCODED: dict[bytes, orjson.Fragment] = {}
_ENCODED_MAX = 10_000  # about 5 MB


def _encoded(packed: bytes, stamp) -> orjson.Fragment:
    found = _ENCODED.get(packed)
    if found is None:
        if len(_ENCODED) >= _ENCODED_MAX:
            _ENCODED.clear()
        found = _ENCODED[packed] = orjson.Fragment(orjson.dumps(_combined([packed]).public(stamp)).decode())
    return found


def aggregate(scope: TenantScope, asset_id: str, schema: AspectSchema, plan: Plan,
              wanted: dict[str, tuple[str, ...] | None]) -> list[dict]:
    """The answer's intervals (each object ready for ``orjson``)."""
    out = []
    # each time written once per answer: an interval's end is the next one's start, and variables written
    # together share their first and last times
    stamp = functools.cache(iso)
    for lo, hi, rows_of in _interval_rows(scope, asset_id, schema, plan, wanted):
        item = {"starttime": stamp(lo), "endtime": stamp(hi)}
        for var, fields in wanted.items():
            rows = rows_of.get(var)
            if rows is None:
                continue
            if fields is None and len(rows) == 1:
                item[var] = _encoded(rows[0], stamp)
                continue
            public = _combined(rows).public(stamp)
            item[var] = public if fields is None else {f: public[f] for f in fields}
        out.append(item)
    return out
