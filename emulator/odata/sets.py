"""Reading a contract's entity sets: assets, time series records and aggregates, as OData rows.

Decisions [?] (README, fidelity notes):

* An asset set holds the assets of its type and of the type's subtypes, so a derived asset is also
  seen through its base type (that is what the derived/base association joins).
* Time series and aggregate queries see at most the first 2000 objects (seed 8.6) in their order:
  ``$skip`` and ``$top`` page inside that window, and no page reaches past it (no nextLink). The
  count they report is the window's size, not the true total (the seed's "not correctly
  calculated"), unless the server runs with ``--odata-exact-counts``.
* Timestamps are UTC text ``YYYY-MM-DDTHH:mm:ss`` (``.fff`` added when there are milliseconds), as
  Data Hub treats times as strings (seed 8.3); filters take that form, as a string literal, and no
  other (no date alone, no zone, no unquoted DateTimeOffset): the refusal names the form to use.
* An aggregate row's ``timestamp`` is its interval's start. ``timestamp gt`` and ``le`` are the REST
  query's ``from`` and ``to`` (intervals ``(from, to]``, widened to boundaries as v4 does), so the
  first row of ``timestamp gt X`` may carry ``X`` itself: the interval that starts there.
* ``seconds`` intervals are computed from the raw records (no rollup is that fine), over at most a
  day; ``minutes`` take 2..60 in steps of 2, or whole hours up to 24; ``days`` 1..90. Those are the
  REST v4 values (mindsphere-api.md 4a) the contract's units map to.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import and_, false, not_, or_, true

from emulator import errors, limits
from emulator.aggregates import intervals as iv
from emulator.aggregates.query import interval_stats
from emulator.assets.models import assets
from emulator.assets.types import catalog
from emulator.odata import spliced
from emulator.odata.model import AGGREGATION_TYPES, ASSET_FIELDS
from emulator.odata.query import Condition, Options, ast, conditions, odata_error
from emulator.store import TenantScope
from emulator.store.engine import driver_rows, fast_rows
from emulator.times import EPOCH, ONE_MS, iso, parse_instant, parse_time
from emulator.timeseries import service as ts
from emulator.timeseries.records import AspectSchema
from emulator.timeseries.stats import Stats

COLUMNS = {prop: assets.c[column] for prop, column, *_ in ASSET_FIELDS}
MAX_KEY_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: no record or interval starts later
MIN_MS, MAX_MS = -(2**63), 2**63 - 1  # the bounds of a time range that names none
UNIT_SECONDS = {"days": 86_400, "minutes": 60, "seconds": 1}


@dataclass
class Result:
    rows: list[dict]
    count: int | None  # what @odata.count and /$count report
    more: bool = False  # a server-driven next page exists (asset sets read without $top)
    texts: list[bytes | memoryview] | None = None  # runs of rows already in JSON (UTF-8), joined with commas


def stamp(ms: int) -> str:
    """Data Hub's text form of a time: UTC, no zone designator."""
    return iso(ms, always_millis=False)[:-1]


# the instants whose UTC form has a four-digit year (years 1 to 9999), in epoch milliseconds
_WRITABLE = ((datetime(1, 1, 1, tzinfo=UTC) - EPOCH) // ONE_MS,
             (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC) - EPOCH) // ONE_MS)


def datahub_time(text: str | None) -> str | None:
    """A TIMESTAMP variable's value, stored as the client wrote it (any ISO-8601 form the time series API or
    Asset Management took, with or without a zone), in Data Hub's form: what ``$metadata`` declares
    (Edm.String, MaxLength 23)."""
    if text is None:
        return None
    try:
        ms = parse_time(text, "value", zone_required=False)
    except (errors.ApiError, OverflowError, ValueError):
        ms = None
    if ms is not None and _WRITABLE[0] <= ms <= _WRITABLE[1]:
        return stamp(ms)
    # what datetime reads and the time series form does not (a space for the T, a week date), and a time whose UTC
    # year has no four digits (9999-12-31T23:30:00-01:00 was written 10000-01-01T00:30:00, past MaxLength 23)
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        with contextlib.suppress(OverflowError):  # beyond year 1 or 9999 in UTC: the wall clock as written
            moment = moment.astimezone(UTC)
    millis = moment.microsecond // 1000
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
            f"{moment.second:02d}" + (f".{millis:03d}" if millis else ""))


