"""Siemens' Node SDK (``@mindconnect/mindconnect-nodejs`` 3.24.2) and its ``mc`` CLI drive IoT Time Series v3
and TS Aggregates v4/v3.

Why a real client: the time series and aggregate routes were built from the API reference and a request log
(sdk-requests.md 3-4), and only the SDK shows whether its requests (Date bounds as ``toISOString()``, a PUT
without ``?``, a GET with an empty query for the latest record) are understood, whether every answer parses
where it expects JSON (an array here, ``{"aggregates": [...]}`` there), and whether the ``Link`` header of bulk
paging is one the SDK can follow (it strips ``<``, ``>``, ``; rel="next"`` and its own gateway, then GETs
``gateway + rest``).

This module owns the data: it generates ``COUNT`` records (one every 4 s for 5 hours, with uncertain and bad
quality codes, a variable left out of every tenth record), hands them to ``tests/sdk/timeseries.mjs`` (which
writes them with ``PutTimeSeries`` and reads them back in every way the SDK offers, one ``STEP`` line per call)
and computes every expected record and aggregate itself. The CLI tests run ``mc timeseries`` and
``mc aggregates`` the way a developer would, with service credentials stored (encrypted) under a temporary HOME.

Without node or the npm packages the tests skip locally but fail in CI (``CI`` set), see tests/support/sdk.py.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.support import sdk
from tests.support.paths import ROOT, TIMESERIES

pytestmark = pytest.mark.node

SCRIPT = sdk.SDK_DIR / "timeseries.mjs"
STDOUT_TAIL = 5000  # the scripts and the CLI print thousands of records: failure messages show the end only

ASPECT = "Sensors"

# The series: COUNT records, one every STEP_MS after START (a Monday midnight UTC, long past), so 5 whole hours.
START = datetime(2024, 3, 4, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)
STEP_MS = 4_000
COUNT = 4500  # more than two pages of 2000: bulk paging needs 3 requests
MINUTE, HOUR = 60_000, 3_600_000
UNCERTAIN, BAD = 0x40000000, 0x80000000  # OPC UA status codes: top bits 01 and 10
NUMERIC = ("temperature", "pressure", "cycles")  # status is a STRING: never aggregated
AGGREGATE_FIELDS = {"countgood", "countuncertain", "countbad", "sum", "average", "minvalue", "mintime", "maxvalue",
                    "maxtime", "firstvalue", "firsttime", "lastvalue", "lasttime", "sd"}


# --- the data and what every answer must be ------------------------------------------------------------------

def _iso(ms: int) -> str:
    """``2024-03-04T00:00:04.000Z``: the form the time series API writes ``_time`` in."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _ms(text: str) -> int:
    """Epoch milliseconds of an ISO time with a ``Z`` (with or without milliseconds)."""
    return int(round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000))


def _qc(i: int) -> int:
    return UNCERTAIN if i % 97 == 0 else BAD if i % 211 == 0 else 0


def _record(i: int) -> dict:
    """Record ``i`` (1-based) at ``START + i * STEP_MS``: values that repeat, so min/max ties occur too."""
    record = {"_time": _iso(START_MS + i * STEP_MS), "temperature": 20 + (i * 37 % 101) / 10, "temperature_qc": _qc(i),
              "cycles": i, "status": "IDLE" if i % 3 == 0 else "RUNNING"}
    if i % 10:
        record["pressure"] = 1 + (i % 17) / 100
    return record


RECORDS = [_record(i) for i in range(1, COUNT + 1)]


def _between(after: int, upto: int, records: list[dict] = RECORDS) -> list[dict]:
    """The records in ``(after, upto]``, as ranges and intervals are left-open and right-closed."""
    return [r for r in records if after < _ms(r["_time"]) <= upto]


def _severity(qc: int) -> str:
    top = (qc >> 30) & 0b11
    return "good" if top == 0 else "uncertain" if top == 1 else "bad"


