"""Attacks on the bearer token, against every kind of protected endpoint: each answers 401 in the called API's
envelope with ``WWW-Authenticate: Bearer error="invalid_token"`` (a well-formed, one-line challenge), and a
refused write writes nothing.

``test_bearer.py`` has the first of each attack against ``/assets/root``; this module takes them to every API
(Asset Management reads and writes, time series, aggregates v3 and v4, OData, the contract API) and adds the
rest: ``alg`` spellings, HMAC with the public key in several forms, times, wrong and unknown ``kid`` (also on
an in-memory store, where an unknown ``kid`` once answered 500), tampered tenants and headers, a token of
another emulator, missing and ill-typed claims, garbage, empty and misplaced credentials, header injection
through the token's header, and huge tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from tests.support.paths import ASPECT_TYPES, ASSETS, ROOT, TIMESERIES
from tests.support.security import delete_tenant, dump, envelope_problems, new_tenant, raw_request

ZERO = "0" * 32
TARGETS = [  # (method, path, envelope): one of each kind of protected route, reads and writes
    ("GET", ROOT, "core"),
    ("POST", ASSETS, "core"),
    ("DELETE", f"{ASSETS}/{ZERO}", "core"),
    ("GET", ASPECT_TYPES, "core"),
    ("GET", f"{TIMESERIES}/{ZERO}/Power", "timeseries"),
    ("PUT", f"{TIMESERIES}/{ZERO}/Power", "timeseries"),
    ("GET", "/api/iottsaggregates/v4/aggregates", "core"),
    ("GET", f"/api/iottsaggregates/v3/aggregates/{ZERO}/Power", "timeseries"),
    ("GET", "/odata/plant/", "odata"),
    ("GET", "/odata/plant/$metadata", "odata"),
    ("POST", "/odata/plant/Site/$query", "odata"),
    ("GET", "/_emulator/contracts", "core"),
    ("POST", "/_emulator/contracts", "core"),
    ("DELETE", "/_emulator/contracts/plant", "core"),
]
BODIES = {"POST": {"name": "forged", "typeId": "core.basicasset"}, "PUT": [{"_time": "2024-01-01T00:00:00Z"}]}
CHALLENGE = re.compile(r'^Bearer error="invalid_token", error_description="[ !#-\[\]-~]*"$')


def b64(data: dict | list | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def sign_raw(header: dict, payload: bytes | dict, private_key) -> str:
    """A JWT signed RS256 over exactly these header and payload bytes (JSON that PyJWT would not write: NaN,
    a kid that is not a string, ...)."""
    payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64(header)}.{b64(payload)}".encode()
    return f"{signing_input.decode()}.{b64(private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()))}"


HTTP = requests.Session()  # one connection for the many refusals
HTTP.trust_env = False


def refused_everywhere(base_url: str, authorization: str | None, what: str, targets=TARGETS) -> list[str]:
    """Why any target did not answer 401 with the challenge in its envelope (an empty list when all did)."""
    problems = []
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path, envelope in targets:
        kwargs = {"json": BODIES[method]} if method in BODIES and "$query" not in path else {}
        if "$query" in path:
            kwargs = {"data": "$top=1", "headers": {"Content-Type": "text/plain"}}
        resp = HTTP.request(method, base_url + path, headers={**headers, **kwargs.pop("headers", {})},
                            timeout=30, **kwargs)
        where = f"{what}: {method} {path}"
        if resp.status_code != 401:
            problems.append(f"{where}: {resp.status_code} {resp.text[:200]}")
            continue
        challenge = resp.headers.get("WWW-Authenticate", "")
        if not CHALLENGE.match(challenge):
            problems.append(f"{where}: challenge {challenge!r}")
        problems += [f"{where}: {p}" for p in envelope_problems(resp, envelope)]
    return problems


def assert_refused(base_url: str, cases: dict[str, str | None]) -> None:
    """Each case against every target when there are few cases; else each against three targets in turn (the
    core read and two more), so that every target still meets every family of attack."""
    problems = []
    n = len(TARGETS)
    for i, (what, authorization) in enumerate(cases.items()):
        targets = TARGETS if len(cases) <= 4 else [TARGETS[0], TARGETS[1 + (2 * i) % (n - 1)],
                                                   TARGETS[1 + (2 * i + 1) % (n - 1)]]
        problems += refused_everywhere(base_url, authorization, what, targets)
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def victim(server):
    """Tenant A with a token and an asset; tenant B (whose name a tampered token claims)."""
    tenant_a, api_a = new_tenant(server.url, "j")
    tenant_b, api_b = new_tenant(server.url, "k")
    resp = api_a.post(ASSETS, json={"name": "mine", "typeId": "core.basicasset",
                                    "parentId": tenant_a["rootAssetId"]})
    assert resp.status_code == 201, resp.text
    token = api_a.headers["Authorization"].split(" ", 1)[1]
    keyring = server.app.extensions["mdsp"].keyring
    try:
        yield {"server": server, "tenant": tenant_a, "api": api_a, "token": token, "claims": claims_of(token),
               "other": tenant_b, "key": keyring.current(), "before": dump(api_a),
               "now": server.app.extensions["mdsp"].clock.time()}
    finally:
        api_a.close()
        api_b.close()
        HTTP.close()  # an open keep-alive connection holds up a LiveServer's stop for seconds
        delete_tenant(server.url, tenant_a)
        delete_tenant(server.url, tenant_b)


@pytest.fixture(scope="module")
def foreign():
    """Another emulator over another (in-memory) database, with two keys: its ``key-id-1`` is not ours."""
    with LiveServer(Settings(database_url="sqlite://")) as other:
        with ApiSession(other.url) as admin:
            assert admin.post("/_emulator/keys/rotate").status_code in (200, 201)
        yield other
        HTTP.close()


def sign(victim, claims: dict, **header) -> str:
    key = victim["key"]
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, **header})


def test_every_target_accepts_the_valid_token(victim):
    """The control: with the valid token no target answers 401, so the refusals below are the token's."""
    for method, path, _envelope in TARGETS:
        kwargs = {"json": BODIES[method]} if method in BODIES and "$query" not in path else {}
        resp = victim["api"].request(method, path, **kwargs)
        assert resp.status_code != 401 and resp.status_code < 500, f"{method} {path}: {resp.text[:200]}"
    resp = victim["api"].get(ASSETS, params={"filter": json.dumps({"name": "forged"})})
    for asset in resp.json().get("_embedded", {}).get("assets", []):  # the control's own write: removed again
        victim["api"].delete(f"{ASSETS}/{asset['assetId']}", headers={"If-Match": f'"{asset["etag"]}"'})


