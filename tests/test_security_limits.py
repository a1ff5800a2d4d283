"""Oversized bodies and headers, the control plane's admin token, and binding to loopback.

Bodies: over ``limits.MAX_REQUEST_BYTES`` (16 MB) a request answers 413 in its API's envelope, over the time
series limits (1 MB for one asset's write, 100 KB for several) the time series 413; with Content-Length or
chunked, and nothing is written. Headers: an oversized header block answers the HTTP server's refusal (431),
never a 500: under waitress (the fixture's ``LiveServer``) and under gunicorn (``serve``, a ``ServerProcess``).

Control plane: with ``--admin-token``, every ``/_emulator/...`` route but ``health``, ``capabilities``,
``openapi.json`` (README, "Control plane") and the dashboard's static files refuses requests without the token,
with a wrong one, with a tenant's token, or with the token anywhere but ``Authorization: Bearer``; the route list
comes from the Flask URL map. ``/_emulator/contracts`` is tenant data (a tenant's token, not the admin's).

Binding: ``serve`` listens on 127.0.0.1 only unless told otherwise.
"""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import pytest
import requests

from emulator import limits
from emulator.app import create_app
from emulator.server import security_warning
from emulator.settings import Settings, from_sources
from emulator.testing import ServerProcess, fetch_token
from tests.support.paths import ASPECT_TYPES, ASSETS, ROOT, TIMESERIES
from tests.support.security import (
    assert_envelope,
    delete_tenant,
    envelope_problems,
    new_tenant,
    parsed,
    raw_bytes,
    raw_request,
    status_of,
)
from tests.support.timeseries import make_pump

ADMIN = "s3cret-admin-token"
OVER = limits.MAX_REQUEST_BYTES + 1
HTTP = requests.Session()
HTTP.trust_env = False


def chunked(data: bytes, size: int = 65_536):
    return (data[i:i + size] for i in range(0, len(data), size))


def padded_json(value, total: int) -> bytes:
    """``value`` as JSON followed by whitespace to exactly ``total`` bytes (still valid JSON)."""
    text = json.dumps(value).encode()
    assert len(text) <= total
    return text + b" " * (total - len(text))


@pytest.fixture(scope="module")
def pump(server):
    tenant, api = new_tenant(server.url, "l")
    try:
        yield {"server": server, "tenant": tenant, "api": api, "asset": make_pump(api, tenant)}
    finally:
        api.close()
        HTTP.close()
        delete_tenant(server.url, tenant)


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """``mindsphere-emulator serve`` (gunicorn) on a free port of its default host, with an admin token."""
    data = tmp_path_factory.mktemp("serve")
    with ServerProcess("--port", "0", "--data-dir", str(data), "--admin-token", ADMIN) as proc:
        token = fetch_token(proc.url, "emutenant-client", "emulator-secret")
        yield {"proc": proc, "url": proc.url, "port": proc.port, "token": token}
        HTTP.close()


def count_assets(api) -> int:
    return api.get(ASSETS, params={"size": 1}).json()["page"]["totalElements"]


# --- bodies ---------------------------------------------------------------------------------------------------

def test_bodies_over_16_mb_answer_413_in_each_envelope(pump):
    """With Content-Length and chunked, on every API: 413 in its envelope, and nothing written."""
    api, url, t = pump["api"], pump["server"].url, pump["tenant"]["name"]
    auth = api.headers["Authorization"]
    big = padded_json({"name": "big", "typeId": "core.basicasset", "parentId": pump["tenant"]["rootAssetId"]}, OVER)
    before = count_assets(api)
    cases = [
        ("POST", ASSETS, big, "application/json", auth, "core"),
        ("PUT", f"{ASPECT_TYPES}/{t}.Big", big, "application/json", auth, "core"),
        ("POST", "/oauth/token", b"grant_type=client_credentials&" + b"a" * OVER,
         "application/x-www-form-urlencoded", None, "oauth"),
        ("POST", "/odata/plant/Site/$query", b"$top=1&" + b"a" * OVER, "text/plain", auth, "odata"),
        ("POST", "/_emulator/contracts", big, "application/json", auth, "core"),
        ("POST", "/_emulator/snapshots", big, "application/json", None, "core"),
    ]
    for method, path, body, media, authorization, envelope in cases:
        headers = {"Content-Type": media, **({"Authorization": authorization} if authorization else {})}
        for data in (body, chunked(body)) if path == ASSETS else (body,):
            resp = HTTP.request(method, url + path, data=data, headers=headers, timeout=60)
            assert resp.status_code == 413, f"{method} {path}: {resp.status_code} {resp.text[:200]}"
            assert not envelope_problems(resp, envelope), resp.text[:300]
    assert count_assets(api) == before
    assert api.get(f"{ASPECT_TYPES}/{t}.Big").status_code == 404


