"""IoT Time Series v3 over HTTP: writes, the 2000-record cap, ranges, paging, selection, sorting,
deletes, and every refusal in the ``{"id", "message"}`` envelope."""

from __future__ import annotations

import json

import pytest

from tests.support.paths import AGGREGATES_V4, TIMESERIES
from tests.support.tenants import temporary_tenant, tenant_session
from tests.support.timeseries import make_asset, make_pump

DAY = "2026-03-01T"


@pytest.fixture
def pump(api, tenant):
    return make_pump(api, tenant)


def rec(minute: int, **values):
    return {"_time": f"{DAY}00:{minute:02d}:00.000Z", **values}


def assert_ts_error(resp, status: int, fragment: str = ""):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"id", "message"}, body
    assert fragment in body["message"], body


def test_put_then_get_every_data_type(api, pump):
    record = {"_time": "2026-03-01T00:00:00.5Z", "temperature": 21.5, "temperature_qc": 0, "count": -3,
              "total": 9007199254740993, "running": True, "status": "IDLE", "log": "x" * 1000,
              "serviced": "2026-02-01T00:00:00Z"}
    resp = api.put(f"{TIMESERIES}/{pump}/Sensors", json=[record])
    assert resp.status_code == 204 and resp.content == b""
    got = api.get(f"{TIMESERIES}/{pump}/Sensors", params={"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T00:00:01Z"})
    assert got.status_code == 200
    assert got.json() == [{**record, "_time": "2026-03-01T00:00:00.500Z"}]


def test_no_range_answers_only_the_latest_record(api, pump):
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[rec(1, count=1), rec(3, count=3), rec(2, count=2)])
    assert api.get(f"{TIMESERIES}/{pump}/Sensors?").json() == [rec(3, count=3)]


def test_empty_aspect_answers_an_empty_array(api, pump):
    assert api.get(f"{TIMESERIES}/{pump}/Sensors").json() == []
    assert api.get(f"{TIMESERIES}/{pump}/Sensors",
                   params={"from": f"{DAY}00:00:00Z", "to": f"{DAY}01:00:00Z"}).json() == []


def test_from_is_exclusive_and_to_inclusive(api, pump):
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[rec(m, count=m) for m in range(5)])
    got = api.get(f"{TIMESERIES}/{pump}/Sensors", params={"from": f"{DAY}00:01:00Z", "to": f"{DAY}00:03:00Z"}).json()
    assert [r["count"] for r in got] == [2, 3]


def test_same_time_replaces_the_whole_record(api, pump):
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[rec(1, count=1, status="A", temperature=1.0)])
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[rec(1, count=2)])
    assert api.get(f"{TIMESERIES}/{pump}/Sensors").json() == [rec(1, count=2)]


def test_time_zones_are_stored_in_utc_with_milliseconds(api, pump):
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[{"_time": "2026-03-01T01:00:00.123456+01:00", "count": 1}])
    assert api.get(f"{TIMESERIES}/{pump}/Sensors").json()[0]["_time"] == "2026-03-01T00:00:00.123Z"


