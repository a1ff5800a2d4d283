"""Property tests of the MindConnect exchange and mappings, plus the lenient (real-tenant) exchange.

* The parser alone (no server): any bytes under any Content-Type either parse or are refused with a 400/415 of the
  API's own (never another exception); bodies in the Node SDK's and the C library's bytes parse back to exactly
  the samples they carry.
* Through HTTP: random samples of every data type, split into PostData/BulkPostData exchanges in either sender's
  bytes, read back from IoT Time Series equal to a plain reference (string values converted to the variable's
  type, a later sample of a time replacing the record, quality codes only where the variable has them).
* Mappings: a data point of a random type and unit onto a random variable is accepted exactly when both agree.
Example counts are bounded so that the suite stays fast.
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import errors
from emulator.agentclient import Agent, exchange_body
from emulator.mindconnect import multipart
from emulator.settings import Settings
from emulator.testing import ApiSession, LiveServer, fetch_token
from tests.support.paths import TIMESERIES
from tests.support.timeseries import VARIABLES, make_asset, make_pump

MC = "/api/mindconnect/v3"
SERVER_EXAMPLES = settings(max_examples=20, deadline=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# --- the parser ----------------------------------------------------------------------------------------

value_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
samples_strategy = st.lists(st.fixed_dictionaries({
    "timestamp": st.sampled_from(["2024-01-01T00:00:00.000Z", "2024-01-01T00:00:01.500Z"]),
    "values": st.lists(st.fixed_dictionaries({"dataPointId": st.text(min_size=1, max_size=36), "value": value_text,
                                              "qualityCode": st.sampled_from(["0", "12189696"])}), max_size=4)}),
    min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(samples=samples_strategy, style=st.sampled_from(["node", "mcl"]))
def test_both_senders_bytes_parse_back_to_their_samples(samples, style):
    body, content_type = exchange_body(samples, "CF-x", style)
    (item,) = multipart.parse(body, content_type)
    assert item.meta["payload"]["details"] == {"configurationId": "CF-x"}
    assert item.payload_type == "application/json"
    assert json.loads(item.payload) == samples


def _mutations(body: bytes):
    return st.one_of(
        st.binary(max_size=300),
        st.integers(0, len(body)).map(lambda i: body[:i]),
        st.tuples(st.integers(0, len(body)), st.binary(min_size=1, max_size=8)).map(
            lambda t: body[:t[0]] + t[1] + body[t[0]:]),
        st.tuples(st.integers(0, len(body) - 1), st.integers(1, 20)).map(lambda t: body[:t[0]] + body[t[0] + t[1]:]),
    )


NODE_BODY, NODE_TYPE = exchange_body([{"timestamp": "2024-01-01T00:00:00.000Z", "values": [
    {"dataPointId": "DP-1", "value": "1.5", "qualityCode": "0"}]}], "CF-x")


@settings(max_examples=300, deadline=None)
@given(data=st.data(), content_type=st.sampled_from([NODE_TYPE, "multipart/mixed", "multipart/mixed;boundary=",
                                                     "text/plain", "", "multipart/mixed; boundary=\"a b\""]))
def test_any_body_parses_or_is_refused_in_the_api_s_terms(data, content_type):
    body = data.draw(_mutations(NODE_BODY))
    try:
        multipart.parse(body, content_type)
    except errors.ApiError as exc:
        assert exc.status in (400, 415), exc


# --- through HTTP --------------------------------------------------------------------------------------

POINTS = {"DP-T": ("temperature", "DOUBLE", "C"), "DP-N": ("count", "INT", None), "DP-L": ("total", "LONG", None),
          "DP-R": ("running", "BOOLEAN", None), "DP-S": ("status", "STRING", None)}
TEXT = {"DOUBLE": st.floats(-1e6, 1e6, allow_nan=False).map(repr),
        "INT": st.integers(-(2**31), 2**31 - 1).map(str), "LONG": st.integers(-(2**63), 2**63 - 1).map(str),
        "BOOLEAN": st.sampled_from(["true", "false", "TRUE", "False"]),
        "STRING": st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=10)}
CONVERT = {"DOUBLE": float, "INT": int, "LONG": int, "BOOLEAN": lambda v: v.lower() == "true", "STRING": str}


@pytest.fixture
def agent(server, tenant, api):
    pump = make_pump(api, tenant)
    made = Agent.provision(server.url, api.headers["Authorization"].split()[1], tenant["name"])
    made.configure([{"id": k, "name": v[0], "type": v[1], **({"unit": v[2]} if v[2] else {})}
                    for k, v in POINTS.items()])
    for point, (variable, _, _) in POINTS.items():
        made.map(point, pump, "Sensors", variable, keep=False)  # the mapping test reconfigures: they go
    made.pump = pump
    return made


def sample_at(day: int, second: int) -> str:
    return f"2024-02-{day:02d}T00:00:{second:02d}.000Z"


@st.composite
def histories(draw):
    samples = []
    for _ in range(draw(st.integers(1, 6))):
        ids = draw(st.lists(st.sampled_from(sorted(POINTS)), min_size=1, max_size=5, unique=True))
        samples.append((draw(st.integers(1, 4)), {i: draw(TEXT[POINTS[i][1]]) for i in ids},
                        draw(st.sampled_from(["0", "3080192"]))))
    return samples, draw(st.integers(1, 3)), draw(st.sampled_from(["node", "mcl"]))


DAYS = itertools.count(1)


@SERVER_EXAMPLES
@given(history=histories())
def test_posted_values_read_back_as_a_reference_says(agent, api, history):
    samples, per_post, style = history
    day = next(DAYS) % 28 + 1
    expected: dict[str, dict] = {}
    wire = [{"timestamp": sample_at(day, s), "values": [{"dataPointId": k, "value": v, "qualityCode": qc}
                                                        for k, v in values.items()]} for s, values, qc in samples]
    for i in range(0, len(wire), per_post):
        resp = agent.post(wire[i:i + per_post], style=style)
        assert resp.status_code == 200, resp.text
    for second, values, qc in samples:  # within one exchange and across them, a later record of a time replaces
        record = {"_time": sample_at(day, second)}
        for point, text in values.items():
            variable, data_type, _ = POINTS[point]
            record[variable] = CONVERT[data_type](text)
            if variable == "temperature":
                record["temperature_qc"] = int(qc)
        expected[record["_time"]] = record
    window = {"from": sample_at(day, 0), "to": sample_at(day, 59)}  # samples at seconds 1..4: from is exclusive
    got = api.get(f"{TIMESERIES}/{agent.pump}/Sensors", params=window).json()
    assert {r["_time"]: r for r in got} == expected
    assert api.delete(f"{TIMESERIES}/{agent.pump}/Sensors", params=window).status_code == 204


# A bulk post in the SDK's usual shape (every sample the same DOUBLE data points in the same order, times ascending)
# is read a data point at a time (exchange._by_columns); the same samples in another order are read value by value.
METER = [{"name": "a", "dataType": "DOUBLE", "qualityCode": True}, {"name": "b", "dataType": "DOUBLE"},
         {"name": "c", "dataType": "DOUBLE", "qualityCode": True}]
METER_POINTS = {"DP-A": "a", "DP-B": "b", "DP-C": "c"}
DECIMAL_TEXT = st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr),
                         st.integers(-(10**15), 10**15).map(str), st.sampled_from(["1e3", "-0.0", "2.50", ".5", "7."]))


@pytest.fixture
def meter(server, tenant, api) -> Agent:
    """An agent whose three DOUBLE data points go to a meter's ``Flows`` (two of them with quality codes), and
    DP-A to ``c`` of a second meter too (one data point, two targets)."""
    first = make_asset(api, tenant, "Meter", {"Flows": ("dynamic", METER)})
    second = api.post("/api/assetmanagement/v3/assets", json={
        "name": "Q", "typeId": f"{tenant['name']}.Meter", "parentId": tenant["rootAssetId"]}).json()["assetId"]
    made = Agent.provision(server.url, api.headers["Authorization"].split()[1], tenant["name"])
    made.configure([{"id": point, "name": variable, "type": "DOUBLE"} for point, variable in METER_POINTS.items()])
    for point, variable in METER_POINTS.items():
        made.map(point, first, "Flows", variable, keep=False)
    made.map("DP-A", second, "Flows", "c", keep=False)
    made.meters = (first, second)
    return made


@st.composite
def bulk_posts(draw):
    """(data point ids in their order, each with its quality code or None for none, and per sample each point's
    value text), as the SDK's BulkPostData sends them."""
    points = draw(st.lists(st.sampled_from(sorted(METER_POINTS)), min_size=1, max_size=3, unique=True))
    codes = {point: draw(st.sampled_from([None, "0", "1073741824", "2147483648"])) for point in points}
    values = draw(st.lists(st.fixed_dictionaries({point: DECIMAL_TEXT for point in points}), min_size=1,
                           max_size=40))
    return points, codes, values


