"""What the dashboard shows, read through the services: plain values in, plain values out (no Flask).

Each function takes an open connection (or a :class:`TenantScope`) and the virtual time it should show,
so a page is one read transaction and shows one instant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import or_, select

from emulator import errors, limits
from emulator.aggregates import intervals as iv
from emulator.aggregates.query import interval_stats
from emulator.assets.models import assets
from emulator.assets.types import catalog
from emulator.control.faults import FaultRule
from emulator.dashboard import charts
from emulator.events import service as events
from emulator.odata import contracts
from emulator.store import TenantScope
from emulator.store.models import fault_rules, tenants
from emulator.timeseries import service as timeseries
from emulator.timeseries.records import NUMERIC, AspectSchema


@dataclass(frozen=True)
class Range:
    """A chart range: the last ``span_ms`` of virtual time, aggregated in intervals of ``value`` ``unit``."""

    key: str
    label: str
    span_ms: int
    unit: str
    value: int


RANGES = {r.key: r for r in (
    Range("hour", "Last hour", iv.HOUR, "minute", 2),
    Range("day", "Last day", iv.DAY, "minute", 30),
    Range("week", "Last 7 days", 7 * iv.DAY, "hour", 4),
)}
DEFAULT_RANGE = "hour"
RAW_LIMIT = limits.TS_MAX_LIMIT  # the newest records of a range: one read, as a client would make it
RAW_CAP = 5_000  # a range of at most this many records is charted from every record; more, from the rollups
PLOT_WIDTH = charts.WIDTH - charts.LEFT - charts.RIGHT  # pixel columns of a chart
TREE_LIMIT = 2000  # assets shown in the tree; a larger tenant is cut (and says so)
EVENT_ROWS = limits.EM_DEFAULT_PAGE_SIZE  # events listed per page beside the charts (the API's default page)
SEVERITY = {20: "error", 30: "warning", 40: "information"}  # the CLI's and MCL 2.0's convention


@dataclass
class Node:
    asset_id: str
    name: str
    type_id: str
    children: list[Node] = field(default_factory=list)


def tenant(conn, name: str):
    """The tenant's row; NotFound when there is no such tenant."""
    row = conn.execute(select(tenants).where(tenants.c.name == name)).mappings().first()
    if row is None:
        raise errors.NotFound(f"There is no tenant {name!r}")
    return row


def asset_tree(scope: TenantScope, root_id: str) -> tuple[Node | None, int, bool]:
    """The tenant's hierarchy from its root: (root node, assets shown, whether the tree was cut)."""
    rows = scope.all(scope.select(assets, assets.c.asset_id, assets.c.name, assets.c.type_id, assets.c.parent_id)
                     .order_by(assets.c.name, assets.c.asset_id).limit(TREE_LIMIT + 1))
    cut = len(rows) > TREE_LIMIT
    nodes = {r["asset_id"]: Node(r["asset_id"], r["name"], r["type_id"]) for r in rows[:TREE_LIMIT]}
    for r in rows[:TREE_LIMIT]:
        parent = nodes.get(r["parent_id"]) if r["parent_id"] else None
        if parent is not None:
            parent.children.append(nodes[r["asset_id"]])
    return nodes.get(root_id), len(nodes), cut


def asset(scope: TenantScope, asset_id: str):
    """The asset's row with its ancestors (root first); NotFound when the tenant has no such asset."""
    row = scope.get(assets, asset_id)
    if row is None:
        raise errors.NotFound(f"Tenant {scope.tenant!r} has no asset {asset_id!r}")
    path, parent, seen = [], row["parent_id"], {asset_id}
    while parent and parent not in seen:
        seen.add(parent)
        found = scope.get(assets, parent)
        if found is None:
            break
        path.insert(0, found)
        parent = found["parent_id"]
    return row, path


def dynamic_aspects(scope: TenantScope, row) -> list[AspectSchema]:
    """The asset's dynamic aspects, in its type's order."""
    return [timeseries.aspect_schema(scope, row["asset_id"], name)
            for name, aspect_type in catalog(scope).model(row["type_id"]).aspects
            if aspect_type["category"] == "dynamic"]


