"""Asset Management v3's contract (its OpenAPI fragment): paths, the asset and type shapes, paging parameters.

Written once, beside the routes: the document (``/_emulator/openapi.json``) shows it and every request of these
routes is validated from it (:mod:`emulator.validation`), so the structural rules of the bodies (types,
required properties, names, lengths, enums, bounds) live here and nowhere else; the result of a merge patch is
checked against the same schemas (:func:`check`). What depends on the tenant
(existing types and assets, a value's data type, inheritance) and on several fields at once is checked in
``types.py`` and ``service.py``.
"""

from __future__ import annotations

from emulator import limits, validation
from emulator.assets.validation import DATA_TYPES, INT32
from emulator.spec import (
    ETAG,
    NO_CONTENT,
    array,
    boolean,
    flag,
    header,
    integer,
    json_body,
    make_fragment,
    nullable,
    number,
    obj,
    ok,
    operations,
    param,
    path,
    query,
    ref,
    string,
)

AM = "/api/assetmanagement/v3"
TYPE_ID_PATTERN = r"^[A-Za-z0-9]+\.[A-Za-z0-9_]+$"  # {tenant}.{Name}; core ids resolve case-insensitively
DIRECTION = "([aA][sS][cC]|[dD][eE][sS][cC])"  # sort directions are read case-insensitively (paging.page_request)
# A free text of a body: no control characters but tab, CR and LF; a name is also not blank
_TEXT_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f]"
TEXT_PATTERN = f"^{_TEXT_CHAR}*$"
NAME_TEXT_PATTERN = rf"^{_TEXT_CHAR}*[^\s\x00-\x1f]{_TEXT_CHAR}*$"

LOCATION_TEXT = ("country", "region", "locality", "streetAddress", "postalCode")
LOCATION_DEGREES = {"longitude": 180, "latitude": 90}
TWIN_TYPES = ("performance", "simulation")
ASSET_SORT = ("name", "assetId", "externalId", "typeId", "parentId", "timezone", "twinType")
ASPECT_TYPE_SORT = ("name", "id", "category")
ASSET_TYPE_SORT = ("name", "id", "parentTypeId")
FILE_SORT = ("name", "id", "uploaded", "lastModified")


def text(**kw) -> dict:
    """A free text of an asset management body: no control characters (tab, CR and LF allowed)."""
    return string(pattern=TEXT_PATTERN, **kw)


def asset_name(**kw) -> dict:
    """An asset's name (a pump's too): not blank, no control characters."""
    return string(pattern=NAME_TEXT_PATTERN, maxLength=limits.ASSET_NAME_MAX, **kw)


def sort_pattern(fields) -> str:
    """``field``, ``field,asc|desc`` or a bare ``asc|desc`` (by name); empty means by name ascending."""
    return rf"^\s*({DIRECTION}|({'|'.join(fields)})(\s*,\s*{DIRECTION})?)?\s*$"


def sort_param(fields) -> dict:
    return query("sort", string(pattern=sort_pattern(fields)), f"Sort order, e.g. `name,desc`; fields: "
                 f"{', '.join(fields)}. A bare `asc`/`desc` sorts by name.", example="name,asc")


def paging_params(sort_fields, *, filtered: bool = True) -> list[dict]:
    params = [param("page"), param("size"), sort_param(sort_fields)]
    if filtered:
        params += [param("filter"), param("includeShared")]
    return params


# --- shapes ------------------------------------------------------------------------------------------

def links(*names: str, optional=()) -> dict:
    return obj({name: ref("Link") for name in (*names, *optional)}, names)


def paged(key: str, item: dict) -> dict:
    """Asset Management's HAL list; ``_embedded.<key>`` is empty on an empty page or past the end."""
    return obj({
        "_embedded": obj({key: array(item)}, [key]),
        "page": ref("Page"),
        "_links": links("self", "first", "last", optional=("prev", "next")),
    }, ["_embedded", "page", "_links"])


