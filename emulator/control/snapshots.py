"""Snapshots: one tenant (its model, assets, time series and rollups, clients, fault rules and rate
limits, with the clock and the seed) in one JSON document, to reproduce a failing CI run at home.

Importing into a fresh emulator makes every read answer as before, byte for byte (asset ids, etags
and stored records are kept as they were). Client secrets travel as their hashes; tokens do not
travel (fetch new ones: the importing emulator signs with its own keys).
"""

from __future__ import annotations

from sqlalchemy import insert, select

from emulator import errors
from emulator.clock import ClockState
from emulator.store import TenantScope
from emulator.store.models import (
    SCHEMA_VERSION,
    TENANT_TABLES,
    aspect_types,
    asset_types,
    assets,
    fault_rules,
    tenants,
    ts_records,
)
from emulator.store.tenants import remove_tenant

FORMAT = "mindsphere-emulator-snapshot"


def _plain(row) -> dict:
    """A row as a dict with plain ``str`` keys (SQLAlchemy's are a str subclass JSON encoders refuse)."""
    return {str(key): value for key, value in row.items()}


def export(conn, name: str, *, clock: dict, quotas: list, seed: int) -> dict:
    row = conn.execute(select(tenants).where(tenants.c.name == name)).mappings().first()
    if row is None:
        raise errors.NotFound(f"tenant {name!r} does not exist")
    scope = TenantScope(conn, name)
    tables = {str(table.name): [_plain(r) for r in scope.all(scope.select(table))] for table in reversed(TENANT_TABLES)}
    rules = conn.execute(select(fault_rules).where(fault_rules.c.tenant == name)).mappings().all()
    return {"format": FORMAT, "schemaVersion": SCHEMA_VERSION, "tenant": _plain(row), "tables": tables,
            "faults": [_plain(r) for r in rules], "quotas": [q for q in quotas if q["tenant"] == name],
            "clock": clock, "seed": seed}


def _pristine(conn, name: str) -> bool:
    """Does the tenant hold only its start state (root asset, core types, clients)?"""
    scope = TenantScope(conn, name)
    return (scope.count(assets) <= 1 and scope.count(aspect_types) == 0 and scope.count(ts_records) == 0
            and scope.count(asset_types, asset_types.c.builtin.is_(False)) == 0)


def restore(conn, doc) -> tuple[str, ClockState | None, list]:
    """Writes a snapshot into the store; returns (tenant name, clock, quotas) for the caller to apply."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise errors.BadRequest(f"Not a snapshot: the document's format must be {FORMAT!r}")
    if doc.get("schemaVersion") != SCHEMA_VERSION:
        raise errors.BadRequest(f"The snapshot has schema version {doc.get('schemaVersion')}; this emulator "
                                f"reads version {SCHEMA_VERSION}")
    tenant = doc.get("tenant")
    if not isinstance(tenant, dict) or not isinstance(tenant.get("name"), str):
        raise errors.BadRequest("The snapshot has no tenant")
    name = tenant["name"]
    if conn.execute(select(tenants.c.name).where(tenants.c.name == name)).first() is not None:
        if not _pristine(conn, name):
            raise errors.Conflict(f"tenant {name!r} exists here with data; delete it or import into a fresh emulator")
        remove_tenant(conn, name)  # a fresh emulator's default tenant: the snapshot takes its place
    try:
        conn.execute(insert(tenants), [tenant])
        by_name = {table.name: table for table in TENANT_TABLES}
        for table_name, rows in (doc.get("tables") or {}).items():
            table = by_name.get(table_name)
            if table is None or not isinstance(rows, list):
                raise errors.BadRequest(f"The snapshot holds an unknown table {table_name!r}")
            if any(not isinstance(r, dict) or r.get("tenant_id") != name for r in rows):
                raise errors.BadRequest(f"Rows of {table_name!r} must all belong to tenant {name!r}")
            for i in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[i:i + 5000])
        rules = doc.get("faults") or []
        if rules:
            conn.execute(insert(fault_rules), rules)
    except errors.ApiError:
        raise
    except Exception as exc:  # a hand-edited or damaged file: refuse it, write nothing (the caller rolls back)
        raise errors.BadRequest(f"The snapshot could not be imported: {type(exc).__name__}") from None
    clock = doc.get("clock") or None
    if clock is not None:
        try:
            clock = ClockState(**clock)
        except TypeError:
            raise errors.BadRequest("The snapshot's clock is not a clock state") from None
    quotas = doc.get("quotas") or []
    if not isinstance(quotas, list) or any(not isinstance(q, dict) or q.get("tenant") != name for q in quotas):
        raise errors.BadRequest(f"The snapshot's rate limits must all belong to tenant {name!r}")
    return name, clock, quotas
