"""Tenant isolation, for every data-plane endpoint: tenant A's token against tenant B's resources.

Two tenants hold the same plant (types, assets with static values, time series, a published Data Hub
contract), B with a few marked values of its own. The matrix takes every route of the Flask URL map that
needs a tenant's token (``emulator.apis``: ``/api/...``, ``/odata/...``, ``/_emulator/contracts...``) with
each of its methods, so a new route is covered without a change here: its path parameters are filled with
B's ids, and A's answer must be

* 404 in the API's envelope (or the endpoint's documented refusal, listed in ``REFUSALS``);
* the same answer, status and code, as for an id that exists nowhere: A learns nothing about B;
* free of B's data (B's marked values, and B's ids the request did not name).

Listings, filters naming B's ids, aggregates, OData keys, filters and navigation, and bodies referring to
B's resources are checked too; afterwards a dump of B's whole state, read with B's token, is unchanged (and
A's, since every request was refused).
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import quote

import pytest

from emulator.agentclient import Agent
from emulator.registry import api_of
from tests.support.odata import make_plant, publish_contract
from tests.support.paths import (
    AGENTS,
    ASPECT_TYPES,
    ASSET_MANAGEMENT,
    ASSET_TYPES,
    ASSETS,
    EVENT_MANAGEMENT,
    EVENTS,
    IOT_FILES,
    MINDCONNECT,
    ROOT,
    TIMESERIES,
)
from tests.support.security import RANGE, assert_envelope, delete_tenant, dump, error_code, new_tenant

FILES = f"{ASSET_MANAGEMENT}/files"
MARKERS = ("B-secret-asset", "B-secret-ext", "B-SN-secret")  # values only B holds
START = "2024-03-01T00:00:00Z"
AGGR_FILTER = ("assetId eq '{}' and timestamp gt '2024-03-01T00:00:00' and timestamp le '2024-03-01T02:00:00' "
               "and intervalUnit eq 'minutes' and intervalValue eq 60")


@pytest.fixture(scope="module")
def world(server):
    """Tenants A and B, each with the plant and a published contract; B with marked values and a draft."""
    tenant_a, api_a = new_tenant(server.url, "a")
    tenant_b, api_b = new_tenant(server.url, "b")
    try:
        ids_a = make_plant(api_a, tenant_a)
        publish_contract(api_a, tenant_a, name="aplant")
        ids_b = make_plant(api_b, tenant_b)
        publish_contract(api_b, tenant_b, name="bplant")
        for api, ids in ((api_a, ids_a), (api_b, ids_b)):  # an Asset Management file each
            resp = api.post(f"{ASSET_MANAGEMENT}/files", files={"file": ("f.txt", b"own")}, data={"name": "f.txt"})
            assert resp.status_code == 201, resp.text
            ids["file"] = resp.json()["id"]
        for api, tenant, ids in ((api_a, tenant_a, ids_a), (api_b, tenant_b, ids_b)):
            ids.update(other_apis_resources(api, tenant, ids))
        tb = tenant_b["name"]
        resp = api_b.post(ASSETS, json={
            "name": MARKERS[0], "externalId": MARKERS[1], "typeId": f"{tb}.CNGTurbine", "parentId": ids_b["site"],
            "aspects": [{"name": "Plate", "variables": [{"name": "serial", "value": MARKERS[2]}]}]})
        assert resp.status_code == 201, resp.text
        ids_b["secret"] = resp.json()["assetId"]
        resp = api_b.post("/_emulator/contracts", json={"name": "bdraft", "version": "1.0.0",
                                                         "assetTypeIds": [f"{tb}.Site"]})
        assert resp.status_code == 201, resp.text
        sets_b = [s["name"] for s in api_b.get("/odata/bplant/").json()["value"]]
        metadata = api_a.get("/odata/aplant/$metadata").text
        assert 'Name="Derived_LPGTurbine"' in metadata and 'Name="Base_CNGTurbine"' in metadata
        aggr_set = next(s for s in sets_b if s.startswith("AGGR_") and s.endswith("_CNGTurbine"))
        rows = api_a.get(f"/odata/aplant/{aggr_set}", params={"$filter": AGGR_FILTER.format(ids_a["cng1"])})
        assert rows.status_code == 200 and rows.json()["value"], rows.text
        aggr_key = rows.json()["value"][0]["id"].replace(ids_a["cng1"], "{}")  # asset~variable~...~start
        yield {"server": server, "A": (tenant_a, api_a, ids_a), "B": (tenant_b, api_b, ids_b), "sets": sets_b,
               "aggr_key": aggr_key, "before": (dump(api_a), dump(api_b))}
    finally:
        api_a.close()
        api_b.close()
        delete_tenant(server.url, tenant_a)
        delete_tenant(server.url, tenant_b)


# --- the matrix ------------------------------------------------------------------------------------------

# Answers other than 404 that an endpoint documents for another tenant's resource (the same for an id that
# exists nowhere): type ids carry their tenant's name, so a PUT of B's id is a malformed id in A's namespace;
# the OData service is read-only whatever the contract (405, ``ODATA_WRITES``).
REFUSALS = {
    ("assets.put_aspect_type", "PUT"): {400},
    ("assets.put_asset_type", "PUT"): {400},
}
ODATA_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
SKIPPED_METHODS = {"OPTIONS"}  # Flask's automatic answer lists the rule's methods; it reads no data


def record(value: float) -> dict:
    return {"_time": "2024-03-01T00:00:30.000Z", "current": value, "current_qc": 0, "voltage": 1, "mode": "x"}


def merge_patch(body: dict) -> dict:
    return {"data": json.dumps(body), "headers": {"Content-Type": "application/merge-patch+json", "If-Match": '"0"'}}


# (endpoint, method) -> the request's query, body and headers (beyond the path), as a client of A would send
# them for a resource of its own, so that only the tenant makes the request fail.
def request_details(endpoint: str, method: str, a: dict) -> list[dict]:
    ta = a["tenant"]["name"]
    if_match = {"headers": {"If-Match": '"0"'}}
    table = {
        ("assets.put_aspect_type", "PUT"): [{"json": {"name": "PowerConsumption", "category": "dynamic",
                                                      "variables": [{"name": "x", "dataType": "DOUBLE"}]},
                                             "headers": {"If-Match": '"0"'}}],
        ("assets.patch_aspect_type", "PATCH"): [merge_patch({"description": "changed by A"})],
        ("assets.delete_aspect_type", "DELETE"): [if_match],
        ("assets.put_asset_type", "PUT"): [{"json": {"name": "CNGTurbine", "parentTypeId": "core.basicasset"},
                                            "headers": {"If-Match": '"0"'}}],
        ("assets.patch_asset_type", "PATCH"): [merge_patch({"description": "changed by A"})],
        ("assets.patch_asset_type_variables", "PATCH"): [merge_patch({"x": {"unit": "changed by A"}})],
        ("assets.patch_aspect_type_variables", "PATCH"): [merge_patch({"x": {"unit": "changed by A"}})],
        ("assets.delete_asset_type", "DELETE"): [if_match],
        ("assets.get_asset_type", "GET"): [{}, {"params": {"exploded": "true"}}],
        ("assets.put_asset", "PUT"): [{"json": {"name": "taken over", "typeId": f"{ta}.CNGTurbine",
                                                "parentId": a["ids"]["site"], "timezone": "Europe/Berlin"},
                                       "headers": {"If-Match": '"0"'}}],
        ("assets.patch_asset", "PATCH"): [merge_patch({"name": "taken over"})],
        ("assets.delete_asset", "DELETE"): [if_match],
        ("assets.move_asset", "POST"): [{"json": {"newParentId": a["tenant"]["rootAssetId"]}, **if_match}],
        ("assets.put_location", "PUT"): [{"json": {"country": "Nowhere", "latitude": 1.0, "longitude": 2.0},
                                          **if_match}],
        ("assets.delete_location", "DELETE"): [if_match],
        ("assets.asset_aspects", "GET"): [{}, {"params": {"size": 200}}],
        ("timeseries.put_timeseries", "PUT"): [{"json": [record(1.0)]}],
        ("timeseries.get_timeseries", "GET"): [{}, {"params": RANGE}, {"params": {"latestValue": "true"}},
                                               {"params": {**RANGE, "select": "current", "sort": "desc"}}],
        ("timeseries.delete_timeseries", "DELETE"): [{"params": RANGE}],
        ("aggregates.aggregates_v3", "GET"): [{"params": {"from": START, "to": "2024-03-01T02:00:00Z",
                                                          "intervalValue": "1", "intervalUnit": "hour"}}],
        ("contracts.publish_contract", "POST"): [{}, {"json": {}}],
        ("assets.put_file", "PUT"): [{"files": {"file": ("f.txt", "taken over")},
                                      "data": {"name": "f.txt", "scope": "private"}, **if_match}],
        ("assets.delete_file", "DELETE"): [if_match],
        ("assets.put_asset_file_assignment", "PUT"): [{"json": {"fileId": a["ids"]["file"]}, **if_match}],
        ("assets.delete_asset_file_assignment", "DELETE"): [if_match],
        ("assets.put_asset_type_file_assignment", "PUT"): [{"json": {"fileId": a["ids"]["file"]}, **if_match}],
        ("assets.delete_asset_type_file_assignment", "DELETE"): [if_match],
        ("events.update_event", "PUT"): [{"json": {"entityId": a["ids"]["cng1"], "timestamp": START,
                                                   "typeId": a["ids"]["event_type"], "phase": "taken"},
                                          "headers": {"If-Match": "1"}}],
        ("events.patch_event_type", "PATCH"): [{"json": {"op": "replace", "path": "/scope", "value": "GLOBAL"},
                                                "headers": {"If-Match": '"0"'}}],
        ("events.put_event_type", "PUT"): [{"json": {"op": "replace", "path": "/scope", "value": "GLOBAL"},
                                            "headers": {"If-Match": '"0"'}}],
        ("events.delete_event_type", "DELETE"): [if_match],
        ("iotfiles.put_file", "PUT"): [{"data": "taken over", "headers": {"Content-Type": "application/octet-stream",
                                                                          "If-Match": "0"}}],
        ("agents.update_agent", "PUT"): [{"json": {"name": "taken", "securityProfile": "SHARED_SECRET"},
                                          **if_match}],
        ("agents.delete_agent", "DELETE"): [if_match],
        ("agents.put_data_source_configuration", "PUT"): [{"json": {"configurationId": "taken", "dataSources": []},
                                                           **if_match}],
        ("mindconnect.update_activation", "PUT"): [{"json": {"status": "INACTIVE"}}],
    }
    return table.get((endpoint, "GET" if method == "HEAD" else method), [{}])


def other_apis_resources(api, tenant: dict, ids: dict) -> dict:
    """A tenant's event type, event, create and delete jobs (Event Management), a file of an asset (IoT File
    Service) and an agent (Agent Management): what the matrix fills those APIs' paths with."""
    made, name = {}, tenant["name"]
    resp = api.post(f"{EVENT_MANAGEMENT}/eventTypes", json={"id": f"{name}.Alarm", "name": "Alarm", "ttl": 3650,
                                                           "fields": [{"name": "phase", "type": "STRING",
                                                                       "filterable": True}]})  # ttl: 2024's event lives
    assert resp.status_code == 201, resp.text
    made["event_type"] = resp.json()["id"]
    event = {"entityId": ids["cng1"], "timestamp": "2024-03-01T00:00:00.000Z", "typeId": made["event_type"],
             "phase": "start"}
    resp = api.post(EVENTS, json=event)
    assert resp.status_code == 201, resp.text
    made["event"] = resp.json()["id"]
    resp = api.post(f"{EVENT_MANAGEMENT}/createEventsJobs", json={"events": [event]})
    assert resp.status_code == 201, resp.text
    made["create_job"] = resp.json()["id"]
    resp = api.post(f"{EVENT_MANAGEMENT}/deleteEventsJobs", json={"filter": {"typeId": made["event_type"],
                                                                            "phase": "none"}})
    assert resp.status_code == 201, resp.text
    made["delete_job"] = resp.json()["id"]
    resp = api.put(f"{IOT_FILES}/{ids['cng1']}/docs/manual.txt", data=b"own",
                   headers={"Content-Type": "application/octet-stream"})
    assert resp.status_code == 201, resp.text
    resp = api.put(f"{IOT_FILES}/{ids['cng1']}/docs/parts.bin", params={"upload": "start"},
                   headers={"Content-Type": "application/octet-stream"})  # a multipart upload under way
    assert resp.status_code == 200, resp.text
    resp = api.post(AGENTS, json={"name": f"agent-{name}", "securityProfile": "SHARED_SECRET"})
    assert resp.status_code == 201, resp.text
    made["agent"] = resp.json()["id"]
    resp = api.put(f"{AGENTS}/{made['agent']}/dataSourceConfiguration", headers={"If-Match": "0"}, json={
        "configurationId": "CF-1", "dataSources": [{"name": "DS", "dataPoints": [
            {"id": "DP-1", "name": "current", "type": "DOUBLE", "unit": "A"}]}]})
    assert resp.status_code == 200, resp.text
    resp = api.post(f"{MINDCONNECT}/dataPointMappings", json={
        "agentId": made["agent"], "dataPointId": "DP-1", "entityId": ids["cng1"], "propertySetName": "Power",
        "propertyName": "current", "keepMapping": True})
    assert resp.status_code == 201, resp.text
    made["mapping"] = resp.json()["id"]
    resp = api.post(f"{MINDCONNECT}/diagnosticActivations", json={"agentId": made["agent"]})
    assert resp.status_code == 201, resp.text
    made["activation"] = resp.json()["id"]
    agent = Agent.onboard(api.base_url, api.headers["Authorization"].split()[1], name, made["agent"])
    agent.configuration_id = "CF-1"
    resp = agent.post([{"timestamp": START, "values": [{"dataPointId": "DP-9", "value": "1"}]}])
    assert resp.status_code == 200, resp.text  # DP-9 is no data point of the agent: dropped, and kept
    resp = api.get(f"{MINDCONNECT}/recoverableRecords")
    assert resp.status_code == 200, resp.text
    made["record"] = resp.json()["content"][0]["id"]
    return made


