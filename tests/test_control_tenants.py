"""The control plane's tenants, keys, health and capabilities, over HTTP."""

from __future__ import annotations

import re
import threading
import uuid

import jwt
import pytest
import requests

from emulator import limits
from emulator.pytest_plugin import MindSphere
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from tests.support.paths import ROOT, TENANTS, TOKEN, TOKEN_KEYS
from tests.support.tenants import create_tenant


def test_health(server):
    resp = requests.get(server.url + "/_emulator/health", timeout=30)
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"
    assert re.match(r"^\d+\.\d+\.\d+", resp.json()["version"])


def test_capabilities_lists_every_limit(server):
    body = requests.get(server.url + "/_emulator/capabilities", timeout=30).json()
    assert body["limits"]["AM_MAX_PAGE_SIZE"] == 200
    assert body["limits"]["TOKEN_LIFETIME_SECONDS"] == 1800
    assert set(body["limits"]) == {k for k in vars(limits) if k.isupper()}
    assert {a["name"] for a in body["apis"]} >= {"oauth", "technicaltokenmanager", "assetmanagement"}
    assert body["knownGaps"]
    assert body["scopes"]["apis"]["timeseries"] == {"r": "iot.tim.r", "w": "iot.tim.w", "d": "iot.tim.d"}


def test_create_tenant_returns_credentials_and_binding_keys(server, admin):
    resp = admin.post("/_emulator/tenants", json={"name": "acme", "clients": [
        {"clientId": "acme-app", "clientSecret": "topsecret", "scopes": ["iot.tim.r", "mdsp.core.am.r"]}]})
    try:
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["name"] == "acme"
        assert re.fullmatch(r"[a-f0-9]{32}", body["rootAssetId"])
        (client,) = body["clients"]
        assert client["clientId"] == "acme-app" and client["clientSecret"] == "topsecret"
        assert client["bindingKeys"] == {
            "clientID": "acme-app",
            "TokenURL": server.url + "/oauth/token?grant_type=client_credentials",
            "clientSecret": "topsecret",
        }
        # The binding keys work as the Mendix Authenticator uses them: POST to TokenURL with Basic auth.
        token = requests.post(client["bindingKeys"]["TokenURL"], auth=("acme-app", "topsecret"), timeout=30)
        assert token.status_code == 200
        with ApiSession(server.url, token.json()["access_token"]) as api:
            assert api.get(ROOT).json()["assetId"] == body["rootAssetId"]
    finally:
        admin.delete("/_emulator/tenants/acme")


def test_generated_credentials(server, admin):
    body = admin.post("/_emulator/tenants", json={"name": "gen"}).json()
    try:
        (client,) = body["clients"]
        assert client["clientId"].startswith("gen-")
        assert len(client["clientSecret"]) >= 24
        assert fetch_token(server.url, client["clientId"], client["clientSecret"])
    finally:
        admin.delete("/_emulator/tenants/gen")


def test_the_plugins_tenant_keeps_the_creation_answer_and_takes_clients(server):
    """The ``tenant`` fixture is the plugin's ``Tenant.created``: the whole answer of ``POST /_emulator/tenants``;
    ``new_tenant`` takes clients as the endpoint does (narrower scopes, given credentials)."""
    with MindSphere(server.url) as emulator:
        tenant = emulator.new_tenant(clients=[{"clientId": "narrow-" + uuid.uuid4().hex[:6], "clientSecret": "s3",
                                               "scopes": ["iot.tim.r"]}])
        try:
            (client,) = tenant.created["clients"]
            assert (tenant.client_id, tenant.client_secret, tenant.scopes) == (client["clientId"], "s3",
                                                                               ["iot.tim.r"])
            assert set(tenant.created) == {"name", "rootAssetId", "tokenUrl", "clients", "token"}
            assert tenant.created["token"]["scope"] == "iot.tim.r"  # the first client's, issued with the tenant
            assert tenant.token() == tenant.created["token"]["access_token"]  # no token request of its own
            assert client["bindingKeys"]["TokenURL"] == tenant.token_url
            with tenant.session() as api:
                assert api.get(ROOT).status_code == 403  # only iot.tim.r
        finally:
            tenant.delete()


