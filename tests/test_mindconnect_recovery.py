"""MindConnect API v3 record recovery over HTTP, as an agent and a tenant's client call it (MCSPEC "Record
Recovery"; mindconnect-api.md 4c, 4e): an exchange that drops values (the default, a tenant's behaviour) is kept as
a recoverable record with the diagnostics' drop reason; it is listed (filter, sort, pages), downloaded through a
pre-signed link without a bearer token (a tampered, foreign or expired link refused), replayed once the mapping is
fixed (the values then in IoT Time Series; a failing replay writes nothing) and deleted; scopes, agent tokens,
tenants and the agent's asset bound it; an agent keeps a bounded number.

Siemens' Node SDK has no client methods for these endpoints (only the ``RecoverableRecords`` models in
mcapi-models.ts), so no SDK test drives them."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests

from emulator import limits
from emulator.agentclient import Agent, exchange_body
from tests.support.paths import ASSETS, TIMESERIES
from tests.support.tenants import temporary_tenant, tenant_session
from tests.support.timeseries import make_pump

MC = "/api/mindconnect/v3"
RECORDS = f"{MC}/recoverableRecords"
AGENTS = "/api/agentmanagement/v3/agents"
T0, T1 = "2024-03-01T00:00:00.000Z", "2024-03-01T00:00:01.000Z"
POINTS = [{"id": "DP-T", "name": "Temperature", "type": "DOUBLE", "unit": "C"},
          {"id": "DP-X", "name": "Spare", "type": "DOUBLE", "unit": "C"},
          {"id": "DP-N", "name": "Count", "type": "INT"}]
NO_MAPPING = "Data point with no mapping count is 1, including ['DP-X']"


@pytest.fixture
def pump(api, tenant) -> str:
    return make_pump(api, tenant)


@pytest.fixture
def agent(server, tenant, api, pump) -> Agent:
    made = Agent.provision(server.url, api.headers["Authorization"].split()[1], tenant["name"])
    made.configure(POINTS)
    made.map("DP-T", pump, "Sensors", "temperature")
    return made


def another_pump(api, tenant) -> str:
    """A second asset of the Pump type ``make_pump`` made (the fixture's pump has made it)."""
    resp = api.post(ASSETS, json={"name": "P2", "typeId": f"{tenant['name']}.Pump", "parentId": tenant["rootAssetId"]})
    assert resp.status_code == 201, resp.text
    return resp.json()["assetId"]


def post(agent: Agent, values: dict, at: str = T0, correlation: str | None = None) -> tuple[bytes, str]:
    """One exchange in the Node SDK's bytes; its body and Content-Type."""
    body, content_type = exchange_body([{"timestamp": at, "values": [
        {"dataPointId": k, "value": v, "qualityCode": "0"} for k, v in values.items()]}], agent.configuration_id)
    headers = {**agent.headers(), "Content-Type": content_type}
    if correlation:
        headers["Correlation-ID"] = correlation
    resp = agent.http.post(f"{agent.url}{MC}/exchange", data=body, headers=headers)
    assert resp.status_code == 200, resp.text
    return body, content_type


def listed(api, **params) -> dict:
    resp = api.get(RECORDS, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def only_record(api) -> dict:
    page = listed(api)
    assert page["totalElements"] == 1, page
    return page["content"][0]


def series(api, asset: str) -> list[dict]:
    resp = api.get(f"{TIMESERIES}/{asset}/Sensors", params={"from": "2024-02-29T00:00:00Z",
                                                            "to": "2024-03-02T00:00:00Z"})
    assert resp.status_code == 200, resp.text
    return resp.json()


def assert_refused(resp, status: int, *words: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"id", "message"}, body
    for word in words:
        assert word in body["message"], body


def test_dropped_values_are_kept_and_replayed_once_the_mapping_is_fixed(agent, api, tenant, pump):
    assert api.post(f"{MC}/diagnosticActivations", json={"agentId": agent.id}).status_code == 201
    correlation = uuid.uuid4().hex
    post(agent, {"DP-T": "1.5", "DP-X": "2.5"}, correlation=correlation)
    assert series(api, pump) == [{"_time": T0, "temperature": 1.5, "temperature_qc": 0}]
    record = only_record(api)
    assert set(record) == {"id", "correlationId", "agentId", "requestTime", "dropReason"}
    assert record["agentId"] == agent.id and record["correlationId"] == correlation
    assert record["requestTime"].endswith("Z")
    dropped = [m for m in api.get(f"{MC}/diagnosticActivations/{agent.id}/messages").json()["content"]
               if m["state"] == "DROPPED"]
    assert record["dropReason"] == dropped[0]["message"]  # the diagnostics' words
    assert "with 1 valid and 1 dropped data points" in record["dropReason"] and NO_MAPPING in record["dropReason"]

    other = another_pump(api, tenant)
    agent.map("DP-X", other, "Sensors", "temperature")  # the fix: DP-X now feeds a variable
    assert api.post(f"{RECORDS}/{record['id']}/replay").status_code == 200
    assert series(api, other) == [{"_time": T0, "temperature": 2.5, "temperature_qc": 0}]
    assert series(api, pump) == [{"_time": T0, "temperature": 1.5, "temperature_qc": 0}]
    assert listed(api)["totalElements"] == 0  # recovered: everything was taken, the record is gone
    assert_refused(api.post(f"{RECORDS}/{record['id']}/replay"), 404, record["id"])


def test_a_replay_that_still_drops_keeps_the_record_with_the_new_reason(agent, api, tenant):
    post(agent, {"DP-T": "1", "DP-X": "2", "DP-nope": "3"})
    before = only_record(api)
    assert NO_MAPPING in before["dropReason"] and "not in the configuration" in before["dropReason"]
    agent.map("DP-X", another_pump(api, tenant), "Sensors", "temperature")
    assert api.post(f"{RECORDS}/{before['id']}/replay").status_code == 200
    after = only_record(api)
    assert {k: v for k, v in after.items() if k != "dropReason"} == \
        {k: v for k, v in before.items() if k != "dropReason"}
    assert "with 2 valid and 1 dropped" in after["dropReason"] and "no mapping" not in after["dropReason"]


def test_a_failing_replay_writes_nothing_and_keeps_the_record(agent, api, tenant, pump):
    post(agent, {"DP-T": "1.5", "DP-N": str(2**40)})  # DP-N unmapped: dropped, so its range is not checked
    record = only_record(api)
    assert api.delete(f"{TIMESERIES}/{pump}/Sensors", params={"from": "2024-02-29T00:00:00Z",
                                                              "to": "2024-03-02T00:00:00Z"}).status_code == 204
    agent.map("DP-N", another_pump(api, tenant), "Sensors", "count")  # now it is, and 2**40 is no INT
    assert_refused(api.post(f"{RECORDS}/{record['id']}/replay"), 400)
    assert series(api, pump) == []  # DP-T's value was not written again either
    assert only_record(api) == record


def test_the_download_link_gives_the_original_bytes_without_a_bearer_token(agent, api, mindsphere_tenant):
    body, content_type = post(agent, {"DP-T": "1", "DP-X": "2"})
    record = only_record(api)
    resp = api.get(f"{RECORDS}/{record['id']}/downloadLink")
    assert resp.status_code == 200, resp.text
    link = resp.json()
    assert isinstance(link, str) and link.startswith(f"{api.base_url}{MC}/")
    got = requests.get(link)  # no Authorization header: the link's signature authorizes
    assert got.status_code == 200, got.text
    assert got.content == body and got.headers["Content-Type"] == content_type

    url, _, token = link.partition("?token=")
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert_refused(requests.get(f"{url}?token={tampered}"), 403, "signature")
    assert_refused(requests.get(url), 400, "token")  # validated from the contract: the token is required
    foreign = url.rsplit("/", 1)[0] + f"/{uuid.uuid4()}"
    assert_refused(requests.get(f"{foreign}?token={token}"), 403, "not valid for this record")
    assert_refused(api.get(RECORDS, headers={"Authorization": f"Bearer {token}"}), 401)  # no access token

    mindsphere_tenant.clock.advance(limits.RECOVERABLE_LINK_SECONDS + 1)
    assert_refused(requests.get(link), 403, "expired")
    fresh = api.get(f"{RECORDS}/{record['id']}/downloadLink").json()
    assert requests.get(fresh).content == body
    assert api.delete(f"{RECORDS}/{record['id']}").status_code == 204
    assert_refused(requests.get(fresh), 404)


def test_records_are_deleted_filtered_sorted_and_paged(agent, api, server, tenant, pump):
    other = Agent.provision(server.url, api.headers["Authorization"].split()[1], tenant["name"])
    other.configure(POINTS)
    ids = [uuid.uuid4().hex for _ in range(3)]
    post(agent, {"DP-X": "1"}, correlation=ids[0])
    post(other, {"DP-X": "1"}, correlation=ids[1])
    post(agent, {"DP-X": "1"}, at=T1, correlation=ids[2])
    page = listed(api)
    assert [r["correlationId"] for r in page["content"]] == ids  # oldest first
    assert (page["totalElements"], page["size"], page["number"], page["first"], page["last"]) == (3, 20, 0, True, True)
    assert [r["correlationId"] for r in listed(api, sort="requestTime,desc")["content"]] == ids[::-1]
    second = listed(api, size=2, page=1)
    assert [r["correlationId"] for r in second["content"]] == ids[2:] and second["totalPages"] == 2
    assert second["last"] and not second["first"]
    mine = listed(api, filter=json.dumps({"agentId": agent.id}))["content"]
    assert [r["correlationId"] for r in mine] == [ids[0], ids[2]]
    assert [r["agentId"] for r in listed(api, filter=json.dumps({"correlationId": ids[1]}))["content"]] == [other.id]
    assert_refused(api.get(RECORDS, params={"filter": '{"dropReason": "x"}'}), 400, "dropReason")
    assert_refused(api.get(RECORDS, params={"filter": "{"}), 400)
    assert_refused(api.get(RECORDS, params={"sort": "payload"}), 400, "payload")
    assert_refused(api.get(RECORDS, params={"size": 0}), 400)

    own = api.get(RECORDS, headers=other.headers()).json()["content"]  # an agent's token: its own records
    assert [r["correlationId"] for r in own] == [ids[1]]
    theirs = mine[0]["id"]
    assert_refused(api.post(f"{RECORDS}/{theirs}/replay", headers=other.headers()), 403)
    assert_refused(api.delete(f"{RECORDS}/{theirs}", headers=other.headers()), 403)

    assert api.delete(f"{RECORDS}/{theirs}").status_code == 204
    assert_refused(api.delete(f"{RECORDS}/{theirs}"), 404)
    assert_refused(api.get(f"{RECORDS}/{theirs}/downloadLink"), 404)
    assert listed(api)["totalElements"] == 2


def test_scopes_bound_the_records(admin, server):
    clients = [{"clientId": "reader", "scopes": ["mdsp.core.mc.r"]},
               {"clientId": "outsider", "scopes": ["mdsp.core.am.r"]}]
    with temporary_tenant(admin, prefix="r", clients=clients) as t:
        reader = tenant_session(server.url, {"clients": [t["clients"][0]]})
        outsider = tenant_session(server.url, {"clients": [t["clients"][1]]})
        some = str(uuid.uuid4())
        with reader, outsider:
            assert listed(reader)["totalElements"] == 0
            assert_refused(reader.get(f"{RECORDS}/{some}/downloadLink"), 404)
            assert_refused(reader.post(f"{RECORDS}/{some}/replay"), 403, "mdsp.core.mc.w")
            assert_refused(reader.delete(f"{RECORDS}/{some}"), 403, "mdsp.core.mc.d")
            assert_refused(outsider.get(RECORDS), 403, "mdsp.core.mc.r")
            assert_refused(outsider.get(f"{RECORDS}/{some}/downloadLink"), 403)


def test_another_tenant_s_record_is_not_found(agent, api, admin, server):
    post(agent, {"DP-X": "1"})
    record = only_record(api)
    with temporary_tenant(admin, prefix="i") as t, tenant_session(server.url, t) as stranger:
        assert listed(stranger)["totalElements"] == 0
        assert_refused(stranger.get(f"{RECORDS}/{record['id']}/downloadLink"), 404)
        assert_refused(stranger.post(f"{RECORDS}/{record['id']}/replay"), 404)
        assert_refused(stranger.delete(f"{RECORDS}/{record['id']}"), 404)
    assert only_record(api) == record


def test_a_record_of_a_deleted_agent_is_not_replayed_and_goes_with_the_agent_s_asset(agent, api):
    post(agent, {"DP-X": "1"})
    record = only_record(api)
    assert api.post(f"{AGENTS}/{agent.id}/boarding/offboard").status_code == 200
    etag = api.get(f"{AGENTS}/{agent.id}").json()["eTag"]
    assert api.delete(f"{AGENTS}/{agent.id}", headers={"If-Match": etag}).status_code == 204
    assert_refused(api.post(f"{RECORDS}/{record['id']}/replay"), 400, "no longer exists")
    assert only_record(api) == record  # still there to download or delete
    asset_etag = api.get(f"{ASSETS}/{agent.id}").json()["etag"]
    assert api.delete(f"{ASSETS}/{agent.id}", headers={"If-Match": str(asset_etag)}).status_code == 204
    assert listed(api)["totalElements"] == 0  # the agent's asset took its records with it


def test_an_agent_keeps_a_bounded_number_of_records(agent, api, monkeypatch):
    monkeypatch.setattr(limits, "RECOVERABLE_KEPT_PER_AGENT", 3)  # the server runs in this process
    sent = [uuid.uuid4().hex for _ in range(5)]
    for n, correlation in enumerate(sent):
        post(agent, {"DP-X": str(n)}, correlation=correlation)
    assert [r["correlationId"] for r in listed(api)["content"]] == sent[2:]  # the oldest went first


def test_records_travel_in_a_snapshot_and_go_with_a_reset(agent, api, admin, server, tenant):
    body, _ = post(agent, {"DP-X": "1"})
    record = only_record(api)
    snapshot = admin.get(f"/_emulator/snapshots/{tenant['name']}")
    assert snapshot.status_code == 200, snapshot.text
    assert admin.delete(f"/_emulator/tenants/{tenant['name']}").status_code == 204
    doc = snapshot.json()
    (row,) = doc["tables"]["mc_recoverable_records"]  # the body travels as base64 text
    assert base64.b64decode(row["payload"]) == body
    damaged = {**doc, "tables": {**doc["tables"], "mc_recoverable_records": [{**row, "payload": "not base64!"}]}}
    resp = admin.post("/_emulator/snapshots", json=damaged)
    assert resp.status_code == 400 and "base64" in resp.text, resp.text
    assert admin.post("/_emulator/snapshots", data=snapshot.content,
                      headers={"Content-Type": "application/json"}).status_code == 201
    with tenant_session(server.url, tenant) as again:
        assert only_record(again) == record
        assert requests.get(again.get(f"{RECORDS}/{record['id']}/downloadLink").json()).content == body
    reset = admin.post("/_emulator/reset", json={"tenant": tenant["name"]})
    assert reset.status_code in (200, 204), reset.text
    with tenant_session(server.url, tenant) as after:
        assert listed(after)["totalElements"] == 0
