"""Assets: create, read, update, patch, move, locate, delete, within MindSphere's rules.

A service takes a :class:`TenantScope` and plain values and returns plain values. Decisions [?]
(README, fidelity notes): deleting an asset that has children answers 409 (nothing is deleted
silently); deletes are hard (the asset is gone, ``deleted`` stays null); the root asset can be
neither deleted nor moved.
"""

from __future__ import annotations

import copy
import uuid

import json_merge_patch

from emulator import errors
from emulator.assets import validation as v
from emulator.assets.models import assets
from emulator.assets.spec import LOCATION_DEGREES, LOCATION_TEXT, check
from emulator.assets.types import catalog, expect_etag, update_checked
from emulator.store import TenantScope

LOCATION_FIELDS = (*LOCATION_TEXT, *LOCATION_DEGREES)
MAX_DEPTH = 64


def get_asset(scope: TenantScope, asset_id: str):
    """The asset's row (404 if the tenant has none of that id), read with the tenant's model key: an asset is
    answered through its type (emulator.store.scope.note_model_key)."""
    row = scope.get(assets, asset_id, with_model_key=True) if isinstance(asset_id, str) else None
    if row is None:
        raise errors.NotFound(f"Asset {asset_id!r} not found")
    return row


def hierarchy(lookup, row) -> list[dict]:
    """``hierarchyPath``: the ancestors from the root down to the parent. ``lookup(id)`` reads an asset."""
    path, parent_id = [], row["parent_id"]
    while parent_id and len(path) < MAX_DEPTH:
        parent = lookup(parent_id)
        if parent is None:
            break
        path.append({"assetId": parent["asset_id"], "name": parent["name"]})
        parent_id = parent["parent_id"]
    return list(reversed(path))


def effective_location(lookup, row):
    """The asset's location, or the nearest ancestor's: an unset location is inherited."""
    current, hops = row, 0
    while current is not None and hops < MAX_DEPTH:
        if current["location"]:
            return current["location"]
        current = lookup(current["parent_id"]) if current["parent_id"] else None
        hops += 1
    return None


def location(raw: dict | None):
    """A location as stored: every field, null where not given (its shape checked: LocationInput)."""
    return None if raw is None else {key: raw.get(key) for key in LOCATION_FIELDS}


def _common_fields(body: dict) -> dict:
    return {"name": body["name"], "external_id": body.get("externalId"), "description": body.get("description"),
            "location": location(body.get("location"))}


def create_asset(scope: TenantScope, body: dict, *, default_timezone: str, now: float,
                 asset_id: str | None = None) -> str:
    """Create an asset (its body's shape checked: AssetInput); its id is new (``uuid4``) unless the caller derives
    one (the seeded fleet does)."""
    fields = _common_fields(body)
    cat = catalog(scope)
    graph = cat.graph
    type_id = graph.resolve(body.get("typeId"))
    if type_id is None:
        raise errors.InvalidBody(f"typeId {body.get('typeId')!r} is not an existing asset type")
    if not graph.rows[type_id]["instantiable"]:
        raise errors.InvalidBody(f"Asset type {type_id!r} is not instantiable")
    parent_id = body.get("parentId")
    if parent_id is None or scope.get(assets, parent_id) is None:
        raise errors.InvalidBody(f"parentId {parent_id!r} is not an existing asset")
    twin = body.get("twinType") or "performance"
    zone = v.timezone(body["timezone"]) if body.get("timezone") is not None else default_timezone
    variables, aspects = cat.model(type_id).parse_values(body)
    asset_id = asset_id or uuid.uuid4().hex
    scope.insert(assets, asset_id=asset_id, type_id=type_id, parent_id=parent_id, timezone=zone, twin_type=twin,
                 variables=variables, aspects=aspects, etag=0, created_at=now, **fields)
    return asset_id