@pytest.mark.parametrize(("record", "fragment"), [
    ({"count": 1}, "no _time"),
    ({"_time": "yesterday", "count": 1}, "not an ISO-8601"),
    ({"_time": "2026-03-01T00:00:00", "count": 1}, "no time zone"),
    ({"_time": "2026-02-30T00:00:00Z", "count": 1}, "not a valid"),
    ({"_time": "2026-03-01T00:00:00Z", "count": 1.5}, "INT"),
    ({"_time": "2026-03-01T00:00:00Z", "count": 2**31}, "INT"),
    ({"_time": "2026-03-01T00:00:00Z", "count": True}, "INT"),
    ({"_time": "2026-03-01T00:00:00Z", "total": 2**63}, "LONG"),
    ({"_time": "2026-03-01T00:00:00Z", "temperature": "21"}, "DOUBLE"),
    ({"_time": "2026-03-01T00:00:00Z", "running": 1}, "BOOLEAN"),
    ({"_time": "2026-03-01T00:00:00Z", "status": "x" * 11}, "longer than 10"),
    ({"_time": "2026-03-01T00:00:00Z", "status": 5}, "STRING"),
    ({"_time": "2026-03-01T00:00:00Z", "log": "x" * 1001}, "longer than 1000"),
    ({"_time": "2026-03-01T00:00:00Z", "serviced": "soon"}, "serviced"),
    ({"_time": "2026-03-01T00:00:00Z", "pressure": 1}, "not a variable"),
    ({"_time": "2026-03-01T00:00:00Z", "count": 1, "count_qc": 0}, "no quality code"),
    ({"_time": "2026-03-01T00:00:00Z", "temperature": 1.0, "temperature_qc": -1}, "temperature_qc"),
    ({"_time": "2026-03-01T00:00:00Z", "temperature": 1.0, "temperature_qc": 2**32}, "temperature_qc"),
    ({"_time": "2026-03-01T00:00:00Z", "temperature_qc": 0}, "without a value"),
])
def test_one_bad_record_refuses_the_whole_request(api, pump, record, fragment):
    good = rec(9, count=9)
    resp = api.put(f"{TIMESERIES}/{pump}/Sensors", json=[good, record])
    assert_ts_error(resp, 400, fragment)
    assert api.get(f"{TIMESERIES}/{pump}/Sensors").json() == []  # nothing written, not even the good record


def usual(second: int, **values) -> dict:
    """A record as the SDKs and the pump send a batch of them: MindSphere's form of the time first, and the same
    variables in every record (such a batch is checked a column at a time: records.py ``_uniform``)."""
    return {"_time": f"{DAY}00:{second // 60:02d}:{second % 60:02d}.000Z", "temperature": second + 0.5,
            "count": second, "total": 2**40 + second, "running": second % 2 == 0, "status": "ok", "log": "x" * second,
            **values}


@pytest.mark.parametrize(("values", "fragment"), [
    ({"count": 1.5}, "INT"), ({"count": 2**31}, "INT"), ({"count": -(2**31) - 1}, "INT"), ({"count": True}, "INT"),
    ({"total": 2**63}, "LONG"), ({"total": -(2**63) - 1}, "LONG"), ({"total": 1.0}, "LONG"),
    ({"temperature": "21"}, "DOUBLE"), ({"temperature": True}, "DOUBLE"), ({"temperature": 2**63}, "DOUBLE"),
    ({"running": 1}, "BOOLEAN"), ({"running": "true"}, "BOOLEAN"),
    ({"status": "x" * 11}, "longer than 10"), ({"status": 5}, "STRING"),
    ({"log": "x" * 1001}, "longer than 1000"), ({"log": ["x"]}, "BIG_STRING"),
    ({"temperature_qc": -1}, "temperature_qc"), ({"temperature_qc": 2**32}, "temperature_qc"),
    ({"temperature_qc": 1.0}, "temperature_qc"), ({"temperature_qc": True}, "temperature_qc"),
    ({"count_qc": 0}, "no quality code"), ({"pressure": 1}, "not a variable"),
    ({"_time": "2026-02-30T00:00:00.000Z"}, "not a valid"), ({"_time": "2026-03-01T24:00:00.000Z"}, "_time"),
    ({"_time": "1969-12-31T23:59:59.000Z"}, "outside the years"),
    ({"_time": "9000-01-01T00:00:00.000Z"}, "outside the years"),
])
def test_a_batch_in_the_usual_shape_is_checked_as_each_record_would_be(api, pump, values, fragment):
    """Fifty records of the usual shape, one with a bad value: refused naming that record, nothing written. Guards
    the column check: a column rule that let a value through (say an INT column not checked for its range) would
    store the whole batch."""
    batch = [usual(s) for s in range(50)]
    batch[25] = {**batch[25], **values}
    resp = api.put(f"{TIMESERIES}/{pump}/Sensors", json=batch)
    assert_ts_error(resp, 400, fragment)
    assert "record 25" in resp.json()["message"]
    assert api.get(f"{TIMESERIES}/{pump}/Sensors").json() == []


