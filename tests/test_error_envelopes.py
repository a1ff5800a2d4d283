"""Unknown paths, wrong methods and oversized bodies answer in the called API's envelope."""

from __future__ import annotations

import requests

from emulator import limits


def test_unknown_api_path_is_404_in_the_core_envelope(api):
    resp = api.get("/api/assetmanagement/v3/nosuchthing")
    assert resp.status_code == 404
    (error,) = resp.json()["errors"]
    assert error["code"] == "mdsp.core.generic.noMatch"
    assert len(error["logref"]) == 32


def test_unknown_api_path_in_another_service(api):
    resp = api.get("/api/nosuchapi/v3/things")
    assert resp.status_code == 404
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.noMatch"


def test_unknown_time_series_path_in_the_time_series_envelope(api):
    resp = api.get("/api/iottimeseries/v3/nothing-here")
    assert resp.status_code == 404
    assert set(resp.json()) == {"id", "message"}


def test_wrong_method_is_405_with_allow(api):
    resp = api.post("/api/assetmanagement/v3/assets/root", json={})
    assert resp.status_code == 405
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.methodNotAllowed"
    assert "GET" in resp.headers["Allow"]


def test_billboard_links(api, server):
    resp = api.get("/api/assetmanagement/v3/")
    assert resp.status_code == 200
    links = resp.json()["_links"]
    assert set(links) == {"self", "aspectTypes", "assetTypes", "assets", "files"}
    assert links["assets"]["href"] == server.url + "/api/assetmanagement/v3/assets"


def test_empty_query_string_as_the_sdk_sends_it(api):
    assert api.get("/api/assetmanagement/v3/assets/root?").status_code == 200


def test_oversized_body_is_413_in_the_envelope(server):
    resp = requests.post(server.url + "/_emulator/tenants", data=b"x" * (limits.MAX_REQUEST_BYTES + 1),
                         headers={"Content-Type": "application/json"}, timeout=60)
    assert resp.status_code == 413
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.payloadTooLarge"


def test_root_asset_shape(api, tenant):
    resp = api.get("/api/assetmanagement/v3/assets/root")
    body = resp.json()
    assert resp.headers["ETag"] == '"0"'
    assert body["etag"] == 0
    assert body["typeId"] == limits.ROOT_ASSET_TYPE_ID
    assert body["hierarchyPath"] == [] and body["parentId"] is None
    assert body["name"] == tenant["name"]
    for key in ("assetId", "tenantId", "name", "externalId", "description", "parentId", "typeId", "timezone",
                "twinType", "location", "variables", "aspects", "fileAssignments", "locks", "deleted", "etag",
                "hierarchyPath", "_links"):
        assert key in body
