"""HTTP for Data Hub contracts: the OData v4 service of each published contract under
``/odata/{contract}/``, and the contract administration API under ``/_emulator/contracts``.

The service is read-only (seed 8.1): any write answers 405 in the OData error shape. It answers
``OData-Version: 4.0`` and minimal-metadata JSON; a bad or expired token answers 401 (the request
chain's bearer check), on which Mendix calls its headers microflow again (odata.md 1).
"""

from __future__ import annotations

import re
from urllib.parse import quote
from zoneinfo import ZoneInfo

import orjson
from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import select

from emulator import context, errors
from emulator.assets.models import assets
from emulator.httpio import json_body
from emulator.odata import contracts as service
from emulator.odata import sets
from emulator.odata.model import find_set
from emulator.odata.query import Options, odata_error, parse_options, parse_query_string
from emulator.runtime import runtime

bp = Blueprint("odata", __name__, url_prefix="/odata")
admin_bp = Blueprint("contracts", __name__, url_prefix="/_emulator/contracts")

JSON = ["application/json"]
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_KEYED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\((.*)\)$")
MAX_VERSION = re.compile(r"^([0-9]+)(\.[0-9]+)?$")  # OData-MaxVersion: 1*DIGIT "." 1*DIGIT (4 alone is taken too)



def _answer(body, status: int = 200) -> Response:
    resp = Response(orjson.dumps(body), status=status, content_type=JSON_TYPE)
    resp.headers["OData-Version"] = "4.0"
    return resp


def _check_headers(wanted: list[str]) -> None:
    max_version = request.headers.get("OData-MaxVersion", "").strip()
    if max_version:
        version = MAX_VERSION.fullmatch(max_version)
        if version is None:
            raise odata_error(f"OData-MaxVersion {max_version!r} is not a version (such as 4.0)")
        if int(version.group(1)) < 4:
            raise odata_error(f"This service speaks OData 4.0; OData-MaxVersion {max_version} is lower")
    accept = request.headers.get("Accept")
    if accept and request.accept_mimetypes.best_match(wanted) is None:
        raise errors.ApiError(f"This resource is served as {wanted[0]}, not {accept}", status=406,
                              code="notAcceptable")


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
    key = ("contract-csdl", row["tenant_id"], row["name"], row["model_key"])
    cache = runtime().derived_cache
    document = cache.get(key)
    if document is None:
        document = cache[key] = service.metadata(row)
    return document


def _root(name: str) -> str:
    return f"{context.base_url()}/odata/{quote(name)}/"


@bp.route("/<contract>/", methods=ALL_METHODS)
def service_document(contract: str):
    """The entity sets of the contract."""
    if request.method not in ("GET", "HEAD"):
        _read_only("GET, HEAD")
    _check_headers(JSON)
    row = _contract(contract)
    return _answer({"@odata.context": _root(contract) + "$metadata",
                    "value": [{"name": s["name"], "kind": "EntitySet", "url": s["name"]}
                              for s in row["model"]["sets"]]})


@bp.route("/<contract>/$metadata", methods=ALL_METHODS)
def metadata(contract: str):
    """The contract's CSDL (XML). A resource of its own, not an entity set: no query option applies to it."""
    if request.method not in ("GET", "HEAD"):
        _read_only("GET, HEAD")
    _check_headers(["application/xml"])
    resp = Response(_metadata(_contract(contract)), content_type="application/xml")
    resp.headers["OData-Version"] = "4.0"
    return resp


