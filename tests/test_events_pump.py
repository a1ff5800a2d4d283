"""Simulated pumps raise events (emulator.events.raised): an effect of the pump's scenario that starts raises an
event of ``{tenant}.SimulatedPumpEvent``, and its end a follow-up of the same history, deterministic like the
data; the clock set back withdraws the events after it, as it withdraws the readings."""

from __future__ import annotations

import json

from emulator.devices import feeder, model
from emulator.times import iso

EVENTS = "/api/eventmanagement/v3/events"
HOUR = 3_600_000


def _pump(server, admin, tenant) -> tuple[model.PumpAsset, int]:
    resp = admin.post(f"/_emulator/tenants/{tenant['name']}/pumps",
                      json={"name": "P-7", "historyHours": 0, "scenario": "cavitation", "cadence": 60})
    assert resp.status_code == 201, resp.text
    with server.app.extensions["mdsp"].store.transaction() as conn:
        (asset,) = [a for a in model.simulated_pumps(conn) if a.asset_id == resp.json()["assetId"]]
    return asset, int(asset.scenario_start * 1000)


def _events(api, tenant, **params) -> list[dict]:
    query = {"filter": json.dumps({"typeId": f"{tenant['name']}.SimulatedPumpEvent"}), "sort": "timestamp,asc",
             **params}
    resp = api.get(EVENTS, params=query)
    assert resp.status_code == 200, resp.text
    return resp.json().get("_embedded", {}).get("events", [])


def test_a_scenario_raises_an_event_when_its_effect_starts_and_one_when_it_ends(server, admin, api, tenant):
    asset, start = _pump(server, admin, tenant)
    store = server.app.extensions["mdsp"].store
    assert "_embedded" not in api.get(EVENTS).json()  # no reading at or after the effect's start yet
    feeder.history(store, tenant["name"], asset.asset_id, 3, 60, start + 3 * HOUR)
    (begun,) = _events(api, tenant, history="true")
    assert begun["timestamp"] == iso(start + 2 * HOUR)  # cavitation: 2 h after the scenario's start, for 3 h
    assert (begun["phase"], begun["effect"], begun["severity"]) == ("START", "cavitation", 30)
    assert begun["entityId"] == asset.asset_id and begun["description"] == "P-7: cavitation started"

    feeder.history(store, tenant["name"], asset.asset_id, 6, 60, start + 6 * HOUR)
    both = _events(api, tenant, history="true")
    assert [e["phase"] for e in both] == ["START", "END"] and both[0] == begun
    assert both[1]["timestamp"] == iso(start + 5 * HOUR) and both[1]["severity"] == 40
    assert both[0]["correlationId"] == both[1]["correlationId"]
    assert [e["phase"] for e in _events(api, tenant)] == ["END"]  # the latest of the history

    feeder.history(store, tenant["name"], asset.asset_id, 6, 60, start + 6 * HOUR)  # the same data again
    assert _events(api, tenant, history="true") == both

    feeder.withdraw(store, asset, start + 4 * HOUR, start + 6 * HOUR)  # the clock went back to +4 h
    assert [e["phase"] for e in _events(api, tenant, history="true")] == ["START"]
