"""The JSON shapes Asset Management answers with (mindsphere-api.md 2d), built from store rows.

Values of static variables are strings, as MindSphere sends them; a value never set shows the
variable's ``defaultValue``.
"""

from __future__ import annotations

from emulator.assets.core_types import CORE_TENANT

BASE = "/api/assetmanagement/v3"


def link(base_url: str, path: str) -> dict:
    return {"href": base_url.rstrip("/") + BASE + path}


def aspect_type(row, base_url: str) -> dict:
    return {
        "id": row["id"], "tenantId": row["tenant_id"], "name": row["name"], "category": row["category"],
        "scope": row["scope"], "description": row["description"],
        "variables": [dict(var) for var in row["variables"]], "etag": row["etag"], "sharing": {"modes": []},
        "_links": {"self": link(base_url, f"/aspecttypes/{row['id']}")},
    }


def asset_type(row, graph, aspect_types_by_id: dict, base_url: str, exploded: bool,
               file_assignments: list | None = None) -> dict:
    """An asset type; ``exploded`` adds the inherited aspects and variables, each with ``_links.origin``."""
    own = row["id"]
    if exploded:
        aspects, variables = graph.members(own)
    else:
        aspects = [(own, a) for a in row["aspects"]]
        variables = [(own, var) for var in row["variables"]]

    def origin(item: dict, source: str) -> dict:
        if source != own:
            return {**item, "_links": {"origin": link(base_url, f"/assettypes/{source}")}}
        return item

    links = {"self": link(base_url, f"/assettypes/{own}")}
    if row["parent_type_id"]:
        links["parent"] = link(base_url, f"/assettypes/{row['parent_type_id']}")
    return {
        "id": own, "tenantId": CORE_TENANT if row["builtin"] else row["tenant_id"], "name": row["name"],
        "description": row["description"], "parentTypeId": row["parent_type_id"],
        "instantiable": row["instantiable"], "scope": row["scope"], "etag": row["etag"],
        "variables": [origin(dict(var), src) for src, var in variables],
        "aspects": [origin({"name": a["name"], "aspectType": aspect_type(aspect_types_by_id[a["aspectTypeId"]],
                                                                          base_url)}, src)
                    for src, a in aspects if a["aspectTypeId"] in aspect_types_by_id],
        "fileAssignments": file_assignments or [], "sharing": {"modes": []}, "_links": links,
    }


def asset(row, base_url: str, *, hierarchy: list[dict], variables: list[dict], aspects: list[dict],
          location=None, file_assignments: list | None = None) -> dict:
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
        "assetId": asset_id,
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
        "location": location if location is not None else row["location"],
        "fileAssignments": file_assignments or [],
        "variables": variables,
        "aspects": aspects,
        "locks": [],
        "hierarchyPath": hierarchy,
        "deleted": None,
        "sharing": {"modes": []},
        "etag": row["etag"],
        "_links": links,
    }


def asset_aspect(asset_id: str, name: str, aspect_type_row, values: dict, base_url: str) -> dict:
    """An item of ``GET /assets/{id}/aspects``: the aspect, its type's variables, static values."""
    static = aspect_type_row["category"] == "static"
    variables = []
    for var in aspect_type_row["variables"]:
        item = dict(var)
        if static:
            item["value"] = values.get(var["name"], var.get("defaultValue"))
        variables.append(item)
    return {
        "aspectTypeId": aspect_type_row["id"], "holderAssetId": asset_id, "name": name,
        "category": aspect_type_row["category"], "description": aspect_type_row["description"],
        "variables": variables,
        "_links": {"asset": link(base_url, f"/assets/{asset_id}"),
                   "aspectType": link(base_url, f"/aspecttypes/{aspect_type_row['id']}")},
    }