def path_values(rule, owner: dict, ghost: bool, world: dict) -> list[dict]:
    """Each way to fill the rule's path parameters with the owner's resources (or, ``ghost``, with ones like them
    that exist nowhere)."""
    tb, ids = owner["tenant"]["name"], owner["ids"]
    asset = uuid.uuid4().hex if ghost else ids["cng1"]
    lpg = uuid.uuid4().hex if ghost else ids["lpg"]
    contract = "ghostplant" if ghost else owner["contract"]
    type_id = f"{tb}.PowerConsumption" if "aspecttypes" in rule.rule else f"{tb}.CNGTurbine"
    if ghost:
        type_id = f"{tb}.Ghost"
    if "eventTypes" in rule.rule:
        type_id = f"{tb}.Ghost" if ghost else ids["event_type"]
    job = ids["create_job"] if "createEventsJobs" in rule.rule else ids["delete_job"]
    values = {"asset_id": asset, "aspect": "Power", "type_id": type_id, "name": contract, "contract": contract,
              "file_id": uuid.uuid4().hex if ghost else ids["file"], "key": "logo",
              "event_id": uuid.uuid4().hex if ghost else ids["event"], "job_id": uuid.uuid4().hex if ghost else job,
              "entity_id": asset, "filepath": "docs/parts.bin" if "fileslist" in rule.rule else "docs/manual.txt",
              "agent_id": uuid.uuid4().hex if ghost else ids["agent"],
              "mapping_id": str(uuid.uuid4()) if ghost else ids["mapping"],
              "activation_id": str(uuid.uuid4()) if ghost else ids["activation"],
              "record_id": str(uuid.uuid4()) if ghost else ids["record"]}
    unknown = set(rule.arguments) - set(values) - {"resource"}
    assert not unknown, f"{rule.rule}: no isolation value for {unknown}; add B's resource for it to path_values"
    if "resource" not in rule.arguments:
        return [values]
    ts_set = next(s for s in world["sets"] if s.startswith("TS_") and s.endswith("_CNGTurbine"))
    aggr_set = next(s for s in world["sets"] if s.startswith("AGGR_") and s.endswith("_CNGTurbine"))
    resources = ["$metadata", "CNGTurbine", f"CNGTurbine('{asset}')", "CNGTurbine/$count", "CNGTurbine/$query",
                 f"CNGTurbine('{lpg}')/Derived_LPGTurbine", f"LPGTurbine('{lpg}')/Base_CNGTurbine", ts_set,
                 aggr_set, f"{ts_set}('{asset}_1709251260000')", f"{aggr_set}('{world['aggr_key'].format(asset)}')"]
    out = [{**values, "resource": resource} for resource in resources]
    # B's unpublished contract is no service either
    out.append({**values, "contract": "ghostdraft" if ghost else owner["draft"], "resource": "$metadata"})
    return out


