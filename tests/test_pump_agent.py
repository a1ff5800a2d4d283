"""``--pump-via agent``: the simulated pump feeds as a MindConnect agent through the exchange. The records read
back are the pump model's (the same bytes the store path writes), the pump has its agent with a configuration and
mappings, aggregates follow, and a bad value for the option is refused."""

from __future__ import annotations

import json
import time

import pytest

from emulator.devices import model
from emulator.settings import Settings, SettingsError
from emulator.testing import ApiSession, LiveServer, fetch_token
from emulator.times import iso
from tests.support.paths import AGENTS, ASSETS, MINDCONNECT, TIMESERIES

MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000


def test_the_pump_feeds_through_its_agent(tmp_path):
    settings = Settings(database_url="sqlite:///" + str(tmp_path / "e.sqlite3"), pump=True, pump_via="agent",
                        backfill_days=1, pump_cadence=60)
    with LiveServer(settings) as live, ApiSession(live.url, fetch_token(
            live.url, settings.client_id, settings.client_secret)) as api:
        (pump,) = api.get(ASSETS, params={"filter": '{"typeId": "emutenant.Pump"}'}).json()["_embedded"]["assets"]
        now = int(time.time() * 1000) // MIN * MIN
        window = {"from": iso(now - 3 * HOUR), "to": iso(now - 2 * HOUR), "limit": 2000}
        deadline = time.monotonic() + 60
        while len(got := api.get(f"{TIMESERIES}/{pump['assetId']}/PumpData", params=window).json()) < 60:
            assert time.monotonic() < deadline, got
            time.sleep(0.2)
        with live.app.extensions["mdsp"].store.transaction() as conn:
            (sim,) = model.simulated_pumps(conn)
        assert got == sim.simulation(60).window(now - 3 * HOUR, now - 2 * HOUR).records("PumpData")
        agents = api.get(AGENTS, params={"filter": json.dumps({"name": f"pump-agent-{pump['assetId']}"})}).json()
        (agent,) = agents["content"]
        assert api.get(f"{ASSETS}/{agent['entityId']}").json()["typeId"] == "core.mclib"
        mappings = api.get(f"{MINDCONNECT}/dataPointMappings", params={
            "filter": json.dumps({"agentId": agent["id"]}), "size": 100}).json()["content"]
        assert {m["dataPointId"] for m in mappings} >= {"PumpData.Flow", "Environment.Temperature"}
        assert all(m["entityId"] == pump["assetId"] and m["validity"]["status"] == "VALID" for m in mappings)
        hourly = api.get("/api/iottsaggregates/v4/aggregates", params={
            "assetId": pump["assetId"], "aspectName": "PumpData", "from": window["from"], "to": window["to"],
            "intervalUnit": "hour", "intervalValue": 1}).json()["aggregates"]
        assert hourly[0]["Flow"]["countgood"] + hourly[0]["Flow"]["countbad"] == 60


def test_pump_via_takes_store_or_agent():
    with pytest.raises(SettingsError, match="--pump-via"):
        Settings(pump_via="carrier-pigeon").validate()
