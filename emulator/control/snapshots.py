"""Snapshots: one tenant (its model, assets, time series and rollups, clients, fault rules and rate
limits, with the clock and the seed) in one JSON document, to reproduce a failing CI run at home.

Importing into a fresh emulator makes every read answer as before, byte for byte (asset ids, etags
and stored records are kept as they were). Client secrets travel as their hashes; tokens do not
travel (fetch new ones: the importing emulator signs with its own keys).
"""

from __future__ import annotations

import re

from sqlalchemy import insert, select

from emulator import errors, limits
from emulator.assets import validation
from emulator.assets.models import aspect_types, asset_types, assets
from emulator.clock import MAX_SPEED, MODES, STATE_RANGE, ClockState
from emulator.control.faults import parse_rule
from emulator.control.ratelimits import parse_quota
from emulator.store import TenantScope
from emulator.store.models import SCHEMA_VERSION, fault_rules, tenants
from emulator.tenants import new_instance
from emulator.timeseries.models import ts_records

FORMAT = "mindsphere-emulator-snapshot"
CLOCK_FIELDS = frozenset(ClockState.__dataclass_fields__)
FAULT_COLUMNS = frozenset(column.name for column in fault_rules.columns)
TENANT_COLUMNS = frozenset(column.name for column in tenants.columns)


def _plain(row) -> dict:
    """A row as a dict with plain ``str`` keys (SQLAlchemy's are a str subclass JSON encoders refuse)."""
    return {str(key): value for key, value in row.items()}


def export(conn, name: str, tables: list, *, clock: dict, quotas: list, seed: int) -> dict:
    """The tenant's row, its rows of every table of tenant data (``tables``), its rules and quotas, the clock."""
    row = conn.execute(select(tenants).where(tenants.c.name == name)).mappings().first()
    if row is None:
        raise errors.NotFound(f"tenant {name!r} does not exist")
    scope = TenantScope(conn, name)
    tables = {str(table.name): [_plain(r) for r in scope.all(scope.select(table))] for table in reversed(tables)}
    rules = conn.execute(select(fault_rules).where(fault_rules.c.tenant == name)).mappings().all()
    return {"format": FORMAT, "schemaVersion": SCHEMA_VERSION, "tenant": _plain(row), "tables": tables,
            "faults": [_plain(r) for r in rules], "quotas": [q for q in quotas if q["tenant"] == name],
            "clock": clock, "seed": seed}


def _pristine(conn, name: str) -> bool:
    """Does the tenant hold only its start state (root asset, core types, clients)?"""
    scope = TenantScope(conn, name)
    return (scope.count(assets) <= 1 and scope.count(aspect_types) == 0 and scope.count(ts_records) == 0
            and scope.count(asset_types, asset_types.c.builtin.is_(False)) == 0)


def _tenant_row(row) -> dict:
    """The snapshot's tenant row, checked: its name and time zone are read by every request of the tenant."""
    if not isinstance(row, dict) or not isinstance(row.get("name"), str):
        raise errors.BadRequest("The snapshot has no tenant")
    if not re.fullmatch(limits.TENANT_NAME_PATTERN, row["name"]):
        raise errors.BadRequest(f"The snapshot's tenant name {row['name']!r} is not a tenant name")
    created, version, root = row.get("created_at"), row.get("model_version", 0), row.get("root_asset_id")
    if (set(row) - TENANT_COLUMNS or isinstance(created, bool) or not isinstance(created, int | float)
            or not 0 <= created <= STATE_RANGE[1]  # a time the tenant list can print (1e300 was taken)
            or isinstance(version, bool) or not isinstance(version, int) or not 0 <= version < 2**31
            or not isinstance(root, str) or len(root) > 32):
        raise errors.BadRequest(f"The snapshot's tenant is not a tenant row ({', '.join(sorted(TENANT_COLUMNS))})")
    validation.timezone(row.get("default_timezone"))
    return {**row, "instance": new_instance()}  # its clients are replaced: tokens of what it replaces are revoked


