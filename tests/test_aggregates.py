"""TS Aggregates v4 and v3 over HTTP: the interval rules, alignment in the tenant's time zone, the
exact fields, and refusals in each version's envelope."""

from __future__ import annotations

import math
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from emulator.aggregates import query
from emulator.app import init_state
from emulator.clock import Clock
from emulator.settings import Settings
from emulator.store import Store
from emulator.store.engine import fast_rows
from emulator.testing import ApiSession, LiveServer
from tests.support.odata import publish_contract
from tests.support.paths import (
    AGGREGATES_V3,
    AGGREGATES_V4,
    ASPECT_TYPES,
    ASSET_TYPES,
    ASSETS,
    ODATA,
    TENANTS,
    TIMESERIES,
)
from tests.support.tenants import create_tenant, temporary_tenant, tenant_session
from tests.support.timeseries import make_pump

FIELDS = {"countgood", "countuncertain", "countbad", "sum", "average", "minvalue", "mintime", "maxvalue", "maxtime",
          "firstvalue", "firsttime", "lastvalue", "lasttime", "sd"}
UNCERTAIN, BAD = 0x40000000, 0x80000000


@pytest.fixture
def pump(api, tenant):
    asset = make_pump(api, tenant)
    # 2026-03-02 (a Monday), one record a minute from 00:01 to 03:00 UTC; temperature = minute of the day
    records = [{"_time": f"2026-03-02T{m // 60:02d}:{m % 60:02d}:00.000Z", "temperature": float(m),
                "temperature_qc": [0, UNCERTAIN, BAD][m % 3], "count": 1, "status": "ok"} for m in range(1, 181)]
    assert api.put(f"{TIMESERIES}/{asset}/Sensors", json=records).status_code == 204
    return asset


def v4(api, asset, **params):
    return api.get(AGGREGATES_V4, params={"assetId": asset, "aspectName": "Sensors", **params})


def core_error(resp, status: int, fragment: str = ""):
    assert resp.status_code == status, resp.text
    (error,) = resp.json()["errors"]
    assert fragment in error["message"], error
    return error


