"""Every parse and format of a time in the emulator: one reader of ISO-8601 text, one writer of MindSphere's form.

Why one module: the records' ``_time``, query bounds, the virtual clock (control plane, dashboard, CLI), asset
filters, journal filters and the pump's scenarios all read times; when each had its own reader they drifted
apart (the dashboard took the year 500, which the control plane refused). Times are UTC epoch milliseconds
inside the emulator; finer digits are cut, as MindSphere keeps milliseconds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import repeat
from operator import floordiv, sub

from emulator import errors

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$",
                 re.IGNORECASE | re.ASCII)  # ASCII: "\d" must not take Arabic-Indic or fullwidth digits

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
# [?] The years (as written) of a record's time, a query's bounds and the virtual clock: from the epoch on, and far
# enough from the year 9999 that every zone's local day and a 90-day aggregate range around them exist.
TIME_YEARS = ("1970", "8999")

# What parse_instant takes, as the OpenAPI document states it (JSON Schema patterns take no flags, hence [Tt] and
# [Zz]): a real calendar day of the years TIME_YEARS (29 February in leap years only), hours 00-23, minutes and
# seconds 00-59, a zone offset below 24 hours; a day without a clock may end in Z, not in an offset.
# tests/test_schema_fuzz.py checks that the patterns and parse_instant agree.
_YEAR = r"(19[7-9][0-9]|[2-8][0-9]{3})"
_MONTH_DAY = r"((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
_LEAP_DAY = r"(19(7[26]|8[048]|9[26])|[2-8][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[357][26])00)-02-29"
_DAY = f"({_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})"
_CLOCK = r"[Tt]([01][0-9]|2[0-3])(:[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?)?"
_ZONE = r"([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)"
TIME_PATTERN = f"^{_DAY}({_CLOCK}{_ZONE}?|[Zz])?$"  # query bounds and the clock: a time without a zone is UTC
ZONED_TIME_PATTERN = f"^{_DAY}({_CLOCK}{_ZONE}|[Zz])$"  # record times must carry their zone


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


def instant_and_form(value, what: str = "_time") -> tuple[int, str]:
    """(epoch milliseconds, MindSphere's form) of a record's time, within ``TIME_YEARS``: a time already in that
    form (what every SDK sends) is checked and parsed once and kept as sent; any other form is parsed and
    written in it."""
    ms = canonical_ms(value)
    if ms is None:
        ms = parse_instant(value, what)
        return ms, iso(ms)
    if not TIME_YEARS[0] <= value[:4] <= TIME_YEARS[1]:
        check_years(value, what)
    return ms, value


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
    stamp = _date(day) + _clock(rest)
    return f"{stamp}.{millis:03d}Z" if millis or always_millis else stamp + "Z"


@lru_cache(maxsize=86400)
def _clock(second: int) -> str:
    """``THH:MM:SS`` of a second of the day, remembered: a time is then a date and a clock time looked up and the
    milliseconds, the last piece of per-interval work of a long aggregate answer."""
    minutes, secs = divmod(second, 60)
    return "T%02d:%02d:%02d" % (*divmod(minutes, 60), secs)  # noqa: UP031 - one format for three fields


def iso_compact(ms: int) -> str:
    """An aggregate's time: milliseconds only when there are any (``2017-05-01T00:10:00Z``)."""
    return iso(ms, always_millis=False)


@lru_cache(maxsize=4096)
def _date(day: int) -> str:
    """``YYYY-MM-DD`` of a day since the epoch: the part of a time worth remembering."""
    return "%04d-%02d-%02d" % time.gmtime(day * 86400)[:3]  # noqa: UP031 - strftime's %Y is not padded


def _canonical(stamp) -> bool:
    """Has ``stamp`` the shape of MindSphere's form, ``2017-05-01T00:09:00.000Z``? If it also parses, it
    is stored as sent: with every separator in place and ASCII digits around them, that shape has one
    way to write each time (an ISO week date such as ``2024-W24-3T...`` does not have it)."""
    return isinstance(stamp, str) and _CANONICAL(stamp) is not None


def canonical_ms(stamp) -> int | None:
    """Epoch milliseconds of a time in MindSphere's form, or None (another form, or no valid time)."""
    if not _canonical(stamp):
        return None
    try:
        return (datetime.fromisoformat(stamp) - EPOCH) // ONE_MS
    except ValueError:
        return None


_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", re.ASCII).fullmatch  # one C call


# MindSphere's form by character position: its separators; the other positions hold ASCII digits
_SEPARATORS = ((4, b"-"), (7, b"-"), (10, b"T"), (13, b":"), (16, b":"), (19, b"."), (23, b"Z"))
_WITHOUT_DIGITS = b"--T::.Z"


def _all_canonical(stamps: Sequence) -> bool:
    """Has every stamp (each a str) the shape :func:`_canonical` checks? Checked across all of them at once with C
    loops (a regular expression per stamp cost a third of reading a batch's times): as ASCII text joined, each
    separator at its position in every stamp (a slice with a step of 24), and nothing left but the separators
    once the digits are taken out."""
    if set(map(len, stamps)) != {24}:
        return False
    try:
        joined = "".join(stamps).encode("ascii")
    except UnicodeEncodeError:
        return False
    n = len(stamps)
    return (all(joined[i::24] == mark * n for i, mark in _SEPARATORS)
            and joined.translate(None, b"0123456789") == _WITHOUT_DIGITS * n)


def canonical_times(stamps: Sequence) -> list[int] | None:
    """Epoch milliseconds of a batch of times, when every one is in MindSphere's form and within ``TIME_YEARS``
    (what the SDKs and the pump send), read with C loops (a quarter of :func:`instant_and_form` per time); None when
    any is not (each is then read on its own, which says what is wrong). In that form the years compare as text."""
    if (not stamps or set(map(type, stamps)) != {str} or not _all_canonical(stamps)
            or min(stamps)[:4] < TIME_YEARS[0] or max(stamps)[:4] > TIME_YEARS[1]):
        return None
    try:
        return list(map(floordiv, map(sub, map(datetime.fromisoformat, stamps), repeat(EPOCH)), repeat(ONE_MS)))
    except ValueError:  # the form, but no such day or hour
        return None


def iso_seconds(seconds: float | None) -> str | None:
    """MindSphere's form of a time given in epoch seconds (stored creation and publication times); None stays None."""
    return None if seconds is None else iso(int(seconds * 1000))
