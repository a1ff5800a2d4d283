"""``GET /_emulator/openapi.json``: valid, complete and accurate, checked through HTTP.

Complete: every route of the Flask URL map under ``/api``, ``/oauth``, ``/token_keys``, ``/odata``
and ``/_emulator`` is documented with its methods, and nothing else is (so a route added without its
documentation fails here). Accurate: real answers validate against the schemas the document gives
for their status, and each operation's errors use the envelope its API speaks (``emulator.apis``).

Schemas are checked by a small validator of the OpenAPI 3.0 keywords the document uses, since
neither ``jsonschema`` nor ``openapi-spec-validator`` is in the test extra; a test asserts that the
document uses no keyword outside that set, so the validator cannot skip a constraint unnoticed.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest

from emulator.registry import api_of
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer
from tests.support.paths import (
    ASPECT_TYPES,
    ASSET_MANAGEMENT,
    ASSET_TYPES,
    ASSETS,
    CONTRACTS,
    DASHBOARD,
    ODATA,
    OPENAPI,
    ROOT,
    TIMESERIES,
)

PREFIXES = ("/api/", "/oauth/", "/token_keys", "/odata/", "/_emulator/")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
ENVELOPE_SCHEMAS = {"core": "CoreErrors", "timeseries": "TimeSeriesError", "oauth": "OAuthError",
                    "odata": "ODataError"}

ANNOTATIONS = {"description", "example", "default", "title"}
VALIDATED = {"$ref", "type", "nullable", "enum", "properties", "required", "additionalProperties", "items",
             "minItems", "maxItems", "anyOf", "allOf", "pattern", "minimum", "maximum", "exclusiveMinimum",
             "minLength", "maxLength", "minProperties"}
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


@pytest.fixture
def doc(admin):
    resp = admin.get(OPENAPI)
    assert resp.status_code == 200, resp.text
    return resp.json()


# --- a validator of the OpenAPI 3.0 schema keywords the document uses ------------------------------------

def resolve(doc: dict, node: dict) -> dict:
    while "$ref" in node:
        assert node["$ref"].startswith("#/"), node
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def errors_of(value, schema: dict, doc: dict, where: str = "$") -> list[str]:
    """Why ``value`` does not match ``schema`` (an empty list when it does)."""
    schema = resolve(doc, schema)
    if value is None and "type" in schema:  # OpenAPI 3.0 has no null type: only nullable admits it
        return [] if schema.get("nullable") and None in schema.get("enum", [None]) else [f"{where}: null refused"]
    found = []
    kind = schema.get("type")
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = kind is None or isinstance(value, TYPES[kind])
    if not ok:
        return [f"{where}: {value!r} is not of type {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", float("inf")):
            found.append(f"{where}: {value!r} has a length outside the bounds")
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = schema.get("minimum", float("-inf")), schema.get("maximum", float("inf"))
        if value < low or value > high or (schema.get("exclusiveMinimum") and value == low):
            found.append(f"{where}: {value!r} is outside [{low}, {high}]")
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", float("inf")):
            found.append(f"{where}: {len(value)} items is outside the bounds")
        for i, item in enumerate(value):
            found += errors_of(item, schema.get("items", {}), doc, f"{where}[{i}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        found += [f"{where}: {key!r} is missing" for key in schema.get("required", []) if key not in value]
        if len(value) < schema.get("minProperties", 0):
            found.append(f"{where}: fewer than {schema['minProperties']} properties")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                found += errors_of(item, properties[key], doc, f"{where}.{key}")
            elif extra is False:
                found.append(f"{where}: {key!r} is not a documented property")
            elif isinstance(extra, dict):
                found += errors_of(item, extra, doc, f"{where}.{key}")
    for sub in schema.get("allOf", []):
        found += errors_of(value, sub, doc, where)
    if "anyOf" in schema and all(errors_of(value, sub, doc, where) for sub in schema["anyOf"]):
        found.append(f"{where}: {value!r} matches none of anyOf")
    return found


def schemas_in(node, inside_schema: bool = False):
    """Every schema object of the document (components, parameters, bodies, responses, nested)."""
    if isinstance(node, dict):
        if inside_schema:
            yield node
        for key, value in node.items():
            if key in ("schema",) or (key == "schemas" and isinstance(value, dict)):
                children = value.values() if key == "schemas" else [value]
                for child in children:
                    yield from schemas_in(child, inside_schema=True)
            elif inside_schema and key in ("properties",):
                for child in value.values():
                    yield from schemas_in(child, inside_schema=True)
            elif inside_schema and key in ("items", "additionalProperties") and isinstance(value, dict):
                yield from schemas_in(value, inside_schema=True)
            elif inside_schema and key in ("anyOf", "allOf"):
                for child in value:
                    yield from schemas_in(child, inside_schema=True)
            elif not inside_schema:
                yield from schemas_in(value)
    elif isinstance(node, list) and not inside_schema:
        for item in node:
            yield from schemas_in(item)


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield path, method, op


def flask_routes(app) -> dict[tuple[str, str], str]:
    """(OpenAPI path, method) -> endpoint of every route the document must cover."""
    out = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIXES) or rule.rule.startswith(DASHBOARD):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out[(path, method.lower())] = rule.endpoint
    return out


def operation_ids(routes: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """The operationId each route must have: its Flask endpoint, so a reader finds the route function. Where
    one endpoint serves several methods (the OData routes), the methods but GET add ``.{method}``: OpenAPI
    requires every operationId to be unique."""
    shared = Counter(routes.values())
    return {(path, method): endpoint if shared[endpoint] == 1 or method == "get" else f"{endpoint}.{method}"
            for (path, method), endpoint in routes.items()}


def assert_answer_documented(doc: dict, path: str, method: str, resp) -> None:
    """The answer's status is documented for the operation (or falls to ``default``), its media type too, and
    a JSON body validates."""
    responses = doc["paths"][path][method]["responses"]
    documented = responses.get(str(resp.status_code)) or responses.get("default")
    assert documented is not None, f"{method.upper()} {path}: status {resp.status_code} is not documented"
    if "content" not in documented:
        assert not resp.content, f"{method.upper()} {path}: {resp.status_code} is documented without a body"
        return
    media = resp.headers["Content-Type"].split(";")[0].strip()
    assert media in documented["content"], f"{method.upper()} {path} {resp.status_code}: {media} is not documented"
    if media != "application/json":
        return
    problems = errors_of(resp.json(), documented["content"]["application/json"]["schema"], doc)
    assert not problems, f"{method.upper()} {path} {resp.status_code}: {problems}\n{resp.text[:2000]}"


# --- the document ------------------------------------------------------------------------------------------

def test_served_as_openapi_30(server, admin, doc):
    resp = admin.get(OPENAPI)
    assert resp.headers["Content-Type"].startswith("application/json")
    assert re.fullmatch(r"3\.0\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"] == [{"url": server.url}]
    assert {"bearerAuth", "basicAuth", "spaceAuthKey", "adminToken"} <= set(doc["components"]["securitySchemes"])


def test_every_route_is_documented_and_nothing_else(server, doc):
    routes = flask_routes(server.app)
    documented = {(path, method): op["operationId"] for path, method, op in operations(doc)}
    assert sorted(set(routes) - set(documented)) == [], "routes missing from the document"
    assert sorted(set(documented) - set(routes)) == [], "documented operations the emulator does not serve"
    assert documented == operation_ids(routes)  # the Flask endpoint: a reader finds the route function
    assert len(set(documented.values())) == len(documented), "operationIds must be unique"


def test_path_parameters_match_the_templates(doc):
    for path, method, op in operations(doc):
        params = [resolve(doc, p) for p in op.get("parameters", [])]
        in_path = sorted(p["name"] for p in params if p["in"] == "path")
        assert in_path == sorted(re.findall(r"{(\w+)}", path)), f"{method.upper()} {path}"
        assert all(p["required"] for p in params if p["in"] == "path")
        keys = [(p["in"], p["name"].lower() if p["in"] == "header" else p["name"]) for p in params]
        assert len(keys) == len(set(keys)), f"{method.upper()} {path}: a parameter appears twice"
        assert op["responses"] and all(r.get("description") for r in op["responses"].values())


def test_every_reference_resolves_and_every_keyword_is_checked(doc):
    for node in schemas_in(doc):
        if "$ref" in node:
            assert set(node) == {"$ref"}, f"siblings of $ref are ignored in OpenAPI 3.0: {node}"
            resolve(doc, node)
        unknown = set(node) - VALIDATED - ANNOTATIONS
        assert not unknown, f"keywords {unknown} would not be validated here: {node}"
        if node.get("nullable"):
            assert "type" in node, f"nullable needs a type in OpenAPI 3.0: {node}"
            assert "enum" not in node or None in node["enum"], f"a nullable enum must list null: {node}"


def test_errors_use_the_envelope_of_their_api(doc):
    for path, method, op in operations(doc):
        expected = ENVELOPE_SCHEMAS[api_of(path).envelope]
        for status, response in op["responses"].items():
            if status[0] in "45" or status == "default":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{expected}"}, f"{method.upper()} {path} {status}"


def test_security_follows_the_api(doc):
    for path, method, op in operations(doc):
        if path == "/api/technicaltokenmanager/v3/oauth/token":
            assert op["security"] == [{"spaceAuthKey": []}, {"basicAuth": []}]
        elif api_of(path).protected:  # /api/..., /odata/..., /_emulator/contracts: the tenant's token
            assert op["security"] == [{"bearerAuth": []}], f"{method.upper()} {path}"
            assert "401" in op["responses"] and "403" in op["responses"]
        elif path == "/oauth/token":
            assert op["security"] == [{"basicAuth": []}, {}]
        else:  # /token_keys and, without an admin token, the whole control plane
            assert op["security"] == [], f"{method.upper()} {path}"


def test_documented_limits(doc):
    def param(path, method, name):
        (found,) = [resolve(doc, p) for p in doc["paths"][path][method]["parameters"]
                    if resolve(doc, p)["name"] == name]
        return found

    v4 = "/api/iottsaggregates/v4/aggregates"
    assert param(v4, "get", "intervalUnit")["schema"]["enum"] == ["minute", "hour", "day", "week", "month"]
    assert param(v4, "get", "assetId")["required"] and param(v4, "get", "aspectName")["required"]
    v3 = "/api/iottsaggregates/v3/aggregates/{asset_id}/{aspect}"
    assert all(param(v3, "get", name)["required"] for name in ("from", "to", "intervalUnit", "intervalValue"))
    limit = param(f"{TIMESERIES}/{{asset_id}}/{{aspect}}", "get", "limit")["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 2000)
    assert param(f"{TIMESERIES}/{{asset_id}}/{{aspect}}", "get", "sort")["schema"]["enum"] == ["asc", "desc"]
    assert param(ASSETS, "get", "size")["schema"]["maximum"] == 200
    assert param(f"{ASSETS}/{{asset_id}}", "put", "If-Match")["required"]
    pairs = doc["paths"][TIMESERIES]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert pairs["properties"]["timeseries"]["maxItems"] == 5
    patch = doc["paths"][f"{ASSETS}/{{asset_id}}"]["patch"]["requestBody"]["content"]
    assert list(patch) == ["application/merge-patch+json"]


def test_open_and_guarded_routes_with_an_admin_token():
    with LiveServer(Settings(database_url="sqlite://", admin_token="s3cret")) as live, ApiSession(live.url) as anyone:
        resp = anyone.get(OPENAPI)
        assert resp.status_code == 200, resp.text  # open like health, not behind the admin token
        doc = resp.json()
        assert anyone.get("/_emulator/tenants").status_code == 401
        for path, method, op in operations(doc):
            if not path.startswith("/_emulator/") or api_of(path).protected:  # contracts: the tenant's token
                continue
            if path in ("/_emulator/health", "/_emulator/capabilities", OPENAPI):
                assert op["security"] == [] and "401" not in op["responses"]
            else:
                assert op["security"] == [{"adminToken": []}], f"{method.upper()} {path}"
                assert "401" in op["responses"]
        assert_answer_documented(doc, "/_emulator/tenants", "get", anyone.get("/_emulator/tenants"))


# --- real answers validate against it ------------------------------------------------------------------------

def test_asset_management_answers(api, doc):
    root = api.get(ROOT)
    assert_answer_documented(doc, ROOT, "get", root)
    assert root.headers["ETag"] == f'"{root.json()["etag"]}"'
    assert_answer_documented(doc, f"{ASSET_MANAGEMENT}/", "get", api.get(f"{ASSET_MANAGEMENT}/"))
    assert_answer_documented(doc, ASSETS, "get", api.get(ASSETS))
    assert_answer_documented(doc, ASSETS, "get", api.get(ASSETS, params={"page": 5}))  # no _embedded
    assert_answer_documented(doc, ASSET_TYPES, "get", api.get(ASSET_TYPES, params={"exploded": "true"}))
    missing = api.get(f"{ASSETS}/{uuid.uuid4().hex}")
    assert missing.status_code == 404
    assert_answer_documented(doc, f"{ASSETS}/{{asset_id}}", "get", missing)
    too_big = api.get(ASSETS, params={"size": 201})
    assert too_big.status_code == 400
    assert_answer_documented(doc, ASSETS, "get", too_big)


def test_asset_with_values_and_aspects(api, tenant, doc):
    name = tenant["name"]
    aspect_type = api.put(f"{ASPECT_TYPES}/{name}.Plate", json={
        "name": "Plate", "category": "static",
        "variables": [{"name": "serial", "dataType": "STRING", "length": 20}, {"name": "year", "dataType": "INT"}]})
    assert_answer_documented(doc, f"{ASPECT_TYPES}/{{type_id}}", "put", aspect_type)
    asset_type = api.put(f"{ASSET_TYPES}/{name}.Pump", json={
        "name": "Pump", "parentTypeId": "core.basicdevice", "aspects": [{"name": "plate",
                                                                        "aspectTypeId": f"{name}.Plate"}],
        "variables": [{"name": "power", "dataType": "DOUBLE", "defaultValue": "1.5"}]})
    assert_answer_documented(doc, f"{ASSET_TYPES}/{{type_id}}", "put", asset_type)
    created = api.post(ASSETS, json={
        "name": "P1", "typeId": f"{name}.Pump", "parentId": tenant["rootAssetId"], "location": {"country": "DE"},
        "aspects": [{"name": "plate", "variables": [{"name": "year", "value": "2020"}]}]})
    assert created.status_code == 201, created.text
    assert_answer_documented(doc, ASSETS, "post", created)
    asset_id = created.json()["assetId"]
    for suffix in ("", "/aspects", "/variables"):
        assert_answer_documented(doc, f"{ASSETS}/{{asset_id}}{suffix}", "get",
                                 api.get(f"{ASSETS}/{asset_id}{suffix}"))
    stale = api.put(f"{ASSETS}/{asset_id}", json={"name": "P2"}, headers={"If-Match": "7"})
    assert stale.status_code == 412
    assert_answer_documented(doc, f"{ASSETS}/{{asset_id}}", "put", stale)


def test_time_series_answers(api, tenant, doc):
    refused = api.put(TIMESERIES, json={"timeseries": []})
    assert refused.status_code == 400 and set(refused.json()) == {"id", "message"}
    assert_answer_documented(doc, TIMESERIES, "put", refused)
    failed = api.put(TIMESERIES, json={"timeseries": [{"entityId": uuid.uuid4().hex, "propertySetName": "x",
                                                       "data": []}]})
    assert failed.status_code == 202
    assert_answer_documented(doc, TIMESERIES, "put", failed)
    missing = api.get(f"{TIMESERIES}/{tenant['rootAssetId']}/nothing")
    assert missing.status_code == 404
    assert_answer_documented(doc, f"{TIMESERIES}/{{asset_id}}/{{aspect}}", "get", missing)
    bad_unit = api.get("/api/iottsaggregates/v4/aggregates", params={
        "assetId": tenant["rootAssetId"], "aspectName": "x", "intervalUnit": "days"})
    assert bad_unit.status_code in (400, 404)
    assert_answer_documented(doc, "/api/iottsaggregates/v4/aggregates", "get", bad_unit)


def test_token_and_bearer_answers(server, admin, tenant, doc):
    client = tenant["clients"][0]
    token = admin.post("/oauth/token", data={"grant_type": "client_credentials"},
                       auth=(client["clientId"], client["clientSecret"]))
    assert token.status_code == 200
    assert_answer_documented(doc, "/oauth/token", "post", token)
    bad = admin.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(client["clientId"], "wrong"))
    assert bad.status_code == 401
    assert_answer_documented(doc, "/oauth/token", "post", bad)
    assert_answer_documented(doc, "/token_keys", "get", admin.get("/token_keys"))
    with ApiSession(server.url, "not-a-token") as stranger:
        assert_answer_documented(doc, ASSETS, "get", stranger.get(ASSETS))
        assert_answer_documented(doc, f"{TIMESERIES}/{{asset_id}}/{{aspect}}", "get",
                                 stranger.get(f"{TIMESERIES}/{tenant['rootAssetId']}/x"))


def test_control_plane_answers(admin, tenant, doc):
    for path in ("/_emulator/health", "/_emulator/capabilities", "/_emulator/tenants", "/_emulator/clock",
                 "/_emulator/faults", "/_emulator/ratelimits", "/_emulator/journal", OPENAPI):
        assert_answer_documented(doc, path, "get", admin.get(path))
    refused = admin.post("/_emulator/tenants", json={"name": "No"})
    assert refused.status_code == 400
    assert_answer_documented(doc, "/_emulator/tenants", "post", refused)
    assert_answer_documented(doc, "/_emulator/snapshots/{name}", "get",
                             admin.get(f"/_emulator/snapshots/{tenant['name']}"))


# --- Data Hub: contract administration, the catalogue and the OData services ------------------------------

# the document's path templates of a contract's OData service and of its entity sets
SERVICE = f"{ODATA}/{{contract}}/"
RESOURCE = f"{ODATA}/{{contract}}/{{resource}}"


def data_hub_model(api, tenant, aspect_type="Flow", asset_type="Pump") -> str:
    """A dynamic aspect type on an asset type and a Site type; one asset of the first under the root, with a
    record. Returns the asset's id."""
    t = tenant["name"]
    for url, body in [
        (f"{ASPECT_TYPES}/{t}.{aspect_type}", {"name": aspect_type, "category": "dynamic",
                                               "variables": [{"name": "rate", "dataType": "DOUBLE"}]}),
        (f"{ASSET_TYPES}/{t}.Site", {"name": "Site", "parentTypeId": "core.basicsite"}),
        (f"{ASSET_TYPES}/{t}.{asset_type}", {"name": asset_type, "parentTypeId": "core.basicasset", "aspects": [
            {"name": "flow", "aspectTypeId": f"{t}.{aspect_type}"}]}),
    ]:
        assert api.put(url, json=body).status_code == 201
    created = api.post(ASSETS, json={"name": "P1", "typeId": f"{t}.{asset_type}",
                                     "parentId": tenant["rootAssetId"]})
    assert created.status_code == 201, created.text
    asset_id = created.json()["assetId"]
    written = api.put(f"{TIMESERIES}/{asset_id}/flow", json=[{"_time": "2024-01-01T00:00:00.000Z", "rate": 1.5}])
    assert written.status_code == 204, written.text
    return asset_id