def family(scope: TenantScope, entity_set: dict) -> list[str]:
    return catalog(scope).graph.with_subtypes(entity_set["typeId"])


# --- assets ----------------------------------------------------------------------------------------

def _string(cond: Condition, node) -> str | None:
    if isinstance(node, ast.Null) and cond.op == "eq":
        return None
    if not isinstance(node, ast.String):
        raise odata_error(f"$filter: {cond.prop} is a string; compare it with a string literal ('...')", cond.prop)
    return node.val


def asset_condition(node):
    """The SQL of a checked asset filter."""
    if isinstance(node, ast.BoolOp):
        join = and_ if isinstance(node.op, ast.And) else or_
        return join(asset_condition(node.left), asset_condition(node.right))
    if isinstance(node, ast.UnaryOp):
        return not_(asset_condition(node.operand))
    if isinstance(node, ast.Boolean):
        return true() if node.val.lower() == "true" else false()
    cond = _condition_of(node)
    column = COLUMNS[cond.prop]
    if cond.op == "in":
        return column.in_([_string(cond, item) for item in cond.value.val])
    value = _string(cond, cond.value)
    if cond.op == "eq":
        return column.is_(None) if value is None else column == value
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = {"startswith": f"{escaped}%", "endswith": f"%{escaped}", "contains": f"%{escaped}%"}[cond.op]
    return column.like(pattern, escape="\\")


def static_value(data_type: str, text):
    """Asset Management keeps static values as text; the OData property has the variable's type."""
    if data_type == "TIMESTAMP":
        return datahub_time(text)
    if text is None or data_type in ("STRING", "BIG_STRING"):
        return text
    if data_type == "BOOLEAN":
        return text == "true"
    return float(text) if data_type == "DOUBLE" else int(text)


def _condition_of(node) -> Condition:
    return conditions(node)[0]


def asset_where(scope: TenantScope, entity_set: dict, node=None) -> list:
    where = [assets.c.deleted.is_(None), assets.c.type_id.in_(family(scope, entity_set))]
    if node is not None:
        where.append(asset_condition(node))
    return where


