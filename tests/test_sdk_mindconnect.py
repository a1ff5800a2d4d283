"""Siemens' Node SDK drives the device path end to end (``tests/sdk/mindconnect.mjs``): an agent created through
Agent Management, onboarded by ``MindConnectAgent`` (SHARED_SECRET, and RSA_3072 with a 3072-bit key), its data
source configured, its data points mapped (``PutDataMappings``; ``ConfigureAgentForAssetId``), ``PostData`` and
``BulkPostData`` through the exchange, the values read back through ``TimeSeriesClient`` and TS Aggregates v4, and
diagnostics of what was taken and refused. Without node or the npm packages the test skips locally but fails in
CI."""

from __future__ import annotations

import pytest

from tests.support import sdk

pytestmark = pytest.mark.node

SCRIPT = sdk.SDK_DIR / "mindconnect.mjs"
MINUTES = [f"2024-03-01T10:{m:02d}:00.000Z" for m in range(10)]


def run(tmp_path_factory, mode: str) -> dict:
    return sdk.run_on_fresh_emulator(tmp_path_factory, SCRIPT, mode, tail=4000)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> dict:
    return run(tmp_path_factory, "sharedSecret")


@pytest.fixture(scope="module")
def rsa(tmp_path_factory) -> dict:
    return run(tmp_path_factory, "rsa")


def assert_read_back(steps: dict) -> None:
    records = steps["records"]["records"]
    assert [r["_time"] for r in records] == MINUTES
    assert [r["Temperature"] for r in records] == [20 + m for m in range(10)]
    assert [r["Humidity"] for r in records] == [40 + m for m in range(10)]
    assert [r["Running"] for r in records] == [m % 2 == 0 for m in range(5)] + [True] * 5
    assert records[0]["Temperature_qc"] == 12189696 and {r["Pressure_qc"] for r in records[1:]} == {0}
    assert "Running_qc" not in records[0]  # Running has no quality code: the code sent is not stored
    assert steps["bulk"] == {"result": True}
    (bucket,) = steps["aggregates"]["aggregates"]
    temperature = bucket["Temperature"]  # (10:00, 10:10]: minutes 1..9
    assert (temperature["countgood"], temperature["minvalue"], temperature["maxvalue"]) == (9, 21, 29)


def test_a_shared_secret_agent_maps_and_posts_and_the_values_read_back(shared):
    assert shared["put"] == {"result": True, "again": True}  # the second PutDataMappings: 409s, ignored by the SDK
    assert shared["mappings"] == {"count": 4, "validity": ["VALID"] * 4,
                                  "qualityEnabled": [True, True, True, False]}
    assert_read_back(shared)


def test_diagnostics_show_the_dropped_and_the_taken_exchange(shared):
    """Siemens' diagnostic test, unchanged: its PostData of an unknown data point is taken (200), as a tenant takes
    it, and the value is dropped and reported in the diagnostics."""
    assert shared["activation"]["status"] == "ACTIVE"
    assert shared["unknown"]["rejected"] is False
    messages = shared["diagnostics"]["messages"]
    dropped = [m for m in messages if m["state"] == "DROPPED"]
    assert [(m["severity"], "Unexistent" in m["message"]) for m in dropped] == [("WARN", True)]
    taken = messages[-1]
    assert (taken["severity"], taken["state"]) == ("INFO", "FINISHED")
    assert "<1> samplings and <4> properties" in taken["message"]
    assert shared["activationsAfter"] == {"count": 0}  # deleted by the agent's id, as Siemens' test does


def test_the_agent_token_reads_assets_but_not_time_series(shared):
    assert shared["agentAssets"]["count"] >= 3
    refused = shared["agentTimeSeries"]
    assert refused["rejected"] and "FORBIDDEN" in refused["message"] and "iot.tim.r" in refused["message"]
    assert shared["deleteAll"] == {"before": 4, "after": 0}


def test_the_agent_posts_events_and_uploads_files_with_its_token(shared):
    assert shared["event"] == {"result": True} and shared["events"] == {"descriptions": ["from the agent"]}
    assert shared["upload"]["md5"] and shared["download"] == {"text": "hello agent"}


def test_an_rsa_agent_configures_itself_for_an_asset_and_posts(rsa):
    assert rsa["mappings"] == {"count": 4, "keep": True,
                               "points": ["DP-Humidity", "DP-Pressure", "DP-Running", "DP-Temperature"]}
    assert rsa["configuration"]["configurationId"].startswith("CF-")
    assert_read_back(rsa)
