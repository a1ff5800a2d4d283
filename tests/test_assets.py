"""Assets over HTTP: create, read, update, patch, move, location, delete; ETags and races; paging and
filters; tenant isolation."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.paths import ASPECT_TYPES, ASSET_MANAGEMENT, ASSET_TYPES, ASSETS, ROOT, TENANTS
from tests.support.race import at_once
from tests.support.tenants import temporary_tenant, tenant_session

MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def pump_type(api, tenant):
    t = tenant["name"]
    api.put(f"{ASPECT_TYPES}/{t}.Plate", json={"name": "Plate", "category": "static", "variables": [
        {"name": "serial", "dataType": "STRING", "length": 10, "defaultValue": "none"},
        {"name": "power", "dataType": "DOUBLE"}]})
    api.put(f"{ASPECT_TYPES}/{t}.Sensors", json={"name": "Sensors", "category": "dynamic", "variables": [
        {"name": "flow", "dataType": "DOUBLE", "unit": "l/s", "qualityCode": True}]})
    resp = api.put(f"{ASSET_TYPES}/{t}.Pump", json={
        "name": "Pump", "parentTypeId": "core.basicasset",
        "aspects": [{"name": "Plate", "aspectTypeId": f"{t}.Plate"},
                    {"name": "Sensors", "aspectTypeId": f"{t}.Sensors"}],
        "variables": [{"name": "weight", "dataType": "INT", "defaultValue": "20"}]})
    assert resp.status_code == 201, resp.text
    return f"{t}.Pump"


def create(api, parent, name="P1", type_id="core.basicasset", **extra):
    resp = api.post(ASSETS, json={"name": name, "typeId": type_id, "parentId": parent, **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_create_and_read(api, tenant, pump_type):
    root = tenant["rootAssetId"]
    body = create(api, root, "Pump 1", pump_type, externalId="SN 123", description="first",
                  timezone="Europe/Vienna", location={"country": "Austria", "locality": "Innsbruck",
                                                      "latitude": 47.26, "longitude": 11.39},
                  variables=[{"name": "weight", "value": "35"}],
                  aspects=[{"name": "Plate", "variables": [{"name": "serial", "value": "A-1"}]}])
    assert re.fullmatch(r"[a-f0-9]{32}", body["assetId"])
    assert body["etag"] == 0 and body["parentId"] == root and body["typeId"] == pump_type
    assert body["hierarchyPath"] == [{"assetId": root, "name": tenant["name"]}]
    assert body["variables"] == [{"name": "weight", "value": "35"}]
    assert body["aspects"] == [{"name": "Plate", "variables": [{"name": "serial", "value": "A-1"},
                                                               {"name": "power", "value": None}]}]
    assert body["twinType"] == "performance" and body["deleted"] is None
    got = api.get(f"{ASSETS}/{body['assetId']}?")
    assert got.status_code == 200 and got.json() == body and got.headers["ETag"] == '"0"'


def test_defaults_of_a_bare_asset(api, tenant):
    body = create(api, tenant["rootAssetId"])
    assert body["timezone"] == "Europe/Berlin"  # the tenant's default
    assert body["externalId"] is None and body["location"] is None and body["variables"] == []


@pytest.mark.parametrize(("change", "fragment"), [
    ({"name": None}, "name is required"),
    ({"name": ""}, "name is required"),
    ({"name": "x" * 129}, "at most 128"),
    ({"name": "bad\u0000name"}, "control characters"),
    ({"typeId": "core.basicenterprise"}, "not instantiable"),
    ({"typeId": "nosuch.Type"}, "not an existing asset type"),
    ({"parentId": "0" * 32}, "not an existing asset"),
    ({"parentId": None}, "not an existing asset"),
    ({"timezone": "Mars/Olympus"}, "timezone 'Mars/Olympus' is not an IANA time zone name (e.g. Europe/Berlin)"),
    ({"timezone": "Asia/Kathmandu"}, ":15 or :45"),
    ({"twinType": "digital"}, "twinType"),
    ({"location": {"latitude": 91}}, "latitude"),
    ({"location": {"planet": "Earth"}}, "unknown properties"),
    ({"location": "Vienna"}, "must be an object"),
    ({"variables": [{"name": "nosuch", "value": "1"}]}, "no variable"),
    ({"externalId": 5}, "must be a string"),
    ({"variables": {}}, "must be an array"),
    ({"aspects": {}}, "must be an array"),
])
def test_create_refusals_write_nothing(api, tenant, change, fragment):
    body = {"name": "P", "typeId": "core.basicasset", "parentId": tenant["rootAssetId"], **change}
    resp = api.post(ASSETS, json=body)
    assert resp.status_code == 400, resp.text
    assert fragment in resp.json()["errors"][0]["message"]
    assert api.get(ASSETS).json()["page"]["totalElements"] == 1  # only the root


@pytest.mark.parametrize(("aspects", "fragment"), [
    ([{"name": "Sensors", "variables": [{"name": "flow", "value": "1"}]}], "dynamic"),
    ([{"name": "Nope", "variables": []}], "not an aspect of the type"),
    ([{"name": "Plate", "variables": [{"name": "power", "value": "fast"}]}], "finite number"),
    ([{"name": "Plate", "variables": [{"name": "serial", "value": "x" * 11}]}], "longer than 10"),
])
def test_static_values_are_validated(api, tenant, pump_type, aspects, fragment):
    resp = api.post(ASSETS, json={"name": "P", "typeId": pump_type, "parentId": tenant["rootAssetId"],
                                  "aspects": aspects})
    assert resp.status_code == 400 and fragment in resp.text


def test_put_needs_if_match_and_bumps_etag(api, tenant):
    asset = create(api, tenant["rootAssetId"])
    url = f"{ASSETS}/{asset['assetId']}"
    update = {"name": "Renamed", "externalId": "E-9", "description": "d", "location": None,
              "variables": [], "aspects": []}
    missing = api.put(url, json=update)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["code"] == "mdsp.core.generic.missingParameter"
    ok = api.put(url, json=update, headers={"If-Match": "0"})
    assert ok.status_code == 200 and ok.json()["name"] == "Renamed" and ok.json()["etag"] == 1
    assert ok.headers["ETag"] == '"1"'
    stale = api.put(url, json=update, headers={"If-Match": "0"})
    assert stale.status_code == 412 and stale.reason.upper() == "PRECONDITION FAILED"
    assert api.put(url, json=update, headers={"If-Match": "one"}).status_code == 400


@pytest.mark.parametrize(("key", "value"), [("timezone", "UTC"), ("twinType", "simulation"),
                                            ("typeId", "core.basicsite"), ("parentId", "f" * 32)])
def test_fixed_fields_cannot_change_by_put(api, tenant, key, value):
    asset = create(api, tenant["rootAssetId"])
    resp = api.put(f"{ASSETS}/{asset['assetId']}", json={"name": "P1", key: value}, headers={"If-Match": "0"})
    assert resp.status_code == 400
    assert api.get(f"{ASSETS}/{asset['assetId']}").json()["etag"] == 0


def test_merge_patch(api, tenant, pump_type):
    asset = create(api, tenant["rootAssetId"], type_id=pump_type, externalId="A", description="keep")
    url = f"{ASSETS}/{asset['assetId']}"
    resp = api.patch(url, data=json.dumps({"externalId": "B", "variables": [{"name": "weight", "value": "99"}]}),
                     headers={**MERGE, "If-Match": "0"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["externalId"], body["description"], body["etag"]) == ("B", "keep", 1)
    assert body["variables"] == [{"name": "weight", "value": "99"}]
    cleared = api.patch(url, data='{"description": null}', headers={**MERGE, "If-Match": "1"}).json()
    assert cleared["description"] is None and cleared["externalId"] == "B"
    assert api.patch(url, data='{"name": "x"}', headers={"If-Match": "2"}).status_code == 415
    assert api.patch(url, data='[1]', headers={**MERGE, "If-Match": "2"}).status_code == 400


def test_concurrent_writers_one_wins(server, api, tenant):
    asset = create(api, tenant["rootAssetId"])
    url = f"{ASSETS}/{asset['assetId']}"
    answers = at_once(server.url, api.headers["Authorization"], 6,
                      lambda session, i: session.put(url, json={"name": f"W{i}"}, headers={"If-Match": "0"}))
    assert sorted(resp.status_code for resp in answers) == [200] + [412] * 5
    assert api.get(url).json()["etag"] == 1


def test_move_and_hierarchy(api, tenant):
    root = tenant["rootAssetId"]
    site = create(api, root, "Site", "core.basicsite")
    area = create(api, site["assetId"], "Area", "core.basicarea")
    pump = create(api, root, "Pump")
    moved = api.post(f"{ASSETS}/{pump['assetId']}/move", json={"newParentId": area["assetId"]},
                     headers={"If-Match": "0"})
    assert moved.status_code == 200, moved.text
    assert [p["name"] for p in moved.json()["hierarchyPath"]] == [tenant["name"], "Site", "Area"]
    assert moved.json()["etag"] == 1
    cycle = api.post(f"{ASSETS}/{site['assetId']}/move", json={"newParentId": area["assetId"]},
                     headers={"If-Match": "0"})
    assert cycle.status_code == 400 and "below itself" in cycle.text
    assert api.post(f"{ASSETS}/{root}/move", json={"newParentId": site["assetId"]},
                    headers={"If-Match": "0"}).status_code == 400
    assert api.post(f"{ASSETS}/{pump['assetId']}/move", json={"newParentId": root}).status_code == 400
    assert api.post(f"{ASSETS}/{pump['assetId']}/move", json={}, headers={"If-Match": "1"}).status_code == 400


def test_location_is_inherited(api, tenant):
    site = create(api, tenant["rootAssetId"], "Site", "core.basicsite",
                  location={"country": "Germany", "locality": "Erlangen"})
    pump = create(api, site["assetId"], "Pump")
    assert pump["location"]["locality"] == "Erlangen"
    url = f"{ASSETS}/{pump['assetId']}/location"
    own = api.put(url, json={"country": "Germany", "locality": "Nuremberg"}, headers={"If-Match": "0"})
    assert own.status_code == 200 and own.json()["location"]["locality"] == "Nuremberg"
    assert api.put(url, json={"latitude": "north"}, headers={"If-Match": "1"}).status_code == 400
    removed = api.delete(url, headers={"If-Match": "1"})
    assert removed.status_code == 200 and removed.json()["location"]["locality"] == "Erlangen"
    assert removed.json()["etag"] == 2


@pytest.mark.parametrize(("method", "path"), [("PUT", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/move"),
                                              ("PUT", "/location"), ("DELETE", "/location")])
def test_changes_to_assets_root_need_the_id(api, method, path):
    resp = api.request(method, f"{ROOT}{path}", json={"name": "x"}, headers={"If-Match": "0"})
    assert resp.status_code == 405 and resp.headers["Allow"] == "GET"
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.methodNotAllowed"


def test_root_subresources_answer_for_the_root(api, tenant):
    assert api.get(f"{ROOT}/aspects").json()["page"]["totalElements"] == 0
    assert api.get(f"{ROOT}/variables").status_code == 200


def test_delete_rules(api, tenant):
    parent = create(api, tenant["rootAssetId"], "Parent")
    child = create(api, parent["assetId"], "Child")
    assert api.delete(f"{ASSETS}/{parent['assetId']}", headers={"If-Match": "0"}).status_code == 409
    assert api.delete(f"{ASSETS}/{child['assetId']}").status_code == 400
    assert api.delete(f"{ASSETS}/{child['assetId']}", headers={"If-Match": "7"}).status_code == 412
    assert api.delete(f"{ASSETS}/{child['assetId']}", headers={"If-Match": "0"}).status_code == 204
    assert api.get(f"{ASSETS}/{child['assetId']}").status_code == 404
    assert api.delete(f"{ASSETS}/{parent['assetId']}", headers={"If-Match": "0"}).status_code == 204
    assert api.delete(f"{ASSETS}/{tenant['rootAssetId']}", headers={"If-Match": "0"}).status_code == 400


def test_aspects_and_variables_of_an_asset(api, tenant, pump_type):
    asset = create(api, tenant["rootAssetId"], type_id=pump_type,
                   aspects=[{"name": "Plate", "variables": [{"name": "power", "value": "7.5"}]}])
    aspects = api.get(f"{ASSETS}/{asset['assetId']}/aspects?").json()
    items = aspects["_embedded"]["aspects"]
    assert [a["name"] for a in items] == ["Plate", "Sensors"]
    plate = items[0]
    assert plate["category"] == "static" and plate["holderAssetId"] == asset["assetId"]
    assert {v["name"]: v["value"] for v in plate["variables"]} == {"serial": "none", "power": "7.5"}
    assert items[1]["variables"][0]["qualityCode"] is True and "value" not in items[1]["variables"][0]
    assert aspects["page"]["totalElements"] == 2
    variables = api.get(f"{ASSETS}/{asset['assetId']}/variables").json()["_embedded"]["variables"]
    assert {(v["aspectName"], v["name"]) for v in variables} == {  # externalId: core.basicasset's
        (None, "externalId"), (None, "weight"), ("Plate", "serial"), ("Plate", "power"), ("Sensors", "flow")}


def test_paging_envelope(api, tenant):
    for i in range(12):
        create(api, tenant["rootAssetId"], f"Asset {i:02d}")
    first = api.get(ASSETS).json()
    assert first["page"] == {"size": 10, "totalElements": 13, "totalPages": 2, "number": 0}
    assert set(first["_links"]) == {"self", "first", "next", "last"}
    names = [a["name"] for a in first["_embedded"]["assets"]]
    assert names == sorted(names)
    second = api.get(ASSETS, params={"page": 1}).json()
    assert len(second["_embedded"]["assets"]) == 3 and "prev" in second["_links"]
    past = api.get(ASSETS, params={"page": 2})
    assert past.status_code == 200  # mc list-assets asks for it
    assert past.json()["_embedded"] == {"assets": []}
    assert past.json()["page"] == {"size": 10, "totalElements": 13, "totalPages": 2, "number": 2}
    only = '{"name": {"startsWith": "Asset"}}'
    desc = api.get(ASSETS, params={"sort": "name,desc", "size": 3, "filter": only}).json()
    assert [a["name"] for a in desc["_embedded"]["assets"]] == ["Asset 11", "Asset 10", "Asset 09"]
    bare = api.get(ASSETS, params={"sort": "DESC", "size": 1, "filter": only}).json()
    assert bare["_embedded"]["assets"][0]["name"] == "Asset 11"
    assert api.get(ASSETS, params={"size": 0}).json()["page"]["size"] == 10
    assert api.get(ASSETS, params={"size": 200}).status_code == 200
    too_big = api.get(ASSETS, params={"size": 2000})  # mc assets --mode tree sends 2000 (assets.ts:154)
    assert too_big.status_code == 200 and too_big.json()["page"] == {
        "size": 200, "totalElements": 13, "totalPages": 1, "number": 0}
    assert api.get(ASSETS, params={"size": "ten"}).status_code == 400
    assert api.get(ASSETS, params={"sort": "color,asc"}).status_code == 400
    assert api.get(ASSETS, params={"sort": "name,up"}).status_code == 400
    next_href = first["_links"]["next"]["href"]
    assert api.get(next_href).json()["page"]["number"] == 1
    plain = api.get(ASSETS, params={"size": 5}).json()["_links"]  # no other parameter: none to carry over
    assert plain["self"]["href"].endswith("/api/assetmanagement/v3/assets?page=0&size=5"), plain["self"]


@pytest.mark.parametrize(("path", "key"), [(ASSETS, "assets"), (ASPECT_TYPES, "aspectTypes"),
                                         (ASSET_TYPES, "assetTypes")])
def test_an_empty_page_carries_an_empty_embedded_list(api, path, key):
    """Siemens' SDK tests read ``_embedded.<key>`` unguarded after filtering on a name nothing has yet
    (asset-management-assets.spec.ts:232, asset-management-aspecttypes.spec.ts:169)."""
    fresh = '{"name": {"startsWith": "Falcon_1733450000000"}}'
    body = api.get(path, params={"filter": fresh, "sort": "DESC", "page": 0, "size": 0}).json()
    assert body["_embedded"] == {key: []}
    assert body["page"] == {"size": 10, "totalElements": 0, "totalPages": 0, "number": 0}


def test_empty_sub_resource_lists_carry_an_empty_embedded_list(api, tenant):
    asset = create(api, tenant["rootAssetId"])
    for sub in ("aspects", "variables"):
        body = api.get(f"{ASSETS}/{asset['assetId']}/{sub}", params={"page": 5}).json()
        assert body["_embedded"] == {sub: []} and body["page"]["number"] == 5


@pytest.mark.parametrize(("path", "key"), [(ASPECT_TYPES, "aspectTypes"), (ASSET_TYPES, "assetTypes")])
def test_type_lists_lower_a_large_size_to_200(api, path, key):
    body = api.get(path, params={"size": 2000}).json()
    assert body["page"]["size"] == 200 and key in body["_embedded"]


def test_an_assets_variables_and_aspects_take_pages_up_to_2000(api, tenant, pump_type):
    """Siemens' SDK @sanity test reads ``GetVariables(root, {size: 2000})`` (assets.spec.ts:198)."""
    asset = create(api, tenant["rootAssetId"], type_id=pump_type)
    for sub in ("aspects", "variables"):
        resp = api.get(f"{ASSETS}/{asset['assetId']}/{sub}", params={"size": 2000})
        assert resp.status_code == 200 and resp.json()["page"]["size"] == 2000
        assert api.get(f"{ASSETS}/{asset['assetId']}/{sub}", params={"size": 5000}).json()["page"]["size"] == 2000
    assert api.get(f"{ROOT}/variables", params={"size": 2000}).status_code == 200


