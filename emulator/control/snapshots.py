"""Snapshots: one tenant (its model, assets, time series and rollups, clients, fault rules and rate
limits, with the clock and the seed) in one JSON document, to reproduce a failing CI run at home.

Importing into a fresh emulator makes every read answer as before, byte for byte (asset ids, etags
and stored records are kept as they were). Client secrets travel as their hashes; tokens do not
travel (fetch new ones: the importing emulator signs with its own keys). A snapshot to import has been
checked against the control plane's contract (``spec.py``, Snapshot: its format and schema version, the
tenant row, the tables' names, the fault rules, quotas and the clock state); what is left here is what a schema
cannot say: a zone of the time zone database, every row, rule and quota of the snapshot's own tenant.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from emulator import errors
from emulator.assets import validation
from emulator.assets.models import aspect_types, asset_types, assets
from emulator.clock import ClockState
from emulator.control.faults import parse_rule
from emulator.control.ratelimits import parse_quota
from emulator.store import TenantScope
from emulator.store.models import SCHEMA_VERSION, fault_rules, tenants
from emulator.timeseries.models import ts_records

FORMAT = "mindsphere-emulator-snapshot"


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


def _fault_rows(rows: list, name: str) -> list[dict]:
    """The snapshot's fault rules as rows (their specs with every property, as POST /_emulator/faults stores
    them), each a rule of the snapshot's tenant: every request of the tenant reads them."""
    out = []
    for i, row in enumerate(rows):
        spec = parse_rule(row["spec"])
        if row["tenant"] != name or spec["match"]["tenant"] != name:
            raise errors.BadRequest(f"faults[{i}] is not a fault rule of tenant {name!r} (its tenant and "
                                    "spec.match.tenant)")
        out.append({**row, "spec": spec})
    return out


def restore(conn, doc: dict, lifecycle) -> tuple[str, ClockState | None, list]:
    """Writes a snapshot (checked: the contract's Snapshot) into the store; returns (tenant name, clock, quotas) for
    the caller to apply. ``lifecycle``: the :class:`emulator.tenants.Tenants` whose tables a snapshot may fill."""
    tenant = doc["tenant"]
    validation.timezone(tenant["default_timezone"])  # read by every request of the tenant
    name = tenant["name"]
    if conn.execute(select(tenants.c.name).where(tenants.c.name == name)).first() is not None:
        if not _pristine(conn, name):
            raise errors.Conflict(f"tenant {name!r} exists here with data; delete it or import into a fresh emulator")
        lifecycle.remove(conn, name)  # a fresh emulator's default tenant: the snapshot takes its place
    try:
        conn.execute(insert(tenants), [tenant])
        by_name = {table.name: table for table in lifecycle.tables}
        for table_name, rows in (doc.get("tables") or {}).items():
            table = by_name[table_name]  # a table of tenant data (the contract names them)
            if any(r.get("tenant_id") != name for r in rows):
                raise errors.BadRequest(f"Rows of {table_name!r} must all belong to tenant {name!r}")
            for i in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[i:i + 5000])
        rules = _fault_rows(doc.get("faults") or [], name)
        if rules:
            conn.execute(insert(fault_rules), rules)
    except errors.ApiError:
        raise
    except Exception as exc:  # a hand-edited or damaged file: refuse it, write nothing (the caller rolls back)
        raise errors.BadRequest(f"The snapshot could not be imported: {type(exc).__name__}") from None
    clock = ClockState(**doc["clock"]) if doc.get("clock") else None  # becomes the clock every request reads
    quotas = doc.get("quotas") or []
    if any(q["tenant"] != name for q in quotas):
        raise errors.BadRequest(f"The snapshot's rate limits must all belong to tenant {name!r}")
    return name, clock, [parse_quota(q) for q in quotas]  # as PUT /_emulator/ratelimits takes them
