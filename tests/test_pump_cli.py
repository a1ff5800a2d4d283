"""``mindsphere-emulator seed`` builds a fleet; ``serve`` (with its pump) answers while the history is still being
written, with one feeder however many workers."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import pytest
from faker.providers.geo import Provider as GeoProvider

from emulator.cli import main
from emulator.devices import fleet
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, ServerProcess, fetch_token
from emulator.times import iso
from tests.support.paths import ASSETS

ZONES = {(float(lat), float(lon)): zone for lat, lon, _place, _cc, zone in GeoProvider.land_coords}


def assets_of(url: str) -> list[dict]:
    settings = Settings()
    with ApiSession(url, fetch_token(url, settings.client_id, settings.client_secret)) as api:
        out, page = [], 0
        while True:
            body = api.get(ASSETS, params={"size": 200, "page": page}).json()
            out += body.get("_embedded", {}).get("assets", [])
            if page + 1 >= body["page"]["totalPages"]:
                return out
            page += 1


def test_seed_builds_enterprise_sites_stations_pumps_with_fitting_places(tmp_path, capsys):
    url = "sqlite:///" + str(tmp_path / "e.sqlite3")
    assert main(["seed", "--pumps", "4", "--seed", "7", "--database-url", url, "--scenario", "cavitation"]) == 0
    assert "4 pumps (4 new, 2 new sites, 2 new pump stations)" in capsys.readouterr().out
    with LiveServer(Settings(database_url=url)) as live:
        first = assets_of(live.url)
    by_type = {}
    for a in first:
        by_type.setdefault(a["typeId"].split(".")[-1], []).append(a)
    assert len(by_type["Site"]) == 2 and len(by_type["Area"]) == 2 and len(by_type["Pump"]) == 4
    ids = {a["assetId"]: a for a in first}
    for site in by_type["Site"]:
        where = site["location"]
        assert where["country"] and where["locality"]
        assert ZONES[(where["latitude"], where["longitude"])] == site["timezone"]  # the zone fits the place
        ZoneInfo(site["timezone"])
    for pump in by_type["Pump"]:
        area = ids[pump["parentId"]]
        assert area["typeId"] == "emutenant.Area" and ids[area["parentId"]]["typeId"] == "emutenant.Site"
        assert pump["twinType"] == "simulation" and pump["timezone"] == ids[area["parentId"]]["timezone"]
        assert pump["location"] == ids[area["parentId"]]["location"]  # inherited
    # a variable without a value is left out of an asset's variables, as real responses do
    scenarios = {p["name"]: {v["name"]: v["value"] for v in p["variables"]}.get("Scenario") for p in by_type["Pump"]}
    assert scenarios == {"P-101": "cavitation", "P-102": None, "P-103": None, "P-104": None}
    # seeding more keeps the fleet (ids, names, places) and adds to it; so the first pumps' data stays
    assert main(["seed", "--pumps", "5", "--seed", "7", "--database-url", url]) == 0
    with LiveServer(Settings(database_url=url)) as live:
        second = {a["assetId"]: a for a in assets_of(live.url)}
    assert len(second) == len(ids) + 1
    assert all({**second[k], "_links": None} == {**a, "_links": None} for k, a in ids.items())  # etags too
    assert {p["assetId"] for p in by_type["Pump"]} == {fleet.derived_id(7, "emutenant", "pump", i) for i in range(4)}


def test_seed_refuses_a_bad_scenario_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("events:\n  - effect: meteor\n")
    url = "sqlite:///" + str(tmp_path / "e.sqlite3")
    assert main(["seed", "--pumps", "1", "--database-url", url, "--scenario", str(bad)]) == 2
    assert "effect 'meteor' is not one of" in capsys.readouterr().err
    assert main(["seed", "--pumps", "1", "--database-url", url, "--scenario", "no-such-scenario"]) == 2


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_with_a_pump_answers_while_its_history_is_written_and_runs_one_feeder(tmp_path, workers):
    """``serve --pump`` answers before its pump's history is written, the newest hour first, with one feeder
    however many workers.

    Ten years of history at a 5-second cadence (630 million samples) is more than any machine writes while this
    test runs, so "the server answers while the history is being written" is a fact of order, not a race: this
    test compared start-up times against a one-second margin and needed a 3-day backfill still running when it
    looked, which a fast machine had finished (a server that waited for its history would time out here)."""
    data = tmp_path / "data"
    with ServerProcess("--port", "0", "--data-dir", str(data), "--pump", "--backfill-days", "3650", "--pump-cadence",
                       "5", "--workers", str(workers)) as proc:
        settings = Settings()
        api = ApiSession(proc.url, fetch_token(proc.url, settings.client_id, settings.client_secret))
        pump = api.get(ASSETS, params={"filter": '{"typeId": "emutenant.Pump"}'}).json()
        (asset,) = pump["_embedded"]["assets"]
        series = f"/api/iottimeseries/v3/timeseries/{asset['assetId']}/PumpData"
        now = int(time.time() * 1000)

        def records(after: int, upto: int) -> list:
            return api.get(series, params={"from": iso(after), "to": iso(upto)}).json()

        deadline = time.monotonic() + 60  # a bound on a hang, not a measure of speed
        while len(records(now - 3_600_000, now)) < 700:  # the newest hour comes first (720 samples)
            assert time.monotonic() < deadline, proc.output
            time.sleep(0.2)
        while "] 2/3650 days" not in proc.output:  # the feeder is past its second day of history
            assert time.monotonic() < deadline, proc.output
            time.sleep(0.2)
        oldest = now - 3649 * 86_400_000
        assert records(oldest - 86_400_000, oldest) == []  # history still being written
        assert "done" not in proc.output.split("days to backfill")[-1]
        # one feeder, not one per worker: each would plan its backfill before writing its first day
        assert proc.output.count("days to backfill") == 1, proc.output