def fill(rule, values: dict) -> str:
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", quote(value, safe="/$'(),"), path)
    return path


def data_plane_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if api_of(rule.rule).protected and rule.arguments:
            for method in sorted(rule.methods - SKIPPED_METHODS):
                yield rule, method


def send(api, method: str, path: str, details: dict):
    kwargs = {k: v for k, v in details.items() if k in ("params", "json", "data", "headers", "files")}
    if path.endswith("/$query") and method == "POST":
        kwargs = {"data": "$top=5", "headers": {"Content-Type": "text/plain"}}
    return api.request(method, path, **kwargs)


def expected_statuses(rule, method: str, path: str) -> set[int]:
    if path.startswith("/odata/") and method in ODATA_WRITES and not (method == "POST" and path.endswith("/$query")):
        return {405}
    return REFUSALS.get((rule.endpoint, method), {404})


def leaks(resp, request_text: str, b_ids: list[str]) -> list[str]:
    """B's marked values, and B's asset ids the request did not name, found in the answer."""
    text = resp.text
    found = [m for m in MARKERS if m in text and m not in request_text]
    found += [i for i in b_ids if i in text and i not in request_text]
    return found


def assert_unchanged(world) -> None:
    """B's whole state as B reads it is what it was; so is A's, since every request was refused."""
    before_a, before_b = world["before"]
    assert dump(world["B"][1]) == before_b, "B's state changed"
    assert dump(world["A"][1]) == before_a, "A's state changed, though every request of A was refused"


