"""``POST /_emulator/tenants/{name}/pumps``: a simulated pump with history in one call, and its data read
the same through the time series API, the aggregates and a Data Hub contract."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from tests.support.paths import ASSETS, TIMESERIES

EVER = {"from": "1970-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}


def _pump(admin, tenant, **body):
    return admin.post(f"/_emulator/tenants/{tenant['name']}/pumps", json=body)


def test_pump_reads_the_same_through_rest_aggregates_and_odata(admin, api, tenant):
    resp = _pump(admin, tenant, name="P-1", historyHours=0.5, seed=3, cadence=10)
    assert resp.status_code == 201, resp.text
    pump, written = resp.json()["assetId"], resp.json()["records"]
    records = api.get(f"{TIMESERIES}/{pump}/PumpData", params=EVER).json()
    environment = api.get(f"{TIMESERIES}/{pump}/Environment", params=EVER).json()
    assert len(records) + len(environment) == written and 175 <= len(records) <= 181

    first, last = records[0]["_time"], records[-1]["_time"]
    start = datetime.fromisoformat(first.replace("Z", "+00:00")).replace(minute=0, second=0, microsecond=0)
    aggregates = api.get("/api/iottsaggregates/v4/aggregates", params={
        "assetId": pump, "aspectName": "PumpData", "from": (start - timedelta(hours=1)).isoformat(),
        "to": (start + timedelta(hours=2)).isoformat(), "intervalUnit": "hour", "intervalValue": 1,
        "select": "Flow"}).json()["aggregates"]
    counted = sum(a["Flow"]["countgood"] + a["Flow"]["countuncertain"] + a["Flow"]["countbad"] for a in aggregates)
    assert counted == sum(1 for r in records if "Flow" in r)

    assert api.post("/_emulator/contracts", json={"name": "pumps", "assetTypeIds": [f"{tenant['name']}.Pump"],
                                                  "publisherEmail": "maker@example.com"}).status_code == 201
    assert api.post("/_emulator/contracts/pumps/publish").status_code == 200
    rows = api.get("/odata/pumps/TS_PumpData_PumpData_Pump", params={
        "$filter": f"assetId eq '{pump}'"}).json()["value"]
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert row["timestamp"] == record["_time"][:19]
        for name in ("Flow", "MotorCurrent", "PressureIn", "PressureOut", "StuffingBoxTemperature"):
            assert row[name] == record.get(name)
    assert rows[0]["timestamp"] == first[:19] and rows[-1]["timestamp"] == last[:19]


def _data(api, pump: str) -> dict:
    return {aspect: api.get(f"{TIMESERIES}/{pump}/{aspect}", params=EVER).json()
            for aspect in ("PumpData", "Environment")}


def test_same_call_same_pump_and_data(admin, api, tenant):
    """The same call at the same virtual time gives the same pump and the same records, at any wall-clock time.

    It compared asset ids only, so data seeded from the wall clock (``self.seed ^ int(time.time())`` in
    ``PumpAsset.simulation``, emulator/devices/model.py) survived. Here the pump is made, read, deleted and made
    again by the same call under a frozen clock, a wall-clock second later: its records must be equal, and
    another seed's must not."""
    admin.put("/_emulator/clock", json={"mode": "frozen", "time": "2026-05-04T12:00:00Z"})
    try:
        one = _pump(admin, tenant, name="Twin", historyHours=0.1, seed=11)
        assert one.status_code == 201, one.text
        first = _data(api, one.json()["assetId"])
        assert len(first["PumpData"]) >= 30 and first["Environment"], first
        assert _pump(admin, tenant, name="Twin", historyHours=0.1, seed=11).status_code == 409
        other = _pump(admin, tenant, name="Twin", historyHours=0.1, seed=12).json()["assetId"]
        assert other != one.json()["assetId"]
        assert _data(api, other)["PumpData"] != first["PumpData"]
        assert api.delete(f"{ASSETS}/{one.json()['assetId']}", headers={"If-Match": "0"}).status_code == 204
        second = int(time.time()) + 1
        while time.time() < second:  # a wall clock that has moved on, even one read in whole seconds
            time.sleep(0.05)
        again = _pump(admin, tenant, name="Twin", historyHours=0.1, seed=11)
        assert again.status_code == 201, again.text
        assert again.json() == one.json()
        assert _data(api, again.json()["assetId"]) == first
    finally:
        admin.put("/_emulator/clock", json={"mode": "real"})


@pytest.mark.parametrize("body, status", [
    ({"historyHours": 200}, 400), ({"historyHours": "1"}, 400), ({"seed": True}, 400), ({"colour": 1}, 400),
    ({"name": ""}, 400), ({"cadence": 0}, 400), ({"scenario": "no-such-scenario"}, 400),
    ({"parentId": "nope"}, 404),
])
def test_bad_pump_requests(admin, api, tenant, body, status):
    resp = _pump(admin, tenant, **body)
    assert resp.status_code == status, resp.text
    assert resp.json()["errors"][0]["message"]
    assert api.get("/api/assetmanagement/v3/assets", params={"size": 200}).json()["page"]["totalElements"] == 1


def test_unknown_tenant(admin):
    assert admin.post("/_emulator/tenants/nosuchtenant/pumps", json={}).status_code == 404


def test_scenario_files_are_not_read_over_http(admin, tenant):
    resp = _pump(admin, tenant, scenario="/etc/passwd")
    assert resp.status_code == 400 and "seed command" in resp.json()["errors"][0]["message"], resp.text
    assert "root:" not in resp.text
    assert _pump(admin, tenant, name="C", historyHours=0, scenario="cavitation").status_code == 201