def test_hourly_aggregates_have_exactly_the_fields(api, pump):
    resp = v4(api, pump, **{"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T03:00:00Z", "intervalUnit": "hour",
                            "intervalValue": "1"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert list(body) == ["aggregates"]
    first = body["aggregates"][0]
    assert set(first) == {"starttime", "endtime", "temperature", "count", "total"} - {"total"}
    assert (first["starttime"], first["endtime"]) == ("2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z")
    temp = first["temperature"]
    assert set(temp) == FIELDS
    assert all(temp[f] is not None for f in FIELDS)
    values = [float(m) for m in range(1, 61)]  # (00:00, 01:00]: minutes 1..60
    assert (temp["countgood"], temp["countuncertain"], temp["countbad"]) == (20, 20, 20)
    assert temp["sum"] == sum(values) and temp["average"] == sum(values) / 60
    assert (temp["minvalue"], temp["mintime"]) == (1.0, "2026-03-02T00:01:00Z")
    assert (temp["maxvalue"], temp["maxtime"]) == (60.0, "2026-03-02T01:00:00Z")
    assert (temp["firstvalue"], temp["lastvalue"]) == (1.0, 60.0)
    mean = sum(values) / 60
    assert math.isclose(temp["sd"], math.sqrt(sum((v - mean) ** 2 for v in values) / 60))
    assert first["count"]["sum"] == 60 and first["count"]["countgood"] == 60  # no qc: good
    assert len(body["aggregates"]) == 3


def test_misaligned_bounds_are_widened(api, pump):
    body = v4(api, pump, **{"from": "2026-03-02T01:10:00Z", "to": "2026-03-02T02:50:00Z", "intervalUnit": "hour",
                            "intervalValue": 1}).json()
    assert [(a["starttime"], a["endtime"]) for a in body["aggregates"]] == [
        ("2026-03-02T01:00:00Z", "2026-03-02T02:00:00Z"), ("2026-03-02T02:00:00Z", "2026-03-02T03:00:00Z")]


def test_intervals_without_data_are_left_out(api, pump):
    body = v4(api, pump, **{"from": "2026-03-01T22:00:00Z", "to": "2026-03-02T02:00:00Z", "intervalUnit": "hour",
                            "intervalValue": 1}).json()
    assert [a["starttime"] for a in body["aggregates"]] == ["2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z"]


def test_minute_intervals_and_select(api, pump):
    body = v4(api, pump, **{"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T00:10:00Z", "intervalUnit": "minute",
                            "intervalValue": 4, "select": "temperature.sum,temperature.countbad"}).json()
    assert body["aggregates"][0] == {"starttime": "2026-03-02T00:00:00Z", "endtime": "2026-03-02T00:04:00Z",
                                     "temperature": {"sum": 10.0, "countbad": 1}}
    assert len(body["aggregates"]) == 3  # to is widened to 00:12


def test_select_names_variables_and_fields(api, pump):
    """``select`` takes whole variables and single fields, skips empty items, and blank means every numeric
    variable; an interval of one rollup (hours of hourly rollups) answers only the selected fields too (mutants of
    ``parse_select`` and of ``aggregate``'s kept-object path survived: a whole variable answered 500, a field
    list was answered whole)."""
    hour = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T02:00:00Z", "intervalUnit": "hour", "intervalValue": 1}
    whole = v4(api, pump, **hour).json()["aggregates"]
    assert set(whole[0]) == {"starttime", "endtime", "temperature", "count"}
    only = v4(api, pump, **hour, select="temperature").json()["aggregates"]
    assert [set(i) for i in only] == [{"starttime", "endtime", "temperature"}] * 2
    assert [i["temperature"] for i in only] == [i["temperature"] for i in whole]
    assert v4(api, pump, **hour, select="count,,temperature").json()["aggregates"] == whole
    assert v4(api, pump, **hour, select="  ").json()["aggregates"] == whole
    fields = v4(api, pump, **hour, select="temperature.maxvalue,count.sum,temperature.mintime").json()["aggregates"]
    assert fields[0] == {"starttime": "2026-03-02T00:00:00Z", "endtime": "2026-03-02T01:00:00Z",
                         "temperature": {"maxvalue": 60.0, "mintime": "2026-03-02T00:01:00Z"}, "count": {"sum": 60}}


def test_an_aspect_without_numeric_variables_has_no_aggregates(api, tenant):
    """Only INT, LONG and DOUBLE variables are aggregated: an aspect with none answers no intervals (not an error;
    on PostgreSQL a query for no variables at all was a syntax error, a 500)."""
    t = tenant["name"]
    assert api.put(f"{ASPECT_TYPES}/{t}.Notes", json={"name": "Notes", "category": "dynamic", "variables": [
        {"name": "text", "dataType": "STRING", "length": 20}]}).status_code == 201
    assert api.put(f"{ASSET_TYPES}/{t}.Noted", json={"name": "Noted", "parentTypeId": "core.basicasset", "aspects": [
        {"name": "Notes", "aspectTypeId": f"{t}.Notes"}]}).status_code == 201
    asset = api.post(ASSETS, json={"name": "N", "typeId": f"{t}.Noted", "parentId": tenant["rootAssetId"]})
    assert asset.status_code == 201, asset.text
    asset_id = asset.json()["assetId"]
    assert api.put(f"{TIMESERIES}/{asset_id}/Notes", json=[{"_time": "2026-03-02T00:01:00Z", "text": "hi"}]
                   ).status_code == 204
    resp = api.get(AGGREGATES_V4, params={"assetId": asset_id, "aspectName": "Notes", "from": "2026-03-02T00:00:00Z",
                                          "to": "2026-03-02T01:00:00Z", "intervalUnit": "hour", "intervalValue": 1})
    assert resp.status_code == 200 and resp.json() == {"aggregates": []}, resp.text


@pytest.mark.parametrize(("select", "message"), [
    ("status", "select: 'status' is STRING; only INT, LONG and DOUBLE variables are aggregated"),
    ("pressure", "select: 'pressure' is not a variable of aspect 'Sensors'"),
    ("temperature.median", "select: 'median' is not an aggregate (countgood, countuncertain, countbad, sum, average, "
                           "minvalue, mintime, maxvalue, maxtime, firstvalue, firsttime, lastvalue, lasttime, sd)")])
def test_select_refusals(api, pump, select, message):
    error = core_error(v4(api, pump, **{"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T01:00:00Z",
                                        "intervalUnit": "hour", "intervalValue": 1, "select": select}), 400)
    assert error["message"] == message


@pytest.mark.parametrize(("unit", "value"), [("days", 1), ("seconds", 10), ("second", 1), ("year", 1), ("", 1),
                                             ("minute", 3), ("minute", 1), ("minute", 62), ("hour", 25), ("hour", 0),
                                             ("day", 91), ("week", 13), ("month", 4), ("hour", "x")])
def test_interval_unit_and_value_rules(api, pump, unit, value):
    resp = v4(api, pump, **{"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T01:00:00Z", "intervalUnit": unit,
                            "intervalValue": value})
    error = core_error(resp, 400)
    assert error["code"] == "mdsp.core.generic.invalidParameter"


@pytest.mark.parametrize(("unit", "span", "limit"), [("minute", timedelta(hours=25), "at most 24 hours"),
                                                     ("hour", timedelta(days=8), "at most 7 days"),
                                                     ("day", timedelta(days=91), "at most 90 days")])
def test_maximum_range_per_unit(api, pump, unit, span, limit):
    """The refusal names the unit's limit (minutes' once read "at most 1 days"; mutants of its wording lived)."""
    start = datetime(2026, 3, 2, tzinfo=UTC)
    resp = v4(api, pump, **{"from": start.isoformat(), "to": (start + span).isoformat(), "intervalUnit": unit,
                            "intervalValue": 2 if unit == "minute" else 1})
    core_error(resp, 400, f"The range is too long for intervalUnit {unit}: {limit}")


def _spans(body) -> list[tuple[str, str]]:
    return [(a["starttime"], a["endtime"]) for a in body["aggregates"]]


BERLIN_DAY = ("2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z")  # the local day of the pump's records


def _steps(minutes: int, count: int) -> list[tuple[str, str]]:
    """``count`` intervals of ``minutes`` from 2026-03-02T00:00Z."""
    start = datetime(2026, 3, 2, tzinfo=UTC)
    return [tuple((start + timedelta(minutes=minutes * k)).strftime("%Y-%m-%dT%H:%M:%SZ") for k in (i, i + 1))
            for i in range(count)]


@pytest.mark.parametrize(("params", "spans"), [
    ({"to": "2026-03-02T03:00:00Z"}, _steps(60, 3)),  # 3 hours: by the hour
    ({"to": "2026-03-02T00:01:00Z"}, _steps(2, 1)),  # a minute: by 2 minutes still
    ({"to": "2026-03-02T01:00:00Z"}, _steps(60, 1)),  # exactly an hour is by the hour
    ({"to": "2026-03-02T00:59:00Z"}, _steps(2, 30)),  # less than an hour: by 2 minutes
    ({"to": "2026-03-03T00:00:00Z"}, [BERLIN_DAY]),  # exactly a day is by the (local) day
    ({"to": "2026-05-29T00:00:00Z"}, [BERLIN_DAY]),  # 88 days still by the day
    ({"to": "2026-03-02T03:00:00Z", "count": 3}, _steps(60, 3)),  # 3 x 60 minutes cover it exactly
    ({"to": "2026-03-02T03:00:00Z", "count": 2}, _steps(120, 2)),  # 2 x 90 minutes: 2 hours each
    ({"to": "2026-03-02T03:00:00Z", "count": 12}, _steps(16, 12)),  # 15 minutes: 16, the next even number
])
def test_v4_derives_the_interval_from_the_range_or_count(api, pump, params, spans):
    """With neither intervalUnit nor intervalValue v4 picks them (intervals.py's [?] decision): by the day, the
    hour or 2 minutes, whichever the range holds at least once, or with ``count`` the smallest interval that
    covers the range in ``count`` intervals. No test asked before: 37 mutants of ``_derive`` lived."""
    body = v4(api, pump, **{"from": "2026-03-02T00:00:00Z", **params}).json()
    assert _spans(body) == [s for s in spans if s[0] < "2026-03-02T03:00:00Z"], body  # those with data


def test_v4_count_over_exactly_a_day_takes_2_minutes(api, pump):
    """A day is the 2-minute unit's maximum range, and within it: 720 x 2 minutes cover it exactly. Mutant
    ``_derive_20`` (the range strictly under the unit's maximum) skipped every minute interval and answered hours."""
    body = v4(api, pump, **{"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z", "count": 720}).json()
    assert _spans(body) == _steps(2, 90), body  # the 90 with data (00:00 to 03:00)


def test_v4_count_does_not_refuse_the_widening_it_chose(api, pump):
    """From 00:30 to 00:30 the next day in 24 intervals: 60 minutes would widen the range to 25 hours, past the
    minute unit's 24, so v4 takes hours (README fidelity notes: MindSphere derives the interval, then widens the
    bounds to it; it does not refuse its own choice). Before, the emulator chose 60 minutes and answered 400."""
    resp = v4(api, pump, **{"from": "2026-03-02T00:30:00Z", "to": "2026-03-03T00:30:00Z", "count": 24})
    assert resp.status_code == 200, resp.text
    assert _spans(resp.json()) == _steps(60, 3), resp.text  # widened to 00:00; the three hours with data


def test_v4_one_bound_and_no_unit_is_by_the_day(api, pump):
    """Only ``to``: the 90 days before it, by the (local) day."""
    body = v4(api, pump, to="2026-03-03T23:00:00Z").json()  # a local midnight, as is 90 days before it
    assert _spans(body) == [BERLIN_DAY], body


def test_refusals_say_exactly_what_is_wrong(api, pump):
    """Messages in full: a mutant that garbled one (``"XX" + message + "XX"``) passed every check of a fragment."""
    v3 = f"{AGGREGATES_V3}/{pump}/Sensors"
    for url, params, message in [
        (v3, {"from": "2026-03-02T01:00:00Z", "to": "2026-03-02T01:00:00Z", "intervalUnit": "hour", "intervalValue": 1},
         "from must be before to"),
        (v3, {"from": "2026-03-02T00:10:00Z", "to": "2026-03-02T02:00:00Z", "intervalUnit": "hour", "intervalValue": 1},
         "from 2026-03-02T00:10:00Z is finer than the interval unit hour: it must fall on a whole hour"),
        (AGGREGATES_V4, {"assetId": pump, "aspectName": "Sensors", "from": "2026-03-02T00:00:00Z",
                         "to": "2026-06-10T00:00:00Z", "count": 1}, "No interval covers the range in count intervals"),
    ]:
        resp = api.get(url, params=params)
        assert resp.status_code == 400, resp.text
        body = resp.json()
        assert (body["message"] if url == v3 else body["errors"][0]["message"]) == message, body


def test_v3_days_follow_the_local_calendar_across_dst(api, pump):
    """Sunday 29 March 2026 lasts 23 hours in Berlin: v3's two local days from Saturday's midnight are a whole
    number of days (24-hour steps, the zone dropped from ``build``, made it a refusal)."""
    resp = api.get(f"{AGGREGATES_V3}/{pump}/Sensors", params={"from": "2026-03-27T23:00:00Z",
                                                              "to": "2026-03-29T22:00:00Z",
                                                              "intervalUnit": "day", "intervalValue": 1})
    assert resp.status_code == 200 and resp.json() == [], resp.text


@pytest.mark.parametrize(("params", "fragment"), [
    ({"to": "2026-06-10T00:00:00Z"}, "too long for intervalUnit minute"),  # 100 days: no unit holds them
    ({"to": "2026-05-31T00:00:00Z"}, "too long for intervalUnit day"),  # 90 days: by the day, widened past 90
    ({"to": "2026-06-10T00:00:00Z", "count": 1}, "No interval covers the range in count intervals"),
])
def test_v4_derivation_refusals(api, pump, params, fragment):
    core_error(v4(api, pump, **{"from": "2026-03-02T00:00:00Z", **params}), 400, fragment)


def test_days_weeks_months_follow_the_tenant_time_zone(api, pump):
    """Europe/Berlin is UTC+1 in March: a local day starts at 23:00 UTC the day before.

    The week and the month must come back with the pump's 180 records, not merely not wrong: the week check was
    ``week == [] or ...``, so a mutant that made every ``intervalUnit=week`` query answer ``[]`` (``return []`` at
    the top of ``aggregate()`` in emulator/aggregates/query.py when ``plan.unit == "week"``) passed the suite."""
    day = v4(api, pump, **{"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T02:00:00Z", "intervalUnit": "day",
                           "intervalValue": 1}).json()["aggregates"]
    assert [(a["starttime"], a["endtime"]) for a in day] == [("2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z")]
    assert day[0]["temperature"]["countgood"] + day[0]["temperature"]["countuncertain"] + \
        day[0]["temperature"]["countbad"] == 180
    week = v4(api, pump, **{"from": "2026-03-04T00:00:00Z", "to": "2026-03-05T00:00:00Z", "intervalUnit": "week",
                            "intervalValue": 1}).json()["aggregates"]
    # the week of Monday 2 March, local midnight to local midnight: it holds all of the pump's records
    assert [(a["starttime"], a["endtime"]) for a in week] == [("2026-03-01T23:00:00Z", "2026-03-08T23:00:00Z")]
    assert _counted(week[0]["temperature"]) == 180 and week[0]["temperature"]["sum"] == float(sum(range(1, 181)))
    month = v4(api, pump, **{"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z", "intervalUnit": "month",
                             "intervalValue": 1}).json()["aggregates"]
    assert [(a["starttime"], a["endtime"]) for a in month] == [("2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z")]
    assert _counted(month[0]["temperature"]) == 180 and month[0]["temperature"]["maxvalue"] == 180.0


def _counted(stats: dict) -> int:
    return stats["countgood"] + stats["countuncertain"] + stats["countbad"]


def test_count_with_one_bound_gives_the_other(api, pump):
    body = v4(api, pump, **{"from": "2026-03-02T00:00:00Z", "intervalUnit": "hour", "intervalValue": 1,
                            "count": 2}).json()
    assert [a["endtime"] for a in body["aggregates"]] == ["2026-03-02T01:00:00Z", "2026-03-02T02:00:00Z"]


@pytest.mark.parametrize(("params", "spans"), [
    ({"to": "2026-03-02T03:00:00Z", "intervalUnit": "hour", "intervalValue": 1, "count": 2}, [1, 2]),  # back from to
    ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T03:00:00Z", "intervalUnit": "hour"}, [0, 1, 2]),  # value 1
    ({"from": "2026-03-02T00:00:00Z", "intervalUnit": "hour"}, [0, 1, 2]),  # to: from + 7 days (or now)
    ({"from": "2026-03-02T00:00:00Z", "intervalUnit": "hour", "count": ""}, [0, 1, 2]),  # an empty count: none
    ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T03:00:00Z", "intervalUnit": "hour", "intervalValue": 1,
      "count": 1_000_000}, [0, 1, 2]),  # both bounds: count only keeps the first, however large
])
def test_v4_completes_what_is_missing(api, pump, params, spans):
    """mindsphere-api.md 4a: one bound with unit, value and count gives the other; a unit alone takes its first
    value; ``from`` alone reaches the unit's maximum; with both bounds a large ``count`` cuts nothing and is no
    "range too long"; an empty ``count`` is none (intervals.py ``plan_v4__mutmut_12, 13, 17, 18, 47..60, 65, 75``,
    ``parse_count__mutmut_6``)."""
    resp = v4(api, pump, **params)
    assert resp.status_code == 200, resp.text
    assert _spans(resp.json()) == [_steps(60, 3)[i] for i in spans]


