"""``GET /_emulator/openapi.json``: an OpenAPI 3.0 document of every route the emulator serves.

Why it exists: clients and tests should not have to read the README to know the emulator's shapes,
and a property-based tester (schemathesis) can only probe what is described accurately. So the
document describes what *this* emulator does (its paths, parameter constraints, bodies, status
codes and each API's error envelope), not the whole MindSphere API; ``shared/reference/
contract.openapi.yaml`` was the starting point for the shapes.

Why Python data rather than a YAML file: enums and limits come from the modules that enforce them
(``limits``, ``intervals.UNITS``, ``clock.MODES``, ``faults.METHODS``, ...), so the document cannot
drift from a constant; the small helpers below build the shapes that repeat (error responses,
paging envelopes, the asset). ``tests/test_openapi.py`` checks the document against the Flask URL
map both ways and validates real answers against it.

The route lives in its own blueprint, registered in ``emulator/app.py``, so that it is open like
``/_emulator/health`` even when an admin token guards the rest of the control plane.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from emulator import __version__, limits
from emulator.aggregates.intervals import UNITS, VALUES
from emulator.aggregates.query import PUBLIC_FIELDS
from emulator.assets.paging import INT32
from emulator.assets.validation import DATA_TYPES
from emulator.clock import MAX_SPEED, MODES, STATE_RANGE
from emulator.control import snapshots
from emulator.control.faults import MAX_DELAY_MS, METHODS
from emulator.control.journal import MAX_LIMIT as JOURNAL_MAX_LIMIT
from emulator.odata import model as odata_model
from emulator.odata.contracts import EMAIL, NAME, VERSION
from emulator.odata.query import MAX_INTEGER as ODATA_MAX_INTEGER
from emulator.odata.query import NOT_IMPLEMENTED, STRING_FUNCTIONS
from emulator.odata.routes import JSON_TYPE
from emulator.registry import load as load_registry
from emulator.runtime import runtime
from emulator.store.models import CORE_TENANT_TABLES, SCHEMA_VERSION

bp = Blueprint("openapi", __name__, url_prefix="/_emulator")

OPENAPI_VERSION = "3.0.3"
AM = "/api/assetmanagement/v3"
TS = "/api/iottimeseries/v3"
AGG = "/api/iottsaggregates"

# What emulator.timeseries.records.parse_instant takes (JSON Schema patterns take no flags, hence [Tt] and [Zz]):
# a real calendar day of the years 1970-8999 (records.TIME_YEARS; 29 February in leap years only), hours 00-23,
# minutes and seconds 00-59, a zone offset below 24 hours; a day without a clock may end in Z, not in an offset.
_YEAR = r"(19[7-9][0-9]|[2-8][0-9]{3})"
_MONTH_DAY = r"((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
_LEAP_DAY = r"(19(7[26]|8[048]|9[26])|[2-8][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[357][26])00)-02-29"
_DAY = f"({_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})"
_CLOCK = r"[Tt]([01][0-9]|2[0-3])(:[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?)?"
_ZONE = r"([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)"
TIME_PATTERN = f"^{_DAY}({_CLOCK}{_ZONE}?|[Zz])?$"  # query bounds: a time without a zone is UTC
ZONED_TIME_PATTERN = f"^{_DAY}({_CLOCK}{_ZONE}|[Zz])$"  # record times must carry their zone
TYPE_ID_PATTERN = r"^[A-Za-z0-9]+\.[A-Za-z0-9_]+$"  # {tenant}.{Name}; core ids resolve case-insensitively
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"  # variables and aspects (emulator.assets.validation)
TYPE_NAME_PATTERN = r"^[A-Za-z0-9_]{1,128}$"
CLIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"  # emulator.store.tenants
TTM_APP_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"  # emulator.auth.routes
TTM_APP_VERSION = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$"
DIRECTION = "([aA][sS][cC]|[dD][eE][sS][cC])"  # sort directions are read case-insensitively
# emulator.assets.validation.optional_str / required_str: no control characters but tab, CR and LF; a required
# text (a name) is also not blank
_TEXT_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f]"
TEXT_PATTERN = f"^{_TEXT_CHAR}*$"
NAME_TEXT_PATTERN = rf"^{_TEXT_CHAR}*[^\s\x00-\x1f]{_TEXT_CHAR}*$"
NO_NUL_PATTERN = r"^[^\x00]*$"

ASSET_SORT = ("name", "assetId", "externalId", "typeId", "parentId", "timezone", "twinType")
ASPECT_TYPE_SORT = ("name", "id", "category")
ASSET_TYPE_SORT = ("name", "id", "parentTypeId")


def _registry():
    """The registry of this installation (the document is also built outside a request, by the schema fuzz)."""
    return load_registry()


# --- schema helpers ------------------------------------------------------------------------------------

def ref(name: str, kind: str = "schemas") -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def param(name: str) -> dict:
    return ref(name, "parameters")


def string(**kw) -> dict:
    return {"type": "string", **kw}


def integer(**kw) -> dict:
    return {"type": "integer", **kw}


def number(**kw) -> dict:
    return {"type": "number", **kw}


def boolean(**kw) -> dict:
    return {"type": "boolean", **kw}


def flag(**kw) -> dict:
    """A boolean query parameter as the emulator reads it: true or false in any case, empty for false."""
    return string(pattern=r"^\s*([tT][rR][uU][eE]|[fF][aA][lL][sS][eE])?\s*$", example="true", **kw)


def text(**kw) -> dict:
    """A free text of an asset management body: no control characters (tab, CR and LF allowed)."""
    return string(pattern=TEXT_PATTERN, **kw)


def array(items: dict, **kw) -> dict:
    return {"type": "array", "items": items, **kw}


def nullable(schema: dict) -> dict:
    """OpenAPI 3.0's null: ``nullable`` next to a ``type``; an ``enum`` must list null itself (3.0.3).

    Not for a ``$ref``: a referenced schema's constraints would still refuse null, so nullable objects
    are built inline from the same helper function as their component."""
    if "$ref" in schema or "type" not in schema:
        raise ValueError(f"nullable needs an inline schema with a type, not {schema}")
    out = {**schema, "nullable": True}
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def obj(properties: dict, required=(), *, closed: bool = True, **kw) -> dict:
    """An object. ``closed`` (``additionalProperties: false``) where the emulator answers exactly these keys
    or refuses others; open where it ignores unknown keys or the keys are data (record variables)."""
    out = {"type": "object", "properties": properties}
    if required == "all":
        required = list(properties)
    if required:
        out["required"] = list(required)
    if closed:
        out["additionalProperties"] = False
    return {**out, **kw}


def any_value(description: str = "") -> dict:
    """Any JSON value (OpenAPI 3.0 has no ``type: null``; an empty schema takes everything)."""
    return {"description": description} if description else {}


def json_body(schema: dict, *, required: bool = True, media: str = "application/json", description: str = ""):
    body = {"required": required, "content": {media: {"schema": schema}}}
    if description:
        body["description"] = description
    return body


# --- responses -----------------------------------------------------------------------------------------

ENVELOPES = {"core": "CoreErrors", "timeseries": "TimeSeriesError", "oauth": "OAuthError", "odata": "ODataError"}

STATUS_TEXT = {
    400: "Invalid request: a parameter, header or body property the emulator refuses",
    401: "Missing or invalid credentials",
    403: "The credentials lack the scope (or tenant) this call needs",
    404: "The resource does not exist (in the caller's tenant)",
    405: "The method is not allowed here (see Allow)",
    406: "The Accept header excludes the only media type this resource is served in",
    409: "Conflict with the current state",
    412: "If-Match does not match the current etag (or If-None-Match: * and the resource exists)",
    413: "The request body is too large",
    415: "The request body has the wrong media type",
    429: "The tenant's rate limit is spent (see Retry-After)",
    501: "A request the service understands but does not implement",
}

DEFAULT_ERROR_TEXT = ("Any other error, in this API's envelope: an injected fault (any 4xx/5xx; a fault rule may "
                      "also answer with a body of its own), 503 when a change could not be stored, 500 on an "
                      "emulator bug")


def error(envelope: str, description: str, headers: dict | None = None) -> dict:
    out = {"description": description,
           "content": {"application/json": {"schema": ref(ENVELOPES[envelope])}}}
    if envelope == "odata":  # emulator.errors.render: every OData error names the protocol version
        headers = {**(headers or {}), "OData-Version": ref("ODataVersion", "headers")}
    if headers:
        out["headers"] = headers
    return out


def errors(envelope: str, *statuses: int, notes: dict | None = None) -> dict:
    """Error responses of one operation in its API's envelope, plus ``default`` for injected faults."""
    notes = notes or {}
    out = {}
    for status in sorted(statuses):
        headers = None
        if status == 401:
            headers = {"WWW-Authenticate": ref("WWWAuthenticate", "headers")}
        elif status == 429:
            headers = {"Retry-After": ref("RetryAfter", "headers")}
        elif status == 405:
            headers = {"Allow": ref("Allow", "headers")}
        out[str(status)] = error(envelope, notes[status] if status in notes else STATUS_TEXT[status], headers)
    out["default"] = error(envelope, DEFAULT_ERROR_TEXT)
    return out


