"""The vocabulary of the OpenAPI fragments: schema helpers, the shared components, and what a fragment is.

Why it exists: each API package writes its contract once, in its own ``spec.py``, beside its routes (the
document at ``GET /_emulator/openapi.json`` merges the fragments, :mod:`emulator.control.openapi`, and requests
are validated from them, :mod:`emulator.validation`). The shapes that repeat across APIs (error responses in
each envelope, headers, paging of parameters, operations) are built here, so every fragment builds them the
same way. Enums and patterns come from the modules that enforce them (``limits``, ``times``, ...), never copied.

A fragment is a dict: ``paths`` (OpenAPI path items), ``schemas`` and ``parameters`` (components it owns; a
fragment may refer to another's), ``checked_in_code`` (operationId -> why its request is not validated from
its schema) and ``pattern_texts`` (pattern -> what it means, in the words a refusal uses). This module sits below
the API packages and imports none.
"""

from __future__ import annotations

import re

from emulator.errors import CORE_PREFIX
from emulator.times import TIME_PATTERN, TIME_YEARS

OPENAPI_VERSION = "3.0.3"
NO_NUL_PATTERN = r"^[^\x00]*$"  # emulator.middleware.screen refuses a NUL character in a path or query
FLAG_PATTERN = r"^\s*([tT][rR][uU][eE]|[fF][aA][lL][sS][eE])?\s*$"  # true or false in any case, empty for false
PATTERN_TEXTS = {  # the shared patterns' meanings, for the validator's messages
    NO_NUL_PATTERN: "must not contain a NUL character",
    FLAG_PATTERN: "must be true or false",
    TIME_PATTERN: f"is not an ISO-8601 date and time of the years {TIME_YEARS[0]}-{TIME_YEARS[1]} (e.g. "
                  "2024-01-01T00:00:00.000Z)",
}
BEARER = [{"bearerAuth": []}]
COMMON_STATUSES = (401, 403, 429)  # of every operation behind a tenant's token: no token, no scope, rate limit


# --- schemas -------------------------------------------------------------------------------------------

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
    return string(pattern=FLAG_PATTERN, example="true", **kw)


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
NOT_MODIFIED = {"description": "Not modified: If-None-Match names the current ETag (emulator.conditional); no body",
                "headers": ETAG}
NO_STORE = {"Cache-Control": ref("CacheControl", "headers")}


def operation(endpoint: str, summary: str, responses: dict, *, tag: str, security: list, params=(),
              body: dict | None = None, description: str = "") -> dict:
    """One operation; ``operationId`` is the Flask endpoint, so a reader finds the route function (and the
    request validator finds the operation of a route)."""
    out = {"operationId": endpoint, "summary": summary, "tags": [tag], "security": security,
           "responses": responses}
    if description:
        out["description"] = description
    if params:
        out["parameters"] = list(params)
    if body is not None:
        out["requestBody"] = body
    return out


def operations(blueprint: str, tag: str, envelope: str, security: list = BEARER, common=COMMON_STATUSES):
    """``op(endpoint, summary, responses, *statuses, notes=None, **kw)``: the operations of one blueprint, their
    errors in the API's envelope (``common`` statuses and ``default`` added)."""

    def op(endpoint, summary, responses, *statuses, notes=None, **kw):
        return operation(f"{blueprint}.{endpoint}", summary,
                         {**responses, **errors(envelope, *common, *statuses, notes=notes)},
                         tag=tag, security=security, **kw)

    return op


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


def time_query(name: str, description: str, *, required: bool = False) -> dict:
    return query(name, string(pattern=TIME_PATTERN), description, required=required,
                 example="2024-01-01T00:00:00.000Z")


# --- the components every API shares: its error envelope, the headers --------------------------------

def shared_components() -> dict:
    """The four error envelopes (emulator.errors.body_for) and the response headers of several APIs."""
    return {
        "schemas": {
            "CoreErrors": obj({"errors": array(obj({
                "code": string(pattern=f"^{re.escape(CORE_PREFIX)}[A-Za-z]+$", example="mdsp.core.generic.noMatch"),
                "logref": string(), "message": string()}, "all"), minItems=1)}, "all",
                description="Asset Management, Aggregates v4, token manager and control plane errors"),
            "TimeSeriesError": obj({"id": string(), "message": string()}, "all",
                                   description="IoT Time Series and Aggregates v3 errors"),
            "OAuthError": obj({"error": string(example="unauthorized"), "error_description": string()}, "all",
                              description="Token endpoint errors, as Cloud Foundry UAA writes them"),
            "ODataError": obj({"error": obj({
                "code": string(pattern=r"^\d{3}$", description="The HTTP status, as text", example="404"),
                "message": string(),
                "target": string(description="The query option, property or operator at fault, when there is one"),
            }, ["code", "message"])}, "all", description="OData errors (JSON format 21.1), with Content-Language: en"),
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
    }


def make_fragment(paths: dict, schemas: dict | None = None, parameters: dict | None = None,
                  checked_in_code: dict | None = None, pattern_texts: dict | None = None) -> dict:
    """An API's part of the document (see the module's docstring)."""
    return {"paths": paths, "schemas": schemas or {}, "parameters": parameters or {},
            "checked_in_code": checked_in_code or {}, "pattern_texts": pattern_texts or {}}