def test_v4_count_alone_reaches_back_from_now(api, tenant):
    """``count`` with unit and value and no bounds: the last ``count`` intervals up to now (the days of the
    records 0 to 3 days old), not the 7 default days (``plan_v4__mutmut_30``) nor days ahead (``_43``)."""
    asset = make_pump(api, tenant)
    now = datetime.now(UTC)
    records = [{"_time": (now - timedelta(days=d, hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "count": d}
               for d in range(10)]
    assert api.put(f"{TIMESERIES}/{asset}/Sensors", json=records).status_code == 204
    resp = v4(api, asset, intervalUnit="day", intervalValue=1, count=3)
    assert resp.status_code == 200, resp.text
    ages = [a["count"]["maxvalue"] for a in resp.json()["aggregates"]]
    assert 2 <= len(ages) <= 3 and max(ages) <= 3, ages


def test_defaults_are_the_last_seven_days_by_day(api, tenant):
    asset = make_pump(api, tenant)
    now = datetime.now(UTC)
    records = [{"_time": (now - timedelta(days=d, hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "count": d}
               for d in range(10)]
    api.put(f"{TIMESERIES}/{asset}/Sensors", json=records)
    body = v4(api, asset).json()["aggregates"]
    assert 7 <= len(body) <= 8
    assert sum(a["count"]["countgood"] for a in body) in (7, 8)


def test_rollups_follow_overwrites_and_deletes(api, pump):
    query = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T01:00:00Z", "intervalUnit": "hour", "intervalValue": 1}
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[{"_time": "2026-03-02T00:30:00Z", "temperature": 1000.0}])
    temp = v4(api, pump, **query).json()["aggregates"][0]["temperature"]
    assert temp["maxvalue"] == 1000.0 and temp["sum"] == sum(range(1, 61)) - 30 + 1000
    api.delete(f"{TIMESERIES}/{pump}/Sensors", params={"from": "2026-03-02T00:20:00Z", "to": "2026-03-02T00:40:00Z"})
    temp = v4(api, pump, **query).json()["aggregates"][0]["temperature"]
    assert temp["maxvalue"] == 60.0 and temp["sum"] == sum(range(1, 61)) - sum(range(21, 41))
    api.delete(f"{TIMESERIES}/{pump}/Sensors", params={"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"})
    assert v4(api, pump, **query).json() == {"aggregates": []}


def test_an_hour_asked_again_answers_what_its_records_are_now(api, pump):
    """An interval of one rollup answers the rollup's encoded object, kept by the rollup's values
    (``emulator.aggregates.query``): after each overwrite, the hour asked again (and again, from what is kept) must
    answer exactly the text of the same hour asked field by field (``select`` naming every field, which encodes
    afresh), even when the values differ only in the sign of a zero (``-0.0 == 0.0`` and both hash alike, so a
    cache keyed by the values alone could answer the other's text where the store keeps the sign)."""
    query = {"from": "2026-03-03T00:00:00Z", "to": "2026-03-03T01:00:00Z", "intervalUnit": "hour", "intervalValue": 1}
    every_field = ",".join(f"temperature.{f}" for f in ("countgood", "countuncertain", "countbad", "sum", "average",
                                                          "minvalue", "mintime", "maxvalue", "maxtime", "firstvalue",
                                                          "firsttime", "lastvalue", "lasttime", "sd"))
    for value in ("-0.0", "0.0", "-0.0", "2.5", "0.0"):
        resp = api.put(f"{TIMESERIES}/{pump}/Sensors", data=f'[{{"_time": "2026-03-03T00:30:00Z", "temperature": '
                       f'{value}}}]', headers={"Content-Type": "application/json"})
        assert resp.status_code == 204, resp.text
        afresh = v4(api, pump, **query, select=every_field)
        assert afresh.status_code == 200, afresh.text
        assert afresh.json()["aggregates"][0]["temperature"]["minvalue"] == float(value)
        for _ in range(2):
            again = v4(api, pump, **query)
            assert again.status_code == 200 and again.text == afresh.text, (value, again.text, afresh.text)


def test_the_kept_answer_objects_cost_their_text_not_the_encoders_buffer(api, pump, monkeypatch):
    """What a worker keeps of aggregate answers (``emulator.aggregates.query``) stays a few megabytes when full: each
    kept object costs about its text. Kept as ``orjson.dumps`` returns it, each held the 8 KB buffer it was written
    into (a 300-byte object): a full store was 400 MB, and a ten-minute soak's workers grew from 160 to 540 MB each.
    Measured with ``tracemalloc`` (this server runs in the test's process), over the 90 two-minute intervals of the
    fixture's three hours, every variable's object kept."""
    monkeypatch.setattr(query, "_ENCODED", {})
    tracemalloc.start()
    try:
        resp = v4(api, pump, **{"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T03:00:00Z", "intervalUnit": "minute",
                                "intervalValue": "2"})
        assert resp.status_code == 200, resp.text
        held = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, query.__file__)])
    finally:
        tracemalloc.stop()
    kept = len(query._ENCODED)
    assert kept == 90 * 2, kept  # temperature and count (status is a string: no statistics)
    per_object = sum(stat.size for stat in held.statistics("filename")) / kept
    assert per_object < 1024, per_object
    assert per_object * query._ENCODED_MAX < 8 * 1024 * 1024, (per_object, query._ENCODED_MAX)