def _stats(records: list[dict], var: str) -> dict | None:
    """The aggregate of ``var`` over ``records`` as MindSphere defines it; ``sd`` is the population one.

    Ties keep the earliest time for min and max (the emulator's documented choice; the data has ties).
    """
    points = [(_ms(r["_time"]), r[var], _severity(r.get(var + "_qc", 0))) for r in records if var in r]
    if not points:
        return None
    values = [v for _, v, _ in points]
    low = min(range(len(points)), key=lambda k: (values[k], k))
    high = max(range(len(points)), key=lambda k: (values[k], -k))
    qualities = [q for _, _, q in points]
    return {"countgood": qualities.count("good"), "countuncertain": qualities.count("uncertain"),
            "countbad": qualities.count("bad"), "sum": math.fsum(values), "average": statistics.fmean(values),
            "minvalue": values[low], "mintime": points[low][0], "maxvalue": values[high], "maxtime": points[high][0],
            "firstvalue": values[0], "firsttime": points[0][0], "lastvalue": values[-1], "lasttime": points[-1][0],
            "sd": statistics.pstdev(values)}


def _expected_aggregates(after: int, upto: int, size: int, variables, records: list[dict] = RECORDS) -> list[dict]:
    """One item per interval of ``size`` ms in ``(after, upto]`` that has data: its bounds and variables."""
    out = []
    for lo in range(after, upto, size):
        inside = _between(lo, lo + size, records)
        item = {var: stats for var in variables if (stats := _stats(inside, var)) is not None}
        if item:
            out.append({"starttime": lo, "endtime": lo + size, **item})
    return out


def _assert_aggregates(answer: list, expected: list[dict], variables) -> None:
    """Intervals, variables (exactly ``variables``), counts and times exactly; sums, averages and sd to 1e-9.

    Items without any variable are skipped: whether an interval without data is listed is not what this checks.
    """
    with_data = [a for a in answer if set(a) - {"starttime", "endtime"}]
    got_bounds = [(_ms(a["starttime"]), _ms(a["endtime"])) for a in with_data]
    assert got_bounds == [(e["starttime"], e["endtime"]) for e in expected], with_data
    for got, want in zip(with_data, expected, strict=True):
        where = f"[{got['starttime']} - {got['endtime']}]"
        assert set(got) - {"starttime", "endtime"} == set(variables) & set(want), f"{where} {sorted(got)}"
        for var in set(got) - {"starttime", "endtime"}:
            item, stats = got[var], want[var]
            assert set(item) == AGGREGATE_FIELDS, f"{where} {var}: {sorted(item)}"
            for field, value in stats.items():
                actual = _ms(item[field]) if field.endswith("time") else item[field]
                assert actual == pytest.approx(value, rel=1e-9, abs=1e-9), f"{where} {var}.{field}: {item}"


# --- the SDK run (tests/sdk/timeseries.mjs), once for the module ----------------------------------------------

@pytest.fixture(scope="module")
def series(tmp_path_factory) -> dict:
    """The steps of one ``timeseries.mjs series`` run on a fresh emulator (see ``sdk.after_sdk_check``).

    One run serves every SDK test of the module: the reads need the writes, and the delete comes last.
    """
    node = sdk.require_sdk()
    work = tmp_path_factory.mktemp("sdk-timeseries")
    records_file = work / "records.json"
    records_file.write_text(json.dumps(RECORDS), encoding="utf-8")
    with sdk.emulator_server(work / "data") as server:
        env = {**sdk.node_env(server.url, strip=sdk.CLI_AUTH_VARS), "EMU_TS_RECORDS": str(records_file),
               "EMU_TS_START": _iso(START_MS)}
        return sdk.run_steps(node, SCRIPT, "series", env, tail=STDOUT_TAIL)


def _window(step: dict) -> tuple[int, int]:
    return _ms(step["from"]), _ms(step["to"])