def _json(value):
    """A JSON column as the driver gives it: text from SQLite (read with orjson, ten times the standard library), the
    value itself from PostgreSQL's driver, which decodes it."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def asset_rows(scope: TenantScope, entity_set: dict, rows: list[tuple]) -> list[dict]:
    """The set's rows of assets read as ``read_assets`` reads them: the driver's tuples of ``ASSET_FIELDS``'
    columns, then the JSON columns as text when the set shows static values (each parsed only when the set shows a
    value kept there: the asset's own variables, its aspects')."""
    cat = catalog(scope)
    out = []
    names = [prop for prop, *_ in ASSET_FIELDS]
    extra = [p for p in entity_set["properties"] if "variable" in p]
    own = any("aspect" not in p for p in extra)
    of_aspects = any("aspect" in p for p in extra)
    plans: dict[str, list[tuple]] = {}  # type id -> _value_plan
    for row in rows:
        item = dict(zip(names, row))  # noqa: B905 - the row holds these columns first, then the JSON ones
        if extra:
            plan = plans.get(item["typeId"])
            if plan is None:
                plan = plans[item["typeId"]] = _value_plan(cat.model(item["typeId"]), extra)
            given = {v["name"]: v["value"] for v in _json(row[-2])} if own else {}
            by_aspect = {a["name"]: {v["name"]: v["value"] for v in a["variables"]} for a in _json(row[-1])} \
                if of_aspects else {}
            for name, data_type, aspect, variable, default in plan:
                value = given.get(variable, default) if aspect is None else \
                    by_aspect.get(aspect, {}).get(variable, default)
                item[name] = static_value(data_type, value)
        out.append(item)
    return out


def _value_plan(model, extra: list[dict]) -> list[tuple]:
    """How each static property of a set is read from an asset of ``model``'s type: (property, data type, aspect or
    None, variable, the variable's default). The value is the asset's own, else the default, as the asset's answer
    renders it (``TypeModel.render_values``), looked up for the set's properties alone instead of rendering every
    value of every asset. A set published before its type was deleted and made again may name a variable or an
    aspect the type no longer has: no default, and no value of the asset's (its values are its type's)."""
    statics = dict(model.static_aspects())
    plan = []
    for p in extra:
        if "aspect" in p:
            aspect_type = statics.get(p["aspect"])
            var = next((v for v in aspect_type["variables"] if v["name"] == p["variable"]), None) \
                if aspect_type is not None else None
        else:
            var = model.variables.get(p["variable"])
        plan.append((p["name"], p["dataType"], p.get("aspect"), p["variable"],
                     None if var is None else var.get("defaultValue")))
    return plan


def read_assets(scope: TenantScope, entity_set: dict, options: Options, where_extra=()) -> Result:
    limit = options.top if options.top is not None else limits.DATAHUB_ASSET_PAGE
    with_json = any("variable" in p for p in entity_set["properties"])  # the JSON columns: static values shown
    where = None
    if options.filter is None and not where_extra:  # a page of the set (a Data Hub grid's paging)
        types = family(scope, entity_set)
        rows = fast_rows(scope.conn, _page_sql(tuple(options.orderby), with_json, len(types)), scope.tenant, *types,
                         limit + 1, options.skip) if types else []
    else:
        where = asset_where(scope, entity_set, options.filter) + list(where_extra)
        order = [COLUMNS[p].desc() if descending else COLUMNS[p].asc() for p, descending in options.orderby]
        columns = list(COLUMNS.values()) + ([assets.c.variables, assets.c.aspects] if with_json else [])
        stmt = (scope.select(assets, *columns).where(*where).order_by(*order, assets.c.asset_id)
                .offset(options.skip).limit(limit + 1))
        rows = driver_rows(scope.conn, stmt)  # text columns: the driver's tuples as they are
    more = len(rows) > limit and options.top is None
    if options.count:
        count = scope.count(assets, *(where if where is not None else asset_where(scope, entity_set)))
    else:
        count = None
    return Result(asset_rows(scope, entity_set, rows[:limit]), count, more)


@functools.lru_cache(maxsize=256)
def _page_sql(orderby: tuple, with_json: bool, types: int) -> str:
    """The SQL of a page of a set without ``$filter``, as ``read_assets`` builds it with one (its columns, the
    tenant's live assets of the set's type family, the order with the asset id last, LIMIT and OFFSET), made once
    per shape: building and compiling the statement per request cost as much as the rest of the page. Parameters:
    the tenant, the ``types`` type ids, the limit, the offset."""
    columns = [column.name for column in COLUMNS.values()] + (["variables", "aspects"] if with_json else [])
    order = [f"{COLUMNS[p].name} {'DESC' if descending else 'ASC'}" for p, descending in orderby] + ["asset_id"]
    return (f"SELECT {', '.join(columns)} FROM assets WHERE tenant_id = ? AND deleted IS NULL AND type_id IN "
            f"({', '.join('?' * types)}) ORDER BY {', '.join(order)} LIMIT ? OFFSET ?")


# --- time series -----------------------------------------------------------------------------------

@dataclass
class Bounds:
    """What a time series or aggregate filter asks: equalities and a (after, upto] time range."""

    equal: dict[str, object]
    after: int | None = None
    upto: int | None = None
    empty: bool = False  # contradictory equalities: nothing can match


DATAHUB_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?")


def _time_literal(cond: Condition) -> int:
    """A time of a filter on ``timestamp``: a string literal in the seed's form (8.3), as the service writes
    times; 400 naming that form for anything else."""
    node = cond.value
    form = "takes a UTC time as a string 'YYYY-MM-DDTHH:mm:ss' (Data Hub times are strings, seed 8.3)"
    if isinstance(node, ast.String) and DATAHUB_TIME.fullmatch(node.val):
        try:
            return parse_instant(node.val + "Z", "timestamp")
        except errors.ApiError as exc:
            raise odata_error(f"$filter: timestamp {form}: {exc.message}", "timestamp") from None
    if isinstance(node, ast.DateTime | ast.Date):
        hint = f"in quotes, not {node.val}"
    elif isinstance(node, ast.String) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", node.val):
        hint = f"a date and a time, not '{node.val}'"
    elif isinstance(node, ast.String) and DATAHUB_TIME.match(node.val):
        hint = f"without a zone, not '{node.val}'"
    else:
        hint = f"not {_shown(node)}"
    raise odata_error(f"$filter: timestamp {form}, {hint}", "timestamp")


def _shown(node) -> str:
    return repr(getattr(node, "val", type(node).__name__))


def bounds(node, kinds: dict[str, type]) -> Bounds:
    """The equalities (typed by ``kinds``) and the time range of a checked conjunction."""
    out = Bounds({})
    if node is None:
        return out
    for cond in conditions(node):
        if cond.prop == "timestamp":
            ms = _time_literal(cond)
            if cond.op == "gt":
                out.after = ms if out.after is None else max(out.after, ms)
            else:
                out.upto = ms if out.upto is None else min(out.upto, ms)
            continue
        kind = kinds[cond.prop]
        literal = ast.String if kind is str else ast.Integer
        if not isinstance(cond.value, literal):
            what = "a string literal ('...')" if kind is str else "an integer"
            raise odata_error(f"$filter: {cond.prop} takes {what}, not {_shown(cond.value)}", cond.prop)
        value = kind(cond.value.val)
        if cond.prop in out.equal and out.equal[cond.prop] != value:
            out.empty = True
        out.equal[cond.prop] = value
    if out.after is not None and out.upto is not None and out.after >= out.upto:
        out.empty = True
    return out


def _window(options: Options) -> tuple[int, int]:
    """(offset, limit) of the page inside the first 2000 objects."""
    cap = limits.DATAHUB_MAX_OBJECTS
    skip = min(options.skip, cap)
    limit = cap - skip if options.top is None else min(options.top, cap - skip)
    return skip, limit


def _count(total: int, exact: bool) -> int:
    return total if exact else min(total, limits.DATAHUB_MAX_OBJECTS)


def _members(scope: TenantScope, entity_set: dict, asset_id) -> list[str]:
    stmt = _member_query(scope, entity_set, asset_id).order_by(assets.c.asset_id)
    return [r[0] for r in driver_rows(scope.conn, stmt)]


def _member_query(scope: TenantScope, entity_set: dict, asset_id):
    """The ids of the set's assets (or of that one asset, if it is one of them), as a statement."""
    stmt = scope.select(assets, assets.c.asset_id).where(*asset_where(scope, entity_set))
    return stmt if asset_id is None else stmt.where(assets.c.asset_id == asset_id)


