"""The control version's beacon (emulator.store.beacon), on ``serve`` with two workers over a SQLite file: a worker
that finds the version it holds on the beacon skips reading it from the store, so a change must be announced before
its verb answers, and one committed but never announced (a process killed between the two) must still be seen within
a second. Observed as a client sees a quota: 429."""

from __future__ import annotations

import sqlite3
import time

import orjson
import pytest

from emulator.testing import HAVE_PROC, ApiSession, ServerProcess, fetch_token
from tests.support.workers import request_on_new_connection, workers_of

pytestmark = pytest.mark.skipif(not HAVE_PROC, reason="which worker served is read from /proc")
ROOT = "/api/assetmanagement/v3/assets/root"
QUOTA = {"tenant": "emutenant", "api": None, "requests": 1, "perSeconds": 3600}


def _statuses_of_both(srv, headers: dict, workers: list[int], deadline: float) -> dict[int, list[int]]:
    """Requests on new connections until each worker has answered three times (or the deadline passes)."""
    seen: dict[int, list[int]] = {pid: [] for pid in workers}
    while min(len(s) for s in seen.values()) < 3 and time.monotonic() < deadline:
        pid, status = request_on_new_connection(srv.port, ROOT, headers, workers)
        seen[pid].append(status)
    return seen


def _serving(tmp_path):
    srv = ServerProcess("--port", "0", "--workers", "2", "--data-dir", str(tmp_path)).start()
    workers = workers_of(srv.proc.pid, 2)
    headers = {"Authorization": "Bearer " + fetch_token(srv.url, "emutenant-client", "emulator-secret")}
    before = _statuses_of_both(srv, headers, workers, time.monotonic() + 30)
    assert all(s == [200] * len(s) for s in before.values()), before  # both hold the version, on the fast path
    return srv, workers, headers


def test_a_quota_set_through_one_worker_binds_the_other_at_once(tmp_path):
    srv, workers, headers = _serving(tmp_path)
    try:
        with ApiSession(srv.url) as admin:
            assert admin.put("/_emulator/ratelimits", json=QUOTA).status_code == 200
        after = _statuses_of_both(srv, headers, workers, time.monotonic() + 30)
        statuses = [s for pid in workers for s in after[pid]]
        assert statuses.count(200) <= 1 and all(429 in after[pid] for pid in workers), after
    finally:
        srv.stop()


def test_a_change_committed_but_never_announced_is_seen_within_a_second(tmp_path):
    srv, workers, headers = _serving(tmp_path)
    try:
        db = sqlite3.connect(tmp_path / "emulator.sqlite3", isolation_level=None, timeout=30)
        db.execute("UPDATE control SET version = version + 1, quotas = ? WHERE id = 1",
                   (orjson.dumps([QUOTA]).decode(),))  # what a process killed after its commit leaves
        db.close()
        changed = time.monotonic()
        seen: dict[int, float] = {}  # worker -> when it first answered 429
        while len(seen) < 2 and time.monotonic() < changed + 10:
            pid, status = request_on_new_connection(srv.port, ROOT, headers, workers)
            if status == 429:
                seen.setdefault(pid, time.monotonic() - changed)
        assert sorted(seen) == sorted(workers), seen
        assert max(seen.values()) < 2.0, seen  # the read once a second (RECHECK_SECONDS), with a margin
    finally:
        srv.stop()


def test_the_beacon_is_as_private_as_the_database(tmp_path):
    srv = ServerProcess("--port", "0", "--data-dir", str(tmp_path)).start()
    try:
        assert (tmp_path / "emulator.sqlite3-control").stat().st_mode & 0o777 == 0o600
    finally:
        srv.stop()
