"""IoT Time Series v3's contract (its OpenAPI fragment): the record shapes and the three routes.

Written once, beside the routes: the document shows it and requests are validated from it
(:mod:`emulator.validation`). The records of ``PUT .../{asset_id}/{aspect}`` are the exception: their
variables are the aspect type's (the tenant's model) and that write is the hot path, so
:func:`emulator.timeseries.records.check_records` checks them in one pass instead (``CHECKED_IN_CODE``).
"""

from __future__ import annotations

from emulator import limits
from emulator.spec import (
    NO_CONTENT,
    any_value,
    array,
    boolean,
    flag,
    integer,
    json_body,
    make_fragment,
    number,
    obj,
    ok,
    operations,
    param,
    path,
    query,
    ref,
    string,
    time_query,
)
from emulator.times import TIME_PATTERN, ZONED_TIME_PATTERN

TS = "/api/iottimeseries/v3"
CHECKED_IN_CODE = {
    "timeseries.put_timeseries": "records are checked against the aspect type's variables in one pass "
                                 "(emulator.timeseries.records.check_records): the hot write path",
}


def record(*, request: bool) -> dict:
    """A time series record: ``_time`` and each variable's value, ``<var>_qc`` its quality code."""
    values = [number(), string(), boolean()]
    if request:
        values[1] = string(nullable=True)  # null means "no value"
    return {"type": "object", "required": ["_time"],
            "properties": {"_time": string(pattern=ZONED_TIME_PATTERN if request else TIME_PATTERN,
                                           example="2024-01-01T00:00:00.000Z")},
            "additionalProperties": {"anyOf": values},
            "description": "Variables of the aspect by name; `<var>_qc` an integer quality code (OPC UA status)"}


def paths() -> dict:
    asset_id, aspect = param("assetId"), param("aspect")
    op = operations("timeseries", "IoT Time Series v3", "timeseries")

    failure = obj({"entityId": any_value("As sent"), "propertySetName": any_value("As sent"),
                   "status": integer(), "message": string()}, "all")
    # A pair's own faults (a missing asset, a bad record, even a non-string entityId) do not refuse the
    # request: they are answered per pair in the 202. So the pair schema constrains nothing.
    pair = {**any_value("`{entityId, propertySetName, data: [records as in the single-pair PUT]}`"),
            "example": {"entityId": "0123456789abcdef0123456789abcdef", "propertySetName": "pump",
                        "data": [{"_time": "2024-01-01T00:00:00.000Z", "flow": 1.5}]}}
    return {
        f"{TS}/timeseries": {"put": op(
            "put_many", f"Write several asset-aspect pairs (at most {limits.TS_MULTI_MAX_PAIRS} pairs, "
                        f"{limits.TS_MULTI_MAX_RECORDS} records, {limits.TS_MULTI_MAX_BYTES} bytes)",
            {"202": ok("The pairs that failed (the others were written)", array(failure))}, 400, 413, 415,
            body=json_body(obj({"timeseries": array(pair, minItems=1, maxItems=limits.TS_MULTI_MAX_PAIRS)}, "all",
                               closed=False)))},
        f"{TS}/timeseries/{{asset_id}}/{{aspect}}": {
            "put": op("put_timeseries", f"Write records (at most {limits.TS_MAX_PUT_BYTES} bytes); a record at an "
                                        "existing time replaces it; one invalid record writes nothing",
                      {"204": NO_CONTENT}, 400, 404, 413, 415, params=[asset_id, aspect],
                      body=json_body(array(ref("TimeseriesRecordInput")))),
            "get": op("get_timeseries", "Records in (from, to]; without a range the latest record", {
                "200": ok("Records in time order", array(ref("TimeseriesRecord")), {"Link": ref("Link", "headers")})},
                400, 404, params=[
                    asset_id, aspect,
                    time_query("from", "Exclusive lower bound (only `to`: from the beginning of time)"),
                    time_query("to", "Inclusive upper bound (only `from`: up to now)"),
                    query("limit", integer(minimum=1, maximum=limits.TS_MAX_LIMIT, default=limits.TS_DEFAULT_LIMIT),
                          "At most this many records; more are announced by a Link header"),
                    query("select", string(), "Comma-separated variable names"),
                    query("sort", string(enum=["asc", "desc"], default="asc"), "By time only", empty_ok=False),
                    query("latestValue", flag(default="false"),
                          f"Each variable's newest value within {limits.TS_LATEST_VALUE_MAX_AGE_DAYS} days"),
                ]),
            "delete": op("delete_timeseries", "Delete the records in (from, to]", {"204": NO_CONTENT}, 400, 404,
                         params=[asset_id, aspect, time_query("from", "Exclusive", required=True),
                                 time_query("to", "Inclusive", required=True)]),
        },
    }


def fragment(admin_token: bool = False) -> dict:
    """IoT Time Series' part of the document; ``aspect`` is also the aggregates v3 path parameter."""
    return make_fragment(
        paths(),
        {"TimeseriesRecord": record(request=False), "TimeseriesRecordInput": record(request=True)},
        {"aspect": path("aspect", string(pattern=limits.NAME_PATTERN), "The name of a dynamic aspect of the asset")},
        CHECKED_IN_CODE)
