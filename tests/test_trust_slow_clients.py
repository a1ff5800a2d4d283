"""Slow clients do not freeze the server ([trust] item 8): eight TCP connections that each sent one byte stopped
a default ``serve`` (gunicorn's threaded worker: eight threads, each blocked reading its request) for as long as
they stayed open. ``serve`` now reads requests in waitress' event loop inside each gunicorn worker, so a stalled
connection holds a buffer, not a thread. Here a bounded number of stalled sockets stays open while other clients
are served, on one worker, within a second each."""

from __future__ import annotations

import socket
import time

import requests

from emulator.testing import ServerProcess, fetch_token
from tests.support.paths import ROOT

STALLED = 48  # six times the worker's threads
BUDGET_S = 2.0


def test_stalled_connections_do_not_stop_the_others(tmp_path):
    with ServerProcess("--port", "0", "--workers", "1", "--data-dir", str(tmp_path)) as srv:
        port = int(srv.url.rsplit(":", 1)[1])
        stalled = []
        try:
            for i in range(STALLED):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"G" if i % 2 else b"POST /api/assetmanagement/v3/assets HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 100\r\n\r\n{")  # half a request line, or half a body
                stalled.append(sock)
            time.sleep(0.5)
            slowest = 0.0
            token = fetch_token(srv.url, "emutenant-client", "emulator-secret")
            for _ in range(20):
                started = time.monotonic()
                resp = requests.get(srv.url + ROOT, headers={"Authorization": f"Bearer {token}"}, timeout=BUDGET_S)
                slowest = max(slowest, time.monotonic() - started)
                assert resp.status_code == 200
            assert slowest < BUDGET_S
            print(f"\n{STALLED} stalled connections open: 20 requests served, the slowest in {slowest * 1000:.0f} ms")
        finally:
            for sock in stalled:
                sock.close()
