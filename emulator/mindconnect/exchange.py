"""The exchange's ingestion: an agent's ``standardTimeSeries`` items mapped through its data point mappings into
IoT Time Series, through the same write path as ``PUT /timeseries`` (``timeseries.service.write``).

Everything is checked before anything is written (and the request's transaction is rolled back on any error), so
a refused exchange leaves nothing behind. Strict by default: an unknown data point id, an unmapped data point, an
unparsable value or quality code answers 400 naming it. A real tenant accepts those with 200 and drops them
(reported in diagnostics only, mindconnect-api.md 4c, Siemens' diagnostic test): with ``lenient`` they are dropped
and counted the same way [?]. Items other than time series (``businessEvent``, ``file``,
``dataSourceConfiguration``) are only sent by the C library (the Node SDK posts events to Event Management and
files to IoT File): they are refused with a 400 that says so.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from emulator import errors, limits
from emulator.mindconnect import multipart
from emulator.mindconnect.service import agent_mappings
from emulator.store import TenantScope
from emulator.times import iso, parse_instant
from emulator.timeseries import service as ts_service

TIME_SERIES = "standardTimeSeries"
NOT_EMULATED = {"businessEvent": "events (the Node SDK posts them to Event Management: POST "
                                 "/api/eventmanagement/v3/events)",
                "file": "files (the Node SDK uploads them to IoT File: PUT /api/iotfile/v3/files/...)",
                "dataSourceConfiguration": "data source configurations (PUT .../agents/{id}/dataSourceConfiguration)"}
_INTEGER = re.compile(r"^[+-]?\d{1,20}$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,4})?$")


@dataclass
class Outcome:
    """What one exchange did: records written per asset and aspect, values taken, values dropped and why.

    The values of one sample that a mapping sends to one asset and aspect form one record; a later sample of the
    same time replaces that record, as a later record of a time does in ``PUT /timeseries`` (and as a later
    exchange does) [?]."""

    samplings: int = 0  # timestamps of the time series items
    values: int = 0
    properties: set = field(default_factory=set)
    written: int = 0
    dropped: dict[str, list[str]] = field(default_factory=dict)  # reason -> data point ids

    def drop(self, reason: str, point_id: str, lenient: bool, message: str) -> None:
        if not lenient:
            raise errors.BadRequest(message)
        self.dropped.setdefault(reason, []).append(point_id)

    def diagnostics(self) -> list[tuple[str, str, str, str]]:
        """(severity, source, state, message) as the real service words them (MCSPEC's examples)."""
        out = []
        dropped = sum(len(v) for v in self.dropped.values())
        if dropped:
            reasons = "; ".join(f"{reason} count is {len(ids)}, including {sorted(set(ids))[:10]}"
                                for reason, ids in self.dropped.items())
            out.append(("WARN", "TIMESERIES", "DROPPED",
                        f"Pre-processing of {self.values + dropped} data points ended with {self.values} valid and "
                        f"{dropped} dropped data points. {reasons}"))
        out.append(("INFO", "TIMESERIES", "FINISHED",
                    f"[Finished] TimeSeries upload completed, <{self.samplings}> samplings and "
                    f"<{len(self.properties)}> properties in <1> requests. <{dropped}> values are dropped."))
        return out


def _convert(data_type: str, value):
    """The string (or, with the SDK's validation off, plain JSON) value as the variable's type; None when it does
    not parse. Range and length are left to the time series check."""
    if isinstance(value, str):
        if data_type in ("INT", "LONG"):
            return int(value) if _INTEGER.fullmatch(value) else None
        if data_type == "DOUBLE":
            number = float(value) if _DECIMAL.fullmatch(value) else None
            return number if number is not None and math.isfinite(number) else None
        if data_type == "BOOLEAN":
            return {"true": True, "false": False}.get(value.lower())
        return value  # STRING, BIG_STRING, TIMESTAMP
    if isinstance(value, bool):
        return value if data_type == "BOOLEAN" else None
    if isinstance(value, int):
        return value if data_type in ("INT", "LONG") else float(value) if data_type == "DOUBLE" else None
    if isinstance(value, float):
        return value if data_type == "DOUBLE" and math.isfinite(value) else None
    return None


def _quality(code) -> int | None:
    if isinstance(code, str) and _INTEGER.fullmatch(code):
        code = int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= limits.TS_QC_MAX:
        return code
    return None


def ingest(scope: TenantScope, agent_id: str, tuples: list[multipart.Tuple], *, zone: str,
           lenient: bool) -> Outcome:
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
    for (entity_id, aspect), records in groups.items():
        schema = ts_service.aspect_schema(scope, entity_id, aspect)
        for record in records.values():
            del record["_sample"]
        outcome.written += ts_service.write(scope, entity_id, schema, list(records.values()), zone)
    return outcome


def _time_series(body, where: str, points: dict, by_point: dict, groups: dict, outcome: Outcome,
                 lenient: bool) -> None:
    if not isinstance(body, list):
        raise errors.BadRequest(f"{where}: the time series payload must be a JSON array of "
                                f'{{"timestamp", "values"}}')
    for i, sample in enumerate(body):
        at = f"{where}, element {i}"
        if not isinstance(sample, dict) or not isinstance(sample.get("values"), list):
            raise errors.BadRequest(f'{at}: must be {{"timestamp": ..., "values": [...]}}')
        t = parse_instant(sample.get("timestamp"), f"{at}: timestamp")
        outcome.samplings += 1
        seen: set[str] = set()
        for value in sample["values"]:
            if not isinstance(value, dict) or not isinstance(value.get("dataPointId"), str) or "value" not in value:
                raise errors.BadRequest(f'{at}: each value must be {{"dataPointId": ..., "value": ..., '
                                        f'"qualityCode": ...}}')
            point_id = value["dataPointId"]
            if point_id in seen:
                raise errors.BadRequest(f"{at}: data point {point_id!r} has two values at one time")
            seen.add(point_id)
            point = points.get(point_id)
            if point is None:
                outcome.drop("Data point not in the configuration", point_id, lenient,
                              f"{at}: {point_id!r} is not a data point of the agent's data source configuration")
                continue
            targets = by_point.get(point_id)
            if not targets:
                outcome.drop("Data point with no mapping", point_id, lenient,
                              f"{at}: data point {point_id!r} is not mapped to any (valid) asset variable")
                continue
            converted = _convert(point["type"], value["value"])
            code = value.get("qualityCode")
            quality = _quality(code) if code is not None else None
            if converted is None or (code is not None and quality is None):
                bad = "value" if converted is None else "qualityCode"
                outcome.drop("Data point with an invalid value", point_id, lenient,
                              f"{at}: the {bad} {value.get(bad)!r} of data point {point_id!r} is not a valid "
                              f"{point['type'] if bad == 'value' else 'quality code (an integer)'}")
                continue
            outcome.values += 1
            for mapping in targets:
                records = groups.setdefault((mapping["entityId"], mapping["propertySetName"]), {})
                record = records.get(t)
                if record is None or record["_sample"] != outcome.samplings:  # a later sample of a time replaces
                    record = records[t] = {"_time": iso(t), "_sample": outcome.samplings}
                record[mapping["propertyName"]] = converted
                if quality is not None and mapping["qualityEnabled"]:
                    record[mapping["propertyName"] + "_qc"] = quality
                outcome.properties.add((mapping["entityId"], mapping["propertySetName"], mapping["propertyName"]))
