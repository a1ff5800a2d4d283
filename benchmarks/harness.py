"""Serving apps the same way (gunicorn, one gthread worker) and timing keep-alive requests.

The machines are shared and noisy, so figures are ratios: ours against a floor, measured in
alternating rounds in the same run, each round's time the median of its requests.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

from emulator.testing import wait_healthy


def installed_bytecode() -> None:
    """Compile the emulator's modules as installing its wheel does (pip writes their bytecode), so that a start
    timed here does not compile source that a user's start never compiles: this checkout is editable, and some
    machines (this one) set PYTHONDONTWRITEBYTECODE. The peers' start (moto's) reads the bytecode pip wrote."""
    import compileall

    import emulator

    compileall.compile_dir(os.path.dirname(emulator.__file__), quiet=1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict | None = None, threads: int = 8, workers: int = 1,
             worker_class: str = "gthread"):
    """``app_spec`` like ``benchmarks.apps:emulator_app()``; yields the base URL. ``worker_class``: gunicorn's
    ``-k`` (``benchmarks.apps.WaitressWorker`` is ``serve``'s own)."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-k", worker_class, "--threads", str(threads), "-w", str(workers),
           "-b", f"127.0.0.1:{port}", "--log-level", "warning", app_spec]
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"{app_spec} did not start") from None
                time.sleep(0.05)
        if "emulator" in app_spec:
            wait_healthy(url)
        yield url
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=15)


def timed_requests(url: str, method: str, path: str, n: int, headers: dict | None = None,
                   body: bytes | None = None) -> list[float]:
    """Seconds per request for n sequential requests on one keep-alive connection."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    times = []
    try:
        for _ in range(n):
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            resp.read()
            times.append(time.perf_counter() - start)
            if resp.status >= 400:
                raise RuntimeError(f"{method} {path} answered {resp.status}")
    finally:
        conn.close()
    return times


@dataclass
class Row:
    """One line of the report: ours against a floor measured in the same run; ``ratio`` = ours / floor.

    Times are given in seconds and shown in milliseconds (``unit="ms"``); rates (``unit="/s"``) are
    shown as they are, and their goal reads ``>= x``.
    """

    name: str
    floor_name: str
    floor: float
    ours: float
    goal: str  # "<= 1.5" or ">= 0.3"; with absolute, in the unit ("<= 5": at most 5 ms of ours)
    unit: str = "ms"
    absolute: bool = False  # the goal is on ours, not on the ratio (the issue set a time, not a ratio)
    peer_name: str = ""  # a comparable measurement in the same rounds, for scale (another path, the stack alone)
    peer: float | None = None

    @property
    def ratio(self) -> float:
        return self.ours / self.floor

    def shown(self, value: float) -> float:
        return value * 1e3 if self.unit == "ms" else value

    def met(self) -> bool:
        op, value = self.goal.split()
        measured = self.shown(self.ours) if self.absolute else self.ratio
        return measured <= float(value) if op == "<=" else measured >= float(value)


def compare(ours, floor, rounds: int = 7, peer=None):
    """Alternate rounds of the measurements (floor, peer, ours); the median of each. Two values, or three
    with a peer."""
    a, b, c = [], [], []
    for _ in range(rounds):
        b.append(floor())
        if peer is not None:
            c.append(peer())
        a.append(ours())
    if peer is None:
        return statistics.median(a), statistics.median(b)
    return statistics.median(a), statistics.median(b), statistics.median(c)


def print_table(rows: list[Row]) -> None:
    head = (f"{'benchmark':46} {'floor':30} {'floor':>11} {'peer':>11} {'ours':>11} {'unit':>4} {'ratio':>7} "
            f"{'goal':>7}  met")
    print(head)
    print("-" * len(head))
    for r in rows:
        peer = f"{r.shown(r.peer):11.3f}" if r.peer is not None else f"{'-':>11}"
        print(f"{r.name:46} {r.floor_name:30} {r.shown(r.floor):11.3f} {peer} {r.shown(r.ours):11.3f} {r.unit:>4} "
              f"{r.ratio:7.2f} {r.goal + (r.unit if r.absolute else ''):>7}  {'yes' if r.met() else 'NO'}")
    peers = [r for r in rows if r.peer is not None]
    if peers:
        print("\npeers: " + "; ".join(f"{r.name}: {r.peer_name}" for r in peers))
