"""Asset Management v3 HTTP routes (base ``/api/assetmanagement/v3``; mindsphere-api.md 2).

Each route parses the request, calls one service function and formats the answer. The request's structure
is the contract's (``spec.py``: checked before a route runs); the rules of the tenant's model live in
``types.py`` and ``service.py``, the filter language in ``filters.py``, paging in ``paging.py``.
"""

from __future__ import annotations

import json_merge_patch
from flask import Blueprint, Response, jsonify, request

from emulator import answers, context, errors, limits
from emulator.assets import files, filters, paging, resources, service, spec, types
from emulator.assets.filters import Field
from emulator.assets.models import aspect_types, asset_types, assets
from emulator.assets.models import files as file_table
from emulator.httpio import MERGE_PATCH_TYPES, json_body
from emulator.runtime import runtime

bp = Blueprint("assets", __name__, url_prefix=resources.BASE)

ASSET_FIELDS = {
    "assetId": Field(assets.c.asset_id), "tenantId": Field(assets.c.tenant_id), "name": Field(assets.c.name),
    "externalId": Field(assets.c.external_id), "timezone": Field(assets.c.timezone),
    "twinType": Field(assets.c.twin_type), "deleted": Field(assets.c.deleted, "time"),
    "parentId": Field(assets.c.parent_id), "typeId": Field(assets.c.type_id),
}
ASSET_SORT = {name: ASSET_FIELDS[name].column for name in spec.ASSET_SORT}
ASPECT_TYPE_FIELDS = {
    "id": Field(aspect_types.c.id), "tenantId": Field(aspect_types.c.tenant_id), "name": Field(aspect_types.c.name),
    "category": Field(aspect_types.c.category), "scope": Field(aspect_types.c.scope),
    "description": Field(aspect_types.c.description),
}
ASPECT_TYPE_SORT = {name: ASPECT_TYPE_FIELDS[name].column for name in spec.ASPECT_TYPE_SORT}
ASSET_TYPE_FIELDS = {
    "id": Field(asset_types.c.id), "name": Field(asset_types.c.name),
    "parentTypeId": Field(asset_types.c.parent_type_id), "instantiable": Field(asset_types.c.instantiable, "bool"),
    "scope": Field(asset_types.c.scope), "description": Field(asset_types.c.description),
}
ASSET_TYPE_SORT = {name: ASSET_TYPE_FIELDS[name].column for name in spec.ASSET_TYPE_SORT}
FILE_FIELDS = {
    "id": Field(file_table.c.id), "name": Field(file_table.c.name), "description": Field(file_table.c.description),
    "scope": Field(file_table.c.scope), "originalFileName": Field(file_table.c.original_file_name),
    "uploaded": Field(file_table.c.uploaded, "time"), "lastModified": Field(file_table.c.last_modified, "time"),
}
FILE_SORT = {name: FILE_FIELDS[name].column for name in spec.FILE_SORT}


def _now() -> float:
    return runtime().clock.time()


def with_etag(body: dict, status: int = 200):
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["ETag"] = f'"{body["etag"]}"'
    return resp


def _flag(name: str) -> bool:
    return request.args.get(name, "").strip().lower() == "true"  # true or false in any case (the contract)


def _list(key: str, table, fields: dict, sortable: dict, tiebreak, render, has_type=None):
    """A page of a collection; ``includeShared`` is accepted, as nothing is shared between tenants."""
    scope = context.scope()
    req = paging.page_request(request.args, sortable)
    condition = filters.to_sql(filters.parse(request.args.get("filter")), fields, has_type)
    rows, total = paging.fetch_page(scope, table, condition, req, sortable, tiebreak)
    items = render(rows)
    return jsonify(paging.envelope(key, items, req, total, context.base_url(), request.path, request.args))


@bp.get("/")
def billboard():
    """Links to the resource collections of the API."""
    base = context.base_url()
    return jsonify({"_links": {name: resources.link(base, path) for name, path in (
        ("self", "/"), ("aspectTypes", "/aspecttypes"), ("assetTypes", "/assettypes"),
        ("assets", "/assets"), ("files", "/files"))}})


# --- aspect types ------------------------------------------------------------------------------------