def test_every_data_plane_route_refuses_another_tenants_resources(world):
    server = world["server"]
    tenant_a, api_a, ids_a = world["A"]
    tenant_b, api_b, ids_b = world["B"]
    a = {"tenant": tenant_a, "ids": ids_a, "contract": "aplant", "draft": "ghostdraft"}
    b = {"tenant": tenant_b, "ids": ids_b, "contract": "bplant", "draft": "bdraft"}
    b_ids = [tenant_b["rootAssetId"], *ids_b.values()]
    covered, sent, failures = set(), 0, []
    for rule, method in data_plane_rules(server.app):
        covered.add((rule.rule, method))
        for values, ghost_values, own_values in zip(path_values(rule, b, False, world),
                                                    path_values(rule, b, True, world),
                                                    path_values(rule, a, False, world), strict=True):
            path, ghost_path, own_path = fill(rule, values), fill(rule, ghost_values), fill(rule, own_values)
            for details in request_details(rule.endpoint, method, a):
                theirs = send(api_a, method, path, details)
                nowhere = send(api_a, method, ghost_path, details)
                sent += 2
                if method == "GET" and "draft" not in own_path and not own_path.endswith("$query"):
                    # the control: A reads its own resource so, the refusal above is the tenant's
                    own = send(api_a, method, own_path, details)
                    sent += 1
                    if own.status_code not in (200, 204):
                        failures.append(f"GET {own_path} {details}: A's own resource answers {own.status_code}")
                where = f"{method} {path} {details}"
                allowed = expected_statuses(rule, method, path)
                if theirs.status_code not in allowed:
                    failures.append(f"{where}: {theirs.status_code} (expected {sorted(allowed)}) {theirs.text[:300]}")
                    continue
                if (theirs.status_code, error_code(theirs)) != (nowhere.status_code, error_code(nowhere)):
                    failures.append(f"{where}: {theirs.status_code} {error_code(theirs)} differs from an id that "
                                    f"exists nowhere: {nowhere.status_code} {error_code(nowhere)}")
                if method != "HEAD" and theirs.status_code >= 400:
                    assert_envelope(theirs, path=path)
                if method != "HEAD" and (found := leaks(theirs, path + json.dumps(details), b_ids)):
                    failures.append(f"{where}: the answer holds B's {found}: {theirs.text[:300]}")
    assert not failures, "\n".join(failures)
    assert_unchanged(world)
    expected = {(r.rule, m) for r, m in data_plane_rules(server.app)}
    assert covered == expected and len(covered) >= 30, sorted(expected - covered)
    assert sent >= 150


