"""The agent's own OAuth over HTTP: registration with the initial access token (single use), reading and
rotating the registration with the registration access token, agent tokens for HS256 client assertions with
strict verification (audience, expiry, replayed jti, wrong key, unknown client, wrong tenant → 401)."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest

from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from tests.support.tenants import temporary_tenant

BASE = "/api/agentmanagement/v3"
AGENTS = f"{BASE}/agents"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def anon(server):
    with ApiSession(server.url) as session:
        yield session


def boarded(api, profile="SHARED_SECRET", name="agent"):
    agent = api.post(AGENTS, json={"name": name, "securityProfile": profile}).json()
    config = api.get(f"{AGENTS}/{agent['id']}/boarding/configuration").json()
    return agent, config["content"]


def register(anon, iat, body=None):
    return anon.post(f"{BASE}/register", json={} if body is None else body,
                     headers={"Authorization": f"Bearer {iat}"})


def onboarded(api, anon):
    agent, content = boarded(api)
    resp = register(anon, content["iat"])
    assert resp.status_code == 201, resp.text
    return agent, content, resp.json()


def assertion(client, tenant, *, secret=None, now=None, **overrides):
    now = int(time.time()) if now is None else now
    claims = {"iss": client["client_id"], "sub": client["client_id"], "aud": ["southgate"], "iat": now, "nbf": now,
              "exp": now + 3600, "schemas": ["urn:siemens:mindsphere:v1"], "ten": tenant, "jti": str(uuid.uuid4())}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret or client["client_secret"], algorithm="HS256")


def token(anon, signed, **form):
    data = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}
    data.update(form)
    return anon.post(f"{BASE}/oauth/token", data=data)


def assert_iam_error(resp, status):
    assert resp.status_code == status, resp.text
    assert "error" in resp.json() and "error_description" in resp.json()


def test_registration_onboards_the_agent_once(api, anon, tenant, server):
    agent, content = boarded(api)
    resp = register(anon, content["iat"])
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["client_id"] == agent["id"] and body["client_secret"]
    assert body["token_endpoint_auth_method"] == "client_secret_jwt"
    assert body["grant_types"] == ["client_credentials"]
    assert body["client_secret_expires_at"] > time.time() + 24 * 3600
    assert body["registration_client_uri"] == f"{server.url.rstrip('/')}{BASE}/register/{agent['id']}"
    assert api.get(f"{AGENTS}/{agent['id']}/boarding/status").json() == {"status": "ONBOARDED"}
    again = register(anon, content["iat"])
    assert_iam_error(again, 401)
    assert again.json()["error"] == "token_validation_failed"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic YTpi"])
def test_registration_without_a_valid_initial_access_token_is_401(api, anon, header):
    boarded(api)
    resp = anon.post(f"{BASE}/register", json={}, headers={"Authorization": header} if header else {})
    assert_iam_error(resp, 401)


def test_a_tenant_token_or_a_forged_iat_is_not_an_initial_access_token(api, anon):
    agent, content = boarded(api)
    assert_iam_error(register(anon, api.headers["Authorization"].split()[1]), 401)
    claims = jwt.decode(content["iat"], options={"verify_signature": False})
    forged = jwt.encode(claims, "guess", algorithm="HS256")
    assert_iam_error(register(anon, forged), 401)
    assert api.get(f"{AGENTS}/{agent['id']}/boarding/status").json() == {"status": "ONBOARDING"}


def test_an_rsa_agent_registers_its_key_and_a_shared_secret_agent_none(api, anon):
    _, content = boarded(api, profile="RSA_3072", name="rsa")
    assert_iam_error(register(anon, content["iat"], {}), 400)
    key = {"kty": "RSA", "n": "sXch", "e": "AQAB", "kid": "mindconnect-key-1"}
    resp = register(anon, content["iat"], {"jwks": {"keys": [key]}})
    assert resp.status_code == 201, resp.text
    assert "client_secret" not in resp.json() and resp.json()["client_secret_expires_at"] > 0
    assert resp.json()["token_endpoint_auth_method"] == "private_key_jwt"
    _, shared = boarded(api, name="shared")
    assert_iam_error(register(anon, shared["iat"], {"jwks": {"keys": [key]}}), 400)


def test_offboarding_voids_the_credentials_and_a_new_iat_onboards_again(api, anon, tenant):
    agent, content, client = onboarded(api, anon)
    assert api.post(f"{AGENTS}/{agent['id']}/boarding/offboard").json() == {"status": "NOT_ONBOARDED"}
    assert_iam_error(token(anon, assertion(client, tenant["name"])), 401)
    fresh = api.get(f"{AGENTS}/{agent['id']}/boarding/configuration").json()["content"]
    assert_iam_error(register(anon, content["iat"]), 401)
    assert register(anon, fresh["iat"]).status_code == 201


def test_the_registration_is_read_and_rotated_with_the_registration_access_token(api, anon, tenant):
    agent, _, client = onboarded(api, anon)
    uri = f"{BASE}/register/{agent['id']}"
    rat = {"Authorization": f"Bearer {client['registration_access_token']}"}
    read = anon.get(uri, headers=rat)
    assert read.status_code == 200 and read.json()["client_id"] == agent["id"]
    rotated = anon.put(uri, json={"client_id": agent["id"]}, headers=rat)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["client_id"] == agent["id"] and new["client_secret"] != client["client_secret"]
    assert new["registration_access_token"] != client["registration_access_token"]
    assert new["client_secret_expires_at"] >= client["client_secret_expires_at"]
    assert_iam_error(token(anon, assertion(client, tenant["name"])), 401)  # the old secret is void
    assert token(anon, assertion(new, tenant["name"])).status_code == 200
    assert_iam_error(anon.put(uri, json={"client_id": "other"}, headers=rat), 400)
    assert_iam_error(anon.put(uri, json={"client_id": agent["id"]}), 401)
    assert_iam_error(anon.get(uri, headers={"Authorization": "Bearer " + new["registration_access_token"] + "x"}),
                     401)
    other = api.post(AGENTS, json={"name": "other", "securityProfile": "SHARED_SECRET"}).json()
    assert_iam_error(anon.get(f"{BASE}/register/{other['id']}", headers=rat), 401)  # one agent's RAT only


def test_an_agent_token_for_a_valid_client_assertion(api, anon, tenant):
    agent, _, client = onboarded(api, anon)
    resp = token(anon, assertion(client, tenant["name"]))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["expires_in"] == 3600 and body["scope"] == ["mdsp:core:DefaultAgent"] and body["jti"]
    assert abs(int(resp.headers["Server-Time"]) - time.time()) < 60
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == agent["id"] and claims["ten"] == tenant["name"]
    assert claims["exp"] - claims["iat"] == 3600
    second = token(anon, assertion(client, tenant["name"])).json()
    assert second["jti"] != body["jti"]


@pytest.mark.parametrize("case", ["replayed", "wrong key", "wrong audience", "no audience", "expired",
                                  "issued in the future", "sub differs", "unknown client", "other tenant",
                                  "no jti", "none algorithm"])
def test_bad_client_assertions_are_401(api, anon, tenant, case):
    agent, _, client = onboarded(api, anon)
    now, t = int(time.time()), tenant["name"]
    if case == "replayed":
        signed = assertion(client, t)
        assert token(anon, signed).status_code == 200
    elif case == "wrong key":
        signed = assertion(client, t, secret="not-the-secret")
    elif case == "wrong audience":
        signed = assertion(client, t, aud=["northgate"])
    elif case == "no audience":
        signed = assertion(client, t, aud=None)
    elif case == "expired":
        signed = assertion(client, t, iat=now - 7200, nbf=now - 7200, exp=now - 1)
    elif case == "issued in the future":
        signed = assertion(client, t, iat=now + 600, nbf=now + 600)
    elif case == "sub differs":
        signed = assertion(client, t, sub="0" * 32)
    elif case == "unknown client":
        signed = assertion({**client, "client_id": "f" * 32}, t)
    elif case == "other tenant":
        signed = assertion(client, "nosuchtenant")
    elif case == "no jti":
        signed = assertion(client, t, jti=None)
    else:
        claims = jwt.decode(assertion(client, t), options={"verify_signature": False})
        signed = jwt.encode(claims, None, algorithm="none")
    assert_iam_error(token(anon, signed), 401)


@pytest.mark.parametrize("form", [{"grant_type": "password"}, {"client_assertion_type": "x"},
                                  {"client_assertion": ""}, {"client_assertion": "x" * 9000}])
def test_bad_token_requests_are_400(api, anon, tenant, form):
    _, _, client = onboarded(api, anon)
    resp = token(anon, assertion(client, tenant["name"]), **form)
    assert resp.status_code == 400, resp.text
    assert "error" in resp.json()


def test_an_assertion_that_is_no_jwt_is_401_with_server_time(anon):
    resp = token(anon, "not.a.jwt")
    assert_iam_error(resp, 401)
    assert "Server-Time" in resp.headers


def test_an_expired_secret_answers_400_rotate():
    """MCL: the token endpoint's 400 means "rotate your key". A server of its own: the clock is moved."""
    with LiveServer(Settings(database_url="sqlite://")) as srv, ApiSession(srv.url) as admin:
        start = 1_767_225_600  # 2026-01-01T00:00:00Z
        admin.put("/_emulator/clock", json={"mode": "frozen", "time": "2026-01-01T00:00:00Z"})
        with ApiSession(srv.url, fetch_token(srv.url, "emutenant-client", "emulator-secret")) as api, \
                ApiSession(srv.url) as anon:
            _, _, client = onboarded(api, anon)
            assert token(anon, assertion(client, "emutenant", now=start)).status_code == 200
            admin.post("/_emulator/clock/advance", json={"seconds": 8 * 24 * 3600})
            later = start + 8 * 24 * 3600
            resp = token(anon, assertion(client, "emutenant", now=later))
            assert_iam_error(resp, 400)
            assert resp.headers["Server-Time"] == str(later)


