"""Durability: with a file database, every acknowledged write survives ``kill -9`` of the server."""

from __future__ import annotations

import threading
import time

import requests
from ts_support import TS, make_pump

from emulator.testing import ApiSession, ServerProcess, fetch_token

ASSETS = "/api/assetmanagement/v3/assets"


def test_acknowledged_writes_survive_kill_9(tmp_path):
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path), "--workers", "2") as srv:
        token = fetch_token(srv.url, "emutenant-client", "emulator-secret")
        with ApiSession(srv.url, token) as api:
            root = api.get(f"{ASSETS}/root").json()["assetId"]
            asset = make_pump(api, {"name": "emutenant", "rootAssetId": root})
        acknowledged: list[tuple[str, object]] = []
        stop = threading.Event()

        def writer(worker: int):
            session = requests.Session()
            session.headers["Authorization"] = "Bearer " + token
            i = 0
            while not stop.is_set():
                i += 1
                stamp = f"2026-03-01T00:00:{worker:02d}.{i:03d}Z" if i < 1000 else None
                try:
                    if stamp and i % 5:
                        record = {"_time": stamp, "count": i, "status": f"w{worker}", "temperature": i / 2}
                        resp = session.put(f"{srv.url}{TS}/{asset}/Sensors", json=[record], timeout=10)
                        if resp.status_code == 204:
                            acknowledged.append(("record", record))
                    else:
                        body = {"name": f"w{worker}-{i}", "typeId": "core.basicasset", "parentId": root}
                        resp = session.post(srv.url + ASSETS, json=body, timeout=10)
                        if resp.status_code == 201:
                            acknowledged.append(("asset", resp.json()["assetId"]))
                except requests.RequestException:
                    return  # the server is gone

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        srv.kill()  # SIGKILL to the whole process group, mid-write
        stop.set()
        for t in threads:
            t.join(timeout=15)
    assert len(acknowledged) > 20, "the writers should have got some writes in"
    with ServerProcess("--port", "0", "--data-dir", str(tmp_path)) as srv, \
            ApiSession(srv.url, fetch_token(srv.url, "emutenant-client", "emulator-secret")) as api:
        stored = api.get(f"{TS}/{asset}/Sensors", params={"from": "2026-02-28T00:00:00Z",
                                                           "to": "2026-03-02T00:00:00Z"}).json()
        by_time = {r["_time"]: r for r in stored}
        for kind, item in acknowledged:
            if kind == "record":
                assert by_time.get(item["_time"]) == item, f"lost or torn: {item}"  # whole, as written
            else:
                assert api.get(f"{ASSETS}/{item}").status_code == 200, f"lost asset {item}"
