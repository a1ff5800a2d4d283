"""POST /oauth/token, GET /token_keys and the technical token manager, over HTTP.

Issued tokens are verified independently with PyJWT against the published keys, as a real client
(Siemens' SDK verifies every token against ``/token_keys``) would.
"""

from __future__ import annotations

import base64
import json

import jwt
import pytest
import requests

from emulator.registry import load as load_registry
from tests.support.paths import TECHNICAL_TOKEN, TOKEN, TOKEN_KEYS
from tests.support.tenants import temporary_tenant


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def client(tenant):
    return tenant["clients"][0]


def token_request(server, client, *, query="", data=None, headers=None, auth=True):
    headers = dict(headers or {})
    if auth:
        headers["Authorization"] = basic(client["clientId"], client["clientSecret"])
    return requests.post(f"{server.url}{TOKEN}{query}", data=data, headers=headers, timeout=30)


def verify_with_published_keys(server, token: str) -> dict:
    keys = requests.get(server.url + TOKEN_KEYS, timeout=30).json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [k for k in keys if k["kid"] == kid]
    claims = jwt.decode(token, key["value"], algorithms=["RS256"], options={"verify_aud": False})
    from_jwk = jwt.PyJWK({k: key[k] for k in ("kty", "n", "e", "alg", "use", "kid")})
    assert jwt.decode(token, from_jwk.key, algorithms=["RS256"], options={"verify_aud": False}) == claims
    return claims