def test_an_onboarded_agent_is_deleted_only_after_offboarding(api, anon, tenant):
    agent, _, client = onboarded(api, anon)
    assert "offboard" in api.delete(f"{AGENTS}/{agent['id']}", headers={"If-Match": "0"}).json()["errors"][0][
        "message"]
    assert api.get(f"{AGENTS}/{agent['id']}").status_code == 200
    api.post(f"{AGENTS}/{agent['id']}/boarding/offboard")
    assert api.delete(f"{AGENTS}/{agent['id']}", headers={"If-Match": "0"}).status_code == 204
    assert_iam_error(token(anon, assertion(client, tenant["name"])), 401)


def test_another_tenants_assertion_or_token_reaches_nothing(api, anon, tenant, admin, server):
    _, _, client = onboarded(api, anon)
    with temporary_tenant(admin, prefix="o") as other:
        assert_iam_error(token(anon, assertion(client, other["name"])), 401)  # the client is not of that tenant
    assert token(anon, assertion(client, tenant["name"])).status_code == 200


def test_agent_tokens_verify_with_the_published_key(api, anon, tenant):
    _, _, client = onboarded(api, anon)
    access = token(anon, assertion(client, tenant["name"])).json()["access_token"]
    key = anon.get(f"{BASE}/oauth/token_key")
    assert key.status_code == 200 and "Authorization" not in key.request.headers
    value = key.json()["value"]
    assert "\n" not in value and value.startswith("-----BEGIN PUBLIC KEY-----MII")
    pem = value.replace("-----BEGIN PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----\n").replace(
        "-----END PUBLIC KEY-----", "\n-----END PUBLIC KEY-----")  # what the Node SDK does with it
    claims = jwt.decode(access, pem, algorithms=["RS256"], options={"verify_aud": False})
    assert claims["sub"] == client["client_id"]
    keys = anon.get(f"{BASE}/oauth/token_keys").json()["keys"]
    assert keys[0] == key.json() and jwt.get_unverified_header(access)["kid"] == keys[0]["kid"]