def test_alg_none_in_every_spelling(victim):
    claims, token = victim["claims"], victim["token"]
    signature = token.rsplit(".", 1)[1]
    cases = {}
    for alg in ("none", "None", "NONE", "nOnE", "", None):
        header = {"alg": alg, "kid": victim["key"].kid, "typ": "JWT"}
        cases[f"alg {alg!r}, no signature"] = f"Bearer {b64(header)}.{b64(claims)}."
        cases[f"alg {alg!r}, the real signature"] = f"Bearer {b64(header)}.{b64(claims)}.{signature}"
    cases["no alg at all"] = f"Bearer {b64({'kid': victim['key'].kid})}.{b64(claims)}.{signature}"
    assert_refused(victim["server"].url, cases)


def test_hmac_signed_with_the_public_key(victim):
    """The classic confusion: the RSA public key (as /token_keys publishes it) used as an HMAC secret."""
    server, claims = victim["server"], victim["claims"]
    published = HTTP.get(server.url + "/token_keys", timeout=30).json()["keys"][0]
    public = serialization.load_pem_public_key(published["value"].encode())
    secrets = {
        "PEM": published["value"].encode(),
        "PEM without newline": published["value"].strip().encode(),
        "DER": public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        "JWK n": published["n"].encode(),
        "JWK JSON": json.dumps({k: published[k] for k in ("kty", "n", "e")}).encode(),
    }
    cases = {}
    for alg, digest in (("HS256", hashlib.sha256), ("HS384", hashlib.sha384), ("HS512", hashlib.sha512)):
        for form, secret in secrets.items():
            signing_input = f'{b64({"alg": alg, "kid": published["kid"], "typ": "JWT"})}.{b64(claims)}'
            signature = hmac.new(secret, signing_input.encode(), digest).digest()
            cases[f"{alg} with the {form}"] = f"Bearer {signing_input}.{b64(signature)}"
    assert_refused(server.url, cases)


def test_other_asymmetric_algorithms_are_refused(victim):
    claims, key = victim["claims"], victim["key"]
    cases = {f"{alg} with our own key": "Bearer " + jwt.encode(claims, key.private_key, algorithm=alg,
                                                                   headers={"kid": key.kid})
             for alg in ("RS384", "RS512", "PS256")}
    assert_refused(victim["server"].url, cases)


