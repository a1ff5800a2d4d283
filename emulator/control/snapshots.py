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

import base64
import binascii
import math
import struct
from collections.abc import Iterator

import orjson
from sqlalchemy import JSON, insert, select

from emulator import errors
from emulator.assets import validation
from emulator.assets.models import aspect_types, asset_types, assets
from emulator.clock import STATE_RANGE, ClockState
from emulator.control.faults import parse_rule
from emulator.control.ratelimits import parse_quota
from emulator.store import TenantScope
from emulator.store.models import SCHEMA_VERSION, fault_rules, tenants
from emulator.tenants import new_instance
from emulator.times import iso
from emulator.timeseries import blocks
from emulator.timeseries.models import ts_blocks, ts_records, ts_rollups, ts_rollups_form
from emulator.timeseries.stats import FIELDS, PACKED

FORMAT = "mindsphere-emulator-snapshot"


def _plain(row) -> dict:
    """A row as a dict with plain ``str`` keys (SQLAlchemy's are a str subclass JSON encoders refuse) and binary
    columns (IoT files' contents, MindConnect's recoverable exchange bodies) as base64 text, which JSON can hold."""
    return {str(key): base64.b64encode(value).decode("ascii") if isinstance(value, bytes | memoryview) else value
            for key, value in row.items()}


# Time series travel as one row per record (``ts_records``: time and text), not as the store's blocks: readable, and
# the same whatever the blocks' layout; rollups without their ``packed`` column (derived from the others, made again
# on import). Every other table travels as its rows.
_FORMS = {ts_blocks.name: ts_records, ts_rollups.name: ts_rollups_form}


def snapshot_table(table):
    """The table as a snapshot holds it: its own rows, or its snapshot form (time series blocks, rollups)."""
    return _FORMS.get(table.name, table)


def _exported(table, rows) -> list:
    if table is ts_blocks:
        return [r for row in rows for r in blocks.as_records(row)]
    if table is ts_rollups:
        return [{k: v for k, v in row.items() if k != "packed"} for row in rows]
    return rows


EXPORT_BATCH = 1000  # rows read, encoded and sent at a time: the memory of an export does not grow with the tenant


def export(store, name: str, tables: list, *, clock: dict, quotas: list, seed: int) -> Iterator[bytes]:
    """The snapshot document as JSON text, piece by piece, read in one transaction: the tenant's row, its rows of
    every table of tenant data (``tables``, parents first), its rules and quotas, the clock and the seed. A tenant
    of a million records is streamed, never held (it once took a worker past 4 GB). The first piece is made
    before anything else is read, so an unknown tenant raises NotFound at the first ``next``."""
    with store.transaction() as conn:
        row = conn.execute(select(tenants).where(tenants.c.name == name)).mappings().first()
        if row is None:
            raise errors.NotFound(f"tenant {name!r} does not exist")
        yield (b'{"format":' + orjson.dumps(FORMAT) + b',"schemaVersion":' + orjson.dumps(SCHEMA_VERSION)
               + b',"tenant":' + orjson.dumps(_plain(row)) + b',"tables":{')
        scope = TenantScope(conn, name)
        for i, table in enumerate(reversed(tables)):
            yield (b"," if i else b"") + orjson.dumps(str(snapshot_table(table).name)) + b":["
            per = EXPORT_BATCH // blocks.BLOCK_RECORDS if table is ts_blocks else EXPORT_BATCH  # about 1000 records
            rows = conn.execute(scope.select(table).execution_options(yield_per=per)).mappings()
            first = True
            for batch in rows.partitions(per):
                yield (b"" if first else b",") + b",".join(orjson.dumps(_plain(r)) for r in _exported(table, batch))
                first = False
            yield b"]"
        rules = conn.execute(select(fault_rules).where(fault_rules.c.tenant == name)).mappings().all()
        yield (b'},"faults":' + orjson.dumps([_plain(r) for r in rules])
               + b',"quotas":' + orjson.dumps([q for q in quotas if q["tenant"] == name])
               + b',"clock":' + orjson.dumps(clock) + b',"seed":' + orjson.dumps(seed) + b"}")