def test_routes_without_a_resource_in_the_path(world):
    """Listings, the root, creation and the multi-pair write, with B's ids in filters and bodies: A sees and
    changes only its own. Every such route of the URL map must have a case here."""
    server = world["server"]
    tenant_a, api_a, ids_a = world["A"]
    tenant_b, api_b, ids_b = world["B"]
    ta, tb = tenant_a["name"], tenant_b["name"]
    b_ids = [tenant_b["rootAssetId"], *ids_b.values()]
    listing_filters = {  # each filter names B's resources: A's listing holds nothing (no filter: only A's)
        ASSETS: [{"assetId": ids_b["cng1"]}, {"parentId": ids_b["site"]}, {"typeId": f"{tb}.CNGTurbine"},
                 {"hasType": f"{tb}.CNGTurbine"}, {"tenantId": tb}, {"externalId": MARKERS[1]},
                 {"name": MARKERS[0]}, {"name": {"in": {"value": [MARKERS[0], "B-other"]}}},
                 {"or": [{"tenantId": tb}, {"assetId": ids_b["secret"]}]},
                 {"and": [{"not": {"tenantId": ta}}, {"name": {"contains": "Turbine"}}]}],
        ASPECT_TYPES: [{"id": f"{tb}.PowerConsumption"}, {"tenantId": tb}, {"id": {"startsWith": tb}}],
        ASSET_TYPES: [{"id": f"{tb}.CNGTurbine"}, {"parentTypeId": f"{tb}.CNGTurbine"},
                      {"id": {"contains": tb}}],
        FILES: [{"id": ids_b["file"]}, {"id": {"in": {"value": [ids_b["file"]]}}}],
    }

    def listings(path):
        return [("GET", path, {"params": {"size": 200}}, {200})] + [
            ("GET", path, {"params": {"filter": json.dumps(f), "size": 200}}, {200}) for f in listing_filters[path]]

    event_types = f"{EVENT_MANAGEMENT}/eventTypes"
    cases = {  # endpoint -> [(method, path, kwargs, allowed statuses)]
        "assets.billboard": [("GET", f"{ASSET_MANAGEMENT}/", {}, {200})],
        "assets.root_asset": [("GET", ROOT, {}, {200})],
        "assets.list_assets": listings(ASSETS),
        "assets.list_aspect_types": listings(ASPECT_TYPES),
        "assets.list_asset_types": listings(ASSET_TYPES),
        "assets.list_files": listings(FILES),
        "assets.create_file": [("POST", FILES, {"files": {"file": ("g.txt", "A's")}, "data": {"name": "g.txt"}},
                                {201})],
        "assets.create_asset": [
            ("POST", ASSETS, {"json": {"name": "x", "typeId": f"{ta}.Site", "parentId": ids_b["site"]}},
             {400, 404}),
            ("POST", ASSETS, {"json": {"name": "x", "typeId": f"{tb}.Site", "parentId": ids_a["site"]}},
             {400, 404}),
        ],
        "timeseries.put_many": [("PUT", TIMESERIES, {"json": {"timeseries": [
            {"entityId": ids_b["cng1"], "propertySetName": "Power", "data": [record(7.0)]}]}}, {202})],
        "aggregates.aggregates_v4": [
            ("GET", "/api/iottsaggregates/v4/aggregates",
             {"params": {"assetId": ids_b["cng1"], "aspectName": "Power", "from": START,
                         "to": "2024-03-01T02:00:00Z", "intervalValue": "1", "intervalUnit": "hour"}}, {404}),
            ("GET", "/api/iottsaggregates/v4/aggregates", {"params": {"assetId": ids_b["cng1"], "aspectName": "Power"}},
             {404}),
        ],
        "contracts.list_contracts": [("GET", "/_emulator/contracts", {}, {200})],
        "events.billboard": [("GET", f"{EVENT_MANAGEMENT}/", {}, {200})],
        "events.list_events": [("GET", EVENTS, {"params": {"filter": json.dumps(f)}}, {200, 400}) for f in (
            {"entityId": ids_b["cng1"]}, {"typeId": ids_b["event_type"]}, {"id": ids_b["event"]})],
        "events.list_event_types": [("GET", event_types, {"params": {"filter": json.dumps(f)}}, {200})
                                    for f in ({"id": ids_b["event_type"]}, {"id": {"startsWith": tb}})],
        "events.create_event": [("POST", EVENTS, {"json": {"entityId": ids_b["cng1"], "timestamp": START}}, {400}),
                                ("POST", EVENTS, {"json": {"entityId": ids_a["cng1"], "timestamp": START,
                                                           "typeId": ids_b["event_type"]}}, {400})],
        "events.create_event_type": [("POST", event_types, {"json": {"id": f"{tb}.Stolen", "name": "Stolen"}},
                                      {400, 404})],
        "events.create_events_job": [("POST", f"{EVENT_MANAGEMENT}/createEventsJobs", {"json": {"events": [
            {"entityId": ids_b["cng1"], "timestamp": START}]}}, {201})],
        "events.delete_events_job": [("POST", f"{EVENT_MANAGEMENT}/deleteEventsJobs", {"json": {"filter": {
            "typeId": ids_b["event_type"]}}}, {400, 404})],
        "agents.list_agents": [("GET", AGENTS, {"params": {"filter": json.dumps({"name": f"agent-{tb}"})}}, {200}),
                               ("GET", AGENTS, {}, {200})],
        "agents.create_agent": [("POST", AGENTS, {"json": {"name": "stolen", "securityProfile": "SHARED_SECRET",
                                                           "entityId": ids_b["agent"]}}, {400, 404})],
        "mindconnect.create_mapping": [("POST", f"{MINDCONNECT}/dataPointMappings", {"json": {
            "agentId": ids_b["agent"], "dataPointId": "DP-1", "entityId": ids_b["cng1"], "propertySetName": "Power",
            "propertyName": "voltage"}}, {400})],
        "mindconnect.list_mappings": [("GET", f"{MINDCONNECT}/dataPointMappings", {"params": {"filter": json.dumps(
            {"agentId": ids_b["agent"]})}}, {200})],
        "mindconnect.exchange": [("POST", f"{MINDCONNECT}/exchange", {"data": "--m--", "headers": {
            "Content-Type": "multipart/mixed; boundary=m"}}, {403})],
        "mindconnect.create_activation": [("POST", f"{MINDCONNECT}/diagnosticActivations", {"json": {
            "agentId": ids_b["agent"]}}, {400})],
        "mindconnect.list_activations": [("GET", f"{MINDCONNECT}/diagnosticActivations", {}, {200})],
        "mindconnect.diagnostic_information": [("GET", f"{MINDCONNECT}/diagnosticInformation", {"params": {
            "filter": json.dumps({"agentId": ids_b["agent"]})}}, {200})],
        "mindconnect.list_recoverable_records": [
            ("GET", f"{MINDCONNECT}/recoverableRecords", {"params": {"filter": json.dumps(
                {"agentId": ids_b["agent"]})}}, {200}),
            ("GET", f"{MINDCONNECT}/recoverableRecords", {"params": {"filter": json.dumps(
                {"id": ids_b["record"]})}}, {200})],
        "contracts.create_contract": [("POST", "/_emulator/contracts", {"json": {
            "name": "stolen", "version": "1.0.0", "assetTypeIds": [f"{tb}.CNGTurbine"]}}, {400, 404})],
    }
    rules = {rule.endpoint for rule in server.app.url_map.iter_rules()
             if api_of(rule.rule).protected and not rule.arguments}
    assert rules == set(cases), f"routes without an isolation case: {sorted(rules - set(cases))}"
    for endpoint, requests_ in cases.items():
        for method, path, kwargs, allowed in requests_:
            resp = api_a.request(method, path, **kwargs)
            where = f"{endpoint}: {method} {path} {kwargs}"
            assert resp.status_code in allowed, f"{where}: {resp.status_code} {resp.text[:300]}"
            if resp.status_code >= 400:
                assert_envelope(resp, path=path)
            found = leaks(resp, json.dumps(kwargs), b_ids) + ([tb] if tb in resp.text and tb not in str(kwargs)
                                                                else [])
            assert not found, f"{where}: B's {found} in {resp.text[:300]}"
            body = resp.json()
            if endpoint.startswith("assets.list") and "filter" in kwargs["params"]:
                assert body["page"]["totalElements"] == 0, f"{where}: {body}"
            elif endpoint.startswith("assets.list"):
                key = next(iter(body["_embedded"]))
                assert body["page"]["totalElements"] == len(body["_embedded"][key]) > 0
                assert {item.get("tenantId", ta) for item in body["_embedded"][key]} <= {ta, "core"}, where
            if endpoint == "assets.root_asset":
                assert body["assetId"] == tenant_a["rootAssetId"]
            if endpoint == "timeseries.put_many":
                assert [f["status"] for f in body] == [404], body
            if endpoint == "contracts.list_contracts":
                assert sorted(c["name"] for c in body["contracts"]) == ["aplant"]
    assert_unchanged(world)