def test_a_range_of_rollups_is_read_where_it_lies(tmp_path):
    """On SQLite the rollups an aggregate reads are kept in their key's order (a table without rowid): a 30-day answer's
    150 day rollups are one run of the key. With a rowid, the key was an index beside the table and each row it found
    was looked up in the table apart (that read took 204 us, now 146)."""
    url = "sqlite:///" + str(tmp_path / "e.sqlite3")
    store = Store(url)
    try:
        init_state(Settings(database_url=url), store, Clock())
        with store.transaction() as conn:
            plan = fast_rows(conn, "EXPLAIN QUERY PLAN " + query._ROLLUPS.format(marks="?, ?"),
                             "t", "a", "Sensors", "temperature", "count", 86400, 0, 30 * 86_400_000)
    finally:
        store.dispose()
    (step,) = [row[-1] for row in plan]
    assert step.startswith("SEARCH ts_rollups USING PRIMARY KEY (tenant_id=? AND asset_id=? AND aspect=? AND "
                           "variable=? AND size=? AND start>? AND start<?)"), step


def test_a_negative_zero_is_aggregated_as_written_at_every_level(api, pump):
    """A value written as -0.0 is its minimum, maximum, first and last at every level: the 2-minute rollups, the
    hour folded from them and the day folded from the hours. Each level keeps its values packed (the sign too); SQLite
    writes -0.0 into a REAL column as 0, so a level folded from those columns answered 0.0 where the one below it
    answered -0.0."""
    assert api.put(f"{TIMESERIES}/{pump}/Sensors", data='[{"_time": "2026-03-04T10:00:30Z", "temperature": -0.0}]',
                   headers={"Content-Type": "application/json"}).status_code == 204
    for unit, value, upto in (("minute", 2, "2026-03-04T10:02:00Z"), ("hour", 1, "2026-03-04T11:00:00Z"),
                              ("day", 1, "2026-03-05T00:00:00Z")):
        start = "2026-03-04T10:00:00Z" if unit != "day" else "2026-03-04T00:00:00Z"
        resp = v4(api, pump, **{"from": start, "to": upto, "intervalUnit": unit, "intervalValue": value})
        assert resp.status_code == 200, resp.text
        temp = resp.json()["aggregates"][0]["temperature"]
        for field in ("minvalue", "maxvalue", "firstvalue", "lastvalue"):
            assert math.copysign(1.0, temp[field]) == -1.0, (unit, field, resp.text)