def _time_last(batch: dict) -> None:
    batch[70] = dict(reversed(batch[70].items()))


def _nulls(batch: dict) -> None:
    batch[71] = {**batch[71], "count": None, "status": None}


def _another_form(batch: dict) -> None:
    batch[72] = {**batch[72], "_time": f"{DAY}01:01:12+01:00"}


def _a_time_twice(batch: dict) -> None:
    batch[73] = usual(74, status="first")  # at 74's time, before 74: the later record of that time wins


def _out_of_order(batch: dict) -> None:
    batch[80], batch[81] = batch[81], batch[80]


def _quality_codes(batch: dict) -> None:
    batch[120] = {**batch[120], "temperature_qc": 0x40000000}  # uncertain, the last of the first 2 minutes
    batch[121] = {**batch[121], "temperature_qc": 0x80000000}  # bad, the first of the next


def _an_integer_double(batch: dict) -> None:
    batch[131] = {**batch[131], "temperature": 7}


def _one_variable(batch: dict) -> None:
    batch[132] = {"_time": batch[132]["_time"], "temperature": 1.25}


@pytest.mark.parametrize("oddity", [_time_last, _nulls, _another_form, _a_time_twice, _out_of_order, _quality_codes,
                                    _an_integer_double, _one_variable])
def test_odd_records_in_a_batch_of_the_usual_shape_are_stored_as_each_would_be(api, pump, oddity):
    """A batch of the usual shape with records that leave it: each is stored as it would be on its own (the time
    first and in MindSphere's form, nulls left out, the last record of a time wins, in time order), and the
    aggregates count them. Quality codes on some records keep the batch in the column check (a code missing
    from the aggregates, or one counted for the wrong record, fails here)."""
    seconds = range(61, 181)  # (00:01, 00:03]: two 2-minute intervals
    sent = {s: usual(s) for s in seconds}  # by position in the batch
    oddity(sent)
    assert api.put(f"{TIMESERIES}/{pump}/Sensors", json=list(sent.values())).status_code == 204
    expected: dict[str, dict] = {}
    for record in sent.values():  # the reference: each record on its own, in the batch's order
        stamp = record["_time"] if record["_time"].endswith(".000Z") else f"{DAY}00:01:12.000Z"
        expected[stamp] = {"_time": stamp, **{k: v for k, v in record.items() if k != "_time" and v is not None}}
    assert_stored_and_aggregated(api, pump, expected)


def assert_stored_and_aggregated(api, pump, expected: dict[str, dict]) -> None:
    """The aspect holds ``expected`` (records by time, all in (00:01, 00:03]), and the 2-minute aggregates of its
    temperature agree with them: counts by quality (a record without a code is good), sum, extremes, first, last."""
    window = {"from": f"{DAY}00:00:00Z", "to": f"{DAY}00:04:00Z"}
    got = api.get(f"{TIMESERIES}/{pump}/Sensors", params=window).json()
    assert got == [expected[t] for t in sorted(expected)]
    intervals = api.get(AGGREGATES_V4, params={
        "assetId": pump, "aspectName": "Sensors", **window, "intervalUnit": "minute", "intervalValue": 2,
        "select": "temperature"}).json()["aggregates"]
    halves = [[expected[t] for t in sorted(expected) if t <= f"{DAY}00:02:00.000Z"],
              [expected[t] for t in sorted(expected) if t > f"{DAY}00:02:00.000Z"]]
    assert len(intervals) == 2
    for interval, records in zip(intervals, halves, strict=True):
        temperature = interval["temperature"]
        values = [r["temperature"] for r in records]
        severities = [r.get("temperature_qc", 0) >> 30 for r in records]
        assert [temperature[f"count{q}"] for q in ("good", "uncertain", "bad")] == [
            severities.count(0), severities.count(1), len(values) - severities.count(0) - severities.count(1)]
        assert temperature["sum"] == pytest.approx(sum(values))
        assert (temperature["minvalue"], temperature["maxvalue"]) == (min(values), max(values))
        assert (temperature["firstvalue"], temperature["lastvalue"]) == (values[0], values[-1])