def test_expired_and_not_yet_valid(victim):
    now = int(victim["now"])
    claims = {**victim["claims"], "jti": uuid.uuid4().hex}
    cases = {
        "expired an hour ago": {**claims, "iat": now - 5400, "exp": now - 3600},
        "expired a second ago": {**claims, "iat": now - 1800, "exp": now - 1},
        "expires now": {**claims, "iat": now - 1800, "exp": now},
        "expired in 1970": {**claims, "iat": 0, "exp": 1},
        "negative times": {**claims, "iat": -10, "exp": -5},
        "valid from in an hour": {**claims, "nbf": now + 3600},
        "valid from in an hour, issued then too": {**claims, "nbf": now + 3600, "iat": now + 3600, "exp": now + 5400},
        "valid from year 3000": {**claims, "nbf": 32503680000, "exp": 32503690000},
    }
    assert_refused(victim["server"].url, {what: "Bearer " + sign(victim, c) for what, c in cases.items()})


@pytest.fixture(scope="module")
def kid_cases(victim):
    claims, key = victim["claims"], victim["key"]
    cases = {f"kid {kid!r}": "Bearer " + sign(victim, claims, kid=kid)
             for kid in ("key-id-999", "", "KEY-ID-1", "key-id-1 ", " key-id-1", "key-id-01", "key-id-1\x00",
                         "../key-id-1", "/token_keys", "' OR '1'='1", "key-id-1' --", "*", "%", "\u202ekey-id-1",
                         "k" * 10_000)}
    for kid in (1, None, ["key-id-1"], {"kid": "key-id-1"}, True, 1.5):
        cases[f"kid {kid!r} (not a string)"] = "Bearer " + sign_raw({"alg": "RS256", "kid": kid, "typ": "JWT"},
                                                                    claims, key.private_key)
    cases["no kid"] = "Bearer " + sign_raw({"alg": "RS256", "typ": "JWT"}, claims, key.private_key)
    return cases


def test_unknown_kid(victim, kid_cases):
    """Signed with the right key, but the header names another: refused, and never a 500."""
    assert_refused(victim["server"].url, kid_cases)


def test_unknown_kid_on_an_in_memory_store(foreign, kid_cases):
    """An unknown kid reloads the keys; on an in-memory store (the pytest plugin's) that once opened a second
    transaction on the one connection and answered 500."""
    assert_refused(foreign.url, kid_cases)


def test_wrong_kid_of_a_key_that_exists(foreign):
    """Two real keys: a token signed with one and labelled with the other's kid."""
    keyring = foreign.app.extensions["mdsp"].keyring
    keyring.reload()
    current = keyring.current()
    retired = next(keyring.find(kid) for kid in ("key-id-1", "key-id-2") if kid != current.kid)
    claims = claims_of(fetch_token(foreign.url, "emutenant-client", "emulator-secret"))
    good = jwt.encode(claims, current.private_key, algorithm="RS256", headers={"kid": current.kid})
    assert HTTP.get(foreign.url + ROOT, headers={"Authorization": "Bearer " + good},
                        timeout=30).status_code == 200
    assert_refused(foreign.url, {
        "signed by the current key, labelled the retired one": "Bearer " + jwt.encode(
            claims, current.private_key, algorithm="RS256", headers={"kid": retired.kid}),
        "signed by the retired key, labelled the current one": "Bearer " + jwt.encode(
            claims, retired.private_key, algorithm="RS256", headers={"kid": current.kid}),
    })