def test_v4_missing_and_unknown_ids(api, pump):
    error = core_error(api.get(AGGREGATES_V4, params={"aspectName": "Sensors"}), 400, "assetId")
    assert error["code"] == "mdsp.core.generic.missingParameter"
    core_error(v4(api, "f" * 32), 404)
    core_error(v4(api, pump, aspectName="Nope"), 404)


def test_v3_answers_a_bare_array(api, pump):
    resp = api.get(f"{AGGREGATES_V3}/{pump}/Sensors", params={"from": "2026-03-02T00:00:00Z",
                                                              "to": "2026-03-02T02:00:00Z",
                                                              "intervalUnit": "hour", "intervalValue": 1})
    assert resp.status_code == 200
    body = resp.json()
    assert isinstance(body, list) and len(body) == 2
    assert set(body[0]["temperature"]) == FIELDS


@pytest.mark.parametrize(("params", "fragment"), [
    ({"to": "2026-03-02T02:00:00Z", "intervalUnit": "hour", "intervalValue": 1}, "from is required"),
    ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T02:00:00Z", "intervalValue": 1}, "intervalUnit is required"),
    ({"from": "2026-03-02T00:10:00Z", "to": "2026-03-02T02:00:00Z", "intervalUnit": "hour", "intervalValue": 1},
     "finer than the interval unit"),
    ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T02:30:00Z", "intervalUnit": "hour", "intervalValue": 2},
     "finer"),
    ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T03:00:00Z", "intervalUnit": "hour", "intervalValue": 2},
     "not a whole number"),
    ({"from": "2026-03-03T00:00:00Z", "to": "2026-03-02T00:00:00Z", "intervalUnit": "hour", "intervalValue": 1},
     "from must be before to"),
    ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T00:00:00Z", "intervalUnit": "hour", "intervalValue": 1},
     "from must be before to"),  # an empty range is no range
    ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z", "intervalUnit": "day", "intervalValue": 1},
     "it must fall on a whole day"),  # UTC midnight is 01:00 in Berlin
    ({"from": "2026-03-01T23:00:00Z", "to": "2026-03-05T23:00:00Z", "intervalUnit": "week", "intervalValue": 1},
     "to 2026-03-05T23:00:00Z is finer than the interval unit week: it must fall on a Monday midnight"),
])
def test_v3_stricter_rules(api, pump, params, fragment):
    resp = api.get(f"{AGGREGATES_V3}/{pump}/Sensors", params=params)
    assert resp.status_code == 400, resp.text
    assert set(resp.json()) == {"id", "message"} and fragment in resp.json()["message"]


