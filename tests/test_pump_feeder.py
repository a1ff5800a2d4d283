"""The feeder through HTTP: a server with ``pump=True`` has a pump with history and live data, readable through
time series and aggregates, following the virtual clock (jumps and speed-up), and a pump created through
the Asset Management API with an outage scenario shows the gap, then the store-and-forward burst."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from emulator.devices import model
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from emulator.times import iso
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, ROOT, TIMESERIES
from tests.support.tenants import create_tenant

MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000


def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {check.__doc__ or check}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def pumped(tmp_path_factory):
    settings = Settings(database_url="sqlite:///" + str(tmp_path_factory.mktemp("pump") / "e.sqlite3"), pump=True,
                        backfill_days=1, pump_cadence=60)
    with LiveServer(settings) as live:
        token = fetch_token(live.url, settings.client_id, settings.client_secret)
        with ApiSession(live.url, token) as api, ApiSession(live.url) as admin:
            yield live, api, admin


def jump(live, api, admin, clock: dict, client=("emutenant-client", "emulator-secret")) -> None:
    """Set the virtual clock, then fetch a token that is valid at the new time."""
    assert admin.put("/_emulator/clock", json=clock).status_code == 200
    fresh_token(live, api, client)


def pump_id(api) -> str:
    found = api.get(ASSETS, params={"filter": '{"typeId": "emutenant.Pump"}'}).json()
    (pump,) = found["_embedded"]["assets"]
    assert pump["name"] == "P-101" and pump["twinType"] == "simulation"
    return pump["assetId"]


def read(api, asset: str, after: int, upto: int, aspect: str = "PumpData") -> list[dict]:
    resp = api.get(f"{TIMESERIES}/{asset}/{aspect}", params={"from": iso(after), "to": iso(upto), "limit": 2000})
    assert resp.status_code == 200, resp.text
    return resp.json()


def latest_ms(api, asset: str) -> int:
    records = api.get(f"{TIMESERIES}/{asset}/PumpData").json()
    return int(datetime.fromisoformat(records[0]["_time"]).timestamp() * 1000) if records else 0


def test_the_default_pump_has_a_day_of_history_equal_to_its_model(pumped):
    live, api, _admin = pumped
    asset = pump_id(api)
    now = int(time.time() * 1000) // MIN * MIN
    day = eventually(lambda: len(r := read(api, asset, now - DAY, now)) >= 1439 and r)
    assert len(read(api, asset, now - DAY, now, "Environment")) >= 1439
    with live.app.extensions["mdsp"].store.transaction() as conn:
        (sim_asset,) = model.simulated_pumps(conn)
    expected = sim_asset.simulation(60).window(now - 3 * HOUR, now - 2 * HOUR).records("PumpData")
    got = [r for r in day if now - 3 * HOUR < _ms(r) <= now - 2 * HOUR]
    assert got == expected


def test_aggregates_of_the_fed_data_agree_with_the_records(pumped):
    _live, api, _admin = pumped
    asset = pump_id(api)
    upto = int(time.time() * 1000) // HOUR * HOUR - HOUR
    after = upto - 3 * HOUR
    resp = api.get("/api/iottsaggregates/v4/aggregates", params={
        "assetId": asset, "aspectName": "PumpData", "from": iso(after), "to": iso(upto), "intervalUnit": "hour",
        "intervalValue": 1})
    assert resp.status_code == 200, resp.text
    buckets = resp.json()["aggregates"]
    assert len(buckets) == 3
    records = read(api, asset, after, upto)
    for bucket in buckets:
        lo = int(datetime.fromisoformat(bucket["starttime"]).timestamp() * 1000)
        flows = [r["Flow"] for r in records if lo < _ms(r) <= lo + HOUR]
        assert bucket["Flow"]["countgood"] == len(flows) == 60
        assert bucket["Flow"]["average"] == pytest.approx(sum(flows) / len(flows))


def test_the_feeder_follows_the_virtual_clock_jumps_and_speed(pumped):
    live, api, admin = pumped
    asset = pump_id(api)
    target = (int(time.time() * 1000) + 3 * HOUR) // MIN * MIN + 30_000
    jump(live, api, admin, {"mode": "frozen", "time": iso(target)})
    eventually(lambda: latest_ms(api, asset) == target - 30_000)
    assert len(read(api, asset, target - 4 * HOUR, target)) == 240  # the jump filled in, no gap
    jump(live, api, admin, {"mode": "offset", "time": iso(target), "speed": 600})
    eventually(lambda: latest_ms(api, asset) >= target + 10 * MIN, timeout=20)


def test_a_pump_created_through_the_api_goes_offline_then_forwards(pumped):
    live, _api, admin = pumped
    client = create_tenant(admin, "pumpworks")["clients"][0]
    credentials = (client["clientId"], client["clientSecret"])
    api = ApiSession(live.url, fetch_token(live.url, *credentials))
    aspect_types, asset_types = model.bodies("pumpworks")
    for name, body in aspect_types.items():  # the fixtures are plain request bodies
        assert api.put(f"{ASPECT_TYPES}/pumpworks.{name}", json=body).status_code == 201
    for name, body in asset_types.items():
        assert api.put(f"{ASSET_TYPES}/pumpworks.{name}", json=body).status_code == 201
    start = (int(time.time() * 1000) + DAY) // HOUR * HOUR  # the scenario's anchor; offline [+2h, +2h45m)
    root = api.get(ROOT).json()["assetId"]
    resp = api.post(ASSETS, json={
        "name": "P-900", "typeId": "pumpworks.Pump", "parentId": root, "twinType": "simulation",
        "variables": [{"name": "Scenario", "value": "device-offline"}, {"name": "ScenarioStart", "value": iso(start)},
                      {"name": "SimulationSeed", "value": "5"}]})
    assert resp.status_code == 201, resp.text
    asset = resp.json()["assetId"]
    midway = start + 150 * MIN
    jump(live, api, admin, {"mode": "frozen", "time": iso(midway)}, credentials)
    eventually(lambda: len(read(api, asset, start, midway)) >= 119)
    time.sleep(0.5)
    seen = read(api, asset, start, midway)
    assert max(_ms(r) for r in seen) == start + 119 * MIN  # nothing from the outage yet
    jump(live, api, admin, {"mode": "frozen", "time": iso(start + 3 * HOUR)}, credentials)
    eventually(lambda: len(read(api, asset, start, start + 3 * HOUR)) == 180)  # the buffer arrived
    admin.put("/_emulator/clock", json={"mode": "real"})


def _ms(record: dict) -> int:
    return int(datetime.fromisoformat(record["_time"]).replace(tzinfo=UTC).timestamp() * 1000)


@contextmanager
def own_pump(tmp_path, **options):
    """A server of its own with the feeder running (a test that moves the clock far must not share one):
    (live, api, admin, the pump's asset id)."""
    settings = Settings(database_url="sqlite:///" + str(tmp_path / "e.sqlite3"), pump=True, **options)
    with LiveServer(settings) as live, ApiSession(live.url) as admin:
        api = ApiSession(live.url, fetch_token(live.url, settings.client_id, settings.client_secret))
        yield live, api, admin, pump_id(api)
        admin.put("/_emulator/clock", json={"mode": "real"})


def fresh_token(live, api, client=("emutenant-client", "emulator-secret")) -> None:
    """A token valid at the clock's new time."""
    api.headers["Authorization"] = "Bearer " + fetch_token(live.url, *client)


def test_after_advance_then_real_time_no_pump_data_stays_in_the_future(tmp_path):
    """The dashboard's "Advance 1 hour" then "Run in real time": the hour the pump sent ahead is withdrawn (a device
    cannot have sent readings stamped after the clock's now), the live feed goes on, and when the clock reaches
    that hour again the pump sends the same readings, bit for bit."""
    with own_pump(tmp_path, backfill_days=0, pump_cadence=10) as (live, api, admin, asset):
        real = int(time.time() * 1000)
        advanced = admin.post("/_emulator/ui/clock/advance", json={"seconds": 3600})
        assert advanced.status_code == 200, advanced.text
        fresh_token(live, api)
        eventually(lambda: latest_ms(api, asset) >= real + HOUR - MIN)
        ahead = {aspect: read(api, asset, real + MIN, real + 2 * HOUR, aspect)
                 for aspect in ("PumpData", "Environment")}
        assert all(len(records) >= 340 for records in ahead.values())

        assert admin.put("/_emulator/ui/clock", json={"mode": "real"}).status_code == 200
        fresh_token(live, api)

        def nothing_ahead():
            """no pump record after the clock's now (plus a tick)"""
            now = int(time.time() * 1000)
            return all(read(api, asset, now + 20_000, now + 2 * HOUR, aspect) == []
                       for aspect in ("PumpData", "Environment"))

        eventually(nothing_ahead, timeout=10)
        eventually(lambda: latest_ms(api, asset) >= int(time.time() * 1000) - 30_000)  # live data goes on
        hour = api.get("/api/iottsaggregates/v4/aggregates", params={
            "assetId": asset, "aspectName": "PumpData", "from": iso(real // HOUR * HOUR + HOUR),
            "to": iso(real // HOUR * HOUR + 2 * HOUR), "intervalUnit": "hour", "intervalValue": 1})
        assert hour.status_code == 200 and hour.json()["aggregates"] == []  # the rollups agree

        assert admin.post("/_emulator/ui/clock/advance", json={"seconds": 3600}).status_code == 200
        fresh_token(live, api)
        eventually(lambda: latest_ms(api, asset) >= real + HOUR)
        for aspect, before in ahead.items():  # sent again: the same records
            again = read(api, asset, real + MIN, _ms(before[-1]), aspect)
            assert again == before, aspect


def test_a_jump_far_ahead_fills_no_more_than_the_backfill_days(tmp_path):
    """Advancing the clock three days with --backfill-days 1 writes the last day before the new now, not three
    days of history (ten years ahead would otherwise write ten years)."""
    with own_pump(tmp_path, backfill_days=1, pump_cadence=60) as (live, api, admin, asset):
        real = int(time.time() * 1000)
        eventually(lambda: len(read(api, asset, real - 2 * HOUR, real)) >= 119)  # the first day is there
        jump(live, api, admin, {"mode": "frozen", "time": iso(real + 3 * DAY)})
        eventually(lambda: latest_ms(api, asset) >= real + 3 * DAY - MIN)
        eventually(lambda: len(read(api, asset, real + 2 * DAY, real + 2 * DAY + 2 * HOUR)) >= 119)
        time.sleep(1.0)  # the feeder has nothing left to write: a longer backfill would show now
        assert read(api, asset, real + 5 * MIN, real + 2 * DAY - 5 * MIN) == []


def test_a_restart_withdraws_the_readings_stamped_after_now(tmp_path):
    """Readings of the pump stamped after the clock's now when a server starts (the clock was set back while
    nobody fed the pump: here a reading written a day ahead, then the server stopped) are withdrawn as the feeder
    takes the pump on, and the history before them stays. The feeder finds them by the pump's newest reading; when
    it was told the oldest one's time instead (the store's extent mutated), every other test still passed."""
    with own_pump(tmp_path, backfill_days=1, pump_cadence=60) as (live, api, admin, asset):
        real = int(time.time() * 1000)
        eventually(lambda: len(read(api, asset, real - 2 * HOUR, real)) >= 119)  # the history is there
        ahead = api.put(f"{TIMESERIES}/{asset}/PumpData", json=[{"_time": iso(real + DAY), "Flow": 12.5}])
        assert ahead.status_code == 204, ahead.text
        assert latest_ms(api, asset) == real + DAY
        before = read(api, asset, real - HOUR, real)
    assert before
    with own_pump(tmp_path, backfill_days=1, pump_cadence=60) as (live, api, admin, again):
        assert again == asset
        eventually(lambda: latest_ms(api, asset) < real + HOUR)
        assert read(api, asset, real + HOUR, real + 2 * DAY) == []
        assert read(api, asset, real - HOUR, real) == before