def ok(description: str, schema: dict | None = None, headers: dict | None = None,
       media: str = "application/json") -> dict:
    out: dict = {"description": description}
    if schema is not None:
        out["content"] = {media: {"schema": schema}}
    if headers:
        out["headers"] = headers
    return out


NO_CONTENT = {"description": "Done; no body"}
ETAG = {"ETag": ref("ETag", "headers")}
NO_STORE = {"Cache-Control": ref("CacheControl", "headers")}


def operation(endpoint: str, summary: str, responses: dict, *, tag: str, security: list, params=(),
              body: dict | None = None, description: str = "") -> dict:
    """One operation; ``operationId`` is the Flask endpoint, so a reader finds the route function."""
    out = {"operationId": endpoint, "summary": summary, "tags": [tag], "security": security,
           "responses": responses}
    if description:
        out["description"] = description
    if params:
        out["parameters"] = list(params)
    if body is not None:
        out["requestBody"] = body
    return out


# --- parameters ----------------------------------------------------------------------------------------

def no_nul(schema: dict) -> dict:
    """A free text of a path or query: emulator.middleware refuses a NUL character (%00) there, for every route."""
    if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
        return {**schema, "pattern": NO_NUL_PATTERN}
    return schema


def query(name: str, schema: dict, description: str = "", *, required: bool = False, empty_ok: bool | None = None,
          **kw) -> dict:
    """A query parameter; an optional one given empty (``?from=``) is read as absent unless ``empty_ok`` is
    False (the few that refuse an empty value)."""
    out = {"name": name, "in": "query", "required": required, "schema": no_nul(schema)}
    if not required if empty_ok is None else empty_ok:
        out["allowEmptyValue"] = True
    if description:
        out["description"] = description
    return {**out, **kw}