def test_v3_days_and_weeks_are_the_tenants(api, pump):
    """v3's alignment is to local midnights (Europe/Berlin) too: checked in UTC instead (the zone dropped from
    ``is_aligned``), a mutant lived."""
    for unit, to in (("day", "2026-03-02T23:00:00Z"), ("week", "2026-03-08T23:00:00Z")):
        resp = api.get(f"{AGGREGATES_V3}/{pump}/Sensors", params={"from": "2026-03-01T23:00:00Z", "to": to,
                                                                  "intervalUnit": unit, "intervalValue": 1})
        assert resp.status_code == 200, resp.text
        assert [(a["starttime"], a["endtime"]) for a in resp.json()] == [("2026-03-01T23:00:00Z", to)]


def test_v3_sixty_minutes_need_no_top_of_hour(api, pump):
    ok = api.get(f"{AGGREGATES_V3}/{pump}/Sensors", params={"from": "2026-03-02T00:10:00Z",
                                                            "to": "2026-03-02T01:10:00Z",
                                                            "intervalUnit": "minute", "intervalValue": 60})
    assert ok.status_code == 200, ok.text
    assert ok.json()[0]["temperature"]["sum"] == float(sum(range(11, 71)))


def test_aggregates_need_their_scope(server, admin, pump, tenant):
    with (temporary_tenant(admin, prefix="s", scopes=["iot.tim.r"]) as created,
          tenant_session(server.url, created) as b):
        error = core_error(b.get(AGGREGATES_V4, params={"assetId": "a" * 32, "aspectName": "S"}), 403, "iot.tsa.r")
        assert error["code"] == "mdsp.core.generic.forbidden"


def test_v4_count_covers_the_range_in_the_tenants_days(api, pump):
    """From 22:00 Berlin on 1 March to 01:00 Berlin on 1 May in one interval: widened to the tenant's local days
    (from Berlin's midnight of 1 March) the range needs 62 days, as UTC days it would need 61. The interval is
    derived from the range as the tenant's zone widens it (``_derive__mutmut_30`` and ``_widened__mutmut_5, 15``
    widened it in UTC, wholly or in part, and chose an interval that ends before ``to``)."""
    resp = v4(api, pump, **{"from": "2026-03-01T21:00:00Z", "to": "2026-04-30T23:00:00Z", "count": 1})
    assert resp.status_code == 200, resp.text
    assert _spans(resp.json()) == [("2026-02-28T23:00:00Z", "2026-05-01T22:00:00Z")], resp.text


@pytest.mark.parametrize("bound", [{"from": "2026-03-02T00:00:00Z"}, {"to": "2026-03-02T00:00:00Z"}])
def test_v4_a_count_past_any_range_is_refused_before_it_is_stepped(api, pump, bound):
    """One bound and a count of 200,000 months: the range the count asks for is refused as too long before the
    missing bound is computed (``plan_v4__mutmut_16, 23, 24`` skipped or shrank that check, and stepping 200,000
    months past the year 9999 answered 500)."""
    resp = v4(api, pump, **bound, intervalUnit="month", intervalValue=1, count=200_000)
    assert core_error(resp, 400)["message"] == "The range is too long for intervalUnit month: at most 90 days"