def _clock(raw) -> ClockState | None:
    """The snapshot's clock, checked as ``PUT /_emulator/clock`` checks one: it becomes the clock every request
    reads, so a wrong type or mode would fail them all."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - CLOCK_FIELDS:
        raise errors.BadRequest(f"The snapshot's clock is not a clock state (an object of {', '.join(CLOCK_FIELDS)})")
    state = ClockState(**raw)
    numbers = (state.anchor_virtual, state.anchor_real, state.speed)
    if (state.mode not in MODES or any(isinstance(x, bool) or not isinstance(x, int | float) for x in numbers)
            or not all(STATE_RANGE[0] <= x <= STATE_RANGE[1] for x in numbers[:2]) or not 0 < state.speed <= MAX_SPEED):
        raise errors.BadRequest(f"The snapshot's clock is not a clock state: mode one of {', '.join(MODES)}, anchors "
                                f"epoch seconds of the years 1-9999, speed above 0 and at most {MAX_SPEED:g}")
    return state


def _fault_rows(rows, name: str, api_names: tuple[str, ...]) -> list[dict]:
    """The snapshot's fault rules as rows, each checked as POST /_emulator/faults checks a rule: every request of
    the tenant reads them."""
    if not isinstance(rows, list):
        raise errors.BadRequest("The snapshot's faults must be an array of fault rules")
    out = []
    for i, row in enumerate(rows):
        counts = [row.get(key) for key in ("matched", "fired", "created_at")] if isinstance(row, dict) else []
        expires = row.get("expires_at") if isinstance(row, dict) else None
        if (not isinstance(row, dict) or set(row) - FAULT_COLUMNS or row.get("tenant") != name
                or not isinstance(row.get("id"), str) or not row["id"]
                or any(isinstance(x, bool) or not isinstance(x, int | float) or x < 0 for x in counts)
                or not all(isinstance(x, int) for x in counts[:2])
                or (expires is not None and (isinstance(expires, bool) or not isinstance(expires, int | float)))):
            raise errors.BadRequest(f"faults[{i}] is not a fault rule of tenant {name!r} (id, tenant, spec, matched, "
                                    "fired, created_at, expires_at)")
        spec = parse_rule(row.get("spec"), api_names)
        if spec["match"]["tenant"] != name:
            raise errors.BadRequest(f"faults[{i}].spec.match.tenant must be {name!r}")
        out.append({**row, "spec": spec})
    return out


def restore(conn, doc, lifecycle, api_names: tuple[str, ...]) -> tuple[str, ClockState | None, list]:
    """Writes a snapshot into the store; returns (tenant name, clock, quotas) for the caller to apply.
    ``lifecycle``: the :class:`emulator.tenants.Tenants` whose tables a snapshot may fill."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise errors.BadRequest(f"Not a snapshot: the document's format must be {FORMAT!r}")
    if doc.get("schemaVersion") != SCHEMA_VERSION:
        raise errors.BadRequest(f"The snapshot has schema version {doc.get('schemaVersion')}; this emulator "
                                f"reads version {SCHEMA_VERSION}")
    tenant = _tenant_row(doc.get("tenant"))
    name = tenant["name"]
    if conn.execute(select(tenants.c.name).where(tenants.c.name == name)).first() is not None:
        if not _pristine(conn, name):
            raise errors.Conflict(f"tenant {name!r} exists here with data; delete it or import into a fresh emulator")
        lifecycle.remove(conn, name)  # a fresh emulator's default tenant: the snapshot takes its place
    try:
        conn.execute(insert(tenants), [tenant])
        by_name = {table.name: table for table in lifecycle.tables}
        for table_name, rows in (doc.get("tables") or {}).items():
            table = by_name.get(table_name)
            if table is None or not isinstance(rows, list):
                raise errors.BadRequest(f"The snapshot holds an unknown table {table_name!r}")
            if any(not isinstance(r, dict) or r.get("tenant_id") != name for r in rows):
                raise errors.BadRequest(f"Rows of {table_name!r} must all belong to tenant {name!r}")
            for i in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[i:i + 5000])
        rules = _fault_rows(doc.get("faults") or [], name, api_names)
        if rules:
            conn.execute(insert(fault_rules), rules)
    except errors.ApiError:
        raise
    except Exception as exc:  # a hand-edited or damaged file: refuse it, write nothing (the caller rolls back)
        raise errors.BadRequest(f"The snapshot could not be imported: {type(exc).__name__}") from None
    clock = _clock(doc.get("clock") or None)
    quotas = doc.get("quotas") or []
    if not isinstance(quotas, list) or any(not isinstance(q, dict) or q.get("tenant") != name for q in quotas):
        raise errors.BadRequest(f"The snapshot's rate limits must all belong to tenant {name!r}")
    return name, clock, [parse_quota(q, api_names) for q in quotas]  # as PUT /_emulator/ratelimits takes them
