"""Time series storage: write, read, delete records of an asset's dynamic aspect, and keep the
rollups (``emulator.timeseries.rollups``) in step, all in the caller's transaction.

Writing a record at an existing time replaces the whole record (mindsphere-api.md 3); ranges are
``(from, to]``: ``from`` exclusive, ``to`` inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import and_, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from emulator import errors
from emulator.assets.models import assets
from emulator.assets.types import catalog
from emulator.store import TenantScope
from emulator.store.engine import fast_scalar
from emulator.timeseries.models import ts_records
from emulator.timeseries.records import AspectSchema, check_records
from emulator.timeseries.rollups import Rollups


def aspect_schema(scope: TenantScope, asset_id: str, aspect: str) -> AspectSchema:
    """The dynamic aspect ``aspect`` of the asset; 404 when the asset or such an aspect does not exist."""
    row = scope.get(assets, asset_id) if isinstance(asset_id, str) else None
    if row is None:
        raise errors.NotFound(f"Asset {asset_id!r} not found")
    for name, aspect_type in catalog(scope).model(row["type_id"]).aspects:
        if name == aspect:
            if aspect_type["category"] != "dynamic":
                raise errors.NotFound(f"Aspect {aspect!r} of asset {asset_id!r} is static: it has no time series")
            return AspectSchema(name, {v["name"]: v for v in aspect_type["variables"]})
    raise errors.NotFound(f"Asset {asset_id!r} has no aspect {aspect!r}")


def _key(scope: TenantScope, asset_id: str, aspect: str):
    """A time series' rows: the key carries the tenant, so no row of another tenant's can be read or replaced."""
    return and_(ts_records.c.tenant_id == scope.tenant, ts_records.c.asset_id == asset_id,
                ts_records.c.aspect == aspect)


def _upsert(dialect: str):
    """INSERT ... ON CONFLICT (asset, aspect, t) DO UPDATE: a record at an existing time replaces it."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(ts_records)
    return stmt.on_conflict_do_update(index_elements=["tenant_id", "asset_id", "aspect", "t"],
                                      set_={"body": stmt.excluded.body})


_UPSERT_SQL = ("INSERT INTO ts_records (tenant_id, asset_id, aspect, t, body) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (tenant_id, asset_id, aspect, t) DO UPDATE SET body = excluded.body")


def serialize(scope: TenantScope, asset_id: str, aspect: str) -> None:
    """One writer at a time per asset and aspect, until the transaction ends. The rollups are recomputed
    from what a writer's statements see; on PostgreSQL (read committed, no lock taken up front) two
    writers of one bucket would each see only their own records, and the second insert of a bucket row
    would collide or silently drop the first's (found by tests/test_load_multiworker.py). SQLite takes
    its write lock at BEGIN IMMEDIATE already."""
    if scope.conn.dialect.name == "postgresql":
        fast_scalar(scope.conn, "SELECT pg_advisory_xact_lock(hashtext(?))", f"{scope.tenant}/{asset_id}/{aspect}")


def write(scope: TenantScope, asset_id: str, schema: AspectSchema, records, zone: str) -> int:
    """Store checked records (replacing any at the same times); returns how many. The rows go straight to
    the driver's ``executemany``: SQLAlchemy's per-row parameter handling cost more than the insert."""
    rows = check_records(schema, records)
    if not rows:
        return 0
    conn = scope.conn
    serialize(scope, asset_id, schema.name)
    params = [(scope.tenant, asset_id, schema.name, t, body) for t, body, _ in rows]
    if conn.dialect.name in ("sqlite", "postgresql"):
        sql = _UPSERT_SQL if conn.dialect.paramstyle == "qmark" else _UPSERT_SQL.replace("?", "%s")
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.executemany(sql, params)
        finally:
            cursor.close()
    else:
        conn.execute(_upsert(conn.dialect.name), [dict(zip(("tenant_id", "asset_id", "aspect", "t", "body"), p,
                                                           strict=True)) for p in params])
    Rollups(scope, asset_id, schema, zone).after_write({t: record for t, _, record in rows})
    return len(rows)


def delete_range(scope: TenantScope, asset_id: str, schema: AspectSchema, after: int, upto: int, zone: str) -> int:
    serialize(scope, asset_id, schema.name)
    count = scope.conn.execute(delete(ts_records).where(
        _key(scope, asset_id, schema.name), ts_records.c.t > after, ts_records.c.t <= upto)).rowcount
    Rollups(scope, asset_id, schema, zone).after_delete(after, upto)
    return count


@dataclass
class Page:
    bodies: list[str]  # stored record texts, in the asked order
    times: list[int]
    more: bool  # records beyond ``limit`` exist in the range


def read(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int, limit: int, descending: bool) -> Page:
    order = ts_records.c.t.desc() if descending else ts_records.c.t.asc()
    stmt = (select(ts_records.c.t, ts_records.c.body)
            .where(_key(scope, asset_id, aspect), ts_records.c.t > after, ts_records.c.t <= upto)
            .order_by(order).limit(limit + 1))
    rows = scope.conn.execute(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([r[1] for r in rows], [r[0] for r in rows], more)


def count(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int) -> int:
    """How many records ``(after, upto]`` holds."""
    return scope.conn.scalar(select(func.count()).select_from(ts_records).where(
        _key(scope, asset_id, aspect), ts_records.c.t > after, ts_records.c.t <= upto)) or 0


def latest(scope: TenantScope, asset_id: str, aspect: str) -> Page:
    stmt = (select(ts_records.c.t, ts_records.c.body).where(_key(scope, asset_id, aspect))
            .order_by(ts_records.c.t.desc()).limit(1))
    rows = scope.conn.execute(stmt).all()
    return Page([r[1] for r in rows], [r[0] for r in rows], False)


def latest_values(scope: TenantScope, asset_id: str, schema: AspectSchema, after: int, upto: int,
                  wanted: list[str]) -> list[dict]:
    """``latestValue``: each variable's newest value in ``(after, upto]``, grouped by time, each at most once."""
    found: dict[str, tuple] = {}  # variable -> (t, value, quality code, "_time")
    stmt = (select(ts_records.c.t, ts_records.c.body)
            .where(_key(scope, asset_id, schema.name), ts_records.c.t > after, ts_records.c.t <= upto)
            .order_by(ts_records.c.t.desc()))
    for t, body in scope.conn.execute(stmt):
        record = orjson.loads(body)
        for var in wanted:
            if var not in found and var in record:
                found[var] = (t, record[var], record.get(var + "_qc"), record["_time"])
        if len(found) == len(wanted):
            break
    by_time: dict[int, dict] = {}
    for var in wanted:
        if var in found:
            t, value, qc, stamp = found[var]
            item = by_time.setdefault(t, {"_time": stamp})
            item[var] = value
            if qc is not None:
                item[var + "_qc"] = qc
    return [by_time[t] for t in sorted(by_time)]