def path(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": no_nul(schema), "description": description}


def header(name: str, schema: dict, description: str, *, required: bool = False) -> dict:
    return {"name": name, "in": "header", "required": required, "schema": schema, "description": description}


def sort_param(fields) -> dict:
    """``field``, ``field,asc|desc`` or a bare ``asc|desc`` (by name); empty means by name ascending."""
    pattern = rf"^\s*({DIRECTION}|({'|'.join(fields)})(\s*,\s*{DIRECTION})?)?\s*$"
    return query("sort", string(pattern=pattern), f"Sort order, e.g. `name,desc`; fields: {', '.join(fields)}. "
                 "A bare `asc`/`desc` sorts by name.", example="name,asc")


def paging_params(sort_fields, *, filtered: bool = True) -> list[dict]:
    params = [param("page"), param("size"), sort_param(sort_fields)]
    if filtered:
        params += [param("filter"), param("includeShared")]
    return params


def time_query(name: str, description: str, *, required: bool = False) -> dict:
    return query(name, string(pattern=TIME_PATTERN), description, required=required,
                 example="2024-01-01T00:00:00.000Z")


# --- shared shapes -------------------------------------------------------------------------------------

def links(*names: str, optional=()) -> dict:
    return obj({name: ref("Link") for name in (*names, *optional)}, names)


def paged(key: str, item: dict) -> dict:
    """Asset Management's HAL list; a page past the end has no ``_embedded`` (as Spring HAL does)."""
    return obj({
        "_embedded": obj({key: array(item)}, [key]),
        "page": ref("Page"),
        "_links": links("self", "first", "last", optional=("prev", "next")),
    }, ["page", "_links"])


def variable_definition(*, quality_code: bool, request: bool, extra: dict | None = None, extra_required=(),
                        **kw) -> dict:
    """A variable of an aspect type (``quality_code``) or of an asset type, as sent or as answered;
    ``extra`` adds what a listing puts next to the definition (``value``, ``aspectName``)."""
    if request:  # unknown properties are ignored, so the request shape stays open
        props = {
            "name": string(pattern=NAME_PATTERN, description="Not a reserved word (id, name, etag, ...)"),
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
    props = {key: field for key in ("country", "region", "locality", "streetAddress", "postalCode")}
    props["longitude"] = nullable(number(minimum=-180, maximum=180))
    props["latitude"] = nullable(number(minimum=-90, maximum=90))
    return obj(props, () if request else "all")


def asset_body(*, create: bool) -> dict:
    """What POST /assets takes (``create``) and what PUT takes (and a merge patch applies to)."""
    props = {
        "name": string(pattern=NAME_TEXT_PATTERN, maxLength=limits.ASSET_NAME_MAX,
                       description="Not blank; no control characters"),
        "externalId": nullable(text(maxLength=limits.EXTERNAL_ID_MAX)),
        "description": nullable(text(maxLength=limits.DESCRIPTION_MAX)),
        "location": nullable(location(request=True)),
        "variables": nullable(array(name_value(request=True))),
        "aspects": nullable(static_aspects(request=True)),
        "typeId": string(description="An instantiable asset type") if create else
        nullable(string(description="Must not change")),
        "parentId": string(description="An existing asset") if create else
        nullable(string(description="Must not change (POST /assets/{asset_id}/move moves an asset)")),
        "timezone": nullable(string(description="An IANA zone name (not at a :15/:45 offset); fixed after "
                                                "creation; default Europe/Berlin")),
        "twinType": nullable(string(enum=["performance", "simulation"], description="Fixed after creation")),
    }
    return obj(props, ["name", "typeId", "parentId"] if create else ["name"], closed=False)


def asset_resource() -> dict:
    return obj({
        "assetId": string(pattern=limits.ASSET_ID_PATTERN), "tenantId": string(), "name": string(),
        "externalId": nullable(string()), "t2Tenant": nullable(string()), "subTenant": nullable(string()),
        "description": nullable(string()), "timezone": string(), "parentId": nullable(string()),
        "typeId": string(), "twinType": string(enum=["performance", "simulation"]),
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
        "name": string(pattern=TYPE_NAME_PATTERN, description="Equal to the id's part after `{tenant}.`"),
        "category": string(enum=["static", "dynamic"], description="Fixed after creation"),
        "scope": nullable(string(enum=["private"])),
        "description": nullable(text(maxLength=limits.DESCRIPTION_MAX)),
        "variables": array(variable_definition(quality_code=True, request=True),
                           description="An update must send every existing variable"),
    }, ["name", "category", "variables"], closed=False)


def asset_type_body() -> dict:
    aspect = obj({"name": string(pattern=NAME_PATTERN), "aspectTypeId": string()}, "all", closed=False)
    return obj({
        "name": string(pattern=TYPE_NAME_PATTERN, description="Equal to the id's part after `{tenant}.`"),
        "description": nullable(text(maxLength=limits.DESCRIPTION_MAX)),
        "parentTypeId": string(description="An existing asset type; fixed after creation"),
        "instantiable": nullable(boolean(description="Default true; may only turn from false to true")),
        "scope": nullable(string(enum=["private"])),
        "aspects": nullable(array(aspect)),
        "variables": nullable(array(variable_definition(quality_code=False, request=True))),
    }, ["name", "parentTypeId"], closed=False)


def record(*, request: bool) -> dict:
    """A time series record: ``_time`` and each variable's value, ``<var>_qc`` its quality code."""
    values = [number(), string(), boolean()]
    if request:
        values[1] = string(nullable=True)  # null means "no value"
    return {"type": "object", "required": ["_time"],
            "properties": {"_time": string(pattern=ZONED_TIME_PATTERN if request else TIME_PATTERN,
                                           example="2024-01-01T00:00:00.000Z")},
            "additionalProperties": {"anyOf": values},
            "description": "Variables of the aspect by name; `<var>_qc` an integer quality code (OPC UA status)"}


def aggregate_interval() -> dict:
    fields = {name: (string() if name.endswith("time") else
                     integer(minimum=0) if name.startswith("count") else
                     nullable(number(description="null beyond the double range")) if name in ("sum", "average", "sd")
                     else number())
              for name in PUBLIC_FIELDS}
    return {"type": "object", "required": ["starttime", "endtime"],
            "properties": {"starttime": string(description="exclusive"), "endtime": string(description="inclusive")},
            "additionalProperties": obj(fields, description="One numeric variable (its `select`ed fields)"),
            "description": "One interval with data; intervals without data are left out"}


def token_response() -> dict:
    return obj({"access_token": string(description="An RS256 JWT"), "token_type": string(enum=["Bearer"]),
                "expires_in": integer(minimum=1), "scope": string(description="Space-separated"),
                "jti": string()}, "all")


def jwk() -> dict:
    return obj({"kty": string(enum=["RSA"]), "alg": string(enum=[limits.TOKEN_ALGORITHM]), "use": string(enum=["sig"]),
                "kid": string(), "n": string(), "e": string(),
                "value": string(description="The SPKI PEM of the key, newlines included")}, "all")


def components() -> dict:
    schemas = {
        "CoreErrors": obj({"errors": array(obj({
            "code": string(pattern=r"^mdsp\.core\.generic\.[A-Za-z]+$", example="mdsp.core.generic.noMatch"),
            "logref": string(), "message": string()}, "all"), minItems=1)}, "all",
            description="Asset Management, Aggregates v4, token manager and control plane errors"),
        "TimeSeriesError": obj({"id": string(), "message": string()}, "all",
                               description="IoT Time Series and Aggregates v3 errors"),
        "OAuthError": obj({"error": string(example="unauthorized"), "error_description": string()}, "all",
                          description="Token endpoint errors, as Cloud Foundry UAA writes them"),
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
        "AssetAspect": asset_aspect(),
        "AssetVariable": variable_definition(
            quality_code=False, request=False, extra_required=("aspectName",),
            extra={"qualityCode": boolean(description="Aspect variables only"), "aspectName": nullable(string()),
                   "value": nullable(string(description="The asset type's own variables only"))},
            description="An asset type variable (aspectName null, with its value), or an aspect's variable"),
        "TimeseriesRecord": record(request=False),
        "TimeseriesRecordInput": record(request=True),
        "AggregateInterval": aggregate_interval(),
        "TokenResponse": token_response(),
        "JsonWebKey": jwk(),
        **data_hub_schemas(),
        **control_schemas(),
    }
    return {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "An access token of POST /oauth/token or of the technical token manager"},
            "basicAuth": {"type": "http", "scheme": "basic", "description": "client_id:client_secret"},
            "spaceAuthKey": {"type": "apiKey", "in": "header", "name": "X-SPACE-AUTH-KEY",
                             "description": "`Basic base64(client_id:client_secret)` of the app credentials"},
            "adminToken": {"type": "http", "scheme": "bearer",
                           "description": "The control plane's admin token (--admin-token / MDSP_EMU_ADMIN_TOKEN)"},
        },
        "parameters": {
            "page": query("page", integer(default=0, minimum=INT32[0], maximum=INT32[1]),
                          "Page number, 0-based (a negative page means 0; a 32-bit integer, as Spring reads it)"),
            "size": query("size", integer(default=limits.AM_DEFAULT_PAGE_SIZE, minimum=INT32[0],
                                          maximum=limits.AM_MAX_PAGE_SIZE),
                          f"Page size, at most {limits.AM_MAX_PAGE_SIZE} (above: 400); below 1 means "
                          f"{limits.AM_DEFAULT_PAGE_SIZE}"),
            "filter": {"name": "filter", "in": "query", "required": False,
                       "description": f"A JSON object, URL-encoded (at most {limits.FILTER_MAX_CHARS} characters): "
                                      "eq, in, startsWith, endsWith, contains, before, after, between, not, and, "
                                      "or, hasType; unknown fields are ignored",
                       "content": {"application/json": {"schema": obj({}, closed=False),
                                                        "example": {"name": {"startsWith": "Pump"}}}}},
            "includeShared": query("includeShared", flag(), "Accepted; nothing is shared between tenants"),
            "exploded": query("exploded", flag(), "`true` adds the inherited aspects and variables"),
            "assetId": path("asset_id", string(pattern=limits.ASSET_ID_PATTERN), "An asset id"),
            "typeId": path("type_id", string(pattern=TYPE_ID_PATTERN, maxLength=128), "`{tenant}.{Name}`"),
            "aspect": path("aspect", string(pattern=NAME_PATTERN), "The name of a dynamic aspect of the asset"),
            "ifMatch": header("If-Match", string(pattern=r'^(W/)?"?\d{1,10}"?$'),
                              "The current etag (`3` or `\"3\"`); missing: 400, stale: 412", required=True),
            "ifMatchCreate": header("If-Match", string(pattern=r'^(W/)?"?\d{1,10}"?$'),
                                    "Required to update an existing type; must be absent to create one"),
            "ifNoneMatch": header("If-None-Match", string(), "`*`: create only (412 if the type exists)"),
        },
        "headers": {
            "ETag": {"description": 'The resource\'s etag, quoted ("3")', "schema": string()},
            "Link": {"description": '`<next page URL>; rel="next"` when more records exist', "schema": string()},
            "RetryAfter": {"description": "Seconds until the rate-limit window ends", "schema": integer()},
            "WWWAuthenticate": {"description": "The challenge (`Bearer error=\"invalid_token\"` on the APIs)",
                                "schema": string()},
            "CacheControl": {"description": "no-store", "schema": string()},
            "Allow": {"description": "The methods the resource takes", "schema": string(example="GET, HEAD")},
            "ODataVersion": {"description": "The OData protocol version of the answer",
                             "schema": string(enum=["4.0"])},
        },
        "schemas": schemas,
    }


# --- the APIs ------------------------------------------------------------------------------------------

def asset_management() -> dict:
    tag, bearer = "Asset Management v3", [{"bearerAuth": []}]
    asset_id, type_id, if_match = param("assetId"), param("typeId"), param("ifMatch")
    asset_ok = ok("The asset", ref("AssetResource"), ETAG)
    common = (401, 403, 429)

    def op(endpoint, summary, responses, *statuses, **kw):
        return operation(f"assets.{endpoint}", summary, {**responses, **errors("core", *common, *statuses)},
                         tag=tag, security=bearer, **kw)

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


def time_series() -> dict:
    tag, bearer = "IoT Time Series v3", [{"bearerAuth": []}]
    asset_id, aspect = param("assetId"), param("aspect")
    common = (401, 403, 429)

    def op(endpoint, summary, responses, *statuses, **kw):
        return operation(f"timeseries.{endpoint}", summary, {**responses, **errors("timeseries", *common, *statuses)},
                         tag=tag, security=bearer, **kw)

    failure = obj({"entityId": any_value("As sent"), "propertySetName": any_value("As sent"),
                   "status": integer(), "message": string()}, "all")
    # A pair's own faults (a missing asset, a bad record, even a non-string entityId) do not refuse the
    # request: they are answered per pair in the 202. So the pair schema constrains nothing.
    pair = {**any_value("`{entityId, propertySetName, data: [records as in the single-pair PUT]}`"),
            "example": {"entityId": "0123456789abcdef0123456789abcdef", "propertySetName": "pump",
                        "data": [{"_time": "2024-01-01T00:00:00.000Z", "flow": 1.5}]}}
    return {
        f"{TS}/timeseries": {"put": op(
            "put_many", f"Write several asset-aspect pairs (at most {limits.TS_MULTI_MAX_PAIRS} pairs, "
                        f"{limits.TS_MULTI_MAX_RECORDS} records, {limits.TS_MULTI_MAX_BYTES} bytes)",
            {"202": ok("The pairs that failed (the others were written)", array(failure))}, 400, 413, 415,
            body=json_body(obj({"timeseries": array(pair, minItems=1, maxItems=limits.TS_MULTI_MAX_PAIRS)}, "all",
                               closed=False)))},
        f"{TS}/timeseries/{{asset_id}}/{{aspect}}": {
            "put": op("put_timeseries", f"Write records (at most {limits.TS_MAX_PUT_BYTES} bytes); a record at an "
                                        "existing time replaces it; one invalid record writes nothing",
                      {"204": NO_CONTENT}, 400, 404, 413, 415, params=[asset_id, aspect],
                      body=json_body(array(ref("TimeseriesRecordInput")))),
            "get": op("get_timeseries", "Records in (from, to]; without a range the latest record", {
                "200": ok("Records in time order", array(ref("TimeseriesRecord")), {"Link": ref("Link", "headers")})},
                400, 404, params=[
                    asset_id, aspect,
                    time_query("from", "Exclusive lower bound (only `to`: from the beginning of time)"),
                    time_query("to", "Inclusive upper bound (only `from`: up to now)"),
                    query("limit", integer(minimum=1, maximum=limits.TS_MAX_LIMIT, default=limits.TS_DEFAULT_LIMIT),
                          "At most this many records; more are announced by a Link header"),
                    query("select", string(), "Comma-separated variable names"),
                    query("sort", string(enum=["asc", "desc"], default="asc"), "By time only", empty_ok=False),
                    query("latestValue", flag(default="false"),
                          f"Each variable's newest value within {limits.TS_LATEST_VALUE_MAX_AGE_DAYS} days"),
                ]),
            "delete": op("delete_timeseries", "Delete the records in (from, to]", {"204": NO_CONTENT}, 400, 404,
                         params=[asset_id, aspect, time_query("from", "Exclusive", required=True),
                                 time_query("to", "Inclusive", required=True)]),
        },
    }