def test_contract_administration_answers(admin, api, tenant, doc):
    data_hub_model(api, tenant)
    t = tenant["name"]
    created = api.post(CONTRACTS, json={"name": "plant", "assetTypeIds": [f"{t}.Pump", f"{t}.Site"]})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{CONTRACTS}/plant"
    assert_answer_documented(doc, CONTRACTS, "post", created)
    for refused, status in [(api.post(CONTRACTS, json={"name": "plant", "assetTypeIds": [f"{t}.Pump"]}), 409),
                            (api.post(CONTRACTS, json={"name": "x", "assetTypeIds": [f"{t}.Pump"], "bogus": 1}), 400),
                            (api.post(CONTRACTS, data="{}", headers={"Content-Type": "text/plain"}), 415)]:
        assert refused.status_code == status, refused.text
        assert_answer_documented(doc, CONTRACTS, "post", refused)
    assert_answer_documented(doc, CONTRACTS, "get", api.get(CONTRACTS))
    for status, name in [(200, "plant"), (404, "nothing")]:
        answer = api.get(f"{CONTRACTS}/{name}")
        assert answer.status_code == status
        assert_answer_documented(doc, f"{CONTRACTS}/{{name}}", "get", answer)
    download = api.get(f"{CONTRACTS}/plant/download")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    assert_answer_documented(doc, f"{CONTRACTS}/{{name}}/download", "get", download)
    no_email = api.post(f"{CONTRACTS}/plant/publish")
    assert no_email.status_code == 400
    assert_answer_documented(doc, f"{CONTRACTS}/{{name}}/publish", "post", no_email)
    published = api.post(f"{CONTRACTS}/plant/publish", json={"publisherEmail": "maker@example.com"})
    assert published.status_code == 200 and published.json()["published"]
    assert_answer_documented(doc, f"{CONTRACTS}/{{name}}/publish", "post", published)
    catalog = admin.get("/_emulator/datahub/catalog", params={"user": "someone@example.com"})
    assert any(c["tenant"] == t for c in catalog.json()["contracts"])
    assert_answer_documented(doc, "/_emulator/datahub/catalog", "get", catalog)
    for params in ({"user": "someone"}, {}):
        refused = admin.get("/_emulator/datahub/catalog", params=params)
        assert refused.status_code == 400
        assert_answer_documented(doc, "/_emulator/datahub/catalog", "get", refused)
    deleted = api.delete(f"{CONTRACTS}/plant")
    assert deleted.status_code == 204
    assert_answer_documented(doc, f"{CONTRACTS}/{{name}}", "delete", deleted)
    assert_answer_documented(doc, f"{CONTRACTS}/{{name}}", "delete", api.delete(f"{CONTRACTS}/plant"))


