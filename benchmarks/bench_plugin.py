"""The pytest plugin's cost per test: what ``mindsphere_tenant`` + ``mindsphere_client`` add to each test
(create a tenant with its client and root asset, fetch a token, delete the tenant with its data and
rules: released after its test, deleted with the next test's creation), against the emulator the plugin starts
(in a thread, in-memory store). Goal (issue [performance]): <= 3 ms per test, an absolute budget; the floor
column is one authenticated ``GET /assets/root`` on the same server, for scale. A second row: the plugin's session
fixture's start, in a fresh interpreter (import the emulator, start it in a thread, first healthy answer: the
plugin's ``in_thread``; pytest, imported before any fixture runs, is not timed). Goal: <= 0.3 s. Its floor: the
same start of the emulator's dependencies alone (``stack_floor.py thread``).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from benchmarks import stack_floor
from benchmarks.harness import Row, compare, installed_bytecode
from emulator.pytest_plugin import MindSphere
from emulator.settings import Settings
from emulator.testing import LiveServer

N = 40
# what the plugin's session fixture does first, in a fresh interpreter: import the emulator, start it in a thread
# (pytest and its plugins, this one among them, are imported when pytest starts, before any fixture: not timed)
_START = """
import time
import pytest
import emulator.pytest_plugin as plugin
started = time.perf_counter()
server = plugin.in_thread()
server.start()
print(time.perf_counter() - started)
server.stop()
"""


def _printed_seconds(*args: str) -> float:
    """The seconds a fresh interpreter running ``args`` printed last (it times itself)."""
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])


def _in_thread_start() -> float:
    installed_bytecode()
    return _printed_seconds("-c", _START)


def _stack_in_thread() -> float:
    """The same start of the emulator's dependencies alone, one route and one table (:mod:`benchmarks.stack_floor`):
    what no change of the emulator's can go below."""
    return _printed_seconds(stack_floor.__file__, "thread")


def run() -> list[Row]:
    with LiveServer(Settings(database_url="sqlite://", pump=False)) as live:
        emulator = MindSphere(live.url, server=live)
        probe = emulator.new_tenant()
        client = probe.session()

        def one_test() -> float:
            times = []
            for _ in range(N):
                start = time.perf_counter()
                tenant = emulator.new_tenant()
                with tenant.session():
                    pass
                tenant.release()
                times.append(time.perf_counter() - start)
            return statistics.median(times)

        def one_request() -> float:
            times = []
            for _ in range(N):
                start = time.perf_counter()
                client.get("/api/assetmanagement/v3/assets/root").raise_for_status()
                times.append(time.perf_counter() - start)
            return statistics.median(times)

        one_test(), one_request()  # warm up
        ours, floor = compare(one_test, one_request, rounds=5)
        client.close()
        probe.delete()
        emulator.close()
    start, stack = compare(_in_thread_start, _stack_in_thread, rounds=5)
    return [Row("pytest fixtures per test (tenant+token+delete)", "GET /assets/root, same server", floor, ours,
                "<= 3", absolute=True),
            Row("in-thread server: import, start, first healthy", "its stack alone (stack_floor.py)", stack, start,
                "<= 300", absolute=True)]
