"""HTTP for Data Hub contracts: the OData v4 service of each published contract under
``/odata/{contract}/``, and the contract administration API under ``/_emulator/contracts``.

The service is read-only (seed 8.1): any write answers 405 in the OData error shape. It answers
``OData-Version: 4.0`` and JSON with the control information asked for in ``Accept`` or ``$format``
(``odata.metadata=minimal``, the default, ``full`` or ``none``); a bad or expired token answers 401 (the
request chain's bearer check), on which Mendix calls its headers microflow again (odata.md 1).
"""

from __future__ import annotations

import re
from urllib.parse import quote
from zoneinfo import ZoneInfo

import orjson
from flask import Blueprint, Response, current_app, g, request

from emulator import context, errors
from emulator.assets.models import assets
from emulator.httpio import json_body
from emulator.odata import contracts as service
from emulator.odata import sets
from emulator.odata.csdl import namespace
from emulator.odata.model import find_set
from emulator.odata.query import (
    JSON_TYPES,
    Options,
    format_option,
    negotiate,
    odata_error,
    parse_options,
    parse_query_string,
)
from emulator.runtime import runtime

bp = Blueprint("odata", __name__, url_prefix="/odata")
admin_bp = Blueprint("contracts", __name__, url_prefix="/_emulator/contracts")

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_KEYED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\((.*)\)$")
MAX_VERSION = re.compile(r"^([0-9]+)(\.[0-9]+)?$")  # OData-MaxVersion: 1*DIGIT "." 1*DIGIT (4 alone is taken too)



def _answer(body, metadata: str = "minimal", status: int = 200) -> Response:
    return _json(orjson.dumps(body), metadata, status)


def _json(payload: bytes, metadata: str, status: int = 200) -> Response:
    resp = Response(payload, status=status, content_type=JSON_TYPE.replace("=minimal", "=" + metadata))
    resp.headers["OData-Version"] = "4.0"
    return resp


def _context(metadata: str, url: str) -> dict:
    """The context URL, first in a payload, unless the client asked for no control information (JSON 3.1.3)."""
    return {} if metadata == "none" else {"@odata.context": url}


def _check_headers(served: tuple[str, ...], params: dict[str, str] | None = None) -> str:
    """Check OData-MaxVersion, then the format: ``$format`` (when ``params`` holds one) overrides ``Accept``
    (JSON format 3). Returns the control information asked for: minimal, full or none."""
    max_version = request.headers.get("OData-MaxVersion", "").strip()
    if max_version:
        version = MAX_VERSION.fullmatch(max_version)
        if version is None:
            raise odata_error(f"OData-MaxVersion {max_version!r} is not a version (such as 4.0)")
        if int(version.group(1)) < 4:
            raise odata_error(f"This service speaks OData 4.0; OData-MaxVersion {max_version} is lower")
    if params and "$format" in params:
        return format_option(params["$format"])
    return negotiate(request.headers.get("Accept"), served)


def _read_only(allowed: str) -> None:
    raise errors.MethodNotAllowed("Data Hub contracts are read-only: no insert, update or delete (use the REST "
                                  "APIs to change data)", headers={"Allow": allowed})


def _contract(name: str) -> dict:
    """The published contract of the request's tenant, with its ``model`` (read once per request)."""
    found = g.get("contract")
    if found is None:
        found = service.published(context.scope(), name)
        if found is None:
            raise errors.NotFound(f"No published contract named {name!r} in this tenant")
        g.contract = found
    row, model = found
    return {**row, "model": model}


def _metadata(row: dict) -> bytes:
    """The CSDL of a published contract, rendered once per process (it never changes)."""
    capabilities = runtime().settings.odata_capability_annotations
    key = ("contract-csdl", row["tenant_id"], row["name"], row["model_key"], capabilities)
    cache = runtime().derived_cache
    document = cache.get(key)
    if document is None:
        document = service.metadata(row, capabilities)
        if row["model_key"] is not None:  # not of a transaction's own uncommitted change (see model_key)
            cache[key] = document
    return document


def _root(name: str) -> str:
    return f"{context.base_url()}/odata/{quote(name)}/"