def test_filters(api, tenant, pump_type):
    root = tenant["rootAssetId"]
    create(api, root, "MyMotor", externalId="m1")
    create(api, root, "MyEngine")
    create(api, root, "Pump_1", pump_type)
    site = create(api, root, "Plant%", "core.basicsite")

    def names(doc):
        resp = api.get(ASSETS, params={"filter": json.dumps(doc), "size": 200})
        assert resp.status_code == 200, resp.text
        return sorted(a["name"] for a in resp.json().get("_embedded", {}).get("assets", []))

    assert names({"name": "MyMotor"}) == ["MyMotor"]
    assert names({"name": {"eq": "MyMotor"}}) == ["MyMotor"]
    assert names({"name": {"in": {"value": ["MyMotor", "MyEngine"]}}}) == ["MyEngine", "MyMotor"]
    assert names({"name": {"startsWith": "My"}}) == ["MyEngine", "MyMotor"]
    assert names({"name": {"startsWith": "my"}}) == []  # case-sensitive
    assert names({"name": {"endsWith": "%"}}) == ["Plant%"]  # no wildcards
    assert names({"name": {"contains": "_"}}) == ["Pump_1"]
    assert names({"not": {"name": {"startsWith": "My"}}}) == sorted(["Plant%", "Pump_1", tenant["name"]])
    assert names({"name": {"or": [{"eq": "MyMotor"}, {"endsWith": "_1"}]}}) == ["MyMotor", "Pump_1"]
    assert names({"or": {"externalId": {"eq": "m1"}, "name": {"startsWith": "Pl"}}}) == ["MyMotor", "Plant%"]
    assert names({"name": {"startsWith": "My"}, "externalId": None}) == ["MyEngine"]
    assert names({"and": {"name": {"startsWith": "My"}, "externalId": "m1"}}) == ["MyMotor"]
    assert names({"hasType": "core.basicasset", "parentId": root}) == ["MyEngine", "MyMotor", "Plant%", "Pump_1"]
    assert names({"hasType": "core.BasicSite"}) == ["Plant%"]
    assert names({"typeId": {"startsWith": tenant["name"]}}) == ["Pump_1"]
    assert names({"parentId": site["assetId"]}) == []
    assert names({"noSuchField": "x", "name": "MyMotor"}) == ["MyMotor"]  # unknown fields are ignored
    assert names({"deleted": None, "name": "MyEngine"}) == ["MyEngine"]
    assert names({"deleted": {"before": "2018-01-01T00:00:00.00Z"}}) == []