@dataclass
class AspectData:
    schema: AspectSchema
    points: dict[str, list[tuple[int, float]]]  # numeric variable -> (epoch ms, value), oldest first
    values: dict[str, int]  # numeric variable -> how many values the range holds (points may stand for more)
    latest: list[dict]  # every variable: {"name", "unit", "value", "time"} of its newest value in the range
    intervals: dict[str, list[tuple[int, int, float, float, float, int]]]  # (lo, hi, avg, min, max, count)
    records: int  # records in the range, all of them
    detail_minutes: int | None  # None: points are every record; else each N-minute interval's extremes


def window(rng: Range, now_ms: int) -> tuple[int, int]:
    return now_ms - rng.span_ms, now_ms


def detail_minutes(rng: Range) -> int:
    """The interval whose first, lowest, highest and last values stand for a range too large to read whole: about
    one pixel column of the chart, in whole 2-minute rollups (the finest the store keeps)."""
    return max(2, rng.span_ms // PLOT_WIDTH // iv.MINUTE // 2 * 2)


def aspect_data(scope: TenantScope, asset_id: str, schema: AspectSchema, rng: Range, now_ms: int,
                zone: ZoneInfo) -> AspectData:
    """Values, latest values and interval aggregates of one dynamic aspect over the range ending at ``now_ms``.

    The values chart spans the whole range: a range of at most ``RAW_CAP`` records is drawn from every record;
    a larger one from the first, lowest, highest and last value of each ``detail_minutes`` interval (from the
    rollups), which is what a pixel column can show of it anyway."""
    after, upto = window(rng, now_ms)
    records = timeseries.count(scope, asset_id, schema.name, after, upto)
    if records <= RAW_CAP:
        pairs = _records(scope, asset_id, schema.name, after, upto)
        (points, values), detail = _numeric_points(schema, pairs), None
    else:  # the newest records give the latest values; the chart comes from the rollups
        page = timeseries.read(scope, asset_id, schema.name, after, upto, RAW_LIMIT, descending=True)
        pairs = sorted(zip(page.times, page.bodies, strict=True))
        detail = detail_minutes(rng)
        points, values = _extremes(scope, asset_id, schema, after, upto, detail * iv.MINUTE, zone)
    newest: dict[str, tuple[int, object]] = {}
    for t, body in pairs:  # oldest first: what is left is the newest
        newest.update((var, (t, value)) for var, value in orjson.loads(body).items() if var in schema.variables)
    latest = [{"name": var, "unit": definition.get("unit") or "", "dataType": definition["dataType"],
               "value": newest[var][1] if var in newest else None, "time": newest[var][0] if var in newest else None}
              for var, definition in schema.variables.items()]
    return AspectData(schema, points, values, latest, aggregates(scope, asset_id, schema, rng, now_ms, zone),
                      records, detail)


Points = dict[str, list[tuple[int, float]]]


def _records(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int) -> list[tuple[int, str]]:
    """Every record of ``(after, upto]`` as (time, stored text), oldest first, read in pages."""
    out: list[tuple[int, str]] = []
    while True:
        page = timeseries.read(scope, asset_id, aspect, after, upto, RAW_CAP, descending=False)
        out += zip(page.times, page.bodies, strict=True)
        if not page.more:
            return out
        after = page.times[-1]


def _numeric_points(schema: AspectSchema, pairs: list[tuple[int, str]]) -> tuple[Points, dict[str, int]]:
    """Each record's numeric values as points, and how many each variable has."""
    points: Points = {var: [] for var in schema.numeric}
    for t, body in pairs:
        record = orjson.loads(body)
        for var, found in points.items():
            value = record.get(var)
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                found.append((t, float(value)))
    return points, {var: len(found) for var, found in points.items()}


def _extremes(scope: TenantScope, asset_id: str, schema: AspectSchema, after: int, upto: int, size: int,
              zone: ZoneInfo) -> tuple[Points, dict[str, int]]:
    """Per numeric variable, the first, lowest, highest and last value (at their times) of each ``size`` interval
    of ``(after, upto]`` from the rollups, and how many values they stand for. The pieces before the first and
    after the last interval boundary are read record by record, so nothing outside the range is counted."""
    first, last = -(-after // size) * size, upto // size * size
    if first >= last:
        return _numeric_points(schema, _records(scope, asset_id, schema.name, after, upto))
    head, head_values = _numeric_points(schema, _records(scope, asset_id, schema.name, after, first))
    tail, tail_values = _numeric_points(schema, _records(scope, asset_id, schema.name, last, upto))
    plan = iv.Plan("minute", size // iv.MINUTE, iv.build(first, last, "minute", size // iv.MINUTE, zone))
    middle: Points = {var: [] for var in schema.numeric}
    values = {var: head_values[var] + tail_values[var] for var in schema.numeric}
    for _lo, _hi, stats_of in interval_stats(scope, asset_id, schema, plan, schema.numeric):
        for var, stats in stats_of.items():
            middle[var] += sorted({(stats.firsttime, stats.firstvalue), (stats.mintime, stats.minvalue),
                                   (stats.maxtime, stats.maxvalue), (stats.lasttime, stats.lastvalue)})
            values[var] += stats.count
    return {var: head[var] + middle[var] + tail[var] for var in schema.numeric}, values


def aggregates(scope: TenantScope, asset_id: str, schema: AspectSchema, rng: Range, now_ms: int,
               zone: ZoneInfo) -> dict[str, list[tuple[int, int, float, float, float, int]]]:
    """Per numeric variable, (start, end, average, min, max, count) of each interval of the range that has
    data, from the rollups (the code the aggregates API answers with). The first interval starts on a
    boundary after ``now - span``, so the intervals never reach past the unit's maximum range."""
    size = rng.value * (iv.MINUTE if rng.unit == "minute" else iv.HOUR)
    first = (now_ms - rng.span_ms) - (now_ms - rng.span_ms) % size + size
    plan = iv.plan_v4(first, now_ms, rng.unit, rng.value, None, now_ms, zone)
    out: dict[str, list] = {var: [] for var in schema.numeric}
    for lo, hi, stats_of in interval_stats(scope, asset_id, schema, plan, schema.numeric):
        for var, stats in stats_of.items():
            average = stats.sum / stats.count if stats.count else math.nan
            if all(math.isfinite(v) for v in (average, stats.minvalue, stats.maxvalue)):
                out[var].append((lo, hi, average, stats.minvalue, stats.maxvalue, stats.count))
    return out


@dataclass
class EventPage:
    """One page of an asset's events as the dashboard lists them (newest first)."""

    rows: list[dict]
    page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // EVENT_ROWS))


def asset_events(scope: TenantScope, asset_id: str, now_ms: int, page: int) -> EventPage:
    """Page ``page`` (0-based) of the asset's events that have not expired at ``now_ms``: time, severity (with its
    conventional name), description, acknowledged, and the type, code and source for the reader."""
    rows, total = events.of_asset(scope, asset_id, now_ms, page * EVENT_ROWS, EVENT_ROWS)
    out = []
    for r in rows:
        values = r["values"]
        severity = values.get("severity")
        out.append({"id": r["event_id"], "time": charts.utc(r["ts"]), "timestamp": r["timestamp"],
                    "severity": severity, "severityName": SEVERITY.get(severity, ""),
                    "description": values.get("description") or "", "acknowledged": values.get("acknowledged"),
                    "code": values.get("code") or "", "source": values.get("source") or "", "typeId": r["type_id"]})
    return EventPage(out, page, total)


def is_numeric(data_type: str) -> bool:
    return data_type in NUMERIC


def fault_rules_for(conn, name: str) -> list[dict]:
    """The rules that can fail the tenant's requests (its own and those of every tenant), oldest first, each
    as ``GET /_emulator/faults`` shows it."""
    rows = conn.execute(select(fault_rules).where(or_(fault_rules.c.tenant == name, fault_rules.c.tenant.is_(None)))
                        .order_by(fault_rules.c.created_at, fault_rules.c.id)).mappings().all()
    return [FaultRule.from_row(r).public(r["matched"], r["fired"]) for r in rows]


def contract_list(scope: TenantScope) -> list[dict]:
    return [{"name": r["name"], "version": r["version"], "environment": r["environment"],
             "published": r["published_at"] is not None, "entitySets": len(r["model"]["sets"]),
             "assetTypeIds": r["asset_type_ids"]} for r in contracts.listing(scope)]


def contract_document(scope: TenantScope, name: str, capabilities: bool) -> tuple[bytes, str]:
    """The contract's CSDL XML and the file name the download offers (as ``.../download`` names it)."""
    row = contracts.get(scope, name)
    return contracts.metadata(row, capabilities), f"{row['name']}-{row['version']}.xml"
