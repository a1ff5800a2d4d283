"""Time series storage: write, read, delete records of an asset's dynamic aspect, and bring the rollups
(``emulator.timeseries.rollups``) up to date with the writes (:func:`settle`), all in the caller's transaction.

Writing a record at an existing time replaces the whole record (mindsphere-api.md 3); ranges are
``(from, to]``: ``from`` exclusive, ``to`` inclusive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from emulator import errors
from emulator.assets.types import catalog
from emulator.store import TenantScope
from emulator.store.engine import fast_rows, fast_scalar
from emulator.store.scope import MODEL_KEY_COLUMN, note_model_key
from emulator.timeseries import blocks, pending
from emulator.timeseries.records import AspectSchema, Checked, check_records, made_records
from emulator.timeseries.rollups import Rollups


def aspect_schema(scope: TenantScope, asset_id: str, aspect: str) -> AspectSchema:
    """The dynamic aspect ``aspect`` of the asset; 404 when the asset or such an aspect does not exist."""
    found = fast_rows(scope.conn, _TYPE_OF_ASSET, scope.tenant, scope.tenant, asset_id) \
        if isinstance(asset_id, str) else None
    if not found:
        raise errors.NotFound(f"Asset {asset_id!r} not found")
    type_id, key = found[0]
    note_model_key(scope, key)
    for name, aspect_type in catalog(scope).model(type_id).aspects:
        if name == aspect:
            if aspect_type["category"] != "dynamic":
                raise errors.NotFound(f"Aspect {aspect!r} of asset {asset_id!r} is static: it has no time series")
            return AspectSchema(name, {v["name"]: v for v in aspect_type["variables"]})
    raise errors.NotFound(f"Asset {asset_id!r} has no aspect {aspect!r}")


# with the tenant's model key, which the catalogue read next needs (one statement where there were two)
_TYPE_OF_ASSET = f"SELECT type_id, {MODEL_KEY_COLUMN} FROM assets WHERE tenant_id = ? AND asset_id = ?"


def serialize(scope: TenantScope, asset_id: str, aspect: str) -> None:
    """One writer at a time per asset and aspect, until the transaction ends. The blocks and the rollups are
    rewritten from what a writer's statements see; on PostgreSQL (read committed, no lock taken up front) two
    writers of one bucket would each see only their own records, and the second insert of a bucket row
    would collide or silently drop the first's (found by tests/test_load_multiworker.py). SQLite takes
    its write lock at BEGIN IMMEDIATE already."""
    if scope.conn.dialect.name == "postgresql":
        fast_scalar(scope.conn, "SELECT pg_advisory_xact_lock(hashtext(?))", f"{scope.tenant}/{asset_id}/{aspect}")


def write(scope: TenantScope, asset_id: str, schema: AspectSchema, records) -> int:
    """Store checked records (replacing any at the same times); returns how many."""
    return _store(scope, asset_id, schema, check_records(schema, records))


def write_made(scope: TenantScope, asset_id: str, schema: AspectSchema, batch: tuple[list[int], list[dict], dict]
               ) -> int:
    """:func:`write` for records the emulator made itself: (times, records, columns), as
    :func:`emulator.timeseries.records.made_records` takes them."""
    return _store(scope, asset_id, schema, made_records(schema, *batch))


def _store(scope: TenantScope, asset_id: str, schema: AspectSchema, checked: Checked) -> int:
    if not checked.times:
        return 0
    serialize(scope, asset_id, schema.name)
    series = (scope.tenant, asset_id, schema.name)
    last = blocks.last_time(scope.conn, series) if schema.numeric else None  # does it append? (pending.note)
    blocks.write(scope.conn, series, checked.pairs())
    if schema.numeric:  # the rollups take it in before they are next read
        pending.note(scope.conn, series, checked.times[0], checked.times[-1], last)
    return len(checked)


def delete_range(scope: TenantScope, asset_id: str, schema: AspectSchema, after: int, upto: int, zone: str) -> int:
    """Delete the records of ``(after, upto]``; the rollups take in the writes before it, then lose what it removed."""
    serialize(scope, asset_id, schema.name)
    _catch_up(scope, asset_id, schema, zone)
    count = blocks.delete(scope.conn, (scope.tenant, asset_id, schema.name), after, upto)
    Rollups(scope, asset_id, schema, zone).after_delete(after, upto)
    return count


def settle(scope: TenantScope, zone: str) -> None:
    """The rollups of every series of the tenant take in the writes noted since they were last made (in the caller's
    write transaction, which took the tenant as writers do). A series whose aspect its asset no longer has (its type
    changed) has nothing to read its rollups: its notes are dropped."""
    for asset_id, aspect in pending.series_of(scope.conn, scope.tenant):
        serialize(scope, asset_id, aspect)
        try:
            schema = aspect_schema(scope, asset_id, aspect)
        except errors.NotFound:
            pending.done(scope.conn, (scope.tenant, asset_id, aspect), MAX_SEQ)
            continue
        _catch_up(scope, asset_id, schema, zone)


MAX_SEQ = 2**62  # above every noted write's sequence number


def _catch_up(scope: TenantScope, asset_id: str, schema: AspectSchema, zone: str) -> None:
    series = (scope.tenant, asset_id, schema.name)
    noted = pending.noted(scope.conn, series)
    if noted:
        Rollups(scope, asset_id, schema, zone).catch_up(noted)
        pending.done(scope.conn, series, noted[-1][0])


@dataclass
class Page:
    bodies: list[str]  # stored record texts, in the asked order
    times: list[int]
    more: bool  # records beyond ``limit`` exist in the range


def read(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int, limit: int, descending: bool) -> Page:
    """At most ``limit`` records of ``(after, upto]`` in the asked order, each as its stored text."""
    found, more = blocks.pieces(scope.conn, (scope.tenant, asset_id, aspect), after, upto, limit, descending)
    return Page(*blocks.listed(found, descending), more)


def read_joined(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int, limit: int,
                descending: bool) -> tuple[str, int | None, bool]:
    """What :func:`read` finds, as the records' texts joined with commas (the body of a JSON array), the time of
    the page's last record (None for none) and whether more follow: slices of a few blocks' texts, joined."""
    found, more = blocks.pieces(scope.conn, (scope.tenant, asset_id, aspect), after, upto, limit, descending)
    return *blocks.joined(found, descending), more


def read_pieces(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int, limit: int, descending: bool,
                skip: int) -> list[tuple[blocks.Block, int, int]]:
    """What :func:`read` finds after ``skip`` records (at most ``limit`` of them), as stored: (block, i, j) pieces,
    records ``[i, j)`` of each block, in the asked order (a descending piece's records are read from ``j - 1``)."""
    return blocks.pieces(scope.conn, (scope.tenant, asset_id, aspect), after, upto, limit, descending, skip)[0]


def piece_run(piece: tuple[blocks.Block, int, int], descending: bool) -> tuple[list[int], str]:
    """A piece's records in the asked order: their times, and their texts joined with commas."""
    return blocks.times_of([piece], descending), blocks.joined([piece], descending)[0]


def count(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int) -> int:
    """How many records ``(after, upto]`` holds."""
    return blocks.count(scope.conn, (scope.tenant, asset_id, aspect), after, upto)


def latest(scope: TenantScope, asset_id: str, aspect: str) -> Page:
    found = blocks.newest(scope.conn, (scope.tenant, asset_id, aspect))
    return Page([found[1]], [found[0]], False) if found else Page([], [], False)


def records(scope: TenantScope, asset_id: str, aspect: str, after: int, upto: int,
            descending: bool = False) -> Iterator[tuple[int, str]]:
    """Every record of ``(after, upto]`` as (time, stored text), in the asked order, read a few blocks at a time."""
    return blocks.records(scope.conn, (scope.tenant, asset_id, aspect), after, upto, descending)


def typed_holding(scope: TenantScope, type_ids: list[str], asset_id: str | None, aspect: str, after: int,
                  upto: int) -> tuple[str, ...]:
    """The live assets of ``type_ids`` (or that one asset, if it is of them), in id order, that may hold records of
    ``aspect`` in ``(after, upto]``."""
    return blocks.typed_holding(scope.conn, scope.tenant, type_ids, asset_id, aspect, after, upto)


def extent(scope: TenantScope, asset_id: str, aspect: str) -> tuple[int | None, int | None]:
    """The times of the oldest and newest records of the asset's aspect (None, None for none)."""
    return blocks.extent(scope.conn, (scope.tenant, asset_id, aspect))


def latest_values(scope: TenantScope, asset_id: str, schema: AspectSchema, after: int, upto: int,
                  wanted: list[str]) -> list[dict]:
    """``latestValue``: each variable's newest value in ``(after, upto]``, grouped by time, each at most once."""
    found: dict[str, tuple] = {}  # variable -> (t, value, quality code, "_time")
    for t, body in records(scope, asset_id, schema.name, after, upto, descending=True):
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