def test_v4_to_and_count_step_back_in_the_tenants_days(api, pump):
    """``to`` 00:30 Berlin on 31 March and 29 days: back 29 local days is 00:30 on 2 March (the clocks moved on
    29 March), so the intervals start on the local 2 March and a record on 1 March is outside. Stepped back in
    UTC (``plan_v4__mutmut_52``) the start fell on 1 March."""
    assert api.put(f"{TIMESERIES}/{pump}/Sensors", json=[{"_time": "2026-03-01T12:00:00Z", "temperature": 1.0}]
                   ).status_code == 204
    resp = v4(api, pump, to="2026-03-30T22:30:00Z", intervalUnit="day", intervalValue=1, count=29)
    assert resp.status_code == 200, resp.text
    assert _spans(resp.json()) == [BERLIN_DAY], resp.text


def test_v4_a_count_of_long_intervals_before_to_is_refused_not_stepped(api, pump):
    """16,000 intervals of 90 days before ``to`` are 3,900 years: refused as too long before they are stepped
    back past the year 1. ``plan_v4__mutmut_24`` weighed count / value (16,000 / 90 days fit the check) and
    answered 500 (a value of 1, as above, cannot tell the two apart)."""
    resp = v4(api, pump, to="2026-03-02T00:00:00Z", intervalUnit="day", intervalValue=90, count=16_000)
    assert core_error(resp, 400)["message"] == "The range is too long for intervalUnit day: at most 90 days"


def test_90_local_days_with_a_25_hour_day_fit_the_maximum(api, pump):
    """1 August to 30 October 2026 in Berlin are 90 local days and an hour (25 October has 25 hours): within the
    day unit's 90 days. ``_fits__mutmut_2, 5, 6`` took the hour of slack from days and refused them."""
    resp = api.get(f"{AGGREGATES_V3}/{pump}/Sensors", params={"from": "2026-07-31T22:00:00Z",
                                                              "to": "2026-10-29T23:00:00Z",
                                                              "intervalUnit": "day", "intervalValue": 1})
    assert resp.status_code == 200 and resp.json() == [], resp.text


def test_rollups_travel_in_a_snapshot_without_their_packed_form(api, admin, server, tenant, pump):
    """A rollup row keeps its values packed too (``ts_rollups.packed``, what an aggregate reads): a snapshot
    carries the readable columns only, and an import packs them again, so the hours read after the round trip are
    the same text; a rollup whose value is no number is refused (400, naming the row), and nothing is imported."""
    hours = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T03:00:00Z", "intervalUnit": "hour", "intervalValue": 1}
    before = v4(api, pump, **hours)
    assert before.status_code == 200 and len(before.json()["aggregates"]) == 3
    doc = admin.get(f"/_emulator/snapshots/{tenant['name']}").json()
    rollups = doc["tables"]["ts_rollups"]
    assert rollups and all("packed" not in r and isinstance(r["sum"], float) for r in rollups)
    assert admin.delete(f"{TENANTS}/{tenant['name']}").status_code == 204
    bad = {**doc, "tables": {**doc["tables"], "ts_rollups": [{**rollups[0], "sum": "many"}, *rollups[1:]]}}
    refused = admin.post("/_emulator/snapshots", json=bad)
    assert refused.status_code == 400 and "ts_rollups[0]" in refused.text, refused.text
    assert admin.get(f"/_emulator/snapshots/{tenant['name']}").status_code == 404
    assert admin.post("/_emulator/snapshots", json=doc).status_code == 201
    with tenant_session(server.url, tenant) as again:
        after = again.get(AGGREGATES_V4, params={"assetId": pump, "aspectName": "Sensors", **hours})
        assert after.status_code == 200 and after.text == before.text


def test_three_local_months_with_a_25_hour_day_fit_the_maximum(api, admin, server, tenant, pump):
    """In Sydney February to April 2024 are 90 days and an hour (7 April has 25 hours): three months within the
    90 days. A tenant's zone is Berlin unless a snapshot says otherwise, and in Berlin no three months of 90 days
    hold the autumn change (the weeks' slack never decides either: 12 weeks are 84 days, 13 are 91), so the
    tenant is exported, given Sydney and imported. ``_fits__mutmut_9, 10`` took the slack from months."""
    doc = admin.get(f"/_emulator/snapshots/{tenant['name']}").json()
    doc["tenant"]["default_timezone"] = "Australia/Sydney"
    assert admin.delete(f"{TENANTS}/{tenant['name']}").status_code == 204
    assert admin.post("/_emulator/snapshots", json=doc).status_code == 201
    with tenant_session(server.url, tenant) as sydney:
        resp = sydney.get(f"{AGGREGATES_V3}/{pump}/Sensors", params={"from": "2024-01-31T13:00:00Z",
                                                                     "to": "2024-04-30T14:00:00Z",
                                                                     "intervalUnit": "month", "intervalValue": 1})
        assert resp.status_code == 200 and resp.json() == [], resp.text
        a_month_more = sydney.get(f"{AGGREGATES_V3}/{pump}/Sensors", params={
            "from": "2024-01-31T13:00:00Z", "to": "2024-05-31T14:00:00Z", "intervalUnit": "month",
            "intervalValue": 1})
        assert a_month_more.status_code == 400, a_month_more.text
        assert "too long for intervalUnit month" in a_month_more.json()["message"]