def _tagged(asset_id: str, found: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str, str]]:
    return ((t, asset_id, body) for t, body in found)


def _runs(scope: TenantScope, members: list[str], aspect: str, after: int, upto: int, descending: bool, skip: int,
          limit: int) -> Iterator[tuple[str, tuple | None, list[int] | None, str | None]]:
    """The page's records in the set's order (time, then asset id), as runs of one asset's: (asset id, the stored
    piece they are, their times, their stored texts joined with commas). One member is read as REST reads it, a
    stored piece (block, i, j) at a time (times and texts None: read from the piece when needed); several are
    merged record by record (piece None), each member's blocks read only as far as the page reaches."""
    if limit <= 0 or not members:
        return
    if len(members) == 1:
        for piece in ts.read_pieces(scope, members[0], aspect, after, upto, limit, descending, skip):
            yield members[0], piece, None, None
        return
    streams = [_tagged(a, ts.records(scope, a, aspect, after, upto, descending)) for a in members]
    merged = heapq.merge(*streams, key=lambda r: (r[0], r[1]), reverse=descending)
    for asset_id, run in itertools.groupby(itertools.islice(merged, skip, skip + limit), key=lambda r: r[1]):
        found = list(run)
        yield asset_id, None, [r[0] for r in found], ",".join(r[2] for r in found)


