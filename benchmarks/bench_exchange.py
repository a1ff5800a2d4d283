"""MindConnect exchange ingest against ``PUT /timeseries`` of the same records, in alternating rounds in one run:

* ours: records per second an agent posts through ``POST /api/mindconnect/v3/exchange`` (BulkPostData in the
  Node SDK's bytes: 1000 timestamps x 5 data points a request, string values, quality codes) into one asset;
* floor: records per second a tenant's client writes with ``PUT /timeseries`` (1000 records x 5 variables a
  request, the same values) into another asset of the same type.

Both end in the same ``timeseries.service.write``; the ratio is what the exchange adds (multipart parsing,
mapping, converting strings). Goal (issue [mindconnect], the emulator's choice): >= 0.5.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import time
from datetime import UTC, datetime

import requests

from benchmarks.harness import Row, compare, gunicorn
from emulator.agentclient import Agent, exchange_body
from emulator.settings import Settings
from emulator.times import iso

VARIABLES = ["flow", "current", "pressureIn", "pressureOut", "temperature"]
BATCH = 1000
BATCHES = int(os.environ.get("BENCH_EXCHANGE_BATCHES", "10"))  # per round (3 left the ratio to the machine: 0.42-0.55)
ROUNDS = int(os.environ.get("BENCH_EXCHANGE_ROUNDS", "5"))
START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)


def setup(url: str, token: str, tenant: str) -> tuple[str, str]:
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + token
    b = url + "/api/assetmanagement/v3"
    s.put(f"{b}/aspecttypes/{tenant}.PumpData", json={"name": "PumpData", "category": "dynamic", "variables": [
        {"name": v, "dataType": "DOUBLE", "qualityCode": True} for v in VARIABLES]}).raise_for_status()
    s.put(f"{b}/assettypes/{tenant}.Pump", json={"name": "Pump", "parentTypeId": "core.basicasset", "aspects": [
        {"name": "PumpData", "aspectTypeId": f"{tenant}.PumpData"}]}).raise_for_status()
    root = s.get(f"{b}/assets/root").json()["assetId"]
    made = []
    for name in ("via-exchange", "via-put"):
        resp = s.post(f"{b}/assets", json={"name": name, "typeId": f"{tenant}.Pump", "parentId": root})
        resp.raise_for_status()
        made.append(resp.json()["assetId"])
    return made[0], made[1]


def values(second: int) -> dict[str, float]:
    return {v: second % 97 + k * 0.5 for k, v in enumerate(VARIABLES)}


def ingest(tmp: str) -> list[Row]:
    settings = Settings(data_dir=tmp)
    with gunicorn("benchmarks.apps:emulator_app()", {"MDSP_EMU_DATA_DIR": tmp}) as url:
        token = requests.post(url + "/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(settings.client_id, settings.client_secret), timeout=30).json()["access_token"]
        via_exchange, via_put = setup(url, token, settings.tenant)
        agent = Agent.for_aspect(url, token, settings.tenant, via_exchange, "PumpData")
        put_path = f"{url}/api/iottimeseries/v3/timeseries/{via_put}/PumpData"
        put_headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        exchange_url = f"{url}/api/mindconnect/v3/exchange"
        session = requests.Session()
        batches = itertools.count()

        def put_bodies() -> list[bytes]:
            firsts = [next(batches) * BATCH for _ in range(BATCHES)]
            return [json.dumps([{"_time": iso(START + (f + i) * 1000), **values(f + i),
                                 **{f"{v}_qc": 0 for v in VARIABLES}} for i in range(BATCH)]).encode()
                    for f in firsts]

        def exchange_bodies() -> list[tuple[bytes, str]]:
            firsts = [next(batches) * BATCH for _ in range(BATCHES)]
            return [exchange_body([{"timestamp": iso(START + (f + i) * 1000), "values": [
                {"dataPointId": k, "value": repr(x), "qualityCode": "0"} for k, x in values(f + i).items()]}
                for i in range(BATCH)], agent.configuration_id) for f in firsts]

        def rate(send) -> float:
            start = time.perf_counter()
            send()
            return BATCHES * BATCH / (time.perf_counter() - start)

        def ours() -> float:
            posts = exchange_bodies()
            headers = agent.headers()

            def send():
                for body, content_type in posts:
                    resp = session.post(exchange_url, data=body, timeout=120,
                                        headers={**headers, "Content-Type": content_type})
                    resp.raise_for_status()
            return rate(send)

        def floor() -> float:
            puts = put_bodies()

            def send():
                for body in puts:
                    session.put(put_path, data=body, headers=put_headers, timeout=120).raise_for_status()
            return rate(send)

        ours(), floor()  # warm up
        mine, base = compare(ours, floor, rounds=ROUNDS)
    return [Row("exchange BulkPostData ingest, records/s", "PUT /timeseries, same records", base, mine, ">= 0.5",
                unit="/s")]


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        return ingest(tmp)
