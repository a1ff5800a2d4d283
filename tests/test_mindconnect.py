"""MindConnect API v3 over HTTP, as an agent and a tenant's client call it: data point mappings (validated
against the asset's aspect variables, type and unit, duplicates, keepMapping), the exchange (multipart/mixed in
the Node SDK's and the C library's bytes, mapped into IoT Time Series with quality codes; malformed bodies,
unknown or unmapped points, bad values and oversized bodies refused with nothing written), agent tokens' reach,
and diagnostic activations with their messages.

These tests pin the strict exchange (``--exchange-strict``: refusals with 400), so their server is one of their own;
the default, a tenant's (bad values dropped with 200 and reported in diagnostics), is tested in
``test_mindconnect_property.py`` and by Siemens' diagnostic test in ``test_sdk_mindconnect.py``."""

from __future__ import annotations

import pytest

from emulator.agentclient import Agent, exchange_body, timestamp
from emulator.pytest_plugin import MindSphere
from emulator.settings import Settings
from emulator.testing import LiveServer
from tests.support.paths import TIMESERIES
from tests.support.timeseries import make_pump

MC = "/api/mindconnect/v3"
MAPPINGS = f"{MC}/dataPointMappings"
T0 = "2024-01-01T00:00:00.000Z"
POINTS = [{"id": "DP-T", "name": "Temperature", "type": "DOUBLE", "unit": "C"},
          {"id": "DP-N", "name": "Count", "type": "INT"},
          {"id": "DP-R", "name": "Running", "type": "BOOLEAN"},
          {"id": "DP-S", "name": "Status", "type": "STRING"},
          {"id": "DP-X", "name": "Spare", "type": "DOUBLE", "unit": "C"}]


@pytest.fixture(scope="module")
def server(database_url):
    """A strict exchange's server (conftest's own, with ``--exchange-strict``)."""
    with LiveServer(Settings(database_url=database_url, exchange_strict=True)) as live:
        yield live


@pytest.fixture(scope="module")
def mindsphere(server) -> MindSphere:
    emulator = MindSphere(server.url, server=server)
    yield emulator
    emulator.close()


@pytest.fixture
def pump(api, tenant) -> str:
    return make_pump(api, tenant)


@pytest.fixture
def agent(server, tenant, api) -> Agent:
    made = Agent.provision(server.url, api.headers["Authorization"].split()[1], tenant["name"])
    made.configure(POINTS)
    return made


@pytest.fixture
def mapped(agent, pump) -> Agent:
    for point, variable in (("DP-T", "temperature"), ("DP-N", "count"), ("DP-R", "running"), ("DP-S", "status")):
        agent.map(point, pump, "Sensors", variable)
    return agent


def as_agent(agent: Agent):
    return agent.headers()


def records(api, asset, aspect="Sensors"):
    resp = api.get(f"{TIMESERIES}/{asset}/{aspect}", params={"from": "2023-12-31T00:00:00Z",
                                                             "to": "2024-01-02T00:00:00Z"})
    assert resp.status_code == 200, resp.text
    return resp.json()


def assert_refused(resp, status=400, *words):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"id", "message"}, body
    for word in words:
        assert word in body["message"], body


# --- mappings ----------------------------------------------------------------------------------------

def test_a_mapping_is_created_read_listed_and_deleted(agent, pump, api):
    created = agent.map("DP-T", pump, "Sensors", "temperature")
    assert created["agentId"] == agent.id and created["entityId"] == pump
    assert created["dataPointType"] == created["propertyType"] == "DOUBLE"
    assert created["dataPointUnit"] == created["propertyUnit"] == "C"
    assert created["qualityEnabled"] is True and created["keepMapping"] is True
    assert created["validity"] == {"status": "VALID", "reasons": []}
    assert api.get(f"{MAPPINGS}/{created['id']}").json() == created
    listed = api.get(MAPPINGS, params={"filter": f'{{"agentId":"{agent.id}"}}', "size": 2000}).json()
    assert listed["content"] == [created] and listed["totalElements"] == 1
    assert api.delete(f"{MAPPINGS}/{created['id']}").status_code == 204
    assert_refused(api.get(f"{MAPPINGS}/{created['id']}"), 404)