def test_publish_fails_on_a_long_aggregate_name(api, tenant, doc):
    """The documented 500: AGGR_{AspectType}_{AspectName}_{AssetType} over 200 characters (seed 9.2)."""
    data_hub_model(api, tenant, aspect_type="F" * 100, asset_type="P" * 100)
    created = api.post(CONTRACTS, json={"name": "long", "assetTypeIds": [f"{tenant['name']}.{'P' * 100}"],
                                        "publisherEmail": "maker@example.com"})
    assert created.status_code == 201, created.text
    failed = api.post(f"{CONTRACTS}/long/publish")
    assert failed.status_code == 500 and "errors" in failed.json()
    assert_answer_documented(doc, f"{CONTRACTS}/{{name}}/publish", "post", failed)


def test_odata_answers(server, api, tenant, doc):
    asset_id = data_hub_model(api, tenant)
    t = tenant["name"]
    assert api.post(CONTRACTS, json={"name": "plant", "assetTypeIds": [f"{t}.Pump", f"{t}.Site"],
                                     "publisherEmail": "maker@example.com"}).status_code == 201
    unpublished = api.get("/odata/plant/")
    assert unpublished.status_code == 404
    assert_answer_documented(doc, SERVICE, "get", unpublished)
    assert api.post(f"{CONTRACTS}/plant/publish").status_code == 200

    service = api.get("/odata/plant/")
    assert service.status_code == 200 and service.headers["OData-Version"] == "4.0"
    assert_answer_documented(doc, SERVICE, "get", service)
    refused = api.put("/odata/plant/", json={})
    assert refused.status_code == 405 and "GET" in refused.headers["Allow"]
    assert_answer_documented(doc, SERVICE, "put", refused)

    def read(resource, status=200, params=None, **kw):
        answer = api.get(f"/odata/plant/{resource}", params=params, **kw)
        assert answer.status_code == status, answer.text
        assert_answer_documented(doc, RESOURCE, "get", answer)
        return answer

    metadata = api.get("/odata/plant/$metadata")
    assert metadata.status_code == 200 and metadata.headers["Content-Type"].startswith("application/xml")
    assert_answer_documented(doc, "/odata/{contract}/$metadata", "get", metadata)
    page = read("Pump", params={"$count": "true", "$top": "1", "$select": "assetId,name"}).json()
    assert page["@odata.count"] == 1 and page["value"] == [{"assetId": asset_id, "name": "P1"}]
    read("Site", params={"$orderby": "name desc", "$skip": "0"})
    assert read(f"Pump('{asset_id}')").json()["assetId"] == asset_id
    assert read("Pump/$count").text == "1"
    assert read("TS_Flow_flow_Pump", params={"$filter": f"assetId eq '{asset_id}'"}).json()["value"][0]["rate"] == 1.5
    read("AGGR_Flow_flow_Pump", params={"$filter": f"assetId eq '{asset_id}' and intervalUnit eq 'days' and "
                                                   "timestamp gt '2023-12-31T00:00:00' and "
                                                   "timestamp le '2024-01-02T00:00:00'"})
    for resource, status, params in [("Pump", 400, {"$top": "x"}), ("Pump", 400, {"$bogus": "1"}),
                                     ("Pump", 501, {"$search": "x"}), ("Nothing", 404, None)]:
        assert "error" in read(resource, status, params).json()
    read("Pump", 406, headers={"Accept": "application/xml"})

    queried = api.post("/odata/plant/Pump/$query", data="$top=1", headers={"Content-Type": "text/plain"})
    assert queried.status_code == 200 and len(queried.json()["value"]) == 1
    assert_answer_documented(doc, RESOURCE, "post", queried)
    for answer, status in [(api.post("/odata/plant/Pump/$query", json={}), 415), (api.post("/odata/plant/Pump"), 405)]:
        assert answer.status_code == status
        assert_answer_documented(doc, RESOURCE, "post", answer)
    for method in ("put", "patch", "delete"):
        answer = api.request(method, "/odata/plant/Pump")
        assert answer.status_code == 405
        assert_answer_documented(doc, RESOURCE, method, answer)
    with ApiSession(server.url, "not-a-token") as stranger:
        assert_answer_documented(doc, RESOURCE, "get", stranger.get("/odata/plant/Pump"))
        assert_answer_documented(doc, CONTRACTS, "get", stranger.get(CONTRACTS))
