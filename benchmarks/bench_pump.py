"""The simulated pump, each figure against a floor measured in the same run:

* generation: values per second (8 variables a sample) of one pump at 1-second samples over 7 days,
  vectorised; the floor is the issue's goal, 1,000,000 values a second (a constant: there is no
  slower way worth measuring). Goal: >= 1.
* backfill: 7 days of 1-second samples of one pump (1.2 million records in two aspects) generated and
  stored by the feeder's own function (``feeder.write_frame``: the time series service's blocks), its rollups
  brought up to date after each hour as the feeder's backfill has them (``settle_tenant``), one transaction an
  hour, against raw SQLite ``executemany`` of the same rows (same JSON text, WAL, one transaction an hour) into
  a table with the same primary key, hour by hour in alternation. Goal (issue [performance]): >= 0.5.

``BENCH_PUMP_DAYS`` shortens the 7 days for a quick run.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from benchmarks.harness import Row
from emulator.app import init_state
from emulator.clock import Clock
from emulator.devices import feeder, fleet, model, sensors
from emulator.devices.simulation import PumpSimulation
from emulator.settings import Settings
from emulator.store import Store
from emulator.timeseries.settle import settle_tenant

DAYS = float(os.environ.get("BENCH_PUMP_DAYS", "7"))
START = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR = 3_600_000


def generation() -> Row:
    samples = int(DAYS * 86400)
    rates = []
    for round_ in range(3):
        sim = PumpSimulation("b" * 32, round_, cadence=1.0)  # fresh: no thermal block cached
        started = time.perf_counter()
        frame = sim.frame(START // 1000, START // 1000 + samples)
        rates.append(len(frame) * len(sensors.SENSORS) / (time.perf_counter() - started))
    ours = statistics.median(rates)
    print(f"  (generation: {ours / len(sensors.SENSORS):,.0f} samples/s of 8 values)", flush=True)
    return Row(f"pump generation, {DAYS:g} days of 1 s, values/s", "goal: 1,000,000 values/s", 1e6, ours, ">= 1",
               unit="/s")


def backfill(tmp: str) -> Row:
    settings = Settings(data_dir=tmp)
    store = Store(settings.effective_database_url)
    init_state(settings, store, Clock())
    fleet.ensure_default_pump(store, settings.tenant, 0, START / 1000)
    with store.transaction() as conn:
        (pump,) = model.simulated_pumps(conn)
    sim = pump.simulation(1.0)
    floor_sim = pump.simulation(1.0)
    db = sqlite3.connect(Path(tmp) / "floor.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE ts (tenant TEXT, asset TEXT, aspect TEXT, t INTEGER, body TEXT, "
               "PRIMARY KEY (asset, aspect, t))")
    ours = floor = 0.0
    records = 0
    for hour in range(int(DAYS * 24)):
        after, upto = START + hour * HOUR, START + (hour + 1) * HOUR
        frame = floor_sim.window(after, upto)  # the floor's rows, made outside its timing
        rows = [(settings.tenant, pump.asset_id, aspect, int(t), orjson.dumps(r).decode())
                for aspect in sensors.ASPECTS for t, r in zip(frame.times, frame.records(aspect), strict=True)]
        started = time.perf_counter()
        db.execute("BEGIN")
        db.executemany("INSERT INTO ts VALUES (?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        floor += time.perf_counter() - started
        started = time.perf_counter()
        records += feeder.write_frame(store, pump, sim.window(after, upto), upto)
        settle_tenant(store, settings.tenant)  # the rollups take the hour in, as the feeder has them do
        ours += time.perf_counter() - started
    db.close()
    store.dispose()
    print(f"  (backfill: {records:,} records in {ours:.1f} s through the store, {floor:.1f} s raw)", flush=True)
    return Row(f"pump backfill, {DAYS:g} days of 1 s, records/s", "raw SQLite executemany", records / floor,
               records / ours, ">= 0.5", unit="/s")


def run() -> list[Row]:
    rows = [generation()]
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(backfill(tmp))
    return rows