@bp.get("/aspecttypes")
def list_aspect_types():
    """Aspect types, filtered, sorted and paged: ``_embedded.aspectTypes``."""
    base = context.base_url()
    return _list("aspectTypes", aspect_types, ASPECT_TYPE_FIELDS, ASPECT_TYPE_SORT, aspect_types.c.id,
                 lambda rows: [resources.aspect_type(r, base) for r in rows])


@bp.get("/aspecttypes/<type_id>")
def get_aspect_type(type_id):
    return with_etag(resources.aspect_type(types.get_aspect_type(context.scope(), type_id), context.base_url()))


@bp.put("/aspecttypes/<type_id>")
def put_aspect_type(type_id):
    """Create (201) or update (200, If-Match); ``If-None-Match: *`` makes it create-only."""
    row, created = types.put_aspect_type(context.scope(), type_id, json_body(), request.headers.get("If-Match"),
                                         request.headers.get("If-None-Match"), _now())
    return with_etag(resources.aspect_type(row, context.base_url()), 201 if created else 200)


@bp.patch("/aspecttypes/<type_id>")
def patch_aspect_type(type_id):
    """JSON merge patch; the result must be a valid update (send every existing variable)."""
    patch = json_body(MERGE_PATCH_TYPES)
    scope = context.scope()
    current = types.get_aspect_type(scope, type_id)
    if request.headers.get("If-Match") is None:
        types.expect_etag(current, None, "aspect type")
    merged = json_merge_patch.merge(types.aspect_type_body(current), patch)
    spec.check("AspectTypeInput", merged)
    row, _ = types.put_aspect_type(scope, type_id, merged, request.headers.get("If-Match"), None, _now())
    return with_etag(resources.aspect_type(row, context.base_url()))


def _variables_patched(etag: int):
    """204 with the type's new etag (the API answers no body)."""
    return Response(status=204, headers={"ETag": f'"{etag}"'})


@bp.patch("/aspecttypes/<type_id>/variables")
def patch_aspect_type_variables(type_id):
    return _variables_patched(types.patch_aspect_type_variables(
        context.scope(), type_id, json_body(MERGE_PATCH_TYPES), request.headers.get("If-Match")))


@bp.patch("/assettypes/<type_id>/variables")
def patch_asset_type_variables(type_id):
    return _variables_patched(types.patch_asset_type_variables(
        context.scope(), type_id, json_body(MERGE_PATCH_TYPES), request.headers.get("If-Match")))


@bp.delete("/aspecttypes/<type_id>")
def delete_aspect_type(type_id):
    types.delete_aspect_type(context.scope(), type_id, request.headers.get("If-Match"))
    return "", 204


# --- asset types -------------------------------------------------------------------------------------

def _render_asset_type(row, catalog: types.Catalog, exploded: bool, assignments: files.Assignments) -> dict:
    """Own file assignments; ``exploded`` adds the inherited ones (with ``_links.origin``)."""
    inherited = catalog.graph.ancestors(row["id"]) if exploded else []
    return resources.asset_type(row, catalog.graph, catalog.aspect_types, context.base_url(), exploded,
                                assignments.render(context.base_url(), ("type", row["id"]), inherited))


@bp.get("/assettypes")
def list_asset_types():
    """Asset types (the core types included), filtered, sorted and paged; ``exploded`` adds inherited members."""
    exploded = _flag("exploded")
    catalog = types.catalog(context.scope())  # once per page, not once per type
    assignments = files.assignments(context.scope(), catalog)
    return _list("assetTypes", asset_types, ASSET_TYPE_FIELDS, ASSET_TYPE_SORT, asset_types.c.id,
                 lambda rows: [_render_asset_type(catalog.graph.rows[r["id"]], catalog, exploded, assignments)
                               for r in rows])


@bp.get("/assettypes/<type_id>")
def get_asset_type(type_id):
    return _answer_asset_type(type_id)


def _answer_asset_type(type_id: str, status: int = 200):
    catalog = types.catalog(context.scope())
    row, _ = types.get_asset_type(context.scope(), type_id, catalog.graph)
    return with_etag(_render_asset_type(row, catalog, _flag("exploded"), files.assignments(context.scope(), catalog)),
                     status)


