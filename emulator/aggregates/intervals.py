"""Which intervals an aggregate query asks for: units, values, alignment, defaults, maximum ranges.

v4 (mindsphere-api.md 4a) completes what is missing and widens misaligned bounds to interval
boundaries; v3 (4b) completes nothing and refuses misaligned bounds. Days, weeks (from Monday) and
months are the tenant's local ones; minutes and hours count from the epoch, as UTC hours coincide
with local ones in every zone the emulator accepts for a tenant.

Decisions [?] (README): maximum ranges from Siemens' SDK and Java docs (minute 24 h, hour 7 days,
day/week/month 90 days); with neither unit nor value, the unit is derived from ``count`` (the
smallest interval that covers the range in ``count`` intervals and, widened to its boundaries, stays
within its unit's maximum) or else from the range (day, hour or
2 minutes, whichever the range holds at least once); ``count`` with both bounds keeps the first
``count`` intervals.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from emulator import errors

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
UNITS = ("minute", "hour", "day", "week", "month")
VALUES = {
    "minute": tuple(range(2, 61, 2)),  # [C] multiples of 2 up to 60
    "hour": tuple(range(1, 25)),
    "day": tuple(range(1, 91)),
    "week": tuple(range(1, 13)),
    "month": (1, 2, 3),
}
MAX_RANGE = {"minute": DAY, "hour": 7 * DAY, "day": 90 * DAY, "week": 90 * DAY, "month": 90 * DAY}
DEFAULT_SPAN = 7 * DAY  # nothing given: the last 7 days by day
NOMINAL = {"minute": MINUTE, "hour": HOUR, "day": DAY, "week": 7 * DAY, "month": 30 * DAY}


@dataclass(frozen=True)
class Plan:
    unit: str
    value: int
    intervals: tuple[tuple[int, int], ...]  # (start, end]: epoch ms


def _local(ms: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=zone)


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def floor_to(ms: int, unit: str, zone: ZoneInfo) -> int:
    """The unit boundary at or before ``ms``."""
    if unit == "minute":
        return ms - ms % MINUTE
    if unit == "hour":
        return ms - ms % HOUR
    local = _local(ms, zone)
    day = datetime(local.year, local.month, local.day, tzinfo=zone)
    if unit == "day":
        return _ms(day)
    if unit == "week":
        return _ms(day - timedelta(days=day.weekday()))
    return _ms(datetime(local.year, local.month, 1, tzinfo=zone))


def step(ms: int, unit: str, value: int, zone: ZoneInfo, forward: bool = True) -> int:
    """``ms`` moved by ``value`` units (local calendar arithmetic for days, weeks and months)."""
    sign = 1 if forward else -1
    if unit in ("minute", "hour"):
        return ms + sign * value * (MINUTE if unit == "minute" else HOUR)
    local = _local(ms, zone).replace(tzinfo=None)
    if unit in ("day", "week"):
        moved = local + timedelta(days=sign * value * (7 if unit == "week" else 1))
    else:
        months = local.year * 12 + local.month - 1 + sign * value
        moved = local.replace(year=months // 12, month=months % 12 + 1)
    return _ms(moved.replace(tzinfo=zone))


def is_aligned(ms: int, unit: str, zone: ZoneInfo) -> bool:
    return floor_to(ms, unit, zone) == ms


@functools.lru_cache(maxsize=128)
def build(after: int, upto: int, unit: str, value: int, zone: ZoneInfo) -> tuple[tuple[int, int], ...]:
    """The intervals ``(lo, hi]`` from ``after`` until one reaches ``upto``. Kept for the ranges asked last: a day's
    calendar arithmetic in a zone costs microseconds each, and a chart or a dashboard asks the same range again."""
    out, lo = [], after
    while lo < upto:
        hi = step(lo, unit, value, zone)
        out.append((lo, hi))
        lo = hi
    return tuple(out)


# The query parameters arrive checked against the contract (``spec.py``): a unit of UNITS, integers, a count of at
# least 1. What is left here depends on two of them: a value allowed for its unit.

def parse_unit(raw: str | None) -> str | None:
    return raw or None


def parse_value(raw: str | None, unit: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    value = int(raw)
    if unit is None:
        raise errors.BadRequest("intervalValue needs an intervalUnit")
    if value not in VALUES[unit]:
        allowed = VALUES[unit]
        raise errors.BadRequest(f"intervalValue {value} is not allowed for {unit}: use "
                                + (", ".join(map(str, allowed)) if unit in ("minute", "month")
                                   else f"{allowed[0]} to {allowed[-1]}"))
    return value


def parse_count(raw: str | None) -> int | None:
    return None if raw is None or raw == "" else int(raw)


def _too_long(unit: str) -> errors.BadRequest:
    """Minutes reach at most a day, said as 24 hours (not "1 days"); the other units whole days."""
    days = MAX_RANGE[unit] // DAY
    return errors.BadRequest(f"The range is too long for intervalUnit {unit}: at most "
                             + (f"{days} days" if days > 1 else f"{MAX_RANGE[unit] // HOUR} hours"))


def _check_range(after: int, upto: int, unit: str) -> None:
    if after >= upto:
        raise errors.BadRequest("from must be before to")
    if not _fits((after, upto), unit):
        raise _too_long(unit)


def _far_too_long(span: int, unit: str) -> None:
    """Refuse, before any interval is built, a range twice the unit's maximum: building it would take as long
    as it is (``count`` or the bounds can ask for millions of intervals, or years beyond the calendar)."""
    if span > 2 * MAX_RANGE[unit]:
        raise _too_long(unit)


def _derive(after: int | None, upto: int | None, count: int | None, zone: ZoneInfo) -> tuple[str, int]:
    if after is None or upto is None:
        return "day", 1
    span = upto - after
    choices = [(unit, value) for unit in UNITS for value in VALUES[unit]]
    choices.sort(key=lambda c: NOMINAL[c[0]] * c[1])
    if count is not None:
        # The range as the chosen interval widens it must stay within that unit's maximum: MindSphere derives the
        # interval from the range and count, then widens the bounds; it cannot refuse the widening it chose
        # (README, fidelity notes: a one-day range from 00:30 with count 24 takes hours, not 60 minutes).
        for unit, value in choices:
            if NOMINAL[unit] * value * count >= span and span <= MAX_RANGE[unit] \
                    and _fits(_widened(after, upto, unit, value, zone), unit):
                return unit, value
        raise errors.BadRequest("No interval covers the range in count intervals")
    for unit, value in (("day", 1), ("hour", 1), ("minute", 2)):
        if span >= NOMINAL[unit] * value and span <= MAX_RANGE[unit]:
            return unit, value
    return "minute", 2


def _start(after: int, unit: str, value: int, zone: ZoneInfo) -> int:
    """The interval boundary at or before ``after``: minutes and hours on multiples of the interval since the
    epoch, days, weeks and months on the unit's local boundary."""
    if unit in ("minute", "hour"):
        size = value * (MINUTE if unit == "minute" else HOUR)
        return after - after % size
    return floor_to(after, unit, zone)


