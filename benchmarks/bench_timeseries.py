"""IoT Time Series and aggregates, each as a ratio against a floor measured in the same run:

* ingest: records per second through ``PUT /timeseries`` (batches of 1000 records x 5 variables, each after the
  last) against raw SQLite ``executemany`` of the same rows (same JSON text, WAL, one transaction per batch), in
  alternating rounds (the median of each). Goal (issue [performance]): >= 0.5.
* a 2000-record ``GET`` against a static Flask response of the same bytes. Goal: <= 3x.
* eight writers at once, each putting 1000-record batches through ``serve --workers 2``: the slowest 1% of the
  writes against the median write. Goal: <= 5 (writers take turns, so that none waits much longer than the others
  do; SQLite's busy handler, which sleeps up to 100 ms between tries, let one wait 50-100 times the median).
* day aggregates over 30 days of 1-second data (2.6 million records x 5 variables) against the same
  query over 1 day. Goal ([performance]): <= 1.5x (the cost follows the intervals, not the points).
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

from benchmarks.harness import Row, compare, gunicorn, timed_requests
from emulator.app import init_state
from emulator.clock import Clock
from emulator.settings import Settings
from emulator.store import Store, TenantScope
from emulator.testing import ServerProcess, fetch_token
from emulator.times import iso
from emulator.timeseries import service
from emulator.timeseries.settle import settle_tenant

VARIABLES = ["flow", "current", "pressureIn", "pressureOut", "temperature"]
BATCH = 1000
BATCHES = int(os.environ.get("BENCH_TS_BATCHES", "15"))  # per round of the ingest
ROUNDS = int(os.environ.get("BENCH_TS_ROUNDS", "5"))
SERVES = "benchmarks.apps.WaitressWorker"  # serve's own worker: the emulator as users run it, the floor the same
DAYS = int(os.environ.get("BENCH_TS_DAYS", "30"))
START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)


def batch(first_second: int) -> list[dict]:
    return [{"_time": iso(START + (first_second + i) * 1000), **{v: (first_second + i) % 97 + k * 0.5
                                                                 for k, v in enumerate(VARIABLES)}}
            for i in range(BATCH)]


def pump_assets(api_url: str, token: str, tenant: str, count: int) -> list[str]:
    """The benchmarks' model through the API: a pump type with a 5-DOUBLE aspect, and ``count`` pumps; their ids."""
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + token
    b = api_url + "/api/assetmanagement/v3"
    s.put(f"{b}/aspecttypes/{tenant}.PumpData", json={"name": "PumpData", "category": "dynamic", "variables": [
        {"name": v, "dataType": "DOUBLE"} for v in VARIABLES]}).raise_for_status()
    s.put(f"{b}/assettypes/{tenant}.Pump", json={"name": "Pump", "parentTypeId": "core.basicasset", "aspects": [
        {"name": "PumpData", "aspectTypeId": f"{tenant}.PumpData"}]}).raise_for_status()
    root = s.get(f"{b}/assets/root").json()["assetId"]
    made = []
    for i in range(count):
        resp = s.post(f"{b}/assets", json={"name": f"P{i}", "typeId": f"{tenant}.Pump", "parentId": root})
        resp.raise_for_status()
        made.append(resp.json()["assetId"])
    return made


def setup_model(api_url: str, token: str, tenant: str) -> str:
    return pump_assets(api_url, token, tenant, 1)[0]


class RawSQLite:
    """The floor: the same records as rows of one SQLite table (same JSON text, same key, WAL), one transaction
    per batch; each call appends the next batches, as the emulator's rounds do."""

    def __init__(self, tmp: str):
        self.db = sqlite3.connect(Path(tmp) / "floor.sqlite3", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE ts (asset TEXT, aspect TEXT, t INTEGER, body TEXT, "
                        "PRIMARY KEY (asset, aspect, t))")

    def rate(self, bodies: list[list[tuple]]) -> float:
        start = time.perf_counter()
        for rows in bodies:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT INTO ts VALUES (?, ?, ?, ?)", rows)
            self.db.execute("COMMIT")
        return len(bodies) * BATCH / (time.perf_counter() - start)

    def close(self) -> None:
        self.db.close()


def ingest_and_read(tmp: str) -> list[Row]:
    """Ingest: ``ROUNDS`` rounds of ``BATCHES`` batches each, alternating with the floor's (after one round of each
    to warm up), each round appending the next batches; the median round of each. Then the 2000-record read."""
    settings = Settings(data_dir=tmp)
    with gunicorn("benchmarks.apps:emulator_app()", {"MDSP_EMU_DATA_DIR": tmp}, worker_class=SERVES) as url:
        token = fetch_token(url, settings.client_id, settings.client_secret)
        asset = setup_model(url, token, settings.tenant)
        path = f"/api/iottimeseries/v3/timeseries/{asset}/PumpData"
        headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        # a lean client, as wrk is for the reads: requests' own work per call (1.6 ms of CPU for a 150 KB body here)
        # would be timed as the emulator's
        connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=120)
        raw = RawSQLite(tmp)
        rounds = {"ours": itertools.count(), "floor": itertools.count()}

        def firsts(side: str) -> list[int]:
            return [next(rounds[side]) * BATCH for _ in range(BATCHES)]

        def ours() -> float:
            payloads = [json.dumps(batch(first)).encode() for first in firsts("ours")]
            start = time.perf_counter()
            for payload in payloads:
                connection.request("PUT", path, body=payload, headers=headers)
                answer = connection.getresponse()
                answer.read()
                if answer.status != 204:
                    raise RuntimeError(f"PUT {path}: {answer.status}")
            return BATCHES * BATCH / (time.perf_counter() - start)

        def floor() -> float:
            return raw.rate([[(asset, "PumpData", START + (first + j) * 1000, json.dumps(r))
                              for j, r in enumerate(batch(first))] for first in firsts("floor")])

        ours(), floor()  # warm up
        ingest, ingest_floor = compare(ours, floor, rounds=ROUNDS)
        raw.close()
        connection.close()
        read = f"{path}?from={iso(START)}&to={iso(START + 10_000_000)}&limit=2000"
        body = requests.get(url + read, headers=headers, timeout=30)
        assert len(body.json()) == 2000, body.text[:200]
        static = Path(tmp) / "static.json"
        static.write_bytes(body.content)
        with gunicorn("benchmarks.apps:static_app()", {"BENCH_STATIC_BODY": str(static)},
                      worker_class=SERVES) as floor_url:
            timed_requests(url, "GET", read, 5, headers)
            timed_requests(floor_url, "GET", read, 5, headers)
            get_ours, get_floor = compare(
                lambda: statistics.median(timed_requests(url, "GET", read, 40, headers)),
                lambda: statistics.median(timed_requests(floor_url, "GET", read, 40, headers)))
    return [
        Row("PUT /timeseries ingest, records/s", "raw SQLite executemany", ingest_floor, ingest, ">= 0.5", unit="/s"),
        Row("GET /timeseries 2000 records", "static Flask, same bytes", get_floor, get_ours, "<= 3"),
    ]


