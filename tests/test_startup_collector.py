"""A start makes what lives as long as the process with the garbage collector paused (emulator.collector), and
hands the collector back as it found it.

Each case runs in a fresh interpreter, as a user's start does: the emulator's stack imported for the first time,
its app made, the collector's passes counted by ``gc.callbacks``. Without the pause, making the in-thread server
ran about 50 collections (about 200 with its stack's first imports, a tenth of its start) and freed nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_COUNTED = """
import gc, json, sys
passes = []
gc.callbacks.append(lambda phase, info: phase == "start" and passes.append(info["generation"]))
if {disabled}:
    gc.disable()
{work}
print(json.dumps({{"passes": len(passes), "enabled": gc.isenabled(),
                  "young": len(gc.get_objects(0)) + len(gc.get_objects(1))}}))
"""

_IN_THREAD = """
from emulator.settings import Settings
from emulator.testing import LiveServer
passes.clear()  # from here: the server's making (its stack imported meanwhile)
server = LiveServer(Settings(database_url="sqlite://", pump=False))
"""

_PLUGIN = """
import pytest
import emulator.pytest_plugin as plugin  # pytest imports its plugins at its start
passes.clear()  # from here: what the session fixture does (its stack imported meanwhile)
server = plugin.in_thread()
"""

_LIVE = """
import requests
from emulator.settings import Settings
from emulator.testing import LiveServer
passes.clear()
server = LiveServer(Settings(database_url="sqlite://", pump=False))
made = len(passes)
with server:
    for _ in range(3000):  # the collector works again for what is made after the start
        requests.get(server.url + "/_emulator/health", timeout=10).raise_for_status()
print(json.dumps({"made": made, "after": len(passes) - made}))
"""


def _run(script: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("work", [_IN_THREAD, _PLUGIN], ids=["live-server", "plugin-fixture"])
@pytest.mark.parametrize("disabled", [False, True], ids=["collector-on", "collector-off"])
def test_the_in_thread_server_is_made_without_a_collection_and_the_collector_is_handed_back(disabled, work):
    found = _run(_COUNTED.format(disabled=disabled, work=work))
    assert found["enabled"] is not disabled
    assert found["passes"] == 0  # where the making ran about 50 (with the stack's imports, about 200)
    if not disabled:
        # what it made waits in the oldest generation, not in the young ones, whose next pass would walk it all
        # (about 130,000 objects: 46 ms, then as much again in the middle generation's)
        assert found["young"] < 5000, found


def test_the_in_thread_servers_requests_are_collected_as_usual():
    script = "import gc, json\npasses = []\n" \
             "gc.callbacks.append(lambda phase, info: phase == 'start' and passes.append(1))\n" + _LIVE
    found = _run(script)
    assert found["made"] == 0
    assert found["after"] > 0  # resumed: 3000 requests allocate far past a collection's threshold
