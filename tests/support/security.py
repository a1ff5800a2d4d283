"""Shared by the security tests (``test_security_*.py``): error envelopes, tenants with data, a dump of a
tenant's whole state through its own token, raw HTTP requests that no client library normalises, and the
attack strings."""

from __future__ import annotations

import http.client
from urllib.parse import quote

from requests.structures import CaseInsensitiveDict

from emulator.registry import api_of
from emulator.testing import ApiSession
from tests.support import tenants
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, CONTRACTS, ODATA, ROOT, TIMESERIES

RANGE = {"from": "2024-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}


# --- envelopes -----------------------------------------------------------------------------------------------

def envelope_problems(resp, envelope: str) -> list[str]:
    """Why an error answer is not in ``envelope`` (an empty list when it is)."""
    try:
        body = resp.json()
    except ValueError:
        return [f"{resp.status_code}: not JSON: {resp.text[:200]!r}"]
    if envelope == "core":
        errors = body.get("errors") if isinstance(body, dict) else None
        if not (isinstance(errors, list) and len(errors) == 1 and set(errors[0]) == {"code", "logref", "message"}
                and errors[0]["code"].startswith("mdsp.core.generic.")):
            return [f"not the core envelope: {body}"]
    elif envelope == "timeseries":
        if not (isinstance(body, dict) and set(body) == {"id", "message"}):
            return [f"not the time series envelope: {body}"]
    elif envelope == "odata":
        if not (isinstance(body, dict) and set(body) == {"error"} and {"code", "message"} <= set(body["error"])):
            return [f"not the OData envelope: {body}"]
    elif envelope == "oauth" and not (isinstance(body, dict) and {"error", "error_description"} <= set(body)):
        return [f"not the OAuth envelope: {body}"]
    return []


def assert_envelope(resp, envelope: str | None = None, path: str | None = None) -> None:
    """An error answer in its API's envelope (the API of ``path``, or of the request's path)."""
    if envelope is None:
        envelope = api_of(path if path is not None else _path_of(resp)).envelope
    problems = envelope_problems(resp, envelope)
    assert not problems, f"{resp.request.method} {resp.request.url[:300]}: {problems}"


def error_code(resp) -> str | None:
    """The error's code in any envelope (for comparing two answers), None for a success."""
    if resp.status_code < 400:
        return None
    try:
        body = resp.json()
    except ValueError:
        return f"<{resp.headers.get('Content-Type')}>"
    if "errors" in body:
        return body["errors"][0]["code"]
    if "error" in body:
        return body["error"]["code"] if isinstance(body["error"], dict) else body["error"]
    return "timeseries"


def _path_of(resp) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(resp.request.url).path)


# --- tenants -----------------------------------------------------------------------------------------------

def new_tenant(server_url: str, prefix: str = "s") -> tuple[dict, ApiSession]:
    """A fresh tenant and a session with its token."""
    with ApiSession(server_url) as admin:
        tenant = tenants.create_tenant(admin, prefix=prefix)
    return tenant, tenants.tenant_session(server_url, tenant)


def delete_tenant(server_url: str, tenant: dict) -> None:
    with ApiSession(server_url) as admin:
        tenants.delete_tenant(admin, tenant["name"])


def all_pages(api: ApiSession, path: str, key: str, **params) -> list[dict]:
    items, page = [], 0
    while True:
        resp = api.get(path, params={**params, "size": 200, "page": page})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        items += body.get("_embedded", {}).get(key, [])
        page += 1
        if page >= body["page"]["totalPages"]:
            return items


def dump(api: ApiSession) -> dict:
    """Everything a tenant's token can read: assets (with their values), types, every aspect's time series,
    contracts with their OData metadata."""
    assets = all_pages(api, ASSETS, "assets", sort="assetId,asc")
    state = {
        "root": api.get(ROOT).json(),
        "assets": assets,
        "aspectTypes": all_pages(api, ASPECT_TYPES, "aspectTypes", sort="id,asc"),
        "assetTypes": all_pages(api, ASSET_TYPES, "assetTypes", sort="id,asc"),
        "timeseries": {},
        "contracts": api.get(CONTRACTS).json(),
    }
    for asset in assets:
        aspects = api.get(f"{ASSETS}/{asset['assetId']}/aspects", params={"size": 200}).json()
        for aspect in aspects.get("_embedded", {}).get("aspects", []):
            if aspect.get("category") == "dynamic":
                resp = api.get(f"{TIMESERIES}/{asset['assetId']}/{aspect['name']}", params={**RANGE, "limit": 2000})
                assert resp.status_code == 200, resp.text
                state["timeseries"][f"{asset['assetId']}/{aspect['name']}"] = resp.json()
    for contract in state["contracts"]["contracts"]:
        if contract.get("publishedAt"):
            state[f"odata:{contract['name']}"] = api.get(f"{ODATA}/{quote(contract['name'])}/$metadata").text
    return state