def aggregates() -> dict:
    tag, bearer = "TS Aggregates", [{"bearerAuth": []}]
    common = (401, 403, 429)
    value_text = "; ".join(f"{unit} {values[0]}..{values[-1]}" + (" (even)" if unit == "minute" else "")
                           for unit, values in VALUES.items())
    unit_schema = string(enum=list(UNITS))
    value_schema = integer(minimum=1, maximum=max(max(v) for v in VALUES.values()))
    v4 = operation("aggregates.aggregates_v4", "Aggregates of an asset's aspect over intervals (v4)", {
        "200": ok("Intervals with data", obj({"aggregates": array(ref("AggregateInterval"))}, "all")),
        **errors("core", *common, 400, 404)}, tag=tag, security=bearer, params=[
        query("assetId", string(minLength=1), required=True),
        query("aspectName", string(minLength=1), required=True),
        time_query("from", "Missing parts of the range are completed (see the README)"),
        time_query("to", "Inclusive"),
        query("intervalUnit", unit_schema),
        query("intervalValue", value_schema, f"Needs intervalUnit; {value_text}"),
        query("count", integer(minimum=1), "Number of intervals"),
        query("select", string(), "`var` or `var.field`, comma-separated (numeric variables only)"),
    ])
    v3 = operation("aggregates.aggregates_v3", "Aggregates of an asset's aspect (legacy v3: every parameter "
                                               "required, bounds aligned to the unit)", {
        "200": ok("Intervals with data", array(ref("AggregateInterval"))),
        **errors("timeseries", *common, 400, 404)}, tag=tag, security=bearer, params=[
        param("assetId"), param("aspect"),
        time_query("from", "Exclusive; aligned to the unit", required=True),
        time_query("to", "Inclusive; aligned to the unit", required=True),
        query("intervalValue", value_schema, value_text, required=True),
        query("intervalUnit", unit_schema, required=True),
        query("select", string(), "`var` or `var.field`, comma-separated (numeric variables only)"),
    ])
    return {f"{AGG}/v4/aggregates": {"get": v4}, f"{AGG}/v3/aggregates/{{asset_id}}/{{aspect}}": {"get": v3}}


def token_service() -> dict:
    tag = "Token service"
    token_ok = ok("An access token", ref("TokenResponse"), NO_STORE)
    form = obj({"grant_type": string(enum=["client_credentials"]), "client_id": string(), "client_secret": string(),
                "scope": string(description="Space-separated; narrows the token")}, closed=False)
    ttm_fields = {"appName": string(pattern=TTM_APP_NAME), "appVersion": string(pattern=TTM_APP_VERSION),
                  "hostTenant": string(minLength=1, description="The credentials' tenant"),
                  "userTenant": string(minLength=1, description="The credentials' tenant")}
    return {
        "/oauth/token": {"post": operation(
            "auth.oauth_token", "Client credentials grant", {
                "200": token_ok,
                **errors("oauth", 400, 401, notes={
                    400: "invalid_request (no grant_type), unsupported_grant_type or invalid_scope",
                    401: "unauthorized: missing or bad client credentials"})},
            tag=tag, security=[{"basicAuth": []}, {}],
            description="Client authentication by HTTP Basic or by the form fields client_id/client_secret; "
                        "grant_type in the form body or in the query (Mendix's TokenURL).",
            params=[query("grant_type", string(enum=["client_credentials"]), empty_ok=False),
                    query("scope", string(), "Space-separated; narrows the token")],
            body=json_body(form, required=False, media="application/x-www-form-urlencoded"))},
        "/token_keys": {"get": operation(
            "auth.token_keys", "The token verification keys, current first",
            {"200": ok("Keys", obj({"keys": array(ref("JsonWebKey"), minItems=1)}, "all")), **errors("oauth")},
            tag=tag, security=[])},
        "/api/technicaltokenmanager/v3/oauth/token": {"post": operation(
            "auth.technical_token", "A technical token for app credentials", {
                "200": token_ok,
                **errors("core", 400, 401, 403, notes={
                    401: "Missing, malformed or bad credentials",
                    403: "hostTenant or userTenant is not the credentials' tenant"})},
            tag=tag, security=[{"spaceAuthKey": []}, {"basicAuth": []}],
            description="The four fields in the JSON body or, alternatively, in the query (not both).",
            params=[query(name, schema, empty_ok=False) for name, schema in ttm_fields.items()],
            body=json_body(obj(ttm_fields, "all", closed=False), required=False))},
    }


# --- Data Hub: contract administration and the OData services ------------------------------------------

CONTRACT_NAME = {"pattern": NAME.pattern, "maxLength": limits.CONTRACT_NAME_MAX}
EMAIL_TEXT = {"pattern": EMAIL.pattern, "maxLength": 254}


def contract_resource(*, tenant: bool = False) -> dict:
    """``emulator.odata.contracts.as_json``; the Data Hub catalogue adds the ``tenant`` that publishes it."""
    props = {
        "name": string(), "version": string(), "environment": string(enum=list(limits.DATAHUB_ENVIRONMENTS)),
        "description": nullable(string()), "applicationName": string(),
        "publisherEmail": nullable(string(description="null until given (at creation or when publishing)")),
        "assetTypeIds": array(string(), minItems=1, description="The contract's asset types, as resolved"),
        "entitySets": array(string(), description="Per asset type: its asset set, then per dynamic aspect a "
                                                  "`TS_...` and an `AGGR_...` set"),
        "createdAt": string(pattern=TIME_PATTERN),
        "published": boolean(),
        "publishedAt": nullable(string(pattern=TIME_PATTERN, description="The first publication's time")),
        "serviceUrl": nullable(string(description="The OData service root (`{server}/odata/{name}/`) once "
                                                  "published")),
    }
    if tenant:
        props["tenant"] = string(description="The tenant whose contract it is")
    return obj(props, "all")


def contract_body() -> dict:
    """What ``emulator.odata.contracts._check`` takes: these properties only (others: 400)."""
    return obj({
        "name": string(minLength=1, **CONTRACT_NAME, description="Unique in the tenant"),
        "version": nullable(string(pattern=f"^({VERSION.pattern.removeprefix('^').removesuffix('$')})?$",
                                   default="1.0.0", description="Like 1.0.0; empty or null: 1.0.0")),
        "assetTypeIds": array(string(), minItems=1, description="Existing asset types of the tenant (core types "
                                                                 "included), each listed once"),
        "environment": string(enum=list(limits.DATAHUB_ENVIRONMENTS), default="Sandbox"),
        "description": nullable(string(maxLength=limits.DESCRIPTION_MAX)),
        "applicationName": nullable(string(maxLength=128, description="Empty or null: `mdsp_{tenant}`")),
        "publisherEmail": nullable(string(**EMAIL_TEXT, description="Needed to publish; may be given then "
                                                                    "instead")),
    }, ["name", "assetTypeIds"])


