"""Event types (events-files-api.md 1c): the standard event type, the tenant's own types, their fields and
inheritance. Plain values in and out over the tenant's scope (no Flask here).

Decisions [?] (README, fidelity notes): the standard event type
``com.siemens.mindsphere.eventmgmt.event.type.MindSphereStandardEvent`` is the root every type descends from
(``core.basicevent`` and ``BaseEvent`` are accepted as its other names in ``parentId``); a custom type's
``parentId`` defaults to it; a new type's etag is 0; deleting a type deletes its events and is refused (409)
while a child type exists.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import quote

from emulator import errors, limits
from emulator.events.models import event_types, events
from emulator.store import TenantScope

STANDARD = "com.siemens.mindsphere.eventmgmt.event.type.MindSphereStandardEvent"  # [C] EVS sample response
ROOT_ALIASES = ("core.basicevent", "BaseEvent")  # [?] other names of the root in parentId
STANDARD_OWNER = "core"  # [?] the owner the standard type is listed with
FIELD_TYPES = ("STRING", "INTEGER", "DOUBLE", "BOOLEAN", "LINK", "TIMESTAMP", "UUID", "ENUM")  # [C] SDK models
SCOPES = ("LOCAL", "GLOBAL")  # [C] SDK models


def _field(name, type_, filterable, updatable=True) -> dict:
    return {"name": name, "type": type_, "filterable": filterable, "required": False, "updatable": updatable}


# [C] SDK PostEvent comment: description is not filterable; severity, code, source, acknowledged are
STANDARD_FIELDS = (_field("description", "STRING", False), _field("severity", "INTEGER", True),
                   _field("code", "STRING", True), _field("source", "STRING", True),
                   _field("acknowledged", "BOOLEAN", True))
CORE_FIELDS = ("id", "typeId", "correlationId", "timestamp", "entityId", "etag")  # every event's; not custom


def standard_row() -> dict:
    return {"type_id": STANDARD, "name": "MindSphereStandardEvent", "parent_id": None, "ttl":
            limits.EM_TYPE_TTL_DEFAULT_DAYS, "scope": "GLOBAL", "fields": [dict(f) for f in STANDARD_FIELDS],
            "etag": 0, "owner": STANDARD_OWNER}


def find(scope: TenantScope, type_id) -> dict | None:
    if type_id == STANDARD:
        return standard_row()
    row = scope.get(event_types, type_id) if isinstance(type_id, str) else None
    return None if row is None else {**row, "owner": scope.tenant}


def get(scope: TenantScope, type_id: str) -> dict:
    row = find(scope, type_id)
    if row is None:
        raise errors.NotFound(f"Event type {type_id!r} not found")
    return row


def lineage(scope: TenantScope, row: dict) -> list[dict]:
    """The type and its ancestors, the type first, the standard type last."""
    chain = [row]
    while chain[-1]["parent_id"] is not None:
        chain.append(get(scope, chain[-1]["parent_id"]))
    return chain


def all_fields(scope: TenantScope, row: dict) -> list[dict]:
    """Every field an event of the type carries: the ancestors' first."""
    return [f for r in reversed(lineage(scope, row)) for f in r["fields"]]


def listing(scope: TenantScope) -> list[dict]:
    own = scope.all(scope.select(event_types))
    return [standard_row(), *({**r, "owner": scope.tenant} for r in own)]


def _check_fields(fields: list, inherited: set) -> list[dict]:
    out, seen = [], set(inherited)
    if len(fields) > limits.EM_TYPE_MAX_FIELDS:
        raise errors.InvalidBody(f"An event type holds at most {limits.EM_TYPE_MAX_FIELDS} fields")
    for f in fields:
        name = f["name"]
        if name in CORE_FIELDS or name in seen:
            raise errors.InvalidBody(f"Field {name!r} is already a field of the event type or its ancestors")
        seen.add(name)
        values = f.get("values")
        if f["type"] == "ENUM" and not values:
            raise errors.InvalidBody(f"Field {name!r} of type ENUM needs its values")
        if f["type"] != "ENUM" and values is not None:
            raise errors.InvalidBody(f"Field {name!r}: values are only for fields of type ENUM")
        field = {"name": name, "type": f["type"], "filterable": f.get("filterable", False),
                 "required": f.get("required", False), "updatable": f.get("updatable", True)}
        if values is not None:
            field["values"] = list(values)
        out.append(field)
    return out


def _parent(scope: TenantScope, parent_id) -> dict:
    if parent_id is None or parent_id in ROOT_ALIASES:
        parent_id = STANDARD
    parent = find(scope, parent_id)
    if parent is None:
        raise errors.InvalidBody(f"The parent event type {parent_id!r} does not exist")
    if len(lineage(scope, parent)) >= limits.EM_TYPE_MAX_DEPTH:
        raise errors.InvalidBody(f"Event type {parent_id!r} is at the deepest level of inheritance "
                                 f"({limits.EM_TYPE_MAX_DEPTH} levels): it cannot have children")
    return parent


def create(scope: TenantScope, body: dict, now: float) -> dict:
    type_id = body.get("id") or str(uuid.uuid4())
    if "id" in body and (not type_id.startswith(f"{scope.tenant}.") or type_id == f"{scope.tenant}."):
        raise errors.InvalidBody(f"Event type id {type_id!r} must start with the tenant's name ({scope.tenant}.)")
    if find(scope, type_id) is not None:
        raise errors.Conflict(f"Event type {type_id!r} already exists")
    parent = _parent(scope, body.get("parentId"))
    fields = _check_fields(body["fields"], {f["name"] for f in all_fields(scope, parent)})
    scope.insert(event_types, type_id=type_id, name=body["name"], parent_id=parent["type_id"],
                 ttl=body.get("ttl", limits.EM_TYPE_TTL_DEFAULT_DAYS), scope=body.get("scope", "LOCAL"),
                 fields=fields, etag=0, created_at=now)
    return get(scope, type_id)