# --- raw HTTP ---------------------------------------------------------------------------------------------

class RawResponse:
    """What ``http.client`` got, shaped enough like a ``requests`` response for the helpers above."""

    def __init__(self, method: str, url: str, status: int, headers: dict, content: bytes):
        self.status_code, self.headers, self.content = status, headers, content
        self.text = content.decode("utf-8", "replace")
        self.request = type("Sent", (), {"method": method, "url": url})()

    def json(self):
        import json

        return json.loads(self.content)


def raw_request(port: int, method: str, path: str, headers: dict | None = None, body: bytes | None = None,
                timeout: float = 30) -> RawResponse:
    """The request line exactly as given (no dot-segment removal, no re-quoting)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return RawResponse(method, f"http://127.0.0.1:{port}{path}", resp.status,
                           CaseInsensitiveDict(resp.getheaders()), resp.read())
    finally:
        conn.close()


def raw_bytes(port: int, data: bytes, timeout: float = 30) -> bytes:
    """Bytes on a socket, what came back (to the end, or what came before the server closed)."""
    import contextlib
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # the server may answer and close before reading everything: its answer is still there
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        out = b""
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            while chunk := sock.recv(65536):
                out += chunk
        return out


def parsed(raw: bytes, method: str, url: str) -> RawResponse:
    """A raw HTTP answer (``raw_bytes``'s) read by ``http.client``, as ``raw_request`` gives it."""
    import io

    class Received:
        def makefile(self, *_args, **_kw):
            return io.BytesIO(raw)

    resp = http.client.HTTPResponse(Received(), method=method)
    resp.begin()
    return RawResponse(method, url, resp.status, CaseInsensitiveDict(resp.getheaders()), resp.read())


def status_of(raw: bytes) -> int:
    """The status code of a raw HTTP answer."""
    line = raw.split(b"\r\n", 1)[0].split()
    assert len(line) >= 2 and line[0].startswith(b"HTTP/"), raw[:200]
    return int(line[1])


# --- attack strings ---------------------------------------------------------------------------------------

SQL = ["' OR 1=1 --", "' OR '1'='1", "\" OR \"\"=\"", "\"; DROP TABLE assets; --", "'; DELETE FROM tenants; --",
       "1; SELECT pg_sleep(5)", "' UNION SELECT client_id, secret FROM clients --", "%", "_", "\\", "%_%", "\\%",
       "a%", "_b", "*", "?", "[a-z]", "' AND 1=CAST((SELECT version()) AS int) --", "$gt", '{"$ne": null}']
TRAVERSAL = ["../", "../../../../etc/passwd", "..\\..\\windows\\win.ini", "%2e%2e%2f", "%2e%2e/", "..%2f",
             "%252e%252e%252f", "/", "//", "a/b", "a%2Fb", ".", "..", "~root", "%2F_emulator%2Ftenants",
             "../_emulator/tenants", "..;/", "%00", "%", "%zz"]
CONTROL = ["\x00", "a\x00b", "\x01\x02\x1f", "\t", "\n", "\r\n", "a\rb", "\x7f", "\x85", "\u2028", "\ufeff",
           "\u200b"]
LONG = ["a" * 10_000, "é" * 3_000, "\U0001F600" * 2_000, "a" * 129, "a" * 256]
UNICODE = ["\u202eevil\u202c", "\u200fRTL\u200e", "مرحبا بالعالم", "שלום", "emoji \U0001F4A9\U0001F680",
           "e\u0301\u0301\u0301\u0301", "Z\u0351\u0357\u036a\u0368", "Ｆｕｌｌｗｉｄｔｈ", "\U0010FFFF", "\ufffd",
           "ß", "İı", "ﷺ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]
MISC = ["", " ", "null", "undefined", "true", "[]", "{}", "<script>alert(1)</script>", "${jndi:ldap://x/a}",
        "{{7*7}}", "root", "$metadata", "$count", "('x')"]

ATTACKS = SQL + TRAVERSAL + CONTROL + LONG + UNICODE + MISC