def data_hub_schemas() -> dict:
    entity = obj({}, closed=False, description="One entity: the entity set's properties by name (see `$metadata`; "
                                               "the sets differ per contract), and each `$expand`-ed navigation "
                                               "property as an entity, a list of them or null")
    return {
        "Contract": contract_resource(),
        "ContractInput": contract_body(),
        "CatalogContract": contract_resource(tenant=True),
        "ODataError": obj({"error": obj({
            "code": string(pattern=r"^\d{3}$", description="The HTTP status, as text", example="404"),
            "message": string(),
            "target": string(description="The query option, property or operator at fault, when there is one"),
        }, ["code", "message"])}, "all", description="OData errors (JSON format 21.1), with Content-Language: en"),
        "ODataServiceDocument": obj({
            "@odata.context": string(description="`{service root}$metadata` (left out with odata.metadata=none)"),
            "value": array(obj({"name": string(), "kind": string(enum=["EntitySet"]), "url": string()}, "all")),
        }, ["value"]),
        "ODataEntity": entity,
        "ODataEntityAnswer": obj({"@odata.context": string(description="`{service root}$metadata#{Set}/$entity` "
                                                                       "(left out with odata.metadata=none)")},
                                 closed=False,
                                 description="One entity (`Set('key')` or a single-valued navigation property) "
                                             "with the context; its properties as in ODataEntity"),
        "ODataCollection": obj({
            "@odata.context": string(description="`{service root}$metadata#{Set}` (`#{Set}(p1,p2)` with $select; "
                                                 "left out with odata.metadata=none)"),
            "@odata.count": integer(minimum=0, description="With `$count=true`: the number of matching entities "
                                                           "(time series and aggregate sets: see $count)"),
            "value": array(ref("ODataEntity")),
            "@odata.nextLink": string(description="The next server-driven page (asset sets read without $top)"),
        }, ["value"]),
    }


def _filter_text(filters: dict) -> str:
    """``{property: operators}`` as text, properties with the same operators together."""
    groups: dict[tuple, list[str]] = {}
    for prop, ops in filters.items():
        groups.setdefault(tuple(ops), []).append(prop)
    return "; ".join(f"{', '.join(props)}: {', '.join(ops)}" for ops, props in groups.items())


def odata_options() -> list[dict]:
    """The system query options of ``emulator.odata.query.parse_options``. None takes an empty value (400);
    an unknown `$option` answers 400, one the service does not implement 501; other names are ignored."""
    asset_sort = ", ".join(name for name, *_ in odata_model.ASSET_FIELDS)
    filter_text = (
        f"Per entity set (seed 8.5). Asset sets: {_filter_text(odata_model.ASSET_FILTERS)} (`in` for a list of "
        "equalities), joined by and, or, not. Time series sets: "
        f"{_filter_text(odata_model.TIMESERIES_FILTERS)}; aggregate sets: "
        f"{_filter_text(odata_model.AGGREGATE_FILTERS)} (aggregationType one of "
        f"{', '.join(odata_model.AGGREGATION_TYPES)}; intervalUnit one of {', '.join(limits.DATAHUB_INTERVAL_UNITS)})"
        "; both joined by `and` only. Times as `YYYY-MM-DDTHH:mm:ss` (UTC) or any ISO-8601 time. Another property "
        f"or operator: 400 naming it (`target`); functions other than {', '.join(STRING_FUNCTIONS)}, lambdas, "
        "arithmetic: 501")
    return [
        query("$filter", string(minLength=1), filter_text, empty_ok=False, example="name eq 'Pump 1'"),
        query("$orderby", string(minLength=1), f"`property [asc|desc]`, comma-separated. Asset sets: {asset_sort}; "
                                               "time series and aggregate sets: timestamp only", empty_ok=False,
              example="name desc"),
        query("$top", integer(minimum=0, maximum=ODATA_MAX_INTEGER), "At most this many entities", empty_ok=False),
        query("$skip", integer(minimum=0, maximum=ODATA_MAX_INTEGER), "Skip this many entities first",
              empty_ok=False),
        query("$count", string(enum=["true", "false"]),
              "`true` adds `@odata.count`. Time series and aggregate sets count at most the "
              f"{limits.DATAHUB_MAX_OBJECTS} objects a query sees (as MindSphere's counts are wrong) unless the "
              "server runs with --odata-exact-counts", empty_ok=False),
        query("$select", string(minLength=1), "Comma-separated properties of the set, or `*`", empty_ok=False,
              example="assetId,name"),
        query("$expand", string(minLength=1), "Comma-separated navigation properties of an asset set (`Base_{Set}` "
                                              "on a derived type's set, `Derived_{Set}` on its base type's) or `*`, "
                                              "each optionally with `($select=p1,p2)`; other nested options: 501",
              empty_ok=False, example="Base_CNGTurbine($select=name)"),
        query("$skiptoken", integer(minimum=0, maximum=ODATA_MAX_INTEGER),
              "Server-driven paging: as `@odata.nextLink` carries it",
              empty_ok=False),
        query("$format", string(pattern=r"^([Jj][Ss][Oo][Nn]|application/json(;[^,]*)?)$"),
              "JSON only: `json`, or `application/json` with format parameters (`odata.metadata=minimal|full|none`; "
              "a parameter not served: 406)", empty_ok=False),
    ]