def test_an_agent_token_reaches_only_its_own_data_source_configuration(api, anon, tenant, server):
    agent, _, client = onboarded(api, anon)
    other = api.post(AGENTS, json={"name": "other", "securityProfile": "SHARED_SECRET"}).json()
    access = token(anon, assertion(client, tenant["name"])).json()["access_token"]
    with ApiSession(server.url, access) as me:
        url = f"{AGENTS}/{agent['id']}/dataSourceConfiguration"
        assert me.get(url).status_code == 200
        dsc = {"configurationId": "CF1", "dataSources": [{"name": "DS", "dataPoints": [
            {"id": "DP1", "name": "T", "type": "DOUBLE", "unit": "C"}]}]}
        assert me.put(url, json=dsc, headers={"If-Match": "0"}).json()["eTag"] == "1"
        for method, path in (("GET", f"{AGENTS}/{other['id']}/dataSourceConfiguration"), ("GET", AGENTS),
                             ("GET", f"{AGENTS}/{agent['id']}"),
                             ("GET", f"{AGENTS}/{agent['id']}/boarding/configuration"),
                             ("POST", f"{AGENTS}/{agent['id']}/boarding/offboard")):
            assert me.request(method, path).status_code == 403, path
        assert me.delete(f"{AGENTS}/{agent['id']}", headers={"If-Match": "0"}).status_code == 403
    assert api.get(f"{AGENTS}/{agent['id']}/boarding/status").json() == {"status": "ONBOARDED"}


