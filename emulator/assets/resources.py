"""The JSON shapes Asset Management answers with (mindsphere-api.md 2d), built from store rows."""

from __future__ import annotations

from sqlalchemy.engine import RowMapping

BASE = "/api/assetmanagement/v3"


def link(base_url: str, path: str) -> dict:
    return {"href": base_url.rstrip("/") + BASE + path}


def asset(row: RowMapping, base_url: str, hierarchy: list[dict] | None = None) -> dict:
    asset_id = row["asset_id"]
    links = {
        "self": link(base_url, f"/assets/{asset_id}"),
        "aspects": link(base_url, f"/assets/{asset_id}/aspects"),
        "variables": link(base_url, f"/assets/{asset_id}/variables"),
        "location": link(base_url, f"/assets/{asset_id}/location"),
        "children": link(base_url, f'/assets?filter={{"parentId":"{asset_id}"}}'),
    }
    if row["parent_id"]:
        links["parent"] = link(base_url, f"/assets/{row['parent_id']}")
    return {
        "assetId": row["asset_id"],
        "tenantId": row["tenant_id"],
        "name": row["name"],
        "externalId": row["external_id"],
        "t2Tenant": None,
        "subTenant": None,
        "description": row["description"],
        "timezone": row["timezone"],
        "parentId": row["parent_id"],
        "typeId": row["type_id"],
        "twinType": row["twin_type"],
        "location": row["location"],
        "fileAssignments": [],
        "variables": list(row["variables"] or []),
        "aspects": list(row["aspects"] or []),
        "locks": [],
        "hierarchyPath": hierarchy or [],
        "deleted": None,
        "sharing": {"modes": []},
        "etag": row["etag"],
        "_links": links,
    }
