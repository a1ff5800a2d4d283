"""Aspect types over HTTP: create, update within the real rules, ETags, merge patch, delete."""

from __future__ import annotations

import pytest

from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, TENANTS
from tests.support.tenants import tenant_session


def dynamic_body(name="Sensors", **extra):
    body = {"name": name, "category": "dynamic", "scope": "private", "description": "pump sensors",
            "variables": [{"name": "temperature", "dataType": "DOUBLE", "unit": "C", "searchable": False,
                           "qualityCode": True},
                          {"name": "status", "dataType": "STRING", "length": 32, "unit": None}]}
    body.update(extra)
    return body


def put(api, tenant, body, name=None, **headers):
    return api.put(f"{ASPECT_TYPES}/{tenant['name']}.{name or body['name']}", json=body, headers=headers)


def test_create_answers_201_with_the_resource_and_etag(api, tenant):
    resp = put(api, tenant, dynamic_body())
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["id"] == f"{tenant['name']}.Sensors"
    assert body["tenantId"] == tenant["name"]
    assert body["etag"] == 0 and resp.headers["ETag"] == '"0"'
    assert body["variables"][0] == {"name": "temperature", "dataType": "DOUBLE", "unit": "C", "searchable": False,
                                    "length": None, "defaultValue": None, "qualityCode": True}
    assert body["variables"][1]["length"] == 32
    assert body["_links"]["self"]["href"].endswith(f"/aspecttypes/{body['id']}")
    assert api.get(f"{ASPECT_TYPES}/{body['id']}").json() == body