@bp.put("/assettypes/<type_id>")
def put_asset_type(type_id):
    created = types.put_asset_type(context.scope(), type_id, json_body(), request.headers.get("If-Match"),
                                   request.headers.get("If-None-Match"), _now())
    return _answer_asset_type(type_id, 201 if created else 200)


@bp.patch("/assettypes/<type_id>")
def patch_asset_type(type_id):
    patch = json_body(MERGE_PATCH_TYPES)
    scope = context.scope()
    current, _ = types.get_asset_type(scope, type_id)
    if request.headers.get("If-Match") is None:
        types.expect_etag(current, None, "asset type")
    merged = json_merge_patch.merge(types.asset_type_body(current), patch)
    spec.check("AssetTypeInput", merged)
    types.put_asset_type(scope, type_id, merged, request.headers.get("If-Match"), None, _now())
    return _answer_asset_type(type_id)


@bp.delete("/assettypes/<type_id>")
def delete_asset_type(type_id):
    row, _ = types.get_asset_type(context.scope(), type_id)
    types.delete_asset_type(context.scope(), type_id, request.headers.get("If-Match"))
    files.unassign(context.scope(), "type", row["id"])
    return "", 204


def _type_for_assignment(type_id: str):
    row, _ = types.get_asset_type(context.scope(), type_id)
    if row["builtin"]:
        raise errors.Forbidden(f"The core type {row['id']!r} cannot be changed")
    return row


@bp.put("/assettypes/<type_id>/fileAssignments/<key>")
def put_asset_type_file_assignment(type_id, key):
    """Assign a file to the key (inherited by subtypes and assets); 200 with the type."""
    scope, row = context.scope(), _type_for_assignment(type_id)
    body = json_body()
    files.check_assignment(scope, key, body)
    expected = types.expect_etag(row, request.headers.get("If-Match"), "asset type")
    types.update_checked(scope, asset_types, asset_types.c.id, row["id"], expected, "asset type", {})
    files.store_assignment(scope, "type", row["id"], key, body["fileId"])
    return _answer_asset_type(row["id"])


@bp.delete("/assettypes/<type_id>/fileAssignments/<key>")
def delete_asset_type_file_assignment(type_id, key):
    scope, row = context.scope(), _type_for_assignment(type_id)
    files.own_key(scope, "type", row["id"], key, "asset type")
    expected = types.expect_etag(row, request.headers.get("If-Match"), "asset type")
    types.update_checked(scope, asset_types, asset_types.c.id, row["id"], expected, "asset type", {})
    files.unassign(scope, "type", row["id"], key)
    return _answer_asset_type(row["id"])


# --- assets --------------------------------------------------------------------------------------------

class _Renderer:
    """Renders the assets of one request; ancestors shared by a page's assets are read once."""

    def __init__(self):
        self.scope = context.scope()
        self.catalog = types.catalog(self.scope)
        self.graph = self.catalog.graph
        self._rows: dict[str, object] = {}
        self.assignments = files.assignments(self.scope, self.catalog)

    def lookup(self, asset_id: str):
        if asset_id not in self._rows:
            self._rows[asset_id] = self.scope.get(assets, asset_id)
        return self._rows[asset_id]

    def __call__(self, row) -> dict:
        variables, aspects = self.catalog.model(row["type_id"]).render_values(row["variables"], row["aspects"])
        type_id = row["type_id"]
        chain = [type_id, *self.graph.ancestors(type_id)] if type_id in self.graph.rows else []
        return resources.asset(row, context.base_url(), hierarchy=service.hierarchy(self.lookup, row),
                               variables=variables, aspects=aspects,
                               location=service.effective_location(self.lookup, row),
                               file_assignments=self.assignments.render(context.base_url(),
                                                                        ("asset", row["asset_id"]), chain))


@bp.before_request
def _root_only_reads():
    """``/assets/root`` only reads: a change names the root by its id (405 before its body is looked at)."""
    req = context.state().req  # (read through the proxy on every asset request, two attributes cost 4 us)
    if req.method not in context.READ_METHODS and (req.view_args or {}).get("asset_id") == "root":
        raise errors.MethodNotAllowed("/assets/root only answers GET; change the root asset by its id",
                                      headers={"Allow": "GET"})


