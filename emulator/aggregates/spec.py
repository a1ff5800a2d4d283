"""TS Aggregates' contract (its OpenAPI fragment): v4 (core error envelope) and v3 (time series envelope).

Written once, beside the routes: the document shows it and the query parameters are validated from it
(:mod:`emulator.validation`): required parameters, units, value bounds, times. What depends on several
parameters (a value allowed for its unit, aligned bounds, maximum ranges) or on the aspect (``select``) is
checked in ``intervals.py`` and ``query.py``.
"""

from __future__ import annotations

from emulator.aggregates.intervals import UNITS, VALUES
from emulator.aggregates.query import PUBLIC_FIELDS
from emulator.spec import (
    COMMON_STATUSES,
    array,
    errors,
    integer,
    make_fragment,
    nullable,
    number,
    obj,
    ok,
    operation,
    param,
    query,
    ref,
    string,
    time_query,
)

AGG = "/api/iottsaggregates"


def aggregate_interval() -> dict:
    fields = {name: (string() if name.endswith("time") else
                     integer(minimum=0) if name.startswith("count") else
                     nullable(number(description="null beyond the double range")) if name in ("sum", "average", "sd")
                     else number())
              for name in PUBLIC_FIELDS}
    return {"type": "object", "required": ["starttime", "endtime"],
            "properties": {"starttime": string(description="exclusive"), "endtime": string(description="inclusive")},
            "additionalProperties": obj(fields, description="One numeric variable (its `select`ed fields)"),
            "description": "One interval with data; intervals without data are left out"}


def paths() -> dict:
    tag, bearer, common = "TS Aggregates", [{"bearerAuth": []}], COMMON_STATUSES
    value_text = "; ".join(f"{unit} {values[0]}..{values[-1]}" + (" (even)" if unit == "minute" else "")
                           for unit, values in VALUES.items())
    unit_schema = string(enum=list(UNITS))
    value_schema = integer(minimum=1, maximum=max(max(v) for v in VALUES.values()))
    v4 = operation("aggregates.aggregates_v4", "Aggregates of an asset's aspect over intervals (v4)", {
        "200": ok("Intervals with data", obj({"aggregates": array(ref("AggregateInterval"))}, "all")),
        **errors("core", *common, 400, 404)}, tag=tag, security=bearer, params=[
        query("assetId", string(minLength=1), required=True),
        query("aspectName", string(minLength=1), required=True),
        time_query("from", "Missing parts of the range are completed (see the README)"),
        time_query("to", "Inclusive"),
        query("intervalUnit", unit_schema),
        query("intervalValue", value_schema, f"Needs intervalUnit; {value_text}"),
        query("count", integer(minimum=1), "Number of intervals"),
        query("select", string(), "`var` or `var.field`, comma-separated (numeric variables only)"),
    ])
    v3 = operation("aggregates.aggregates_v3", "Aggregates of an asset's aspect (legacy v3: every parameter "
                                               "required, bounds aligned to the unit)", {
        "200": ok("Intervals with data", array(ref("AggregateInterval"))),
        **errors("timeseries", *common, 400, 404)}, tag=tag, security=bearer, params=[
        param("assetId"), param("aspect"),
        time_query("from", "Exclusive; aligned to the unit", required=True),
        time_query("to", "Inclusive; aligned to the unit", required=True),
        query("intervalValue", value_schema, value_text, required=True),
        query("intervalUnit", unit_schema, required=True),
        query("select", string(), "`var` or `var.field`, comma-separated (numeric variables only)"),
    ])
    return {f"{AGG}/v4/aggregates": {"get": v4}, f"{AGG}/v3/aggregates/{{asset_id}}/{{aspect}}": {"get": v3}}


def fragment(admin_token: bool = False) -> dict:
    return make_fragment(paths(), {"AggregateInterval": aggregate_interval()})
