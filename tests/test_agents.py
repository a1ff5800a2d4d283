"""Agent Management v3 over HTTP, as a client calls it: agents bound to core.mclib assets, ETags, boarding,
offboarding, the data source configuration, filters and pages, bad input, tenant isolation."""

from __future__ import annotations

import json

import jwt
import pytest

from tests.support.paths import ASSETS
from tests.support.tenants import temporary_tenant, tenant_session

BASE = "/api/agentmanagement/v3"
AGENTS = f"{BASE}/agents"


def mclib_asset(api, tenant, name="agent-asset"):
    resp = api.post(ASSETS, json={"name": name, "typeId": "core.mclib", "parentId": tenant["rootAssetId"]})
    assert resp.status_code == 201, resp.text
    return resp.json()["assetId"]


def new_agent(api, name="a1", profile="SHARED_SECRET", entity_id=None):
    body = {"name": name, "securityProfile": profile}
    if entity_id:
        body["entityId"] = entity_id
    resp = api.post(AGENTS, json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def assert_error(resp, status):
    assert resp.status_code == status, resp.text
    error = resp.json()["errors"][0]
    assert set(error) == {"code", "logref", "message"} and error["logref"]
    return error["message"]


def test_an_agent_is_created_for_its_core_mclib_asset_read_listed_updated_and_deleted(api, tenant):
    asset_id = mclib_asset(api, tenant)
    asset_before = api.get(f"{ASSETS}/{asset_id}").json()
    agent = new_agent(api, name=asset_id, entity_id=asset_id)
    assert agent == {"id": asset_id, "eTag": "0", "name": asset_id, "securityProfile": "SHARED_SECRET",
                     "entityId": asset_id}
    assert api.get(f"{ASSETS}/{asset_id}").json()["etag"] == asset_before["etag"]  # the asset is unchanged
    got = api.get(f"{AGENTS}/{asset_id}")
    assert got.json() == agent and got.headers["ETag"] == '"0"'
    page = api.get(f"{AGENTS}?").json()
    assert page["content"] == [agent] and page["totalElements"] == 1 and page["size"] == 20 and page["number"] == 0
    updated = api.put(f"{AGENTS}/{asset_id}", json={"name": "renamed", "securityProfile": "RSA_3072"},
                      headers={"If-Match": "0"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["eTag"] == "1" and updated.json()["securityProfile"] == "RSA_3072"
    assert api.delete(f"{AGENTS}/{asset_id}", headers={"If-Match": "1"}).status_code == 204
    assert_error(api.get(f"{AGENTS}/{asset_id}"), 404)
    assert api.get(f"{ASSETS}/{asset_id}").status_code == 200  # the asset stays: clients delete it themselves


def test_an_agent_without_entity_id_gets_a_core_mclib_asset_created_with_it(api, tenant):
    agent = new_agent(api, name="standalone")
    asset = api.get(f"{ASSETS}/{agent['entityId']}").json()
    assert agent["id"] == agent["entityId"]
    assert asset["typeId"] == "core.mclib" and asset["parentId"] == tenant["rootAssetId"]
    assert asset["name"] == "standalone"


def test_entity_id_must_be_an_unbound_core_mclib_asset_of_the_tenant(api, tenant):
    plain = api.post(ASSETS, json={"name": "plain", "typeId": "core.basicasset",
                                   "parentId": tenant["rootAssetId"]}).json()["assetId"]
    assert "core.mclib" in assert_error(
        api.post(AGENTS, json={"name": "x", "securityProfile": "SHARED_SECRET", "entityId": plain}), 400)
    assert_error(api.post(AGENTS, json={"name": "x", "securityProfile": "SHARED_SECRET", "entityId": "f" * 32}), 400)
    asset_id = mclib_asset(api, tenant)
    new_agent(api, name="first", entity_id=asset_id)
    assert_error(api.post(AGENTS, json={"name": "second", "securityProfile": "SHARED_SECRET",
                                        "entityId": asset_id}), 409)
    assert api.get(AGENTS).json()["totalElements"] == 1


def test_names_are_unique_per_tenant(api):
    new_agent(api, name="dup")
    assert "already available" in assert_error(api.post(AGENTS, json={"name": "dup",
                                                                       "securityProfile": "RSA_3072"}), 409)
    other = new_agent(api, name="other")
    assert_error(api.put(f"{AGENTS}/{other['id']}", json={"name": "dup", "securityProfile": "RSA_3072"},
                         headers={"If-Match": "0"}), 409)
    assert api.get(AGENTS).json()["totalElements"] == 2
    assert api.get(f"{AGENTS}/{other['id']}").json() == other


@pytest.mark.parametrize("body", [
    {},
    {"name": "x"},
    {"securityProfile": "SHARED_SECRET"},
    {"name": "", "securityProfile": "SHARED_SECRET"},
    {"name": 5, "securityProfile": "SHARED_SECRET"},
    {"name": "x" * 129, "securityProfile": "SHARED_SECRET"},
    {"name": "x", "securityProfile": "NATIVE_CA_CERTIFIED_X509"},
    {"name": "x", "securityProfile": ["SHARED_SECRET"]},
    {"name": "x", "securityProfile": "SHARED_SECRET", "entityId": "../../etc/passwd"},
    {"name": "x", "securityProfile": "SHARED_SECRET", "entityId": 7},
    {"name": "a\u0000b", "securityProfile": "SHARED_SECRET"},
    [],
    "text",
])
def test_bad_agent_bodies_are_refused_and_nothing_is_written(api, body):
    assert_error(api.post(AGENTS, json=body), 400)
    assert api.get(AGENTS).json()["totalElements"] == 0
    assert api.get(ASSETS).json()["page"]["totalElements"] == 1  # the root only: no asset was made for it


def test_hostile_names_are_stored_verbatim(api):
    for name in ("<script>alert(1)</script>", "'; DROP TABLE agents; --", "名前 ü", "{{7*7}}"):
        agent = new_agent(api, name=name)
        assert api.get(f"{AGENTS}/{agent['id']}").json()["name"] == name


def test_etags_guard_updates_and_deletes(api):
    agent = new_agent(api)
    body = {"name": "n", "securityProfile": "SHARED_SECRET"}
    assert_error(api.put(f"{AGENTS}/{agent['id']}", json=body, headers={"If-Match": "3"}), 412)
    assert_error(api.put(f"{AGENTS}/{agent['id']}", json=body), 400)  # If-Match is required
    assert_error(api.put(f"{AGENTS}/{agent['id']}", json=body, headers={"If-Match": "abc"}), 400)
    assert_error(api.delete(f"{AGENTS}/{agent['id']}", headers={"If-Match": "1"}), 412)
    assert_error(api.delete(f"{AGENTS}/{agent['id']}"), 400)
    assert api.get(f"{AGENTS}/{agent['id']}").json() == agent  # nothing half-written
    assert api.put(f"{AGENTS}/{agent['id']}", json=body, headers={"If-Match": '"0"'}).json()["eTag"] == "1"


def test_unknown_ids_answer_404_everywhere(api):
    missing = "0" * 32
    for method, suffix, kw in (("GET", "", {}), ("PUT", "", {"json": {"name": "n", "securityProfile": "RSA_3072"},
                                                           "headers": {"If-Match": "0"}}),
                               ("DELETE", "", {"headers": {"If-Match": "0"}}),
                               ("GET", "/boarding/configuration", {}), ("GET", "/boarding/status", {}),
                               ("POST", "/boarding/offboard", {}), ("GET", "/dataSourceConfiguration", {}),
                               ("PUT", "/dataSourceConfiguration",
                                {"json": {"configurationId": "c", "dataSources": []}, "headers": {"If-Match": "0"}})):
        assert_error(api.request(method, f"{AGENTS}/{missing}{suffix}", **kw), 404)


def test_boarding_configuration_status_and_offboarding(api, tenant, server):
    agent = new_agent(api, profile="RSA_3072")
    status = f"{AGENTS}/{agent['id']}/boarding/status"
    assert api.get(status).json() == {"status": "NOT_ONBOARDED"}
    assert_error(api.post(f"{AGENTS}/{agent['id']}/boarding/offboard"), 409)
    config = api.get(f"{AGENTS}/{agent['id']}/boarding/configuration").json()
    content = config["content"]
    assert content["clientId"] == agent["id"] and content["tenant"] == tenant["name"]
    assert content["clientCredentialProfile"] == ["RSA_3072"]
    assert content["baseUrl"] == server.url.rstrip("/")
    claims = jwt.decode(content["iat"], options={"verify_signature": False})
    assert claims["sub"] == agent["id"] and claims["exp"] - claims["iat"] == 7 * 24 * 3600
    assert config["expiration"].endswith("Z")
    assert api.get(status).json() == {"status": "ONBOARDING"}
    again = api.get(f"{AGENTS}/{agent['id']}/boarding/configuration").json()
    assert again == config  # the same token until it expires or the agent is offboarded
    off = api.post(f"{AGENTS}/{agent['id']}/boarding/offboard")
    assert off.status_code == 200 and off.json() == {"status": "NOT_ONBOARDED"}
    renewed = api.get(f"{AGENTS}/{agent['id']}/boarding/configuration").json()
    assert renewed["content"]["iat"] != content["iat"]


def test_the_security_profile_is_fixed_while_onboarding(api):
    agent = new_agent(api)
    api.get(f"{AGENTS}/{agent['id']}/boarding/configuration")
    assert_error(api.put(f"{AGENTS}/{agent['id']}", json={"name": "a1", "securityProfile": "RSA_3072"},
                         headers={"If-Match": "0"}), 409)
    renamed = api.put(f"{AGENTS}/{agent['id']}", json={"name": "a2", "securityProfile": "SHARED_SECRET"},
                      headers={"If-Match": "0"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "a2"


DSC = {"configurationId": "CF-Pump", "dataSources": [
    {"name": "DS-Sensors", "description": "pump sensors", "customData": {"aspect": "Sensors"}, "dataPoints": [
        {"id": "DP-Temperature", "name": "Temperature", "type": "DOUBLE", "unit": "°C",
         "customData": {"variable": "Temperature"}},
        {"id": "DP-Running", "name": "Running", "type": "BOOLEAN"}]},
    {"name": "DS-Info", "dataPoints": [{"id": "DP-Text", "name": "Text", "type": "BIG_STRING", "unit": ""}]}]}


def test_a_new_agent_has_an_empty_data_source_configuration_at_etag_0(api):
    agent = new_agent(api)
    resp = api.get(f"{AGENTS}/{agent['id']}/dataSourceConfiguration")
    assert resp.status_code == 200 and resp.headers["ETag"] == '"0"'
    body = resp.json()
    assert body["eTag"] == "0" and body["configurationId"] is None and body["dataSources"] == []
    assert len(body["id"]) == 32


def test_the_data_source_configuration_is_replaced_under_its_etag(api):
    agent = new_agent(api)
    url = f"{AGENTS}/{agent['id']}/dataSourceConfiguration"
    first = api.put(url, json=DSC, headers={"If-Match": "0"})
    assert first.status_code == 200, first.text
    stored = first.json()
    assert stored["eTag"] == "1" and stored["configurationId"] == "CF-Pump"
    assert stored["dataSources"] == DSC["dataSources"]
    assert api.get(url).json() == stored
    assert_error(api.put(url, json=DSC, headers={"If-Match": "0"}), 412)
    assert_error(api.put(url, json=DSC), 400)
    echoed = {**stored, "configurationId": "CF-2"}  # the SDK sends back what it read (id, eTag ignored)
    second = api.put(url, json=echoed, headers={"If-Match": "1"})
    assert second.json()["eTag"] == "2" and second.json()["id"] == stored["id"]


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("configurationId"),
    lambda d: d.pop("dataSources"),
    lambda d: d.update(configurationId="x" * 37),
    lambda d: d.update(configurationId=12),
    lambda d: d.update(dataSources={"name": "x"}),
    lambda d: d["dataSources"][0].pop("name"),
    lambda d: d["dataSources"][0].pop("dataPoints"),
    lambda d: d["dataSources"][0].update(name="n" * 65),
    lambda d: d["dataSources"][0].update(description="d" * 257),
    lambda d: d["dataSources"][0]["dataPoints"][0].update(type="FLOAT"),
    lambda d: d["dataSources"][0]["dataPoints"][0].update(id="i" * 37),
    lambda d: d["dataSources"][0]["dataPoints"][0].update(unit="u" * 33),
    lambda d: d["dataSources"][0]["dataPoints"][0].pop("name"),
    lambda d: d["dataSources"][0]["dataPoints"][0].update(customData="not an object"),
    lambda d: d["dataSources"][1]["dataPoints"][0].update(id="DP-Temperature"),  # ids are unique
])
def test_bad_data_source_configurations_are_refused_and_nothing_is_written(api, mutate):
    agent = new_agent(api)
    url = f"{AGENTS}/{agent['id']}/dataSourceConfiguration"
    body = json.loads(json.dumps(DSC))
    mutate(body)
    assert_error(api.put(url, json=body, headers={"If-Match": "0"}), 400)
    after = api.get(url).json()
    assert after["eTag"] == "0" and after["dataSources"] == []


def test_agents_are_filtered_sorted_and_paged(api):
    ids = {name: new_agent(api, name=name, profile=profile)["id"]
           for name, profile in (("1a", "SHARED_SECRET"), ("1b", "RSA_3072"), ("2c", "SHARED_SECRET"))}
    one = api.get(AGENTS, params={"filter": json.dumps({"and": {"id": {"startsWith": ids["1b"]}}})}).json()
    assert [a["name"] for a in one["content"]] == ["1b"]
    starts = api.get(AGENTS, params={"filter": json.dumps({"and": {"name": {"startsWith": "1"}}}),
                                     "sort": "name,DESC"}).json()
    assert [a["name"] for a in starts["content"]] == ["1b", "1a"]
    assert starts["sort"][0]["direction"] == "DESC" and starts["sort"][0]["property"] == "name"
    shared = api.get(AGENTS, params={"filter": json.dumps({"securityProfile": "SHARED_SECRET"})}).json()
    assert sorted(a["name"] for a in shared["content"]) == ["1a", "2c"]
    page = api.get(AGENTS, params={"size": 2, "page": 1, "sort": "name"}).json()
    assert [a["name"] for a in page["content"]] == ["2c"]
    assert (page["totalPages"], page["totalElements"], page["numberOfElements"], page["first"], page["last"],
            page["size"], page["number"]) == (2, 3, 1, False, True, 2, 1)


@pytest.mark.parametrize("params", [
    {"filter": "{not json"}, {"filter": "[]"}, {"filter": json.dumps({"password": "x"})},
    {"filter": json.dumps({"name": {"like": "x"}})}, {"filter": json.dumps({"name": 5})},
    {"filter": json.dumps({"and": []})}, {"sort": "secret"}, {"size": "0"}, {"size": "2001"}, {"size": "ten"},
    {"page": "-1"},
])
def test_bad_list_queries_answer_400(api, params):
    new_agent(api)
    assert_error(api.get(AGENTS, params=params), 400)


def test_an_onboarded_agent_cannot_be_deleted_but_an_onboarding_one_can(api):
    agent = new_agent(api)
    api.get(f"{AGENTS}/{agent['id']}/boarding/configuration")
    assert api.delete(f"{AGENTS}/{agent['id']}", headers={"If-Match": "0"}).status_code == 204
    assert_error(api.get(f"{AGENTS}/{agent['id']}/dataSourceConfiguration"), 404)


def test_another_tenant_sees_none_of_the_agents(api, admin, server):
    agent = new_agent(api)
    with temporary_tenant(admin, prefix="o") as other, tenant_session(server.url, other) as b:
        assert b.get(AGENTS).json()["totalElements"] == 0
        for method, suffix, kw in (("GET", "", {}), ("DELETE", "", {"headers": {"If-Match": "0"}}),
                                   ("GET", "/boarding/configuration", {}), ("POST", "/boarding/offboard", {}),
                                   ("PUT", "/dataSourceConfiguration",
                                    {"json": DSC, "headers": {"If-Match": "0"}})):
            assert_error(b.request(method, f"{AGENTS}/{agent['id']}{suffix}", **kw), 404)
        # its own agent may have the same name
        assert b.post(AGENTS, json={"name": agent["name"], "securityProfile": "SHARED_SECRET"}).status_code == 201
    assert api.get(f"{AGENTS}/{agent['id']}").json() == agent
    assert api.get(f"{AGENTS}/{agent['id']}/boarding/status").json() == {"status": "NOT_ONBOARDED"}


def test_a_token_without_the_agent_scopes_is_refused(admin, server, tenant):
    with temporary_tenant(admin, prefix="s", clients=[{"clientId": "reader", "scopes": ["mdsp.core.am.r"]}]) as t, \
            tenant_session(server.url, t) as b:
        assert b.get(AGENTS).status_code == 403