def refused_at_the_first_bad_record(api, url: str, values: dict, bad: dict, fragment: str) -> None:
    """Thirty records of ``values``, ``bad`` added to record 12 (or, with none, every record bad already): refused
    naming the first bad record, and nothing written."""
    batch = [few(s, **values) for s in range(30)]
    batch[12].update(bad)
    resp = api.put(url, json=batch)
    assert_ts_error(resp, 400, fragment)
    assert f"record {12 if bad else 0}:" in resp.json()["message"]
    assert api.get(url).json() == []


@pytest.mark.parametrize("shape", ["usual", "odd"])
def test_edge_values_are_stored_as_sent(api, pump, shape):
    """The largest quality code (2**32 - 1) and a string holding the text between two encoded records (``},{``)
    are taken and read back as sent, in a usual batch (checked a column at a time, encoded at once and cut between
    records) and in an odd one (another time form: record by record). Guards the code's upper bound (``<`` for
    ``<=`` took it away) and the cut's guard (a cut inside the string split one record in two; with two such
    strings there are two cuts more than records less one)."""
    batch = [usual(s) for s in range(1, 11)]
    batch[3] = {**batch[3], "status": 'a"},{"b'}
    batch[7] = {**batch[7], "status": "},{"}
    batch[5] = {**batch[5], "temperature_qc": 2**32 - 1}
    if shape == "odd":
        batch[0] = {**batch[0], "_time": f"{DAY}01:00:01+01:00"}
    assert api.put(f"{TIMESERIES}/{pump}/Sensors", json=batch).status_code == 204
    got = api.get(f"{TIMESERIES}/{pump}/Sensors", params={"from": f"{DAY}00:00:00Z", "to": f"{DAY}00:01:00Z"})
    assert got.json() == [{**record, "_time": usual(s)["_time"]} for s, record in enumerate(batch, 1)]


def few(second: int, **values) -> dict:
    """A record at ``second`` of a batch whose every record has just these keys: a usual batch of fewer columns."""
    return {"_time": usual(second)["_time"], **values}


CODES = [0, 0x40000000, 0x80000000, 2**32 - 1, 0xC0000000, 7]  # good, uncertain, bad, bad, bad, good


@pytest.mark.parametrize(("values", "bad", "fragment"), [
    ({"count": 7}, {"count": 2**31}, "INT"), ({"count": 7}, {"count": -(2**31) - 1}, "INT"),
    ({"count": 7}, {"count": 1.5}, "INT"),
    ({"total": 7}, {"total": 2**63}, f"LONG and takes an integer in [{-(2**63)}, {2**63 - 1}]"),
    ({"temperature": 7}, {"temperature": 2**63}, "DOUBLE"), ({"temperature": 7.5}, {"temperature": "7"}, "DOUBLE"),
    ({"running": True}, {"running": 1}, "BOOLEAN"), ({"status": "ok"}, {"status": "x" * 11}, "longer than 10"),
    ({"log": "ok"}, {"log": "x" * 1001}, "longer than 1000"),
    ({"serviced": "2026-02-01T00:00:00.000Z"}, {"serviced": "soon"}, "serviced"),
    *[({"temperature": 1.5, "temperature_qc": 0}, {"temperature_qc": code}, "temperature_qc")
      for code in (-1, 2**32, 1.0, True)],
    ({"count": 7}, {"temperature_qc": 0}, "without a value"),  # a code on one record, beyond the shared keys
    ({"count": 7, "count_qc": 0}, {}, "no quality code"),  # on every record: bad from the first
    ({"temperature_qc": 0}, {}, "without a value"),
])
def test_a_batch_of_fewer_columns_is_checked_as_each_record_would_be(api, pump, values, bad, fragment):
    """Thirty records with the same few keys (one variable, or a variable and its code), record 12 with a bad
    value, or every record bad: refused naming the first bad record, nothing written. Each column is checked on
    its own here: in the full usual shape another column that the column check declines hides a rule of this
    one that lets a bad value through (an INT column checked against LONG's range, a TIMESTAMP column not
    checked at all, a code column taking a float, a code column whose variable is in no record)."""
    refused_at_the_first_bad_record(api, f"{TIMESERIES}/{pump}/Sensors", values, bad, fragment)