@bp.route("/<contract>/", methods=ALL_METHODS)
def service_document(contract: str):
    """The entity sets of the contract."""
    if request.method not in ("GET", "HEAD"):
        _read_only("GET, HEAD")
    metadata = _check_headers(JSON_TYPES, parse_query_string(request.query_string))
    row = _contract(contract)
    return _answer({**_context(metadata, _root(contract) + "$metadata"),
                    "value": [{"name": s["name"], "kind": "EntitySet", "url": s["name"]}
                              for s in row["model"]["sets"]]}, metadata)


@bp.route("/<contract>/$metadata", methods=ALL_METHODS)
def metadata(contract: str):
    """The contract's CSDL (XML). A resource of its own, not an entity set: no query option applies to it."""
    if request.method not in ("GET", "HEAD"):
        _read_only("GET, HEAD")
    _check_headers(("application/xml",))
    resp = Response(_metadata(_contract(contract)), content_type="application/xml")
    resp.headers["OData-Version"] = "4.0"
    return resp


@bp.route("/<contract>/<path:resource>", methods=ALL_METHODS)
def resource(contract: str, resource: str):
    """An entity set, ``Set/$count``, ``Set/$query`` (POST), ``Set(key)``, ``Set(key)/Nav``."""
    segments = resource.rstrip("/").split("/")
    if segments[0] == "$batch":  # Part 1 9.3.1: what the service does not implement is 501, whatever the method
        _contract(contract)
        raise odata_error("$batch is not supported by this service: send each request on its own", "$batch",
                          errors.NotImplementedYet)
    query_segment = segments[-1] == "$query"
    if request.method == "POST" and query_segment:
        segments = segments[:-1]
        if request.mimetype != "text/plain":
            raise errors.UnsupportedMediaType("$query takes the query options as text/plain")
        params = parse_query_string(request.get_data())
    elif request.method not in ("GET", "HEAD"):
        _read_only("GET, HEAD" + (", POST" if query_segment else ""))
    else:
        params = parse_query_string(request.query_string)
    counting = segments[-1] == "$count"
    # a count is text/plain (Part 1 11.2.9); clients that ask every answer in JSON get it too
    metadata = _check_headers(("text/plain", "application/json") if counting else JSON_TYPES,
                              None if counting else params)
    if counting:
        segments = segments[:-1]
    row = _contract(contract)
    model_sets = {s["name"]: s for s in row["model"]["sets"]}
    if not segments or len(segments) > 2:
        raise errors.NotFound(f"No resource {resource!r} in contract {contract!r}")
    entity_set, key = _entity_set(segments[0], row["model"])
    nav, where = None, ()
    if len(segments) == 2:
        if key is None or entity_set["kind"] != "asset":
            raise odata_error(f"{segments[1]!r}: only an asset (Set('id')) has navigation properties",
                              segments[1], errors.NotImplementedYet)
        nav = next((n for n in entity_set["navigation"] if n["name"] == segments[1]), None)
        if nav is None:
            raise errors.NotFound(f"{entity_set['name']} has no navigation property {segments[1]!r}")
        if not sets.read_assets(context.scope(), entity_set, Options(top=1), [assets.c.asset_id == key]).rows:
            raise errors.NotFound(f"{entity_set['name']} has no entity with key {key!r}")
        where = _navigation_where(nav, key)
        entity_set, key = model_sets[nav["target"]], None
    if counting and (key is not None or (nav is not None and not nav["collection"])):
        raise odata_error(f"/$count counts a collection; {'/'.join(segments)} is a single entity", "$count")
    options = parse_options(params, entity_set, model_sets)
    options.metadata = metadata
    root = _root(contract)
    if counting:
        options.count, options.top, options.expand = True, 0, {}
        result = _read(entity_set, options, where)
        return Response(str(result.count), content_type="text/plain", headers={"OData-Version": "4.0"})
    if key is not None:
        item = _by_key(entity_set, key, options)
        if item is None:
            raise errors.NotFound(f"{entity_set['name']} has no entity with key {key!r}")
        return _answer({**_context(metadata, f"{root}$metadata#{entity_set['name']}{_projection(options)}/$entity"),
                        **item}, metadata)
    result = _read(entity_set, options, where)
    if nav is not None and not nav["collection"]:
        if not result.rows:
            return Response(status=204, headers={"OData-Version": "4.0"})
        return _answer({**_context(metadata, f"{root}$metadata#{entity_set['name']}{_projection(options)}/$entity"),
                        **_shape(entity_set, options, result.rows)[0]}, metadata)
    body = _context(metadata, f"{root}$metadata#{entity_set['name']}{_projection(options)}")
    if result.count is not None:
        body["@odata.count"] = result.count
    if result.texts is not None:  # runs of rows already in JSON: written once into the answer, not encoded again
        parts = [orjson.dumps(body)[:-1] + (b',"value":[' if body else b'"value":[')]
        for k, run in enumerate(result.texts):
            parts += (b",", run) if k else (run,)
        parts.append(b"]}")
        return _json(b"".join(parts), metadata)
    body["value"] = _shape(entity_set, options, result.rows)
    if result.more:
        body["@odata.nextLink"] = _next_link(root + "/".join(segments), options, len(result.rows))
    return _answer(body, metadata)