@pytest.mark.parametrize("change, words", [
    ({"dataPointId": "DP-nope"}, ["DP-nope", "data source configuration"]),
    ({"entityId": "0" * 32}, ["entityId"]),
    ({"propertySetName": "Nope"}, ["Nope"]),
    ({"propertySetName": "Plate", "propertyName": "serial"}, ["static"]),
    ({"propertyName": "nope"}, ["nope"]),
    ({"dataPointId": "DP-N", "propertyName": "temperature"}, ["types must be the same"]),
    ({"agentId": "f" * 32}, ["agentId"]),
])
def test_a_mapping_that_does_not_fit_is_refused(agent, pump, api, change, words):
    body = {"agentId": agent.id, "dataPointId": "DP-T", "entityId": pump, "propertySetName": "Sensors",
            "propertyName": "temperature", **change}
    assert_refused(api.post(MAPPINGS, json=body), 400, *words)
    assert api.get(MAPPINGS).json()["totalElements"] == 0


def test_units_must_agree(agent, pump, api, tenant):
    agent.configure([{"id": "DP-T", "name": "T", "type": "DOUBLE", "unit": "K"}])
    assert_refused(api.post(MAPPINGS, json={"agentId": agent.id, "dataPointId": "DP-T", "entityId": pump,
                                            "propertySetName": "Sensors", "propertyName": "temperature"}),
                   400, "units must be the same")


def test_duplicates_are_refused(agent, pump, api):
    agent.map("DP-T", pump, "Sensors", "temperature")
    body = {"agentId": agent.id, "dataPointId": "DP-T", "entityId": pump, "propertySetName": "Sensors",
            "propertyName": "temperature"}
    assert_refused(api.post(MAPPINGS, json=body), 409, "exists already")
    assert_refused(api.post(MAPPINGS, json={**body, "dataPointId": "DP-X"}), 400, "a property takes one data point")
    agent.configure([*POINTS, {"id": "DP-D", "name": "D", "type": "DOUBLE"}])
    assert_refused(api.post(MAPPINGS, json={**body, "propertyName": "count", "dataPointId": "DP-T"}), 400)
    assert api.get(MAPPINGS).json()["totalElements"] == 1


def test_a_configuration_update_deletes_mappings_without_keep_mapping(agent, pump, api):
    kept = agent.map("DP-T", pump, "Sensors", "temperature", keep=True)
    agent.map("DP-N", pump, "Sensors", "count", keep=False)
    assert api.get(MAPPINGS).json()["totalElements"] == 2
    agent.configure([p for p in POINTS if p["id"] != "DP-T"], configuration_id="CF-2")
    listed = api.get(MAPPINGS).json()["content"]
    assert [m["id"] for m in listed] == [kept["id"]]
    assert listed[0]["validity"] == {"status": "INVALID", "reasons": ["MISSING_DATAPOINT"]}


def test_an_agent_token_reaches_only_its_own_mappings(agent, pump, api, server, tenant):
    other = Agent.provision(server.url, api.headers["Authorization"].split()[1], tenant["name"])
    other.configure(POINTS)
    mine = agent.map("DP-T", pump, "Sensors", "temperature")
    assert agent.http.get(f"{server.url}{MAPPINGS}", headers=agent.headers()).json()["totalElements"] == 1
    assert other.http.get(f"{server.url}{MAPPINGS}", headers=other.headers()).json()["totalElements"] == 0
    assert_refused(other.http.get(f"{server.url}{MAPPINGS}/{mine['id']}", headers=other.headers()), 403)
    assert_refused(other.http.post(f"{server.url}{MAPPINGS}", headers=other.headers(), json={
        "agentId": agent.id, "dataPointId": "DP-N", "entityId": pump, "propertySetName": "Sensors",
        "propertyName": "count"}), 403)


# --- exchange ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["node", "mcl"])
def test_post_data_lands_in_the_time_series_with_quality_codes(mapped, pump, api, style):
    resp = mapped.post([{"timestamp": T0, "values": [
        {"dataPointId": "DP-T", "value": "21.5", "qualityCode": "12189696"},
        {"dataPointId": "DP-N", "value": "7", "qualityCode": "0"},
        {"dataPointId": "DP-R", "value": "TRUE", "qualityCode": "0"},
        {"dataPointId": "DP-S", "value": "ok", "qualityCode": "0"}]}], style=style)
    assert resp.status_code == 200 and resp.content == b"", resp.text
    assert records(api, pump) == [{"_time": T0, "temperature": 21.5, "temperature_qc": 12189696, "count": 7,
                                   "running": True, "status": "ok"}]


