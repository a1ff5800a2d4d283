"""Data Hub's cap of 2000 objects on an aggregate query (seed 8.6), where the objects of one interval do not
divide 2000.

The aggregate set reads interval by interval and stops once it holds 2000 objects, so it may read past 2000
in the last interval; ``@odata.count`` and ``/$count`` must still say 2000 and the page hold 2000 rows. The
plant of tests/support/odata.py has two numeric variables: 2 x 10 aggregation types = 20 objects an interval,
which divide 2000, so the count came out right with the cap taken away (``_count`` in emulator/odata/sets.py
answering ``total`` unclamped) and that mutant survived. Here an aspect of three numeric variables makes 30
objects an interval: the 67th interval ends at 2010.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from emulator.limits import DATAHUB_MAX_OBJECTS
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer
from tests.support.odata import START, iso, publish_contract, stamp
from tests.support.paths import ASPECT_TYPES, ASSET_TYPES, ASSETS, ODATA, TIMESERIES
from tests.support.tenants import create_tenant, tenant_session

VARIABLES = ("a", "b", "c")
AGGREGATION_TYPES = 10  # sum, average, min, max, first, last, counts of the three qualities, sd
MINUTES = 150  # one record a minute: 75 two-minute intervals of 30 objects, 2250 objects in all
AGGR = f"{ODATA}/triple/AGGR_Triple_Readings_Meter"
FILTER = (f"intervalUnit eq 'minutes' and intervalValue eq 2 and timestamp gt '{stamp(START)}' and "
          f"timestamp le '{stamp(START + timedelta(minutes=MINUTES))}'")


@pytest.fixture
def meter(api, tenant):
    return make_meter(api, tenant)


def make_meter(api, tenant) -> str:
    """A Meter asset of three numeric variables, a record a minute for MINUTES minutes, in a contract "triple"."""
    t = tenant["name"]
    resp = api.put(f"{ASPECT_TYPES}/{t}.Triple", json={"name": "Triple", "category": "dynamic", "variables": [
        {"name": name, "dataType": "DOUBLE"} for name in VARIABLES]})
    assert resp.status_code == 201, resp.text
    resp = api.put(f"{ASSET_TYPES}/{t}.Meter", json={"name": "Meter", "parentTypeId": "core.basicasset",
                                                     "aspects": [{"name": "Readings", "aspectTypeId": f"{t}.Triple"}]})
    assert resp.status_code == 201, resp.text
    resp = api.post(ASSETS, json={"name": "M1", "typeId": f"{t}.Meter", "parentId": tenant["rootAssetId"]})
    assert resp.status_code == 201, resp.text
    asset = resp.json()["assetId"]
    records = [{"_time": iso(START + timedelta(minutes=m + 1)), **{name: float(m) for name in VARIABLES}}
               for m in range(MINUTES)]
    assert api.put(f"{TIMESERIES}/{asset}/Readings", json=records).status_code == 204
    publish_contract(api, tenant, name="triple", types=("Meter",))
    return asset


def test_the_count_of_aggregates_stops_at_the_cap(api, meter):
    """2250 objects, 30 an interval: the count and the page stop at 2000, mid-interval, with no next page."""
    assert MINUTES // 2 * len(VARIABLES) * AGGREGATION_TYPES > DATAHUB_MAX_OBJECTS
    assert DATAHUB_MAX_OBJECTS % (len(VARIABLES) * AGGREGATION_TYPES)  # the cap falls inside an interval
    resp = api.get(AGGR, params={"$filter": FILTER, "$count": "true"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["@odata.count"] == DATAHUB_MAX_OBJECTS
    assert len(body["value"]) == DATAHUB_MAX_OBJECTS and "@odata.nextLink" not in body
    assert {row["assetId"] for row in body["value"]} == {meter}
    counted = api.get(f"{AGGR}/$count", params={"$filter": FILTER})
    assert counted.status_code == 200, counted.text
    assert counted.text == str(DATAHUB_MAX_OBJECTS)
    last = api.get(AGGR, params={"$filter": FILTER, "$count": "true", "$skip": str(DATAHUB_MAX_OBJECTS - 5)}).json()
    assert last["@odata.count"] == DATAHUB_MAX_OBJECTS and len(last["value"]) == 5  # no page reaches past it


def test_exact_counts_count_past_the_cap_and_the_page_stays():
    """With --odata-exact-counts the count is all 2250 objects while the page still stops at 2000 (_count__mutmut_1
    capped the exact count too)."""
    with LiveServer(Settings(database_url="sqlite://", odata_exact_counts=True)) as live, \
            ApiSession(live.url) as admin:
        tenant = create_tenant(admin, "exactcap")
        with tenant_session(live.url, tenant) as api:
            make_meter(api, tenant)
            body = api.get(AGGR, params={"$filter": FILTER, "$count": "true"}).json()
            counted = api.get(f"{AGGR}/$count", params={"$filter": FILTER}).text
    assert body["@odata.count"] == MINUTES // 2 * len(VARIABLES) * AGGREGATION_TYPES
    assert counted == str(MINUTES // 2 * len(VARIABLES) * AGGREGATION_TYPES)
    assert len(body["value"]) == DATAHUB_MAX_OBJECTS


def test_exact_counts_count_every_record_of_a_time_series():
    """With --odata-exact-counts a time series set's count is all its records, past 2000, while the page stops at
    2000 (read_timeseries__mutmut_147 capped that count as without the setting)."""
    extra = 2100
    with LiveServer(Settings(database_url="sqlite://", odata_exact_counts=True)) as live, \
            ApiSession(live.url) as admin:
        tenant = create_tenant(admin, "exactts")
        with tenant_session(live.url, tenant) as api:
            asset = make_meter(api, tenant)
            later = START + timedelta(days=1)
            records = [{"_time": iso(later + timedelta(seconds=s)), "a": 1.0} for s in range(extra)]
            assert api.put(f"{TIMESERIES}/{asset}/Readings", json=records).status_code == 204
            body = api.get(f"{ODATA}/triple/TS_Triple_Readings_Meter", params={"$count": "true"}).json()
    assert body["@odata.count"] == MINUTES + extra
    assert len(body["value"]) == DATAHUB_MAX_OBJECTS
