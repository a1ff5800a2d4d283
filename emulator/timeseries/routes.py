"""IoT Time Series v3 HTTP routes (base ``/api/iottimeseries/v3``); errors in ``{"id", "message"}``.

Decisions [?] (README): ``limit`` above 2000 answers 400; a range needs at least one bound, the
other defaults to the beginning of time or to now; ``select`` keeps the records that hold at least
one selected variable; times without a zone are UTC. The query parameters and the multi-pair body are checked
against the contract (``spec.py``) before a route runs; the records, against the aspect type, in ``records.py``.
"""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, jsonify, request

from emulator import context, errors, limits
from emulator.httpio import json_body
from emulator.runtime import runtime
from emulator.times import iso, parse_instant
from emulator.timeseries import service

bp = Blueprint("timeseries", __name__, url_prefix="/api/iottimeseries/v3")

BEGINNING = -62135596800000 + 1  # 0001-01-01T00:00:00.001Z: "from" when only "to" is given


def _now_ms() -> int:
    return int(runtime().clock.time() * 1000)


def _zone() -> str:
    return context.tenant_row()["default_timezone"]


def _check_size(cap: int) -> None:
    length = request.content_length
    if length is None:
        length = len(request.get_data(cache=True))
    if length > cap:
        raise errors.PayloadTooLarge(f"The payload is {length} bytes; at most {cap} are allowed")


def _bool_param(name: str) -> bool:
    return request.args.get(name, "").strip().lower() == "true"  # true or false in any case (the contract)


@bp.put("/timeseries/<asset_id>/<aspect>")
def put_timeseries(asset_id, aspect):
    """Write records (at most 1 MB); a record at an existing time replaces it. 204; one bad record, nothing."""
    _check_size(limits.TS_MAX_PUT_BYTES)
    scope = context.scope()
    schema = service.aspect_schema(scope, asset_id, aspect)
    service.write(scope, asset_id, schema, json_body())
    return "", 204


@bp.put("/timeseries")
def put_many():
    """Several asset-aspect pairs (at most 5, 100 KB, 100 records). 202 with the pairs that failed."""
    _check_size(limits.TS_MULTI_MAX_BYTES)
    items = json_body()["timeseries"]  # 1 to 5 pairs (the contract); each pair's own faults answer in the 202
    total = sum(len(i["data"]) for i in items if isinstance(i, dict) and isinstance(i.get("data"), list))
    if total > limits.TS_MULTI_MAX_RECORDS:
        raise errors.BadRequest(f"At most {limits.TS_MULTI_MAX_RECORDS} records per request, not {total}")
    scope = context.scope()
    pairs = {(i.get("entityId"), i.get("propertySetName")) for i in items if isinstance(i, dict)}
    for entity, aspect in sorted(p for p in pairs if all(isinstance(x, str) for x in p)):
        service.serialize(scope, entity, aspect)  # all locks first, in one order: two such requests never deadlock
    failures = []
    for item in items:
        entity = item.get("entityId") if isinstance(item, dict) else None
        aspect = item.get("propertySetName") if isinstance(item, dict) else None
        savepoint = scope.conn.begin_nested()
        try:
            if not isinstance(entity, str) or not isinstance(aspect, str):
                raise errors.BadRequest("Each item needs entityId and propertySetName strings")
            schema = service.aspect_schema(scope, entity, aspect)
            service.write(scope, entity, schema, item.get("data"))
            savepoint.commit()
        except errors.ApiError as err:
            savepoint.rollback()
            failures.append({"entityId": entity, "propertySetName": aspect, "status": err.status,
                             "message": err.message})
    return jsonify(failures), 202


def _range() -> tuple[int | None, int | None]:
    raw_from, raw_to = request.args.get("from"), request.args.get("to")
    after = parse_instant(raw_from, "from", zone_required=False) if raw_from else None
    upto = parse_instant(raw_to, "to", zone_required=False) if raw_to else None
    if after is not None and upto is not None and after > upto:
        raise errors.BadRequest(f"from ({raw_from}) is after to ({raw_to})")
    return after, upto


def _limit() -> int:
    raw = request.args.get("limit")
    return limits.TS_DEFAULT_LIMIT if raw is None or raw == "" else int(raw)  # 1 to 2000 (the contract)


def _descending() -> bool:
    return request.args.get("sort") == "desc"  # asc or desc: time series sort by time only (the contract)


def _select(schema) -> list[str] | None:
    raw = request.args.get("select")
    if raw is None or raw.strip() == "":
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in schema.variables]
    if unknown:
        raise errors.BadRequest(f"select: {unknown[0]!r} is not a variable of aspect {schema.name!r}")
    return names


def _project(bodies: list[str], wanted: list[str] | None) -> bytes:
    if wanted is None:  # the stored texts are the answer: no parsing, no encoding
        return ("[" + ",".join(bodies) + "]").encode()
    keep = set(wanted) | {w + "_qc" for w in wanted}
    out = []
    for body in bodies:
        record = orjson.loads(body)
        picked = {k: v for k, v in record.items() if k in keep}
        if picked:
            out.append({"_time": record["_time"], **picked})
    return orjson.dumps(out)


@bp.get("/timeseries/<asset_id>/<aspect>")
def get_timeseries(asset_id, aspect):
    """Records in ``(from, to]``, at most ``limit`` (a ``Link: <...>; rel="next"`` header for more); no range:
    the latest record; ``latestValue=true``: each variable's latest value."""
    scope = context.scope()
    schema = service.aspect_schema(scope, asset_id, aspect)
    after, upto = _range()
    limit, descending, wanted = _limit(), _descending(), _select(schema)
    if _bool_param("latestValue"):
        now = _now_ms()
        upto = min(upto if upto is not None else now, now)
        after = max(after if after is not None else BEGINNING, now - limits.TS_LATEST_VALUE_MAX_AGE_DAYS * 86_400_000)
        records = service.latest_values(scope, asset_id, schema, after, upto, wanted or list(schema.variables))
        return Response(orjson.dumps(records), mimetype="application/json")
    if after is None and upto is None:
        page = service.latest(scope, asset_id, aspect)
        body, last, more = _project(page.bodies, wanted), None, False
    else:
        after = BEGINNING if after is None else after
        upto = _now_ms() if upto is None else upto
        if wanted is None:  # the stored texts are the answer, joined by the database
            text, last, more = service.read_joined(scope, asset_id, aspect, after, upto, limit, descending)
            body = ("[" + text + "]").encode()
        else:
            page = service.read(scope, asset_id, aspect, after, upto, limit, descending)
            body, last, more = _project(page.bodies, wanted), page.times[-1] if page.times else None, page.more
    resp = Response(body, mimetype="application/json")
    if more:
        nxt = {"from": iso(last), "to": iso(upto)} if not descending else {"from": iso(after), "to": iso(last - 1)}
        query = {**nxt, "limit": limit, **({"select": ",".join(wanted)} if wanted else {}),
                 **({"sort": "desc"} if descending else {})}
        resp.headers["Link"] = f'<{context.base_url()}{request.path}?{urlencode(query)}>; rel="next"'
    return resp


@bp.delete("/timeseries/<asset_id>/<aspect>")
def delete_timeseries(asset_id, aspect):
    """Deletes the records in ``(from, to]``; both are required (the contract)."""
    scope = context.scope()
    schema = service.aspect_schema(scope, asset_id, aspect)
    after, upto = _range()
    service.delete_range(scope, asset_id, schema, after, upto, _zone())
    return "", 204