def test_a_tenant_may_come_with_its_first_clients_token(server, admin):
    """``"token": true`` issues the first client's token with the tenant, as ``POST /oauth/token`` answers it; the
    token works at once and is bound to the tenant (gone with it). Without it, no token is issued."""
    name = "tk" + uuid.uuid4().hex[:10]
    created = admin.post(TENANTS, json={"name": name, "token": True, "clients": [
        {"clientId": name + "-a", "scopes": ["iot.tim.r", "mdsp.core.am.r"]}, {"clientId": name + "-b"}]})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert set(token) == {"access_token", "token_type", "expires_in", "scope", "jti"}
    assert (token["token_type"], token["scope"]) == ("Bearer", "iot.tim.r mdsp.core.am.r")
    fetched = requests.post(server.url + "/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(name + "-a", created.json()["clients"][0]["clientSecret"]), timeout=30).json()
    assert set(fetched) == set(token) and fetched["expires_in"] == token["expires_in"]
    with ApiSession(server.url, token["access_token"]) as api:
        assert api.get(ROOT).json()["assetId"] == created.json()["rootAssetId"]
        assert admin.delete(f"{TENANTS}/{name}").status_code == 204
        assert api.get(ROOT).status_code == 401
    plain = admin.post(TENANTS, json={"name": name})
    assert plain.status_code == 201 and "token" not in plain.json()
    assert admin.post(TENANTS, json={"name": "x" + name, "token": "yes"}).status_code == 400
    assert admin.delete(f"{TENANTS}/{name}").status_code == 204


def test_a_tenants_first_token_is_signed_while_the_tenant_is_written(server, admin, monkeypatch):
    """The token that comes with a tenant (every test's fixtures ask for one) is signed on the process's signer
    thread, while the request's own thread writes the tenant: its RSA signature, a third of what the fixtures
    cost a test, does not follow the transaction. A token request signs on its own thread, as before; a creation
    that is refused hands out no token."""
    threads = []
    encode = jwt.encode

    def watched(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return encode(*args, **kwargs)

    monkeypatch.setattr(jwt, "encode", watched)
    name = "sg" + uuid.uuid4().hex[:10]
    created = admin.post(TENANTS, json={"name": name, "token": True})
    assert created.status_code == 201, created.text
    assert [thread.split("_")[0] for thread in threads] == ["mdsp-signer"]
    with ApiSession(server.url, created.json()["token"]["access_token"]) as api:
        assert api.get(ROOT).json()["assetId"] == created.json()["rootAssetId"]
    refused = admin.post(TENANTS, json={"name": name, "token": True})
    assert refused.status_code == 409 and "token" not in refused.text
    client = created.json()["clients"][0]
    fetch_token(server.url, client["clientId"], client["clientSecret"])
    assert not threads[-1].startswith("mdsp-signer")
    assert admin.delete(f"{TENANTS}/{name}").status_code == 204


def test_list_tenants_hides_secrets(server, admin, tenant):
    listed = admin.get("/_emulator/tenants").json()["tenants"]
    mine = [t for t in listed if t["name"] == tenant["name"]]
    assert len(mine) == 1
    assert mine[0]["rootAssetId"] == tenant["rootAssetId"]
    assert mine[0]["clients"][0]["clientId"] == tenant["clients"][0]["clientId"]
    assert "clientSecret" not in mine[0]["clients"][0]
    assert any(t["name"] == "emutenant" for t in listed)  # the default tenant from the settings


@pytest.mark.parametrize("body", [
    {}, {"name": ""}, {"name": "Upper"}, {"name": "1abc"}, {"name": "a" * 21}, {"name": "has-dash"},
    {"name": "ok", "clients": []}, {"name": "ok", "clients": "x"}, {"name": "ok", "clients": [1]},
    {"name": "ok", "clients": [{"scopes": ["no.such.scope"]}]}, {"name": "ok", "clients": [{"scopes": "iot.tim.r"}]},
    {"name": "ok", "clients": [{"clientId": "bad id with spaces"}]},
    {"name": "ok", "clients": [{"clientId": "same"}, {"clientId": "same"}]},
    {"name": "ok", "clients": [{"clientSecret": 5}]}, {"name": "ok", "clients": [{"clientId": {}}]},
    {"name": "ok", "clients": [{"clientSecret": ""}]},
])
def test_create_tenant_refuses_bad_bodies(admin, body):
    resp = admin.post("/_emulator/tenants", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["errors"][0]["code"].startswith("mdsp.core.generic.")
    assert all(t["name"] != "ok" for t in admin.get("/_emulator/tenants").json()["tenants"])


@pytest.mark.parametrize("raw", ["{", "[]", "null", "12", '{"name": Infinity}'])
def test_create_tenant_malformed_json(admin, raw):
    resp = admin.post("/_emulator/tenants", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400


def test_duplicate_tenant_conflicts(admin, tenant):
    resp = admin.post("/_emulator/tenants", json={"name": tenant["name"]})
    assert resp.status_code == 409
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.conflict"


def test_taken_client_id_conflicts_and_writes_nothing(admin, tenant):
    taken = tenant["clients"][0]["clientId"]
    resp = admin.post("/_emulator/tenants", json={"name": "clash", "clients": [{"clientId": taken}]})
    assert resp.status_code == 409
    assert all(t["name"] != "clash" for t in admin.get("/_emulator/tenants").json()["tenants"])


def test_delete_unknown_tenant(admin):
    resp = admin.delete("/_emulator/tenants/nosuchtenant")
    assert resp.status_code == 404
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.noMatch"


def test_delete_tenant_removes_its_clients(server, admin):
    body = create_tenant(admin, "gone")
    client = body["clients"][0]
    assert admin.delete("/_emulator/tenants/gone").status_code == 204
    resp = requests.post(server.url + TOKEN, data={"grant_type": "client_credentials"},
                         auth=(client["clientId"], client["clientSecret"]), timeout=30)
    assert resp.status_code == 401
    # the name and the client id are free again
    again = admin.post("/_emulator/tenants", json={"name": "gone", "clients": [{"clientId": client["clientId"]}]})
    assert again.status_code == 201
    admin.delete("/_emulator/tenants/gone")


def test_a_deletion_keeps_what_every_other_tenant_has():
    """The process that deletes a tenant takes the control state it wrote as its own, without reading it again
    (``ControlPlane.delete_tenant``): at once after the deletion another tenant's quota and a rule of every tenant
    still apply there, and the deleted tenant's quota does not follow its name to a tenant made again."""
    with LiveServer(Settings(database_url="sqlite://", pump=False)) as srv, ApiSession(srv.url) as admin:
        kept = create_tenant(admin, "kept")
        create_tenant(admin, "gone")
        assert admin.put("/_emulator/ratelimits", json={"tenant": "kept", "api": "assets", "requests": 2,
                                                        "perSeconds": 3600}).status_code == 200
        assert admin.put("/_emulator/ratelimits", json={"tenant": "gone", "api": "assets", "requests": 1,
                                                        "perSeconds": 3600}).status_code == 200
        every = admin.post("/_emulator/faults", json={"match": {"api": "timeseries"}, "effect": {"status": 503}})
        assert every.status_code == 201, every.text
        assert admin.delete("/_emulator/tenants/gone").status_code == 204
        client = kept["clients"][0]
        with ApiSession(srv.url, fetch_token(srv.url, client["clientId"], client["clientSecret"])) as b:
            assert [b.get(ROOT).status_code for _ in range(3)] == [200, 200, 429]
            assert b.get(f"/api/iottimeseries/v3/timeseries/{'a' * 32}/S").status_code == 503
        assert [q["tenant"] for q in admin.get("/_emulator/ratelimits").json()["ratelimits"]] == ["kept"]
        again = create_tenant(admin, "gone")["clients"][0]
        with ApiSession(srv.url, fetch_token(srv.url, again["clientId"], again["clientSecret"])) as b:
            assert [b.get(ROOT).status_code for _ in range(3)] == [200, 200, 200]


def test_key_rotation_keeps_old_tokens_until_they_expire():
    """After a rotation the old key stays published while a token it signed may be alive, then goes. Time moves
    on the emulator's virtual clock (it was a 3-second token and ``sleep(3.2)``: wall-clock timing)."""
    with LiveServer(Settings(database_url="sqlite://", token_lifetime=60)) as srv, ApiSession(srv.url) as admin:
        assert admin.put("/_emulator/clock", json={"mode": "frozen", "time": "2030-01-01T00:00:00Z"}).ok
        old = fetch_token(srv.url, "emutenant-client", "emulator-secret")
        rotated = admin.post("/_emulator/keys/rotate")
        assert rotated.status_code == 200
        keys = admin.get(TOKEN_KEYS).json()["keys"]
        assert [k["kid"] for k in keys] == ["key-id-2", "key-id-1"]  # the new key first: the SDK reads keys[0]
        new = fetch_token(srv.url, "emutenant-client", "emulator-secret")
        assert jwt.get_unverified_header(new)["kid"] == "key-id-2"
        for token in (old, new):
            assert requests.get(srv.url + ROOT, headers={"Authorization": "Bearer " + token}, timeout=30).ok
        assert admin.post("/_emulator/clock/advance", json={"seconds": 59}).ok
        assert [k["kid"] for k in admin.get(TOKEN_KEYS).json()["keys"]] == ["key-id-2", "key-id-1"]  # old may live
        assert requests.get(srv.url + ROOT, headers={"Authorization": "Bearer " + old}, timeout=30).ok
        assert admin.post("/_emulator/clock/advance", json={"seconds": 2}).ok
        assert [k["kid"] for k in admin.get(TOKEN_KEYS).json()["keys"]] == ["key-id-2"]


def test_admin_token_guards_the_control_plane():
    settings = Settings(database_url="sqlite://", admin_token="ci-admin-token")
    with LiveServer(settings) as srv, ApiSession(srv.url) as anon:
        assert anon.get("/_emulator/health").status_code == 200  # readiness probes need no token
        for method, path in (("GET", "/_emulator/tenants"), ("POST", "/_emulator/tenants"),
                             ("POST", "/_emulator/keys/rotate"), ("DELETE", "/_emulator/tenants/emutenant")):
            resp = anon.request(method, path, json={"name": "x"})
            assert resp.status_code == 401, (method, path)
            assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.unauthorized"
        wrong = anon.get("/_emulator/tenants", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = anon.get("/_emulator/tenants", headers={"Authorization": "Bearer ci-admin-token"})
        assert right.status_code == 200
        assert [t["name"] for t in right.json()["tenants"]] == ["emutenant"]


def test_a_creation_deletes_the_tenants_it_names_first(server, admin):
    """``deleteTenants``: the pytest plugin hands its finished tests' tenants to the next creation (one request a
    test, not two). They are gone with everything they held (data, clients, tokens, rules, quotas) in the same
    transaction, names that do not exist are passed over, and the answer says which went. A creation that fails
    (a name taken, a bad name to delete) deletes nothing."""
    old = create_tenant(admin, prefix="old")
    other = create_tenant(admin, prefix="keep")
    client = old["clients"][0]
    token = fetch_token(server.url, client["clientId"], client["clientSecret"])
    with ApiSession(server.url, token) as api:
        made = api.post("/api/assetmanagement/v3/assets", json={"name": "P", "typeId": "core.basicasset",
                                                                "parentId": old["rootAssetId"]})
        assert made.status_code == 201, made.text
        assert admin.post("/_emulator/faults", json={"match": {"tenant": old["name"]},
                                                     "effect": {"status": 500}}).status_code == 201
        assert admin.put("/_emulator/ratelimits", json={"tenant": old["name"], "requests": 5,
                                                        "perSeconds": 60}).status_code == 200
        for body in ({"name": other["name"], "deleteTenants": [old["name"]]},  # the name is taken: 409
                     {"name": "n" + uuid.uuid4().hex[:12], "deleteTenants": [old["name"], "Not A Name"]},
                     {"name": "n" + uuid.uuid4().hex[:12], "deleteTenants": [old["name"]] * 101}):
            refused = admin.post(TENANTS, json=body)
            assert refused.status_code in (400, 409), refused.text
            assert api.get(ROOT).status_code == 500  # still there, its rule still firing
        name = "n" + uuid.uuid4().hex[:12]
        created = admin.post(TENANTS, json={"name": name, "token": True,
                                            "deleteTenants": [old["name"], "nosuchtenant", old["name"]]})
        assert created.status_code == 201, created.text
        assert created.json()["deleted"] == [old["name"]]
        assert api.get(ROOT).status_code == 401
    listed = {t["name"] for t in admin.get(TENANTS).json()["tenants"]}
    assert name in listed and other["name"] in listed and old["name"] not in listed
    assert [r for r in admin.get("/_emulator/faults").json()["faults"] if r["match"].get("tenant") == old["name"]] == []
    assert all(q["tenant"] != old["name"] for q in admin.get("/_emulator/ratelimits").json()["ratelimits"])
    assert requests.post(server.url + TOKEN, data={"grant_type": "client_credentials"},
                         auth=(client["clientId"], client["clientSecret"]), timeout=30).status_code == 401
    again = create_tenant(admin, old["name"], clients=[{"clientId": client["clientId"]}])  # name and id free again
    with ApiSession(server.url, created.json()["token"]["access_token"]) as api:
        assert api.get(ROOT).json()["assetId"] == created.json()["rootAssetId"]
    plain = admin.post(TENANTS, json={"name": "n" + uuid.uuid4().hex[:12]})
    assert "deleted" not in plain.json()
    for gone in (name, other["name"], again["name"], plain.json()["name"]):
        assert admin.delete(f"{TENANTS}/{gone}").status_code == 204
