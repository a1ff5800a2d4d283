"""Seconds aggregates of the OData service, which are computed from the raw records (sets._seconds_plan,
_raw_stats, _bound_raw_work): which records an interval holds, how a missing bound is completed, the range
limit and the bound of records, each exact. The mutation run (``make mutate``) found them untested: 60 mutants
of those three functions survived the OData tests.

The records are few and placed at the edges: exactly at an interval's start (the interval before holds it),
one millisecond after it, exactly at its end, past the range, in the other aspect of the same asset, in
another asset of the set. Intervals are ``(start, end]`` as everywhere in the Data Hub and TS Aggregates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emulator import limits
from emulator.testing import ApiSession
from tests.support.odata import make_twins, ok, publish_contract, refused, stamp
from tests.support.paths import ODATA, TIMESERIES
from tests.support.tenants import temporary_tenant, tenant_session

T0 = datetime(2024, 5, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
BAD = 0x80000000
AGGR = f"{ODATA}/twins/AGGR_Meter_Power_Twin"
# (time, current, current_qc) of twin A's Power aspect, written in two requests, the first holding the later record
# of each interval: stored in that order, the reader must sort them
POWER = [(T0 + 2 * MINUTE + MS, 100.0, 0),  # past the ranges below that end at T0 + 2 minutes
         (T0 + 2 * MINUTE, 4.0, 0), (T0 + MINUTE, 2.0, BAD), (T0 + MINUTE + MS, 3.0, 0), (T0 + MS, 1.0, 0),
         (T0, 0.0, 0),  # the end of the interval before T0's
         (T0 - timedelta(seconds=3510), -1.0, 0)]  # 30 s before an hour's reach from T0 + 2 minutes


@pytest.fixture(scope="module")
def twins(server):
    """Twins A and B with Power records (A's above, one of B's inside the range) and A's Alpha records in the
    range; a contract ``twins`` over them."""
    with (ApiSession(server.url) as admin, temporary_tenant(admin, prefix="q") as tenant,
          tenant_session(server.url, tenant) as api):
        a, b = make_twins(api, tenant, ("Twin A", "Twin B"), quality_code=True)
        for asset, aspect, records in [
            (a, "Power", POWER[:3]), (a, "Power", POWER[3:]),
            (a, "Alpha", [(T0 + 30 * SECOND, 1000.0, 0), (T0 + 90 * SECOND, 1000.0, 0)]),
            (b, "Power", [(T0 + 30 * SECOND, 500.0, 0)]),
        ]:
            body = [{"_time": time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time.microsecond // 1000:03d}Z",
                     "current": value, "current_qc": qc} for time, value, qc in records]
            assert api.put(f"{TIMESERIES}/{asset}/{aspect}", json=body).status_code == 204
        publish_contract(api, tenant, name="twins", types=("Twin",))
        yield {"api": api, "a": a, "b": b}


def _seconds(twins, bounds: str, value: int = 60, **options) -> dict[str, dict]:
    """Twin A's seconds aggregates of ``current``: timestamp -> {aggregationType: value}."""
    body = ok(twins["api"].get(AGGR, params={"$filter": f"assetId eq '{twins['a']}' and variableName eq 'current' "
                                                        f"and intervalUnit eq 'seconds' and intervalValue eq {value} "
                                                        f"and {bounds}", **options}))
    out: dict[str, dict] = {}
    for row in body["value"]:
        assert (row["intervalUnit"], row["intervalValue"]) == ("seconds", value), row
        out.setdefault(row["timestamp"], {})[row["aggregationType"]] = row["value"]
    return out


def _between(lo: datetime, hi: datetime) -> str:
    return f"timestamp gt '{stamp(lo)}' and timestamp le '{stamp(hi)}'"


def _summary(stats: dict) -> tuple:
    return (stats["countgood"], stats["countbad"], stats["firstvalue"], stats["lastvalue"], stats["sum"])


def test_an_interval_holds_the_records_after_its_start_up_to_its_end(twins):
    """T0's interval holds the records at T0 + 1 ms and T0 + 60 s (a bad one), not the one at T0; the next holds
    T0 + 60.001 s and T0 + 120 s; nothing past the range, nothing of the Alpha aspect or of twin B. Mutants of
    ``_raw_stats``: ``_20`` read past the range's end (500), ``_29`` took the record at the start, ``_45`` moved
    the record 1 ms after a boundary into the interval before, ``_18`` read the Alpha aspect too, ``_49, 51, 52``
    lost the quality codes (all good)."""
    got = _seconds(twins, _between(T0, T0 + 2 * MINUTE))
    assert {t: _summary(s) for t, s in got.items()} == {
        stamp(T0): (1, 1, 1.0, 2.0, 3.0), stamp(T0 + MINUTE): (2, 0, 3.0, 4.0, 7.0)}


