"""Event Management v3 over HTTP, as a client calls it (events-files-api.md section 1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.tenants import temporary_tenant, tenant_session

BASE = "/api/eventmanagement/v3"
EVENTS = f"{BASE}/events"
TYPES = f"{BASE}/eventTypes"
ASSETS = "/api/assetmanagement/v3/assets"
STANDARD = "com.siemens.mindsphere.eventmgmt.event.type.MindSphereStandardEvent"


def stamp(minutes_ago: float = 0) -> str:
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def refused(resp, status: int, *words: str) -> dict:
    assert resp.status_code == status, resp.text
    error = resp.json()["errors"][0]
    assert set(error) == {"code", "logref", "message"}
    assert error["code"].startswith("mdsp.core.generic.")
    for word in words:
        assert word in error["message"], error["message"]
    return error


def listing(api, **params) -> dict:
    params = {k: json.dumps(v) if k == "filter" else v for k, v in params.items()}
    resp = api.get(EVENTS, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def embedded(body: dict, key: str = "events") -> list:
    return body.get("_embedded", {}).get(key, [])


@pytest.fixture
def asset(api, tenant) -> str:
    resp = api.post(ASSETS, json={"name": "Pump", "typeId": "core.basicasset", "parentId": tenant["rootAssetId"]})
    assert resp.status_code == 201, resp.text
    return resp.json()["assetId"]


@pytest.fixture
def pump_type(api, tenant) -> str:
    type_id = f"{tenant['name']}.PumpEvent"
    resp = api.post(TYPES, json={"id": type_id, "name": "PumpEvent", "fields": [
        {"name": "temperature", "type": "DOUBLE", "filterable": True},
        {"name": "phase", "type": "ENUM", "values": ["START", "END"], "required": True, "filterable": True},
        {"name": "serial", "type": "STRING", "updatable": False}]})
    assert resp.status_code == 201, resp.text
    return type_id


def post(api, body: dict) -> dict:
    resp = api.post(EVENTS, json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


# --- events ---------------------------------------------------------------------------------------------

def test_a_standard_event_is_created_and_read_back(api, asset):
    when = stamp()
    body = {"timestamp": when, "entityId": asset, "severity": 20, "description": "Overheat", "code": "E1",
            "source": "pump", "acknowledged": False}
    event = post(api, body)
    assert event["typeId"] == STANDARD and event["etag"] == 1 and event["timestamp"] == when
    assert {k: event[k] for k in body} == body
    assert event["_links"]["self"]["href"].endswith(f"{EVENTS}/{event['id']}")
    read = api.get(f"{EVENTS}/{event['id']}")
    assert read.status_code == 200 and read.json() == event
    assert embedded(listing(api)) == [event]


def test_the_billboard_lists_the_resources(api):
    resp = api.get(f"{BASE}/")
    assert resp.status_code == 200
    assert {"self", "events", "eventTypes", "deleteEventsJobs", "createEventsJobs"} <= set(resp.json())


def test_minimal_events_and_agent_extras_are_accepted(api, asset):
    minimal = post(api, {"entityId": asset, "timestamp": stamp()})
    assert minimal["typeId"] == STANDARD and "severity" not in minimal
    extras = post(api, {"entityId": asset, "timestamp": "2024-05-01T12:00:00+02:00", "sourceType": "Agent",
                        "sourceId": "application", "severity": 30})
    assert extras["timestamp"] == "2024-05-01T10:00:00.000Z" and "sourceType" not in extras


@pytest.mark.parametrize(("change", "words"), [
    ({"entityId": None}, ("entityId",)),
    ({"timestamp": None}, ("timestamp",)),
    ({"severity": "high"}, ("severity",)),
    ({"acknowledged": "yes"}, ("acknowledged",)),
    ({"timestamp": "yesterday"}, ("timestamp",)),
    ({"entityId": "ABC"}, ("entityId",)),
    ({"description": "x" * 5000}, ("description",)),
    ({"code": "bad\u0000code"}, ("code",)),
    ({"typeId": "nope.Missing"}, ("nope.Missing",)),
])
def test_bad_events_are_refused_and_nothing_is_written(api, asset, change, words):
    body = {"entityId": asset, "timestamp": stamp(), **change}
    refused(api.post(EVENTS, json={k: v for k, v in body.items() if v is not None}), 400, *words)
    assert embedded(listing(api)) == []


def test_an_event_of_an_unknown_asset_is_refused(api):
    missing = "0" * 32
    refused(api.post(EVENTS, json={"entityId": missing, "timestamp": stamp()}), 400, missing)


def test_an_unknown_event_is_404_naming_it(api):
    refused(api.get(f"{EVENTS}/no-such-event"), 404, "no-such-event")


def test_a_hostile_body_is_refused_in_the_core_envelope(api, asset):
    refused(api.post(EVENTS, data="[1,2", headers={"Content-Type": "application/json"}), 400)
    refused(api.post(EVENTS, json=["not", "an", "object"]), 400)
    resp = api.post(EVENTS, data="x", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415 and "errors" in resp.json()
    evil = "<script>alert(1)</script>'; DROP TABLE em_events; --"
    event = post(api, {"entityId": asset, "timestamp": stamp(), "description": evil, "source": evil})
    assert api.get(f"{EVENTS}/{event['id']}").json()["description"] == evil


def test_an_event_is_corrected_with_if_match(api, asset):
    event = post(api, {"entityId": asset, "timestamp": stamp(), "severity": 20, "acknowledged": False,
                       "correlationId": "c-1"})
    change = {k: event[k] for k in ("entityId", "timestamp", "correlationId", "typeId")}
    resp = api.put(f"{EVENTS}/{event['id']}", json={**change, "severity": 20, "acknowledged": True},
                   headers={"If-Match": str(event["etag"])})
    assert resp.status_code == 200, resp.text
    assert resp.json()["acknowledged"] is True and resp.json()["etag"] == 2
    assert resp.headers["ETag"] == '"2"'
    stale = api.put(f"{EVENTS}/{event['id']}", json={**change, "acknowledged": False}, headers={"If-Match": "1"})
    refused(stale, 412, event["id"])
    refused(api.put(f"{EVENTS}/{event['id']}", json={**change}), 400, "If-Match")
    moved = api.put(f"{EVENTS}/{event['id']}", json={**change, "timestamp": stamp(60)}, headers={"If-Match": "2"})
    refused(moved, 400, "timestamp")
    refused(api.put(f"{EVENTS}/{event['id']}", json={**change, "correlationId": "other"},
                    headers={"If-Match": "2"}), 400, "correlationId")
    refused(api.put(f"{EVENTS}/missing", json=change, headers={"If-Match": "2"}), 404, "missing")
    assert api.get(f"{EVENTS}/{event['id']}").json()["acknowledged"] is True


def test_filter_sort_and_paging(api, asset):
    times = [stamp(10 - i) for i in range(5)]
    for i in range(5):
        post(api, {"entityId": asset, "timestamp": times[i], "severity": 20 if i % 2 else 40,
                   "code": f"C{i}", "source": "pump" if i < 3 else "valve"})
    newest_first = embedded(listing(api))
    assert [e["code"] for e in newest_first] == ["C4", "C3", "C2", "C1", "C0"]
    assert [e["code"] for e in embedded(listing(api, sort="timestamp,asc"))] == ["C0", "C1", "C2", "C3", "C4"]
    assert [e["code"] for e in embedded(listing(api, filter={"severity": 20}, sort="code,asc"))] == ["C1", "C3"]
    assert [e["code"] for e in embedded(listing(api, filter={"code": {"in": ["C0", "C4"]}}))] == ["C4", "C0"]
    assert len(embedded(listing(api, filter={"source": {"startsWith": "val"}}))) == 2
    assert len(embedded(listing(api, filter={"or": [{"code": "C0"}, {"code": "C1"}]}))) == 2
    assert len(embedded(listing(api, filter={"and": {"source": "pump", "severity": 40}}))) == 2
    window = {"timestamp": {"between": f"[{times[0]},{times[2]})"}}
    assert [e["code"] for e in embedded(listing(api, filter=window))] == ["C1", "C0"]
    assert len(embedded(listing(api, filter={"timestamp": {"after": times[1]}}))) == 3
    page = listing(api, size=2, page=1)
    assert [e["code"] for e in embedded(page)] == ["C2", "C1"]
    assert page["page"] == {"size": 2, "totalElements": 5, "totalPages": 3, "number": 1}
    assert {"self", "first", "prev", "next", "last"} <= set(page["_links"])
    past_end = listing(api, size=2, page=3)
    assert "_embedded" not in past_end and past_end["page"]["totalElements"] == 5


def test_only_the_last_seven_days_are_searched_without_a_timestamp_condition(api, asset):
    old = post(api, {"entityId": asset, "timestamp": stamp(8 * 24 * 60), "code": "old"})
    post(api, {"entityId": asset, "timestamp": stamp(), "code": "new"})
    assert [e["code"] for e in embedded(listing(api))] == ["new"]
    found = embedded(listing(api, filter={"timestamp": {"before": stamp(7 * 24 * 60)}}))
    assert [e["id"] for e in found] == [old["id"]]


def test_history_keeps_the_latest_event_of_each_correlation(api, asset):
    for i, state in enumerate(("open", "ack", "closed")):
        post(api, {"entityId": asset, "timestamp": stamp(5 - i), "correlationId": "alarm-1", "code": state})
    assert [e["code"] for e in embedded(listing(api))] == ["closed"]
    assert [e["code"] for e in embedded(listing(api, history="true"))] == ["closed", "ack", "open"]


@pytest.mark.parametrize(("params", "words"), [
    ({"filter": "{not json"}, ("filter",)),
    ({"filter": json.dumps({"description": "x"})}, ("description",)),
    ({"filter": json.dumps({"nope": 1})}, ("nope",)),
    ({"filter": json.dumps({"severity": {"like": 1}})}, ("like",)),
    ({"filter": json.dumps({"severity": "high"})}, ("severity",)),
    ({"filter": json.dumps({"typeId": {"in": ["a", "b"]}})}, ("typeId",)),
    ({"filter": json.dumps({"or": [{"typeId": "a"}, {"typeId": "b"}]})}, ("typeId",)),
    ({"filter": json.dumps({"typeId": "x.Unknown"})}, ("x.Unknown",)),
    ({"filter": json.dumps({"timestamp": {"between": "[a,b"}})}, ("between",)),
    ({"filter": "{\"and\":" * 40 + "{}" + "}" * 40}, ("filter",)),
    ({"sort": "description,asc"}, ("description",)),
    ({"sort": "timestamp,sideways"}, ("sideways",)),
    ({"size": "101"}, ("size",)),
    ({"size": "0"}, ("size",)),
    ({"page": "-1"}, ("page",)),
    ({"history": "maybe"}, ("history",)),
])
def test_bad_queries_are_refused(api, params, words):
    refused(api.get(EVENTS, params=params), 400, *words)


# --- event types ----------------------------------------------------------------------------------------

def test_a_custom_event_type_inherits_the_standard_fields(api, tenant, asset, pump_type):
    resp = api.get(f"{TYPES}/{pump_type}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["parentId"] == STANDARD and body["ttl"] == 35 and body["scope"] == "LOCAL"
    assert body["owner"] == tenant["name"] and body["etag"] == 0
    names = [f["name"] for f in body["fields"]]
    assert names[:5] == ["description", "severity", "code", "source", "acknowledged"]
    assert names[5:] == ["temperature", "phase", "serial"]
    event = post(api, {"entityId": asset, "timestamp": stamp(), "typeId": pump_type, "temperature": 23.7,
                       "phase": "START", "severity": 30})
    assert event["typeId"] == pump_type and event["temperature"] == 23.7 and event["phase"] == "START"
    typed = embedded(listing(api, filter={"typeId": pump_type, "temperature": {"in": [23.7]}}))
    assert [e["id"] for e in typed] == [event["id"]] and typed[0]["phase"] == "START"
    untyped = embedded(listing(api))
    assert [e["id"] for e in untyped] == [event["id"]] and "temperature" not in untyped[0]
    refused(api.get(EVENTS, params={"filter": json.dumps({"temperature": 23.7})}), 400, "temperature")


@pytest.mark.parametrize(("change", "status", "words"), [
    ({"phase": None}, 400, ("phase",)),
    ({"phase": "MIDDLE"}, 400, ("phase", "MIDDLE")),
    ({"temperature": "warm"}, 400, ("temperature",)),
    ({"temperature": True}, 400, ("temperature",)),
    ({"color": "red"}, 400, ("color",)),
])
def test_custom_fields_are_checked(api, asset, pump_type, change, status, words):
    body = {"entityId": asset, "timestamp": stamp(), "typeId": pump_type, "phase": "END", **change}
    refused(api.post(EVENTS, json={k: v for k, v in body.items() if v is not None}), status, *words)
    assert embedded(listing(api, filter={"typeId": pump_type})) == []


def test_a_field_that_is_not_updatable_cannot_change(api, asset, pump_type):
    event = post(api, {"entityId": asset, "timestamp": stamp(), "typeId": pump_type, "phase": "START",
                       "serial": "A1"})
    keep = {k: event[k] for k in ("entityId", "timestamp", "typeId", "phase", "serial")}
    ok = api.put(f"{EVENTS}/{event['id']}", json={**keep, "temperature": 50.0}, headers={"If-Match": "1"})
    assert ok.status_code == 200, ok.text
    refused(api.put(f"{EVENTS}/{event['id']}", json={**keep, "serial": "B2"}, headers={"If-Match": "2"}),
            400, "serial")
    refused(api.put(f"{EVENTS}/{event['id']}", json={**keep, "typeId": STANDARD}, headers={"If-Match": "2"}),
            400, "typeId")


def test_event_types_inherit_up_to_four_levels(api, tenant, asset, pump_type):
    t = tenant["name"]
    parent = pump_type
    for level in (3, 4):
        resp = api.post(TYPES, json={"id": f"{t}.L{level}", "name": f"L{level}", "parentId": parent,
                                     "fields": [{"name": f"f{level}", "type": "INTEGER"}]})
        assert resp.status_code == 201, resp.text
        parent = f"{t}.L{level}"
    assert [f["name"] for f in resp.json()["fields"]][-5:] == ["temperature", "phase", "serial", "f3", "f4"]
    refused(api.post(TYPES, json={"name": "L5", "parentId": parent, "fields": []}), 400, parent)
    event = post(api, {"entityId": asset, "timestamp": stamp(), "typeId": parent, "phase": "END", "f4": 4})
    assert event["f4"] == 4


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"id": "other.Type", "name": "T", "fields": []}, 400, ("other.Type",)),
    ({"id": "{tenant}.", "name": "T", "fields": []}, 400, ("must start",)),
    ({"name": "T"}, 400, ("fields",)),
    ({"fields": []}, 400, ("name",)),
    ({"name": "T", "fields": [{"name": "severity", "type": "INTEGER"}]}, 400, ("severity",)),
    ({"name": "T", "fields": [{"name": "x", "type": "COMPLEX"}]}, 400, ("type",)),
    ({"name": "T", "fields": [{"name": "x", "type": "ENUM"}]}, 400, ("x",)),
    ({"name": "T", "fields": [{"name": "x", "type": "STRING", "values": ["a"]}]}, 400, ("x",)),
    ({"name": "T", "fields": [], "parentId": "nope.Parent"}, 400, ("nope.Parent",)),
    ({"name": "T", "fields": [], "ttl": 0}, 400, ("ttl",)),
    ({"name": "T", "fields": [], "scope": "PLANET"}, 400, ("scope",)),
    ({"name": "T", "fields": [], "color": "red"}, 400, ("color",)),
    ({"name": "T\u0000", "fields": []}, 400, ("name",)),
])
def test_bad_event_types_are_refused(api, tenant, body, status, words):
    if "id" in body:
        body = {**body, "id": body["id"].replace("{tenant}", tenant["name"])}
    refused(api.post(TYPES, json=body), status, *words)
    assert [t["id"] for t in embedded(api.get(TYPES).json(), "eventTypes")] == [STANDARD]


def test_a_duplicate_event_type_is_a_conflict(api, pump_type):
    refused(api.post(TYPES, json={"id": pump_type, "name": "again", "fields": []}), 409, pump_type)


def test_event_types_are_listed_filtered_and_sorted(api, tenant, pump_type):
    generated = api.post(TYPES, json={"name": "Generated", "fields": []}).json()
    assert len(generated["id"]) == 36
    mine = api.get(TYPES, params={"filter": json.dumps({"owner": tenant["name"]}), "sort": "name,desc"}).json()
    assert [t["name"] for t in embedded(mine, "eventTypes")] == ["PumpEvent", "Generated"]
    none = api.get(TYPES, params={"filter": json.dumps({"name": "UnitTestEventType"})}).json()
    assert "_embedded" not in none and none["page"]["totalElements"] == 0
    both = api.get(TYPES, params={"filter": json.dumps({"and": {"id": {"contains": "Pump"},
                                                                  "owner": {"eq": tenant["name"]}}})}).json()
    assert [t["id"] for t in embedded(both, "eventTypes")] == [pump_type]
    refused(api.get(f"{TYPES}/nope.Type"), 404, "nope.Type")


def test_an_event_type_is_patched_with_put_or_patch(api, pump_type):
    url = f"{TYPES}/{pump_type}"
    resp = api.put(url, json={"op": "replace", "path": "/scope", "value": "GLOBAL"}, headers={"If-Match": "0"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == "GLOBAL" and resp.json()["etag"] == 1
    resp = api.patch(url, json={"op": "add", "path": "/fields", "value": {"name": "rpm", "type": "INTEGER"}},
                     headers={"If-Match": "1"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["fields"][-1]["name"] == "rpm"
    resp = api.patch(url, json={"op": "replace", "path": "/fields/phase/required", "value": False},
                     headers={"If-Match": "2"})
    assert resp.status_code == 200, resp.text
    assert [f for f in resp.json()["fields"] if f["name"] == "phase"][0]["required"] is False
    refused(api.patch(url, json={"op": "replace", "path": "/scope", "value": "LOCAL"}, headers={"If-Match": "0"}),
            412, pump_type)
    refused(api.patch(url, json={"op": "remove", "path": "/scope", "value": 1}, headers={"If-Match": "3"}),
            400, "op")
    refused(api.patch(url, json={"op": "replace", "path": "/owner", "value": "x"}, headers={"If-Match": "3"}),
            400, "/owner")
    refused(api.patch(url, json={"op": "replace", "path": "/fields/nope/required", "value": True},
                      headers={"If-Match": "3"}), 400, "nope")
    refused(api.patch(url, json={"op": "add", "path": "/fields", "value": {"name": "severity", "type": "INTEGER"}},
                      headers={"If-Match": "3"}), 400, "severity")
    assert api.get(url).json()["etag"] == 3


def test_deleting_an_event_type_needs_its_etag_and_takes_its_events(api, tenant, asset, pump_type):
    post(api, {"entityId": asset, "timestamp": stamp(), "typeId": pump_type, "phase": "END"})
    child = api.post(TYPES, json={"id": f"{tenant['name']}.Child", "name": "Child", "parentId": pump_type,
                                  "fields": []})
    assert child.status_code == 201
    refused(api.delete(f"{TYPES}/{pump_type}"), 400, "If-Match")
    refused(api.delete(f"{TYPES}/{pump_type}", headers={"If-Match": "7"}), 412, pump_type)
    refused(api.delete(f"{TYPES}/{pump_type}", headers={"If-Match": "0"}), 409, pump_type)
    assert api.delete(f"{TYPES}/{tenant['name']}.Child", headers={"If-Match": "0"}).status_code == 204
    assert api.delete(f"{TYPES}/{pump_type}", headers={"If-Match": "0"}).status_code == 204
    refused(api.get(f"{TYPES}/{pump_type}"), 404, pump_type)
    assert embedded(listing(api)) == []
    refused(api.delete(f"{TYPES}/{STANDARD}", headers={"If-Match": "0"}), 400, STANDARD)


def test_events_go_with_their_asset(api, asset):
    post(api, {"entityId": asset, "timestamp": stamp()})
    etag = api.get(f"{ASSETS}/{asset}").json()["etag"]
    assert api.delete(f"{ASSETS}/{asset}", headers={"If-Match": str(etag)}).status_code == 204
    assert embedded(listing(api)) == []


def test_events_of_one_tenant_are_invisible_to_another(api, admin, server, asset, pump_type):
    event = post(api, {"entityId": asset, "timestamp": stamp(), "typeId": pump_type, "phase": "END"})
    with temporary_tenant(admin, prefix="o") as other, tenant_session(server.url, other) as them:
        refused(them.get(f"{EVENTS}/{event['id']}"), 404, event["id"])
        assert embedded(them.get(EVENTS).json()) == []
        refused(them.get(f"{TYPES}/{pump_type}"), 404, pump_type)
        refused(them.post(EVENTS, json={"entityId": asset, "timestamp": stamp()}), 400, asset)
        refused(them.put(f"{EVENTS}/{event['id']}", json={"entityId": asset, "timestamp": event["timestamp"]},
                         headers={"If-Match": "1"}), 404, event["id"])


# --- jobs -----------------------------------------------------------------------------------------------

def test_a_create_job_creates_each_event_on_its_own(api, asset, pump_type):
    good = {"entityId": asset, "timestamp": stamp(), "code": "OK"}
    custom = {"entityId": asset, "timestamp": stamp(), "typeId": pump_type, "phase": "START"}
    bad = {"entityId": asset, "timestamp": stamp(), "severity": "high"}
    resp = api.post(f"{BASE}/createEventsJobs", json={"events": [good, bad, custom]})
    assert resp.status_code == 201, resp.text
    job = resp.json()
    assert job["state"] == "FINISHED_WITH_ERROR"
    read = api.get(f"{BASE}/createEventsJobs/{job['id']}").json()
    results = read["details"]["resultDescription"]
    assert [r["resultCode"] for r in results] == ["201", "400", "201"]
    assert "severity" in results[1]["errorMessage"] and json.loads(results[1]["event"]) == bad
    assert json.loads(results[0]["event"])["code"] == "OK"
    assert len(embedded(listing(api, history="true"))) == 2
    refused(api.post(f"{BASE}/createEventsJobs", json={"events": [good] * 51}), 400, "events")
    refused(api.post(f"{BASE}/createEventsJobs", json={"events": []}), 400, "events")
    refused(api.get(f"{BASE}/deleteEventsJobs/{job['id']}"), 404, job["id"])


def test_a_delete_job_deletes_what_its_filter_with_a_type_matches(api, asset, pump_type):
    keep = post(api, {"entityId": asset, "timestamp": stamp(), "typeId": pump_type, "phase": "START"})
    old = post(api, {"entityId": asset, "timestamp": stamp(30 * 24 * 60), "typeId": pump_type, "phase": "END"})
    standard = post(api, {"entityId": asset, "timestamp": stamp()})
    refused(api.post(f"{BASE}/deleteEventsJobs", json={"filter": {"phase": "END"}}), 400, "typeId")
    resp = api.post(f"{BASE}/deleteEventsJobs", json={"filter": {"typeId": pump_type, "phase": "END"}})
    assert resp.status_code == 201, resp.text
    job = api.get(f"{BASE}/deleteEventsJobs/{resp.json()['id']}").json()
    assert job["state"] == "FINISHED" and "1 event" in job["details"]["resultDescription"]
    refused(api.get(f"{EVENTS}/{old['id']}"), 404, old["id"])  # beyond the 7-day window, still deleted
    assert api.get(f"{EVENTS}/{keep['id']}").status_code == 200
    one = api.post(f"{BASE}/deleteEventsJobs", json={"filter": {"id": standard["id"], "typeId": STANDARD}})
    assert one.status_code == 201  # how Siemens' CLI deletes one event
    refused(api.get(f"{EVENTS}/{standard['id']}"), 404, standard["id"])
    refused(api.get(f"{BASE}/deleteEventsJobs/no-such-job"), 404, "no-such-job")