def update_body(row) -> dict:
    """The update representation of an asset (what PUT takes; the base a merge patch applies to)."""
    return {"name": row["name"], "externalId": row["external_id"], "description": row["description"],
            "location": copy.deepcopy(row["location"]), "variables": copy.deepcopy(row["variables"]),
            "aspects": copy.deepcopy(row["aspects"]), "timezone": row["timezone"], "twinType": row["twin_type"],
            "typeId": row["type_id"], "parentId": row["parent_id"]}


def update_asset(scope: TenantScope, asset_id: str, body: dict, if_match) -> None:
    """PUT: a full update of name, externalId, description, location and values (the body's shape checked:
    AssetUpdate)."""
    row = get_asset(scope, asset_id)
    expected = expect_etag(row, if_match, "asset")
    for key, column, why in (("timezone", "timezone", "is fixed after creation"),
                             ("twinType", "twin_type", "is fixed after creation"),
                             ("typeId", "type_id", "cannot change"),
                             ("parentId", "parent_id", "changes only by POST /assets/{id}/move")):
        if body.get(key) is not None and body[key] != row[column]:
            raise errors.InvalidBody(f"{key} {why}")
    fields = _common_fields(body)
    variables, aspects = catalog(scope).model(row["type_id"]).parse_values(body)
    update_checked(scope, assets, assets.c.asset_id, asset_id, expected, "asset",
                   {"variables": variables, "aspects": aspects, **fields})


def patch_asset(scope: TenantScope, asset_id: str, patch: dict, if_match) -> None:
    """PATCH: a JSON merge patch (RFC 7396) on the update representation; the result must be a valid PUT body
    (its contract, then the PUT rules)."""
    row = get_asset(scope, asset_id)
    merged = json_merge_patch.merge(update_body(row), copy.deepcopy(patch))
    check("AssetUpdate", merged)
    update_asset(scope, asset_id, merged, if_match)


def delete_asset(scope: TenantScope, asset_id: str, if_match, root_id: str, dependents=()) -> None:
    """Delete a childless asset and, in the same transaction, its rows in ``dependents`` (the tables other APIs
    keep per asset, such as its time series and rollups): an asset's data goes with it, so an asset created
    later with the same id starts empty."""
    row = get_asset(scope, asset_id)
    if asset_id == root_id:
        raise errors.BadRequest("The root asset cannot be deleted")
    expected = expect_etag(row, if_match, "asset")
    if scope.count(assets, assets.c.parent_id == asset_id):
        raise errors.Conflict(f"Asset {asset_id!r} has child assets; delete or move them first")
    if scope.delete(assets, assets.c.asset_id == asset_id, assets.c.etag == expected) != 1:
        raise errors.PreconditionFailed(f"The asset was changed by someone else (etag {expected} is stale)")
    for table in dependents:
        scope.delete(table, table.c.asset_id == asset_id)


def move_asset(scope: TenantScope, asset_id: str, body: dict, if_match, root_id: str) -> None:
    row = get_asset(scope, asset_id)
    if asset_id == root_id:
        raise errors.BadRequest("The root asset cannot be moved")
    expected = expect_etag(row, if_match, "asset")
    new_parent = body["newParentId"]
    parent = scope.get(assets, new_parent)
    if parent is None:
        raise errors.InvalidBody(f"newParentId {new_parent!r} is not an existing asset")
    if new_parent == asset_id or any(p["assetId"] == asset_id
                                     for p in hierarchy(lambda key: scope.get(assets, key), parent)):
        raise errors.InvalidBody("An asset cannot move below itself")
    update_checked(scope, assets, assets.c.asset_id, asset_id, expected, "asset", {"parent_id": new_parent})


def set_location(scope: TenantScope, asset_id: str, body, if_match) -> None:
    row = get_asset(scope, asset_id)
    expected = expect_etag(row, if_match, "asset")
    new = location(body)
    update_checked(scope, assets, assets.c.asset_id, asset_id, expected, "asset", {"location": new})


def delete_location(scope: TenantScope, asset_id: str, if_match) -> None:
    row = get_asset(scope, asset_id)
    expected = expect_etag(row, if_match, "asset")
    update_checked(scope, assets, assets.c.asset_id, asset_id, expected, "asset", {"location": None})
