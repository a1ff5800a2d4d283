"""The control plane's costs, each against a floor measured in the same run:

* the request chain with 50 fault rules that match nothing, against no rules (authenticated
  ``GET /assets/root``). Goal (issue [control]): <= 1.1x.
* a tenant reset with 100 assets and 100,000 time series points, against raw SQLite deleting the
  same tenant's rows from a copy of the same database file.
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import insert

from benchmarks.bench_timeseries import VARIABLES, setup_model
from benchmarks.harness import Row, compare, gunicorn, timed_requests
from emulator.assets.models import assets
from emulator.settings import Settings
from emulator.store import Store, TenantScope
from emulator.times import iso
from emulator.timeseries import service
from emulator.timeseries.settle import settle_tenant

N = 300
START = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def chain_cost(url: str, token: str) -> Row:
    headers = {"Authorization": "Bearer " + token}
    path = "/api/assetmanagement/v3/assets/root"
    admin = requests.Session()

    def with_rules():
        if not admin.get(url + "/_emulator/faults").json()["faults"]:
            for i in range(50):
                admin.post(url + "/_emulator/faults", json={"match": {"path": f"/nothing/{i}/*"},
                                                            "effect": {"status": 500}}).raise_for_status()
        return statistics.median(timed_requests(url, "GET", path, N, headers))

    def without():
        admin.delete(url + "/_emulator/faults")
        return statistics.median(timed_requests(url, "GET", path, N, headers))

    timed_requests(url, "GET", path, 50, headers)
    ours, floor = compare(with_rules, without)
    admin.delete(url + "/_emulator/faults")
    return Row("chain with 50 non-matching fault rules", "no rules", floor, ours, "<= 1.1")


def noisy_neighbours(url: str, token: str) -> Row:
    """A tenant's requests while other tenants hold 2000 idle fault rules and keep adding and removing one
    ([trust] item 10: every change made every worker reload every rule), against no rules at all."""
    headers = {"Authorization": "Bearer " + token}
    path = "/api/assetmanagement/v3/assets/root"
    admin = requests.Session()
    loaded = []

    def churned():
        if not loaded:
            for i in range(2000):
                admin.post(url + "/_emulator/faults", json={"match": {"tenant": f"other{i % 40}"},
                                                            "effect": {"status": 500}}).raise_for_status()
            loaded.append(True)
        times = []
        for i in range(N // 10):
            rule = admin.post(url + "/_emulator/faults", json={"match": {"tenant": f"other{i % 40}"},
                                                               "effect": {"status": 503}}).json()
            times += timed_requests(url, "GET", path, 5, headers)
            admin.delete(url + f"/_emulator/faults/{rule['id']}")
            times += timed_requests(url, "GET", path, 5, headers)
        return statistics.median(times)

    def quiet():
        return statistics.median(timed_requests(url, "GET", path, N, headers))

    timed_requests(url, "GET", path, 50, headers)
    ours, floor = compare(churned, quiet, rounds=3)
    admin.delete(url + "/_emulator/faults")
    return Row("a tenant's GET while others churn 2000 rules", "no rules", floor, ours, "<= 1.5")


def reset_cost(tmp: str, url: str, token: str, settings: Settings) -> Row:
    asset = setup_model(url, token, settings.tenant)
    store = Store(settings.effective_database_url)
    with store.transaction(write=True) as conn:
        root = requests.get(url + "/api/assetmanagement/v3/assets/root",
                            headers={"Authorization": "Bearer " + token}, timeout=30).json()["assetId"]
        conn.execute(insert(assets), [{"asset_id": f"{i:032x}", "tenant_id": settings.tenant, "name": f"A{i}",
                                       "external_id": None, "description": None, "parent_id": root,
                                       "type_id": "core.basicasset", "timezone": "Europe/Berlin",
                                       "twin_type": "performance", "location": None, "variables": [], "aspects": [],
                                       "etag": 0, "created_at": 0.0} for i in range(99)])
    for hour in range(28):  # 100,000 points: 28 hours of 1 s records (the last hour partly)
        with store.transaction(write=True) as conn:
            scope = TenantScope(conn, settings.tenant)
            schema = service.aspect_schema(scope, asset, "PumpData")
            records = [{"_time": iso(START + (hour * 3600 + s) * 1000),
                        **{v: s % 50 + k for k, v in enumerate(VARIABLES)}}
                       for s in range(min(3600, 100_000 - hour * 3600))]
            service.write(scope, asset, schema, records)
    settle_tenant(store, settings.tenant)  # the rollups as a reader leaves them
    store.dispose()
    copy = Path(tmp) / "copy.sqlite3"
    source = Path(settings.effective_database_url.removeprefix("sqlite:///"))
    shutil.copy(source, copy)
    for suffix in ("-wal", "-shm"):
        if Path(str(source) + suffix).exists():
            shutil.copy(str(source) + suffix, str(copy) + suffix)
    db = sqlite3.connect(copy, isolation_level=None)
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    for table in ("ts_pending", "ts_rollups", "ts_blocks", "assets", "asset_types", "aspect_types"):
        db.execute(f"DELETE FROM {table} WHERE tenant_id = ?", (settings.tenant,))  # noqa: S608 - fixed names
    db.execute("COMMIT")
    floor = time.perf_counter() - started
    db.close()
    started = time.perf_counter()
    requests.post(url + "/_emulator/reset", json={"tenant": settings.tenant}, timeout=300).raise_for_status()
    ours = time.perf_counter() - started
    return Row("tenant reset, 100 assets + 100,000 points", "raw SQLite DELETE of the rows", floor, ours, "<= 3")


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp)
        with gunicorn("benchmarks.apps:emulator_app()", {"MDSP_EMU_DATA_DIR": tmp}) as url:
            token = requests.post(url + "/oauth/token", data={"grant_type": "client_credentials"},
                                  auth=(settings.client_id, settings.client_secret), timeout=30).json()["access_token"]
            return [chain_cost(url, token), noisy_neighbours(url, token), reset_cost(tmp, url, token, settings)]