@SERVER_EXAMPLES
@given(post=bulk_posts())
def test_a_bulk_post_in_the_usual_shape_stores_what_the_value_by_value_reading_stores(meter, api, post):
    """The same samples, once in time order (read by columns) and once in reverse order (read value by value), a
    day apart: both days hold the same records, byte for byte once the day is set aside, and they are the values
    the texts say, with each quality code where its variable takes one."""
    points, codes, values = post
    day, other = next(DAYS) % 28 + 1, next(DAYS) % 28 + 1

    def samples(at_day: int) -> list[dict]:
        return [{"timestamp": sample_at(at_day, second), "values": [
            {"dataPointId": point, "value": texts[point], **({"qualityCode": codes[point]} if codes[point] else {})}
            for point in points]} for second, texts in enumerate(values, 1)]

    def window(at_day: int) -> dict:
        return {"from": f"2024-02-{at_day:02d}T00:00:00Z", "to": sample_at(at_day, 59)}

    for meter_id in meter.meters:  # a day may come round again: it starts empty
        for d in (day, other):
            assert api.delete(f"{TIMESERIES}/{meter_id}/Flows", params=window(d)).status_code == 204
    assert meter.post(samples(day)).status_code == 200
    assert meter.post(samples(other)[::-1]).status_code == 200
    expected = {}
    for second, texts in enumerate(values, 1):
        record = {"_time": sample_at(day, second)}
        for point in points:
            record[METER_POINTS[point]] = float(texts[point])
            if codes[point] is not None and point != "DP-B":
                record[METER_POINTS[point] + "_qc"] = int(codes[point])
        expected[record["_time"]] = record
    for meter_id in meter.meters:
        read = {d: api.get(f"{TIMESERIES}/{meter_id}/Flows", params=window(d)) for d in (day, other)}
        assert read[day].text.replace(f"-{day:02d}T", "-DDT") == read[other].text.replace(f"-{other:02d}T", "-DDT")
        if meter_id == meter.meters[0]:
            assert {r["_time"]: r for r in read[day].json()} == expected