def _own(scope: TenantScope, type_id: str) -> dict:
    row = get(scope, type_id)
    if row["type_id"] == STANDARD:
        raise errors.BadRequest(f"The standard event type {type_id!r} cannot be changed")
    return row


def expect_etag(row: dict, expected: int, what: str) -> None:
    if expected != row["etag"]:
        raise errors.PreconditionFailed(
            f"The {what} {row['type_id']!r} was changed by someone else: If-Match {expected} but its etag is "
            f"{row['etag']}")


FIELD_PATH = re.compile(r"^/fields/([^/]+)/(required|filterable|updatable)$")


def patch(scope: TenantScope, type_id: str, op: dict, expected: int) -> dict:
    """One operation (``add /fields``, ``replace /scope|/name|/ttl``, ``replace /fields/<name>/<property>``)."""
    row = _own(scope, type_id)
    expect_etag(row, expected, "event type")
    kind, where, value = op["op"], op["path"], op.get("value")
    changes: dict = {}
    if kind == "add" and where == "/fields":
        if not isinstance(value, dict):
            raise errors.InvalidBody("value of an add /fields must be a field object")
        inherited = {f["name"] for f in all_fields(scope, row)}
        changes["fields"] = [*row["fields"], *_check_fields([_checked_field(value)], inherited)]
    elif kind == "replace" and where in ("/scope", "/name", "/ttl"):
        changes[where[1:]] = _checked_property(where[1:], value)
    elif kind == "replace" and FIELD_PATH.match(where):
        name, prop = FIELD_PATH.match(where).groups()
        if not isinstance(value, bool):
            raise errors.InvalidBody(f"value of {where} must be true or false")
        if name not in {f["name"] for f in row["fields"]}:
            raise errors.InvalidBody(f"Event type {type_id!r} has no field {name!r} of its own")
        changes["fields"] = [{**f, prop: value} if f["name"] == name else f for f in row["fields"]]
    else:
        raise errors.InvalidBody(f"Operation {kind} {where!r} is not supported on an event type")
    count = scope.update(event_types, event_types.c.type_id == type_id, event_types.c.etag == expected,
                         etag=expected + 1, **changes)
    if count != 1:
        raise errors.PreconditionFailed(f"The event type {type_id!r} was changed by someone else")
    return get(scope, type_id)


def _checked_field(value: dict) -> dict:
    name, type_ = value.get("name"), value.get("type")
    if not isinstance(name, str) or not re.fullmatch(limits.EM_FIELD_NAME_PATTERN, name):
        raise errors.InvalidBody(f"value.name {name!r} is not a field name")
    if type_ not in FIELD_TYPES:
        raise errors.InvalidBody(f"value.type {type_!r} must be one of {', '.join(FIELD_TYPES)}")
    extra = set(value) - {"name", "type", "filterable", "required", "updatable", "values"}
    if extra:
        raise errors.InvalidBody(f"value has unknown properties: {', '.join(sorted(extra))}")
    for prop in ("filterable", "required", "updatable"):
        if prop in value and not isinstance(value[prop], bool):
            raise errors.InvalidBody(f"value.{prop} must be true or false")
    if "values" in value and not (isinstance(value["values"], list)
                                  and all(isinstance(v, str) for v in value["values"])):
        raise errors.InvalidBody("value.values must be a list of strings")
    if value.get("required"):
        raise errors.InvalidBody(f"Field {name!r}: a field added to an existing type cannot be required")
    return value


def _checked_property(prop: str, value):
    if prop == "scope" and value in SCOPES:
        return value
    if prop == "name" and isinstance(value, str) and 0 < len(value) <= limits.EM_TYPE_NAME_MAX and "\x00" not in value:
        return value
    if prop == "ttl" and isinstance(value, int) and not isinstance(value, bool) \
            and 1 <= value <= limits.EM_TYPE_TTL_MAX_DAYS:
        return value
    raise errors.InvalidBody(f"value {value!r} is not a valid {prop}")


def delete(scope: TenantScope, type_id: str, expected: int) -> None:
    row = _own(scope, type_id)
    expect_etag(row, expected, "event type")
    if scope.count(event_types, event_types.c.parent_id == type_id):
        raise errors.Conflict(f"Event type {type_id!r} has child types: delete them first")
    scope.delete(events, events.c.type_id == type_id)
    scope.delete(event_types, event_types.c.type_id == type_id, event_types.c.etag == expected)


def as_json(scope: TenantScope, row: dict, base: str, shared: bool = False) -> dict:
    """An event type; ``shared`` (``includeShared=true``) adds ``sharing``: ``DEFAULT`` for the standard type (the
    SDK's model: provided by default), no modes for the tenant's own (nothing is shared between tenants)."""
    href = f"{base}/eventTypes/{row['type_id']}"
    out = {"id": row["type_id"], "name": row["name"], "parentId": row["parent_id"], "ttl": row["ttl"],
           "scope": row["scope"], "fields": all_fields(scope, row), "etag": row["etag"], "owner": row["owner"],
           "_links": {"self": {"href": href},
                      "events": {"href": f"{base}/events?filter={quote(json.dumps({'typeId': row['type_id']}))}"}}}
    if shared:
        out["sharing"] = {"modes": ["DEFAULT"] if row["type_id"] == STANDARD else []}
    return out
