"""Tenants you can trust across their lifecycle ([trust] items 1, 2, 4): a token is bound to the tenant instance
it was issued for, per-process caches never serve a deleted tenant's model to its successor of the same name,
and an asset's data goes with it. Each test failed on the emulator before these were fixed."""

from __future__ import annotations

import uuid

import requests

from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, ServerProcess, fetch_token
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, CONTRACTS, ROOT, TECHNICAL_TOKEN, TIMESERIES
from tests.support.tenants import create_tenant


def _tenant(admin, name: str, secret: str = "first-secret") -> dict:
    return create_tenant(admin, name, clients=[{"clientId": f"{name}-{uuid.uuid4().hex[:6]}", "clientSecret": secret}])


def _token(url: str, tenant: dict) -> str:
    client = tenant["clients"][0]
    return fetch_token(url, client["clientId"], client["clientSecret"])


def _app_token(url: str, tenant: dict) -> str:
    client = tenant["clients"][0]
    resp = requests.post(url + TECHNICAL_TOKEN, auth=None, timeout=30, json={
        "appName": "app", "appVersion": "1.0", "hostTenant": tenant["name"], "userTenant": tenant["name"]},
        headers={"X-SPACE-AUTH-KEY": requests.auth._basic_auth_str(client["clientId"], client["clientSecret"])})
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def test_a_token_of_a_deleted_tenant_does_not_reach_its_successor(server, admin):
    """Item 1: the bearer check only asked whether a tenant of the token's name existed, so the old tenant's
    unexpired tokens (service and app credentials alike) read, wrote and deleted the new tenant's data."""
    name = "re" + uuid.uuid4().hex[:10]
    first = _tenant(admin, name)
    old_tokens = [_token(server.url, first), _app_token(server.url, first)]
    assert admin.delete(f"/_emulator/tenants/{name}").status_code == 204
    second = _tenant(admin, name, secret="second-secret")
    try:
        with ApiSession(server.url, _token(server.url, second)) as owner:
            assert owner.put(f"{ASPECT_TYPES}/{name}.Mine", json={"name": "Mine", "category": "static", "variables": [
                {"name": "x", "dataType": "INT"}]}).status_code == 201
        for token in old_tokens:
            with ApiSession(server.url, token) as stale:
                for method, path, body in (("GET", ROOT, None), ("GET", f"{ASPECT_TYPES}/{name}.Mine", None),
                                           ("DELETE", f"{ASPECT_TYPES}/{name}.Mine", None),
                                           ("PUT", f"{ASPECT_TYPES}/{name}.Theirs",
                                            {"name": "Theirs", "category": "static", "variables": []})):
                    resp = stale.request(method, path, json=body, headers={"If-Match": "0"})
                    assert resp.status_code == 401, (method, path, resp.text)
                    assert "revoked" in resp.json()["errors"][0]["message"]
        with ApiSession(server.url, _token(server.url, second)) as owner:
            assert owner.get(f"{ASPECT_TYPES}/{name}.Mine").status_code == 200  # untouched
            assert owner.get(f"{ASPECT_TYPES}/{name}.Theirs").status_code == 404
    finally:
        admin.delete(f"/_emulator/tenants/{name}")


def test_a_snapshot_import_that_replaces_the_clients_revokes_their_tokens():
    """Item 1: importing a snapshot over the fresh default tenant replaces its clients; their earlier tokens
    answer 401, new ones work."""
    settings = Settings(database_url="sqlite://")
    with LiveServer(settings) as live, ApiSession(live.url) as admin:
        token = fetch_token(live.url, settings.client_id, settings.client_secret)
        snapshot = admin.get(f"/_emulator/snapshots/{settings.tenant}").json()
        assert admin.post("/_emulator/snapshots", json=snapshot).status_code == 201  # fresh: it takes the place
        with ApiSession(live.url, token) as stale:
            assert stale.get(ROOT).status_code == 401
        with ApiSession(live.url, fetch_token(live.url, settings.client_id, settings.client_secret)) as fresh:
            assert fresh.get(ROOT).status_code == 200


