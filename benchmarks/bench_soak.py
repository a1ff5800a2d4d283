"""A bounded soak: ``mindsphere-emulator serve`` (gunicorn, 2 workers, SQLite file) under mixed traffic.

For ``BENCH_SOAK_SECONDS`` (default 600: ten minutes) ``CLIENTS`` threads, each with its own keep-alive
session and its own pump, loop over a weighted mix: asset reads, merge-PATCH updates (``If-Match``) and
filtered lists, time series writes (10 records, new times) and reads of what was just written, v4
aggregates over the last two hours of data, and Data Hub OData reads (the asset set, and the time series set
filtered by asset and time) of a published contract. Memory of the worker processes is sampled from
``/proc/<pid>/status`` (``VmRSS``) every few seconds. Rows, each against a floor measured in the same run:

* throughput, req/s, against the same clients' GETs of a static Flask app served by gunicorn with the same
  workers and threads (measured before and after the soak, averaged). Goal: >= 0.1 (the mix writes to a
  database and computes aggregates; the row is there to be reported);
* throughput in the last window against the first window after warm-up: the server does not slow down as
  the data grows. Goal: >= 0.7;
* the workers' RSS at the end against right after warm-up (the first 10 %, at most 60 s): memory stays flat.
  Goal: <= 1.2;
* errors (any answer but the expected success, any request without an answer, a worker process replaced)
  against the requests sent. Goal: 0.

The clients run in this process (Python threads), so the figures are the client's as much as the server's;
both sides of each ratio are measured with the same clients.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from benchmarks.harness import Row, gunicorn
from emulator.testing import ServerProcess, child_pids, fetch_token

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "600"))
CLIENTS = int(os.environ.get("BENCH_SOAK_CLIENTS", "8"))
WORKERS = 2
WARMUP = min(60.0, SECONDS * 0.1)
WINDOW = max(5.0, min(60.0, SECONDS * 0.1))  # the first and last throughput windows
SAMPLE = max(1.0, min(5.0, SECONDS / 60))  # seconds between two memory samples
FLOOR_SECONDS = max(3.0, min(15.0, SECONDS / 40))
VARIABLES = ["flow", "current", "pressureIn", "pressureOut", "temperature"]
START = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 10
B = "/api/assetmanagement/v3"
TS = "/api/iottimeseries/v3/timeseries"
MERGE = "application/merge-patch+json"
MIX = {  # operation: weight
    "asset-get": 15, "asset-patch": 8, "asset-list": 5, "ts-put": 25, "ts-get": 20, "aggregates": 12,
    "odata-assets": 8, "odata-ts": 7,
}


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0



def set_up(url: str, token: str, tenant: str) -> list[dict]:
    """The Pump type (dynamic aspect PumpData, static variable rating), one pump per client with an hour of
    data, and a published contract ``soak`` over the type."""
    s = requests.Session()
    s.trust_env = False
    s.headers["Authorization"] = "Bearer " + token
    s.put(f"{url}{B}/aspecttypes/{tenant}.PumpData", json={"name": "PumpData", "category": "dynamic", "variables": [
        {"name": v, "dataType": "DOUBLE"} for v in VARIABLES]}, timeout=30).raise_for_status()
    s.put(f"{url}{B}/assettypes/{tenant}.Pump", json={
        "name": "Pump", "parentTypeId": "core.basicasset", "variables": [{"name": "rating", "dataType": "DOUBLE"}],
        "aspects": [{"name": "PumpData", "aspectTypeId": f"{tenant}.PumpData"}]}, timeout=30).raise_for_status()
    root = s.get(f"{url}{B}/assets/root", timeout=30).json()["assetId"]
    pumps = []
    for i in range(CLIENTS):
        resp = s.post(f"{url}{B}/assets", json={"name": f"Soak pump {i}", "typeId": f"{tenant}.Pump",
                                                "parentId": root, "variables": [{"name": "rating", "value": i}]},
                      timeout=30)
        resp.raise_for_status()
        pumps.append(resp.json())
    for pump in pumps:
        records = [{"_time": iso(START + timedelta(seconds=n)), **{v: n % 97 + k for k, v in enumerate(VARIABLES)}}
                   for n in range(3600)]
        s.put(f"{url}{TS}/{pump['assetId']}/PumpData", data=json.dumps(records),
              headers={"Content-Type": "application/json"}, timeout=120).raise_for_status()
    s.post(f"{url}/_emulator/contracts", json={"name": "soak", "assetTypeIds": [f"{tenant}.Pump"],
                                               "publisherEmail": "maker@example.com"}, timeout=30).raise_for_status()
    s.post(f"{url}/_emulator/contracts/soak/publish", timeout=30).raise_for_status()
    return pumps


class Client(threading.Thread):
    def __init__(self, index: int, url: str, token: str, tenant: str, pump: dict, deadline: float):
        super().__init__(name=f"soak-{index}", daemon=True)
        self.url, self.tenant, self.deadline = url, tenant, deadline
        self.asset, self.etag = pump["assetId"], pump["etag"]
        self.rng = random.Random(index)
        self.n = 3600  # the next record's second after START (the set-up wrote the first hour)
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = "Bearer " + token
        self.done: list[tuple[float, str, float]] = []  # (finished, operation, seconds)
        self.errors: list[str] = []
        self.ops, self.weights = list(MIX), list(MIX.values())

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            op = self.rng.choices(self.ops, self.weights)[0]
            started = time.monotonic()
            try:
                problem = getattr(self, op.replace("-", "_"))()
            except requests.RequestException as exc:
                problem = f"no answer: {exc!r}"
            finished = time.monotonic()
            self.done.append((finished, op, finished - started))
            if problem:
                self.errors.append(f"{op}: {problem}")

    def _expect(self, resp: requests.Response, status: int) -> str | None:
        return None if resp.status_code == status else f"{resp.status_code} {resp.text[:200]}"

    def _get(self, path: str, **params) -> requests.Response:
        return self.session.get(self.url + path, params=params, timeout=60)

    def asset_get(self):
        return self._expect(self._get(f"{B}/assets/{self.asset}"), 200)

    def asset_patch(self):
        resp = self.session.patch(f"{self.url}{B}/assets/{self.asset}", json={"description": f"soak {self.n}"},
                                  headers={"If-Match": f'"{self.etag}"', "Content-Type": MERGE}, timeout=60)
        if resp.status_code == 200:
            self.etag = resp.json()["etag"]
        return self._expect(resp, 200)

    def asset_list(self):
        return self._expect(self._get(f"{B}/assets", filter=json.dumps({"typeId": f"{self.tenant}.Pump"}),
                                      size=20), 200)

    def ts_put(self):
        records = [{"_time": iso(START + timedelta(seconds=self.n + i)),
                    **{v: (self.n + i) % 97 + k for k, v in enumerate(VARIABLES)}} for i in range(BATCH)]
        self.n += BATCH
        return self._expect(self.session.put(f"{self.url}{TS}/{self.asset}/PumpData", json=records, timeout=60), 204)

    def ts_get(self):
        last = START + timedelta(seconds=self.n - 1)
        resp = self._get(f"{TS}/{self.asset}/PumpData", **{"from": iso(last - timedelta(seconds=BATCH)),
                                                          "to": iso(last)})
        if resp.status_code == 200 and len(resp.json()) != BATCH:
            return f"read {len(resp.json())} records of the last {BATCH} written"
        return self._expect(resp, 200)

    def aggregates(self):
        last = START + timedelta(seconds=self.n)
        return self._expect(self._get("/api/iottsaggregates/v4/aggregates", assetId=self.asset,
                                      aspectName="PumpData", **{"from": iso(last - timedelta(hours=2)),
                                                                "to": iso(last)},
                                      intervalUnit="minute", intervalValue=2), 200)

    def odata_assets(self):
        return self._expect(self._get("/odata/soak/Pump", **{"$top": 20, "$filter": "startswith(name, 'Soak')"}),
                            200)

    def odata_ts(self):
        since = (START + timedelta(seconds=self.n - 300)).strftime("%Y-%m-%dT%H:%M:%S")
        return self._expect(self._get("/odata/soak/TS_PumpData_PumpData_Pump", **{
            "$filter": f"assetId eq '{self.asset}' and timestamp gt '{since}'", "$top": 100}), 200)


def static_rate(seconds: float) -> float:
    """Requests per second of the same clients against a static Flask app (gunicorn, same workers/threads)."""
    with tempfile.TemporaryDirectory() as tmp:
        body = Path(tmp) / "body.json"
        body.write_bytes(json.dumps({"id": "x" * 32, "name": "Soak pump"}).encode())
        with gunicorn("benchmarks.apps:static_app()", {"BENCH_STATIC_BODY": str(body)}, workers=WORKERS) as url:
            deadline = time.monotonic() + seconds
            counts = [0] * CLIENTS

            def hammer(i):
                s = requests.Session()
                s.trust_env = False
                while time.monotonic() < deadline:
                    s.get(url + "/api/assetmanagement/v3/assets/x", timeout=30).raise_for_status()
                    counts[i] += 1

            started = time.monotonic()
            threads = [threading.Thread(target=hammer, args=(i,)) for i in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return sum(counts) / (time.monotonic() - started)


def soak(tmp: str) -> dict:
    with ServerProcess("--port", "0", "--data-dir", tmp, "--workers", str(WORKERS), "--no-pump") as srv:
        token = fetch_token(srv.url, "emutenant-client", "emulator-secret")
        pumps = set_up(srv.url, token, "emutenant")
        workers = child_pids(srv.proc.pid)
        settle = time.monotonic() + 15
        while len(workers) < WORKERS and time.monotonic() < settle:
            time.sleep(0.1)
            workers = child_pids(srv.proc.pid)
        memory: list[tuple[float, int]] = []  # (seconds into the soak, kB of all workers)
        began = time.monotonic()
        clients = [Client(i, srv.url, token, "emutenant", pumps[i], began + SECONDS) for i in range(CLIENTS)]
        for c in clients:
            c.start()
        while any(c.is_alive() for c in clients):
            memory.append((time.monotonic() - began, sum(rss_kb(p) for p in child_pids(srv.proc.pid))))
            time.sleep(SAMPLE)
        for c in clients:
            c.join()
        memory.append((time.monotonic() - began, sum(rss_kb(p) for p in child_pids(srv.proc.pid))))
        replaced = child_pids(srv.proc.pid) != workers
        records = sum(c.n - 3600 for c in clients)
    done = sorted((t - began, op, s) for c in clients for t, op, s in c.done)
    errors = [e for c in clients for e in c.errors] + (["a gunicorn worker was replaced"] if replaced else [])
    return {"done": done, "errors": errors, "memory": memory, "records": records}


def run() -> list[Row]:
    floor_before = static_rate(FLOOR_SECONDS)
    with tempfile.TemporaryDirectory() as tmp:
        result = soak(tmp)
        db_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
    floor_rate = statistics.mean([floor_before, static_rate(FLOOR_SECONDS)])
    done, memory = result["done"], result["memory"]
    rate = len(done) / SECONDS
    first = sum(1 for t, _, _ in done if WARMUP <= t < WARMUP + WINDOW) / WINDOW
    last = sum(1 for t, _, _ in done if SECONDS - WINDOW <= t <= SECONDS) / WINDOW
    start_mb = next(kb for t, kb in memory if t >= WARMUP) / 1024
    end_mb = memory[-1][1] / 1024
    peak_mb = max(kb for _, kb in memory) / 1024

    by_op: dict[str, list[float]] = defaultdict(list)
    for _, op, seconds in done:
        by_op[op].append(seconds)
    print(f"  soak: {SECONDS:.0f} s, {CLIENTS} clients, {WORKERS} workers: {len(done)} requests "
          f"({rate:.1f}/s), {len(result['errors'])} errors, {result['records']} records written, "
          f"database {db_mb:.1f} MB", flush=True)
    for op, times in sorted(by_op.items()):
        times.sort()
        print(f"    {op:13} {len(times):7d}  p50 {times[len(times) // 2] * 1e3:7.1f} ms  "
              f"p99 {times[int(len(times) * 0.99)] * 1e3:7.1f} ms", flush=True)
    print(f"    worker RSS: {start_mb:.1f} MB after warm-up, {end_mb:.1f} MB at the end, peak {peak_mb:.1f} MB",
          flush=True)
    for error, count in Counter(e[:160] for e in result["errors"]).most_common(5):
        print(f"    error x{count}: {error}", flush=True)
    return [
        Row(f"soak {SECONDS:.0f} s mixed traffic, req/s", "static Flask GET, same clients", floor_rate, rate,
            ">= 0.1", unit="/s"),
        Row("soak throughput, last window vs first", f"first {WINDOW:.0f} s after warm-up", first, last, ">= 0.7",
            unit="/s"),
        Row("soak worker RSS, end vs after warm-up", f"RSS at {WARMUP:.0f} s", start_mb, end_mb, "<= 1.2",
            unit="MB"),
        Row("soak errors (of the requests sent)", "requests sent", max(1, len(done)), len(result["errors"]), "<= 0",
            unit="req"),
    ]