def test_put_then_read_a_range_with_limit_select_and_sort(request):
    """PutTimeSeries (several PUTs, no body expected back) stores every record as written; GetTimeSeries with
    Date bounds reads ``(from, to]`` in ascending time, ``limit`` keeps the first records, ``select`` keeps
    ``_time``, the variable and its ``_qc``, and ``sort=desc`` starts from ``to``."""
    steps = sdk.after_sdk_check(request, "series")
    assert [p["records"] for p in steps["put"]["puts"]] == [1000] * 4 + [500], steps["put"]

    window = steps["range"]
    expected = _between(*_window(window))
    assert len(expected) == 150  # 10 minutes at one record every 4 s
    assert window["records"] == expected, window["records"][:3]

    assert steps["rangeLimit"]["records"] == expected[:5], steps["rangeLimit"]
    selected = [{k: r[k] for k in ("_time", "temperature", "temperature_qc")} for r in expected]
    assert steps["rangeSelect"]["records"] == selected, steps["rangeSelect"]["records"][:3]
    assert steps["rangeDesc"]["records"] == expected[::-1][:3], steps["rangeDesc"]


def test_without_a_range_only_the_latest_record(request):
    """GetTimeSeries without options (``GET ...?``) answers the newest record alone, as the real API does."""
    steps = sdk.after_sdk_check(request, "series")
    assert steps["latest"]["records"] == [RECORDS[-1]], steps["latest"]


def test_bulk_style_paging_follows_the_link_header(request):
    """GetTimeSeriesBulkStyle with limit 2000 (what ``mc timeseries`` does) gets 2000 records and a nextRecord;
    GetNextRecordsBulkStyle follows it: 2000, 2000, 500, every record once, in order. The Link must survive the
    SDK's stripping as a path it can append to its gateway, and keep ``select`` on every page."""
    steps = sdk.after_sdk_check(request, "series")
    for name, keys in (("bulk", sorted({k for r in RECORDS for k in r})),
                       ("bulkSelect", ["_time", "temperature", "temperature_qc"])):
        run = steps[name]
        pages = run["pages"]
        assert [p["count"] for p in pages] == [2000, 2000, 500], (name, pages)
        bounds = [(p["first"], p["last"]) for p in pages]
        assert bounds == [(RECORDS[a]["_time"], RECORDS[b]["_time"]) for a, b in ((0, 1999), (2000, 3999),
                                                                                    (4000, 4499))], (name, bounds)
        assert all(p["keys"] == keys for p in pages), (name, pages)
        asset_path = f"{TIMESERIES}/{steps['asset']['assetId']}/{ASPECT}?"
        for page in pages[:-1]:
            assert page["nextRecord"].startswith(asset_path), (name, page)
        assert pages[-1]["nextRecord"] is None, (name, pages[-1])
        assert (run["total"], run["distinct"], run["ascending"]) == (COUNT, COUNT, True), (name, run)


def test_v4_aggregates_by_hour_and_by_minutes_with_select(request):
    """TimeSeriesAggregateClientV4.GetAggregates: hours over the whole series give every numeric variable (not
    the STRING one), minutes with ``select`` give the selected variable only; counts by quality, sums, averages,
    min/max and first/last with their times, and sd all agree with the records written."""
    steps = sdk.after_sdk_check(request, "series")
    hourly = steps["v4Hour"]
    assert set(hourly["answer"]) == {"aggregates"}, hourly["answer"].keys()
    expected = _expected_aggregates(*_window(hourly), HOUR, NUMERIC)
    assert len(expected) == 5 and all(e["temperature"]["countuncertain"] for e in expected)
    _assert_aggregates(hourly["answer"]["aggregates"], expected, NUMERIC)

    minutes = steps["v4Minute"]
    expected = _expected_aggregates(*_window(minutes), 10 * MINUTE, ["temperature"])
    assert len(expected) == 6
    _assert_aggregates(minutes["answer"]["aggregates"], expected, ["temperature"])


def test_v3_aggregates_are_a_bare_array_of_the_same_items(request):
    """The v3 client (Date bounds aligned to the unit) gets a JSON array: the same hours as v4, and two-hour
    intervals with ``select``."""
    steps = sdk.after_sdk_check(request, "series")
    hourly = steps["v3Hour"]
    assert isinstance(hourly["answer"], list), hourly["answer"]
    _assert_aggregates(hourly["answer"], _expected_aggregates(*_window(hourly), HOUR, NUMERIC), NUMERIC)
    assert hourly["answer"] == steps["v4Hour"]["answer"]["aggregates"]

    selected = steps["v3Select"]
    expected = _expected_aggregates(*_window(selected), 2 * HOUR, ["cycles"])
    assert len(expected) == 2
    _assert_aggregates(selected["answer"], expected, ["cycles"])