def test_bulk_post_data_writes_every_timestamp(mapped, pump, api):
    mapped.bulk_post_data([(f"2024-01-01T00:0{i}:00.000Z", {"DP-T": 20 + i, "DP-N": i}) for i in range(5)])
    got = records(api, pump)
    assert [r["temperature"] for r in got] == [20.0, 21.0, 22.0, 23.0, 24.0]
    assert [r["count"] for r in got] == [0, 1, 2, 3, 4]


def test_one_data_point_feeds_several_assets(mapped, pump, api, tenant):
    other = api.post("/api/assetmanagement/v3/assets", json={
        "name": "P2", "typeId": f"{tenant['name']}.Pump", "parentId": tenant["rootAssetId"]}).json()["assetId"]
    mapped.map("DP-T", other, "Sensors", "temperature")
    mapped.post_data({"DP-T": 3.5}, at=T0)
    assert records(api, pump)[0]["temperature"] == records(api, other)[0]["temperature"] == 3.5


BAD = [
    ({"dataPointId": "DP-nope", "value": "1"}, ["DP-nope", "not a data point"]),
    ({"dataPointId": "DP-X", "value": "1"}, ["DP-X", "not mapped"]),
    ({"dataPointId": "DP-T", "value": "12312346.42.23"}, ["DP-T", "DOUBLE"]),
    ({"dataPointId": "DP-N", "value": "1.5"}, ["DP-N", "INT"]),
    ({"dataPointId": "DP-R", "value": "yes"}, ["DP-R", "BOOLEAN"]),
    ({"dataPointId": "DP-T", "value": "1", "qualityCode": "bad"}, ["quality code"]),
    ({"dataPointId": "DP-T", "value": "nan"}, ["DOUBLE"]),
    ({"dataPointId": "DP-T", "value": "1e999"}, ["DOUBLE"]),
    ({"dataPointId": "DP-T", "value": "1_0"}, ["DOUBLE"]),
    ({"dataPointId": "DP-T", "value": " 1.5"}, ["DOUBLE"]),  # float() reads padding, other scripts' digits, inf
    ({"dataPointId": "DP-T", "value": "\u0661\u0665"}, ["DOUBLE"]),
    ({"dataPointId": "DP-T", "value": "-Infinity"}, ["DOUBLE"]),
    ({"dataPointId": "DP-N", "value": " 7"}, ["INT"]),
    ({"dataPointId": "DP-N", "value": "99999999999"}, ["INT"]),
]


@pytest.mark.parametrize("value, words", BAD)
def test_a_bad_value_refuses_the_whole_exchange(mapped, pump, api, value, words):
    resp = mapped.post([{"timestamp": T0, "values": [{"dataPointId": "DP-S", "value": "ok", "qualityCode": "0"}]},
                        {"timestamp": "2024-01-01T00:01:00.000Z", "values": [value]}])
    assert_refused(resp, 400, *words)
    assert records(api, pump) == []


@pytest.mark.parametrize("value, words", [(v, w) for v, w in BAD if v["dataPointId"] == "DP-T"])
def test_a_bad_value_in_a_bulk_post_of_the_usual_shape_refuses_it_too(mapped, pump, api, value, words):
    """Samples of one DOUBLE data point in time order are read a data point at a time (exchange._by_columns); a bad
    value among them sends the post to the value-by-value reading, which names it."""
    good = {"dataPointId": "DP-T", "value": "1.5", **({"qualityCode": "0"} if "qualityCode" in value else {})}
    resp = mapped.post([{"timestamp": T0, "values": [good]},
                        {"timestamp": "2024-01-01T00:01:00.000Z", "values": [value]}])
    assert_refused(resp, 400, *words)
    assert records(api, pump) == []


@pytest.mark.parametrize("samples, words", [
    ([{"timestamp": T0, "values": [{"dataPointId": "DP-T", "value": "1.5"}]}, 7], ["element 1"]),
    ([{"timestamp": T0, "values": [{"dataPointId": "DP-T", "value": "1.5"}]},
      {"timestamp": "2024-01-01T00:01:00.000Z", "values": [7]}], ["each value must be"]),
    ([{"timestamp": T0, "values": [{"dataPointId": "DP-T", "value": "1.5"}]},
      {"timestamp": "2024-01-01T00:01:00.000Z", "values": "7"}], ["element 1"]),
    ([{"timestamp": T0, "values": [{"dataPointId": "DP-T", "value": "1.5"}]},
      {"timestamp": 7, "values": [{"dataPointId": "DP-T", "value": "2.5"}]}], ["timestamp"]),
    ([{"timestamp": T0, "values": [{"dataPointId": "DP-T", "value": "1.5"}]},
      {"timestamp": "2024-01-01T00:01:00.000Z", "values": [{"dataPointId": "DP-T"}]}], ["each value must be"]),
], ids=["a sample not an object", "a value not an object", "values not a list", "a time not a string",
        "a value without one"])