def test_update_needs_if_match_and_bumps_the_etag(api, tenant):
    put(api, tenant, dynamic_body())
    body = dynamic_body()
    body["variables"].append({"name": "pressure", "dataType": "INT", "unit": "hPa"})
    missing = put(api, tenant, body)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["code"] == "mdsp.core.generic.missingParameter"
    stale = put(api, tenant, body, **{"If-Match": "5"})
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["code"] == "mdsp.core.generic.noMatch"
    ok = put(api, tenant, body, **{"If-Match": '"0"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["etag"] == 1 and len(ok.json()["variables"]) == 3
    again = put(api, tenant, body, **{"If-Match": "0"})
    assert again.status_code == 412


def test_if_none_match_star_is_create_only(api, tenant):
    assert put(api, tenant, dynamic_body(), **{"If-None-Match": "*"}).status_code == 201
    resp = put(api, tenant, dynamic_body(), **{"If-None-Match": "*"})
    assert resp.status_code == 412


BIG = {"name": "notes", "dataType": "BIG_STRING", "length": 1000}


@pytest.mark.parametrize(("change", "message"), [
    (lambda b: (b.update(category="static"), b["variables"].pop()),  # a static type holds no BIG_STRING
     "category cannot change (dynamic -> static)"),
    (lambda b: b["variables"].pop(), "variable 'notes' cannot be removed; send every existing variable"),
    (lambda b: b["variables"][0].update(dataType="INT"), "variable 'temperature': dataType cannot change"),
    (lambda b: b["variables"][0].update(unit="K"), "variable 'temperature': unit cannot change"),
    (lambda b: b["variables"][0].update(qualityCode=False), "variable 'temperature': qualityCode cannot change"),
    (lambda b: b["variables"][1].update(length=64), "variable 'status': the length of a dynamic string cannot change"),
    (lambda b: b["variables"][2].update(length=2000), "variable 'notes': the length of a dynamic string cannot change"),
])
def test_updates_the_real_service_refuses(api, tenant, change, message):
    """Each refusal in full, nothing written; a BIG_STRING keeps its length as a STRING does
    (types.py ``_check_aspect_type_update__mutmut_47, 48`` let it change)."""
    put(api, tenant, dynamic_body(variables=[*dynamic_body()["variables"], BIG]))
    body = dynamic_body(variables=[*dynamic_body()["variables"], dict(BIG)])
    change(body)
    resp = put(api, tenant, body, **{"If-Match": "0"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["errors"][0]["message"] == message
    assert api.get(f"{ASPECT_TYPES}/{tenant['name']}.Sensors").json()["etag"] == 0  # nothing written


def test_an_unknown_aspect_type_is_named(api, tenant):
    """``get_aspect_type__mutmut_7`` dropped the message."""
    resp = api.get(f"{ASPECT_TYPES}/{tenant['name']}.Nope")
    assert resp.status_code == 404 and resp.json()["errors"][0]["message"] == \
        f"Aspect type '{tenant['name']}.Nope' not found"


def test_static_string_may_only_grow(api, tenant):
    body = {"name": "Plate", "category": "static", "variables": [
        {"name": "serial", "dataType": "STRING", "length": 20, "defaultValue": "none", "searchable": True}]}
    assert put(api, tenant, body).status_code == 201
    body["variables"][0]["length"] = 40
    assert put(api, tenant, body, **{"If-Match": "0"}).status_code == 200
    body["variables"][0]["length"] = 10
    resp = put(api, tenant, body, **{"If-Match": "1"})
    assert resp.status_code == 400 and "may only grow" in resp.text


@pytest.mark.parametrize(("variables", "fragment"), [
    ([{"name": "x", "dataType": "FLOAT"}], "dataType must be one of"),
    ([{"name": "x", "dataType": "STRING", "length": 256}], "between 1 and 255"),
    ([{"name": "x", "dataType": "BIG_STRING", "length": 100001}], "between 1 and 100000"),
    ([{"name": "x", "dataType": "INT", "length": 4}], "length is allowed for STRING"),
    ([{"name": "x", "dataType": "INT", "defaultValue": "1"}], "static aspect variables only"),
    ([{"name": "name", "dataType": "INT"}], "reserved word"),
    ([{"name": "Etag", "dataType": "INT"}], "reserved word"),
    ([{"name": "1st", "dataType": "INT"}], "must start with a letter"),
    ([{"name": "a b", "dataType": "INT"}], "must start with a letter"),
    ([{"name": "x", "dataType": "INT"}, {"name": "X", "dataType": "INT"}], "appears twice"),
    ([{"dataType": "INT"}], "name is required"),
    ([7], "must be an object"),
])
def test_dynamic_variable_rules(api, tenant, variables, fragment):
    resp = put(api, tenant, dynamic_body(variables=variables))
    assert resp.status_code == 400, resp.text
    assert fragment in resp.json()["errors"][0]["message"]
    assert api.get(f"{ASPECT_TYPES}/{tenant['name']}.Sensors").status_code == 404


def test_big_string_only_in_dynamic_types(api, tenant):
    body = {"name": "Docs", "category": "static", "variables": [{"name": "text", "dataType": "BIG_STRING"}]}
    resp = put(api, tenant, body)
    assert resp.status_code == 400 and "dynamic aspect types only" in resp.text
    ok = put(api, tenant, dynamic_body(name="Docs", variables=[{"name": "text", "dataType": "BIG_STRING"}]))
    assert ok.status_code == 201 and ok.json()["variables"][0]["length"] == 100000


@pytest.mark.parametrize(("value", "data_type"), [("abc", "INT"), ("3000000000", "INT"), ("1.5", "LONG"),
                                                  ("yes", "BOOLEAN"), ("NaN", "DOUBLE"), ("noon", "TIMESTAMP")])
def test_static_default_values_must_fit_their_type(api, tenant, value, data_type):
    body = {"name": "Plate", "category": "static", "variables": [
        {"name": "v", "dataType": data_type, "defaultValue": value}]}
    resp = put(api, tenant, body)
    assert resp.status_code == 400
    assert "defaultValue" in resp.json()["errors"][0]["message"]


@pytest.mark.parametrize("type_id", ["othertenant.Sensors", "Sensors", "{t}.Bad-Name", "{t}." + "x" * 130, "{t}."])
def test_ids_need_the_tenant_prefix_and_plain_names(api, tenant, type_id):
    type_id = type_id.format(t=tenant["name"])
    resp = api.put(f"{ASPECT_TYPES}/{type_id}", json=dynamic_body(name=type_id.split(".")[-1]))
    assert resp.status_code == 400, resp.text


def test_name_must_match_the_id(api, tenant):
    resp = api.put(f"{ASPECT_TYPES}/{tenant['name']}.Sensors", json=dynamic_body(name="Other"))
    assert resp.status_code == 400 and "must equal" in resp.text


def test_public_scope_cannot_be_created(api, tenant):
    assert put(api, tenant, dynamic_body(scope="public")).status_code == 400


def test_merge_patch(api, tenant):
    put(api, tenant, dynamic_body())
    url = f"{ASPECT_TYPES}/{tenant['name']}.Sensors"
    patch = {"description": "patched"}
    wrong_type = api.patch(url, json=patch, headers={"If-Match": "0"})
    assert wrong_type.status_code == 415
    resp = api.patch(url, data='{"description": "patched"}',
                     headers={"If-Match": "0", "Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["description"] == "patched" and resp.json()["etag"] == 1
    assert len(resp.json()["variables"]) == 2
    no_etag = api.patch(url, data="{}", headers={"Content-Type": "application/merge-patch+json"})
    assert no_etag.status_code == 400
    removing = api.patch(url, data='{"variables": []}',
                         headers={"If-Match": "1", "Content-Type": "application/merge-patch+json"})
    assert removing.status_code == 400 and "cannot be removed" in removing.text


def test_delete_needs_if_match_and_refuses_types_in_use(api, tenant):
    put(api, tenant, dynamic_body())
    url = f"{ASPECT_TYPES}/{tenant['name']}.Sensors"
    api.put(f"{ASSET_TYPES}/{tenant['name']}.Pump", json={
        "name": "Pump", "parentTypeId": "core.basicasset",
        "aspects": [{"name": "S", "aspectTypeId": f"{tenant['name']}.Sensors"}]})
    assert api.delete(url).status_code == 400
    assert api.delete(url, headers={"If-Match": "3"}).status_code == 412
    in_use = api.delete(url, headers={"If-Match": "0"})
    assert in_use.status_code == 409
    assert in_use.json()["errors"][0]["code"] == "mdsp.core.generic.conflict"
    assert api.delete(f"{ASSET_TYPES}/{tenant['name']}.Pump", headers={"If-Match": "0"}).status_code == 204
    assert api.delete(url, headers={"If-Match": "0"}).status_code == 204
    assert api.get(url).status_code == 404


def test_list_with_filter_and_paging(api, tenant):
    for name in ("Alpha", "Beta", "Gamma"):
        assert put(api, tenant, dynamic_body(name=name)).status_code == 201
    resp = api.get(ASPECT_TYPES, params={"filter": '{"name": {"in": {"value": ["Alpha", "Gamma"]}}}'})
    assert [t["name"] for t in resp.json()["_embedded"]["aspectTypes"]] == ["Alpha", "Gamma"]
    page = api.get(ASPECT_TYPES, params={"size": 2, "page": 1, "sort": "name,desc"}).json()
    assert [t["name"] for t in page["_embedded"]["aspectTypes"]] == ["Alpha"]
    assert page["page"] == {"size": 2, "totalElements": 3, "totalPages": 2, "number": 1}
    prefix = api.get(ASPECT_TYPES, params={"filter": f'{{"id": {{"startsWith": "{tenant["name"]}."}}}}',
                                           "size": 100}).json()
    assert prefix["page"]["totalElements"] == 3


def test_malformed_json_and_wrong_media_type(api, tenant):
    url = f"{ASPECT_TYPES}/{tenant['name']}.Sensors"
    assert api.put(url, data="{oops", headers={"Content-Type": "application/json"}).status_code == 400
    assert api.put(url, data="[]", headers={"Content-Type": "application/json"}).status_code == 400
    assert api.put(url, data="name=x", headers={"Content-Type": "text/plain"}).status_code == 415
    assert api.get(url).status_code == 404


def test_searchable_is_kept_as_sent_and_false_when_absent(api, tenant):
    """``variable_definition__mutmut_75, 80, 81`` read another key than ``searchable``: every variable came back
    not searchable (the suite sent only false or nothing)."""
    body = dynamic_body()
    body["variables"][0]["searchable"] = True
    resp = put(api, tenant, body)
    assert resp.status_code == 201, resp.text
    stored = api.get(f"{ASPECT_TYPES}/{tenant['name']}.Sensors").json()["variables"]
    assert [v["searchable"] for v in stored] == [True, False]


def test_an_id_of_128_characters_is_taken_and_a_foreign_prefix_is_refused_by_name(api, tenant):
    """An id may have 128 characters in all, the 128th included (``type_id__mutmut_10`` refused it); an id of
    another tenant's prefix is refused saying what an id must be (``type_id__mutmut_12..14`` of its message)."""
    t = tenant["name"]
    longest = f"{t}." + "x" * (128 - len(t) - 1)
    assert len(longest) == 128
    resp = api.put(f"{ASPECT_TYPES}/{longest}", json=dynamic_body(name=longest.split(".")[-1]))
    assert resp.status_code == 201, resp.text
    resp = api.put(f"{ASPECT_TYPES}/othertenant.Sensors", json=dynamic_body())
    assert resp.status_code == 400, resp.text
    assert resp.json()["errors"][0]["message"] == (
        f"The aspect type id 'othertenant.Sensors' must be '{t}.<Name>' with letters, digits and underscores, at "
        "most 128 characters in all")


@pytest.mark.parametrize("variables, message", [
    ([{"name": "a", "dataType": "DOUBLE"}, {"name": "b", "dataType": "BIG_STRING"}],
     "variables[1]: BIG_STRING is allowed in dynamic aspect types only"),
    ([{"name": "a", "dataType": "DOUBLE"}, {"name": "A", "dataType": "DOUBLE"}], "Variable name 'A' appears twice"),
])
def test_variable_refusals_name_the_variable(api, tenant, variables, message):
    """``_aspect_type_fields__mutmut_6`` lost the variable's path, ``15, 18..20`` garbled the duplicate's word."""
    resp = put(api, tenant, {"name": "Plate", "category": "static", "variables": variables})
    assert resp.status_code == 400 and resp.json()["errors"][0]["message"] == message, resp.text


def test_a_tenant_with_types_round_trips_through_a_snapshot(api, admin, server, tenant):
    """Each type write counts the tenant's model version up; a snapshot carries it and its import checks it is no
    negative number (``model_changed__mutmut_6`` counted down: the import of any tenant with types was refused)."""
    assert put(api, tenant, dynamic_body()).status_code == 201
    doc = admin.get(f"/_emulator/snapshots/{tenant['name']}").json()
    assert doc["tenant"]["model_version"] > 0
    assert admin.delete(f"{TENANTS}/{tenant['name']}").status_code == 204
    assert admin.post("/_emulator/snapshots", json=doc).status_code == 201
    with tenant_session(server.url, tenant) as restored:
        resp = restored.get(f"{ASPECT_TYPES}/{tenant['name']}.Sensors")
        assert resp.status_code == 200 and resp.json()["name"] == "Sensors", resp.text