def _readable(asset_id: str) -> str:
    return context.tenant_row()["root_asset_id"] if asset_id == "root" else asset_id


def _answer_asset(asset_id: str, status: int = 200):
    row = service.get_asset(context.scope(), asset_id)  # first: it brings the model key the renderer's catalogue needs
    return with_etag(_Renderer()(row), status)


@bp.get("/assets")
def list_assets():
    """Assets, filtered (``hasType`` included), sorted and paged: ``_embedded.assets``; a page asked again is kept
    while the store is unchanged (emulator.answers: a grid or a tree polls the same page)."""
    def page():
        render = _Renderer()
        return _list("assets", assets, ASSET_FIELDS, ASSET_SORT, assets.c.asset_id,
                     lambda rows: [render(r) for r in rows], has_type=render.graph.with_subtypes)

    return answers.kept(page)


@bp.post("/assets")
def create_asset():
    asset_id = service.create_asset(context.scope(), json_body(),
                                    default_timezone=context.tenant_row()["default_timezone"], now=_now())
    return _answer_asset(asset_id, 201)


@bp.route("/assets/root", methods=["GET", "OPTIONS"])
def root_asset():
    """The tenant's root asset: ``hierarchyPath`` empty, no parent. ``OPTIONS`` answers for this path alone:
    Flask's own answer would add the methods of ``/assets/<asset_id>``, which refuses them for ``root``."""
    if context.state().req.method == "OPTIONS":
        return Response(status=200, headers={"Allow": "GET, HEAD, OPTIONS"})
    return answers.kept(lambda: _answer_asset(context.tenant_row()["root_asset_id"]))


@bp.get("/assets/<asset_id>")
def get_asset(asset_id):
    return answers.kept(lambda: _answer_asset(asset_id))  # the everyday small read: kept while the store is unchanged


@bp.put("/assets/<asset_id>")
def put_asset(asset_id):
    service.update_asset(context.scope(), asset_id, json_body(), request.headers.get("If-Match"))
    return _answer_asset(asset_id)


@bp.patch("/assets/<asset_id>")
def patch_asset(asset_id):
    service.patch_asset(context.scope(), asset_id, json_body(MERGE_PATCH_TYPES),
                        request.headers.get("If-Match"))
    return _answer_asset(asset_id)


@bp.delete("/assets/<asset_id>")
def delete_asset(asset_id):
    service.delete_asset(context.scope(), asset_id, request.headers.get("If-Match"),
                         context.tenant_row()["root_asset_id"], runtime().registry.asset_tables())
    files.unassign(context.scope(), "asset", asset_id)
    return "", 204


@bp.put("/assets/<asset_id>/fileAssignments/<key>")
def put_asset_file_assignment(asset_id, key):
    """Assign a file to the key (over an inherited one); 200 with the asset."""
    scope = context.scope()
    row = service.get_asset(scope, asset_id)
    body = json_body()
    files.check_assignment(scope, key, body)
    expected = types.expect_etag(row, request.headers.get("If-Match"), "asset")
    types.update_checked(scope, assets, assets.c.asset_id, asset_id, expected, "asset", {})
    files.store_assignment(scope, "asset", asset_id, key, body["fileId"])
    return _answer_asset(asset_id)


@bp.delete("/assets/<asset_id>/fileAssignments/<key>")
def delete_asset_file_assignment(asset_id, key):
    """Remove the asset's own assignment of the key (an inherited one shows again); 200 with the asset."""
    scope = context.scope()
    row = service.get_asset(scope, asset_id)
    files.own_key(scope, "asset", asset_id, key, "asset")
    expected = types.expect_etag(row, request.headers.get("If-Match"), "asset")
    types.update_checked(scope, assets, assets.c.asset_id, asset_id, expected, "asset", {})
    files.unassign(scope, "asset", asset_id, key)
    return _answer_asset(asset_id)


