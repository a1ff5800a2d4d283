"""TS Aggregates HTTP routes: v4 (``GET /api/iottsaggregates/v4/aggregates``, core error envelope,
``{"aggregates": [...]}``) and v3 (``GET /api/iottsaggregates/v3/aggregates/{asset}/{aspect}``,
time series error envelope, a bare array)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import orjson
from flask import Blueprint, Response, request

from emulator import context
from emulator.aggregates import intervals as iv
from emulator.aggregates.query import aggregate, parse_select
from emulator.runtime import runtime
from emulator.times import parse_instant
from emulator.timeseries.service import aspect_schema

bp = Blueprint("aggregates", __name__, url_prefix="/api/iottsaggregates")


def _zone() -> ZoneInfo:
    return ZoneInfo(context.tenant_row()["default_timezone"])


def _time(name: str) -> int | None:
    raw = request.args.get(name)
    return parse_instant(raw, name, zone_required=False) if raw else None


def _json(body) -> Response:
    return Response(orjson.dumps(body), mimetype="application/json")


@bp.get("/v4/aggregates")
def aggregates_v4():
    """Aggregates of ``assetId``/``aspectName`` (required: the contract) over intervals; missing parameters are
    completed."""
    args = request.args
    scope = context.scope()
    schema = aspect_schema(scope, args["assetId"], args["aspectName"])
    unit = iv.parse_unit(args.get("intervalUnit"))
    plan = iv.plan_v4(_time("from"), _time("to"), unit, iv.parse_value(args.get("intervalValue"), unit),
                      iv.parse_count(args.get("count")),
                      int(runtime().clock.time() * 1000), _zone())
    wanted = parse_select(args.get("select"), schema)
    return _json({"aggregates": aggregate(scope, args["assetId"], schema, plan, wanted)})


@bp.get("/v3/aggregates/<asset_id>/<aspect>")
def aggregates_v3(asset_id, aspect):
    """The legacy API: every parameter required (the contract), bounds aligned, the range a whole number of
    intervals."""
    args = request.args
    scope = context.scope()
    schema = aspect_schema(scope, asset_id, aspect)
    unit = iv.parse_unit(args["intervalUnit"])
    value = iv.parse_value(args["intervalValue"], unit)
    plan = iv.plan_v3(_time("from"), _time("to"), unit, value, _zone(), args["from"], args["to"])
    return _json(aggregate(scope, asset_id, schema, plan, parse_select(args.get("select"), schema)))