def test_time_series_limits(pump):
    """One asset's write: at most 1 MB (exactly 1 MB is accepted); several pairs: at most 100 KB. Over: 413 in
    the time series envelope, no record written. Chunked the same."""
    api, url, asset = pump["api"], pump["server"].url, pump["asset"]
    path = f"{TIMESERIES}/{asset}/Sensors"
    window = {"from": "2024-05-31T00:00:00Z", "to": "2024-06-02T00:00:00Z"}
    record = [{"_time": "2024-06-01T00:00:00.000Z", "temperature": 1.5}]
    headers = {"Authorization": api.headers["Authorization"], "Content-Type": "application/json"}
    for data in (padded_json(record, limits.TS_MAX_PUT_BYTES + 1), chunked(padded_json(record, 2 * 1024 * 1024))):
        resp = HTTP.put(url + path, data=data, headers=headers, timeout=60)
        assert resp.status_code == 413, resp.text[:200]
        assert_envelope(resp, "timeseries")
        assert api.get(path, params=window).json() == []
    many = {"timeseries": [{"entityId": asset, "propertySetName": "Sensors", "data": record}]}
    resp = HTTP.put(url + TIMESERIES, data=padded_json(many, limits.TS_MULTI_MAX_BYTES + 1), headers=headers,
                    timeout=60)
    assert resp.status_code == 413 and not envelope_problems(resp, "timeseries"), resp.text[:200]
    assert api.get(path, params=window).json() == []
    resp = HTTP.put(url + path, data=chunked(padded_json(record, limits.TS_MAX_PUT_BYTES)), headers=headers,
                    timeout=60)
    assert resp.status_code == 204, resp.text[:200]  # the limit itself, chunked: accepted
    assert api.get(path, params=window).json() == record
    assert api.delete(path, params=window).status_code == 204


def test_bodies_on_gunicorn(gunicorn):
    """gunicorn passes a chunked body on as a stream, which werkzeug cut at 16 MB without an error (so a JSON
    document padded past the limit was accepted, a form or $query read short): now 413, as waitress answers."""
    url, token = gunicorn["url"], gunicorn["token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    root = HTTP.get(url + ROOT, headers=headers, timeout=30).json()["assetId"]
    asset = {"name": "chunked", "typeId": "core.basicasset", "parentId": root}
    before = HTTP.get(url + ASSETS, headers=headers, timeout=30).json()["page"]["totalElements"]
    for data in (padded_json(asset, OVER), chunked(padded_json(asset, OVER))):
        resp = HTTP.post(url + ASSETS, data=data, headers=headers, timeout=60)
        assert resp.status_code == 413, f"{resp.status_code} {resp.text[:200]}"
        assert_envelope(resp, "core")
    assert HTTP.get(url + ASSETS, headers=headers, timeout=30).json()["page"]["totalElements"] == before
    resp = HTTP.post(url + ASSETS, data=chunked(padded_json(asset, 1024 * 1024)), headers=headers, timeout=60)
    assert resp.status_code == 201, resp.text[:200]  # chunked within the limit: read whole
    resp = HTTP.delete(url + f"{ASSETS}/{resp.json()['assetId']}", headers={**headers, "If-Match": '"0"'},
                       timeout=30)
    assert resp.status_code == 204


# --- headers ------------------------------------------------------------------------------------------------

def header_block(n: int, size: int) -> bytes:
    return b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * size) for i in range(n))