@pytest.mark.parametrize("shape", [
    lambda s: {"temperature": s},  # a DOUBLE column of integers
    lambda s: {"temperature": s + 0.5, "temperature_qc": CODES[s % len(CODES)]},  # a code on every record
    lambda s: {"temperature_qc": CODES[s % len(CODES)], "temperature": s - 0.5},  # each code before its value
], ids=["integer-doubles", "codes", "codes-first"])
def test_a_batch_of_fewer_columns_is_stored_and_aggregated_as_sent(api, pump, shape):
    """Valid batches of the usual shape with few columns: stored as sent, and the aggregates count each record's
    quality code (the column check keeps a code column for the aggregates: one dropped counts every record
    good). Guards the column check of an integer DOUBLE column and of a code column met before its value's."""
    sent = [few(s, **shape(s)) for s in range(61, 181)]
    assert api.put(f"{TIMESERIES}/{pump}/Sensors", json=sent).status_code == 204
    assert_stored_and_aggregated(api, pump, {record["_time"]: record for record in sent})


@pytest.fixture
def abc(api, tenant):
    """An asset whose variables' names begin alike: ``abc`` has a quality code, ``abcd`` has none."""
    return make_asset(api, tenant, "Abc", {"Abc": ("dynamic", [
        {"name": "abc", "dataType": "INT", "qualityCode": True}, {"name": "abcd", "dataType": "INT"}])})


@pytest.mark.parametrize(("values", "bad", "fragment"), [
    ({"abc": 1, "abcxyz": 0}, {}, "not a variable"), ({"abc": 1, "abcd": 2, "abcd_qc": 0}, {}, "no quality code"),
    ({"abc": 1}, {"abcxyz": 0}, "not a variable"), ({"abc": 1, "abcd": 2}, {"abcd_qc": 0}, "no quality code"),
])
def test_a_key_is_not_taken_for_the_code_of_a_variable_its_name_begins_with(api, abc, values, bad, fragment):
    """``abcxyz`` (no variable) and ``abcd_qc`` (abcd has no code) begin with ``abc``, which has one: refused on
    every record or on record 12 alone. Guards how the column check finds a code's variable (the name less
    ``_qc``; taking the first three characters, or less four, found ``abc`` and stored the key)."""
    refused_at_the_first_bad_record(api, f"{TIMESERIES}/{abc}/Abc", values, bad, fragment)


@pytest.mark.parametrize(("raw", "message"), [
    ("{", None), ('{"_time": "2026-03-01T00:00:00Z"}', "The body must be a JSON array of records"),
    ("[1]", "record 0 is not a JSON object"), ('[{"_time": NaN}]', None),
    ("null", "The body must be a JSON array of records")])
def test_malformed_bodies(api, pump, raw, message):
    """Refused in the envelope; where the body is JSON of another shape, with a message that says so."""
    resp = api.put(f"{TIMESERIES}/{pump}/Sensors", data=raw, headers={"Content-Type": "application/json"})
    assert_ts_error(resp, 400)
    assert message in (None, resp.json()["message"])


def test_payload_over_one_megabyte_is_413(api, pump):
    big = [rec(0, log="x" * 900)] * 1200
    data = json.dumps(big)
    assert len(data) > 1024 * 1024
    assert_ts_error(api.put(f"{TIMESERIES}/{pump}/Sensors", data=data, headers={"Content-Type": "application/json"}),
                    413)


def test_unknown_asset_or_aspect_is_404(api, pump):
    assert_ts_error(api.put(f"{TIMESERIES}/{'a' * 32}/Sensors", json=[rec(1, count=1)]), 404, "not found")
    assert_ts_error(api.put(f"{TIMESERIES}/{pump}/Nope", json=[rec(1, count=1)]), 404, "no aspect")
    assert_ts_error(api.get(f"{TIMESERIES}/{pump}/Plate"), 404, "static")
    assert_ts_error(api.delete(f"{TIMESERIES}/{pump}/Nope", params={"from": f"{DAY}00:00:00Z",
                                                                    "to": f"{DAY}01:00:00Z"}), 404)