def test_a_bulk_post_of_another_shape_is_refused_in_the_api_s_terms(mapped, pump, api, samples, words):
    assert_refused(mapped.post(samples), 400, *words)
    assert records(api, pump) == []


def _post_raw(agent, body: bytes, content_type: str):
    return agent.http.post(f"{agent.url}{MC}/exchange", data=body,
                           headers={**agent.headers(), "Content-Type": content_type})


def _node_body(agent, samples=None):
    return exchange_body(samples or [{"timestamp": T0, "values": [{"dataPointId": "DP-T", "value": "1",
                                                                   "qualityCode": "0"}]}],
                         agent.configuration_id)


MALFORMED = [
    (lambda b: b.replace(b"--mindspheremessage--", b""), None, "closing delimiter"),
    (lambda b: b.replace(b"--mindspherepart--", b""), None, "closing delimiter"),
    (lambda b: b"", None, "no delimiter"),
    (lambda b: b"junk\n" + b, None, "before the first delimiter"),
    (lambda b: b + b"trailing junk", None, "after the closing delimiter"),
    (lambda b: b.replace(b"Content-Type:application/vnd.siemens.mindsphere.meta+json", b"Content-Type:text/plain"),
     None, "meta+json"),
    (lambda b: b.replace(b"Content-Type:application/json", b"Content-Type:text/csv"), None, "application/json"),
    (lambda b: b.replace(b"multipart/related", b"multipart/alternative"), None, "multipart/related"),
    (lambda b: b.replace(b'"type": "item"', b'"type": "thing"'), None, "meta part"),
    (lambda b: b.replace(b"standardTimeSeries", b"businessEvent"), None, "Event Management"),
    (lambda b: b.replace(b"standardTimeSeries", b"file"), None, "IoT File"),
    (lambda b: b.replace(b'"timestamp"', b'"time"'), None, "timestamp"),
    (lambda b: b.replace(b"CF-1", b"CF-other"), None, "configurationId"),
    (lambda b: b, "multipart/mixed", "boundary"),
    (lambda b: b, "multipart/mixed; boundary=other", "no delimiter"),
]


@pytest.mark.parametrize("edit, content_type, words", MALFORMED)
def test_a_malformed_exchange_is_400(mapped, pump, api, edit, content_type, words):
    body, node_type = _node_body(mapped)
    assert_refused(_post_raw(mapped, edit(body), content_type or node_type), 400, words)
    assert records(api, pump) == []


def test_a_body_that_is_not_multipart_mixed_is_415_and_an_oversized_one_413(mapped, pump, api):
    body, _ = _node_body(mapped)
    assert_refused(_post_raw(mapped, body, "application/json"), 415)
    big = [{"timestamp": T0, "values": [{"dataPointId": "DP-S", "value": "x" * 200, "qualityCode": "0"}]}] * 60_000
    body, content_type = exchange_body(big, mapped.configuration_id)
    assert len(body) > 10 * 1024 * 1024
    assert_refused(_post_raw(mapped, body, content_type), 413)
    assert records(api, pump) == []


def test_only_an_agent_token_posts_to_the_exchange(mapped, api):
    body, content_type = _node_body(mapped)
    assert_refused(api.post(f"{MC}/exchange", data=body, headers={"Content-Type": content_type}), 403)


def test_an_agent_token_is_refused_outside_where_agents_are_allowed(mapped, pump, api, tenant):
    headers = mapped.headers()
    url = mapped.url
    assert mapped.http.get(f"{url}/api/assetmanagement/v3/assets", headers=headers).status_code == 200
    for path in (f"{TIMESERIES}/{pump}/Sensors", f"/api/iottsaggregates/v4/aggregates?assetId={pump}"
                                                 f"&aspectName=Sensors",
                 "/api/agentmanagement/v3/agents"):
        resp = mapped.http.get(f"{url}{path}", headers=headers)
        assert resp.status_code == 403, (path, resp.text)
    assert mapped.http.delete(f"{url}/api/assetmanagement/v3/assets/{pump}", headers={
        **headers, "If-Match": "0"}).status_code == 403