def test_an_rsa_agent_gets_tokens_for_assertions_signed_with_its_registered_key(api, anon, tenant):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    _, content = boarded(api, profile="RSA_3072", name="rsa-agent")
    resp = register(anon, content["iat"], {"jwks": {"keys": [{**jwk, "kid": "mindconnect-key-1"}]}})
    assert resp.status_code == 201, resp.text
    client = resp.json()
    now = int(time.time())
    claims = {"iss": client["client_id"], "sub": client["client_id"], "aud": ["southgate"], "iat": now, "nbf": now,
              "exp": now + 3600, "ten": tenant["name"], "jti": str(uuid.uuid4())}
    for alg in ("RS384", "RS256"):
        signed = jwt.encode({**claims, "jti": str(uuid.uuid4())}, private, algorithm=alg)
        assert token(anon, signed).status_code == 200, alg
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_iam_error(token(anon, jwt.encode(claims, other, algorithm="RS384")), 401)
    assert_iam_error(token(anon, jwt.encode(claims, "secret", algorithm="HS256")), 401)  # no HMAC for RSA agents


@pytest.mark.parametrize("body", [[], "text", {"jwks": "keys"}, {"jwks": {"keys": [{"kty": "EC"}]}}])
def test_hostile_registration_bodies_are_refused_and_the_token_stays_usable(api, anon, body):
    agent, content = boarded(api)
    resp = register(anon, content["iat"], body)
    assert 400 <= resp.status_code < 500 and resp.status_code != 404, resp.text
    assert api.get(f"{AGENTS}/{agent['id']}/boarding/status").json() == {"status": "ONBOARDING"}
    assert register(anon, content["iat"]).status_code == 201


@pytest.mark.parametrize("claims", [{"ten": "a\u0000b"}, {"ten": "x" * 5000}, {"ten": 7}, {"iss": ["x"]},
                                    {"iss": "x" * 500}, {"sub": {"a": 1}}, {"exp": "soon"}, {"iat": None}])
def test_hostile_assertion_claims_are_refused(api, anon, tenant, claims):
    _, _, client = onboarded(api, anon)
    now = int(time.time())
    payload = {"iss": client["client_id"], "sub": client["client_id"], "aud": ["southgate"], "iat": now,
               "exp": now + 3600, "ten": tenant["name"], "jti": str(uuid.uuid4()), **claims}
    signed = jwt.api_jws.encode(json.dumps(payload).encode(), client["client_secret"], algorithm="HS256")
    resp = token(anon, signed)
    assert resp.status_code in (400, 401), resp.text
    assert "error" in resp.json()


def test_an_agent_is_online_while_it_holds_a_valid_token(api, anon, tenant):
    agent, _, client = onboarded(api, anon)
    url = f"{AGENTS}/{agent['id']}/status"
    offline = api.get(url).json()
    assert offline["status"] == "OFFLINE" and offline["since"].endswith("Z")
    assert token(anon, assertion(client, tenant["name"])).status_code == 200
    online = api.get(url).json()
    assert online["status"] == "ONLINE" and online["since"] >= offline["since"]
    assert token(anon, assertion(client, tenant["name"])).status_code == 200
    assert api.get(url).json() == online  # the same stretch: since does not move
    assert api.get(f"{AGENTS}/{'0' * 32}/status").status_code == 404
