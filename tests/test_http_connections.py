"""Connections are kept alive after answers without a body. waitress closed an HTTP/1.1 connection after every
answer that carried no ``Content-Length``, and it drops that header from a 204 and a 304: every ``DELETE``
answered 204 (a test's teardown, a client's removal of an asset) and every 304 to ``If-None-Match`` cost the client
a new connection. Checked on one raw connection (``http.client``: it reconnects silently, so the socket's identity
is what shows a reconnection) against ``serve`` (gunicorn with waitress' workers) and the in-thread server."""

from __future__ import annotations

import http.client
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from emulator.testing import ServerProcess, fetch_token
from tests.support.paths import ROOT

EVENTS = "/api/eventmanagement/v3/events"


@pytest.fixture(scope="module")
def served(database_url, tmp_path_factory):
    """``serve`` on the backend's database (beside the in-thread ``server``, as a second worker would be)."""
    with ServerProcess("--port", "0", "--workers", "1", "--no-pump", "--database-url", database_url,
                       "--data-dir", str(tmp_path_factory.mktemp("served"))) as srv:
        yield srv.url


@pytest.fixture(params=["serve", "in-thread"])
def base_url(request, served, server) -> str:
    return served if request.param == "serve" else server.url


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.connect()
    return conn


def _call(conn, method: str, path: str, body: dict | None = None, **headers):
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    resp = conn.getresponse()
    return resp, resp.read()


def _new_tenant(conn) -> str:
    name = "ka" + uuid.uuid4().hex[:10]
    resp, body = _call(conn, "POST", "/_emulator/tenants", {"name": name})
    assert resp.status == 201, body
    return name


def test_a_204_keeps_the_connection(base_url):
    conn = _connection(base_url)
    sock = conn.sock
    for _ in range(3):
        name = _new_tenant(conn)
        resp, body = _call(conn, "DELETE", f"/_emulator/tenants/{name}")
        assert (resp.status, body) == (204, b"")
        assert resp.getheader("Connection") is None and not resp.will_close
        assert conn.sock is sock  # the next request goes on the same connection
    resp, _ = _call(conn, "GET", "/_emulator/health")
    assert resp.status == 200 and conn.sock is sock
    conn.close()


def test_a_304_keeps_the_connection(base_url):
    conn = _connection(base_url)
    sock = conn.sock
    auth = {"Authorization": "Bearer " + fetch_token(base_url, "emutenant-client", "emulator-secret")}
    resp, body = _call(conn, "GET", ROOT, **auth)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {"entityId": json.loads(body)["assetId"], "timestamp": now, "severity": 20, "description": "keep-alive"}
    resp, body = _call(conn, "POST", EVENTS, event, **auth)
    assert resp.status == 201, body
    path = f"{EVENTS}/{json.loads(body)['id']}"
    resp, _ = _call(conn, "GET", path, **auth)
    etag = resp.getheader("ETag")
    assert resp.status == 200 and etag
    for _ in range(3):
        resp, body = _call(conn, "GET", path, **auth, **{"If-None-Match": etag})
        assert (resp.status, body) == (304, b"")
        assert not resp.will_close and conn.sock is sock
    conn.close()


def test_a_client_that_asks_to_close_is_closed_after_a_204(base_url):
    conn = _connection(base_url)
    name = _new_tenant(conn)
    resp, _ = _call(conn, "DELETE", f"/_emulator/tenants/{name}", Connection="close")
    assert resp.status == 204
    assert resp.getheader("Connection") == "close" and resp.will_close
    conn.close()
