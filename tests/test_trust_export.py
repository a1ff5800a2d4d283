"""Exporting a big tenant streams ([trust] item 6): the snapshot of a tenant with 1.2 M records was built whole in
memory (307 MB of JSON took 1.1 GB more; three at once took a worker to 4.3 GB). Here a tenant of 300,000 records
(a document of tens of MB) is exported from a gunicorn worker while its peak resident memory is watched: it must
grow by less than a fixed bound, far below the document's size, and the document must read back complete."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import requests

from emulator.testing import HAVE_PROC, ApiSession, ServerProcess, child_pids, fetch_token
from tests.support.paths import TIMESERIES
from tests.support.tenants import create_tenant, tenant_session
from tests.support.timeseries import make_pump

RECORDS = 300_000
BATCH = 1000  # records per PUT (MindSphere takes at most 1 MB a request)
BOUND_MB = 20  # the worker's peak memory may grow this much while it exports


def _peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not HAVE_PROC, reason="reads a worker's peak memory from /proc")
def test_a_big_tenant_is_exported_in_bounded_memory(tmp_path):
    with ServerProcess("--port", "0", "--workers", "1", "--data-dir", str(tmp_path)) as srv, \
            ApiSession(srv.url) as admin:
        tenant = create_tenant(admin, prefix="big")
        with tenant_session(srv.url, tenant) as api:
            asset = make_pump(api, tenant)
            start = datetime(2024, 1, 1, tzinfo=UTC)
            for b in range(RECORDS // BATCH):
                batch = [{"_time": (start + timedelta(seconds=b * BATCH + i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                          "temperature": float(i), "count": i, "running": i % 2 == 0} for i in range(BATCH)]
                assert api.put(f"{TIMESERIES}/{asset}/Sensors", json=batch).status_code == 204
        (worker,) = child_pids(srv.proc.pid)
        requests.get(srv.url + "/_emulator/health", timeout=30)
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # the peak starts again from what the worker holds now
        before = _peak_kb(worker)
        started = time.monotonic()
        resp = requests.get(srv.url + f"/_emulator/snapshots/{tenant['name']}", timeout=300, stream=True)
        assert resp.status_code == 200
        size = 0
        chunks = []
        for chunk in resp.iter_content(1 << 20):
            size += len(chunk)
            chunks.append(chunk)
        grown_mb = (_peak_kb(worker) - before) / 1024
        seconds = time.monotonic() - started
        doc = orjson.loads(b"".join(chunks))
        assert len(doc["tables"]["ts_records"]) == RECORDS
        assert size > 3 * BOUND_MB * 1024 * 1024, f"the document ({size} bytes) is too small to show a bound"
        assert grown_mb < BOUND_MB, f"exporting {size / 1e6:.0f} MB grew the worker by {grown_mb:.0f} MB"
        print(f"\nexport: {size / 1e6:.1f} MB in {seconds:.1f} s; the worker's peak grew by {grown_mb:.1f} MB")
        client = tenant["clients"][0]
        assert fetch_token(srv.url, client["clientId"], client["clientSecret"])  # the worker still answers