def test_delete_takes_the_range_out_of_reads_and_aggregates(request):
    """DeleteTimeSeries ``(from, to]`` (no body expected back): a read across its start keeps only the records
    before it, the latest record is the last one left, and the hourly aggregates lose the deleted hour."""
    steps = sdk.after_sdk_check(request, "series")
    after, upto = _window(steps["delete"])
    left = [r for r in RECORDS if not after < _ms(r["_time"]) <= upto]
    assert len(left) == COUNT - 900

    window = steps["rangeAfterDelete"]
    assert window["records"] == _between(*_window(window), left), window["records"]
    assert len(window["records"]) == 15  # the minute before the deleted hour
    assert steps["latestAfterDelete"]["records"] == [left[-1]], steps["latestAfterDelete"]

    hourly = steps["v4HourAfterDelete"]
    expected = _expected_aggregates(*_window(hourly), HOUR, NUMERIC, left)
    assert len(expected) == 4
    _assert_aggregates(hourly["answer"]["aggregates"], expected, NUMERIC)


# --- the mc CLI ---------------------------------------------------------------------------------------------

CLI_ASPECT_TYPE_ID = f"{sdk.TENANT}.CliTsSensors"
CLI_ASSET_TYPE_ID = f"{sdk.TENANT}.CliTsPump"
AGGREGATE_LINE = re.compile(r"^\[(\S+) - (\S+)\]\s+(\w+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+"
                            r"(-?[\d.]+)\s+(\d+)\s*$")
RECORD_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\S+Z)\s+(.*)$")


@pytest.fixture(scope="module")
def cli_tenant(tmp_path_factory) -> Iterator[dict]:
    """A server with one asset holding ``RECORDS``, and a HOME with the CLI's credentials.

    Asset and records are made with plain HTTP (faster than the SDK and not what is under test). The
    credentials go in the way the CLI's docs say, ``mc service-credentials --mode add --type SERVICE``.
    """
    node = sdk.require_sdk()
    home = tmp_path_factory.mktemp("mc-ts-home")
    with sdk.emulator_server(tmp_path_factory.mktemp("sdk-ts-cli")) as server:
        http = sdk.api_session(server.url)
        root = http.get(ROOT).json()
        sdk.put_aspect_type(http, CLI_ASPECT_TYPE_ID, [
            {"name": "temperature", "dataType": "DOUBLE", "unit": "C", "searchable": True, "qualityCode": True},
            {"name": "pressure", "dataType": "DOUBLE", "unit": "bar", "searchable": True, "qualityCode": False},
            {"name": "cycles", "dataType": "INT", "unit": "", "searchable": True, "qualityCode": False},
            {"name": "status", "dataType": "STRING", "unit": "", "searchable": True, "length": 20,
             "qualityCode": False}])
        sdk.put_asset_type(http, CLI_ASSET_TYPE_ID, {ASPECT: CLI_ASPECT_TYPE_ID})
        asset_id = sdk.post_asset(http, "cli-ts-pump", CLI_ASSET_TYPE_ID, root["assetId"])["assetId"]
        for i in range(0, COUNT, 1500):
            resp = http.put(f"{TIMESERIES}/{asset_id}/{ASPECT}", json=RECORDS[i:i + 1500])
            assert resp.status_code == 204, resp.text
        http.close()
        yield sdk.mc_tenant(node, home, server.url, assetId=asset_id)


def _mc(tenant: dict, *args: str) -> subprocess.CompletedProcess:
    """``mc`` whose failure message shows the end of stdout only (``mc timeseries`` prints every record)."""
    return sdk.mc(tenant, *args, tail=STDOUT_TAIL)