@bp.post("/assets/<asset_id>/move")
def move_asset(asset_id):
    service.move_asset(context.scope(), asset_id, json_body(), request.headers.get("If-Match"),
                       context.tenant_row()["root_asset_id"])
    return _answer_asset(asset_id)


@bp.put("/assets/<asset_id>/location")
def put_location(asset_id):
    service.set_location(context.scope(), asset_id, json_body(), request.headers.get("If-Match"))
    return _answer_asset(asset_id)


@bp.delete("/assets/<asset_id>/location")
def delete_location(asset_id):
    """Removes the asset's own location; the answer shows the location it now inherits."""
    service.delete_location(context.scope(), asset_id, request.headers.get("If-Match"))
    return _answer_asset(asset_id)


def _paged_items(key: str, items: list[dict]):
    req = paging.page_request(request.args, {"name": None}, max_size=limits.AM_MAX_SUB_PAGE_SIZE)
    items = sorted(items, key=lambda item: item["name"], reverse=req.descending)
    page = items[req.page * req.size:(req.page + 1) * req.size]
    return jsonify(paging.envelope(key, page, req, len(items), context.base_url(), request.path, request.args))


@bp.get("/assets/<asset_id>/aspects")
def asset_aspects(asset_id):
    """Every aspect of the asset (static ones with their values), paged: ``_embedded.aspects``."""
    scope = context.scope()
    asset_id = _readable(asset_id)
    row = service.get_asset(scope, asset_id)
    model = types.catalog(scope).model(row["type_id"])
    stored = {a["name"]: {x["name"]: x["value"] for x in a["variables"]} for a in row["aspects"]}
    items = [resources.asset_aspect(asset_id, name, at, stored.get(name, {}), context.base_url())
             for name, at in model.aspects]
    return _paged_items("aspects", items)


@bp.get("/assets/<asset_id>/variables")
def asset_variables(asset_id):
    """The asset type's variables with their values, then every aspect variable: ``_embedded.variables``."""
    scope = context.scope()
    row = service.get_asset(scope, _readable(asset_id))
    model = types.catalog(scope).model(row["type_id"])
    values, _ = model.render_values(row["variables"], row["aspects"])
    by_name = {item["name"]: item["value"] for item in values}
    items = [{**var, "aspectName": None, "value": by_name.get(name)} for name, var in model.variables.items()]
    for aspect_name, at in model.aspects:
        items += [{**var, "aspectName": aspect_name} for var in at["variables"]]
    return _paged_items("variables", items)


# --- files -----------------------------------------------------------------------------------------------

def _answer_file(file_id: str, status: int = 200):
    scope = context.scope()
    resp = with_etag(files.resource(files.get_file(scope, file_id), context.base_url(),
                                    files.is_assigned(scope, file_id)), status)
    if status == 201:
        resp.headers["Location"] = f"{context.base_url()}{resources.BASE}/files/{file_id}"
    return resp


@bp.post("/files")
def create_file():
    """Multipart upload (``file``, ``name``, ``description``, ``scope``): 201 with the metadata."""
    file_id = files.create_file(context.scope(), request.form, request.files.get("file"), _now())
    return _answer_file(file_id, 201)


@bp.get("/files")
def list_files():
    """The tenant's files, filtered, sorted and paged: ``_embedded.files``."""
    base, scope = context.base_url(), context.scope()
    return _list("files", file_table, FILE_FIELDS, FILE_SORT, file_table.c.id,
                 lambda rows: [files.resource(r, base, files.is_assigned(scope, r["id"])) for r in rows])


@bp.get("/files/<file_id>")
def get_file(file_id):
    return _answer_file(file_id)


@bp.get("/files/<file_id>/file")
def download_file(file_id):
    """The bytes as uploaded, with their media type."""
    row = files.get_file(context.scope(), file_id)
    return Response(files.content_of(row), status=200, mimetype=row["media_type"])


@bp.put("/files/<file_id>")
def put_file(file_id):
    files.update_file(context.scope(), file_id, request.form, request.files.get("file"),
                      request.headers.get("If-Match"), _now())
    return _answer_file(file_id)


@bp.delete("/files/<file_id>")
def delete_file(file_id):
    files.delete_file(context.scope(), file_id, request.headers.get("If-Match"))
    return "", 204
