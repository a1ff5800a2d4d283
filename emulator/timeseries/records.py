"""Time series records: parse and check them against the aspect type, as the real service does.

A record is ``{"_time": ISO-8601, "<variable>": value, "<variable>_qc": int}``. Times are stored
as UTC epoch milliseconds (finer digits are cut, as MindSphere keeps milliseconds). Decisions
[?]: a ``null`` value means "no value" (the variable is left out of the record); a quality code
needs its value; quality codes are OPC UA status codes (0 = good; the top two bits of the 32-bit
code say uncertain, 01, or bad, 1x).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import orjson

from emulator import errors, limits

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
NUMERIC = frozenset({"INT", "LONG", "DOUBLE"})
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$",
                 re.IGNORECASE | re.ASCII)  # ASCII: "\d" must not take Arabic-Indic or fullwidth digits


@dataclass(frozen=True)
class AspectSchema:
    """The variables of one dynamic aspect of one asset."""

    name: str
    variables: dict[str, dict]  # name -> variable definition, in the aspect type's order

    @property
    def numeric(self) -> list[str]:
        return [n for n, v in self.variables.items() if v["dataType"] in NUMERIC]

    def has_qc(self, name: str) -> bool:
        return bool(self.variables[name].get("qualityCode"))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
# [?] The years (as written) of a record's time, a query's bounds and the virtual clock: from the epoch on, and far
# enough from the year 9999 that every zone's local day and a 90-day aggregate range around them exist.
TIME_YEARS = ("1970", "8999")


def check_years(value: str, what: str) -> None:
    """Refuse a time (already of the ISO shape: four digits first) outside ``TIME_YEARS``."""
    if not TIME_YEARS[0] <= value.strip()[:4] <= TIME_YEARS[1]:
        raise errors.BadRequest(f"{what} {value!r} is outside the years {TIME_YEARS[0]} to {TIME_YEARS[1]}")


def parse_instant(value, what: str = "_time", *, zone_required: bool = True) -> int:
    """``parse_time`` of a time the emulator computes with (a record's, a query bound, the clock): within
    ``TIME_YEARS``."""
    ms = parse_time(value, what, zone_required=zone_required)
    check_years(value, what)
    return ms


def parse_time(value, what: str = "_time", *, zone_required: bool = True) -> int:
    """Epoch milliseconds of an ISO-8601 time; ``2020-02-20Z``, ``...T10Z``, ``...T10:30:00.000-05:00``."""
    if _canonical(value):
        try:  # the canonical form every SDK sends: one C call instead of the general parser below
            return (datetime.fromisoformat(value) - EPOCH) // ONE_MS
        except ValueError:
            pass
    if not isinstance(value, str) or not ISO.match(value.strip()):
        raise errors.BadRequest(f"{what} {value!r} is not an ISO-8601 date and time")
    text = value.strip().upper()
    zone = ""
    match = re.search(r"(Z|[+-]\d{2}(:?\d{2})?)$", text) if "T" in text or text.endswith("Z") else None
    if match and (match.group(0) == "Z" or len(text) - len(match.group(0)) >= 10):
        zone = match.group(0)
        text = text[: -len(zone)]
    if not zone:
        if zone_required:
            raise errors.BadRequest(f"{what} {value!r} has no time zone (end it with Z)")
        zone = "Z"
    date, _, clock = text.partition("T")
    parts = (clock.split(":") + ["00", "00"])[:3] if clock else ["00", "00", "00"]
    seconds, _, fraction = parts[2].partition(".")
    millis = int((fraction + "000")[:3]) if fraction else 0
    if zone == "Z":
        offset = "+00:00"
    elif ":" in zone or len(zone) == 3:
        offset = zone if ":" in zone else zone + ":00"
    else:
        offset = zone[:3] + ":" + zone[3:]
    try:
        parsed = datetime.fromisoformat(f"{date}T{parts[0]}:{parts[1]}:{seconds}{offset}")
    except ValueError:
        raise errors.BadRequest(f"{what} {value!r} is not a valid date and time") from None
    return int(parsed.timestamp()) * 1000 + millis


def iso(ms: int, always_millis: bool = True) -> str:
    """``2017-05-01T00:09:00.000Z``: MindSphere's form of a time. Aggregates write the milliseconds only
    when there are any (``2017-05-01T00:10:00Z``), as their samples do. Aggregates call this four times
    per statistic, so the date is remembered and the clock time is plain arithmetic."""
    seconds, millis = divmod(ms, 1000)
    day, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    stamp = f"{_date(day)}T{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{stamp}.{millis:03d}Z" if millis or always_millis else stamp + "Z"


@lru_cache(maxsize=4096)
def _date(day: int) -> str:
    """``YYYY-MM-DD`` of a day since the epoch: the part of a time worth remembering."""
    return "%04d-%02d-%02d" % time.gmtime(day * 86400)[:3]  # noqa: UP031 - strftime's %Y is not padded


def _check_value(var: dict, value, where: str):
    data_type = var["dataType"]
    if data_type in ("INT", "LONG"):
        low, high = INT32 if data_type == "INT" else INT64
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise errors.BadRequest(f"{where}: {var['name']} is {data_type} and takes an integer in [{low}, {high}]")
    elif data_type == "DOUBLE":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise errors.BadRequest(f"{where}: {var['name']} is DOUBLE and takes a number")
        if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
            raise errors.BadRequest(f"{where}: {var['name']} is out of the range of a DOUBLE")
    elif data_type == "BOOLEAN":
        if not isinstance(value, bool):
            raise errors.BadRequest(f"{where}: {var['name']} is BOOLEAN and takes true or false")
    elif data_type in ("STRING", "BIG_STRING"):
        cap = var.get("length") or (limits.STRING_MAX_LENGTH if data_type == "STRING" else limits.BIG_STRING_MAX_LENGTH)
        if not isinstance(value, str):
            raise errors.BadRequest(f"{where}: {var['name']} is {data_type} and takes a string")
        if len(value) > cap:
            raise errors.BadRequest(f"{where}: {var['name']} is longer than {cap} characters")
    elif data_type == "TIMESTAMP":
        parse_time(value, f"{where}: {var['name']}")


# The common case checked in one expression; on False, _check_value says what is wrong.
_QUICK = {
    "INT": lambda v: type(v) is int and INT32[0] <= v <= INT32[1],
    "LONG": lambda v: type(v) is int and INT64[0] <= v <= INT64[1],
    "DOUBLE": lambda v: type(v) is float or (type(v) is int and INT64[0] <= v <= INT64[1]),
    "BOOLEAN": lambda v: type(v) is bool,
}

_PLAIN = {"DOUBLE": float, "BOOLEAN": bool}  # the value's type alone makes it valid


def check_records(schema: AspectSchema, records) -> list[tuple[int, str, dict]]:
    """(epoch ms, stored JSON text, the record as stored) per record, in time order; one bad record
    refuses them all. Keys keep the order the client sent; ``null`` values are left out."""
    if not isinstance(records, list):
        raise errors.BadRequest("The body must be a JSON array of records")
    variables = schema.variables
    quick = {name: _QUICK.get(var["dataType"]) for name, var in variables.items()}
    plain = {name: _PLAIN[var["dataType"]] for name, var in variables.items() if var["dataType"] in _PLAIN}
    qc_of = {name + "_qc": name for name, var in variables.items()}
    out: dict[int, tuple[str, dict]] = {}
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise errors.BadRequest(f"record {i} is not a JSON object")
        if "_time" not in record:
            raise errors.BadRequest(f"record {i} has no _time")
        stamp = record["_time"]
        t = _canonical_ms(stamp)  # the form every SDK sends: checked and parsed once
        if t is None:
            t = parse_instant(stamp, f"record {i}: _time")
            stamp = iso(t)
        elif not TIME_YEARS[0] <= stamp[:4] <= TIME_YEARS[1]:
            check_years(stamp, f"record {i}: _time")
        body = {"_time": stamp}
        for key, value in record.items():
            if type(value) is plain.get(key):  # a float for a DOUBLE, a bool for a BOOLEAN: nothing to check
                body[key] = value
                continue
            if key == "_time" or value is None:
                continue
            var = variables.get(key)
            if var is not None:
                check = quick[key]
                if check is None or not check(value):
                    _check_value(var, value, f"record {i}")
                body[key] = value
                continue
            name = qc_of.get(key)
            if name is None:
                raise errors.BadRequest(f"record {i}: {key!r} is not a variable of aspect {schema.name!r}")
            if not schema.has_qc(name):
                raise errors.BadRequest(f"record {i}: {name} has no quality code (qualityCode is false)")
            if type(value) is not int or not 0 <= value <= limits.TS_QC_MAX:
                raise errors.BadRequest(f"record {i}: {key} must be an integer in [0, {limits.TS_QC_MAX}]")
            if record.get(name) is None:
                raise errors.BadRequest(f"record {i}: {key} is given without a value of {name}")
            body[key] = value
        out[t] = (orjson.dumps(body).decode(), body)  # the last record of a time wins, as a later write would
    return [(t, text, body) for t, (text, body) in sorted(out.items())]


def _canonical(stamp) -> bool:
    """Has ``stamp`` the shape of MindSphere's form, ``2017-05-01T00:09:00.000Z``? If it also parses, it
    is stored as sent: with every separator in place and ASCII digits around them, that shape has one
    way to write each time (an ISO week date such as ``2024-W24-3T...`` does not have it)."""
    return isinstance(stamp, str) and _CANONICAL(stamp) is not None


def _canonical_ms(stamp) -> int | None:
    """Epoch milliseconds of a time in MindSphere's form, or None (another form, or no valid time)."""
    if not _canonical(stamp):
        return None
    try:
        return (datetime.fromisoformat(stamp) - EPOCH) // ONE_MS
    except ValueError:
        return None


_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", re.ASCII).fullmatch  # one C call