def _aggregate_rows(proc: subprocess.CompletedProcess) -> tuple[list[tuple], int]:
    """``[start - end] variable average sum min max sd count`` rows of ``mc aggregates``, and its "N listed"."""
    out = sdk.ANSI.sub("", proc.stdout)
    rows = []
    for line in out.splitlines():
        match = AGGREGATE_LINE.match(line.strip())
        if match:
            start, end, var, *numbers, count = match.groups()
            rows.append((_ms(start), _ms(end), var, *map(float, numbers), int(count)))
    listed = re.search(r"(\d+) aggregates listed", out)
    assert listed, f"no 'aggregates listed' line\n{out}\nstderr:\n{proc.stderr}"
    return rows, int(listed.group(1))


def _assert_printed(rows: list[tuple], expected: list[dict], variables) -> None:
    """Each printed number is ``toFixed(3)`` of the right one (so within 0.0005), the count the sum of counts."""
    want = []
    for item in expected:
        for var in sorted(set(variables) & set(item)):
            s = item[var]
            want.append((item["starttime"], item["endtime"], var, s["average"], s["sum"], s["minvalue"],
                         s["maxvalue"], s["sd"], s["countgood"] + s["countuncertain"] + s["countbad"]))
    assert [r[:3] + r[-1:] for r in rows] == [w[:3] + w[-1:] for w in want], rows
    for row, wanted in zip(rows, want, strict=True):
        for printed, value in zip(row[3:8], wanted[3:8], strict=True):
            assert abs(printed - value) <= 0.0005 + 1e-9, (row, wanted)


def test_cli_aggregates_by_hour(request):
    """``mc aggregates`` (v4 only) prints one line per interval and numeric variable; it calls ``toFixed`` on
    average, sum, min, max and sd, so each must be a number, and the averages and sums must be the records'."""
    tenant = sdk.after_sdk_check(request, "cli_tenant")
    upto = START_MS + 5 * HOUR
    proc = _mc(tenant, "aggregates", "--assetid", tenant["assetId"], "--aspectname", ASPECT, "--from", _iso(START_MS),
               "--to", _iso(upto), "--intervalunit", "hour", "--intervalvalue", "1", "--passkey", sdk.PASSKEY)
    rows, listed = _aggregate_rows(proc)
    expected = _expected_aggregates(START_MS, upto, HOUR, NUMERIC)
    assert listed == len(expected) == 5
    _assert_printed(rows, expected, NUMERIC)


def test_cli_aggregates_by_minutes_with_select(request):
    """``mc aggregates --select temperature`` over an hour in 10-minute intervals: six temperature lines."""
    tenant = sdk.after_sdk_check(request, "cli_tenant")
    after, upto = START_MS + HOUR, START_MS + 2 * HOUR
    proc = _mc(tenant, "aggregates", "--assetid", tenant["assetId"], "--aspectname", ASPECT, "--from", _iso(after),
               "--to", _iso(upto), "--intervalunit", "minute", "--intervalvalue", "10", "--select", "temperature",
               "--passkey", sdk.PASSKEY)
    rows, listed = _aggregate_rows(proc)
    expected = _expected_aggregates(after, upto, 10 * MINUTE, ["temperature"])
    assert listed == len(expected) == 6
    _assert_printed(rows, expected, ["temperature"])


def test_cli_timeseries_follows_the_link_header(request):
    """``mc timeseries`` asks for 2000 records a request and follows ``Link`` while there is one: all 4500
    records, each printed once with its values (quality codes are left out without ``--all``)."""
    tenant = sdk.after_sdk_check(request, "cli_tenant")
    proc = _mc(tenant, "timeseries", "--assetid", tenant["assetId"], "--aspectname", ASPECT, "--from",
               _iso(START_MS), "--to", _iso(START_MS + 5 * HOUR), "--passkey", sdk.PASSKEY)
    out = sdk.ANSI.sub("", proc.stdout)
    printed = []
    for line in out.splitlines():
        match = RECORD_LINE.match(line)
        if match:
            values = dict(re.findall(r"(\w+): (\S+)", match.group(2)))
            printed.append({"_time": match.group(1), **{k: v if k == "status" else float(v)
                                                         for k, v in values.items()}})
    expected = [{k: v for k, v in r.items() if not k.endswith("_qc")} for r in RECORDS]
    assert len(printed) == COUNT, out[-2000:]
    assert printed == expected
    assert re.search(rf"There were {COUNT} timeseries entries", out), out[-2000:]