def read_timeseries(scope: TenantScope, entity_set: dict, options: Options, exact: bool) -> Result:
    b = bounds(options.filter, {"assetId": str})
    if b.empty:
        return Result([], 0 if options.count else None)
    aspect = entity_set["aspect"]
    after = MIN_MS if b.after is None else b.after
    upto = MAX_MS if b.upto is None else b.upto
    members = ts.typed_holding(scope, family(scope, entity_set), b.equal.get("assetId"), aspect, after, upto)
    descending = bool(options.orderby) and options.orderby[0][1]
    skip, limit = _window(options)
    names = [p for p in entity_set["properties"] if "variable" in p]
    rows, texts = [], []
    quick = tuple(f'"{p["variable"]}":' for p in names
                  if p["name"] == p["variable"] and p.get("dataType") != "TIMESTAMP")
    # the answer can be the stored texts, spliced (emulator.odata.spliced): all of each record, no control
    # information per entity; a stored piece's rows come from its block's, kept
    as_text = options.select is None and options.metadata != "full" and len(quick) == len(names)
    for asset_id, piece, times, text in _runs(scope, members, aspect, after, upto, descending, skip, limit):
        if piece is not None:  # a stored piece: its block's rows, kept, or its records parsed
            kept = spliced.block_rows(asset_id, piece[0], quick) if as_text else None
            if kept is not None:
                texts.append(kept.piece(piece[1], piece[2], descending))
                continue
            times, text = ts.piece_run(piece, descending)
        elif as_text:  # a merged run: spliced on its own, or parsed
            found = spliced.spliced(asset_id, times, text, quick)
            if found is not None:
                texts.append(",".join(found).encode())
                continue
        for t, record in zip(times, orjson.loads(f"[{text}]"), strict=True):
            item = {"id": f"{asset_id}_{t}", "assetId": asset_id, "timestamp": stamp(t)}
            for p in names:
                item[p["name"]] = _record_value(p, record)
            if as_text:
                texts.append(orjson.dumps(item))
            else:
                rows.append(item)
    count = None
    if options.count:
        count = _count(sum(ts.count(scope, a, aspect, after, upto) for a in members), exact)
    return Result(rows, count, texts=texts if as_text else None)


def _record_value(prop: dict, record: dict):
    value = record.get(prop["variable"])
    return datahub_time(value) if prop.get("dataType") == "TIMESTAMP" else value


def _key_number(text: str, high: int) -> bool:
    """An ASCII number of a key that can name a row (``isdigit`` alone takes "²"; a larger one fits no column)."""
    return text.isascii() and text.isdigit() and int(text) <= high


def timeseries_by_key(scope: TenantScope, entity_set: dict, key: str) -> dict | None:
    asset_id, _, t = key.rpartition("_")
    if not asset_id or not _key_number(t, MAX_KEY_MS):
        return None
    if asset_id not in _members(scope, entity_set, asset_id):
        return None
    found = next(ts.records(scope, asset_id, entity_set["aspect"], int(t) - 1, int(t)), None)
    if found is None:
        return None
    record = orjson.loads(found[1])
    item = {"id": key, "assetId": asset_id, "timestamp": stamp(int(t))}
    for p in entity_set["properties"]:
        if "variable" in p:
            item[p["name"]] = _record_value(p, record)
    return item


# --- aggregates ------------------------------------------------------------------------------------

AGGREGATE_KINDS = {"assetId": str, "aggregationType": str, "variableName": str, "intervalUnit": str,
                   "intervalValue": int, "intervalCount": int}


def _rest_unit(unit: str | None, value: int | None) -> tuple[str | None, int | None]:
    """The contract's unit and value as the REST v4 planner's; ``seconds`` is planned here."""
    if unit is None:
        if value is not None:
            raise odata_error("$filter: intervalValue needs an intervalUnit (days, minutes or seconds)",
                              "intervalValue")
        return None, None
    if unit not in limits.DATAHUB_INTERVAL_UNITS:
        raise odata_error(f"$filter: intervalUnit must be days, minutes or seconds, not {unit!r}", "intervalUnit")
    if unit == "days":
        if value is not None and value not in iv.VALUES["day"]:
            raise odata_error(f"$filter: intervalValue for days is 1 to 90, not {value}", "intervalValue")
        return "day", value
    if unit == "minutes":
        if value is None or value in iv.VALUES["minute"]:
            return "minute", value
        if value % 60 == 0 and value // 60 in iv.VALUES["hour"]:
            return "hour", value // 60
        raise odata_error(f"$filter: intervalValue for minutes is 2 to 60 in steps of 2, or whole hours up to 1440, "
                          f"not {value}", "intervalValue")
    if value is not None and not 1 <= value <= limits.DATAHUB_SECONDS_MAX_RANGE_S:
        raise odata_error(f"$filter: intervalValue for seconds is 1 to {limits.DATAHUB_SECONDS_MAX_RANGE_S}",
                          "intervalValue")
    return "second", value or 1


def _default_range(unit: str, value: int, now: int) -> tuple[int, int]:
    """Neither bound given: the range ends now and reaches back as far as the unit allows, at most the 7 days
    REST v4 takes when nothing is given (as it completes a single bound with the unit's maximum range). For
    minutes and hours it is whole intervals, so that aligning it cannot make it too long."""
    span = min(iv.DEFAULT_SPAN, iv.MAX_RANGE[unit])
    if unit not in ("minute", "hour"):
        return now - span, now
    size = value * iv.NOMINAL[unit]
    upto = now + (-now % size)
    return upto - span // size * size, upto