def file_upload(*, scope_required: bool) -> dict:
    """``multipart/form-data``: the bytes and their name (checked by the route: multipart is not JSON)."""
    fields = {"file": string(description=f"The bytes, at most {limits.AM_FILE_MAX_BYTES} (5 MB)"),
              "name": string(pattern=limits.AM_FILE_NAME_PATTERN),
              "description": string(maxLength=255),
              "scope": string(pattern=r"^([Pp][Uu][Bb][Ll][Ii][Cc]|[Pp][Rr][Ii][Vv][Aa][Tt][Ee])$",
                              description="public or private (any case; answered in lower case)")}
    required = ["file", "name", *(["scope"] if scope_required else [])]
    return json_body(obj(fields, required, closed=False), media="multipart/form-data")


def file_metadata() -> dict:
    return obj({
        "id": string(), "name": string(), "originalFileName": nullable(string()), "description": nullable(string()),
        "tenantId": string(), "subTenant": nullable(string()), "uploaded": string(description="A UTC time"),
        "lastModified": string(description="A UTC time"), "isAssigned": boolean(),
        "scope": string(enum=["public", "private"]), "etag": integer(minimum=0),
        "_links": links("self", "download"),
    }, "all")


def variable_changes(*, aspect_type: bool) -> dict:
    """``PATCH .../variables``: a merge patch keyed by variable name (VariableUpdateMap)."""
    change = {
        "name": string(pattern=limits.NAME_PATTERN, description="A new name"),
        "unit": nullable(text(maxLength=32)),
        "length": nullable(integer(minimum=1, maximum=limits.BIG_STRING_MAX_LENGTH,
                                   description="A string's length may only grow")),
        "defaultValue": {"anyOf": [string(nullable=True), number(), boolean()]},
    }
    if aspect_type:  # an unknown name adds a variable: its whole definition
        change |= {"dataType": string(enum=list(DATA_TYPES)), "searchable": nullable(boolean()),
                   "qualityCode": nullable(boolean())}
        value = nullable(obj(change, closed=False, description="The changes of a variable; a new variable's "
                                                               "definition (with dataType); null deletes it"))
    else:
        value = obj(change, closed=False, description="The changes of an existing variable")
    return obj({}, closed=False, additionalProperties=value,
               description="Variable name -> its changes (application/merge-patch+json)")


def variable_definition(*, quality_code: bool, request: bool, extra: dict | None = None, extra_required=(),
                        **kw) -> dict:
    """A variable of an aspect type (``quality_code``) or of an asset type, as sent or as answered;
    ``extra`` adds what a listing puts next to the definition (``value``, ``aspectName``)."""
    if request:  # unknown properties are ignored, so the request shape stays open
        props = {
            "name": string(pattern=limits.NAME_PATTERN, description="Not a reserved word (id, name, etag, ...)"),
            "dataType": string(enum=list(DATA_TYPES)),
            "unit": nullable(text(maxLength=32)),
            "searchable": nullable(boolean()),
            "length": nullable(integer(minimum=1, maximum=limits.BIG_STRING_MAX_LENGTH,
                                       description=f"STRING and BIG_STRING only: STRING at most "
                                                   f"{limits.STRING_MAX_LENGTH} (the default)")),
            "defaultValue": {"anyOf": [string(nullable=True), number(), boolean()],
                             "description": "Static variables only; a string (or JSON scalar) of the data type"},
        }
        if quality_code:
            props["qualityCode"] = nullable(boolean())
        return obj(props, ["name", "dataType"], closed=False)
    props = {"name": string(), "dataType": string(enum=list(DATA_TYPES)), "unit": nullable(string()),
             "searchable": boolean(), "length": nullable(integer()), "defaultValue": nullable(string())}
    required = list(props)
    if quality_code:
        props["qualityCode"] = boolean()
        required.append("qualityCode")
    props["_links"] = links(optional=("origin",))  # exploded asset types mark inherited members
    return obj({**props, **(extra or {})}, [*required, *extra_required], **kw)