@pytest.mark.parametrize("orders", [("ascending", "ascending"), ("ascending", "descending"),
                                    ("descending", "ascending")])
def test_an_exchange_of_two_items_stores_both_as_one_reading_would(meter, api, orders):
    """One exchange, two BulkPostData items of the same data points with overlapping times (seconds 1-3, then 2-5),
    each in time order (read by columns, stored as records the emulator made) or in reverse (read value by value):
    every record of both items is stored, the second item's replacing the first's at the times they share. Holding
    the first item's columns as the records' own once the second had added to them stored a misaligned batch."""
    day = next(DAYS) % 28 + 1

    def item(seconds, base: float, order: str) -> list[dict]:
        samples = [{"timestamp": sample_at(day, s), "values": [
            {"dataPointId": "DP-A", "value": repr(base + s), "qualityCode": "0"},
            {"dataPointId": "DP-B", "value": repr(base + s + 0.5)}]} for s in seconds]
        return samples if order == "ascending" else samples[::-1]

    window = {"from": sample_at(day, 0), "to": sample_at(day, 59)}
    for meter_id in meter.meters:
        assert api.delete(f"{TIMESERIES}/{meter_id}/Flows", params=window).status_code == 204
    first, _ = multipart.build(item(range(1, 4), 10.0, orders[0]), meter.configuration_id)
    second, content_type = multipart.build(item(range(2, 6), 20.0, orders[1]), meter.configuration_id)
    body = first.removesuffix(b"--mindspheremessage--\n") + second  # the outer part's two items
    resp = meter.http.post(f"{meter.url}{MC}/exchange", data=body,
                           headers={**meter.headers(), "Content-Type": content_type})
    assert resp.status_code == 200, resp.text
    expected = {s: 10.0 + s for s in range(1, 2)} | {s: 20.0 + s for s in range(2, 6)}
    got = api.get(f"{TIMESERIES}/{meter.meters[0]}/Flows", params=window).json()
    assert got == [{"_time": sample_at(day, s), "a": v, "a_qc": 0, "b": v + 0.5} for s, v in expected.items()]
    other = api.get(f"{TIMESERIES}/{meter.meters[1]}/Flows", params=window).json()
    assert other == [{"_time": sample_at(day, s), "c": v, "c_qc": 0} for s, v in expected.items()]


