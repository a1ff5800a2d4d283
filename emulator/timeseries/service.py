"""Time series storage: write, read, delete records of an asset's dynamic aspect, and keep the
rollups (``emulator.timeseries.rollups``) in step, all in the caller's transaction.

Writing a record at an existing time replaces the whole record (mindsphere-api.md 3); ranges are
``(from, to]``: ``from`` exclusive, ``to`` inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from emulator import errors
from emulator.assets.types import catalog
from emulator.store import TenantScope
from emulator.store.engine import fast_execute, fast_executemany, fast_rows, fast_scalar
from emulator.timeseries.records import AspectSchema, check_records
from emulator.timeseries.rollups import Rollups


def aspect_schema(scope: TenantScope, asset_id: str, aspect: str) -> AspectSchema:
    """The dynamic aspect ``aspect`` of the asset; 404 when the asset or such an aspect does not exist."""
    type_id = fast_scalar(scope.conn, _TYPE_OF_ASSET, scope.tenant, asset_id) if isinstance(asset_id, str) else None
    if type_id is None:
        raise errors.NotFound(f"Asset {asset_id!r} not found")
    for name, aspect_type in catalog(scope).model(type_id).aspects:
        if name == aspect:
            if aspect_type["category"] != "dynamic":
                raise errors.NotFound(f"Aspect {aspect!r} of asset {asset_id!r} is static: it has no time series")
            return AspectSchema(name, {v["name"]: v for v in aspect_type["variables"]})
    raise errors.NotFound(f"Asset {asset_id!r} has no aspect {aspect!r}")


# The statements of the hot paths, run through the driver (``fast_rows``): every one names the tenant first, so no
# row of another tenant's can be read or replaced. Ranges are ``(after, upto]``.
_TYPE_OF_ASSET = "SELECT type_id FROM assets WHERE tenant_id = ? AND asset_id = ?"
_SERIES = "FROM ts_records WHERE tenant_id = ? AND asset_id = ? AND aspect = ?"
_RANGE = _SERIES + " AND t > ? AND t <= ?"
_READ = {False: f"SELECT t, body {_RANGE} ORDER BY t LIMIT ?", True: f"SELECT t, body {_RANGE} ORDER BY t DESC LIMIT ?"}
_LATEST = f"SELECT t, body {_SERIES} ORDER BY t DESC LIMIT ?"
_COUNT = f"SELECT count(*) {_RANGE}"
# A page's records joined into one text by the database (no Python object per record): SQLite's group_concat takes
# the rows in the order of its subquery (ordered and limited, so never flattened into the aggregate), and
# PostgreSQL's string_agg is told the order. The page's last time comes with it, for the next page's link.
_JOINED = {
    ("sqlite", False): f"SELECT group_concat(body, ','), count(*), max(t) FROM (SELECT t, body {_RANGE} "
                       "ORDER BY t LIMIT ?)",
    ("sqlite", True): f"SELECT group_concat(body, ','), count(*), min(t) FROM (SELECT t, body {_RANGE} "
                      "ORDER BY t DESC LIMIT ?)",
    ("postgresql", False): f"SELECT string_agg(body, ',' ORDER BY t), count(*), max(t) FROM (SELECT t, body "
                           f"{_RANGE} ORDER BY t LIMIT ?) page",
    ("postgresql", True): f"SELECT string_agg(body, ',' ORDER BY t DESC), count(*), min(t) FROM (SELECT t, body "
                          f"{_RANGE} ORDER BY t DESC LIMIT ?) page",
}
_ANY = f"SELECT 1 {_RANGE} LIMIT 1"
_DELETE = f"DELETE {_RANGE}"
_UPSERT = ("INSERT INTO ts_records (tenant_id, asset_id, aspect, t, body) VALUES (?, ?, ?, ?, ?) "
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
    serialize(scope, asset_id, schema.name)
    tenant, aspect = scope.tenant, schema.name
    fast_executemany(scope.conn, _UPSERT, [(tenant, asset_id, aspect, t, body) for t, body, _ in rows])
    Rollups(scope, asset_id, schema, zone).after_write({t: record for t, _, record in rows})
    return len(rows)


def delete_range(scope: TenantScope, asset_id: str, schema: AspectSchema, after: int, upto: int, zone: str) -> int:
    serialize(scope, asset_id, schema.name)
    count = fast_execute(scope.conn, _DELETE, scope.tenant, asset_id, schema.name, after, upto)
    Rollups(scope, asset_id, schema, zone).after_delete(after, upto)
    return count


@dataclass
class Page:
    bodies: list[str]  # stored record texts, in the asked order
    times: list[int]
    more: bool  # records beyond ``limit`` exist in the range


def read(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int, limit: int, descending: bool) -> Page:
    rows = fast_rows(scope.conn, _READ[descending], scope.tenant, asset_id, aspect, after, upto, limit + 1)
    more = len(rows) > limit
    if more:
        del rows[limit:]
    return Page([r[1] for r in rows], [r[0] for r in rows], more)


def read_joined(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int, limit: int,
                descending: bool) -> tuple[str, int | None, bool]:
    """What :func:`read` finds, as the records' texts joined with commas (the body of a JSON array), the time of
    the page's last record (None for none) and whether more follow: a 2000-record read without a Python object per
    record."""
    key = (scope.conn.dialect.name, descending)
    text, found, last = fast_rows(scope.conn, _JOINED[key], scope.tenant, asset_id, aspect, after, upto, limit)[0]
    if not found:
        return "", None, False
    rest = (last, upto) if not descending else (after, last - 1)  # (after, upto]: what lies beyond the page
    more = found == limit and fast_scalar(scope.conn, _ANY, scope.tenant, asset_id, aspect, *rest) is not None
    return text, last, more


def count(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int) -> int:
    """How many records ``(after, upto]`` holds."""
    return fast_scalar(scope.conn, _COUNT, scope.tenant, asset_id, aspect, after, upto) or 0


def latest(scope: TenantScope, asset_id: str, aspect: str) -> Page:
    rows = fast_rows(scope.conn, _LATEST, scope.tenant, asset_id, aspect, 1)
    return Page([r[1] for r in rows], [r[0] for r in rows], False)


def latest_values(scope: TenantScope, asset_id: str, schema: AspectSchema, after: int, upto: int,
                  wanted: list[str]) -> list[dict]:
    """``latestValue``: each variable's newest value in ``(after, upto]``, grouped by time, each at most once."""
    found: dict[str, tuple] = {}  # variable -> (t, value, quality code, "_time")
    for t, body in _newest_first(scope, asset_id, schema.name, after, upto):
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


def _newest_first(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int, batch: int = 500):
    """The records of ``(after, upto]``, newest first, read a batch at a time (``latestValue`` stops early)."""
    while True:
        rows = fast_rows(scope.conn, _READ[True], scope.tenant, asset_id, aspect, after, upto, batch)
        yield from rows
        if len(rows) < batch:
            return
        upto = rows[-1][0] - 1