def _link_query(body: dict, name: str) -> dict:
    """The query of one link of the envelope, which must lead back to the asset list."""
    href = urlsplit(body["_links"][name]["href"])
    assert href.path == ASSETS, href
    pairs = parse_qsl(href.query, keep_blank_values=True)
    assert len(pairs) == len(dict(pairs)), f"a parameter given twice: {href.query}"
    return dict(pairs)


def test_paging_links_sorting_and_parameters(api, tenant):
    """Every link of the envelope, the count under a filter, every form of ``sort``, and the parameters' edges.

    Written from ``make mutate`` (mutmut over emulator/assets/paging.py): 50 of 223 mutants survived the suite,
    among them links that pointed at the wrong page (``prev``/``last`` off by one, ``first`` at page 1),
    lost the ``filter`` and ``sort`` of the request or repeated ``page``, a count that ignored the filter,
    ``totalPages`` 1 for nothing found, ``size=1`` read as the default, a bare ``sort=asc`` or ``name,asc``
    refused, ``sort=externalId`` ignored, refusals without a message, and the 32-bit bounds one off (since then the
    request's contract refuses bad parameters before paging.py reads them: its own refusals are a second line)."""
    root = tenant["rootAssetId"]
    for i, external in enumerate(["e3", "e1", "e5", "e2", "e4"]):
        create(api, root, f"Box {i}", externalId=external)
    only = '{"name": {"startsWith": "Box"}}'

    def page(**params):
        resp = api.get(ASSETS, params={"filter": only, **params})
        assert resp.status_code == 200, resp.text
        return resp.json()

    def names(body):
        return [a["name"] for a in body.get("_embedded", {}).get("assets", [])]

    middle = page(size=2, page=1, sort="name,asc")
    assert middle["page"] == {"size": 2, "totalElements": 5, "totalPages": 3, "number": 1}  # the filter's count
    assert names(middle) == ["Box 2", "Box 3"]
    expected = {"self": "1", "first": "0", "prev": "0", "next": "2", "last": "2"}
    assert {name: _link_query(middle, name) for name in middle["_links"]} == {
        name: {"filter": only, "sort": "name,asc", "page": number, "size": "2"} for name, number in expected.items()}
    last = page(size=2, page=2)
    assert set(last["_links"]) == {"self", "first", "prev", "last"} and _link_query(last, "prev")["page"] == "1"
    beyond = page(size=2, page=7)  # past the end: prev leads back to the last page, not to page 6
    assert names(beyond) == [] and _link_query(beyond, "prev")["page"] == "2"
    assert _link_query(beyond, "last")["page"] == "2" and "next" not in beyond["_links"]
    nothing = api.get(ASSETS, params={"filter": '{"name": "no such asset"}'}).json()
    assert nothing["page"] == {"size": 10, "totalElements": 0, "totalPages": 0, "number": 0}
    assert _link_query(nothing, "last")["page"] == "0" and set(nothing["_links"]) == {"self", "first", "last"}
    lost = api.get(ASSETS, params={"filter": '{"name": "no such asset"}', "page": 3}).json()
    assert _link_query(lost, "prev")["page"] == "0"  # nothing found: prev is the first page

    assert page(size=1)["page"]["size"] == 1 and names(page(size=1)) == ["Box 0"]
    assert page(size="", page="")["page"] == {"size": 10, "totalElements": 5, "totalPages": 1, "number": 0}
    assert names(page(sort="asc")) == [f"Box {i}" for i in range(5)] == names(page(sort="name,ASC"))
    by_external = ["Box 1", "Box 3", "Box 0", "Box 4", "Box 2"]
    assert names(page(sort="externalId")) == by_external and names(page(sort="externalId,desc")) == by_external[::-1]
    assert page(page=-(2**31))["page"]["number"] == 0  # the smallest 32-bit page: read as 0
    assert page(page=2**31 - 1)["page"]["number"] == 2**31 - 1
    assert page(size=2**31 - 1)["page"]["size"] == 200  # a larger size is lowered to the limit (sdk-parity)
    # refused with the parameter and its bound named (the request's contract checks these before paging.py)
    for params, fragment in [({"page": "x"}, "page must be an integer"),
                             ({"page": 2**31}, "page must be at most 2147483647"),
                             ({"page": -(2**31) - 1}, "page must be at least -2147483648"),
                             ({"size": 2**31}, "size must be at most 2147483647"),
                             ({"sort": "name,up"}, "with ,asc or ,desc"), ({"sort": "colour"}, "sort must be a field")]:
        resp = api.get(ASSETS, params=params)
        assert resp.status_code == 400 and fragment in resp.json()["errors"][0]["message"], (params, resp.text)


