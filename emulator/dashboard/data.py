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
TREE_LIMIT = 2000  # assets shown in the tree; a larger tenant is cut (and says so)


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
    latest: list[dict]  # every variable: {"name", "unit", "value", "time"} of its newest value in the range
    intervals: dict[str, list[tuple[int, int, float, float, float, int]]]  # (lo, hi, avg, min, max, count)
    records: int
    cut: bool  # more records in the range than RAW_LIMIT: the newest are shown


def window(rng: Range, now_ms: int) -> tuple[int, int]:
    return now_ms - rng.span_ms, now_ms


def aspect_data(scope: TenantScope, asset_id: str, schema: AspectSchema, rng: Range, now_ms: int,
                zone: ZoneInfo) -> AspectData:
    """Raw values and interval aggregates of one dynamic aspect over the range ending at ``now_ms``."""
    after, upto = window(rng, now_ms)
    page = timeseries.read(scope, asset_id, schema.name, after, upto, RAW_LIMIT, descending=True)
    records = [orjson.loads(body) for body in reversed(page.bodies)]
    times = list(reversed(page.times))
    numeric = schema.numeric
    points: dict[str, list[tuple[int, float]]] = {var: [] for var in numeric}
    newest: dict[str, tuple[int, object]] = {}
    for t, record in zip(times, records, strict=True):
        for var in schema.variables:
            if var not in record:
                continue
            newest[var] = (t, record[var])
            if var in points and isinstance(record[var], int | float) and math.isfinite(record[var]):
                points[var].append((t, float(record[var])))
    latest = [{"name": var, "unit": definition.get("unit") or "", "dataType": definition["dataType"],
               "value": newest[var][1] if var in newest else None, "time": newest[var][0] if var in newest else None}
              for var, definition in schema.variables.items()]
    return AspectData(schema, points, latest, aggregates(scope, asset_id, schema, rng, now_ms, zone),
                      len(records), page.more)


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