UNITS = [None, "", "C", "K"]


@SERVER_EXAMPLES
@given(point_type=st.sampled_from(sorted({v["dataType"] for v in VARIABLES})), unit=st.sampled_from(UNITS),
       variable=st.sampled_from(VARIABLES))
def test_a_mapping_is_accepted_exactly_when_type_and_unit_agree(agent, api, point_type, unit, variable):
    point = {"id": "DP-P", "name": "P", "type": point_type, **({"unit": unit} if unit is not None else {})}
    agent.configure([point], configuration_id=f"CF-{point_type}-{unit}")  # drops the last example's mapping
    resp = api.post(f"{MC}/dataPointMappings", json={
        "agentId": agent.id, "dataPointId": "DP-P", "entityId": agent.pump, "propertySetName": "Sensors",
        "propertyName": variable["name"], "keepMapping": False})
    agrees = point_type == variable["dataType"] and (unit or "") == (variable.get("unit") or "")
    assert resp.status_code == (201 if agrees else 400), resp.text


# --- the lenient exchange (what a real tenant does) ------------------------------------------------------

def test_a_lenient_exchange_drops_bad_values_and_reports_them():
    with LiveServer(Settings(database_url="sqlite://")) as srv, \
            ApiSession(srv.url, fetch_token(srv.url, "emutenant-client", "emulator-secret")) as api:
        tenant = api.get("/api/assetmanagement/v3/assets/root").json()
        pump = make_pump(api, {"name": "emutenant", "rootAssetId": tenant["assetId"]})
        made = Agent.provision(srv.url, api.headers["Authorization"].split()[1], "emutenant")
        made.configure([{"id": "DP-T", "name": "T", "type": "DOUBLE", "unit": "C"},
                        {"id": "DP-X", "name": "X", "type": "DOUBLE"}])
        made.map("DP-T", pump, "Sensors", "temperature")
        assert api.post(f"{MC}/diagnosticActivations", json={"agentId": made.id}).status_code == 201
        resp = made.post([{"timestamp": "2024-01-01T00:00:00.000Z", "values": [
            {"dataPointId": "DP-T", "value": "1.5", "qualityCode": "0"},
            {"dataPointId": "Unexistent", "value": "12312346.42.23", "qualityCode": "123123135"},
            {"dataPointId": "DP-X", "value": "2", "qualityCode": "0"}]},
            {"timestamp": "2024-01-01T00:00:01.000Z", "values": [{"dataPointId": "DP-T", "value": "x"}]}])
        assert resp.status_code == 200, resp.text
        got = api.get(f"{TIMESERIES}/{pump}/Sensors", params={"from": "2023-12-31T00:00:00Z",
                                                              "to": "2024-01-02T00:00:00Z"}).json()
        assert got == [{"_time": "2024-01-01T00:00:00.000Z", "temperature": 1.5, "temperature_qc": 0}]
        dropped, finished = api.get(f"{MC}/diagnosticActivations/{made.id}/messages").json()["content"]
        assert (dropped["severity"], dropped["state"]) == ("WARN", "DROPPED")
        assert "with 1 valid and 3 dropped" in dropped["message"]
        for words in ("not in the configuration count is 1, including ['Unexistent']",
                      "no mapping count is 1, including ['DP-X']", "invalid value count is 1, including ['DP-T']"):
            assert words in dropped["message"], dropped["message"]
        assert "<2> samplings and <1> properties" in finished["message"]
        assert "<3> values are dropped" in finished["message"]