def test_time_filters_on_deleted(server, admin, api, tenant):
    """``before``, ``after`` (strict) and ``between`` (either bracket) compare times as times.

    ``deleted`` is the only timestamp field of the filter language, and a delete of the API is hard (it stays
    null), so every test saw null there and flipping ``<`` to ``>`` in filters.py's ``before`` survived the
    suite. A snapshot may carry ``deleted`` (its rows are the store's; POST /_emulator/snapshots checks only
    their types): exported, given three deletion times, the tenant deleted and the snapshot imported, the
    assets are filtered through the API as a client filters them."""
    root = tenant["rootAssetId"]
    ids = {name: create(api, root, name)["assetId"] for name in ("Old", "Mid", "New")}
    snapshot = admin.get(f"/_emulator/snapshots/{tenant['name']}")
    assert snapshot.status_code == 200, snapshot.text
    doc = snapshot.json()
    deleted = {"Old": "2020-01-01T00:00:00Z", "Mid": "2022-01-01T00:00:00Z", "New": "2024-01-01T00:00:00Z"}
    for row in doc["tables"]["assets"]:
        if row["name"] in deleted:
            row["deleted"] = datetime.fromisoformat(deleted[row["name"]]).timestamp()
    assert admin.delete(f"{TENANTS}/{tenant['name']}").status_code == 204
    assert admin.post("/_emulator/snapshots", json=doc).status_code == 201
    with tenant_session(server.url, tenant) as restored:

        def names(condition):
            resp = restored.get(ASSETS, params={"filter": json.dumps({"deleted": condition}), "size": 200})
            assert resp.status_code == 200, resp.text
            return sorted(a["name"] for a in resp.json().get("_embedded", {}).get("assets", []))

        assert {a: restored.get(f"{ASSETS}/{i}").status_code for a, i in ids.items()} == dict.fromkeys(ids, 200)
        mid = deleted["Mid"]
        assert names({"before": mid}) == ["Old"]
        assert names({"after": mid}) == ["New"]
        assert names({"before": "2019-12-31T23:59:59.999Z"}) == [] and names({"after": deleted["New"]}) == []
        assert names({"between": f"[{deleted['Old']}, {mid})"}) == ["Old"]
        assert names({"between": f"({deleted['Old']}, {mid}]"}) == ["Mid"]
        assert names({"between": f"[{deleted['Old']}, {deleted['New']}]"}) == ["Mid", "New", "Old"]
        assert names({"between": f"({deleted['Old']}, {deleted['New']})"}) == ["Mid"]
        assert names({"not": {"before": mid}}) == sorted(["Mid", "New", tenant["name"]])  # null is "not before"
        assert names({"or": [{"before": mid}, {"after": mid}]}) == ["New", "Old"]