def _pristine(conn, name: str) -> bool:
    """Does the tenant hold only its start state (root asset, core types, clients)?"""
    scope = TenantScope(conn, name)
    return (scope.count(assets) <= 1 and scope.count(aspect_types) == 0 and scope.count(ts_blocks) == 0
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


_NUMBER_LIMIT = 2.0 ** 63  # a number any column (BigInteger, Float) holds and the API writes back


def _checked_row(row, table, name: str, where: str) -> dict:
    """A row as the table and the API would take it: only its columns, every required one, of the column's
    type and length, finite numbers, no control characters in names, and the snapshot's tenant."""
    if not isinstance(row, dict) or row.get("tenant_id") != name:
        raise errors.BadRequest(f"{where} must be an object of tenant {name!r}")
    row = dict(row)
    unknown = set(row) - set(table.columns.keys())
    missing = [c.name for c in table.columns if not c.nullable and c.server_default is None and c.name not in row]
    if unknown or missing:
        raise errors.BadRequest(f"{where} is not a row of {table.name} (unknown {sorted(unknown)}, missing {missing})")
    for column in table.columns:
        value = row.get(column.name)
        if value is None:
            if not column.nullable:
                raise errors.BadRequest(f"{where}.{column.name} must not be null")
            continue
        kind = column.type.python_type if not isinstance(column.type, JSON) else None
        if kind is int and (isinstance(value, bool) or not isinstance(value, int) or abs(value) >= _NUMBER_LIMIT):
            raise errors.BadRequest(f"{where}.{column.name} must be an integer")
        if kind is float and (isinstance(value, bool) or not isinstance(value, int | float)
                              or not math.isfinite(value) or abs(value) >= _NUMBER_LIMIT):
            raise errors.BadRequest(f"{where}.{column.name} must be a finite number")
        if kind is bool and not isinstance(value, bool):
            raise errors.BadRequest(f"{where}.{column.name} must be true or false")
        if kind is bytes:  # exported as base64 text (_plain)
            try:
                row[column.name] = base64.b64decode(value, validate=True) if isinstance(value, str) else None
            except (binascii.Error, ValueError):
                row[column.name] = None
            if row[column.name] is None:
                raise errors.BadRequest(f"{where}.{column.name} must be base64 text")
        if kind is str:
            if not isinstance(value, str) or (column.type.length and len(value) > column.type.length):
                raise errors.BadRequest(f"{where}.{column.name} must be a string of at most "
                                        f"{column.type.length or 'any'} characters")
            if column.name in ("name", "id", "asset_id", "type_id", "parent_id", "client_id") and any(
                    ord(c) < 32 for c in value):  # a name or id the API takes holds no control character
                raise errors.BadRequest(f"{where}.{column.name} holds a control character")
    if "created_at" in row and not 0 <= row["created_at"] <= STATE_RANGE[1]:
        raise errors.BadRequest(f"{where}.created_at must be a time of the years 1970-9999")
    return row


def _checked_tables(conn, raw, name: str, known: list) -> list[tuple]:
    """The snapshot's tables in the order they are inserted (parents first), each row checked, and no id of
    another tenant's: aspect types are ``{tenant}.{Name}``, tenant asset types too, asset and client ids are free
    here, and time series, rollups and noted writes belong to the snapshot's own assets."""
    by_name = {snapshot_table(table).name: snapshot_table(table) for table in known}
    if not isinstance(raw, dict) or set(raw) - set(by_name):
        raise errors.BadRequest(f"The snapshot holds an unknown table ({', '.join(sorted(set(raw) - set(by_name)))})"
                                if isinstance(raw, dict) else "The snapshot's tables must be an object")
    out = []
    for table in map(snapshot_table, reversed(known)):
        rows = raw.get(table.name) or []
        if not isinstance(rows, list):
            raise errors.BadRequest(f"The snapshot's {table.name} must be an array of rows")
        out.append((table, [_checked_row(r, table, name, f"{table.name}[{i}]") for i, r in enumerate(rows)]))
    rows = {table.name: rows for table, rows in out}
    own = f"{name}."
    if any(not r["id"].startswith(own) for r in rows.get("aspect_types", [])):
        raise errors.BadRequest(f"Every aspect type of the snapshot must be one of tenant {name!r} ({own}Name)")
    if any(not (r["id"].startswith(own) or r["id"].startswith("core.")) for r in rows.get("asset_types", [])):
        raise errors.BadRequest(f"Every asset type of the snapshot must be a core type or one of tenant {name!r}")
    for table, key in (("assets", "asset_id"), ("clients", "client_id")):
        ids = [r[key] for r in rows.get(table, [])]
        column = by_name[table].c[key]
        for i in range(0, len(ids), 500):
            taken = conn.scalar(select(column).where(column.in_(ids[i:i + 500])))
            if taken is not None:
                raise errors.Conflict(f"The snapshot's {table} id {taken!r} belongs to another tenant here")
    assets = {r["asset_id"] for r in rows.get("assets", [])}
    for table in (ts_records.name, "ts_rollups", "ts_pending"):
        stray = next((r["asset_id"] for r in rows.get(table, []) if r.get("asset_id") not in assets), None)
        if stray is not None:
            raise errors.BadRequest(f"The snapshot's {table} name asset {stray!r}, which is not one of its assets")
    stored = {ts_records: (ts_blocks, _blocks_of), ts_rollups_form: (ts_rollups, _rollups_of)}
    return [(stored[table][0], stored[table][1](rows)) if table in stored else (table, rows) for table, rows in out]


def _rollups_of(rows: list[dict]) -> list[dict]:
    """The snapshot's rollups (checked rows) as the store keeps them: with their values packed (``stats.PACKED``)."""
    out = []
    for i, r in enumerate(rows):
        try:
            out.append({**r, "packed": PACKED.pack(*(r[f] for f in FIELDS))})
        except struct.error:
            raise errors.BadRequest(f"ts_rollups[{i}]: its counts and times must be integers and its values "
                                    "numbers") from None
    return out


def _blocks_of(records: list[dict]) -> list[dict]:
    """The snapshot's records (checked rows) as the store's blocks. Each must be what a write stores: a JSON object
    that begins with its time, in MindSphere's form, at its row's ``t`` (readers splice the texts on that)."""
    for i, r in enumerate(records):
        try:
            head = f'{{"_time":"{iso(r["t"])}"'
            body = orjson.loads(r["body"]) if r["body"].startswith(head) else None
        except (orjson.JSONDecodeError, OverflowError, ValueError, OSError):
            body = None
        if not isinstance(body, dict):
            raise errors.BadRequest(f"ts_records[{i}].body must be a record: a JSON object that begins with its "
                                    "_time (YYYY-MM-DDThh:mm:ss.mmmZ) at t")
    try:
        return blocks.from_records(records)
    except ValueError as exc:
        raise errors.BadRequest(f"ts_records: {exc}") from None


def restore(conn, doc: dict, lifecycle, replaceable: str) -> tuple[str, ClockState | None, list]:
    """Writes a snapshot (checked: the contract's Snapshot) into the store; returns (tenant name, clock, quotas) for
    the caller to apply. ``lifecycle``: the :class:`emulator.tenants.Tenants` whose tables a snapshot may fill;
    ``replaceable``: the server's default tenant, which a snapshot of its name replaces while it holds only its
    start state (any other tenant that exists is another job's: refused). The imported tenant is a new instance:
    its clients are replaced, so tokens of what it replaces are revoked."""
    tenant = {**doc["tenant"], "instance": new_instance()}
    validation.timezone(tenant["default_timezone"])  # read by every request of the tenant
    name = tenant["name"]
    if conn.execute(select(tenants.c.name).where(tenants.c.name == name)).first() is not None:
        if name != replaceable:
            raise errors.Conflict(f"tenant {name!r} exists here; delete it first (only the default tenant "
                                  f"{replaceable!r}, while fresh, is replaced by a snapshot)")
        if not _pristine(conn, name):
            raise errors.Conflict(f"tenant {name!r} exists here with data; delete it or import into a fresh emulator")
        lifecycle.remove(conn, name)  # a fresh emulator's default tenant: the snapshot takes its place
    try:
        conn.execute(insert(tenants), [tenant])
        for table, rows in _checked_tables(conn, doc.get("tables") or {}, name, lifecycle.tables):
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