def test_a_tenants_own_resources_cannot_point_into_another_tenant(world):
    """References in A's bodies and A's own OData service: B's ids are not found there either."""
    tenant_a, api_a, ids_a = world["A"]
    tenant_b, api_b, ids_b = world["B"]
    ta, tb = tenant_a["name"], tenant_b["name"]
    b_ids = [tenant_b["rootAssetId"], *ids_b.values()]
    etag = api_a.get(f"{ASSETS}/{ids_a['cng2']}").headers["ETag"]
    writes = [
        ("POST", f"{ASSETS}/{ids_a['cng2']}/move", {"json": {"newParentId": ids_b["site"]},
                                                        "headers": {"If-Match": etag}}),
        ("PUT", f"{ASSET_TYPES}/{ta}.Stolen", {"json": {"name": "Stolen", "parentTypeId": f"{tb}.CNGTurbine"}}),
        ("PUT", f"{ASSET_TYPES}/{ta}.Stolen", {"json": {"name": "Stolen", "parentTypeId": "core.basicasset",
                                                       "aspects": [{"name": "P",
                                                                    "aspectTypeId": f"{tb}.PowerConsumption"}]}}),
        ("POST", "/_emulator/contracts", {"json": {"name": "mixed", "version": "1.0.0",
                                                   "assetTypeIds": [f"{ta}.Site", f"{tb}.CNGTurbine"]}}),
    ]
    for method, path, kwargs in writes:
        resp = api_a.request(method, path, **kwargs)
        assert 400 <= resp.status_code < 500, f"{method} {path}: {resp.status_code} {resp.text[:300]}"
        assert_envelope(resp, path=path)
    cng = "CNGTurbine"
    ts_set = next(s for s in world["sets"] if s.startswith("TS_") and s.endswith("CNGTurbine"))
    aggr_set = next(s for s in world["sets"] if s.startswith("AGGR_") and s.endswith("CNGTurbine"))
    reads = [  # (path, params, expected): A's contract, B's ids
        (f"/odata/aplant/{cng}", {"$filter": f"assetId eq '{ids_b['cng1']}'"}, "empty"),
        (f"/odata/aplant/{cng}", {"$filter": f"parentId eq '{ids_b['site']}'"}, "empty"),
        (f"/odata/aplant/{cng}", {"$filter": f"name eq '{MARKERS[0]}'"}, "empty"),
        (f"/odata/aplant/{cng}/$count", {"$filter": f"assetId eq '{ids_b['cng1']}'"}, "zero"),
        (f"/odata/aplant/{cng}('{ids_b['cng1']}')", {}, 404),
        (f"/odata/aplant/{cng}('{ids_b['secret']}')", {"$expand": "Derived_LPGTurbine"}, 404),
        (f"/odata/aplant/{cng}", {"$expand": "Derived_LPGTurbine", "$filter": f"parentId eq '{ids_b['site']}'"},
         "empty"),
        (f"/odata/aplant/LPGTurbine('{ids_b['lpg']}')/Base_CNGTurbine", {}, "404-or-empty"),
        (f"/odata/aplant/{cng}('{ids_b['lpg']}')/Derived_LPGTurbine", {}, "404-or-empty"),
        (f"/odata/aplant/{ts_set}", {"$filter": f"assetId eq '{ids_b['cng1']}'"}, "empty"),
        (f"/odata/aplant/{ts_set}('{ids_b['cng1']}_1709251260000')", {}, 404),
        (f"/odata/aplant/{aggr_set}", {"$filter": f"assetId eq '{ids_b['cng1']}'"}, "empty"),
        (f"/odata/aplant/{aggr_set}('{ids_b['cng1']}_1709251200000')", {}, 404),
        (f"{ASSETS}/{ids_a['cng1']}/aspects", {}, "own"),
    ]
    ghost = uuid.uuid4().hex
    for path, params, expected in reads:
        resp = api_a.get(path, params=params)
        where = f"GET {path} {params}: {resp.status_code} {resp.text[:300]}"
        assert resp.status_code < 500, where
        ghost_path, ghost_params = path, dict(params)
        for b_id in b_ids:
            ghost_path = ghost_path.replace(b_id, ghost)
            ghost_params = {k: v.replace(b_id, ghost) for k, v in ghost_params.items()}
        nowhere = api_a.get(ghost_path, params=ghost_params)
        assert (resp.status_code, resp.text.replace(path, ghost_path)) == (nowhere.status_code, nowhere.text) or (
            resp.status_code == nowhere.status_code and resp.status_code >= 400), f"{where}; nowhere: {nowhere.text}"
        if expected == 404 or (expected == "404-or-empty" and resp.status_code == 404):
            assert resp.status_code == 404, where
            assert_envelope(resp, path=path)
        elif expected == "404-or-empty" and resp.status_code == 204:  # a single-valued navigation property: null
            assert not resp.content, where
        elif expected in ("empty", "404-or-empty"):
            assert resp.status_code == 200 and resp.json()["value"] in ([], None), where
        elif expected == "zero":
            assert resp.status_code == 200 and resp.text.strip() == "0", where
        assert not leaks(resp, path + json.dumps(params), b_ids), where
    assert_unchanged(world)


def test_b_reads_its_own_data_after_the_attacks(world):
    """The positive control: the ids the matrix used are B's, and B reads them."""
    tenant_b, api_b, ids_b = world["B"]
    tb = tenant_b["name"]
    for path in (f"{ASSETS}/{ids_b['cng1']}", f"{ASPECT_TYPES}/{tb}.PowerConsumption",
                 f"{ASSET_TYPES}/{tb}.CNGTurbine", "/_emulator/contracts/bplant", "/_emulator/contracts/bdraft",
                 "/odata/bplant/$metadata", f"/odata/bplant/CNGTurbine('{ids_b['cng1']}')"):
        assert api_b.get(path).status_code == 200, path
    resp = api_b.get(f"{TIMESERIES}/{ids_b['cng1']}/Power", params={**RANGE, "limit": 2000})
    assert resp.status_code == 200 and len(resp.json()) == 120
    assert api_b.get(f"{ASSETS}/{ids_b['secret']}").json()["externalId"] == MARKERS[1]