@pytest.mark.parametrize(("path", "raw", "message"), [
    (ASSETS, '{"name": ', "not valid JSON"), (ASSETS, '{"name": NaN}', "not valid JSON"),
    (ASSETS, "[1]", "must be a JSON object"), (ASSETS, '"name"', "must be a JSON object"),
    (ASSETS, "{" * 200 + "}" * 200, "not valid JSON"),
    (ASSETS, '{"not": ' * 40 + "{}" + "}" * 40, "nested deeper than 32 levels"),
    (ASSETS, '{"name": "' + "x" * 16_384 + '"}', "longer than 16384 characters"),
    (ASSETS, '{"not": []}', "a condition must be a JSON object"),
    (ASSETS, '{"or": 5}', "'and' and 'or' take an object or an array of objects"),
    (ASSETS, '{"hasType": 5}', "'hasType' takes a type id string"),
    (ASSETS, '{"name": {}}', "an empty operator object"),
    (ASSETS, '{"name": {"like": "x"}}', "unknown operator 'like'"),
    (ASSETS, '{"name": {"or": {"eq": "x"}}}', "field-level 'or' takes an array of conditions"),
    (ASSETS, '{"name": {"in": ["a"]}}', "'in' takes {\"value\": [...]}"),
    (ASSETS, '{"name": [1]}', "expected a string"),
    (ASSETS, '{"name": {"startsWith": 5}}', "'startsWith' takes a string"),
    (ASSETS, '{"deleted": {"contains": "x"}}', "'contains' applies to text fields only"),
    (ASSETS, '{"deleted": {"before": 5}}', "'before' takes a timestamp string"),
    (ASSETS, '{"name": {"after": "2018-01-01T00:00:00Z"}}', "'after' applies to timestamp fields only"),
    (ASSETS, '{"deleted": {"between": "2018-01-01T00:00:00Z"}}',
     "'between' takes \"[from, to)\" with [ or ( and ] or )"),
    (ASSETS, '{"deleted": {"between": "[a, b)"}}', None),
    (ASSETS, '{"deleted": {"before": "2018-01-01"}}', "timestamp '2018-01-01' has no time zone (end it with Z)"),
    (ASSET_TYPES, '{"instantiable": "yes"}', "expected true or false"),
])
def test_malformed_filters(api, path, raw, message):
    """Each refusal in the envelope, with its message in full (``Invalid filter: `` and what is wrong): mutants
    that dropped or garbled a message (``bad(None)``, ``"XX..."``, upper case) survived a check of the status
    alone (filters.py: ``x_bad__mutmut_1``, ``_has_type__mutmut_2..5``, ``_in__mutmut_9..11``, ``_time__mutmut_2,
    6, 28..30``). A time that does not read says why in the words of every other time (emulator/times.py)."""
    resp = api.get(path, params={"filter": raw})
    assert resp.status_code == 400, resp.text
    (error,) = resp.json()["errors"]
    assert error["code"] == "mdsp.core.generic.invalidParameter"
    if message is None:
        assert re.fullmatch(r"Invalid filter: .*timestamp.*", error["message"]), error
    else:
        assert error["message"] == f"Invalid filter: {message}", error