def request_bytes(path: str, extra: bytes = b"", authorization: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {authorization}\r\n".encode() if authorization else b""
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + extra + b"Connection: close\r\n\r\n"


def assert_header_limits(port: int, token: str, paths: tuple[str, ...]) -> None:
    """waitress reads up to 256 KB of request line and headers: within, the app answers (here: 401 for a bad
    token); beyond, waitress's own 431 (the request never reached the app), in the core envelope (waitress
    keeps none of the target past its limit: the root's envelope, emulator.server.refusal)."""
    for path in paths:
        within = raw_bytes(port, request_bytes(path, header_block(1, 70_000), token))
        assert status_of(within) in (200, 404), within[:300]
        beyond = raw_bytes(port, request_bytes(path, header_block(100, 3_000)))
        assert status_of(beyond) == 431
        assert not envelope_problems(parsed(beyond, "GET", path), "core"), beyond[:300]
        assert status_of(raw_bytes(port, request_bytes(path, b"X-Big: " + b"a" * 300_000 + b"\r\n"))) == 431
        assert status_of(raw_bytes(port, request_bytes(path + "?x=" + "a" * 300_000))) == 431
    resp = raw_request(port, "GET", ROOT, {"Authorization": "Bearer " + "a" * 70_000})
    assert resp.status_code == 401 and not envelope_problems(resp, "core")


TARGETS = [f"{TIMESERIES}/\xff/Sensors", "/odata/plant/Site?$filter=name%20eq%20'\xe9'", f"{ASSETS}?filter=\xff",
           "/oauth/token?grant_type=\xff", f"{ROOT}/\x80"]


def assert_unreadable_targets_refused_in_the_envelope(port: int) -> None:
    """A request target holding bytes outside ASCII (here Latin-1 bytes, not percent-encoded) cannot be read:
    refused with 400 in the envelope of the API its path names, as the app refuses (the time series, OData,
    core and OAuth envelopes), not with waitress' plain text. Fails on waitress' own answer ('Bad URI')."""
    for target in TARGETS:
        raw = raw_bytes(port, b"GET " + target.encode("latin-1") + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Connection: close\r\n\r\n")
        resp = parsed(raw, "GET", target)
        assert resp.status_code == 400, raw[:300]
        assert_envelope(resp, path=target.split("?")[0])
        assert "could not be read" in resp.text


def test_unreadable_targets_on_waitress(pump):
    assert_unreadable_targets_refused_in_the_envelope(pump["server"].port)


def test_unreadable_targets_under_serve(gunicorn):
    """``serve``'s workers (emulator.server.WaitressWorker) answer alike."""
    assert_unreadable_targets_refused_in_the_envelope(gunicorn["port"])


def test_oversized_headers_on_waitress(pump):
    port, token = pump["server"].port, pump["api"].headers["Authorization"].split()[1]
    assert_header_limits(port, token, (ROOT, f"{TIMESERIES}/{pump['asset']}/Sensors", "/odata/plant/",
                                       "/_emulator/health"))


def test_oversized_headers_under_serve(gunicorn):
    """``serve``'s gunicorn workers speak HTTP through waitress (emulator.server.WaitressWorker): the same limits as
    the in-thread server. gunicorn's own parser answered 414 past a request line of 8190 bytes and 431 past a
    header field of 16 KB; a long asset filter now fits as it does in the tests' server."""
    port, token = gunicorn["port"], gunicorn["token"]
    assert_header_limits(port, token, (ROOT, "/odata/plant/", "/_emulator/health"))
    long_filter = json.dumps({"name": {"contains": "a" * 10_000}})  # 10 KB: past gunicorn's request line
    resp = HTTP.get(gunicorn["url"] + ASSETS, params={"filter": long_filter},
                    headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert resp.status_code == 200, f"{resp.status_code} {resp.text[:200]}"


# --- the control plane --------------------------------------------------------------------------------------

OPEN = {"control.health", "control.capabilities", "openapi.document", "dashboard.static"}


def control_routes() -> list[tuple[str, str, str]]:
    """(method, path, endpoint) of every control-plane route (the tenant's ``/_emulator/contracts`` aside)."""
    app = create_app(Settings(database_url="sqlite://"))
    fillers = {"name": "emutenant", "rule_id": "r1", "filename": "dashboard.css", "asset_id": "0" * 32,
               "contract": "plant"}
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/_emulator/") or rule.rule.startswith("/_emulator/contracts"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            assert arg in fillers, f"{rule.rule}: add a value for <{arg}> to control_routes"
            path = path.replace(f"<{arg}>", fillers[arg]).replace(f"<path:{arg}>", fillers[arg])
        out += [(method, path, rule.endpoint) for method in sorted(rule.methods - {"OPTIONS"})]
    app.extensions["mdsp"].store.dispose()
    return out


def test_the_control_plane_needs_the_admin_token(gunicorn):
    url, tenant_token = gunicorn["url"], gunicorn["token"]
    routes = control_routes()
    assert len({endpoint for _m, _p, endpoint in routes}) >= 20
    wrong = {
        "no Authorization": {},
        "a wrong token": {"Authorization": "Bearer wrong"},
        "the token and more": {"Authorization": f"Bearer {ADMIN}x"},
        "the token cut short": {"Authorization": f"Bearer {ADMIN[:-1]}"},
        "the token in upper case": {"Authorization": f"Bearer {ADMIN.upper()}"},
        "the token as Basic": {"Authorization": "Basic " + base64.b64encode(f"admin:{ADMIN}".encode()).decode()},
        "the token without a scheme": {"Authorization": ADMIN},
        "the token in another header": {"X-Admin-Token": ADMIN, "X-Api-Key": ADMIN},
        "a tenant's access token": {"Authorization": f"Bearer {tenant_token}"},
        "an empty bearer": {"Authorization": "Bearer "},
    }
    problems, refused, kinds = [], 0, list(wrong.items())
    for i, (method, path, endpoint) in enumerate(routes):  # each route: no token and three wrong ones in turn
        for what, headers in [kinds[0], *(kinds[1 + (3 * i + k) % (len(kinds) - 1)] for k in range(3))]:
            resp = HTTP.request(method, url + path, headers=headers, timeout=30, allow_redirects=False,
                                **({"json": {}} if method in ("POST", "PUT") else {}))
            if endpoint in OPEN:
                if resp.status_code in (401, 403) or resp.status_code >= 500:
                    problems.append(f"{what}: {method} {path} ({endpoint}) is open, answered {resp.status_code}")
                continue
            refused += 1
            if resp.status_code != 401:
                problems.append(f"{what}: {method} {path} ({endpoint}) answered {resp.status_code}")
            elif method != "HEAD" and (not endpoint.startswith("dashboard.") or method != "GET"):
                problems += [f"{what}: {method} {path}: {p}" for p in envelope_problems(resp, "core")]
    assert not problems, "\n".join(problems)
    assert refused >= 100
    for query in ({"token": ADMIN + "x"}, {"token": ""}):  # the dashboard's one-time link takes only the token
        resp = HTTP.get(url + "/_emulator/ui/", params=query, allow_redirects=False, timeout=30)
        assert resp.status_code == 401 and "Set-Cookie" not in resp.headers
    for method, path, endpoint in routes:
        if method == "GET" and endpoint not in OPEN:
            resp = HTTP.get(url + path, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
            assert resp.status_code not in (401, 403) and resp.status_code < 500, f"{path}: {resp.status_code}"


def test_no_path_trick_reaches_the_control_plane_without_the_token(gunicorn):
    port = gunicorn["port"]
    for path in ("/_emulator/health/../tenants", "/_emulator/capabilities/%2e%2e/tenants", "/_emulator/%74enants",
                 "/_emulator/tenants/", "/_emulator//tenants", "//_emulator/tenants", "/_emulator/./tenants",
                 "/_emulator/tenants;x", "/_emulator/tenants%00", "/_emulator/tenants%2f", "/_emulator/TENANTS",
                 "/_emulator/contracts/../tenants", "/odata/x/../../_emulator/tenants",
                 "/_emulator/health%2f..%2ftenants",
                 "/_emulator/tenants?token=" + ADMIN, "/_emulator/journal", "/_emulator/ui/tenants/emutenant/"):
        resp = raw_request(port, "GET", path)
        assert resp.status_code in (301, 308, 400, 401, 404), f"{path}: {resp.status_code} {resp.text[:200]}"
        assert "emutenant-client" not in resp.text and "clientSecret" not in resp.text, path


def test_the_admin_token_is_no_tenant_token(gunicorn):
    for path in (ROOT, "/odata/plant/", "/_emulator/contracts", f"{TIMESERIES}/{'0' * 32}/Sensors"):
        resp = HTTP.get(gunicorn["url"] + path, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
        assert resp.status_code == 401, f"{path}: {resp.status_code}"
        assert_envelope(resp, path=path)


# --- binding ------------------------------------------------------------------------------------------------

def listeners(port: int) -> list[str]:
    """The local addresses (hex, as the kernel writes them) listening on ``port``, IPv4 and IPv6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append(address)
    return found


def non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))  # no packet is sent: only a route is chosen
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_serve_binds_to_loopback_by_default(gunicorn):
    assert Settings().host == "127.0.0.1"
    assert from_sources({}, environ={}).host == "127.0.0.1"
    assert security_warning(Settings()) is None
    assert "--admin-token" in security_warning(Settings(host="0.0.0.0"))
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp on this system")
    assert listeners(gunicorn["port"]) == ["0100007F"]  # 127.0.0.1, and nothing else
    address = non_loopback_address()
    if address is not None:
        with pytest.raises(OSError), socket.create_connection((address, gunicorn["port"]), timeout=2):
            pass