def data_hub() -> dict:
    tag, bearer = "Data Hub", [{"bearerAuth": []}]
    common = (401, 403, 429)
    name = path("name", string(**CONTRACT_NAME), "The contract's name")
    contract_ok = ok("The contract", ref("Contract"))

    def admin(endpoint, summary, responses, *statuses, notes=None, **kw):
        return operation(f"contracts.{endpoint}", summary,
                         {**responses, **errors("core", *common, *statuses, notes=notes)}, tag=tag,
                         security=bearer, **kw)

    contract = {**path("contract", string(**CONTRACT_NAME), "A published contract of the token's tenant (404 "
                                                             "otherwise)"), "example": "plant"}
    resource_text = ("`{Set}`, `{Set}/$count`, `{Set}('key')` (or `{Set}(assetId='key')`), "
                     "`{Set}('key')/{Navigation}` (asset sets), each navigation path also with `/$count`. Its "
                     "slashes are path separators (sent as is or as %2F)")
    resource = {**path("resource", string(minLength=1), resource_text), "examples": {
        "entitySet": {"value": "Site"}, "count": {"value": "Site/$count"}}}
    query_resource = {**path("resource", string(pattern=r"^[^\x00]+/\$query$"),
                             "`{Set}/$query` (POST on `$batch`: 501; on any other resource: 405)"),
                      "example": "Site/$query"}
    max_version = header("OData-MaxVersion", string(pattern=r"^[ \t]*(0*([4-9]|[1-9][0-9]+)(\.[0-9]+)?)?[ \t]*$"),
                         "A version such as 4.0 (4.0 or above: empty is ignored); below 4.0, or not a version: 400")
    odata_version = {"OData-Version": ref("ODataVersion", "headers")}
    json_text = f"`{JSON_TYPE}`"
    service_ok = ok(f"The entity sets of the contract ({json_text})", ref("ODataServiceDocument"), odata_version)
    resource_ok = {"description": f"An entity set's page or one entity as JSON ({json_text}); `/$count` as a "
                                  "plain number",
                   "headers": odata_version, "content": {
                       "application/json": {"schema": {"anyOf": [ref("ODataCollection"), ref("ODataEntityAnswer")]}},
                       "text/plain": {"schema": string(pattern=r"^\d+$")}}}
    metadata_ok = ok("The contract's CSDL (as downloaded)", string(), odata_version, media="application/xml")
    no_target = {"description": "A single-valued navigation property without a target (e.g. the parent of an "
                                "asset whose parent is not of that set)", "headers": odata_version}
    read_notes = {400: "A bad query option (named in `target`), key literal or OData-MaxVersion",
                  404: "No published contract of that name in the tenant, or no such entity set, entity or "
                       "navigation property",
                  406: "Accept (or $format) asks for what is not served: no JSON, or JSON with "
                       "IEEE754Compatible=true, another charset or an unknown format parameter",
                  501: "$batch, a system query option the service does not implement ($search, $apply, ...), a "
                       "filter function or expression it does not implement, navigation from a time series or "
                       "aggregate entity"}
    read_only = {405: "The services are read-only (seed 8.1): Allow: GET, HEAD (plus POST on `.../$query`)"}

    def odata(endpoint, method, summary, responses, *statuses, notes=None, **kw):
        op_id = f"odata.{endpoint}" if method == "get" else f"odata.{endpoint}.{method}"
        return operation(op_id, summary, {**responses, **errors("odata", *common, *statuses, notes=notes)},
                         tag=tag, security=bearer, **kw)

    def writes(endpoint: str, methods, target: str) -> dict:
        return {method: odata(endpoint, method, f"Refused: {target} is read-only", {}, 405, notes=read_only,
                              params=[contract, *([resource] if endpoint == "resource" else [])])
                for method in methods}

    return {
        "/_emulator/contracts": {
            "post": admin("create_contract", "Save a contract over some of the tenant's asset types (unpublished)", {
                "201": ok("The contract", ref("Contract"), {"Location": {
                    "description": "`/_emulator/contracts/{name}`", "schema": string()}})},
                400, 409, 413, 415, notes={409: "A contract of that name exists in the tenant"},
                body=json_body(ref("ContractInput"))),
            "get": admin("list_contracts", "The tenant's contracts, oldest first",
                         {"200": ok("Contracts", obj({"contracts": array(ref("Contract"))}, "all"))}),
        },
        "/_emulator/contracts/{name}": {
            "get": admin("get_contract", "One contract", {"200": contract_ok}, 404, params=[name]),
            "delete": admin("delete_contract", "Delete a contract (its OData service with it)", {"204": NO_CONTENT},
                            404, params=[name]),
        },
        "/_emulator/contracts/{name}/download": {"get": admin(
            "download_contract", "The contract's CSDL XML, to import in Studio Pro without Data Hub",
            {"200": ok("The CSDL document (what the service's `$metadata` answers)", string(), {
                "Content-Disposition": {"description": "`attachment; filename=\"{name}-{version}.xml\"`",
                                        "schema": string()}}, media="application/xml")},
            404, params=[name])},
        "/_emulator/contracts/{name}/publish": {"post": admin(
            "publish_contract", "Publish to the Data Hub catalogue: its OData service opens at `serviceUrl`",
            {"200": contract_ok}, 400, 404, 413, 415, 500, params=[name], notes={
                400: "The body is not an object, publisherEmail is not an email address, or the contract has none",
                500: f"Publishing failed: an aggregate entity name `AGGR_{{AspectType}}_{{AspectName}}_{{AssetType}}`"
                     f" is longer than {limits.DATAHUB_AGGR_NAME_MAX} characters (as Data Hub fails, seed 9.2; "
                     "saving the contract still works)"},
            description="Publishing again keeps the first publication's time; the catalogue shows a tenant's "
                        "contracts to users of its first publisher's email domain.",
            body=json_body(obj({"publisherEmail": nullable(string(**EMAIL_TEXT, description="Default: the "
                                                                                            "contract's"))},
                               closed=False), required=False))},
        "/odata/{contract}/": {
            "get": odata("service_document", "get", "The service document: the contract's entity sets",
                         {"200": service_ok}, 400, 404, 406, params=[contract, max_version],
                         notes={**read_notes, 400: "A bad OData-MaxVersion",
                                404: "No published contract of that name in the tenant"}),
            **writes("service_document", ("post", "put", "patch", "delete"), "the service"),
        },
        "/odata/{contract}/$metadata": {
            "get": odata("metadata", "get", "The service's metadata document: the contract's CSDL",
                         {"200": metadata_ok}, 400, 404, 406, params=[contract, max_version],
                         notes={**read_notes, 400: "A bad OData-MaxVersion",
                                404: "No published contract of that name in the tenant",
                                406: "Accept excludes application/xml"},
                         description="No query option applies to it (any is ignored)."),
            **writes("metadata", ("post", "put", "patch", "delete"), "the metadata document"),
        },
        "/odata/{contract}/{resource}": {
            "get": odata("resource", "get", "An entity set, a count, an entity or a navigation property",
                         {"200": resource_ok, "204": no_target}, 400, 404, 406, 501, notes=read_notes,
                         params=[contract, resource, max_version, *odata_options()],
                         description=f"Asset sets read without $top answer pages of {limits.DATAHUB_ASSET_PAGE} with "
                                     "`@odata.nextLink`. Time series and aggregate sets see at most "
                                     f"{limits.DATAHUB_MAX_OBJECTS} objects per query (seed 8.6): $skip and $top "
                                     "page inside that window, without a nextLink. Options the service does not "
                                     f"implement answer 501: {', '.join(NOT_IMPLEMENTED)}."),
            "post": odata("resource", "post", "`{Set}/$query`: the query options in the body instead of the URL",
                          {"200": resource_ok, "204": no_target}, 400, 404, 405, 406, 413, 415, 501,
                          notes={**read_notes, **read_only,
                                 415: "The body of `$query` must be text/plain"},
                          params=[contract, query_resource, max_version],
                          body=json_body(string(pattern=r"^[\x00-\x7f]*$", example="$filter=name eq 'Pump 1'&$top=10"),
                                         media="text/plain", description="The query options as in a query "
                                                                         "string (percent-encoded ASCII)")),
            **writes("resource", ("put", "patch", "delete"), "the service"),
        },
    }


# --- the control plane ---------------------------------------------------------------------------------

def rate_limit() -> dict:
    """A quota as answered; the setting's default has neither tenant nor api."""
    return obj({"tenant": nullable(string()), "api": nullable(string(enum=list(_registry().names))),
                "requests": integer(minimum=1), "perSeconds": integer(minimum=1)}, "all")