def _too_long(unit: str, value: int, count: int | None) -> errors.ApiError:
    """The range limit in the contract's terms: its units (minutes, days) and its timestamp bounds."""
    minutes = value * 60 if unit == "hour" else value
    interval = f"{minutes} minutes" if unit in ("minute", "hour") else f"{value} days"
    most = iv.MAX_RANGE[unit]
    span = f"{most // 86_400_000} days" if most >= 2 * 86_400_000 else f"{most // 3_600_000} hours"
    fewer = " or a smaller intervalCount" if count is not None else ""
    return odata_error(f"$filter: aggregates in intervals of {interval} cover at most {span}: narrow the range "
                       f"with timestamp gt and timestamp le{fewer}", "timestamp")


def _seconds_plan(after, upto, value: int, count, now: int) -> iv.Plan:
    size = value * 1000
    if upto is None:
        upto = after + size * count if after is not None and count else now
    if after is None:
        after = upto - size * count if count else upto - min(3_600_000, size * limits.DATAHUB_MAX_OBJECTS)
    start = after - after % size
    end = -(-upto // size) * size
    if end - start > limits.DATAHUB_SECONDS_MAX_RANGE_S * 1000:
        raise odata_error(f"$filter: seconds intervals cover at most {limits.DATAHUB_SECONDS_MAX_RANGE_S // 3600} "
                          "hours; narrow the timestamp range", "timestamp")
    intervals = [(lo, lo + size) for lo in range(start, end, size)]
    return iv.Plan("second", value, intervals[:count] if count else intervals)


def _bound_raw_work(scope: TenantScope, entity_set: dict, members: list, asset_id: str | None, plan: iv.Plan) -> None:
    """Seconds intervals are computed from the raw records, in this worker: past a bound of records (counted in
    the store first) the query is refused, so one tenant's query cannot hold a worker for seconds while other
    tenants wait (a day of many pumps' records once made another tenant's request wait 10.9 s)."""
    if not plan.intervals or not members:
        return
    after, upto, aspect = plan.intervals[0][0], plan.intervals[-1][1], entity_set["aspect"]
    held = sum(ts.count(scope, a, aspect, after, upto)
               for a in ts.typed_holding(scope, family(scope, entity_set), asset_id, aspect, after, upto))
    if held > limits.DATAHUB_SECONDS_MAX_RECORDS:
        raise odata_error(f"$filter: seconds intervals are computed from at most {limits.DATAHUB_SECONDS_MAX_RECORDS} "
                          f"records; this range holds {held}: narrow the timestamp range or the assets (assetId)",
                          "timestamp")


def _raw_stats(scope: TenantScope, asset_id: str, schema: AspectSchema, plan: iv.Plan, variables) -> list:
    """Seconds intervals: statistics of the raw records (in time order) of each interval."""
    if not plan.intervals:
        return []
    size = plan.intervals[0][1] - plan.intervals[0][0]
    first = plan.intervals[0][0]
    points: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for t, body in ts.records(scope, asset_id, schema.name, first, plan.intervals[-1][1]):
        record = orjson.loads(body)
        index = (t - first - 1) // size  # intervals are (start, end]
        for var in variables:
            if record.get(var) is not None:
                points[index][var].append((t, record[var], record.get(var + "_qc")))
    out = []
    for index in sorted(points):
        lo, hi = plan.intervals[index]
        out.append((lo, hi, {var: Stats.of_points(p) for var, p in points[index].items()}))
    return out


def read_aggregates(scope: TenantScope, entity_set: dict, options: Options, exact: bool, now: int,
                    zone: ZoneInfo) -> Result:
    b = bounds(options.filter, AGGREGATE_KINDS)
    kind = b.equal.get("aggregationType")
    if kind is not None and kind not in AGGREGATION_TYPES:
        raise odata_error(f"$filter: aggregationType is one of {', '.join(AGGREGATION_TYPES)}, not {kind!r}",
                          "aggregationType")
    variables = entity_set["variables"]
    if "variableName" in b.equal:
        if b.equal["variableName"] not in variables:
            raise odata_error(f"$filter: {entity_set['name']} has no numeric variable {b.equal['variableName']!r} "
                              f"(it has {', '.join(variables) or 'none'})", "variableName")
        variables = [b.equal["variableName"]]
    count = b.equal.get("intervalCount")
    if count is not None and count < 1:
        raise odata_error("$filter: intervalCount is at least 1", "intervalCount")
    unit, value = _rest_unit(b.equal.get("intervalUnit"), b.equal.get("intervalValue"))
    members = [] if b.empty else _members(scope, entity_set, b.equal.get("assetId"))
    if not members or not variables:
        return Result([], 0 if options.count else None)
    if unit == "second":
        plan = _seconds_plan(b.after, b.upto, value, count, now)
        _bound_raw_work(scope, entity_set, members, b.equal.get("assetId"), plan)
    else:
        after, upto = b.after, b.upto
        if after is None and upto is None and count is None and unit is not None:
            after, upto = _default_range(unit, value or iv.VALUES[unit][0], now)
        try:
            plan = iv.plan_v4(after, upto, unit, value, count, now, zone)
        except errors.ApiError:  # the planner's only refusal here: a range too long for the unit, in REST terms
            raise _too_long(unit, value or iv.VALUES[unit][0], count) from None
    schema = AspectSchema(entity_set["aspect"], {})
    reader = _raw_stats if plan.unit == "second" else interval_stats
    streams = [[(lo, asset_id, stats_of) for lo, _hi, stats_of in reader(scope, asset_id, schema, plan, variables)]
               for asset_id in members]
    descending = bool(options.orderby) and options.orderby[0][1]
    merged = heapq.merge(*(reversed(s) if descending else s for s in streams),
                         key=lambda item: (item[0], item[1]), reverse=descending)
    kinds = [kind] if kind is not None else list(AGGREGATION_TYPES)
    unit_name = {"second": "seconds", "minute": "minutes", "hour": "minutes", "day": "days"}[plan.unit]
    unit_value = plan.value * 60 if plan.unit == "hour" else plan.value
    intervals = count if count is not None else len(plan.intervals)
    skip, limit = _window(options)
    rows, total = [], 0
    for lo, asset_id, stats_of in merged:
        for var in variables:
            stats = stats_of.get(var)
            if stats is None:
                continue
            public = None
            for agg in kinds:
                if skip <= total < skip + limit:
                    public = public or stats.public(iso)
                    rows.append({"id": f"{asset_id}~{var}~{agg}~{unit_name}~{unit_value}~{intervals}~{lo}",
                                 "assetId": asset_id,
                                 "timestamp": stamp(lo), "aggregationType": agg, "variableName": var,
                                 "intervalUnit": unit_name, "intervalValue": unit_value, "intervalCount": intervals,
                                 "value": public[agg]})
                total += 1
        if total >= limits.DATAHUB_MAX_OBJECTS and not (exact and options.count):
            break
    return Result(rows, _count(total, exact) if options.count else None)


def aggregate_by_key(scope: TenantScope, entity_set: dict, key: str, now: int, zone: ZoneInfo) -> dict | None:
    """The aggregate row of a key ``asset~variable~type~unit~value~count~start`` (None: no such row)."""
    parts = key.split("~")
    if len(parts) != 7 or not (_key_number(parts[4], 2**31 - 1) and _key_number(parts[5], 2**31 - 1)
                               and _key_number(parts[6], MAX_KEY_MS)):
        return None
    asset_id, var, agg, unit, value, count, start = parts
    equal = [("assetId", ast.String(asset_id)), ("variableName", ast.String(var)), ("aggregationType", ast.String(agg)),
             ("intervalUnit", ast.String(unit)), ("intervalValue", ast.Integer(value)),
             ("intervalCount", ast.Integer(count)),
             ("timestamp", ast.String(stamp(int(start)))), ("timestamp", ast.String(stamp(int(start) + 1)))]
    node = None
    for i, (prop, literal) in enumerate(equal):
        comparator = ast.Gt() if i == 6 else ast.LtE() if i == 7 else ast.Eq()
        compare = ast.Compare(comparator, ast.Identifier(prop), literal)
        node = compare if node is None else ast.BoolOp(ast.And(), node, compare)
    try:
        rows = read_aggregates(scope, entity_set, Options(filter=node), False, now, zone).rows
    except errors.ApiError:
        return None
    return next((r for r in rows if r["id"] == key), None)