def _projection(options: Options) -> str:
    """The context URL's select list (Part 1, 10.9/10.10): selected properties and navigation properties,
    expanded ones with their own selection."""
    items = list(options.select or [])
    items += [nav for nav in options.select_navigation if not options.expand.get(nav)]
    items += [f"{nav}({','.join(selected)})" for nav, selected in options.expand.items() if selected]
    return f"({','.join(items)})" if items else ""


def _entity_set(segment: str, model: dict) -> tuple[dict, str | None]:
    key = None
    match = _KEYED.match(segment)
    if match:
        segment, key = match.group(1), _key_literal(match.group(2))
    entity_set = find_set(model, segment)
    if entity_set is None:
        raise errors.NotFound(f"The contract has no entity set {segment!r}")
    return entity_set, key


def _key_literal(text: str) -> str:
    """``'abc'`` or ``assetId='abc'`` (quotes doubled inside)."""
    _, _, value = text.rpartition("=") if re.match(r"^[A-Za-z_]\w*=", text) else ("", "", text)
    if len(value) < 2 or value[0] != "'" or value[-1] != "'":
        raise odata_error(f"The key {text!r} must be a string literal in quotes")
    return value[1:-1].replace("''", "'")


def _settings_now_zone() -> tuple[bool, int, ZoneInfo]:
    mdsp = runtime()
    return (mdsp.settings.odata_exact_counts, int(mdsp.clock.time() * 1000),
            ZoneInfo(context.tenant_row()["default_timezone"]))


def _read(entity_set: dict, options: Options, where=()) -> sets.Result:
    scope = context.scope()
    exact, now, zone = _settings_now_zone()
    if entity_set["kind"] == "asset":
        return sets.read_assets(scope, entity_set, options, where)
    if entity_set["kind"] == "timeseries":
        return sets.read_timeseries(scope, entity_set, options, exact)
    return sets.read_aggregates(scope, entity_set, options, exact, now, zone)


def _by_key(entity_set: dict, key: str, options: Options) -> dict | None:
    scope = context.scope()
    if entity_set["kind"] == "asset":
        found = sets.read_assets(scope, entity_set, Options(top=1), [assets.c.asset_id == key]).rows
        return _shape(entity_set, options, found)[0] if found else None
    if entity_set["kind"] == "timeseries":
        item = sets.timeseries_by_key(scope, entity_set, key)
    else:
        _exact, now, zone = _settings_now_zone()
        item = sets.aggregate_by_key(scope, entity_set, key, now, zone)
    return None if item is None else _shape(entity_set, options, [item])[0]


def _navigation_where(nav: dict, key: str) -> list:
    """``Set('key')/Base_X`` and ``Set('key')/Derived_Y``: the same asset, seen through the other set."""
    return [assets.c.asset_id == key]


def _expanded(entity_set: dict, options: Options, rows: list[dict]) -> None:
    """Add each ``$expand``-ed navigation property to the rows (whole entities), one query per property: the
    same assets, seen through the other set (a base or derived type)."""
    scope = context.scope()
    model_sets = _model_sets()
    keys = sorted({r["assetId"] for r in rows})
    for nav_name in options.expand:
        nav = next(n for n in entity_set["navigation"] if n["name"] == nav_name)
        found = sets.read_assets(scope, model_sets[nav["target"]], Options(top=len(keys)),
                                 [assets.c.asset_id.in_(keys)]).rows if keys else []
        by_id = {item["assetId"]: item for item in found}
        for row in rows:
            row[nav_name] = by_id.get(row["assetId"])