@pytest.mark.parametrize(("now", "params", "spans"), [
    # from and a count: the count's intervals, though the clock is inside the first (plan_v4__mutmut_64 ended the
    # range at the clock, as without a count)
    ("2026-03-02T00:30:00Z", {"from": "2026-03-02T00:00:00Z", "intervalUnit": "hour", "intervalValue": 1,
                              "count": 3}, _steps(60, 3)),
    # no bounds and a count: back from the clock, 00:30 Berlin on 30 March, 2 local days is 00:30 on 28 March (29
    # March has 23 hours): 28 and 29 March, whose record is on 29 March. In the server's zone (UTC) instead of the
    # tenant's (plan_v4__mutmut_35) it was 23:30 on 27 March: 27 and 28 March, the record of 27 March.
    ("2026-03-29T22:30:00Z", {"intervalUnit": "day", "intervalValue": 1, "count": 2},
     [("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")]),
])
def test_v4_a_missing_bound_is_completed_near_the_clock(now, params, spans):
    """The virtual clock (a server of its own: it is moved) just past the data."""
    with LiveServer(Settings(database_url="sqlite://")) as live, ApiSession(live.url) as admin:
        assert admin.put("/_emulator/clock", json={"mode": "frozen", "time": now}).ok
        created = create_tenant(admin, "clocked")
        with tenant_session(live.url, created) as api:
            asset = make_pump(api, created)
            records = [{"_time": f"2026-03-02T{m // 60:02d}:{m % 60:02d}:00.000Z", "temperature": float(m)}
                       for m in range(1, 181)]
            records += [{"_time": f"2026-03-{day}T12:00:00.000Z", "temperature": 1.0} for day in (27, 29)]
            assert api.put(f"{TIMESERIES}/{asset}/Sensors", json=records).status_code == 204
            resp = v4(api, asset, **params)
    assert resp.status_code == 200, resp.text
    assert _spans(resp.json()) == spans


@pytest.mark.parametrize(("params", "message"), [
    ({"intervalValue": 2}, "intervalValue needs an intervalUnit"),
    ({"intervalUnit": "minute", "intervalValue": 3}, "intervalValue 3 is not allowed for minute: use "
     + ", ".join(str(n) for n in range(2, 61, 2))),
    ({"intervalUnit": "month", "intervalValue": 4}, "intervalValue 4 is not allowed for month: use 1, 2, 3"),
    ({"intervalUnit": "hour", "intervalValue": 25}, "intervalValue 25 is not allowed for hour: use 1 to 24"),
    ({"intervalUnit": "week", "intervalValue": 13}, "intervalValue 13 is not allowed for week: use 1 to 12"),
    ({"intervalUnit": "hour", "to": "2026-03-02T00:00:00Z"}, "from must be before to"),
])
def test_v4_value_and_range_refusals_say_what_is_allowed(api, pump, params, message):
    """Each refusal's message in full: a list of the allowed values where they are few or uneven (minutes,
    months), a range where they run (``parse_value__mutmut_9..11, 16..31`` garbled or swapped them); an empty
    range (from equal to to) is refused as such (``plan_v4__mutmut_112..114``)."""
    resp = v4(api, pump, **{"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T01:00:00Z", **params})
    assert core_error(resp, 400)["message"] == message


def test_v4_an_empty_interval_value_is_none(api, pump):
    """``intervalValue=`` is absent: the unit's first value (``parse_value__mutmut_4`` read it as a number)."""
    params = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T03:00:00Z", "intervalUnit": "hour"}
    resp = v4(api, pump, **params, intervalValue="")
    assert resp.status_code == 200, resp.text
    assert resp.json() == v4(api, pump, **params).json()
    assert _spans(resp.json()) == _steps(60, 3)


@pytest.mark.parametrize(("start", "hour"), [("2999-03-02T00:59:59.999Z", "00"), ("2999-03-02T01:00:00.000Z", "01")])
def test_v4_from_after_the_clock_is_the_interval_holding_it(api, pump, start, hour):
    """``from`` alone, later than the clock: the range ends a millisecond after it, so it is the one interval that
    holds that millisecond: 01:00 ends the first hour, 01:00:00.001 is in the second (``plan_v4__mutmut_84``
    ended the range a millisecond before ``from``: refused on a boundary; ``85`` two after it: the next hour
    too). The year 2999 is after any clock these tests run under."""
    records = [{"_time": f"2999-03-02T{hh}:30:00.000Z", "temperature": 1.0} for hh in ("00", "01", "02")]
    assert api.put(f"{TIMESERIES}/{pump}/Sensors", json=records).status_code == 204
    resp = v4(api, pump, **{"from": start, "intervalUnit": "hour", "intervalValue": 1})
    assert resp.status_code == 200, resp.text
    assert _spans(resp.json()) == [(f"2999-03-02T{hour}:00:00Z", f"2999-03-02T{int(hour) + 1:02d}:00:00Z")]


def test_odata_aggregates_name_the_plans_interval(api, tenant, pump):
    """Data Hub's aggregate rows name their interval from the v4 plan (60 minutes: an hour of one), which the REST
    answer does not show (``plan_v4__mutmut_129`` left the plan without its value)."""
    publish_contract(api, tenant, name="pumps", types=("Pump",))
    resp = api.get(f"{ODATA}/pumps/AGGR_Sensors_Sensors_Pump", params={"$filter": (
        "intervalUnit eq 'minutes' and intervalValue eq 60 and timestamp gt '2026-03-02T00:00:00' and "
        "timestamp le '2026-03-02T02:00:00' and variableName eq 'temperature' and aggregationType eq 'sum'")})
    assert resp.status_code == 200, resp.text
    assert [(r["timestamp"], r["intervalUnit"], r["intervalValue"], r["value"]) for r in resp.json()["value"]] == [
        ("2026-03-02T00:00:00", "minutes", 60, float(sum(range(1, 61)))),
        ("2026-03-02T01:00:00", "minutes", 60, float(sum(range(61, 121))))]