def _model(api, name: str, variable: str) -> None:
    assert api.put(f"{ASPECT_TYPES}/{name}.Gauge", json={"name": "Gauge", "category": "dynamic", "variables": [
        {"name": variable, "dataType": "DOUBLE"}]}).status_code == 201
    assert api.put(f"{ASSET_TYPES}/{name}.Pump", json={"name": "Pump", "parentTypeId": "core.basicasset",
                                                         "aspects": [{"name": "g", "aspectTypeId": f"{name}.Gauge"}]
                                                         }).status_code == 201


def _publish(api, contract: str, name: str) -> None:
    assert api.post(CONTRACTS, json={"name": contract, "assetTypeIds": [f"{name}.Pump"],
                                                  "publisherEmail": "a@example.com"}).status_code == 201
    assert api.post(f"{CONTRACTS}/{contract}/publish", json={}).status_code == 200


def _recreated_tenant_sees_only_its_own_model(url: str, admin) -> None:
    """Both tenants make the same number of model changes, so their model versions meet."""
    name = "ca" + uuid.uuid4().hex[:10]
    first = _tenant(admin, name)
    with ApiSession(url, _token(url, first)) as api:
        _model(api, name, "old")
        _publish(api, "plant", name)
        for _ in range(12):  # every worker caches the catalogue and the contract
            assert api.get(f"{ASSET_TYPES}/{name}.Pump", params={"exploded": "true"}).status_code == 200
            assert api.get("/odata/plant/$metadata").status_code == 200
    assert admin.delete(f"/_emulator/tenants/{name}").status_code == 204
    second = _tenant(admin, name)
    try:
        with ApiSession(url, _token(url, second)) as api:
            _model(api, name, "new")
            _publish(api, "other", name)
            for _ in range(12):
                exploded = api.get(f"{ASSET_TYPES}/{name}.Pump", params={"exploded": "true"})
                assert exploded.status_code == 200, exploded.text
                variables = [v["name"] for a in exploded.json()["aspects"] for v in a["aspectType"]["variables"]]
                assert variables == ["new"]
                assert api.get("/odata/plant/$metadata").status_code == 404  # the predecessor's contract is gone
    finally:
        admin.delete(f"/_emulator/tenants/{name}")


def test_a_recreated_tenant_is_not_served_its_predecessors_cached_model(server, admin):
    """Item 2: the type catalogue and the published contract were cached per process under (tenant name, model
    version); a re-created tenant starts at version 0 again and was served its predecessor's."""
    _recreated_tenant_sees_only_its_own_model(server.url, admin)


def test_with_two_workers_no_worker_serves_the_predecessors_model(tmp_path):
    """Item 2 with two gunicorn workers: a worker that did not see the delete noticed nothing."""
    with ServerProcess("--port", "0", "--workers", "2", "--data-dir", str(tmp_path)) as served, \
            ApiSession(served.url) as admin:
        _recreated_tenant_sees_only_its_own_model(served.url, admin)


def test_an_assets_time_series_go_with_it(api, tenant):
    """Item 4: deleting an asset left its time series and rollups behind, and an asset made again with the same
    id (a pump re-created with a derived id) brought the old history back."""
    name = tenant["name"]
    _model(api, name, "flow")
    asset = api.post(ASSETS, json={"name": "P1", "typeId": f"{name}.Pump",
                                           "parentId": tenant["rootAssetId"]}).json()
    path = f"{TIMESERIES}/{asset['assetId']}/g"
    assert api.put(path, json=[{"_time": "2024-01-01T00:00:00.000Z", "flow": 1.5}]).status_code == 204
    assert api.delete(f"{ASSETS}/{asset['assetId']}", headers={"If-Match": str(asset["etag"])}).status_code == 204
    snapshot = requests.get(api.base_url + f"/_emulator/snapshots/{name}", timeout=30).json()
    assert [r for r in snapshot["tables"]["ts_records"] if r["asset_id"] == asset["assetId"]] == []
    assert [r for r in snapshot["tables"]["ts_rollups"] if r["asset_id"] == asset["assetId"]] == []