def _nested(levels: int, wrap, leaf):
    for _ in range(levels):
        leaf = wrap(leaf)
    return leaf


@pytest.mark.parametrize(("deepest", "build"), [
    (31, lambda n: _nested(n, lambda inner: {"and": inner}, {"name": "x"})),  # an object of conditions
    (15, lambda n: _nested(n, lambda inner: {"and": [inner]}, {"name": "x"})),  # an array: two levels each
    (31, lambda n: {"colour": _nested(n, lambda inner: {"a": inner}, 1)}),  # an unknown field's value: ignored,
    (31, lambda n: {"colour": _nested(n, lambda inner: [inner], 1)}),  # but counted as deep as it nests
    (31, lambda n: {"name": _nested(n, lambda inner: {"not": inner}, "x")}),  # a field's own not,
    (31, lambda n: {"name": _nested(n, lambda inner: {"and": [inner]}, "x")}),  # and and or: a level each
])
def test_filter_nesting_is_counted_to_the_level(api, deepest, build):
    """A filter may nest 32 levels (filters.MAX_DEPTH), each construct counted alike: one level deeper is refused.
    Mutants that counted a level as two or none (``_parts__mutmut_7, 8, 13, 14``, ``_validate_shape__mutmut_2,
    6..8, 12, 13``, ``condition__mutmut_51, 52, 67, 68``) moved the bound unnoticed while the only deep filter
    nested 200 levels."""
    assert api.get(ASSETS, params={"filter": json.dumps(build(deepest))}).status_code == 200
    resp = api.get(ASSETS, params={"filter": json.dumps(build(deepest + 1))})
    assert resp.status_code == 400 and resp.json()["errors"][0]["message"] == \
        "Invalid filter: nested deeper than 32 levels", resp.text