def name_value(*, request: bool) -> dict:
    if request:
        return obj({"name": string(), "value": {"anyOf": [string(nullable=True), number(), boolean()]}}, ["name"],
                   closed=False, description="A static value: a string (or JSON scalar) of the variable's data type")
    return obj({"name": string(), "value": nullable(string())}, "all")


def static_aspects(*, request: bool) -> dict:
    return array(obj({"name": string(), "variables": array(name_value(request=request))},
                     ["name"] if request else "all", closed=not request))


def location(*, request: bool) -> dict:
    field = nullable(text(maxLength=255)) if request else nullable(string())
    props = {key: field for key in LOCATION_TEXT}
    props.update({key: nullable(number(minimum=-bound, maximum=bound)) for key, bound in LOCATION_DEGREES.items()})
    return obj(props, () if request else "all")


def asset_body(*, create: bool) -> dict:
    """What POST /assets takes (``create``) and what PUT takes (and a merge patch applies to)."""
    props = {
        "name": asset_name(description="Not blank; no control characters"),
        "externalId": nullable(text(maxLength=limits.EXTERNAL_ID_MAX)),
        "description": nullable(text(maxLength=limits.DESCRIPTION_MAX)),
        "location": nullable(location(request=True)),
        "variables": nullable(array(name_value(request=True))),
        "aspects": nullable(static_aspects(request=True)),
        "typeId": string(description="An instantiable asset type") if create else
        nullable(string(description="Must not change")),
        "parentId": nullable(string(description="An existing asset")) if create else
        nullable(string(description="Must not change (POST /assets/{asset_id}/move moves an asset)")),
        "timezone": nullable(string(description="An IANA zone name (not at a :15/:45 offset); fixed after "
                                                "creation; default Europe/Berlin")),
        "twinType": nullable(string(enum=list(TWIN_TYPES), description="Fixed after creation")),
    }
    return obj(props, ["name", "typeId", "parentId"] if create else ["name"], closed=False)


def asset_resource() -> dict:
    return obj({
        "assetId": string(pattern=limits.ASSET_ID_PATTERN), "tenantId": string(), "name": string(),
        "externalId": nullable(string()), "t2Tenant": nullable(string()), "subTenant": nullable(string()),
        "description": nullable(string()), "timezone": string(), "parentId": nullable(string()),
        "typeId": string(), "twinType": string(enum=list(TWIN_TYPES)),
        "location": nullable(location(request=False)),
        "fileAssignments": array(obj({}, closed=False)),
        "variables": array(name_value(request=False)),
        "aspects": static_aspects(request=False),
        "locks": array(obj({}, closed=False)),
        "hierarchyPath": array(obj({"assetId": string(), "name": string()}, "all"),
                               description="The ancestors, root first; empty for the root"),
        "deleted": nullable(string(description="Always null: deletes are hard")),
        "sharing": ref("Sharing"),
        "etag": integer(minimum=0),
        "_links": links("self", "aspects", "variables", "location", "children", optional=("parent",)),
    }, "all")


def aspect_type_resource() -> dict:
    return obj({
        "id": string(), "tenantId": string(), "name": string(), "category": string(enum=["static", "dynamic"]),
        "scope": string(enum=["private", "public"]), "description": nullable(string()),
        "variables": array(variable_definition(quality_code=True, request=False)),
        "etag": integer(minimum=0), "sharing": ref("Sharing"), "_links": links("self"),
    }, "all")


def asset_type_resource() -> dict:
    aspect = obj({"name": string(), "aspectType": ref("AspectTypeResource"),
                  "_links": links(optional=("origin",))}, ["name", "aspectType"])
    return obj({
        "id": string(), "tenantId": string(), "name": string(), "description": nullable(string()),
        "parentTypeId": nullable(string()), "instantiable": boolean(), "scope": string(enum=["private", "public"]),
        "etag": integer(minimum=0), "variables": array(variable_definition(quality_code=False, request=False)),
        "aspects": array(aspect), "fileAssignments": array(obj({}, closed=False)), "sharing": ref("Sharing"),
        "_links": links("self", optional=("parent",)),
    }, "all")