def store_series(database_url: str, tenant: str, asset: str, start: int, seconds: int) -> None:
    """``seconds`` records of the benchmarks' pump data, one a second after ``start`` (epoch ms), stored through
    the service as a PUT stores them (the time blocks), an hour per transaction, and the rollups brought up to date
    at the end, as the first reader would: minutes for millions of records, where the HTTP path takes longer."""
    store = Store(database_url)
    hour = 3600
    try:
        for first in range(0, seconds, hour):
            with store.transaction(write=True) as conn:
                scope = TenantScope(conn, tenant)
                schema = service.aspect_schema(scope, asset, "PumpData")
                records = [{"_time": iso(start + i * 1000), **{v: i % 97 + k * 0.5 for k, v in enumerate(VARIABLES)}}
                           for i in range(first + 1, min(first + hour, seconds) + 1)]
                service.write(scope, asset, schema, records)
        settle_tenant(store, tenant)
    finally:
        store.dispose()


def aggregates(tmp: str) -> list[Row]:
    """30 days of 1-second data stored through the service (the path PUT takes), then day aggregates."""
    settings = Settings(data_dir=tmp)
    store = Store(settings.effective_database_url)
    init_state(settings, store, Clock())
    store.dispose()
    with gunicorn("benchmarks.apps:emulator_app()", {"MDSP_EMU_DATA_DIR": tmp}) as url:
        token = fetch_token(url, settings.client_id, settings.client_secret)
        asset = setup_model(url, token, settings.tenant)
    store_series(settings.effective_database_url, settings.tenant, asset, START, DAYS * 86_400)
    with gunicorn("benchmarks.apps:emulator_app()", {"MDSP_EMU_DATA_DIR": tmp}) as url:
        token = fetch_token(url, settings.client_id, settings.client_secret)
        headers = {"Authorization": "Bearer " + token}

        def query(days: int) -> str:
            return (f"/api/iottsaggregates/v4/aggregates?assetId={asset}&aspectName=PumpData&from={iso(START)}"
                    f"&to={iso(START + days * 86_400_000)}&intervalUnit=day&intervalValue=1")

        month = requests.get(url + query(DAYS), headers=headers, timeout=60).json()["aggregates"]
        assert len(month) >= DAYS, len(month)
        ours, floor = compare(lambda: statistics.median(timed_requests(url, "GET", query(DAYS), 30, headers)),
                              lambda: statistics.median(timed_requests(url, "GET", query(1), 30, headers)))
    return [Row(f"v4 day aggregates, {DAYS} days of 1 s data", "same query over 1 day", floor, ours, "<= 1.5")]


WRITERS = 8
WRITES = 25  # each writer's batches


def concurrent_writers(tmp: str) -> list[Row]:
    """Eight clients, each writing its own pump's series, all at once, through ``serve`` with two workers."""
    settings = Settings()
    with ServerProcess("--port", "0", "--workers", "2", "--no-pump", "--data-dir", tmp) as server:
        token = fetch_token(server.url, settings.client_id, settings.client_secret)
        assets = pump_assets(server.url, token, settings.tenant, WRITERS)
        payloads = [json.dumps(batch(i * BATCH)).encode() for i in range(WRITES)]
        latencies: list[float] = []

        def writer(asset: str) -> None:
            session = requests.Session()
            headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
            for payload in payloads:
                started = time.perf_counter()
                session.put(f"{server.url}/api/iottimeseries/v3/timeseries/{asset}/PumpData", data=payload,
                            headers=headers, timeout=120).raise_for_status()
                latencies.append(time.perf_counter() - started)

        threads = [threading.Thread(target=writer, args=(asset,)) for asset in assets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    latencies.sort()
    median, slowest = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    return [Row(f"PUT /timeseries, {WRITERS} writers at once: slowest 1%", "the median write", median, slowest,
                "<= 5")]


def run() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += ingest_and_read(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        rows += concurrent_writers(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        rows += aggregates(tmp)
        print(f"  (stored {DAYS} days of 1 s data in {time.perf_counter() - started:.0f} s)", flush=True)
    return rows
