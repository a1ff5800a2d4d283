"""Requests validated from their operation's schema: the query parameters and the JSON body of every documented
route, checked before the route runs, from the same OpenAPI document the emulator serves.

Why: each API writes its contract once, in its package's ``spec.py``; if the routes checked types, required
properties, patterns, enums and bounds by hand as well, every rule would live twice and drift (the document once
promised patterns it only copied). So the structural rules live in the schemas, and the code keeps what a schema
cannot say: what depends on the tenant (an existing type, a variable's data type, an etag) or on several fields
at once.

How: :func:`compile_operations` translates each operation's schemas from OpenAPI 3.0 to JSON Schema (draft 4:
``nullable`` becomes a type list, ``$ref`` is inlined, annotations go) and compiles them with fastjsonschema,
once per process; :func:`install` wraps the view of every documented endpoint, so the checks run after the request
chain and the blueprints' own guards (authentication answers 401 before a body answers 400) and right before the
route. A violation raises the typed errors of :mod:`emulator.errors` (a body: ``invalidRequestBodyProperty``, or
``missingRequestBodyProperty`` for a required property absent or null; a query parameter: ``invalidParameter``
or ``missingParameter``), so it answers in the called API's envelope, with a message that names the failing path
and says what it must be (``body.variables[0].dataType must be one of 'BOOLEAN', ...``, ``query.limit must be
between 1 and 2000``; a pattern in the words its fragment gives it, else quoted). A body with the wrong media
type, malformed JSON or no body at all answers as the route's reader does (:mod:`emulator.httpio`): the validator
reads it with the same function, once (the route gets the parsed body).

Not checked here: path parameters and headers (their refusals are the routes': 404 for an unknown id, 400/412 for
an etag), the OData system query options (``$filter``, ... are OData, parsed by ``emulator.odata.query``) and the
operations a fragment lists as ``checked_in_code``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import fastjsonschema
from flask import request

from emulator import errors, httpio
from emulator.spec import PATTERN_TEXTS

DRAFT = "http://json-schema.org/draft-04/schema#"  # OpenAPI 3.0's exclusiveMinimum is draft 4's boolean
# dropped from the compiled schemas: description and example are kept, as the messages quote them (a choice of forms
# its description, a long pattern without a text of its own its example)
ANNOTATIONS = frozenset({"examples", "default", "title", "nullable", "deprecated", "readOnly", "writeOnly",
                         "externalDocs", "xml"})
JSON_MEDIA = ("application/json",)
LONG_PATTERN = 120  # a longer pattern (a calendar) is not quoted in a message: its example is
TYPE_NAMES = {"object": "an object", "array": "an array", "string": "a string", "integer": "an integer",
              "number": "a number", "boolean": "true or false", "null": "null"}
KEY = "mdsp.request_checks"  # app.extensions: the checks the app's views were wrapped with


# --- OpenAPI 3.0 -> JSON Schema ------------------------------------------------------------------------

def to_json_schema(node: dict, components: dict, seen: tuple[str, ...] = ()) -> dict:
    """A JSON Schema (draft 4) of an OpenAPI 3.0 schema: ``$ref`` inlined, ``nullable`` as a type list."""
    if "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        if name in seen:
            raise ValueError(f"the schema {name} refers to itself: it cannot be inlined")
        return to_json_schema(components[kind][name], components, (*seen, name))
    out: dict = {}
    for key, value in node.items():
        if key in ANNOTATIONS:
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(sub, components, seen) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = to_json_schema(value, components, seen)
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [to_json_schema(sub, components, seen) for sub in value]
        else:
            out[key] = value
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]  # an enum lists null itself (emulator.spec.nullable)
    return out


# --- one compiled schema -------------------------------------------------------------------------------

class Check:
    """A compiled schema; calling it with a value raises ``invalid`` (or ``missing``, for a required property
    that is absent or null) with a message naming ``where`` and the failing path."""

    def __init__(self, schema: dict, where: str, texts: Mapping[str, str], *,
                 invalid: type[errors.ApiError] = errors.InvalidBody,
                 missing: type[errors.ApiError] = errors.MissingBodyProperty):
        self.schema = schema
        self.where = where
        self.texts = texts
        self.invalid, self.missing = invalid, missing
        self._validate = None  # compiled on the first call: a server starts without compiling what it never checks

    def __call__(self, value) -> None:
        validate = self._validate
        if validate is None:
            validate = self._validate = _compiled(json.dumps(self.schema, sort_keys=True))
        try:
            validate(value)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise self.error(exc) from None

    def error(self, exc: fastjsonschema.JsonSchemaValueException) -> errors.ApiError:
        steps = [str(step) for step in exc.path[1:]]  # fastjsonschema names the root "data"
        here = _schema_at(self.schema, steps) or {}
        if exc.rule == "required":
            absent = next((name for name in exc.rule_definition if name not in exc.value), exc.rule_definition[0])
            return self.missing(f"{self._name(exc.name)}{_step(absent)} is required")
        if exc.rule == "type" and exc.value is None and steps and steps[-1] in (
                _schema_at(self.schema, steps[:-1]) or {}).get("required", ()):
            return self.missing(f"{self._name(exc.name)} is required")
        return self.invalid(f"{self._name(exc.name)} {_explain(exc, here, self.texts)}")

    def _name(self, name: str) -> str:
        return self.where + name[len("data"):]


@functools.cache
def _compiled(schema: str):
    """One compiled function per distinct schema (many parameters share theirs: a time, a tenant's name)."""
    return fastjsonschema.compile({"$schema": DRAFT, **json.loads(schema)}, use_default=False)


def _step(name: str) -> str:
    return f"[{name}]" if name.isdigit() else f".{name}"


def _schema_at(schema: dict, steps: list[str]) -> dict | None:
    """The schema a value at ``steps`` (property names, array indexes) is checked against, where one is."""
    for step in steps:
        if "items" in schema and step.isdigit():
            schema = schema["items"]
        elif step in schema.get("properties", {}):
            schema = schema["properties"][step]
        elif isinstance(schema.get("additionalProperties"), dict):
            schema = schema["additionalProperties"]
        else:
            return None
    return schema


def _explain(exc: fastjsonschema.JsonSchemaValueException, here: dict, texts: Mapping[str, str]) -> str:
    """What the value at fault must be, in words: the pattern's meaning where its fragment gives one."""
    rule, limit, value = exc.rule, exc.rule_definition, exc.value
    if rule == "type":
        kinds = limit if isinstance(limit, list) else [limit]
        return "must be " + " or ".join(TYPE_NAMES.get(kind, kind) for kind in kinds)
    if rule == "pattern":
        if limit in texts:
            return texts[limit]
        if len(limit) <= LONG_PATTERN:
            return f"does not match {limit}"
        return "is not in the form it takes" + (f" (e.g. {here['example']})" if "example" in here else "")
    if rule == "enum":
        named = [repr(item) for item in limit if item is not None]
        either = named[0] if len(named) == 1 else "one of " + ", ".join(named)
        return f"must be {either}" + (" or null" if None in limit else "")
    if rule in ("minimum", "maximum") and _stated(here.get("minimum")) and "maximum" in here and \
            not here.get("exclusiveMinimum"):
        return f"must be between {here['minimum']} and {here['maximum']}"
    if rule == "minimum":
        return f"must be above {limit}" if here.get("exclusiveMinimum") else f"must be at least {limit}"
    if rule == "maximum":
        return f"must be at most {limit}"
    if rule == "minLength":
        return "must not be empty" if limit == 1 else f"must be at least {limit} characters long"
    if rule == "maxLength":
        return f"must be at most {limit} characters long"
    if rule == "minItems":
        return "must not be empty" if limit == 1 else f"must hold at least {limit} items"
    if rule == "maxItems":
        return f"must hold at most {limit} items"
    if rule == "minProperties":
        return "must not be empty" if limit == 1 else f"must hold at least {limit} properties"
    if rule == "additionalProperties" and isinstance(value, dict):
        allowed = list(here.get("properties", {}))
        unknown = ", ".join(sorted(set(value) - set(allowed)))
        return f"unknown properties: {unknown} (allowed: {', '.join(allowed)})"
    if rule in ("anyOf", "oneOf"):
        return "matches none of the forms it may take" + (f": {here['description']}" if "description" in here else "")
    return exc.message.removeprefix(exc.name).strip()


def _stated(low) -> bool:
    """A lower bound worth naming next to the upper one (not a 32-bit integer's floor: "at most 200" says it)."""
    return low is not None and low > -(2**31)


def compile_body(schema: dict, components: dict, texts: Mapping[str, str], where: str = "body") -> Check:
    """A check of a JSON document against an OpenAPI schema (a component's ``$ref`` or inline); ``texts``: what
    the patterns mean, for the messages."""
    return Check(to_json_schema(schema, components), where, texts)


class DocumentChecks:
    """``check(name, value, where="body")``: a document checked against the schema ``documents()[name]`` (an API's
    components, or an operation's inline body) as a request's body is. For what reaches a service by another way
    than a request's body: a merge patch's result, a verb the dashboard or the command line calls too. Each
    schema is compiled on its first use. An object made at import whose work is in its methods (a closure made at
    import kept whatever its maker was then: mutation testing never saw a changed one run)."""

    def __init__(self, documents: Callable[[], dict], texts: Mapping[str, str]):
        self.documents = documents
        self.texts = texts

    def __call__(self, name: str, value, where: str = "body") -> None:
        _document_check(self, name, where)(value)


@functools.cache
def _document_check(checks: DocumentChecks, name: str, where: str) -> Check:
    return compile_body({"$ref": f"#/components/schemas/{name}"}, {"schemas": checks.documents()},
                        {**PATTERN_TEXTS, **checks.texts}, where)


# --- the operations ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueryCheck:
    name: str
    required: bool
    empty_is_absent: bool
    parse: Callable[[str], object]
    check: Check


@dataclass(frozen=True)
class OperationCheck:
    """What one operation validates before its route runs: documented query parameters, a JSON body."""

    operation_id: str
    query: tuple[QueryCheck, ...] = ()
    body: Check | None = None
    media: tuple[str, ...] = JSON_MEDIA
    body_required: bool = True

    def __call__(self) -> None:
        if self.query:
            args = request.args
            for param in self.query:
                raw = args.get(param.name)
                if raw is None or (raw == "" and (param.empty_is_absent or param.required)):
                    if param.required:
                        raise errors.MissingParameter(f"query.{param.name} is required")
                    continue
                param.check(param.parse(raw))
        if self.body is None:
            return
        sent = bool(request.get_data(cache=True).strip())
        if request.mimetype in self.media or not (request.mimetype or sent):
            value = httpio.json_body(self.media, required=self.body_required)  # malformed, or missing: 400
            if sent:
                self.body(value)  # a JSON null too: no route reads it as "no body"
        # else a body of another (or no) media type: the route's reader refuses it (415), as it always did


def _number(kind: type, name: str):
    """A query value read as the routes read it (``int(raw)``): what does not parse answers 400."""
    what = TYPE_NAMES["integer" if kind is int else "number"]

    def parse(raw: str):
        try:
            return kind(raw)
        except ValueError:
            raise errors.BadRequest(f"query.{name} must be {what}") from None

    return parse


def _query_check(param: dict, components: dict, texts: Mapping[str, str]) -> QueryCheck | None:
    if param["in"] != "query" or param["name"].startswith("$") or "schema" not in param:
        return None  # a header, a path parameter (the route's 404), an OData option, a JSON filter (its parser)
    name, schema = param["name"], to_json_schema(param["schema"], components)
    parse = {"integer": _number(int, name), "number": _number(float, name)}.get(schema.get("type"), str)
    return QueryCheck(name, param.get("required", False), param.get("allowEmptyValue", False), parse,
                      Check(schema, f"query.{name}", texts, invalid=errors.BadRequest, missing=errors.MissingParameter))


def _operation_check(op_id: str, op: dict, components: dict, texts: Mapping[str, str]) -> OperationCheck | None:
    params = [components["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
              for p in op.get("parameters", ())]
    query = tuple(check for check in (_query_check(p, components, texts) for p in params) if check is not None)
    body, media, required = None, JSON_MEDIA, True
    content = op.get("requestBody", {}).get("content", {})
    json_media = tuple(m for m in content if m == "application/json" or m.endswith("+json"))
    if json_media:
        body = compile_body(content[json_media[0]]["schema"], components, texts)
        media, required = json_media, op["requestBody"].get("required", False)
    if not query and body is None:
        return None
    return OperationCheck(op_id, query, body, media, required)


def compile_operations(paths: dict, components: dict, texts: Mapping[str, str],
                       skip=()) -> dict[tuple[str, str], OperationCheck]:
    """(Flask endpoint, METHOD) -> the checks of every operation that has any; ``texts``: what the patterns mean;
    ``skip``: operationIds whose requests are checked in code. A shared endpoint's operationId adds ``.{method}``
    (OpenAPI wants them unique)."""
    out = {}
    for item in paths.values():
        for method, op in item.items():
            if op["operationId"] in skip:
                continue
            check = _operation_check(op["operationId"], op, components, texts)
            if check is not None:
                out[op["operationId"].removesuffix(f".{method}"), method.upper()] = check
    return out


def install(app, checks: dict[tuple[str, str], OperationCheck]) -> None:
    """Wrap the view of every checked endpoint: its checks run right before it (after the request chain and the
    blueprints' guards). An operation without a route is an error of its fragment."""
    by_endpoint: dict[str, dict[str, OperationCheck]] = {}
    for (endpoint, method), check in checks.items():
        by_endpoint.setdefault(endpoint, {})[method] = check
        if method == "GET":
            by_endpoint[endpoint]["HEAD"] = check
    for endpoint, methods in by_endpoint.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            raise LookupError(f"the operation {endpoint} of the OpenAPI document has no route")
        app.view_functions[endpoint] = _checked(view, methods)
    app.extensions[KEY] = checks


def _checked(view, methods: dict[str, OperationCheck]):
    @functools.wraps(view)
    def checked(*args, **kwargs):
        check = methods.get(request.method)
        if check is not None:
            check()
        return view(*args, **kwargs)

    return checked