def test_a_blank_filter_is_none_and_the_longest_is_read(api, tenant):
    """A filter of blanks filters nothing (``parse__mutmut_4`` read it as JSON: 400); one of exactly 16384
    characters is read (``parse__mutmut_5`` refused it as too long)."""
    everything = api.get(ASSETS, params={"size": 200}).json()["_embedded"]["assets"]
    resp = api.get(ASSETS, params={"filter": "   ", "size": 200})
    assert resp.status_code == 200, resp.text
    assert resp.json()["_embedded"]["assets"] == everything
    longest = '{"name": "' + "x" * (16_384 - len('{"name": ""}')) + '"}'
    assert len(longest) == 16_384
    resp = api.get(ASSETS, params={"filter": longest})
    assert resp.status_code == 200, resp.text
    assert resp.json().get("_embedded", {}).get("assets", []) == []


def test_boolean_filter_values_may_be_strings(api, tenant):
    """``instantiable`` compares with true or false, as JSON or as the strings "true" and "false" (filters.py
    ``_literal__mutmut_7..13`` misread the strings)."""
    t = tenant["name"]
    for name, flag in (("Open", True), ("Closed", False)):
        assert api.put(f"{ASSET_TYPES}/{t}.{name}", json={"name": name, "parentTypeId": "core.basicasset",
                                                          "instantiable": flag}).status_code == 201

    def ids(value):
        resp = api.get(ASSET_TYPES, params={"filter": json.dumps({"instantiable": value, "id": {
            "startsWith": f"{t}."}})})
        assert resp.status_code == 200, resp.text
        return sorted(a["id"] for a in resp.json()["_embedded"]["assetTypes"])

    assert ids("true") == ids(True) == [f"{t}.Open"]
    assert ids("false") == ids(False) == [f"{t}.Closed"]


