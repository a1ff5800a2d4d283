"""Durability: the SQLite database on a disk that fills up.

``serve --workers 2`` keeps its SQLite file on a small disk. After some writes the disk is filled, then:

* every write (time series small and large, asset creation and update) answers a 5xx in the API's own
  error envelope, with a message; the refused writes are not stored, not even in part;
* the server stays up (the same processes), and reads still work: every record and asset written before is
  there as written, and the aggregates agree with the raw records;
* once space is freed, writes work again, without a restart;
* at the end ``PRAGMA integrity_check`` finds the database file sound.

Two ways to fill a disk, each a parameter:

* ``tmpfs``: a 4 MB tmpfs mounted for the test, filled with a file to the last byte (needs root and the
  right to mount, as on CI; skipped where mounting is refused, e.g. a container without CAP_SYS_ADMIN, except
  in CI as root: there a refused mount fails the test, so that CI can never pass without the real full disk);
* ``rlimit``: the server's processes get ``RLIMIT_FSIZE`` (prlimit) at the size the database files have
  reached, so that no file may grow further (the kernel answers EFBIG; Python ignores SIGXFSZ). Runs
  anywhere on Linux, root or not.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from test_durability import (
    BASE,
    HAVE_PROC,
    MERGE,
    AssetTrack,
    Workload,
    check_aggregates,
    check_assets,
    check_time_series,
    envelope_ok,
    error_message,
    make_record,
    read_stored,
    report,
    server_pids,
    set_up,
)

from conftest import IN_CI
from emulator.testing import ApiSession, ServerProcess
from tests.support.paths import ASSETS, TIMESERIES

SIZE = "4m"
BIG = 200  # records of a large time series write, each with a 900-character BIG_STRING
ATTEMPTS = 40  # writes tried on the full disk, at most


def _skip_unless_ci_root(reason: str) -> None:
    """Skip where a tmpfs cannot be had; in CI, which runs as root, fail instead: a CI run that skipped the real
    full disk silently would pass without it."""
    if IN_CI and hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.fail(f"CI=true as root, yet {reason}")
    pytest.skip(reason)


class Tmpfs:
    how = "tmpfs"

    def __init__(self, where: Path):
        self.dir = where / "disk"
        self.dir.mkdir()
        self.filler = self.dir / "filler"
        try:
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(self.dir)],
                                  capture_output=True, text=True, timeout=30)
        except FileNotFoundError:
            _skip_unless_ci_root("no mount command: the rlimit variant fills the disk instead")
        if done.returncode != 0:
            _skip_unless_ci_root(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {done.stderr.strip()}; "
                                 "the rlimit variant fills the disk instead")

    def fill(self, _pids: list[int]) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            chunk = b"\xa5" * 65536
            while True:
                try:
                    os.write(fd, chunk)
                except OSError:
                    if len(chunk) == 1:
                        break
                    chunk = chunk[: len(chunk) // 2]  # down to the last byte
        finally:
            os.close(fd)
        stat = os.statvfs(self.dir)
        assert stat.f_bavail == 0, f"{stat.f_bavail} blocks still free"

    def free(self, _pids: list[int]) -> None:
        self.filler.unlink()

    def remove(self) -> None:
        for args in (["umount", str(self.dir)], ["umount", "-l", str(self.dir)]):
            if subprocess.run(args, capture_output=True, timeout=30).returncode == 0:
                return


class FileSizeLimit:
    how = "rlimit"

    def __init__(self, where: Path):
        if not sys.platform.startswith("linux") or not hasattr(resource, "prlimit"):
            pytest.skip("RLIMIT_FSIZE of another process (prlimit) is Linux's")
        self.dir = where / "disk"
        self.dir.mkdir()
        self.saved: dict[int, tuple[int, int]] = {}

    def fill(self, pids: list[int]) -> None:
        limit = max(p.stat().st_size for p in self.dir.iterdir())
        for pid in pids:
            self.saved[pid] = resource.prlimit(pid, resource.RLIMIT_FSIZE)
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, self.saved[pid][1]))

    def free(self, _pids: list[int]) -> None:
        for pid, limits in self.saved.items():
            resource.prlimit(pid, resource.RLIMIT_FSIZE, limits)

    def remove(self) -> None:
        pass


@pytest.fixture(params=[Tmpfs, FileSizeLimit], ids=["tmpfs", "rlimit"])
def small_disk(request, tmp_path):
    disk = request.param(tmp_path)
    try:
        yield disk
    finally:
        disk.remove()


class Writer:
    """Sequential writes of each kind, with what was acknowledged and what was refused."""

    def __init__(self, api: ApiSession, pump: str, root: str):
        self.api, self.pump, self.root = api, pump, root
        self.n = [0, 0, 0]  # records written by each of three writers
        self.acked: list[list[dict]] = []
        self.refused: list[list[dict]] = []
        self.tracks: list[AssetTrack] = []
        self.answers: list[tuple[str, int, object]] = []  # (kind, status, body)

    def _answered(self, kind: str, resp) -> bool:
        body = None
        if resp.status_code >= 300:
            try:
                body = resp.json()
            except ValueError:
                body = resp.text[:300]
        self.answers.append((kind, resp.status_code, body))
        return resp.status_code < 300

    def ts(self, w: int, big: bool = False) -> bool:
        size = BIG if big else 1 + w
        batch = [make_record(BASE, w, self.n[w] + j, f"w{w}n{self.n[w]}") for j in range(size)]
        self.n[w] += size
        if big:
            for j, rec in enumerate(batch):
                rec["log"] = f"{j:04d}" + "x" * 896
        ok = self._answered("ts-put-big" if big else "ts-put",
                            self.api.put(f"{TIMESERIES}/{self.pump}/Sensors", json=batch))
        (self.acked if ok else self.refused).append(batch)
        return ok

    def create(self) -> AssetTrack:
        track = AssetTrack(f"fd{len(self.tracks)}", sent=0)
        self.tracks.append(track)
        resp = self.api.post(ASSETS, json={"typeId": "core.basicasset", "parentId": self.root,
                                           **Workload.revision(track.base, 0)})
        if self._answered("asset-post", resp):
            track.asset_id, track.acked = resp.json()["assetId"], 0
        return track

    def update(self, track: AssetTrack) -> bool:
        rev = track.acked + 1
        track.sent = rev
        resp = self.api.patch(f"{ASSETS}/{track.asset_id}", json=Workload.revision(track.base, rev),
                              headers={"If-Match": f'"{rev - 1}"', "Content-Type": MERGE})
        ok = self._answered("asset-patch", resp)
        if ok:
            track.acked = rev
        return ok

    def check(self) -> dict:
        stored = read_stored(self.api, self.pump)
        figures = check_time_series(stored, self.acked, self.refused, refused_absent=True)
        figures.update(check_assets(self.api, self.tracks, "fd", refused_absent=True))
        figures["aggregate_intervals_compared"] = check_aggregates(self.api, self.pump, stored)
        return figures


def test_full_disk(small_disk, request):
    with ServerProcess("--port", "0", "--data-dir", str(small_disk.dir), "--workers", "2", "--no-pump") as srv:
        pids = server_pids(srv, 2)
        token, root, pump = set_up(srv.url)
        with ApiSession(srv.url, token) as api:
            writer = Writer(api, pump, root)
            for _ in range(5):
                assert writer.ts(0) and writer.ts(1) and writer.ts(2, big=True)
            kept = [writer.create() for _ in range(3)]
            assert all(t.acked == 0 for t in kept) and all(writer.update(t) for t in kept)
            baseline = len(writer.answers)

            small_disk.fill(pids)
            kinds = ("ts-put", "ts-put-big", "asset-post", "asset-patch")
            for i in range(ATTEMPTS):
                kind = kinds[i % len(kinds)]
                if kind == "asset-post":
                    writer.create()
                elif kind == "asset-patch":
                    writer.update(kept[i % len(kept)])
                else:
                    writer.ts(0 if kind == "ts-put" else 2, big=kind == "ts-put-big")
                failed = Counter(k for k, status, _ in writer.answers[baseline:] if status >= 300)
                if all(failed[k] >= 2 for k in kinds):
                    break
            on_full = writer.answers[baseline:]
            wrong = [(k, s, b) for k, s, b in on_full if s >= 300 and not (s >= 500 and envelope_ok(
                TIMESERIES if k.startswith("ts") else ASSETS, b))]
            assert not wrong, f"on a full disk: {wrong[:5]}"
            failed = Counter(k for k, status, _ in on_full if status >= 500)
            assert all(failed[k] for k in kinds), f"some writes were not refused on a full disk: {on_full}"

            assert srv.proc.poll() is None, "the emulator exited"
            assert not HAVE_PROC or server_pids(srv, 2) == pids, f"gunicorn's processes changed\n{srv.output}"
            assert api.get("/_emulator/health").status_code == 200
            assert api.get(f"{ASSETS}/{kept[0].asset_id}").status_code == 200
            while_full = writer.check()  # reads work; what was stored is intact; nothing refused was stored

            small_disk.free(pids)
            time.sleep(0.1)
            assert writer.ts(0), writer.answers[-1]
            assert writer.ts(2, big=True), writer.answers[-1]
            assert writer.create().acked == 0, writer.answers[-1]
            assert writer.update(kept[0]), writer.answers[-1]
            after = writer.check()
            later = api.put(f"{TIMESERIES}/{pump}/Sensors", json=[{"_time": (BASE - timedelta(days=1)).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"), "count": 1}])
            assert later.status_code == 204, later.text
        srv.stop()  # SIGTERM: gunicorn's graceful stop
    db = sqlite3.connect(small_disk.dir / "emulator.sqlite3")
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()
    assert integrity == [("ok",)], integrity
    statuses = Counter(status for _, status, _ in on_full)
    report(request, f"full disk ({small_disk.how})", {
        "writes_on_full_disk": len(on_full), "answers": dict(sorted(statuses.items())),
        "messages": sorted({error_message(b) for _, s, b in on_full if s >= 500}),
        "records_while_full": while_full["records"], "records_after": after["records"],
        "integrity_check": integrity[0][0]})
