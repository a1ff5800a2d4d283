"""The bearer check on every /api/... route: each way a token can be bad answers 401 in the called
API's envelope with ``WWW-Authenticate: Bearer error="invalid_token"``; scopes answer 403; a
token of tenant A never reaches tenant B."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from tests.support.paths import ROOT, TOKEN_KEYS
from tests.support.tenants import create_tenant, temporary_tenant, tenant_session


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def assert_invalid_token(resp, envelope="core"):
    assert resp.status_code == 401, resp.text
    assert 'Bearer error="invalid_token"' in resp.headers["WWW-Authenticate"]
    body = resp.json()
    if envelope == "core":
        (error,) = body["errors"]
        assert error["code"] == "mdsp.core.generic.unauthorized"
        assert error["message"] and error["logref"]
    elif envelope == "timeseries":
        assert set(body) == {"id", "message"}
    elif envelope == "odata":
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}


@pytest.fixture
def valid_token(server, tenant):
    client = tenant["clients"][0]
    return fetch_token(server.url, client["clientId"], client["clientSecret"])


def get_root(server, authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return requests.get(server.url + ROOT, headers=headers, timeout=30)


def test_valid_token_reads_the_root_asset(server, tenant, valid_token):
    resp = get_root(server, "Bearer " + valid_token)
    assert resp.status_code == 200
    assert resp.json()["assetId"] == tenant["rootAssetId"]


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic abc", "Token x", "Bearer not.a.jwt",
                                           "Bearer abc", "Bearer a.b.c"])
def test_missing_or_malformed(server, authorization):
    assert_invalid_token(get_root(server, authorization))


def test_alg_none(server, valid_token):
    forged = f'{b64({"alg": "none", "kid": "key-id-1", "typ": "JWT"})}.{b64(claims_of(valid_token))}.'
    assert_invalid_token(get_root(server, "Bearer " + forged))


def test_hs256_signed_with_the_public_key(server, valid_token):
    public_pem = requests.get(server.url + TOKEN_KEYS, timeout=30).json()["keys"][0]["value"]
    signing_input = f'{b64({"alg": "HS256", "kid": "key-id-1", "typ": "JWT"})}.{b64(claims_of(valid_token))}'
    sig = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    assert_invalid_token(get_root(server, f"Bearer {signing_input}.{b64(sig)}"))


def test_signed_by_another_key_with_the_same_kid(server, valid_token):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims_of(valid_token), other, algorithm="RS256", headers={"kid": "key-id-1"})
    assert_invalid_token(get_root(server, "Bearer " + forged))


def test_unknown_kid(server, valid_token):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims_of(valid_token), other, algorithm="RS256", headers={"kid": "key-id-999"})
    assert_invalid_token(get_root(server, "Bearer " + forged))


def test_tampered_payload(server, valid_token):
    header, _payload, signature = valid_token.split(".")
    claims = {**claims_of(valid_token), "scope": ["mdsp.core.am.r", "mdsp.core.am.w", "mdsp.core.am.d", "extra"]}
    assert_invalid_token(get_root(server, f"Bearer {header}.{b64(claims)}.{signature}"))


def test_token_of_another_emulator(tenant, valid_token, server):
    """Same tenant name, same client, another server's keys: refused."""
    client = tenant["clients"][0]
    other_settings = Settings(database_url="sqlite://", tenant=tenant["name"], client_id=client["clientId"],
                              client_secret=client["clientSecret"])
    with LiveServer(other_settings) as other:
        foreign = fetch_token(other.url, client["clientId"], client["clientSecret"])
    assert_invalid_token(get_root(server, "Bearer " + foreign))


def test_not_yet_valid(server, tenant, valid_token):
    key = server.app.extensions["mdsp"].keyring.current()
    claims = {**claims_of(valid_token), "nbf": int(time.time()) + 3600, "jti": uuid.uuid4().hex}
    early = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    assert_invalid_token(get_root(server, "Bearer " + early))


def test_expired_by_the_clock():
    """A token is accepted for its lifetime on the emulator's clock and refused as expired after it.

    The emulator's virtual clock moves time (frozen, then advanced), as a test of an app would move it: this
    test used a 2-second token and ``sleep(2.2)``, two seconds of every run spent waiting and a first call
    that had to land within one second of the token on a loaded machine."""
    with LiveServer(Settings(database_url="sqlite://", token_lifetime=60)) as short, ApiSession(short.url) as admin:
        assert admin.put("/_emulator/clock", json={"mode": "frozen", "time": "2030-01-01T00:00:00Z"}).ok
        token = fetch_token(short.url, "emutenant-client", "emulator-secret")
        assert get_root(short, "Bearer " + token).status_code == 200
        assert admin.post("/_emulator/clock/advance", json={"seconds": 59}).ok
        assert get_root(short, "Bearer " + token).status_code == 200  # a second of its lifetime left
        assert admin.post("/_emulator/clock/advance", json={"seconds": 2}).ok
        resp = get_root(short, "Bearer " + token)
        assert_invalid_token(resp)
        assert "expired" in resp.json()["errors"][0]["message"]


def test_time_series_paths_answer_in_their_own_envelope(server):
    resp = requests.get(server.url + "/api/iottimeseries/v3/timeseries/" + "a" * 32 + "/Sensors", timeout=30)
    assert_invalid_token(resp, envelope="timeseries")


def test_odata_paths_answer_in_the_odata_envelope(server):
    assert_invalid_token(requests.get(server.url + "/odata/pumps/Assets", timeout=30), envelope="odata")


def test_unknown_api_path_needs_a_token_first(server):
    assert_invalid_token(requests.get(server.url + "/api/nosuchapi/v3/things", timeout=30))


def test_deleted_tenant_token_stops_working(server, admin):
    created = create_tenant(admin, "shortlived")
    client = created["clients"][0]
    token = fetch_token(server.url, client["clientId"], client["clientSecret"])
    assert get_root(server, "Bearer " + token).status_code == 200
    assert admin.delete("/_emulator/tenants/shortlived").status_code == 204
    assert_invalid_token(get_root(server, "Bearer " + token))


# --- tenants and scopes --------------------------------------------------------------------------


def test_each_tenant_sees_its_own_root(server, admin, tenant, api):
    with temporary_tenant(admin) as other:
        with tenant_session(server.url, other) as other_api:
            mine, theirs = api.get(ROOT).json(), other_api.get(ROOT).json()
        assert mine["assetId"] == tenant["rootAssetId"] != theirs["assetId"] == other["rootAssetId"]
        assert (mine["tenantId"], theirs["tenantId"]) == (tenant["name"], other["name"])


@pytest.mark.parametrize(("scopes", "status"), [
    (["iot.tim.r"], 403),
    (["mdsp.core.am.w"], 403),
    (["mdsp.core.am.r"], 200),
    (["mdsp:core:assetmanagement.standarduser"], 200),
])
def test_scopes_restrict_calls(server, admin, scopes, status):
    with temporary_tenant(admin, prefix="s", scopes=scopes) as created:
        client = created["clients"][0]
        assert client["scopes"] == scopes
        resp = get_root(server, "Bearer " + fetch_token(server.url, client["clientId"], client["clientSecret"]))
        assert resp.status_code == status
        if status == 403:
            assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.forbidden"
            assert "mdsp.core.am.r" in resp.json()["errors"][0]["message"]