def asset_aspect() -> dict:
    """An item of ``GET /assets/{id}/aspects``; static aspects' variables carry their ``value``."""
    variable = variable_definition(quality_code=True, request=False, extra={"value": nullable(string())})
    return obj({
        "aspectTypeId": string(), "holderAssetId": string(), "name": string(),
        "category": string(enum=["static", "dynamic"]), "description": nullable(string()),
        "variables": array(variable), "_links": links("asset", "aspectType"),
    }, "all")


def aspect_type_body() -> dict:
    return obj({
        "name": string(pattern=limits.TYPE_NAME_PATTERN, description="Equal to the id's part after `{tenant}.`"),
        "category": string(enum=["static", "dynamic"], description="Fixed after creation"),
        "scope": nullable(string(enum=["private"])),
        "description": nullable(text(maxLength=limits.DESCRIPTION_MAX)),
        "variables": array(variable_definition(quality_code=True, request=True),
                           description="An update must send every existing variable"),
    }, ["name", "category", "variables"], closed=False)


def asset_type_body() -> dict:
    aspect = obj({"name": string(pattern=limits.NAME_PATTERN), "aspectTypeId": string()}, "all", closed=False)
    return obj({
        "name": string(pattern=limits.TYPE_NAME_PATTERN, description="Equal to the id's part after `{tenant}.`"),
        "description": nullable(text(maxLength=limits.DESCRIPTION_MAX)),
        "parentTypeId": string(description="An existing asset type; fixed after creation"),
        "instantiable": nullable(boolean(description="Default true; may only turn from false to true")),
        "scope": nullable(string(enum=["private"])),
        "aspects": nullable(array(aspect)),
        "variables": nullable(array(variable_definition(quality_code=False, request=True))),
    }, ["name", "parentTypeId"], closed=False)


