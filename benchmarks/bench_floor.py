"""The [performance] issue's table, each row against its floor or peer measured in the same run:

* throughput under load (``wrk -t2 -c8``): ``serve`` with 2 workers against a static Flask app answering the same
  bytes, served by gunicorn with the same worker class, workers and threads. Rows: an authenticated
  ``GET /assets/root`` (goal >= 0.67) and a 2000-record ``GET /timeseries`` (goal >= 0.33); the ratio is
  ours / floor in requests per second;
* a per-test tenant over HTTP (create with its client, token, delete) against moto's ``/moto-api/reset`` on
  ``moto_server`` (the peer Python developers know; it resets shared state and isolates nothing). Goal: <= 3 ms,
  on ours;
* start to first healthy answer: ``serve --no-pump`` against ``moto_server``. Goal: <= 0.3 s, on ours. The peer
  column: the same start of the emulator's dependencies alone, one route and one table (``stack_floor.py``).

wrk comes from Debian (``apt-get install wrk``) and moto from ``make bench``'s own virtualenv of peers
(``.venv-peers``): the peer's dependencies stay out of the emulator's environment. A missing tool skips its
rows with a line saying so rather than printing a figure without its floor.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import requests

from benchmarks import stack_floor
from benchmarks.bench_timeseries import VARIABLES, pump_assets
from benchmarks.harness import Row, compare, free_port, gunicorn, installed_bytecode
from emulator.pytest_plugin import MindSphere
from emulator.settings import Settings
from emulator.testing import ServerProcess, fetch_token
from emulator.times import iso

PEERS = Path(os.environ.get("BENCH_PEERS_VENV", ".venv-peers"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "4"))
START = 1767225600000  # 2026-01-01T00:00:00Z


def wrk(url: str, path: str, headers: dict) -> float:
    """Requests per second of ``wrk -t2 -c8`` for WRK_SECONDS; any non-2xx answer fails the benchmark."""
    cmd = ["wrk", "-t2", "-c8", f"-d{WRK_SECONDS}s", "--latency"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run([*cmd, url + path], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{path}: answers that were not 2xx:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def _serve(data_dir: str) -> ServerProcess:
    return ServerProcess("--port", "0", "--workers", "2", "--data-dir", data_dir).start()


def _model(url: str, headers: dict, tenant: str) -> str:
    """A pump (bench_timeseries' model) holding 3000 records at 1 s; its id."""
    asset = pump_assets(url, headers["Authorization"].split()[1], tenant, 1)[0]
    s = requests.Session()
    s.headers.update(headers)
    for k in range(3):
        records = [{"_time": iso(START + (k * 1000 + i + 1) * 1000),
                    **{v: (k * 1000 + i) % 97 + j * 0.5 + 0.25 for j, v in enumerate(VARIABLES)}} for i in range(1000)]
        s.put(f"{url}/api/iottimeseries/v3/timeseries/{asset}/PumpData", json=records).raise_for_status()
    return asset


def throughput(tmp: str) -> list[Row]:
    server = _serve(tmp)
    try:
        settings = Settings()
        headers = {"Authorization": "Bearer " + fetch_token(server.url, settings.client_id, settings.client_secret)}
        asset = _model(server.url, headers, settings.tenant)
        paths = {"root": "/api/assetmanagement/v3/assets/root",
                 "ts": (f"/api/iottimeseries/v3/timeseries/{asset}/PumpData?from={iso(START)}"
                        f"&to={iso(START + 3_000_000)}&limit=2000")}
        bodies = {}
        for name, path in paths.items():
            resp = requests.get(server.url + path, headers=headers, timeout=30)
            resp.raise_for_status()
            bodies[name] = resp.content
        assert len(orjson.loads(bodies["ts"])) == 2000
        rows = []
        for name, goal, label in (("root", ">= 0.67", "GET /assets/root, wrk -t2 -c8, req/s"),
                                  ("ts", ">= 0.33", "GET /timeseries 2000 records, wrk, req/s")):
            static = Path(tmp) / f"{name}.json"
            static.write_bytes(bodies[name])
            with gunicorn("benchmarks.apps:static_app()", {"BENCH_STATIC_BODY": str(static)}, workers=2,
                          worker_class="benchmarks.apps.WaitressWorker") as floor_url:
                wrk(floor_url, paths[name], headers)  # warm both
                wrk(server.url, paths[name], headers)
                ours, floor = compare(lambda p=paths[name]: wrk(server.url, p, headers),
                                      lambda p=paths[name]: wrk(floor_url, p, headers), rounds=3)
            rows.append(Row(label, f"static Flask, same bytes ({len(bodies[name]) // 1024} KB)", floor, ours, goal,
                            unit="/s"))
        return rows
    finally:
        server.stop()


def per_test_tenant(tmp: str, moto: Path | None) -> list[Row]:
    """The plugin's ``mindsphere_tenant`` + ``mindsphere_client`` against a live ``serve``: a tenant with its
    client, a token, and the tenant's deletion, through the plugin's own classes, as its fixtures call them (the
    tenant is released after its test and deleted with the next one's creation: each round times a creation with
    its predecessor's deletion)."""
    server = _serve(tmp)
    emulator = MindSphere(server.url)
    n = 60

    def ours() -> float:
        times = []
        for _ in range(n):
            start = time.perf_counter()
            tenant = emulator.new_tenant()
            tenant.token()
            tenant.release()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    try:
        if moto is None:
            ours()
            value = ours()
            return [Row("per-test tenant: create, token, delete", "moto reset (not installed)", value, value,
                        "<= 3", absolute=True)]
        with MotoServer(moto) as peer_url:
            peer = requests.Session()

            def reset() -> float:
                times = []
                for _ in range(n):
                    start = time.perf_counter()
                    peer.post(peer_url + "/moto-api/reset").raise_for_status()
                    times.append(time.perf_counter() - start)
                return statistics.median(times)

            ours(), reset()
            value, floor = compare(ours, reset, rounds=5)
            peer.close()
        return [Row("per-test tenant: create, token, delete", "moto_server /moto-api/reset", floor, value,
                    "<= 3", absolute=True)]
    finally:
        emulator.close()
        server.stop()


def _moto_binary() -> Path | None:
    binary = PEERS / "bin" / "moto_server"
    return binary if binary.exists() else None


class MotoServer:
    """``moto_server`` on a free port; ``startup`` is its time from exec to the first answer."""

    def __init__(self, binary: Path):
        self.binary = binary
        self.startup = 0.0

    def __enter__(self) -> str:
        port = free_port()
        started = time.perf_counter()
        self.proc = subprocess.Popen([str(self.binary), "-p", str(port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        _poll(port, b"GET /moto-api/data.json HTTP/1.1", self.proc)
        self.startup = time.perf_counter() - started
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        os.killpg(self.proc.pid, 15)
        self.proc.wait(timeout=15)


def _poll(port: int, request_line: bytes, proc: subprocess.Popen) -> None:
    """Until ``request_line`` is answered 200 (a raw socket: a client library's import would be timed too)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"the server on port {port} did not answer")
        time.sleep(0.005)


def _health_startup(command) -> float:
    """``command(port, data_dir)`` run on a fresh data directory, from exec to the first 200 of the health route."""
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(command(port, data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            _poll(port, b"GET /_emulator/health HTTP/1.1", proc)
            return time.perf_counter() - started
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=15)


def _serve_startup() -> float:
    """``serve --no-pump``."""
    return _health_startup(lambda port, data: [sys.executable, "-m", "emulator.cli", "serve", "--no-pump", "--port",
                                               str(port), "--data-dir", data])


def _stack_startup() -> float:
    """:mod:`benchmarks.stack_floor`'s ``serve``: the emulator's dependencies alone, started as ``serve`` starts."""
    return _health_startup(lambda port, data: [sys.executable, stack_floor.__file__, "serve", str(port), data])


def _moto_startup(binary: Path) -> float:
    server = MotoServer(binary)
    with server:
        pass
    return server.startup


def startup(moto: Path | None) -> list[Row]:
    """``serve``'s start against moto's (the issue's floor) and, as the peer, the start of the emulator's own stack
    with none of its code (:mod:`benchmarks.stack_floor`): what no change of the emulator's can go below."""
    label = "start to first healthy answer (serve --no-pump)"
    stack = "its stack alone (stack_floor.py serve)"
    installed_bytecode()
    if moto is None:
        value, floor = compare(_serve_startup, _stack_startup, rounds=5)
        return [Row(label, "its stack alone (no moto_server)", floor, value, "<= 300", absolute=True)]
    value, floor, peer = compare(_serve_startup, lambda: _moto_startup(moto), rounds=5, peer=_stack_startup)
    return [Row(label, "moto_server, exec to first answer", floor, value, "<= 300", absolute=True,
                peer_name=stack, peer=peer)]


def run() -> list[Row]:
    if shutil.which("wrk") is None:
        print("  bench_floor: wrk is not installed (apt-get install wrk): its throughput rows are left out",
              flush=True)
    moto = _moto_binary()
    if moto is None:
        print(f"  bench_floor: no moto_server in {PEERS} (make bench installs it): its peers are left out", flush=True)
    rows = []
    if shutil.which("wrk"):
        with tempfile.TemporaryDirectory() as tmp:
            rows += throughput(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        rows += per_test_tenant(tmp, moto)
    rows += startup(moto)
    return rows