def _model_sets() -> dict[str, dict]:
    return {s["name"]: s for s in _contract(request.view_args["contract"])["model"]["sets"]}


def _shape(entity_set: dict, options: Options, rows: list[dict]) -> list[dict]:
    """The rows as answered: expanded, projected on ``$select``, with full control information when asked."""
    if options.expand:
        _expanded(entity_set, options, rows)
    full = _FullMetadata() if options.metadata == "full" else None
    if full is None and options.select is None and not options.expand and rows and not any(
            n["name"] in rows[0] for n in entity_set["navigation"]):
        return rows  # every property, no navigation: the rows as they are (every row has the same keys)
    return [_project(entity_set, row, options.select, options.select_navigation, options.expand, full)
            for row in rows]


class _FullMetadata:
    """What ``odata.metadata=full`` adds to each entity (JSON format 3.1.2): its type, its id (a URL that reads
    it: the service is read-only, so no edit or read link) and a navigation link per navigation property."""

    def __init__(self):
        contract = request.view_args["contract"]
        self.root = _root(contract)
        self.namespace = namespace(_contract(contract)["tenant_id"], contract)

    def entity_id(self, entity_set: dict, row: dict) -> str:
        key = str(row[entity_set["key"]]).replace("'", "''")
        return f"{self.root}{entity_set['name']}('{quote(key, safe=_KEY_SAFE)}')"


_KEY_SAFE = "'~!$&()*+,;=:@"  # RFC 3986 sub-delims and pchar: a key literal as a path segment


def _project(entity_set: dict, row: dict, selected: list[str] | None, selected_navs: list[str],
             expand: dict[str, list[str] | None], full: _FullMetadata | None) -> dict:
    navs = {n["name"]: n for n in entity_set["navigation"]}
    out = {}
    if full is not None:
        entity_id = full.entity_id(entity_set, row)
        out["@odata.type"] = f"#{full.namespace}.{entity_set['name']}"
        out["@odata.id"] = entity_id
    out.update((k, v) for k, v in row.items() if k not in navs and (selected is None or k in selected))
    for nav_name, nav_selected in expand.items():
        target, value = _model_sets()[navs[nav_name]["target"]], row[nav_name]
        out[nav_name] = None if value is None else _project(target, value, nav_selected, [], {}, full)
    if full is not None:
        for name in navs:
            if (selected is None or name in selected_navs) and name not in expand:
                out[f"{name}@odata.navigationLink"] = f"{entity_id}/{name}"
    return out


def _next_link(url: str, options: Options, page: int) -> str:
    params = {k: v for k, v in options.raw.items() if k not in ("$skiptoken", "$skip")}
    params["$skiptoken"] = str(options.skip + page)
    return url + "?" + "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in params.items())


# --- contract administration -------------------------------------------------------------------------

def _contract_json(row) -> dict:
    return service.as_json(row, context.base_url())


@admin_bp.post("")
def create_contract():
    """What the contract wizard saves: ``{"name", "version", "assetTypeIds", "environment", ...}`` -> 201."""
    row = service.create(context.scope(), json_body(), runtime().clock.time())
    resp = current_app.json.response(_contract_json(row))
    resp.status_code = 201
    resp.headers["Location"] = f"/_emulator/contracts/{quote(row['name'])}"
    return resp


@admin_bp.get("")
def list_contracts():
    return {"contracts": [_contract_json(row) for row in service.listing(context.scope())]}


@admin_bp.get("/<name>")
def get_contract(name: str):
    return _contract_json(service.get(context.scope(), name))


@admin_bp.delete("/<name>")
def delete_contract(name: str):
    service.delete(context.scope(), name)
    return "", 204


@admin_bp.get("/<name>/download")
def download_contract(name: str):
    """The contract's CSDL XML, to import in Studio Pro without Data Hub."""
    row = service.get(context.scope(), name)
    resp = Response(service.metadata(row, runtime().settings.odata_capability_annotations),
                    content_type="application/xml")
    resp.headers["Content-Disposition"] = f'attachment; filename="{row["name"]}-{row["version"]}.xml"'
    return resp


@admin_bp.post("/<name>/publish")
def publish_contract(name: str):
    """Publish to the Data Hub catalogue; 500 when an aggregate entity name is over 200 characters."""
    row = service.publish(context.scope(), name, json_body(required=False), runtime().clock.time())
    return _contract_json(row)