def test_tampered_tokens(victim):
    """A valid token with its tenant (or anything else) changed keeps a signature that no longer fits."""
    token, claims, other = victim["token"], victim["claims"], victim["other"]
    header, payload, signature = token.split(".")
    changes = {
        "tenant changed": {"ten": other["name"]},
        "tenant and zone changed": {"ten": other["name"], "zid": other["name"]},
        "client changed": {"ten": other["name"], "sub": other["clients"][0]["clientId"],
                           "client_id": other["clients"][0]["clientId"], "cid": other["clients"][0]["clientId"]},
        "lifetime extended": {"exp": claims["exp"] + 86_400},
        "scope widened": {"scope": [*claims["scope"], "mdsp.core.tm.w"]},
        "claims reordered": dict(reversed(list(claims.items()))),
    }
    cases = {what: f"Bearer {header}.{b64({**claims, **change})}.{signature}" for what, change in changes.items()}
    cases["header changed (typ)"] = f"Bearer {b64({**jwt.get_unverified_header(token), 'typ': 'JOSE'})}.{payload}." \
                                    f"{signature}"
    cases["signature cut short"] = f"Bearer {header}.{payload}.{signature[:-4]}"
    cases["signature flipped"] = f"Bearer {header}.{payload}.{signature[:10]}{'A' if signature[10] != 'A' else 'B'}" \
                                 f"{signature[11:]}"
    cases["no signature"] = f"Bearer {header}.{payload}."
    cases["signature of another token"] = f"Bearer {header}.{b64({**claims, 'ten': other['name']})}." + \
        victim["api"].headers["Authorization"].rsplit(".", 1)[1]
    cases["padded base64"] = f"Bearer {header}==.{payload}.{signature}"
    assert_refused(victim["server"].url, cases)


def test_token_of_another_emulator(victim, foreign):
    """Its default tenant and client have the same names as ours, its kid is ours: only the key differs."""
    token = fetch_token(foreign.url, "emutenant-client", "emulator-secret")
    assert jwt.get_unverified_header(token)["kid"] in ("key-id-1", "key-id-2")
    ours = fetch_token(victim["server"].url, "emutenant-client", "emulator-secret")
    assert claims_of(ours)["ten"] == claims_of(token)["ten"] == "emutenant"
    assert_refused(victim["server"].url, {"a token of another emulator": "Bearer " + token})


