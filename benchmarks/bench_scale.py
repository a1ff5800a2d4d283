"""How cost grows with the store: the same requests against a store of 10,000 records and one of
``BENCH_SCALE_RECORDS`` (default 10,000,000), both served by ``serve`` (2 workers, a SQLite file):

* a 2000-record ``GET /timeseries`` (the newest 2000 records of one series);
* a one-record ``PUT /timeseries`` (a new record after the series' last, noted for its rollups).

Each row is the big store against the small one, measured in alternating rounds. Goal ([performance]): <= 1.2x,
the cost does not follow the size of the store. The records are spread over 10 pumps of one tenant and written
straight into the store's file (as the emulator stores them: the same key and JSON text), so that filling it
takes minutes, not the hour the HTTP path would; the model (types, assets) is made through the API. The pump that is
read and written has its rollups, as a store filled through PUT and read has.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import orjson
import requests

from benchmarks.bench_timeseries import VARIABLES, pump_assets, store_series
from benchmarks.harness import Row, compare, timed_requests
from emulator.settings import Settings
from emulator.testing import ServerProcess, fetch_token
from emulator.times import iso
from emulator.timeseries import blocks

BIG = int(os.environ.get("BENCH_SCALE_RECORDS", "10000000"))
SMALL = 10_000
PUMPS = 10
START = 1609459200000  # 2021-01-01T00:00:00Z: 10 M records of 10 pumps at 1 s reach into 2021-01-12


def _serve(data_dir: str) -> ServerProcess:
    return ServerProcess("--port", "0", "--workers", "2", "--data-dir", data_dir).start()


def spread(records: int) -> list[int]:
    """Records per pump: the first (the one read) holds at least 2,500, the others share the rest."""
    first = max(records // PUMPS, 2500)
    rest = (records - first) // (PUMPS - 1)
    return [first] + [rest] * (PUMPS - 1)


def _fill(data_dir: str, tenant: str, pumps: list[str], records: int) -> None:
    """``records`` records at 1 s, spread over the pumps (``spread``). The first pump's, which the rows read and
    write, are stored through the service as a PUT stores them, their rollups too (brought up to date as a reader
    has them); the others' are written straight into the store's table in its form (time blocks), to make the
    store big in a minute."""
    first, *others = zip(pumps, spread(records), strict=True)
    store_series(f"sqlite:///{Path(data_dir) / 'emulator.sqlite3'}", tenant, first[0], START, first[1])
    db = sqlite3.connect(Path(data_dir) / "emulator.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for asset, per_pump in others:
        for first_record in range(0, per_pump, 100_000):
            pairs = []
            for i in range(first_record, min(first_record + 100_000, per_pump)):
                t = START + (i + 1) * 1000
                pairs.append((t, orjson.dumps(
                    {"_time": iso(t), **{v: (i % 97) + k * 0.5 + 0.25 for k, v in enumerate(VARIABLES)}}).decode()))
            db.execute("BEGIN")
            db.executemany("INSERT INTO ts_blocks (tenant_id, asset_id, aspect, t_first, t_last, n, times, ends, body) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(tenant, asset, "PumpData", *block) for block in blocks.encode(pairs)])
            db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


class Store:
    """A served store of ``records`` records; its first pump is the one read and written."""

    def __init__(self, tmp: str, records: int):
        self.dir = tempfile.mkdtemp(dir=tmp)
        settings = Settings()
        server = _serve(self.dir)
        self.headers = {"Authorization": "Bearer " + fetch_token(server.url, settings.client_id,
                                                                 settings.client_secret)}
        pumps = pump_assets(server.url, self.headers["Authorization"].split()[1], settings.tenant, PUMPS)
        server.stop()
        started = time.perf_counter()
        _fill(self.dir, settings.tenant, pumps, records)
        print(f"  (scale: {records:,} records stored in {time.perf_counter() - started:.0f} s)", flush=True)
        self.server = _serve(self.dir)
        self.url = self.server.url
        last = START + spread(records)[0] * 1000
        self.read = (f"/api/iottimeseries/v3/timeseries/{pumps[0]}/PumpData?from={iso(last - 2000 * 1000)}"
                     f"&to={iso(last)}&limit=2000")
        self.write_path = f"/api/iottimeseries/v3/timeseries/{pumps[0]}/PumpData"
        self.next_t = last + 1000
        body = requests.get(self.url + self.read, headers=self.headers, timeout=60).json()
        assert len(body) == 2000, len(body)

    def get(self) -> float:
        return statistics.median(timed_requests(self.url, "GET", self.read, 30, self.headers))

    def put(self) -> float:
        times = []
        for _ in range(30):
            body = orjson.dumps([{"_time": iso(self.next_t), **{v: 1.5 for v in VARIABLES}}])
            self.next_t += 1000
            times += timed_requests(self.url, "PUT", self.write_path, 1,
                                    {**self.headers, "Content-Type": "application/json"}, body)
        return statistics.median(times)

    def close(self) -> None:
        self.server.stop()


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Store(tmp, SMALL), Store(tmp, BIG)
        try:
            for store in (small, big):
                store.get(), store.put()  # warm
            get_big, get_small = compare(big.get, small.get, rounds=5)
            put_big, put_small = compare(big.put, small.put, rounds=5)
        finally:
            small.close()
            big.close()
    label = f"{BIG / 1e6:g} M" if BIG >= 1_000_000 else f"{BIG:,}"
    return [Row(f"GET 2000 records, store of {label} records", f"store of {SMALL:,} records", get_small, get_big,
                "<= 1.2"),
            Row(f"PUT 1 record, store of {label} records", f"store of {SMALL:,} records", put_small, put_big,
                "<= 1.2")]
