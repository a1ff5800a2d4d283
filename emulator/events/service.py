"""Events (events-files-api.md 1b, 1d): create, read, correct (PUT with If-Match), and query with filter,
sort, paging, history and the 7-day window. Plain values in and out over the tenant's scope (no Flask here).

Decisions [?] (README, fidelity notes): an ``entityId`` that is not an asset of the tenant is a 400 naming it;
unknown properties of a standard event are accepted and dropped (the real tenant accepts the agent test's
``sourceType``/``sourceId``), of a custom event a 400 naming them; an event's first etag is 1 (EVS sample);
a history is the events of one (``correlationId``, ``entityId``, ``typeId``), its latest the one of the latest
timestamp (then the last written); an event without ``correlationId`` is a history of its own.
"""

from __future__ import annotations

import re
import uuid

from emulator import errors, limits
from emulator.assets.models import assets
from emulator.events import expiry, filters, types
from emulator.events.models import events
from emulator.store import TenantScope
from emulator.times import iso, parse_instant, parse_time

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
DAY_MS = 86_400_000
CORE_FILTER = {"id": "STRING", "typeId": "STRING", "correlationId": "STRING", "timestamp": "TIMESTAMP",
               "entityId": "STRING"}
NOT_UPDATABLE = ("typeId", "correlationId", "timestamp", "entityId")


def _check_value(field: dict, value):
    name, kind = field["name"], field["type"]
    what = f"Field {name!r}"
    if kind in ("STRING", "LINK", "UUID", "ENUM", "TIMESTAMP"):
        if not isinstance(value, str):
            raise errors.InvalidBody(f"{what} must be a string ({kind}), not {value!r}")
        if "\x00" in value:
            raise errors.InvalidBody(f"{what} must not contain a NUL character")
        limit = limits.EM_DESCRIPTION_MAX if name == "description" else limits.EM_STRING_MAX
        if len(value) > limit:
            raise errors.InvalidBody(f"{what} is longer than {limit} characters")
        if kind == "ENUM" and value not in field.get("values", ()):
            raise errors.InvalidBody(f"{what} must be one of {', '.join(field.get('values', ()))}, not {value!r}")
        if kind == "UUID" and not UUID_RE.match(value):
            raise errors.InvalidBody(f"{what} must be a UUID, not {value!r}")
        if kind == "TIMESTAMP":
            parse_time(value, what)
    elif kind == "INTEGER":
        if isinstance(value, bool) or not isinstance(value, int) or not -2**63 <= value < 2**63:
            raise errors.InvalidBody(f"{what} must be an integer, not {value!r}")
    elif kind == "DOUBLE":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise errors.InvalidBody(f"{what} must be a number, not {value!r}")
    elif kind == "BOOLEAN" and not isinstance(value, bool):
        raise errors.InvalidBody(f"{what} must be true or false, not {value!r}")


def _values(scope: TenantScope, type_row: dict, body: dict) -> dict:
    """The standard and custom fields of ``body``, checked against the type and its ancestors."""
    declared = {f["name"]: f for f in types.all_fields(scope, type_row)}
    unknown = sorted(set(body) - set(declared) - set(types.CORE_FIELDS) - {"_links", "sharing"})
    if unknown and type_row["type_id"] != types.STANDARD:
        raise errors.InvalidBody(f"Event type {type_row['type_id']!r} has no fields {', '.join(unknown)}")
    values = {}
    for name, field in declared.items():
        value = body.get(name)
        if value is None:
            if field["required"]:
                raise errors.MissingBodyProperty(f"Field {name!r} of event type {type_row['type_id']!r} is required")
            continue
        _check_value(field, value)
        values[name] = value
    return values


def _entity(scope: TenantScope, entity_id: str) -> None:
    if scope.get(assets, entity_id) is None:
        raise errors.InvalidBody(f"entityId {entity_id!r} is not an asset of the tenant")


def create(scope: TenantScope, body: dict, now: float) -> dict:
    type_id = body.get("typeId") or types.STANDARD
    type_row = types.find(scope, type_id)
    if type_row is None:
        raise errors.InvalidBody(f"Event type {type_id!r} not found")
    ms = parse_instant(body["timestamp"], "timestamp")
    _entity(scope, body["entityId"])
    values = _values(scope, type_row, body)
    event_id = str(uuid.uuid4())
    scope.insert(events, event_id=event_id, asset_id=body["entityId"], type_id=type_id,
                 correlation_id=body.get("correlationId"), ts=ms, timestamp=iso(ms), values=values,
                 etag=1, seq=now)
    return get_row(scope, event_id)


def get_row(scope: TenantScope, event_id: str, now_ms: int | None = None):
    """The event; with ``now_ms``, NotFound also when it expired by then (its type's ttl)."""
    row = scope.get(events, event_id) if isinstance(event_id, str) else None
    if row is not None and now_ms is not None:
        row = scope.conn.execute(scope.select(events).where(events.c.event_id == event_id,
                                                            expiry.alive(scope, now_ms, types.STANDARD))
                                 ).mappings().first()
    if row is None:
        raise errors.NotFound(f"Event {event_id!r} not found")
    return row


