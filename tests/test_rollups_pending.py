"""Writes leave the rollups to their readers (``emulator.timeseries.pending``): what that must keep true.

Why: a ``PUT /timeseries`` only notes the span it wrote; TS Aggregates, the Data Hub, the dashboard, a snapshot's
export and a delete of records take the noted writes in first. The aggregates property tests
(``test_timeseries_property.py``) prove the values equal the raw records whatever the order of writes and reads.
What they cannot see is the bookkeeping: the notes must not grow with every write (a pump writes every second and
nobody may read its aggregates for days), every reader must take them in before it reads, and an asset's notes
go with it. Counted in the store itself, on both backends.
"""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import create_engine, text

from emulator.testing import ApiSession, fetch_token
from emulator.times import iso
from tests.support.paths import AGGREGATES_V3, AGGREGATES_V4, ASSETS, CONTROL_PLANE, TENANTS, TIMESERIES
from tests.support.timeseries import make_pump

T0 = "2025-03-03T00:00:00.000Z"
START = 1_740_960_000_000  # T0 in epoch ms


@pytest.fixture
def noted(database_url):
    """How many writes the store holds noted for an asset (its rows of ``ts_pending``)."""
    engine = create_engine(database_url)

    def count(asset: str) -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM ts_pending WHERE asset_id = :a"), {"a": asset}).scalar()

    yield count
    engine.dispose()


def put(api, asset: str, first: int, n: int, step: int = 1000, value: float = 1.0) -> None:
    body = [{"_time": iso(first + k * step), "temperature": value + k, "count": k} for k in range(n)]
    resp = api.put(f"{TIMESERIES}/{asset}/Sensors", json=body)
    assert resp.status_code == 204, resp.text


def day_count(api, asset: str) -> int:
    resp = api.get(AGGREGATES_V4, params={"assetId": asset, "aspectName": "Sensors", "from": T0,
                                          "to": "2025-03-04T00:00:00Z", "intervalUnit": "day", "intervalValue": 1,
                                          "select": "temperature"})
    assert resp.status_code == 200, resp.text
    return sum(i["temperature"]["countgood"] for i in resp.json()["aggregates"] if "temperature" in i)


def test_a_run_of_appends_is_one_note_that_the_first_aggregate_read_takes_in(api, tenant, noted):
    asset = make_pump(api, tenant)
    for k in range(30):
        put(api, asset, START + k * 10_000, 10)  # each batch after every stored record
    assert noted(asset) == 1  # one row, extended: not one per write
    assert day_count(api, asset) == 300
    assert noted(asset) == 0
    put(api, asset, START + 300_000, 5)
    assert noted(asset) == 1 and day_count(api, asset) == 305


def test_writes_into_the_past_are_noted_apart_and_taken_in_in_their_order(api, tenant, noted):
    asset = make_pump(api, tenant)
    put(api, asset, START + 60_000, 10)
    put(api, asset, START, 10)  # before every stored record: a rewrite of its span
    put(api, asset, START + 5_000, 3, value=50.0)  # overwrites three of those
    put(api, asset, START + 120_000, 10)  # an append again
    assert noted(asset) == 4
    resp = api.get(f"{AGGREGATES_V3}/{asset}/Sensors", params={
        "from": T0, "to": "2025-03-03T01:00:00Z", "intervalUnit": "hour", "intervalValue": 1, "select": "temperature"})
    assert resp.status_code == 200, resp.text
    (hour,) = resp.json()
    assert hour["temperature"]["countgood"] == 29  # 33 written, three written over, one at 00:00 (not in the hour)
    assert hour["temperature"]["maxvalue"] == 52.0  # the rewrite's third record, not the one it replaced
    assert noted(asset) == 0


def test_a_delete_takes_the_noted_writes_in_before_it_removes_records(api, tenant, noted):
    asset = make_pump(api, tenant)
    put(api, asset, START, 10)
    put(api, asset, START + 10_000, 10)
    resp = api.delete(f"{TIMESERIES}/{asset}/Sensors", params={"from": iso(START + 4_000),
                                                               "to": iso(START + 14_000)})
    assert resp.status_code == 204, resp.text
    assert noted(asset) == 0  # taken in by the delete, whose refresh then removed what it deleted
    assert day_count(api, asset) == 10


def test_a_snapshot_export_carries_the_rollups_of_every_write(api, tenant, admin, noted):
    asset = make_pump(api, tenant)
    put(api, asset, START, 10)
    resp = admin.get(f"{CONTROL_PLANE}/snapshots/{tenant['name']}")
    assert resp.status_code == 200, resp.text
    tables = resp.json()["tables"]
    assert {r["size"] for r in tables["ts_rollups"] if r["asset_id"] == asset} == {120, 3600, 86400}
    assert tables["ts_pending"] == [] and noted(asset) == 0


def test_an_assets_notes_go_with_it(api, tenant, noted):
    asset = make_pump(api, tenant)
    put(api, asset, START, 10)
    etag = api.get(f"{ASSETS}/{asset}").json()["etag"]
    assert api.delete(f"{ASSETS}/{asset}", headers={"If-Match": str(etag)}).status_code == 204
    assert noted(asset) == 0


def test_noted_writes_travel_in_a_snapshot_and_name_only_its_own_assets(api, tenant, admin, server):
    """An importer's first reader takes in the notes a snapshot carries (a write landed between the export's
    catch-up and its read, or a hand-made document), whatever their spans; a note of an asset that is not the
    snapshot's is refused, as its records and rollups are."""
    asset = make_pump(api, tenant)
    put(api, asset, START, 10)
    doc = admin.get(f"{CONTROL_PLANE}/snapshots/{tenant['name']}").json()
    assert admin.delete(f"{TENANTS}/{tenant['name']}").status_code == 204  # imported again below, as it was
    note = {"tenant_id": tenant["name"], "asset_id": asset, "aspect": "Sensors"}
    doc["tables"]["ts_pending"] = [{**note, "seq": 0, "lo": START, "hi": START + 9_000},
                                   {**note, "seq": 1, "lo": START + 5_000, "hi": START - 5_000},
                                   {**note, "seq": 2, "lo": -(2**62), "hi": 2**62}]
    foreign = copy.deepcopy(doc)
    foreign["tables"]["ts_pending"] = [{**note, "asset_id": "f" * 32, "seq": 0, "lo": 0, "hi": 1}]
    refused = admin.post(f"{CONTROL_PLANE}/snapshots", json=foreign)
    assert refused.status_code == 400 and "not one of its assets" in refused.text, refused.text
    assert admin.post(f"{CONTROL_PLANE}/snapshots", json=doc).status_code in (200, 201)
    client = tenant["clients"][0]
    with ApiSession(server.url, fetch_token(server.url, client["clientId"], client["clientSecret"])) as imported:
        assert day_count(imported, asset) == 10