def test_tenant_isolation(server, admin, api, tenant, pump_type):
    """Tenant B's token gets 404 for every one of tenant A's resources, and changes nothing."""
    mine = create(api, tenant["rootAssetId"], "Mine", pump_type)
    with temporary_tenant(admin, prefix="o") as other:
        with tenant_session(server.url, other) as b:
            a_id, t = mine["assetId"], tenant["name"]
            for method, path, body in (
                ("GET", f"/assets/{a_id}", None), ("PUT", f"/assets/{a_id}", {"name": "x"}),
                ("DELETE", f"/assets/{a_id}", None), ("POST", f"/assets/{a_id}/move", {"newParentId": a_id}),
                ("PUT", f"/assets/{a_id}/location", {"country": "X"}), ("DELETE", f"/assets/{a_id}/location", None),
                ("GET", f"/assets/{a_id}/aspects", None), ("GET", f"/assets/{a_id}/variables", None),
                ("GET", f"/assettypes/{t}.Pump", None), ("DELETE", f"/assettypes/{t}.Pump", None),
                ("GET", f"/aspecttypes/{t}.Plate", None), ("DELETE", f"/aspecttypes/{t}.Plate", None),
            ):
                resp = b.request(method, ASSET_MANAGEMENT + path, json=body, headers={"If-Match": "0"})
                assert resp.status_code == 404, (method, path, resp.status_code, resp.text)
            listed = b.get(ASSETS, params={"size": 200}).json()["_embedded"]["assets"]
            assert [a["assetId"] for a in listed] == [other["rootAssetId"]]
            assert b.put(f"{ASPECT_TYPES}/{t}.Plate", json={"name": "Plate", "category": "static",
                                                            "variables": []}).status_code == 400
            moved = b.post(ASSETS, json={"name": "x", "typeId": "core.basicasset",
                                         "parentId": tenant["rootAssetId"]})
            assert moved.status_code == 400  # A's root is not an asset B can see
        after = api.get(f"{ASSETS}/{mine['assetId']}").json()
        assert after == mine


MISSING_IF_MATCH = "The If-Match header is required for this change (the resource's etag)"


@pytest.mark.parametrize("if_match, status, message", [
    ("0", 200, None), ('"0"', 200, None), ('W/"0"', 200, None),  # RFC 9110 8.8.3: a weak one names it too
    ("W/0", 200, None),  # unquoted, as the plain form is taken unquoted (``if_match__mutmut_14`` cut a digit)
    ("", 400, MISSING_IF_MATCH),
    ("X0", 400, "If-Match 'X0' is not an etag (an integer such as 3 or \"3\")"),
    ('w/"0"', 400, "If-Match 'w/\"0\"' is not an etag (an integer such as 3 or \"3\")"),  # W/ is case-sensitive
])
def test_if_match_takes_the_etag_plain_quoted_or_weak(api, tenant, if_match, status, message):
    """validation.if_match: ``3``, ``"3"`` and ``W/"3"`` name etag 3; an empty header is a missing one; anything
    else is refused in full (``if_match__mutmut_4..14, 17, 24`` garbled the weak prefix, the quotes or the
    messages)."""
    asset = create(api, tenant["rootAssetId"])
    resp = api.put(f"{ASSETS}/{asset['assetId']}", json={"name": "P2"}, headers={"If-Match": if_match})
    assert resp.status_code == status, resp.text
    if message:
        assert resp.json()["errors"][0]["message"] == message
    else:
        assert resp.json()["etag"] == 1


def test_an_assets_static_values_show_their_defaults(api, tenant, pump_type):
    """The asset's own body lists its static aspects' values, a default where none was given
    (``Model.render_values__mutmut_41, 43, 50..53`` showed null there)."""
    asset = create(api, tenant["rootAssetId"], type_id=pump_type,
                   aspects=[{"name": "Plate", "variables": [{"name": "power", "value": "7.5"}]}])
    body = api.get(f"{ASSETS}/{asset['assetId']}").json()
    assert body["aspects"] == [{"name": "Plate", "variables": [{"name": "serial", "value": "none"},
                                                               {"name": "power", "value": "7.5"}]}]
    assert body["variables"] == [{"name": "weight", "value": "20"}]