def test_the_range_is_widened_to_whole_intervals_and_cut_to_the_count(twins):
    """A start inside an interval starts at that interval (T0 + 30 s: at T0, ``_seconds_plan__mutmut_26`` moved
    it forward); intervalCount keeps the first intervals of the range (``_54`` ignored it)."""
    assert list(_seconds(twins, _between(T0 + 30 * SECOND, T0 + 2 * MINUTE))) == [stamp(T0), stamp(T0 + MINUTE)]
    assert list(_seconds(twins, _between(T0, T0 + 2 * MINUTE) + " and intervalCount eq 1")) == [stamp(T0)]


@pytest.mark.parametrize("bounds, expected", [
    # only a start: as many intervals after it as the count says
    (f"timestamp gt '{stamp(T0)}' and intervalCount eq 2", [T0, T0 + MINUTE]),
    # only an end: as many intervals before it as the count says
    (f"timestamp le '{stamp(T0 + 2 * MINUTE)}' and intervalCount eq 2", [T0, T0 + MINUTE]),
    # only an end, no count: an hour before it (the record 58.5 minutes before T0 lies just outside)
    (f"timestamp le '{stamp(T0 + 2 * MINUTE)}'", [T0 - MINUTE, T0, T0 + MINUTE]),
])
def test_a_missing_bound_is_completed_from_the_other(twins, bounds, expected):
    """One bound given: the other is the count's intervals away, or an hour before the end (at most 2000
    intervals). ``_seconds_plan__mutmut_6..17`` moved the completed bound the wrong way or by the wrong amount,
    ``_18`` went an hour forward, ``_23`` an hour and a millisecond back (one interval more: the record at T0 -
    58.5 min)."""
    assert list(_seconds(twins, bounds)) == [stamp(t) for t in expected]


@pytest.mark.parametrize("bounds", ["intervalCount eq 2", "timestamp gt '2030-01-01T00:00:00'"])
def test_a_range_that_ends_now_or_lies_ahead_holds_nothing_yet(twins, bounds):
    """A count alone reaches back from now; a start after now makes no interval: both answer an empty list
    (``_seconds_plan__mutmut_10`` added the count to a missing start, ``_bound_raw_work__mutmut_1`` counted the
    records of no interval: both 500)."""
    assert _seconds(twins, bounds) == {}


def test_a_seconds_range_covers_at_most_a_day(twins):
    """24 hours exactly are allowed; a second more (widened to the next whole minute) is refused, saying so in
    full and naming ``timestamp`` (``_seconds_plan__mutmut_34, 36`` moved the limit, ``_37..46`` garbled the
    message or the target)."""
    assert stamp(T0) in _seconds(twins, _between(T0, T0 + timedelta(days=1)))
    resp = twins["api"].get(AGGR, params={"$filter": f"assetId eq '{twins['a']}' and intervalUnit eq 'seconds' and "
                                                     f"intervalValue eq 60 and "
                                                     f"{_between(T0, T0 + timedelta(days=1, seconds=1))}"})
    assert refused(resp, 400) == "$filter: seconds intervals cover at most 24 hours; narrow the timestamp range"
    assert resp.json()["error"]["target"] == "timestamp"


def test_the_records_a_query_computes_from_are_counted_exactly(twins, monkeypatch):
    """The bound of raw records (100,000; lowered here, the server runs in this process) counts twin A's Power
    records inside the widened range: (T0, T0 + 2 min] holds 4, answered with the bound at 4; at 3 it is refused
    naming the 4 (not the record at T0, the one past the end, Alpha's or twin B's).
    Mutants of ``_bound_raw_work`` that counted another aspect, other assets, either edge or no edge, refused at
    the bound itself or garbled the message all survived the OData tests."""
    bounds = _between(T0, T0 + 2 * MINUTE)
    monkeypatch.setattr(limits, "DATAHUB_SECONDS_MAX_RECORDS", 4)
    assert len(_seconds(twins, bounds)) == 2
    monkeypatch.setattr(limits, "DATAHUB_SECONDS_MAX_RECORDS", 3)
    resp = twins["api"].get(AGGR, params={"$filter": f"assetId eq '{twins['a']}' and intervalUnit eq 'seconds' and "
                                                     f"intervalValue eq 60 and {bounds}"})
    assert refused(resp, 400) == ("$filter: seconds intervals are computed from at most 3 records; this range holds "
                                  "4: narrow the timestamp range or the assets (assetId)")
    assert resp.json()["error"]["target"] == "timestamp"
    # without an assetId every twin's records count: B's one in the range makes 5
    resp = twins["api"].get(AGGR, params={"$filter": f"intervalUnit eq 'seconds' and intervalValue eq 60 and {bounds}"})
    assert "this range holds 5:" in refused(resp, 400)