def control_schemas() -> dict:
    quota = rate_limit()
    delay = {"anyOf": [
        number(minimum=0, maximum=MAX_DELAY_MS, nullable=True),
        obj({"uniform": array(number(minimum=0, maximum=MAX_DELAY_MS), minItems=2, maxItems=2)}, "all"),
        obj({"normal": obj({"mean": number(minimum=0, maximum=MAX_DELAY_MS),
                            "sd": number(minimum=0, maximum=MAX_DELAY_MS)}, "all")}, "all"),
    ], "description": "Milliseconds: a number, a uniform range (two bounds, either order) or a normal distribution"}
    match = obj({"method": nullable(string(enum=list(METHODS))), "path": nullable(string(minLength=1)),
                 "api": nullable(string(enum=list(_registry().names))), "tenant": nullable(string(minLength=1))})
    effect = obj({"status": nullable(integer(minimum=400, maximum=599)), "delayMs": delay,
                  "dropConnection": nullable(boolean()),
                  "body": {"anyOf": [obj({}, closed=False, nullable=True), array({})],
                           "description": "Answered as is, with the status"}}, minProperties=1)
    schedule = {"times": nullable(integer(minimum=1, maximum=10**9)), "after": integer(minimum=0, maximum=10**9),
                "probability": number(minimum=0, maximum=1), "seed": integer(minimum=-(2**63), maximum=2**63 - 1),
                "ttlSeconds": nullable(number(minimum=0.001, maximum=10**9))}
    clock = obj({"mode": string(enum=list(MODES)), "time": string(), "speed": number()}, "all")
    return {
        "Health": obj({"status": string(enum=["ok"]), "version": string()}, "all"),
        "Capabilities": obj({
            "version": string(),
            "apis": array(obj({"name": string(), "paths": array(string()), "version": string()}, "all")),
            "limits": obj({name: any_value() for name in limits.as_table()}, "all",
                          description="Every enforced limit (emulator/limits.py) with its value"),
            "scopes": obj({"apis": obj({}, closed=False, additionalProperties=obj({}, closed=False,
                                                                                  additionalProperties=string())),
                           "roles": obj({}, closed=False, additionalProperties=array(string()))}, "all"),
            "knownGaps": array(string()),
        }, "all"),
        "TenantInput": obj({"name": string(pattern=limits.TENANT_NAME_PATTERN), "clients": nullable(array(obj({
            "clientId": nullable(string(pattern=CLIENT_ID_PATTERN, description="Unique; generated when omitted or "
                                                                              "null")),
            "clientSecret": nullable(string(minLength=1, maxLength=256, description="Generated when omitted or "
                                                                                   "null")),
            "scopes": array(string(enum=sorted(_registry().known_scopes)), description="Default: every scope"),
        }, closed=False), minItems=1, description="Omitted or null: one client with generated credentials; "
                                                  "each clientId once"))}, ["name"], closed=False),
        "TenantCreated": obj({"name": string(), "rootAssetId": string(), "tokenUrl": string(), "clients": array(obj({
            "clientId": string(), "clientSecret": string(description="Shown only once"), "scopes": array(string()),
            "bindingKeys": obj({"clientID": string(), "TokenURL": string(), "clientSecret": string()}, "all",
                               description="The three values as the Mendix Marketplace shows them"),
        }, "all"))}, "all"),
        "TenantList": obj({"tenants": array(obj({
            "name": string(), "rootAssetId": string(),
            "createdAt": string(description="ISO-8601 UTC time the tenant was created"),
            "clients": array(obj({"clientId": string(), "scopes": array(string())}, "all"))}, "all"))}, "all"),
        "Clock": clock,
        "ClockInput": obj({"mode": string(enum=list(MODES)),
                           "time": nullable(string(pattern=TIME_PATTERN, description="frozen/offset: the time "
                                                                                     "to start from")),
                           "speed": number(exclusiveMinimum=True, minimum=0, maximum=1_000_000, default=1)},
                          ["mode"], closed=False),
        "FaultRuleInput": obj({"match": nullable(match), "effect": effect, **schedule}, ["effect"]),
        "FaultRule": obj({"id": string(), "match": match, "effect": effect, **schedule,
                          "tenant": nullable(string()), "expiresAt": nullable(string(description="From ttlSeconds")),
                          "matched": integer(minimum=0), "fired": integer(minimum=0)},
                         "all"),
        "RateLimit": quota,
        "RateLimitInput": obj({"tenant": string(minLength=1), "api": nullable(string(enum=list(_registry().names))),
                               "requests": integer(minimum=1, maximum=10**9),
                               "perSeconds": integer(minimum=1, maximum=10**9)}, ["tenant", "requests", "perSeconds"]),
        "Snapshot": obj({
            "format": string(enum=[snapshots.FORMAT]), "schemaVersion": integer(enum=[SCHEMA_VERSION]),
            "tenant": obj({"name": string(pattern=limits.TENANT_NAME_PATTERN),
                           "created_at": number(minimum=0, maximum=STATE_RANGE[1]),
                           "root_asset_id": string(maxLength=32), "instance": string(maxLength=32),
                           "default_timezone": string(description="An IANA zone name (not at a :15/:45 offset)"),
                           "model_version": integer(minimum=0, maximum=2**31 - 1)},
                          ["name", "created_at", "root_asset_id", "default_timezone"]),
            "tables": obj({str(table.name): array(obj({}, closed=False), description="Rows of the tenant (`tenant_id`)")
                           for table in _registry().tenant_tables(CORE_TENANT_TABLES)}),
            "faults": array(obj({"id": string(minLength=1, maxLength=32),
                                 "tenant": string(description="The snapshot's tenant"),
                                 "spec": ref("FaultRuleInput"), "matched": integer(minimum=0),
                                 "fired": integer(minimum=0), "created_at": number(minimum=0),
                                 "expires_at": nullable(number())},
                                ["id", "tenant", "spec", "matched", "fired", "created_at"]),
                            description="The tenant's fault rules (their match.tenant is the snapshot's tenant)"),
            "quotas": array(ref("RateLimitInput"), description="The tenant's rate limits"),
            "clock": nullable(obj({"mode": string(enum=list(MODES)),
                                   "anchor_virtual": number(minimum=STATE_RANGE[0],
                                                            maximum=STATE_RANGE[1]),
                                   "anchor_real": number(minimum=STATE_RANGE[0],
                                                         maximum=STATE_RANGE[1]),
                                   "speed": number(exclusiveMinimum=True, minimum=0, maximum=MAX_SPEED)},
                                  description="Becomes the clock on import ({} or null: the clock stays)")),
            "seed": integer()},
            ["format", "schemaVersion", "tenant"], closed=False,
            description="One tenant: model, assets, time series, rollups, clients (secret hashes), fault rules, "
                        "quotas, the clock and the seed"),
        "JournalEntry": obj({"time": string(), "tenant": nullable(string()), "method": string(), "path": string(),
                             "query": string(), "status": integer(), "durationMs": number(),
                             "fault": nullable(string()),
                             "requestBody": nullable(string(description="with --journal-bodies N: its first N "
                                                                        "characters")),
                             "responseBody": nullable(string(description="with --journal-bodies N"))},
                            ["time", "tenant", "method", "path", "query", "status", "durationMs", "fault"]),
    }


# The built-in scenarios (emulator/devices/data/scenarios), named here because the control package sits below the
# devices; tests/test_cli_targets.py holds the two lists equal.
BUILTIN_SCENARIOS = ("blocked-discharge", "cavitation", "device-offline", "dry-running", "seal-wear", "sensor-drift",
                     "sensor-dropout", "sensor-stuck")