def paths() -> dict:
    tag = "Asset Management v3"
    asset_id, type_id, if_match = param("assetId"), param("typeId"), param("ifMatch")
    file_id = param("fileId")
    file_key = path("key", string(maxLength=128), "The assignment's key, e.g. `logo_small`")
    assignment = obj({"fileId": string(description="The assigned file's id")}, ["fileId"], closed=False)
    type_ok = ok("The asset type", ref("AssetTypeResource"), ETAG)
    asset_ok = ok("The asset", ref("AssetResource"), ETAG)
    op = operations("assets", tag, "core")

    def type_ops(name: str, kind: str, schema: str, *, exploded: bool, delete_errors: tuple, delete_note: str):
        """The four operations of ``.../{type_id}``; ``name`` is the endpoints' suffix (``get_<name>``)."""
        flags = [param("exploded")] if exploded else []  # a bad flag value answers 400
        answer = ok(f"The {kind}", ref(f"{schema}Resource"), ETAG)
        merge_patch = json_body(obj({}, closed=False, description=f"Merged into the {kind}'s update representation"),
                                media="application/merge-patch+json")
        return {
            "get": op(f"get_{name}", f"One {kind}", {"200": answer}, 404, *((400,) if exploded else ()),
                      params=[type_id, *flags]),
            "put": op(f"put_{name}", f"Create (201) or update (200, If-Match) an {kind}",
                      {"200": answer, "201": ok(f"The {kind}, created", ref(f"{schema}Resource"), ETAG)},
                      400, 412, 413, 415,
                      params=[type_id, *flags, param("ifMatchCreate"), param("ifNoneMatch")],
                      body=json_body(ref(f"{schema}Input"))),
            "patch": op(f"patch_{name}", f"JSON merge patch of an {kind} (the result must be a valid update)",
                        {"200": answer}, 400, 404, 412, 413, 415, params=[type_id, *flags, if_match],
                        body=merge_patch),
            "delete": op(f"delete_{name}", f"Delete an unused {kind}", {"204": NO_CONTENT}, *delete_errors,
                         params=[type_id, if_match], description=delete_note),
        }

    return {
        f"{AM}/": {"get": op("billboard", "Links to the collections", {"200": ok("Links", obj({"_links": links(
            "self", "aspectTypes", "assetTypes", "assets", "files")}, "all"))})},
        f"{AM}/aspecttypes": {"get": op("list_aspect_types", "Aspect types, filtered, sorted and paged", {
            "200": ok("A page of aspect types", paged("aspectTypes", ref("AspectTypeResource")))}, 400,
            params=paging_params(ASPECT_TYPE_SORT))},
        f"{AM}/aspecttypes/{{type_id}}": type_ops(
            "aspect_type", "aspect type", "AspectType", exploded=False, delete_errors=(400, 404, 409, 412),
            delete_note="409 while an asset type uses it"),
        f"{AM}/assets/{{asset_id}}/fileAssignments/{{key}}": {
            "put": op("put_asset_file_assignment", "Assign a file to a key of the asset", {"200": asset_ok},
                      400, 404, 412, 415, params=[asset_id, file_key, if_match], body=json_body(assignment)),
            "delete": op("delete_asset_file_assignment", "Remove the asset's assignment of a key",
                         {"200": asset_ok}, 400, 404, 412, params=[asset_id, file_key, if_match]),
        },
        f"{AM}/assettypes/{{type_id}}/fileAssignments/{{key}}": {
            "put": op("put_asset_type_file_assignment", "Assign a file to a key of the asset type",
                      {"200": type_ok}, 400, 403, 404, 412, 415, params=[type_id, file_key, if_match],
                      body=json_body(assignment)),
            "delete": op("delete_asset_type_file_assignment", "Remove the asset type's assignment of a key",
                         {"200": type_ok}, 400, 403, 404, 412, params=[type_id, file_key, if_match]),
        },
        f"{AM}/files": {
            "get": op("list_files", "The tenant's files, filtered, sorted and paged", {
                "200": ok("A page of files", paged("files", ref("FileMetadataResource")))}, 400,
                params=paging_params(FILE_SORT)),
            "post": op("create_file", "Upload a file (multipart: file, name, description, scope)",
                       {"201": ok("The file's metadata", ref("FileMetadataResource"), ETAG)}, 400, 413,
                       body=file_upload(scope_required=False)),
        },
        f"{AM}/files/{{file_id}}": {
            "get": op("get_file", "A file's metadata", {"200": ok("The metadata", ref("FileMetadataResource"),
                                                                  ETAG)}, 404, params=[file_id]),
            "put": op("put_file", "Replace a file (multipart; scope required)",
                      {"200": ok("The metadata", ref("FileMetadataResource"), ETAG)}, 400, 404, 412, 413,
                      params=[file_id, if_match], body=file_upload(scope_required=True)),
            "delete": op("delete_file", "Delete a file", {"204": NO_CONTENT}, 400, 404, 412,
                         params=[file_id, if_match]),
        },
        f"{AM}/files/{{file_id}}/file": {"get": op(
            "download_file", "The file's bytes, with the media type it was uploaded with",
            {"200": ok("The bytes", string(description="The bytes as uploaded"), media="application/octet-stream")},
            404, params=[file_id])},
        f"{AM}/aspecttypes/{{type_id}}/variables": {"patch": op(
            "patch_aspect_type_variables", "Merge patch of an aspect type's variables by name",
            {"204": ok("Done; the new etag in ETag", headers=ETAG)}, 400, 404, 409, 412, 415,
            params=[type_id, if_match], body=json_body(variable_changes(aspect_type=True),
                                                       media="application/merge-patch+json"),
            description="Renames or changes a variable's unit, length (grow only) or default; null deletes "
                        "it; an unknown name adds one. Renaming or deleting while an asset type uses the "
                        "aspect type: 409")},
        f"{AM}/assettypes/{{type_id}}/variables": {"patch": op(
            "patch_asset_type_variables", "Merge patch of an asset type's own variables by name",
            {"204": ok("Done; the new etag in ETag", headers=ETAG)}, 400, 403, 404, 409, 412, 415,
            params=[type_id, if_match], body=json_body(variable_changes(aspect_type=False),
                                                       media="application/merge-patch+json"),
            description="Renames or changes a variable's unit, length (grow only) or default; variables "
                        "cannot be added or deleted here. Renaming while assets use the type: 409")},
        f"{AM}/assettypes": {"get": op("list_asset_types", "Asset types (core types included), filtered, sorted "
                                       "and paged", {"200": ok("A page of asset types",
                                                               paged("assetTypes", ref("AssetTypeResource")))},
                                       400, params=[*paging_params(ASSET_TYPE_SORT), param("exploded")])},
        f"{AM}/assettypes/{{type_id}}": type_ops(
            "asset_type", "asset type", "AssetType", exploded=True, delete_errors=(400, 403, 404, 409, 412),
            delete_note="403 for a built-in (core) type; 409 while a child type or an asset uses it"),
        f"{AM}/assets": {
            "get": op("list_assets", "Assets, filtered (hasType included), sorted and paged", {
                "200": ok("A page of assets", paged("assets", ref("AssetResource")))}, 400,
                params=paging_params(ASSET_SORT)),
            "post": op("create_asset", "Create an asset", {"201": ok("The asset", ref("AssetResource"), ETAG)},
                       400, 413, 415, body=json_body(ref("AssetInput"))),
        },
        f"{AM}/assets/root": {"get": op("root_asset", "The tenant's root asset", {"200": asset_ok})},
        f"{AM}/assets/{{asset_id}}": {
            "get": op("get_asset", "One asset", {"200": asset_ok}, 404, params=[asset_id]),
            "put": op("put_asset", "Update an asset (name, externalId, description, location, values)",
                      {"200": asset_ok}, 400, 404, 412, 413, 415, params=[asset_id, if_match],
                      body=json_body(ref("AssetUpdate"))),
            "patch": op("patch_asset", "JSON merge patch of an asset, then the PUT rules", {"200": asset_ok},
                        400, 404, 412, 413, 415, params=[asset_id, if_match],
                        body=json_body(obj({}, closed=False), media="application/merge-patch+json")),
            "delete": op("delete_asset", "Delete an asset without children", {"204": NO_CONTENT},
                         400, 404, 409, 412, params=[asset_id, if_match],
                         description="The root asset cannot be deleted (400); an asset with children: 409"),
        },
        f"{AM}/assets/{{asset_id}}/move": {"post": op(
            "move_asset", "Move an asset below another parent (no cycles; not the root)", {"200": asset_ok},
            400, 404, 412, 413, 415, params=[asset_id, if_match],
            body=json_body(obj({"newParentId": string(minLength=1)}, "all", closed=False)))},
        f"{AM}/assets/{{asset_id}}/location": {
            "put": op("put_location", "Set the asset's own location", {"200": asset_ok}, 400, 404, 412, 413, 415,
                      params=[asset_id, if_match], body=json_body(ref("LocationInput"))),
            "delete": op("delete_location", "Remove the asset's own location (it then inherits one)",
                         {"200": asset_ok}, 400, 404, 412, params=[asset_id, if_match]),
        },
        f"{AM}/assets/{{asset_id}}/aspects": {"get": op(
            "asset_aspects", "Every aspect of the asset, static values filled in, paged",
            {"200": ok("A page of aspects", paged("aspects", ref("AssetAspect")))},
            400, 404, params=[asset_id, *paging_params(("name",), filtered=False)])},
        f"{AM}/assets/{{asset_id}}/variables": {"get": op(
            "asset_variables", "The asset type's variables with values, then every aspect's variables, paged",
            {"200": ok("A page of variables", paged("variables", ref("AssetVariable")))},
            400, 404, params=[asset_id, *paging_params(("name",), filtered=False)])},
    }


