"""The exchange's ingestion: an agent's ``standardTimeSeries`` items mapped through its data point mappings into
IoT Time Series, through the same write path as ``PUT /timeseries`` (``timeseries.service.write``).

Everything is checked before anything is written (and the request's transaction is rolled back on any error), so
a refused exchange leaves nothing behind. An unknown data point id, an unmapped data point, an unparsable value or
quality code is dropped and counted with ``lenient`` (the default, ``serve``'s): a real tenant accepts those with
200, reports them in diagnostics and keeps the exchange as a recoverable record (mindconnect-api.md 4c; Siemens'
diagnostic test posts a value of an unknown data point and expects no error; the record: ``recovery``). Without it
(``--exchange-strict``) each answers 400 naming it. Items other than time series (``businessEvent``, ``file``,
``dataSourceConfiguration``) are only sent by the C library (the Node SDK posts events to Event Management and
files to IoT File): they are refused with a 400 that says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from operator import itemgetter, lt

from emulator import errors, limits
from emulator.mindconnect import multipart
from emulator.mindconnect.service import agent_mappings
from emulator.store import TenantScope
from emulator.times import canonical_times, instant_and_form
from emulator.timeseries import service as ts_service

TIME_SERIES = "standardTimeSeries"
NOT_EMULATED = {"businessEvent": "events (the Node SDK posts them to Event Management: POST "
                                 "/api/eventmanagement/v3/events)",
                "file": "files (the Node SDK uploads them to IoT File: PUT /api/iotfile/v3/files/...)",
                "dataSourceConfiguration": "data source configurations (PUT .../agents/{id}/dataSourceConfiguration)"}


@dataclass
class Outcome:
    """What one exchange did: records written per asset and aspect, values taken, values dropped and why.

    The values of one sample that a mapping sends to one asset and aspect form one record; a later sample of the
    same time replaces that record, as a later record of a time does in ``PUT /timeseries`` (and as a later
    exchange does) [?]."""

    samplings: int = 0  # timestamps of the time series items
    values: int = 0
    used: set = field(default_factory=set)  # data point ids whose values were taken
    properties: set = field(default_factory=set)  # (asset, aspect, variable) written
    written: int = 0
    dropped: dict[str, list[str]] = field(default_factory=dict)  # reason -> data point ids
    # id of a target's records -> (times, {key: column}) when one bulk post read by columns made them all, in time
    # order: they are stored as records the emulator made (columns checked, not every value again)
    made: dict[int, tuple] = field(default_factory=dict)

    def drop(self, reason: str, point_id: str, lenient: bool, message: str) -> None:
        if not lenient:
            raise errors.BadRequest(message)
        self.dropped.setdefault(reason, []).append(point_id)

    @property
    def dropped_count(self) -> int:
        return sum(len(v) for v in self.dropped.values())

    def drop_message(self) -> str | None:
        """What was dropped and why, in MCSPEC's words (its DROPPED diagnostic and its recoverable record's
        ``dropReason`` example); None when nothing was."""
        dropped = self.dropped_count
        if not dropped:
            return None
        reasons = "; ".join(f"{reason} count is {len(ids)}, including {sorted(set(ids))[:10]}"
                            for reason, ids in self.dropped.items())
        return (f"Pre-processing of {self.values + dropped} data points ended with {self.values} valid and "
                f"{dropped} dropped data points. {reasons}")

    def diagnostics(self) -> list[tuple[str, str, str, str]]:
        """(severity, source, state, message) as the real service words them (MCSPEC's examples)."""
        out = []
        dropped, message = self.dropped_count, self.drop_message()
        if message:
            out.append(("WARN", "TIMESERIES", "DROPPED", message))
        out.append(("INFO", "TIMESERIES", "FINISHED",
                    f"[Finished] TimeSeries upload completed, <{self.samplings}> samplings and "
                    f"<{len(self.properties)}> properties in <1> requests. <{dropped}> values are dropped."))
        return out


def _plain(text: str) -> bool:
    """Text ``int()``/``float()`` may read as the clients mean it: ASCII, no digit separators, no padding (Python
    also reads ``1_000``, `` 7 `` and other scripts' digits)."""
    return 0 < len(text) <= 40 and text.isascii() and "_" not in text and text[0] > " " and text[-1] > " "


def _integer(text: str) -> int | None:
    try:
        return int(text) if _plain(text) else None
    except ValueError:
        return None


def _decimal(text: str) -> float | None:
    """A decimal as the clients write one: what ``float()`` reads of plain text (``_plain``: ASCII, no digit
    separators, no padding), finite (not its nan, inf, infinity, nor 1e999)."""
    try:
        number = float(text) if _plain(text) else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _boolean(text: str) -> bool | None:
    return {"true": True, "false": False}.get(text.lower())


def _as_is(text: str) -> str:
    return text


# A string value read as each type (what the SDK sends: every value as text): a bulk post converts thousands
_FROM_TEXT = {"DOUBLE": _decimal, "INT": _integer, "LONG": _integer, "BOOLEAN": _boolean}


def _convert(data_type: str, value):
    """The string (or, with the SDK's validation off, plain JSON) value as the variable's type; None when it does
    not parse. Range and length are left to the time series check."""
    if type(value) is str:
        return _FROM_TEXT.get(data_type, _as_is)(value)  # STRING, BIG_STRING, TIMESTAMP: as is
    if isinstance(value, bool):
        return value if data_type == "BOOLEAN" else None
    if isinstance(value, int):
        return value if data_type in ("INT", "LONG") else float(value) if data_type == "DOUBLE" else None
    if isinstance(value, float):
        return value if data_type == "DOUBLE" and math.isfinite(value) else None
    return None


def _quality(code) -> int | None:
    if type(code) is str:
        return _quality_text(code)
    if type(code) is int and 0 <= code <= limits.TS_QC_MAX:
        return code
    return None


@lru_cache(maxsize=1024)
def _quality_text(code: str) -> int | None:
    """A quality code sent as text (the SDK's form): a bulk post sends the same few codes with every value."""
    number = _integer(code)
    return number if number is not None and 0 <= number <= limits.TS_QC_MAX else None


def ingest(scope: TenantScope, agent_id: str, tuples: list[multipart.Tuple], *, lenient: bool) -> Outcome:
    if len(tuples) > limits.EXCHANGE_MAX_TUPLES:
        raise errors.PayloadTooLarge(f"An exchange holds at most {limits.EXCHANGE_MAX_TUPLES} items")
    configuration, points, by_point = agent_mappings(scope, agent_id)
    outcome = Outcome()
    groups: dict[tuple[str, str], dict[int, dict]] = {}  # (asset, aspect) -> time -> record
    for n, item in enumerate(tuples, 1):
        payload = item.meta["payload"]
        kind, where = payload["type"], f"tuple {n}"
        if kind != TIME_SERIES:
            what = NOT_EMULATED.get(kind, f"items of type {kind!r}")
            raise errors.BadRequest(f"{where}: the emulator does not emulate {what} through the exchange; it "
                                    f"takes {TIME_SERIES} items")
        given = (payload.get("details") or {}).get("configurationId")
        if configuration is None:
            raise errors.BadRequest(f"Agent {agent_id!r} has no data source configuration: put one first")
        if given != configuration:
            raise errors.BadRequest(f"{where}: configurationId {given!r} is not the agent's current data source "
                                    f"configuration ({configuration!r})")
        _time_series(multipart.json_payload(item, where), where, points, by_point, groups, outcome, lenient)
    outcome.properties = {(m["entityId"], m["propertySetName"], m["propertyName"])
                          for point_id in outcome.used for m in by_point[point_id]}
    for (entity_id, aspect), records in groups.items():
        if not records:
            continue
        schema = ts_service.aspect_schema(scope, entity_id, aspect)
        made = outcome.made.get(id(records))
        if made is not None:
            outcome.written += ts_service.write_made(scope, entity_id, schema, (made[0], list(records.values()),
                                                                                made[1]))
            continue
        for record in records.values():
            record.pop("_sample", None)  # (the records of a bulk read by columns have none)
        outcome.written += ts_service.write(scope, entity_id, schema, list(records.values()))
    return outcome


def _time_series(body, where: str, points: dict, by_point: dict, groups: dict, outcome: Outcome,
                 lenient: bool) -> None:
    """Each value checked and converted, then put into the record of its time of every (asset, aspect) its data
    point is mapped to. Runs once per value of a bulk post: the per-point facts are looked up once."""
    if not isinstance(body, list):
        raise errors.BadRequest(f"{where}: the time series payload must be a JSON array of "
                                f'{{"timestamp", "values"}}')
    # data point id -> (its type, its text's reading, [(records of the target, variable, its _qc or None)])
    routes: dict[str, tuple] = {}
    for point_id, targets in by_point.items():
        if point_id in points:
            data_type = points[point_id]["type"]
            routes[point_id] = (data_type, _FROM_TEXT.get(data_type, _as_is), [
                (groups.setdefault((m["entityId"], m["propertySetName"]), {}), m["propertyName"],
                 m["propertyName"] + "_qc" if m["qualityEnabled"] else None)
                for m in targets])
    if _by_columns(body, routes, outcome):
        return
    for _data_type, _from_text, targets in routes.values():  # what this post adds is read value by value
        for records, _variable, _qc_name in targets:
            outcome.made.pop(id(records), None)
    accepted = 0
    for i, sample in enumerate(body):
        if type(sample) is not dict or type(sample.get("values")) is not list:
            raise errors.BadRequest(f'{where}, element {i}: must be {{"timestamp": ..., "values": [...]}}')
        t, stamp = instant_and_form(sample.get("timestamp"), f"{where}, element {i}: timestamp")
        outcome.samplings += 1
        sample_no, used = outcome.samplings, outcome.used
        seen: set[str] = set()
        for value in sample["values"]:
            point_id = value.get("dataPointId") if type(value) is dict else None
            if type(point_id) is not str or "value" not in value:
                raise errors.BadRequest(f'{where}, element {i}: each value must be {{"dataPointId": ..., '
                                        f'"value": ..., "qualityCode": ...}}')
            if point_id in seen:
                raise errors.BadRequest(f"{where}, element {i}: data point {point_id!r} has two values at one time")
            seen.add(point_id)
            route = routes.get(point_id)
            if route is None:
                _unrouted(point_id, points, where, i, outcome, lenient)
                continue
            data_type, from_text, targets = route
            raw = value["value"]
            converted = from_text(raw) if type(raw) is str else _convert(data_type, raw)
            code = value.get("qualityCode")
            quality = None if code is None else _quality_text(code) if type(code) is str else _quality(code)
            if converted is None or (code is not None and quality is None):
                bad = "value" if converted is None else "qualityCode"
                outcome.drop("Data point with an invalid value", point_id, lenient,
                              f"{where}, element {i}: the {bad} {value.get(bad)!r} of data point {point_id!r} is "
                              f"not a valid {data_type if bad == 'value' else 'quality code (an integer)'}")
                continue
            accepted += 1
            used.add(point_id)
            for records, variable, qc_name in targets:
                record = records.get(t)
                if record is None or record.get("_sample") != sample_no:  # a later sample of a time replaces
                    record = records[t] = {"_time": stamp, "_sample": sample_no}
                record[variable] = converted
                if qc_name is not None and quality is not None:
                    record[qc_name] = quality
    outcome.values += accepted


def _by_columns(body: list, routes: dict, outcome: Outcome) -> bool:
    """A bulk post in the usual shape read a data point at a time, with C loops, as :func:`_time_series` reads it
    value by value (the same records, keys in the same order); False leaves it to that, which also says what is
    wrong. The usual shape (the SDK's): samples in time order, each ``{"timestamp", "values"}`` with its time in
    MindSphere's form and the same mapped DOUBLE data points in the same order, each value a plain decimal text
    and each point's quality codes all given (or all left out) as valid codes. A bulk post is thousands of values,
    and their reading one at a time cost as much as storing them."""
    fields = _fields(body, "timestamp", "values") if body else None
    if fields is None or any(len(sample) != 2 for sample in body):
        return False
    stamps, rows = fields
    times = canonical_times(stamps)
    if times is None or not all(map(lt, times, islice(times, 1, None))) or set(map(type, rows)) != {list}:
        return False
    width = len(rows[0])
    if not width or any(len(row) != width for row in rows):
        return False
    columns = list(zip(*rows, strict=True))
    read = [_column(column, routes) for column in columns]
    if None in read:
        return False
    points = [point_id for point_id, _values, _codes in read]
    if len(set(points)) != width:
        return False
    keys: dict[int, list] = {}  # id of a target's records -> (its records, its keys and their columns)
    for point_id, values, codes in read:
        for records, variable, qc_name in routes[point_id][2]:
            found = keys.setdefault(id(records), [records, ["_time"], [stamps]])
            found[1].append(variable)
            found[2].append(values)
            if qc_name is not None and codes is not None:
                found[1].append(qc_name)
                found[2].append(codes)
    for records, names, values in keys.values():
        if records:  # a post before this one wrote to the target: its records are no longer this post's alone
            outcome.made.pop(id(records), None)
        else:
            outcome.made[id(records)] = (times, dict(zip(names[1:], values[1:], strict=True)))
        records.update(zip(times, (dict(zip(names, row)) for row in zip(*values)), strict=True))  # noqa: B905
    outcome.samplings += len(body)
    outcome.values += len(body) * width
    outcome.used.update(points)
    return True


def _column(column: tuple, routes: dict) -> tuple[str, list[float], list[int] | None] | None:
    """One data point's values of a bulk post (its values across the samples): (its id, its values read as
    DOUBLEs, its quality codes or None when none is given), or None when anything is not as ``_by_columns`` says."""
    fields = _fields(column, "dataPointId", "value")
    if fields is None or set(map(len, column)) - {2, 3}:
        return None
    ids, texts = set(fields[0]), fields[1]
    point_id = ids.pop() if len(ids) == 1 else None
    route = routes.get(point_id)
    if route is None or route[0] != "DOUBLE" or set(map(type, texts)) != {str}:
        return None
    joined = "".join(texts)  # plain texts (_plain): ASCII, no digit separators, no white space (no padding)
    if (not joined.isascii() or not joined.isprintable() or " " in joined or "_" in joined
            or max(map(len, texts)) > 40 or min(map(len, texts)) == 0):
        return None
    try:
        values = list(map(float, texts))
    except ValueError:
        return None
    if not all(map(math.isfinite, values)):
        return None
    if set(map(len, column)) == {2}:
        return point_id, values, None
    fields = _fields(column, "qualityCode")
    if fields is None:
        return None
    given = fields[0]
    read = {code: _quality_text(code) if type(code) is str else _quality(code) for code in set(given)}
    if None in read.values():
        return None
    return point_id, values, list(map(read.__getitem__, given))


def _fields(items, *keys: str) -> list[list] | None:
    """Each key's values across ``items`` (objects), or None when one is not an object or lacks a key."""
    if set(map(type, items)) != {dict}:
        return None
    try:
        return [list(map(itemgetter(key), items)) for key in keys]
    except KeyError:
        return None


def _unrouted(point_id: str, points: dict, where: str, i: int, outcome: Outcome, lenient: bool) -> None:
    if point_id not in points:
        outcome.drop("Data point not in the configuration", point_id, lenient,
                     f"{where}, element {i}: {point_id!r} is not a data point of the agent's data source "
                     f"configuration")
    else:
        outcome.drop("Data point with no mapping", point_id, lenient,
                     f"{where}, element {i}: data point {point_id!r} is not mapped to any (valid) asset variable")