# --- diagnostics -------------------------------------------------------------------------------------

def test_diagnostics_record_what_was_accepted_and_refused(mapped, api):
    created = api.post(f"{MC}/diagnosticActivations", json={"agentId": mapped.id})
    assert created.status_code == 201, created.text
    activation = created.json()
    assert activation["agentId"] == mapped.id and activation["status"] == "ACTIVE"
    assert_refused(api.post(f"{MC}/diagnosticActivations", json={"agentId": mapped.id}), 409)
    mapped.post_data({"DP-T": 1.5}, at=T0)
    assert mapped.post([{"timestamp": T0, "values": [{"dataPointId": "Unexistent", "value": "1"}]}]).status_code == 400
    messages = api.get(f"{MC}/diagnosticActivations/{mapped.id}/messages").json()["content"]
    assert [(m["severity"], m["state"]) for m in messages] == [("INFO", "FINISHED"), ("ERROR", "DROPPED")]
    assert "<1> samplings and <1> properties" in messages[0]["message"]
    assert "Unexistent" in messages[1]["message"]
    own = mapped.http.get(f"{mapped.url}{MC}/diagnosticActivations", headers=mapped.headers()).json()
    assert [a["id"] for a in own["content"]] == [activation["id"]]
    assert api.put(f"{MC}/diagnosticActivations/{activation['id']}", json={"status": "INACTIVE"}).json()[
        "status"] == "INACTIVE"
    mapped.post_data({"DP-T": 2.5}, at=T0)
    assert len(api.get(f"{MC}/diagnosticActivations/{activation['id']}/messages").json()["content"]) == 2
    assert api.delete(f"{MC}/diagnosticActivations/{mapped.id}").status_code == 204
    assert api.get(f"{MC}/diagnosticActivations").json()["content"] == []


def test_at_most_five_agents_are_diagnosed(api, server, tenant):
    token = api.headers["Authorization"].split()[1]
    made = [Agent.provision(server.url, token, tenant["name"]) for _ in range(6)]
    for one in made[:5]:
        assert api.post(f"{MC}/diagnosticActivations", json={"agentId": one.id}).status_code == 201
    assert_refused(api.post(f"{MC}/diagnosticActivations", json={"agentId": made[5].id}), 400, "agent limitation")


def test_timestamps_are_javascript_iso():
    assert timestamp(0) == "1970-01-01T00:00:00.000Z"


def test_faults_and_the_journal_cover_the_exchange(mapped, pump, api, admin, tenant):
    """The control plane knows the API by its name: a fault rule for ``mindconnect`` fails the exchange in its
    envelope before anything is written, and the journal records the agent's requests under the tenant."""
    rule = admin.post("/_emulator/faults", json={"match": {"tenant": tenant["name"], "api": "mindconnect",
                                                           "method": "POST"},
                                                 "effect": {"status": 503}, "times": 1})
    assert rule.status_code == 201, rule.text
    assert_refused(mapped.post([{"timestamp": T0, "values": [{"dataPointId": "DP-T", "value": "1"}]}]), 503)
    assert records(api, pump) == []
    mapped.post_data({"DP-T": 2.0}, at=T0)
    assert records(api, pump)[0]["temperature"] == 2.0
    entries = admin.get("/_emulator/journal", params={"tenant": tenant["name"],
                                                      "path": f"{MC}/exchange"}).json()["entries"]
    assert sorted(e["status"] for e in entries) == [200, 503]


def test_mappings_go_with_their_agent(mapped, pump, api):
    """An agent deleted (offboarded first) and made again for the same asset has the same id but none of its
    predecessor's mappings."""
    agents = "/api/agentmanagement/v3/agents"
    assert api.get(MAPPINGS).json()["totalElements"] == 4
    assert api.post(f"{agents}/{mapped.id}/boarding/offboard").status_code == 200
    etag = api.get(f"{agents}/{mapped.id}").json()["eTag"]
    assert api.delete(f"{agents}/{mapped.id}", headers={"If-Match": etag}).status_code == 204
    assert api.get(MAPPINGS).json()["totalElements"] == 0
    again = api.post(agents, json={"name": "again", "securityProfile": "SHARED_SECRET", "entityId": mapped.id})
    assert again.status_code == 201, again.text
    assert api.get(MAPPINGS).json()["totalElements"] == 0