def _widened(after: int, upto: int, unit: str, value: int, zone: ZoneInfo) -> tuple[int, int]:
    """The range widened to interval boundaries: from the boundary at or before ``after`` to the first at or
    after ``upto``."""
    start = end = _start(after, unit, value, zone)
    while end < upto:
        end = step(end, unit, value, zone)
    return start, end


def _fits(bounds: tuple[int, int], unit: str) -> bool:
    slack = HOUR if unit in ("day", "week", "month") else 0  # a local day may last 25 hours
    return bounds[1] - bounds[0] <= MAX_RANGE[unit] + slack


def plan_v4(after: int | None, upto: int | None, unit: str | None, value: int | None, count: int | None,
            now: int, zone: ZoneInfo) -> Plan:
    """v4: complete what is missing, widen misaligned bounds, keep the range within the unit's maximum."""
    if unit is None:
        unit, value = _derive(after, upto, count, zone)
    elif value is None:
        value = VALUES[unit][0]
    if count is not None and (after is None or upto is None):
        _far_too_long(count * value * NOMINAL[unit], unit)
    if after is None and upto is None:
        upto = now
        after = step(upto, unit, value * count, zone, forward=False) if count else upto - DEFAULT_SPAN
    elif after is None:
        after = step(upto, unit, value * count, zone, forward=False) if count else upto - MAX_RANGE[unit]
    elif upto is None:
        upto = step(after, unit, value * count, zone) if count else min(after + MAX_RANGE[unit], max(now, after + 1))
    start = _start(after, unit, value, zone)
    _far_too_long(upto - start, unit)
    intervals = build(start, upto, unit, value, zone)
    if not intervals:
        raise errors.BadRequest("from must be before to")
    _check_range(intervals[0][0], intervals[-1][1], unit)
    if count is not None:
        intervals = intervals[:count]
    return Plan(unit, value, intervals)


def plan_v3(after: int, upto: int, unit: str, value: int, zone: ZoneInfo, raw_from: str, raw_to: str) -> Plan:
    """v3: bounds no finer than the unit, the range a whole number of intervals, nothing widened."""
    if after >= upto:
        raise errors.BadRequest("from must be before to")
    for ms, raw, name in ((after, raw_from, "from"), (upto, raw_to, "to")):
        if not is_aligned(ms, unit, zone):
            where = "a Monday midnight" if unit == "week" else f"a whole {unit}"
            raise errors.BadRequest(f"{name} {raw} is finer than the interval unit {unit}: it must fall on {where}")
    _far_too_long(upto - after, unit)
    intervals = build(after, upto, unit, value, zone)
    if not intervals or intervals[-1][1] != upto:
        raise errors.BadRequest(f"The range from {raw_from} to {raw_to} is not a whole number of {value} {unit}")
    _check_range(after, upto, unit)
    return Plan(unit, value, intervals)