def test_basic_auth_with_grant_type_in_body(server, client, tenant):
    resp = token_request(server, client, data={"grant_type": "client_credentials"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "jti"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800
    assert body["scope"].split(" ") == list(load_registry().all_scopes)
    assert resp.headers["Cache-Control"] == "no-store"
    claims = verify_with_published_keys(server, body["access_token"])
    assert claims["jti"] == body["jti"]
    assert claims["exp"] - claims["iat"] == 1800
    assert claims["scope"] == list(load_registry().all_scopes)  # an array in the JWT, a string in the response
    for name in ("sub", "client_id", "cid", "azp"):
        assert claims[name] == client["clientId"]
    assert claims["grant_type"] == "client_credentials"
    assert claims["zid"] == claims["ten"] == tenant["name"]
    assert claims["iss"] == server.url + TOKEN
    assert isinstance(claims["aud"], list) and "iot.tim" in claims["aud"]


def test_jwt_header_carries_rs256_and_kid(server, client):
    token = token_request(server, client, data={"grant_type": "client_credentials"}).json()["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["typ"] == "JWT"
    assert header["kid"].startswith("key-id-")


def test_grant_type_in_query_as_the_mendix_token_url_sends_it(server, client):
    resp = token_request(server, client, query="?grant_type=client_credentials")
    assert resp.status_code == 200, resp.text
    verify_with_published_keys(server, resp.json()["access_token"])


def test_client_credentials_in_form_fields(server, client):
    resp = token_request(server, client, auth=False, data={
        "grant_type": "client_credentials", "client_id": client["clientId"], "client_secret": client["clientSecret"]})
    assert resp.status_code == 200, resp.text


def test_scope_parameter_narrows_the_token(server, client):
    resp = token_request(server, client, data={"grant_type": "client_credentials", "scope": "iot.tim.r"})
    assert resp.status_code == 200
    assert resp.json()["scope"] == "iot.tim.r"
    assert verify_with_published_keys(server, resp.json()["access_token"])["scope"] == ["iot.tim.r"]


def test_scope_outside_the_clients_scopes_is_refused(server, admin):
    with temporary_tenant(admin, "narrowscope", clients=[
            {"clientId": "narrow-client", "clientSecret": "s3cret", "scopes": ["iot.tim.r"]}]) as created:
        client = created["clients"][0]
        resp = token_request(server, client, data={"grant_type": "client_credentials", "scope": "iot.tim.w"})
        assert resp.status_code == 400
        assert resp.json()["error"] == "invalid_scope"


@pytest.mark.parametrize("secret", ["wrong", ""])
def test_bad_credentials(server, client, secret):
    bad = {**client, "clientSecret": secret}
    resp = token_request(server, bad, data={"grant_type": "client_credentials"})
    assert resp.status_code == 401
    assert resp.json() == {"error": "unauthorized", "error_description": "Bad credentials"}


def test_unknown_client(server):
    resp = token_request(server, {"clientId": "nobody", "clientSecret": "x"}, data={"grant_type": "client_credentials"})
    assert resp.status_code == 401
    assert resp.json() == {"error": "unauthorized", "error_description": "Bad credentials"}


def test_missing_credentials(server):
    resp = requests.post(server.url + TOKEN, data={"grant_type": "client_credentials"}, timeout=30)
    assert resp.status_code == 401
    assert resp.json()["error"] == "unauthorized"
    assert "Basic" in resp.headers["WWW-Authenticate"]


def test_malformed_basic_header(server):
    resp = requests.post(server.url + TOKEN, data={"grant_type": "client_credentials"},
                         headers={"Authorization": "Basic %%%not-base64"}, timeout=30)
    assert resp.status_code == 401
    assert resp.json()["error"] == "unauthorized"


@pytest.mark.parametrize("grant", ["password", "authorization_code", "refresh_token", "client-credentials"])
def test_other_grant_types(server, client, grant):
    resp = token_request(server, client, data={"grant_type": grant})
    assert resp.status_code == 400
    body = resp.json()
    assert body["error"] == "unsupported_grant_type"
    assert grant in body["error_description"]


def test_missing_grant_type(server, client):
    resp = token_request(server, client, data={})
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"


def test_token_endpoint_refuses_get(server):
    resp = requests.get(server.url + "/oauth/token?grant_type=client_credentials", timeout=30)
    assert resp.status_code == 405
    assert set(resp.json()) == {"error", "error_description"}
    assert "POST" in resp.headers["Allow"]


def test_token_keys_shape(server):
    resp = requests.get(server.url + TOKEN_KEYS, timeout=30)
    assert resp.status_code == 200
    keys = resp.json()["keys"]
    assert keys
    first = keys[0]
    assert set(first) == {"kty", "alg", "use", "kid", "n", "e", "value"}
    assert (first["kty"], first["alg"], first["use"]) == ("RSA", "RS256", "sig")
    assert first["value"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert first["value"].rstrip().endswith("-----END PUBLIC KEY-----")
    assert first["value"].count("\n") > 3  # the SDK needs the PEM's newlines


def test_tokens_are_unique(server, client):
    one = token_request(server, client, data={"grant_type": "client_credentials"}).json()
    two = token_request(server, client, data={"grant_type": "client_credentials"}).json()
    assert one["jti"] != two["jti"]
    assert one["access_token"] != two["access_token"]


# --- technical token manager ---------------------------------------------------------------------



def ttm_body(tenant, **changes):
    body = {"appName": "myapp", "appVersion": "1.0.0", "hostTenant": tenant["name"], "userTenant": tenant["name"]}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_technical_token_with_x_space_auth_key(server, client, tenant):
    resp = requests.post(server.url + TECHNICAL_TOKEN, json=ttm_body(tenant),
                         headers={"X-SPACE-AUTH-KEY": basic(client["clientId"], client["clientSecret"])}, timeout=30)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    claims = verify_with_published_keys(server, body["access_token"])
    assert claims["ten"] == tenant["name"]
    assert claims["app_name"] == "myapp"
    root = requests.get(server.url + "/api/assetmanagement/v3/assets/root",
                        headers={"Authorization": "Bearer " + body["access_token"]}, timeout=30)
    assert root.status_code == 200
    assert root.json()["assetId"] == tenant["rootAssetId"]


def test_technical_token_with_authorization_header(server, client, tenant):
    resp = requests.post(server.url + TECHNICAL_TOKEN, json=ttm_body(tenant),
                         headers={"Authorization": basic(client["clientId"], client["clientSecret"])}, timeout=30)
    assert resp.status_code == 200, resp.text


def test_technical_token_fields_in_query(server, client, tenant):
    query = "&".join(f"{k}={v}" for k, v in ttm_body(tenant).items())
    resp = requests.post(f"{server.url}{TECHNICAL_TOKEN}?{query}",
                         headers={"X-SPACE-AUTH-KEY": basic(client["clientId"], client["clientSecret"])}, timeout=30)
    assert resp.status_code == 200, resp.text


def test_technical_token_fields_in_body_and_query_refused(server, client, tenant):
    resp = requests.post(f"{server.url}{TECHNICAL_TOKEN}?appName=myapp", json=ttm_body(tenant),
                         headers={"X-SPACE-AUTH-KEY": basic(client["clientId"], client["clientSecret"])}, timeout=30)
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.invalidParameter"


@pytest.mark.parametrize("field", ["appName", "appVersion", "hostTenant", "userTenant"])
def test_technical_token_requires_each_field(server, client, tenant, field):
    resp = requests.post(server.url + TECHNICAL_TOKEN, json=ttm_body(tenant, **{field: None}),
                         headers={"X-SPACE-AUTH-KEY": basic(client["clientId"], client["clientSecret"])}, timeout=30)
    assert resp.status_code == 400
    error = resp.json()["errors"][0]
    assert error["code"] == "mdsp.core.generic.missingRequestBodyProperty"
    assert field in error["message"]
    assert error["logref"]


@pytest.mark.parametrize("changes", [{"appName": 7}, {"appVersion": ["1"]}, {"appName": "bad name!"},
                                     {"appVersion": "x" * 200}])
def test_technical_token_validates_fields(server, client, tenant, changes):
    resp = requests.post(server.url + TECHNICAL_TOKEN, json=ttm_body(tenant, **changes),
                         headers={"X-SPACE-AUTH-KEY": basic(client["clientId"], client["clientSecret"])}, timeout=30)
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.invalidRequestBodyProperty"


@pytest.mark.parametrize("field", ["hostTenant", "userTenant"])
def test_technical_token_for_another_tenant_is_forbidden(server, client, tenant, field):
    resp = requests.post(server.url + TECHNICAL_TOKEN, json=ttm_body(tenant, **{field: "othertenant"}),
                         headers={"X-SPACE-AUTH-KEY": basic(client["clientId"], client["clientSecret"])}, timeout=30)
    assert resp.status_code == 403
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.forbidden"


@pytest.mark.parametrize("header", [None, "Basic nope", "Bearer abc"])
def test_technical_token_without_valid_credentials(server, tenant, header):
    headers = {"X-SPACE-AUTH-KEY": header} if header else {}
    resp = requests.post(server.url + TECHNICAL_TOKEN, json=ttm_body(tenant), headers=headers, timeout=30)
    assert resp.status_code == 401
    assert resp.json()["errors"][0]["code"] == "mdsp.core.generic.unauthorized"


def test_technical_token_wrong_secret(server, client, tenant):
    resp = requests.post(server.url + TECHNICAL_TOKEN, json=ttm_body(tenant),
                         headers={"X-SPACE-AUTH-KEY": basic(client["clientId"], "wrong")}, timeout=30)
    assert resp.status_code == 401


@pytest.mark.parametrize("raw", ["{not json", "[1,2]", '"text"', '{"appName": NaN}'])
def test_technical_token_malformed_json(server, client, raw):
    resp = requests.post(server.url + TECHNICAL_TOKEN, data=raw, headers={
        "Content-Type": "application/json", "X-SPACE-AUTH-KEY": basic(client["clientId"], client["clientSecret"])},
        timeout=30)
    assert resp.status_code == 400
    assert json.loads(resp.text)["errors"][0]["code"].startswith("mdsp.core.generic.")