def update(scope: TenantScope, event_id: str, body: dict, expected: int, now_ms: int):
    row = get_row(scope, event_id, now_ms)
    current = {"typeId": row["type_id"], "correlationId": row["correlation_id"], "timestamp": row["timestamp"],
               "entityId": row["asset_id"]}
    for key in NOT_UPDATABLE:
        given = body.get(key, types.STANDARD if key == "typeId" and row["type_id"] == types.STANDARD else None)
        if key == "timestamp" and isinstance(given, str) and parse_time(given, "timestamp") == row["ts"]:
            continue
        if given != current[key]:
            raise errors.InvalidBody(f"{key} of event {event_id!r} cannot be changed (it is {current[key]!r}, "
                                     f"not {given!r})")
    if expected != row["etag"]:
        raise errors.PreconditionFailed(f"Event {event_id!r} was changed by someone else: If-Match {expected} but "
                                        f"its etag is {row['etag']}")
    type_row = types.get(scope, row["type_id"])
    values = _values(scope, type_row, body)
    for field in types.all_fields(scope, type_row):
        name = field["name"]
        if not field["updatable"] and values.get(name) != row["values"].get(name):
            raise errors.InvalidBody(f"Field {name!r} of event type {type_row['type_id']!r} is not updatable")
    count = scope.update(events, events.c.event_id == event_id, events.c.etag == expected, values=values,
                         etag=expected + 1)
    if count != 1:
        raise errors.PreconditionFailed(f"Event {event_id!r} was changed by someone else")
    return get_row(scope, event_id)


def query(scope: TenantScope, tree: dict, history: bool, now_ms: int, sort: tuple[str, bool] | None, *,
          window: bool = True):
    """The matching rows (sorted) and the type whose custom fields they show (None: the standard fields only);
    ``window``: without a timestamp condition, the last 7 days only. Expired events (their type's ttl, at
    ``now_ms``) are never among them."""
    type_conditions = filters.top_level(tree, "typeId")
    if filters.mentions(tree, "typeId") > len(type_conditions) or len(type_conditions) > 1:
        raise errors.BadRequest("filter: typeId may appear once, outside any or")
    type_row = None
    fields = dict(CORE_FILTER) | {f["name"]: f["type"] for f in types.STANDARD_FIELDS if f["filterable"]}
    stmt = scope.select(events)
    if type_conditions:
        type_id = type_conditions[0]
        if isinstance(type_id, dict) and set(type_id) == {"eq"}:
            type_id = type_id["eq"]
        if not isinstance(type_id, str):
            raise errors.BadRequest("filter: typeId takes equality only ({\"typeId\": \"<id>\"})")
        type_row = types.find(scope, type_id)
        if type_row is None:
            raise errors.BadRequest(f"filter: event type {type_id!r} not found")
        fields |= {f["name"]: f["type"] for f in types.all_fields(scope, type_row) if f["filterable"]}
        stmt = stmt.where(events.c.type_id == type_id)
    stmt = stmt.where(expiry.alive(scope, now_ms, types.STANDARD))
    if window and not filters.mentions(tree, "timestamp"):
        stmt = stmt.where(events.c.ts >= now_ms - limits.EM_SEARCH_WINDOW_DAYS * DAY_MS)
    predicate = filters.compile_filter(tree, fields)
    rows = [r for r in scope.all(stmt) if predicate(flat(r))]
    if not history:
        latest: dict = {}
        for r in rows:
            key = (r["correlation_id"], r["asset_id"], r["type_id"]) if r["correlation_id"] else r["event_id"]
            if key not in latest or (r["ts"], r["seq"]) > (latest[key]["ts"], latest[key]["seq"]):
                latest[key] = r
        rows = list(latest.values())
    field, descending = sort or ("timestamp", True)
    if field not in fields:
        raise errors.BadRequest(f"sort: field {field!r} is unknown or not sortable here")

    def key(r):
        value = flat(r).get(field)
        return (value is not None, value if value is not None else 0, r["seq"])

    rows.sort(key=key, reverse=descending)
    return rows, type_row


def flat(row) -> dict:
    return {**row["values"], "id": row["event_id"], "typeId": row["type_id"], "correlationId": row["correlation_id"],
            "timestamp": row["ts"], "entityId": row["asset_id"]}


def as_json(row, base: str, shown: set | None = None, shared: bool = False) -> dict:
    """An event; ``shown`` limits the custom fields (a query without typeId shows the standard fields only);
    ``shared`` (``includeShared=true``) adds ``sharing``: no modes, as nothing is shared between tenants."""
    out = {"id": row["event_id"], "typeId": row["type_id"]}
    if row["correlation_id"] is not None:
        out["correlationId"] = row["correlation_id"]
    out |= {"timestamp": row["timestamp"], "entityId": row["asset_id"], "etag": row["etag"]}
    out |= {k: v for k, v in row["values"].items() if shown is None or k in shown}
    out["_links"] = {"self": {"href": f"{base}/events/{row['event_id']}"}}
    if shared:
        out["sharing"] = {"modes": []}
    return out


def of_asset(scope: TenantScope, asset_id: str, now_ms: int, offset: int, limit: int) -> tuple[list, int]:
    """One page of an asset's unexpired events of every type and every history step, newest first (then the last
    written), and how many there are: what a monitoring page lists beside the asset's charts. Ordered and cut
    in SQL, so an asset with many events costs one page."""
    where = (events.c.asset_id == asset_id, expiry.alive(scope, now_ms, types.STANDARD))
    total = scope.count(events, *where)
    rows = scope.all(scope.select(events).where(*where).order_by(events.c.ts.desc(), events.c.seq.desc(),
                                                                 events.c.event_id).offset(offset).limit(limit))
    return rows, total
