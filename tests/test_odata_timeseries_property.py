"""A Data Hub time series set over several assets, against a plain-Python reading of the contract.

Why: the set's rows are the records of every asset of its type (and subtypes) in one order, time first and the
asset id on ties (``$orderby=timestamp desc`` turns both), of which a query sees the first 2000. The store keeps
each asset's records in its own time blocks, so the set's order is made by merging the assets' series, and
``$skip``/``$top`` and ``$count`` must come out as if it were one table. Records here share times across assets
(ties), some assets have none in the range, and each query draws a range, an asset, an order and a window.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.odata import SERVICE, START, iso, ok, shared_plant, stamp
from tests.support.paths import TIMESERIES

TSET = "TS_PowerConsumption_Power_CNGTurbine"  # the CNG turbines and the LPG turbine derived from them
MINUTES = 800  # three turbines' records can pass the 2000 a query sees

plant = pytest.fixture(scope="module")(shared_plant)


def minute(m: int):
    return START + timedelta(minutes=m)


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_time_series_set_is_the_assets_records_merged_in_order(plant, data):
    api, turbines = plant["api"], sorted([plant["cng1"], plant["cng2"], plant["lpg"]])
    stored: dict[str, list[int]] = {}
    crowded = data.draw(st.booleans())  # every turbine about full: more than the 2000 a query sees
    for turbine in turbines:  # each example writes the turbines' records afresh
        assert api.delete(f"{TIMESERIES}/{turbine}/Power", params={
            "from": iso(minute(-1)), "to": iso(minute(MINUTES + 200))}).status_code == 204
        dense = st.tuples(st.integers(0, MINUTES), st.integers(0, MINUTES)).map(lambda r: list(range(min(r), max(r))))
        holes = st.sets(st.integers(0, MINUTES), max_size=20).map(lambda h: sorted(set(range(MINUTES + 1)) - h))
        minutes = data.draw(holes if crowded else st.one_of(
            st.just([]), st.lists(st.integers(0, MINUTES), max_size=50, unique=True), dense))
        stored[turbine] = sorted(minutes)
        records = [{"_time": iso(minute(m)), "current": float(m), "voltage": 230, "mode": "run"} for m in minutes]
        if records:
            assert api.put(f"{TIMESERIES}/{turbine}/Power", json=records).status_code == 204
    after = data.draw(st.one_of(st.none(), st.integers(-1, MINUTES)))
    upto = data.draw(st.one_of(st.none(), st.integers(after if after is not None else 0, MINUTES + 1)))
    only = data.draw(st.one_of(st.none(), st.sampled_from(turbines)))
    descending = data.draw(st.sampled_from([None, False, True]))
    skip = data.draw(st.one_of(st.none(), st.integers(0, 2100)))
    top = data.draw(st.one_of(st.none(), st.integers(0, 2100)))

    rows = sorted((m, turbine) for turbine, minutes in stored.items() for m in minutes
                  if (only is None or turbine == only) and (after is None or m > after)
                  and (upto is None or m <= upto))
    if descending:
        rows.reverse()
    window = rows[:2000]  # a query sees the first 2000 objects in its order
    wanted = window[skip or 0:][:top] if top is not None else window[skip or 0:]
    event(f"rows in the range: {'> 2000' if len(rows) > 2000 else '> 0' if rows else 'none'}")

    terms = ([f"timestamp gt '{stamp(minute(after))}'"] if after is not None else []) + (
        [f"timestamp le '{stamp(minute(upto))}'"] if upto is not None else []) + (
        [f"assetId eq '{only}'"] if only else [])
    params = {"$count": "true", **({"$filter": " and ".join(terms)} if terms else {}),
              **({"$orderby": "timestamp desc" if descending else "timestamp asc"} if descending is not None else {}),
              **({"$skip": str(skip)} if skip is not None else {}), **({"$top": str(top)} if top is not None else {})}
    body = ok(api.get(f"{SERVICE}/{TSET}", params=params))
    got = [(r["timestamp"], r["assetId"], r["current"]) for r in body["value"]]
    assert got == [(stamp(minute(m)), turbine, float(m)) for m, turbine in wanted], params
    assert body["@odata.count"] == min(len(rows), 2000), params