@bp.route("/<contract>/<path:resource>", methods=ALL_METHODS)
def resource(contract: str, resource: str):
    """An entity set, ``Set/$count``, ``Set/$query`` (POST), ``Set(key)``, ``Set(key)/Nav``."""
    segments = resource.rstrip("/").split("/")
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
    _check_headers(["text/plain", "application/json"] if counting else JSON)  # a count is text/plain (11.2.9)
    if counting:
        segments = segments[:-1]
    if segments and segments[0] == "$batch":
        raise odata_error("$batch is not supported by this service", "$batch", errors.NotImplementedYet)
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
        where = _navigation_where(nav, key)
        entity_set, key = model_sets[nav["target"]], None
    options = parse_options(params, entity_set, model_sets)
    root = _root(contract)
    if counting:
        options.count, options.top, options.expand = True, 0, {}
        result = _read(entity_set, options, where)
        return Response(str(result.count), content_type="text/plain", headers={"OData-Version": "4.0"})
    if key is not None:
        item = _by_key(entity_set, key, options)
        if item is None:
            raise errors.NotFound(f"{entity_set['name']} has no entity with key {key!r}")
        return _answer({"@odata.context": f"{root}$metadata#{entity_set['name']}{_projection(options)}/$entity",
                        **item})
    result = _read(entity_set, options, where)
    if nav is not None and not nav["collection"]:
        if not result.rows:
            return Response(status=204, headers={"OData-Version": "4.0"})
        return _answer({"@odata.context": f"{root}$metadata#{entity_set['name']}{_projection(options)}/$entity",
                        **_shape(entity_set, options, result.rows)[0]})
    body = {"@odata.context": f"{root}$metadata#{entity_set['name']}{_projection(options)}"}
    if result.count is not None:
        body["@odata.count"] = result.count
    if result.texts is not None:  # rows already in JSON: joined, not encoded again
        head = orjson.dumps(body)[:-1]
        resp = Response(b"".join((head, b',"value":[', ",".join(result.texts).encode(), b"]}")),
                        content_type=JSON_TYPE)
        resp.headers["OData-Version"] = "4.0"
        return resp
    body["value"] = _shape(entity_set, options, result.rows)
    if result.more:
        body["@odata.nextLink"] = _next_link(root + "/".join(segments), options, len(result.rows))
    return _answer(body)


def _projection(options: Options) -> str:
    """The context URL's select list (Part 1, 10.9/10.10): selected properties, expanded ones with theirs."""
    items = list(options.select or [])
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
    if nav["relation"] in ("base", "derived"):
        return [assets.c.asset_id == key]
    if nav["relation"] == "children":
        return [assets.c.parent_id == key]
    parent = select(assets.c.parent_id).where(assets.c.asset_id == key).scalar_subquery()
    return [assets.c.asset_id == parent]


def _expanded(entity_set: dict, options: Options, rows: list[dict]) -> None:
    """Add each ``$expand``-ed navigation property to the rows, one query per property."""
    scope = context.scope()
    model_sets = {s["name"]: s for s in _contract(request.view_args["contract"])["model"]["sets"]}
    for nav_name, selected in options.expand.items():
        nav = next(n for n in entity_set["navigation"] if n["name"] == nav_name)
        target = model_sets[nav["target"]]
        relation = nav["relation"]
        if relation == "parent":
            column, keys = assets.c.asset_id, {r["parentId"] for r in rows if r["parentId"]}
        elif relation == "children":
            column, keys = assets.c.parent_id, {r["assetId"] for r in rows}
        else:
            column, keys = assets.c.asset_id, {r["assetId"] for r in rows}
        found = sets.read_assets(scope, target, Options(top=len(keys) * 10_000),
                                 [column.in_(sorted(keys))]).rows if keys else []
        for row in rows:
            if relation == "children":
                hits = [item for item in found if item["parentId"] == row["assetId"]]
            else:
                match_key = row["parentId"] if relation == "parent" else row["assetId"]
                hits = [item for item in found if item["assetId"] == match_key]
            hits = [_pick(item, selected) for item in hits]
            row[nav_name] = hits if nav["collection"] else (hits[0] if hits else None)


def _pick(item: dict, selected: list[str] | None) -> dict:
    return item if selected is None else {k: item[k] for k in selected}


def _shape(entity_set: dict, options: Options, rows: list[dict]) -> list[dict]:
    if options.expand:
        _expanded(entity_set, options, rows)
    if options.select is None:
        return rows
    keep = [*options.select, *options.expand]
    return [{k: row[k] for k in keep} for row in rows]


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
    resp = Response(service.metadata(row), content_type="application/xml")
    resp.headers["Content-Disposition"] = f'attachment; filename="{row["name"]}-{row["version"]}.xml"'
    return resp


@admin_bp.post("/<name>/publish")
def publish_contract(name: str):
    """Publish to the Data Hub catalogue; 500 when an aggregate entity name is over 200 characters."""
    row = service.publish(context.scope(), name, json_body(required=False), runtime().clock.time())
    return _contract_json(row)