def test_missing_and_ill_typed_claims(victim):
    """Signed with the right key, but the claims are not a token's: refused (once: a string ``nbf`` or a scope
    of objects answered 500, a NaN or infinite ``exp`` never expired)."""
    claims, key = victim["claims"], victim["key"]
    cases = {}
    for name in ("exp", "iat", "ten", "scope"):
        cases[f"no {name}"] = sign(victim, {k: v for k, v in claims.items() if k != name})
    bad_values = {
        "exp": ["NaN", "Infinity", '"9999999999"', "true", "null", "[]", "{}", "1e400"],
        "iat": ["NaN", '"yesterday"', "null", "[]"],
        "nbf": ["NaN", '"tomorrow"', "null", "-Infinity", "[1]"],
        "scope": ['"mdsp.core.am.r"', "[1, 2]", '[{"a": 1}]', "null", '[["mdsp.core.am.r"]]', "{}"],
        "ten": ["5", "[]", "null", '""', '"nosuchtenant"', '"emutenant\\u0000"', '{"name": "emutenant"}'],
    }
    for name, values in bad_values.items():
        for value in values:  # JSON as an attacker writes it (Python's json reads NaN and Infinity)
            text = json.dumps({k: v for k, v in claims.items() if k != name})[:-1] + f', "{name}": {value}}}'
            cases[f"{name}: {value}"] = sign_raw({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, text.encode(),
                                                 key.private_key)
    for payload in (b"[1, 2]", b'"a string"', b"null", b"not json", b"", b"\xff\xfe"):
        cases[f"payload {payload!r}"] = sign_raw({"alg": "RS256", "kid": key.kid}, payload, key.private_key)
    assert_refused(victim["server"].url, {what: "Bearer " + token for what, token in cases.items()})


def test_empty_misplaced_and_malformed_credentials(victim):
    token, client = victim["token"], victim["tenant"]["clients"][0]
    basic = base64.b64encode(f"{client['clientId']}:{client['clientSecret']}".encode()).decode()
    cases = {
        "no Authorization": None, "empty": "", "Bearer": "Bearer", "Bearer and a space": "Bearer ",
        "Bearer and spaces": "Bearer    ", "lower case, no token": "bearer", "the token alone": token,
        "Token scheme": f"Token {token}", "Basic with the client's own credentials": f"Basic {basic}",
        "two tokens": f"Bearer {token} {token}", "token then garbage": f"Bearer {token}x",
        "token with a newline escape": f"Bearer {token}\\n", "dots only": "Bearer ..",
        "four parts": f"Bearer {token}.x", "two parts": "Bearer " + ".".join(token.split(".")[:2]),
        "header is an array": f"Bearer {b64([1])}.{b64({})}.x",
        "header not JSON": f"Bearer {b64(b'{')}.{b64({})}.x", "not base64": "Bearer @@@.###.$$$",
    }
    assert_refused(victim["server"].url, cases)
    for where in ("query", "cookie", "form"):  # a token anywhere but the Authorization header is no token
        for method, path, _envelope in TARGETS[:2] + TARGETS[8:9] + TARGETS[11:12]:
            kwargs = {"query": {"params": {"access_token": token}}, "cookie": {"cookies": {"access_token": token}},
                      "form": {"data": {"access_token": token}}}[where]
            resp = HTTP.request(method, victim["server"].url + path, timeout=30, **kwargs)
            assert resp.status_code == 401, f"token in the {where}: {method} {path}: {resp.status_code}"


def test_non_latin1_and_control_bytes_in_the_header(victim):
    """Raw bytes a client library would not send: UTF-8 in the token answers 401; bytes HTTP forbids answer the
    server's own 400."""
    port = victim["server"].port
    for value, allowed in ((f"Bearer {victim['token'][:-2]}☃".encode(), {401}), ("Bearer ☃".encode(), {401}),
                           (b"Bearer \xff\xfe", {401}), (b"Bearer a\x00b", {400}), (b"Bearer a\x7fb", {400, 401})):
        for _method, path, envelope in TARGETS[:1] + TARGETS[4:5] + TARGETS[8:9] + TARGETS[11:12]:
            resp = raw_request(port, "GET", path, {"Authorization": value})
            assert resp.status_code in allowed, f"{value!r} {path}: {resp.status_code} {resp.text[:200]}"
            if resp.status_code == 401:
                assert CHALLENGE.match(resp.headers["WWW-Authenticate"]), resp.headers
                assert not envelope_problems(resp, envelope)


def test_the_token_header_cannot_inject_into_the_challenge(victim):
    """Values of the token's header appear in the 401's message; in ``WWW-Authenticate`` they are reduced to
    what RFC 6750 allows (a quote once closed the parameter, a non-Latin-1 character made the answer a 500)."""
    claims = victim["claims"]
    cases = {f"alg {alg!r}": f"Bearer {b64({'alg': alg, 'kid': 'key-id-1'})}.{b64(claims)}.abcd"
             for alg in ('x", error="insufficient_scope', "☃", "\u202e", "a\\b", "a\r\nSet-Cookie: s=1", "\x00",
                         "é", "\U0001F600" * 100, "'; DROP TABLE signing_keys; --")}
    assert_refused(victim["server"].url, cases)


def test_huge_tokens_on_waitress(victim):
    """Under waitress (the fixture's server): a 70 KB token is read and refused (401); a header block over
    waitress's 256 KB answers its 431. Never a 500."""
    claims, server = victim["claims"], victim["server"]
    padded = sign(victim, {**claims, "pad": "x" * 70_000})  # validly signed, only big: it is a good token
    assert HTTP.get(server.url + ROOT, headers={"Authorization": "Bearer " + padded},
                        timeout=30).status_code == 200
    assert_refused(server.url, {
        "70 KB of garbage": "Bearer " + "a" * 70_000,
        "70 KB token, tenant tampered": "Bearer " + ".".join(
            [padded.split(".")[0], b64({**claims, "pad": "x" * 70_000, "ten": victim["other"]["name"]}),
             padded.split(".")[2]]),
    })
    for method, path, _envelope in TARGETS[:1] + TARGETS[8:9] + TARGETS[11:12]:
        resp = HTTP.request(method, server.url + path, headers={"Authorization": "Bearer " + "a" * 300_000},
                                timeout=30)
        assert resp.status_code == 431, f"{path}: {resp.status_code} {resp.text[:200]}"


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.one_of(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), max_size=300),
    st.lists(st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="),
                     max_size=60), min_size=1, max_size=5).map(".".join)))
def test_garbage_tokens(victim, garbage):
    problems = []
    for method, path, envelope in TARGETS[:1] + TARGETS[4:5] + TARGETS[8:9] + TARGETS[11:12]:
        resp = HTTP.request(method, victim["server"].url + path, headers={"Authorization": f"Bearer {garbage}"},
                            timeout=30)
        if resp.status_code != 401 or not CHALLENGE.match(resp.headers.get("WWW-Authenticate", "")):
            problems.append(f"{path}: {resp.status_code} {resp.headers.get('WWW-Authenticate')!r} {resp.text[:200]}")
        problems += envelope_problems(resp, envelope) if resp.status_code == 401 else []
    assert not problems, problems


def test_nothing_was_written_by_a_refused_token(victim):
    assert dump(victim["api"]) == victim["before"]