def test_limit_and_link_header(api, pump, server):
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[rec(m, count=m) for m in range(10)])
    params = {"from": f"{DAY}00:00:00Z", "to": f"{DAY}01:00:00Z", "limit": 4}
    first = api.get(f"{TIMESERIES}/{pump}/Sensors", params=params)
    assert [r["count"] for r in first.json()] == [1, 2, 3, 4]
    link = first.headers["Link"]
    assert link.startswith(f"<{server.url}/api/iottimeseries/v3/timeseries/{pump}/Sensors?") and \
        link.endswith('>; rel="next"')
    second = api.get(link[1:link.index(">")])
    assert [r["count"] for r in second.json()] == [5, 6, 7, 8]
    third = api.get(second.headers["Link"][1:second.headers["Link"].index(">")])
    assert [r["count"] for r in third.json()] == [9] and "Link" not in third.headers


def test_limit_rules(api, pump):
    base = {"from": f"{DAY}00:00:00Z", "to": f"{DAY}01:00:00Z"}
    assert api.get(f"{TIMESERIES}/{pump}/Sensors", params={**base, "limit": 2000}).status_code == 200
    assert_ts_error(api.get(f"{TIMESERIES}/{pump}/Sensors", params={**base, "limit": 2001}), 400, "limit")
    assert_ts_error(api.get(f"{TIMESERIES}/{pump}/Sensors", params={**base, "limit": 0}), 400, "limit")
    assert_ts_error(api.get(f"{TIMESERIES}/{pump}/Sensors", params={**base, "limit": "many"}), 400, "limit")


def test_default_limit_is_2000(api, pump):
    api.put(f"{TIMESERIES}/{pump}/Sensors",
            json=[{"_time": f"2026-03-01T00:00:{s // 1000:02d}.{s % 1000:03d}Z", "count": s} for s in range(2100)])
    resp = api.get(f"{TIMESERIES}/{pump}/Sensors", params={"from": f"{DAY}00:00:00Z", "to": f"{DAY}00:01:00Z"})
    assert len(resp.json()) == 2000 and "Link" in resp.headers


def test_select_and_sort(api, pump):
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[rec(1, count=1, temperature=1.5, temperature_qc=0),
                                         rec(2, count=2), rec(3, status="X")])
    base = {"from": f"{DAY}00:00:00Z", "to": f"{DAY}01:00:00Z"}
    got = api.get(f"{TIMESERIES}/{pump}/Sensors",
                  params={**base, "select": "temperature,status", "sort": "desc"}).json()
    assert got == [rec(3, status="X"), rec(1, temperature=1.5, temperature_qc=0)]
    assert_ts_error(api.get(f"{TIMESERIES}/{pump}/Sensors", params={**base, "select": "pressure"}), 400, "pressure")
    for bad in ("temperature", "ascending", "time"):
        assert_ts_error(api.get(f"{TIMESERIES}/{pump}/Sensors", params={**base, "sort": bad}), 400, "sort")


@pytest.mark.parametrize(("params", "fragment"), [
    ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "after"),
    ({"from": "noon", "to": "2026-03-01T00:00:00Z"}, "from"),
    ({"from": "2026-03-01T00:00:00Z", "to": "2026-13-01T00:00:00Z"}, "to"),
    ({"latestValue": "maybe"}, "latestValue"),
])
def test_bad_query_parameters_name_themselves(api, pump, params, fragment):
    assert_ts_error(api.get(f"{TIMESERIES}/{pump}/Sensors", params=params), 400, fragment)