def schemas() -> dict:
    return {
        "Link": obj({"href": string()}, "all"),
        "Page": obj({"size": integer(), "totalElements": integer(minimum=0), "totalPages": integer(minimum=0),
                     "number": integer(minimum=0)}, "all"),
        "Sharing": obj({"modes": array(string())}, "all"),
        "LocationInput": location(request=True),
        "AssetResource": asset_resource(),
        "AssetInput": asset_body(create=True),
        "AssetUpdate": asset_body(create=False),
        "AspectTypeResource": aspect_type_resource(),
        "AspectTypeInput": aspect_type_body(),
        "AssetTypeResource": asset_type_resource(),
        "AssetTypeInput": asset_type_body(),
        "FileMetadataResource": file_metadata(),
        "AssetAspect": asset_aspect(),
        "AssetVariable": variable_definition(
            quality_code=False, request=False, extra_required=("aspectName",),
            extra={"qualityCode": boolean(description="Aspect variables only"), "aspectName": nullable(string()),
                   "value": nullable(string(description="The asset type's own variables only"))},
            description="An asset type variable (aspectName null, with its value), or an aspect's variable"),
    }


def parameters() -> dict:
    """Paging, flags, ids and preconditions; ``assetId`` is also the time series' and aggregates' path parameter."""
    return {
        "page": query("page", integer(default=0, minimum=INT32[0], maximum=INT32[1]),
                      "Page number, 0-based (a negative page means 0; a 32-bit integer, as Spring reads it)"),
        "size": query("size", integer(default=limits.AM_DEFAULT_PAGE_SIZE, minimum=INT32[0], maximum=INT32[1]),
                      f"Page size; a larger one is lowered to {limits.AM_MAX_PAGE_SIZE} (assets, asset and "
                      f"aspect types) or {limits.AM_MAX_SUB_PAGE_SIZE} (an asset's aspects and variables), "
                      f"as `page.size` shows; below 1 means {limits.AM_DEFAULT_PAGE_SIZE}"),
        "filter": {"name": "filter", "in": "query", "required": False,
                   "description": f"A JSON object, URL-encoded (at most {limits.FILTER_MAX_CHARS} characters): "
                                  "eq, in, startsWith, endsWith, contains, before, after, between, not, and, "
                                  "or, hasType; unknown fields are ignored",
                   "content": {"application/json": {"schema": obj({}, closed=False),
                                                    "example": {"name": {"startsWith": "Pump"}}}}},
        "includeShared": query("includeShared", flag(), "Accepted; nothing is shared between tenants"),
        "exploded": query("exploded", flag(), "`true` adds the inherited aspects and variables"),
        "assetId": path("asset_id", string(pattern=limits.ASSET_ID_PATTERN), "An asset id"),
        "fileId": path("file_id", string(pattern=r"^[0-9a-fA-F]{32}$"), "A file id (32 hex characters)"),
        "typeId": path("type_id", string(pattern=TYPE_ID_PATTERN, maxLength=128), "`{tenant}.{Name}`"),
        "ifMatch": header("If-Match", string(pattern=r'^(W/)?"?\d{1,10}"?$'),
                          "The current etag (`3` or `\"3\"`); missing: 400, stale: 412", required=True),
        "ifMatchCreate": header("If-Match", string(pattern=r'^(W/)?"?\d{1,10}"?$'),
                                "Required to update an existing type; must be absent to create one"),
        "ifNoneMatch": header("If-None-Match", string(), "`*`: create only (412 if the type exists)"),
    }


def pattern_texts() -> dict:
    sorts = {sort_pattern(fields): f"must be a field ({', '.join(fields)}) with ,asc or ,desc, or a bare asc or desc"
             for fields in (ASSET_SORT, ASPECT_TYPE_SORT, ASSET_TYPE_SORT, ("name",))}
    return {limits.NAME_PATTERN: "must start with a letter and hold letters, digits, _ (at most 64)",
            limits.TYPE_NAME_PATTERN: "must hold 1-128 letters, digits and _",
            TEXT_PATTERN: "must not contain control characters",
            NAME_TEXT_PATTERN: "is required: not blank, and without control characters", **sorts}


def fragment(admin_token: bool = False) -> dict:
    """Asset Management's part of the document (the same with or without an admin token)."""
    return make_fragment(paths(), schemas(), parameters(), pattern_texts=pattern_texts())


check = validation.DocumentChecks(schemas, pattern_texts())