def control_plane(admin_token: bool) -> dict:
    """``admin_token``: whether one is set, so the guarded routes say so (security and their 401)."""
    tag = "Control plane"
    guarded = [{"adminToken": []}] if admin_token else []
    auth = (401,) if admin_token else ()

    def op(endpoint, summary, responses, *statuses, open_route=False, notes=None, **kw):
        status_set = statuses if open_route else (*auth, *statuses)
        endpoint = endpoint if "." in endpoint else f"control.{endpoint}"  # the pump route's blueprint is "pumps"
        return operation(endpoint, summary, {**responses, **errors("core", *status_set, notes=notes)},
                         tag=tag, security=[] if open_route else guarded, **kw)

    tenant_query = query("tenant", string(), "Only this tenant's")
    clock_ok = {"200": ok("The clock", ref("Clock"))}
    return {
        "/_emulator/health": {"get": op("health", "Readiness: answers once the store is open",
                                        {"200": ok("Ready", ref("Health"))}, open_route=True)},
        "/_emulator/capabilities": {"get": op(
            "capabilities", "The emulated APIs, every enforced limit, the scopes and the known gaps",
            {"200": ok("Capabilities", ref("Capabilities"))}, open_route=True)},
        "/_emulator/openapi.json": {"get": operation(
            "openapi.document", "This document", {"200": ok("An OpenAPI 3.0 document", obj({
                "openapi": string(), "info": obj({}, closed=False), "paths": obj({}, closed=False)},
                ["openapi", "info", "paths"], closed=False)), **errors("core")}, tag=tag, security=[])},
        "/_emulator/tenants": {
            "post": op("create_tenant", "Create a tenant with its clients and root asset",
                       {"201": ok("The tenant and its credentials", ref("TenantCreated"))}, 400, 409, 413,
                       body=json_body(ref("TenantInput"))),
            "get": op("list_tenants", "Every tenant with its clients (no secrets)",
                      {"200": ok("Tenants", ref("TenantList"))}),
        },
        "/_emulator/tenants/{name}": {"delete": op(
            "delete_tenant", "Delete a tenant and all its data; its tokens answer 401 at once", {"204": NO_CONTENT},
            404, params=[path("name", string(pattern=limits.TENANT_NAME_PATTERN), "The tenant's name")])},
        "/_emulator/tenants/{name}/pumps": {"post": op(
            "pumps.add_pump", "A simulated pump in the tenant, with `historyHours` of data written at once "
            "(the pytest plugin's `pump()`); its id derives from seed, tenant and name",
            {"201": ok("The pump and how many records were written", obj({
                "assetId": string(), "name": string(), "historyHours": number(), "records": integer()}, "all"))},
            400, 404, 409, 413, 415,
            params=[path("name", string(pattern=limits.TENANT_NAME_PATTERN), "The tenant's name")],
            body=json_body(obj({"name": string(pattern=NAME_TEXT_PATTERN, maxLength=limits.ASSET_NAME_MAX,
                                       default="Pump", description="As an asset's name"),
                                "historyHours": number(minimum=0, maximum=168), "seed": integer(),
                                "scenario": string(description="A built-in scenario's name or the path of a "
                                                               "scenario file on the server"),
                                "parentId": string(description="An existing asset (default: the root)"),
                                "cadence": number(minimum=1, maximum=3600)}), required=False))},
        "/_emulator/tenants/{name}/fleet": {"post": op(
            "pumps.seed_fleet", "The fleet `mindsphere-emulator seed` builds (enterprise, sites, pump stations, "
            "pumps), or what of it the tenant lacks; ids derive from seed, tenant and position",
            {"200": ok("What was created", obj({
                "tenant": string(), "seed": integer(), "pumps": integer(),
                "created": obj({"pumps": integer(minimum=0), "sites": integer(minimum=0),
                                "areas": integer(minimum=0)}, "all")}, "all"))},
            400, 404, 409, 413, 415,
            params=[path("name", string(pattern=limits.TENANT_NAME_PATTERN), "The tenant's name")],
            body=json_body(obj({"pumps": integer(minimum=1, maximum=10_000),
                                "seed": integer(description="Default: the server's --seed"),
                                "scenarios": array(string(enum=list(BUILTIN_SCENARIOS)),
                                                   description="Built-in scenarios: the k-th drives the k-th pump")},
                               ["pumps"])))},
        "/_emulator/keys/rotate": {"post": op(
            "rotate_keys", "A new signing key; the old one stays listed until its last token expires",
            {"200": ok("The new key id and the published keys", obj({"kid": string(),
                                                                      "keys": array(ref("JsonWebKey"))}, "all"))})},
        "/_emulator/clock": {
            "get": op("get_clock", "The virtual clock", clock_ok),
            "put": op("put_clock", "Set the clock: real, frozen at `time`, or offset (from `time` at `speed`)",
                      clock_ok, 400, 413, body=json_body(ref("ClockInput"))),
        },
        "/_emulator/clock/advance": {"post": op(
            "advance_clock", "Jump ahead (a real clock becomes an offset one)", clock_ok, 400, 413,
            body=json_body(obj({"seconds": number(minimum=-10 * 365 * 86400, maximum=10 * 365 * 86400)}, "all",
                               closed=False)))},
        "/_emulator/faults": {
            "post": op("create_fault", "Create a fault rule", {"201": ok("The rule", ref("FaultRule"))}, 400, 413,
                       body=json_body(ref("FaultRuleInput"))),
            "get": op("list_faults", "Every rule with how often it matched and fired",
                      {"200": ok("Rules", obj({"faults": array(ref("FaultRule"))}, "all"))}, params=[tenant_query]),
            "delete": op("delete_faults", "Remove every rule (or one tenant's)", {"204": NO_CONTENT},
                         params=[tenant_query]),
        },
        "/_emulator/faults/{rule_id}": {"delete": op(
            "delete_fault", "Remove one rule", {"204": NO_CONTENT}, 404,
            params=[path("rule_id", string(), "The rule's id")])},
        "/_emulator/ratelimits": {
            "put": op("put_ratelimit", "Replace a tenant's quota (for one API, or for all without `api`)",
                      {"200": ok("The quota", ref("RateLimit"))}, 400, 413, body=json_body(ref("RateLimitInput"))),
            "get": op("get_ratelimits", "The run-time quotas and the setting's default", {"200": ok("Quotas", obj({
                "ratelimits": array(ref("RateLimit")), "default": nullable(rate_limit())}, "all"))}),
            "delete": op("delete_ratelimits", "Remove the run-time quotas (or one tenant's)", {"204": NO_CONTENT},
                         params=[tenant_query]),
        },
        "/_emulator/snapshots": {"post": op(
            "import_snapshot", "Import a snapshot (its tenant must not hold data here); its clock becomes the clock",
            {"201": ok("Imported", obj({"imported": string()}, "all"))}, 400, 409, 413,
            body=json_body(ref("Snapshot")))},
        "/_emulator/snapshots/{name}": {"get": op(
            "export_snapshot", "One tenant as a JSON document (a download)",
            {"200": ok("The snapshot", ref("Snapshot"), {"Content-Disposition": {"schema": string(),
                                                                                 "description": "attachment"}})},
            404, params=[path("name", string(pattern=limits.TENANT_NAME_PATTERN), "The tenant's name")])},
        "/_emulator/datahub/catalog": {"get": op(
            "datahub_catalog", "The published contracts a Mendix user sees in the Data Hub catalogue", {
                "200": ok("The user and the contracts", obj({"user": string(),
                                                              "contracts": array(ref("CatalogContract"))}, "all"))},
            400, notes={400: "user is missing or not an email address"},
            description="Across tenants: those whose first publisher has the user's email domain (seed 2.3.3).",
            params=[query("user", string(pattern=EMAIL.pattern), "The user's email address", required=True)])},
        "/_emulator/journal": {
            "get": op("get_journal", "Recorded data-plane and token requests, oldest first",
                      {"200": ok("Entries", obj({"entries": array(ref("JournalEntry"))}, "all"))}, 400, params=[
                          query("method", string(), "HTTP method"), query("path", string(), "A glob"),
                          query("status", integer(minimum=100, maximum=599), "Status code"), tenant_query,
                          time_query("since", "Entries at or after this time"),
                          query("limit", integer(minimum=1, maximum=JOURNAL_MAX_LIMIT, default=1000),
                                "At most this many (the newest)")]),
            "delete": op("clear_journal", "Clear the journal (or one tenant's entries)", {"204": NO_CONTENT},
                         params=[tenant_query]),
        },
        "/_emulator/reset": {"post": op(
            "reset", "Back to the start state: one tenant (`{\"tenant\": name}`) or everything (`{}`)", {
                "200": ok("What was reset", obj({
                    "reset": {"anyOf": [string(enum=["everything"]), array(string(), minItems=1, maxItems=1)]},
                    "durationMs": number(minimum=0)}, "all"))},
            400, 404, 413, body=json_body(obj({"tenant": nullable(string())}, closed=False), required=False))},
    }


# --- the document --------------------------------------------------------------------------------------

TAGS = [
    {"name": "Token service", "description": "OAuth client credentials, token keys, the technical token manager"},
    {"name": "Asset Management v3", "description": "Core error envelope"},
    {"name": "IoT Time Series v3", "description": "Errors as {id, message}"},
    {"name": "TS Aggregates", "description": "v4: core error envelope; v3: {id, message}"},
    {"name": "Data Hub", "description": "Contract administration under /_emulator/contracts (the tenant's token, "
                                        "scopes mdsp.core.am.r/w/d; core error envelope) and the read-only OData "
                                        "v4 service of each published contract under /odata/{contract}/ (scope "
                                        "mdsp.datahub.r; OData error envelope)"},
    {"name": "Control plane", "description": "The emulator's own API: tenants, keys, faults, rate limits, clock, "
                                             "journal, reset, snapshots, the Data Hub catalogue"},
]

DESCRIPTION = """A local emulator of Siemens MindSphere (Insights Hub) APIs. Errors come in each API's envelope:
core `{"errors": [{"code", "logref", "message"}]}` (Asset Management, Aggregates v4, token manager, Data Hub
contract administration, control plane), time series `{"id", "message"}` (IoT Time Series, Aggregates v3), OAuth
`{"error", "error_description"}` (`/oauth/token`) and OData `{"error": {"code", "message", "target"}}` (the Data Hub
OData services under `/odata/`). Unknown paths answer 404 and wrong methods 405 (with `Allow`) in the envelope of
the API the path belongs to; bodies over 16 MB answer 413, and a NUL character (`%00`) in a path or query 400. With
`--allow-fault-header`, any data-plane request may carry `X-Emulator-Fault: <status>|delay=MS|drop` (not listed per
operation)."""


def build(base_url: str, admin_token: bool = False) -> dict:
    """The whole document; ``base_url`` is how the client called us, ``admin_token`` whether one guards
    the control plane (the only setting that changes what a client must send)."""
    paths = {**token_service(), **asset_management(), **time_series(), **aggregates(), **data_hub(),
             **control_plane(admin_token)}
    parts, tags = components(), list(TAGS)
    for api in _registry().apis:  # the APIs that carry their own fragment (spec.py beside their routes)
        if api.spec is None:
            continue
        fragment = api.spec(admin_token)
        clash = set(fragment.get("paths", {})) & set(paths)
        clash |= set(fragment.get("schemas", {})) & set(parts["schemas"])
        if clash:
            raise ValueError(f"the OpenAPI fragment of {api.name} redefines {sorted(clash)}")
        paths.update(fragment.get("paths", {}))
        parts["schemas"].update(fragment.get("schemas", {}))
        if all(tag["name"] != api.title for tag in tags):
            tags.append({"name": api.title, "description": f"{api.title} ({api.envelope} error envelope)"})
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "mindsphere-emulator", "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": base_url.rstrip("/")}],
        "tags": tags,
        "paths": paths,
        "components": parts,
    }


@bp.get("/openapi.json")
def document():
    """Open like ``/_emulator/health`` (its own blueprint escapes the control plane's admin token)."""
    settings = runtime().settings
    return jsonify(build(f"{request.scheme}://{request.host}", bool(settings.admin_token)))