def test_delete_range(api, pump):
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[rec(m, count=m) for m in range(6)])
    resp = api.delete(f"{TIMESERIES}/{pump}/Sensors", params={"from": f"{DAY}00:01:00Z", "to": f"{DAY}00:03:00Z"})
    assert resp.status_code == 204
    left = api.get(f"{TIMESERIES}/{pump}/Sensors", params={"from": f"{DAY}00:00:00Z", "to": f"{DAY}01:00:00Z"}).json()
    assert [r["count"] for r in left] == [1, 4, 5]  # (00:01, 00:03] is gone; 00:00 is outside the read range
    assert_ts_error(api.delete(f"{TIMESERIES}/{pump}/Sensors", params={"from": f"{DAY}00:00:00Z"}), 400,
                    "to is required")
    assert_ts_error(api.delete(f"{TIMESERIES}/{pump}/Sensors"), 400, "required")


def test_latest_value_per_variable(api, pump, admin, server):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC).replace(microsecond=0)
    stamp = [(now - timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%S.000Z") for m in (30, 20, 10)]
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[{"_time": stamp[0], "count": 1, "status": "A"},
                                         {"_time": stamp[1], "status": "B"},
                                         {"_time": stamp[2], "temperature": 2.0, "temperature_qc": 0}])
    got = api.get(f"{TIMESERIES}/{pump}/Sensors",
                  params={"latestValue": "true", "select": "count,status,temperature"}).json()
    assert got == [{"_time": stamp[0], "count": 1}, {"_time": stamp[1], "status": "B"},
                   {"_time": stamp[2], "temperature": 2.0, "temperature_qc": 0}]


def test_multi_put_reports_failed_pairs(api, pump):
    body = {"timeseries": [
        {"entityId": pump, "propertySetName": "Sensors", "data": [rec(1, count=1)]},
        {"entityId": "b" * 32, "propertySetName": "Sensors", "data": [rec(1, count=1)]},
        {"entityId": pump, "propertySetName": "Sensors", "data": [rec(2, count="two")]},
    ]}
    resp = api.put(TIMESERIES, json=body)
    assert resp.status_code == 202
    failures = resp.json()
    assert [(f["entityId"], f["status"]) for f in failures] == [("b" * 32, 404), (pump, 400)]
    assert api.get(f"{TIMESERIES}/{pump}/Sensors").json() == [rec(1, count=1)]  # the good pair was written


@pytest.mark.parametrize(("body", "status"), [
    ({"timeseries": [{"entityId": "x", "propertySetName": "S", "data": []}] * 6}, 400),
    ({"timeseries": [{"entityId": "x", "propertySetName": "S", "data": [{"_time": "2026-03-01T00:00:00Z"}] * 101}]},
     400),
    ({"timeseries": []}, 400),
    ({"series": []}, 400),
    ({"timeseries": [{"entityId": "x", "propertySetName": "S", "data": [{"log": "x" * 110_000}]}]}, 413),
])
def test_multi_put_limits(api, pump, body, status):
    assert_ts_error(api.put(TIMESERIES, json=body), status)


def test_tenant_isolation(server, admin, api, tenant, pump):
    api.put(f"{TIMESERIES}/{pump}/Sensors", json=[rec(1, count=1)])
    with temporary_tenant(admin, prefix="o") as other:
        with tenant_session(server.url, other) as b:
            assert_ts_error(b.get(f"{TIMESERIES}/{pump}/Sensors"), 404)
            assert_ts_error(b.put(f"{TIMESERIES}/{pump}/Sensors", json=[rec(2, count=2)]), 404)
            assert_ts_error(b.delete(f"{TIMESERIES}/{pump}/Sensors", params={"from": f"{DAY}00:00:00Z",
                                                                             "to": f"{DAY}01:00:00Z"}), 404)
        assert api.get(f"{TIMESERIES}/{pump}/Sensors").json() == [rec(1, count=1)]


def test_scopes(server, admin):
    with (temporary_tenant(admin, prefix="s", scopes=["iot.tim.r", "mdsp.core.am.r"]) as created,
          tenant_session(server.url, created) as b):
        assert_ts_error(b.put(f"{TIMESERIES}/{'a' * 32}/Sensors", json=[]), 403, "iot.tim.w")
        assert_ts_error(b.get(f"{TIMESERIES}/{'a' * 32}/Sensors"), 404)
