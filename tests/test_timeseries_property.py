"""Property tests of IoT Time Series v3 and TS Aggregates v4 against a plain-Python reference.

Why: aggregates are not computed from the raw points at query time but from rollups (2-minute,
hourly and local-daily buckets, ``emulator/timeseries/rollups.py``) that every write and delete
keeps up to date, and are merged per interval with Chan's formula (``stats.py``). Overwrites,
deletes, interval boundaries (``(start, end]``), widening of ``from``/``to``, DST days and quality
codes each give that machinery a way to drift from the raw points. So the documented semantics are
written down a second time here, over the raw points a test wrote, and random histories and
queries must give the same answer through the HTTP API. Paging of raw records through ``Link``
headers is checked the same way: every record in the range exactly once, in order.

The reference implements the docs (mindsphere-api.md 3, 4a; the docstrings of stats.py and
intervals.py), nothing read off the code:

* a record written at an existing ``_time`` replaces the whole record (the last one of a batch
  wins); ``DELETE ?from=&to=`` removes the records in ``(from, to]``;
* intervals are ``(starttime, endtime]``; ``from``/``to`` are widened to interval boundaries:
  multiples of ``intervalValue`` minutes or hours from the epoch, or the tenant's local midnights
  (Europe/Berlin) stepped by ``intervalValue`` local days, weeks or calendar months from the one at
  or before ``from`` (a week starts on a Monday, a month on its first day);
  intervals without data, and variables without data in an interval, are left out;
* per numeric variable (INT, LONG, DOUBLE; never STRING): counts split by the OPC UA severity of
  the quality code (top two bits 00 good, 01 uncertain, 1x bad; no code is good), statistics over
  all values whatever their quality, ``sd`` the population standard deviation, min/max ties keep
  the earliest time, times ``YYYY-MM-DDTHH:MM:SSZ`` with ``.mmm`` only for non-zero milliseconds.

Floats: counts, times, min/max/first/last must be exact; ``sum``, ``average`` and ``sd`` are
compared with a relative tolerance of 1e-9 plus an absolute one scaled by the magnitude of the
values (``sum |v|`` for sum and average, ``max v^2`` for the variance): the emulator merges
bucket statistics in floating point, so with cancellation (``1e150 - 1e150 + 1.5``) no order of
additions can promise more than that. DOUBLE values stay within +-1e150 here, so that no square or
sum overflows; beyond that see :func:`test_values_beyond_the_double_range_are_accepted` (and the two
tests at the end, which pin emulator bugs found while writing these; those still open are ``xfail``).

Each example writes to an asset of its own, so examples do not leak into each other; the records
are read back raw too (``_time`` written in several forms, answered in MindSphere's), so that a
disagreement says whether the records or the aggregates are wrong.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from fractions import Fraction
from itertools import accumulate
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, currently_in_test_context, example, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st

from tests.support.paths import AGGREGATES_V4, ASPECT_TYPES, ASSET_TYPES, ASSETS, TIMESERIES

ASPECT = "Sensors"
NUMERIC = ("temperature", "count")  # temperature: DOUBLE with quality codes; count: INT without
FIELDS = ("countgood", "countuncertain", "countbad", "sum", "average", "minvalue", "mintime", "maxvalue", "maxtime",
          "firstvalue", "firsttime", "lastvalue", "lasttime", "sd")
BERLIN = ZoneInfo("Europe/Berlin")  # the tenant's time zone (the control plane's default)
SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000
TWO_MIN = 2 * MINUTE
MAX_RANGE = {"minute": DAY, "hour": 7 * DAY, "day": 90 * DAY, "week": 90 * DAY, "month": 90 * DAY}
UNCERTAIN, BAD = 0x40000000, 0x80000000
QUALITY_CODES = (None, 0, UNCERTAIN, BAD, 0xC0000000, 0x00000001, 0x4000ABCD, 0x8000FFFF)
# an ordinary day, the two DST changes of 2024 (local days of 23 and 25 hours), the end of a year
DAYS = (date(2024, 6, 12), date(2024, 3, 31), date(2024, 10, 27), date(2024, 12, 31))


# --- time helpers ----------------------------------------------------------------------------------


def local_midnight(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=BERLIN).timestamp()) * SECOND


def _utc(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def record_time(ms: int) -> str:
    """A raw record's ``_time``: always with milliseconds."""
    return _utc(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % SECOND:03d}Z"


def aggregate_time(ms: int) -> str:
    """An aggregate's time: milliseconds only when there are any."""
    text = _utc(ms).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{ms % SECOND:03d}Z" if ms % SECOND else text + "Z"


def zoned_time(ms: int, offset_minutes: int, colon: bool = True) -> str:
    """The same instant written in another UTC offset, ``2024-06-12T12:00:00.000+02:00`` (or ``+0200``)."""
    local = _utc(ms).astimezone(timezone(timedelta(minutes=offset_minutes)))
    zone = local.strftime("%z")
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % SECOND:03d}" + zone[:3] + (":" if colon else "") + zone[3:]


TIME_STYLES = ("canonical", "short", "+02:00", "-05:30", "+0100")


def written_time(ms: int, style: str = "canonical") -> str:
    """``_time`` as a client may write it: MindSphere's form, fewer fraction digits, or another offset."""
    if style == "canonical":
        return record_time(ms)
    if style == "short":
        fraction = f"{ms % SECOND:03d}".rstrip("0")
        return _utc(ms).strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"
    return zoned_time(ms, (1 if style[0] == "+" else -1) * (int(style[1:3]) * 60 + int(style[-2:])), ":" in style)


def event(value: str) -> None:
    """A Hypothesis event (``--hypothesis-show-statistics``), outside a Hypothesis test (a pinned case) nothing."""
    if currently_in_test_context():
        hypothesis_event(value)


# --- the reference ----------------------------------------------------------------------------------


def apply_writes(stored: dict[int, dict], batch: list[tuple]) -> None:
    """A PUT of (time, values[, time style]): each record replaces whatever was at its time; later
    records of the batch win."""
    for t, values, *_style in batch:
        stored[t] = dict(values)


def apply_delete(stored: dict[int, dict], after: int, upto: int) -> None:
    for t in [t for t in stored if after < t <= upto]:
        del stored[t]


def as_record(t: int, values: dict) -> dict:
    """The record as GET answers it: ``_time`` with milliseconds, the variables that have values."""
    return {"_time": record_time(t), **values}


def reference_intervals(after: int, upto: int, unit: str, value: int) -> list[tuple[int, int]]:
    """The intervals ``(start, end]`` that cover ``(after, upto]``, widened to boundaries."""
    if unit in ("minute", "hour"):
        size = value * (MINUTE if unit == "minute" else HOUR)
        start = after // size * size
        return [(lo, lo + size) for lo in range(start, upto, size)]
    day = _utc(after).astimezone(BERLIN).date()  # the local midnight at or before ``after``
    if local_midnight(day) > after:
        day -= timedelta(days=1)
    if unit == "week":
        day -= timedelta(days=day.weekday())  # back to Monday
    elif unit == "month":
        day = day.replace(day=1)
    out = []
    while local_midnight(day) < upto:
        nxt = _calendar_step(day, unit, value)
        out.append((local_midnight(day), local_midnight(nxt)))
        day = nxt
    return out


def _calendar_step(day: date, unit: str, value: int) -> date:
    """``value`` local days, weeks or months after ``day`` (a month step from a first of the month)."""
    if unit == "month":
        months = day.year * 12 + day.month - 1 + value
        return date(months // 12, months % 12 + 1, 1)
    return day + timedelta(days=value * (7 if unit == "week" else 1))


def severity(qc) -> str:
    if qc is None:
        return "good"
    return ("good", "uncertain", "bad", "bad")[(qc >> 30) & 3]


def reference_order_stats(points: list[tuple[int, float, int | None]]) -> dict:
    """Counts by quality, extremes (ties: the earliest), first and last of (time, value, qc) points in time order."""
    kinds = [severity(qc) for _t, _v, qc in points]
    low = min(points, key=lambda p: (p[1], p[0]))
    high = max(points, key=lambda p: (p[1], -p[0]))
    return {
        "countgood": kinds.count("good"), "countuncertain": kinds.count("uncertain"), "countbad": kinds.count("bad"),
        "minvalue": low[1], "mintime": aggregate_time(low[0]), "maxvalue": high[1], "maxtime": aggregate_time(high[0]),
        "firstvalue": points[0][1], "firsttime": aggregate_time(points[0][0]),
        "lastvalue": points[-1][1], "lasttime": aggregate_time(points[-1][0]),
    }


def reference_moments(values: list[float]) -> dict:
    """sum, average and population sd in exact arithmetic, each rounded once; None past the double range."""
    total = sum(map(Fraction, values))

    def rounded(exact):
        try:
            return float(exact)
        except OverflowError:
            return None

    return {"sum": rounded(total), "average": rounded(total / len(values)),
            "sd": statistics.pstdev([float(v) for v in values])}


def reference_stats(points: list[tuple[int, float, int | None]]) -> dict:
    """The aggregate of (time, value, quality code) points, in time order, as the API's object."""
    stats = {**reference_order_stats(points), **reference_moments([v for _t, v, _qc in points])}
    return {name: stats[name] for name in FIELDS}


def reference_aggregates(stored: dict[int, dict], query: Query) -> list[dict]:
    out = []
    for lo, hi in reference_intervals(query.after, query.upto, query.unit, query.value):
        item = {"starttime": aggregate_time(lo), "endtime": aggregate_time(hi)}
        for var in NUMERIC:
            points = [(t, stored[t][var], stored[t].get(var + "_qc"))
                      for t in sorted(stored) if lo < t <= hi and var in stored[t]]
            if points:
                item[var] = reference_stats(points)
        if len(item) > 2:
            out.append(item)
    return out


def _scale(stored: dict[int, dict], interval: tuple[int, int], var: str) -> tuple[float, float]:
    """(sum of |v|, max of v^2) of a variable's values in an interval: the scale of rounding errors."""
    lo, hi = interval
    values = [abs(float(r[var])) for t, r in stored.items() if lo < t <= hi and var in r]
    return math.fsum(values), max(values, default=0.0) ** 2


def compare_stats(expected: dict, got: dict, scale: tuple[float, float]) -> list[str]:
    """The fields of one variable's aggregate that disagree, as readable lines."""
    if not isinstance(got, dict) or set(got) != set(FIELDS):
        return [f"fields {sorted(got) if isinstance(got, dict) else got!r}, expected {list(FIELDS)}"]
    total_abs, max_square = scale
    n = expected["countgood"] + expected["countuncertain"] + expected["countbad"]
    bad = []
    for name in FIELDS:
        want, have = expected[name], got[name]
        if name in ("sum", "average"):
            slack = 1e-9 * total_abs / (n if name == "average" else 1)
            ok = isinstance(have, int | float) and math.isclose(have, want, rel_tol=1e-9, abs_tol=1e-9 + slack)
        elif name == "sd":  # compare variances: their rounding error scales with max v^2
            ok = isinstance(have, int | float) and math.isclose(
                have * have, want * want, rel_tol=1e-9, abs_tol=1e-12 + 1e-10 * max_square)
        elif name.startswith("count"):
            ok = type(have) is int and have == want
        else:
            ok = have == want
        if not ok:
            bad.append(f"{name}: expected {want!r}, got {have!r}")
    return bad


def compare_aggregates(stored: dict[int, dict], query: Query, expected: list[dict], got: list[dict]) -> list[str]:
    problems = []
    want_spans = [(e["starttime"], e["endtime"]) for e in expected]
    got_spans = [(g.get("starttime"), g.get("endtime")) for g in got]
    if want_spans != got_spans:
        problems.append(f"intervals: expected {want_spans}, got {got_spans}")
    by_span = {(g.get("starttime"), g.get("endtime")): g for g in got}
    spans = {(aggregate_time(lo), aggregate_time(hi)): (lo, hi)
             for lo, hi in reference_intervals(query.after, query.upto, query.unit, query.value)}
    for item in expected:
        span = (item["starttime"], item["endtime"])
        have = by_span.get(span)
        if have is None:
            continue
        want_vars = sorted(k for k in item if k not in ("starttime", "endtime"))
        got_vars = sorted(k for k in have if k not in ("starttime", "endtime"))
        if want_vars != got_vars:
            problems.append(f"{span}: variables expected {want_vars}, got {got_vars}")
        for var in want_vars:
            if var in have:
                for line in compare_stats(item[var], have[var], _scale(stored, spans[span], var)):
                    problems.append(f"{span} {var}.{line}")
    return problems


# --- scenarios ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    unit: str
    value: int
    after: int  # epoch ms: ``from``
    upto: int  # epoch ms: ``to``

    def params(self, asset_id: str) -> dict:
        return {"assetId": asset_id, "aspectName": ASPECT, "from": record_time(self.after),
                "to": record_time(self.upto), "intervalUnit": self.unit, "intervalValue": self.value}

    def __repr__(self):
        return f"Query({self.unit}/{self.value}: ({record_time(self.after)}, {record_time(self.upto)}])"


@dataclass
class History:
    batches: list[list[tuple]]  # PUTs in order: (epoch ms, record without _time[, style of _time])
    delete: tuple[int, int] | None  # DELETE (from, to] after the PUTs
    queries: list[Query] = field(default_factory=list)
    # the queries asked (and checked) after the first PUT too: the rollups take it in then, so the next PUT's are
    # combined with stored ones (asked only at the end, every PUT is taken in at once)
    read_between: bool = False

    def stored(self, upto_batch: int | None = None) -> dict[int, dict]:
        out: dict[int, dict] = {}
        for batch in self.batches[:upto_batch]:
            apply_writes(out, batch)
        if upto_batch is not None:
            return out
        if self.delete:
            apply_delete(out, *self.delete)
        return out

    def __repr__(self):
        lines = ["History("]
        for i, batch in enumerate(self.batches):
            lines.append(f"  PUT {i + 1}: " + json.dumps(put_body(batch)))
            if i == 0 and self.read_between:
                lines.append("  (the queries)")
        if self.delete:
            lines.append(f"  DELETE ({record_time(self.delete[0])}, {record_time(self.delete[1])}]")
        lines += [f"  {q!r}" for q in self.queries]
        return "\n".join(lines) + "\n)"


DOUBLES = st.one_of(
    st.floats(-1000, 1000, allow_nan=False),
    st.integers(-10**6, 10**6),  # a DOUBLE may be written as a JSON integer
    st.floats(-1e150, 1e150, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 0.1, 0.2, 0.3, 5e-324, 1e-300, 1e150, -1e150, 123456789.125]),
)
INTS = st.one_of(st.integers(-100, 100), st.sampled_from([-(2**31), 2**31 - 1]), st.integers(-(2**31), 2**31 - 1))


@st.composite
def record_values(draw) -> dict:
    """A record's variables: each of temperature (with a quality code or none), count, status, or none."""
    values = {}
    if draw(st.integers(0, 4)):
        values["temperature"] = draw(DOUBLES)
        qc = draw(st.sampled_from(QUALITY_CODES))
        if qc is not None:
            values["temperature_qc"] = qc
    if draw(st.integers(0, 2)):
        values["count"] = draw(INTS)
    if draw(st.integers(0, 3)) == 0:
        values["status"] = draw(st.sampled_from(["ok", "alarm", ""]))
    return values


def usual_values() -> st.SearchStrategy[dict]:
    """A record of a batch in the usual shape: temperature (a float) and count in every record, a quality code on
    some."""
    return st.builds(lambda temperature, count, qc: {"temperature": temperature, "count": count,
                                                     **({"temperature_qc": qc} if qc is not None else {})},
                     DOUBLES.filter(lambda v: isinstance(v, float)), INTS, st.sampled_from(QUALITY_CODES))


def _times(origin: int, steps: int) -> st.SearchStrategy[int]:
    """Times in 2-minute steps from ``origin``, exactly on a bucket boundary, next to it, or anywhere."""
    fine = st.one_of(st.just(0), st.just(1), st.just(-1), st.just(MINUTE), st.integers(0, TWO_MIN - 1))
    return st.builds(lambda step, ms: origin + step * TWO_MIN + ms, st.integers(0, steps), fine)


@st.composite
def histories(draw) -> History:
    """1-60 records near a (sometimes DST) day, a second PUT overwriting some or appending, sometimes more PUTs
    (appends, rewrites), sometimes a DELETE, and queries."""
    origin = local_midnight(draw(st.sampled_from(DAYS))) - 2 * HOUR
    # data over 4 minutes, 1 hour, 5 hours, 30 hours or 40 days (weeks and months with data in several)
    steps = draw(st.sampled_from([1, 30, 150, 900, 28_800]))
    event(f"data over {steps * TWO_MIN // MINUTE} minutes")
    times = _times(origin, steps)
    styles = st.sampled_from(TIME_STYLES)
    if draw(st.integers(0, 2)):
        first = draw(st.lists(st.tuples(times, record_values(), styles), min_size=1, max_size=40))
    else:  # as the SDKs and the pump send: times in order and in MindSphere's form, the same variables throughout
        event("a first batch in the usual shape (checked a column at a time)")
        first = [(t, draw(usual_values()), "canonical")
                 for t in sorted(draw(st.lists(times, min_size=1, max_size=40, unique=True)))]
    reused = st.sampled_from([t for t, _v, _s in first])
    if draw(st.integers(0, 2)):
        second = draw(st.lists(st.tuples(reused | times, record_values(), styles), max_size=20))
    else:  # appended after the newest record, as the pump and agents write: into its 2-minute bucket, hour and day
        event("a second batch appended after the first")
        second = continued(draw, max(t for t, _v, _s in first))
    batches = [first, second] if second else [first]
    for _ in range(draw(st.integers(0, 2))):  # more writes: appends after the newest record, or anywhere
        if draw(st.booleans()):
            event("a later PUT appended after every record")
            batches.append(continued(draw, max(t for batch in batches for t, _v, _s in batch)))
        else:
            batches.append(draw(st.lists(st.tuples(reused | times, record_values(), styles), min_size=1, max_size=10)))
    delete = None
    if draw(st.booleans()):
        after = draw(st.one_of(reused, reused.map(lambda t: t - 1), times))
        delete = (after, after + draw(st.sampled_from([0, 1, MINUTE, HOUR]) | st.integers(0, steps * TWO_MIN)))
    queries = draw(st.lists(queries_near(origin, steps, reused), min_size=2, max_size=6))
    read_between = len(batches) > 1 and draw(st.booleans())
    if read_between:
        event("the queries asked between the PUTs too")
        if draw(st.booleans()):  # then a rewrite of records the rollups took in, after the second PUT
            event("a third PUT rewriting records of the first")
            batches.append(draw(st.lists(st.tuples(reused, record_values(), styles), min_size=1, max_size=5)))
    return History(batches, delete, queries, read_between)


def continued(draw, last: int) -> list:
    """Records after ``last`` in time order, each a short step after the one before (within a 2-minute bucket, just
    past one, up to an hour): usual-shape records, or any."""
    steps = draw(st.lists(st.one_of(st.integers(1, 1000), st.integers(1, TWO_MIN), st.just(TWO_MIN),
                                    st.integers(TWO_MIN, HOUR)), min_size=1, max_size=20))
    times = list(accumulate(steps, initial=last))[1:]
    if draw(st.booleans()):
        return [(t, draw(usual_values()), "canonical") for t in times]
    return [(t, draw(record_values()), draw(st.sampled_from(TIME_STYLES))) for t in times]


def queries_near(origin: int, steps: int, data_times) -> st.SearchStrategy[Query]:
    """Queries whose ``from`` lies around the data (on a point, on a boundary, anywhere) and whose range
    stays within the unit's maximum even after widening (weeks and months: 89 days at most, clear of the 90-day
    limit whatever DST does to it; test_aggregates.py checks the refusals)."""
    units = st.one_of(
        st.tuples(st.just("minute"), st.sampled_from(range(2, 61, 2))),
        st.tuples(st.just("hour"), st.integers(1, 24)),
        st.tuples(st.just("day"), st.integers(1, 3)),
        st.tuples(st.just("week"), st.integers(1, 4)),
        st.tuples(st.just("month"), st.integers(1, 2)),
    )

    @st.composite
    def build(draw):
        unit, value = draw(units)
        size = value * {"minute": MINUTE, "hour": HOUR, "day": DAY, "week": 7 * DAY, "month": 31 * DAY}[unit]
        longest = {"minute": MAX_RANGE[unit] - 2 * size, "hour": MAX_RANGE[unit] - 2 * size, "day": 10 * DAY,
                   "week": 40 * DAY, "month": 60 * DAY}[unit]
        start = draw(st.one_of(
            data_times, data_times.map(lambda t: t - 1),
            st.integers(origin - 3 * HOUR, origin + steps * TWO_MIN + HOUR),
            st.integers(-3, steps // 30 + 3).map(lambda h: origin + 2 * HOUR + h * HOUR)))  # on an hour
        length = draw(st.one_of(st.integers(1, 10 * MINUTE), st.integers(1, longest),
                                st.sampled_from([size, HOUR, DAY]).filter(lambda n: n <= longest)))
        query = Query(unit, value, start, start + length)
        if unit in ("week", "month"):
            spans = reference_intervals(query.after, query.upto, unit, value)
            if spans[-1][1] - spans[0][0] > 89 * DAY:  # a second 2-month interval, say: refused, not this test's
                query = Query(unit, value, start, min(start + length, spans[0][1]))
        return query

    return build()


# --- through HTTP -------------------------------------------------------------------------------------


def http_settings(examples: int) -> settings:
    """Examples depend on server-made asset ids, so none are stored for replay."""
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def define_types(api, tenant) -> str:
    """The aspect type ``Sensors`` and asset type ``Pump`` of the tenant; returns the type id."""
    name = tenant["name"]
    resp = api.put(f"{ASPECT_TYPES}/{name}.{ASPECT}", json={
        "name": ASPECT, "category": "dynamic", "variables": [
            {"name": "temperature", "dataType": "DOUBLE", "qualityCode": True},
            {"name": "count", "dataType": "INT"},
            {"name": "status", "dataType": "STRING"}]})
    assert resp.status_code in (200, 201), resp.text
    resp = api.put(f"{ASSET_TYPES}/{name}.Pump", json={
        "name": "Pump", "parentTypeId": "core.basicasset",
        "aspects": [{"name": ASPECT, "aspectTypeId": f"{name}.{ASPECT}"}]})
    assert resp.status_code in (200, 201), resp.text
    return f"{name}.Pump"


def new_asset(api, tenant, type_id: str) -> str:
    """A fresh asset per example: nothing of one example leaks into the next."""
    resp = api.post(ASSETS, json={"name": "P", "typeId": type_id, "parentId": tenant["rootAssetId"]})
    assert resp.status_code == 201, resp.text
    return resp.json()["assetId"]


def put_body(batch: list[tuple]) -> list[dict]:
    return [{"_time": written_time(t, *style), **values} for t, values, *style in batch]


def put_records(api, asset_id: str, batch: list[tuple]) -> None:
    body = put_body(batch)
    resp = api.put(f"{TIMESERIES}/{asset_id}/{ASPECT}", json=body)
    assert resp.status_code == 204, f"PUT {json.dumps(body)[:2000]}: {resp.status_code} {resp.text}"


def read_all(api, asset_id: str, after: int, upto: int) -> list[dict]:
    resp = api.get(f"{TIMESERIES}/{asset_id}/{ASPECT}",
                   params={"from": record_time(after), "to": record_time(upto), "limit": 2000})
    assert resp.status_code == 200, resp.text
    assert "Link" not in resp.headers, "fewer than 2000 records need no second page"
    return resp.json()


@pytest.fixture
def pump_type(api, tenant) -> str:
    return define_types(api, tenant)


# --- the aggregates property ----------------------------------------------------------------------------

ORIGIN = local_midnight(date(2024, 6, 12)) - 2 * HOUR
DST_ORIGIN = local_midnight(date(2024, 10, 27)) - 2 * HOUR
PINNED = (
    # ties: min and max keep the earliest time, across 2-minute buckets and hours
    History([[(ORIGIN + 5, {"temperature": 1.0, "count": 7}), (ORIGIN + TWO_MIN + 5, {"temperature": 1.0, "count": 7}),
              (ORIGIN + HOUR + 5, {"temperature": 3.0, "count": 7}),
              (ORIGIN + HOUR + TWO_MIN, {"temperature": 3.0, "count": 7})]], None,
            [Query("minute", 60, ORIGIN - HOUR, ORIGIN + 3 * HOUR), Query("hour", 2, ORIGIN, ORIGIN + 3 * HOUR),
             Query("day", 1, ORIGIN, ORIGIN + DAY)]),
    # points exactly on boundaries belong to the interval they end; qualities of every severity
    History([[(ORIGIN, {"temperature": 1.5, "temperature_qc": 0}),
              (ORIGIN + TWO_MIN, {"temperature": -2.5, "temperature_qc": UNCERTAIN}),
              (ORIGIN + HOUR, {"temperature": 4.0, "temperature_qc": BAD}),
              (ORIGIN + 2 * HOUR, {"temperature": 8.0, "temperature_qc": 0xC0000000, "count": 1})]], None,
            [Query("minute", 2, ORIGIN - 1, ORIGIN + 2 * HOUR), Query("hour", 1, ORIGIN, ORIGIN + 2 * HOUR),
             Query("day", 1, ORIGIN - 1, ORIGIN + 2 * HOUR + 1)]),
    # an overwrite that drops a variable; a delete of part of a bucket: (from, to] keeps the point at from
    History([[(ORIGIN + 10, {"temperature": 9.0, "count": 3}), (ORIGIN + 20, {"temperature": 1.0}),
              (ORIGIN + 30, {"count": 5})],
             [(ORIGIN + 10, {"status": "ok"}), (ORIGIN + 40, {"temperature": 2.0})]], (ORIGIN + 20, ORIGIN + 30),
            [Query("minute", 2, ORIGIN, ORIGIN + MINUTE), Query("hour", 1, ORIGIN, ORIGIN + 1)]),
    # the 25-hour local day of the end of DST, and points either side of both its midnights
    History([[(DST_ORIGIN + 2 * HOUR, {"temperature": 1.0}), (DST_ORIGIN + 2 * HOUR + 1, {"temperature": 2.0}),
              (DST_ORIGIN + 27 * HOUR, {"temperature": 3.0}), (DST_ORIGIN + 27 * HOUR + 1, {"temperature": 4.0})]],
            None, [Query("day", 1, DST_ORIGIN, DST_ORIGIN + 2 * DAY), Query("hour", 24, DST_ORIGIN, DST_ORIGIN + DAY)]),
    # cancellation: the rounding error of the merged sum is of the order of the terms
    History([[(ORIGIN + 1, {"temperature": 1e150}), (ORIGIN + TWO_MIN + 1, {"temperature": 1.5}),
              (ORIGIN + 2 * TWO_MIN + 1, {"temperature": -1e150})]], None,
            [Query("hour", 1, ORIGIN, ORIGIN + HOUR)]),
    # a batch in the usual shape (checked a column at a time): codes on some records, across four 2-minute buckets
    History([[(ORIGIN + k * 7 * SECOND + 1, {"temperature": k * 0.5 - 3, "count": k,
                                            **({"temperature_qc": UNCERTAIN if k % 2 else BAD} if k % 7 == 3 else {})})
              for k in range(60)]], None,
            [Query("minute", 2, ORIGIN, ORIGIN + HOUR), Query("hour", 1, ORIGIN - HOUR, ORIGIN + HOUR),
             Query("day", 1, ORIGIN - DAY, ORIGIN + DAY)]),
    # appends: a second batch after the first's newest record, into its 2-minute bucket, its hour and its day (what
    # was stored there is combined with the new records), with a variable and a code the first batch lacked; read
    # between them (the rollups hold the first) and not (the rollups take both in at once)
    *(History([[(ORIGIN + 5, {"temperature": 2.0, "count": 4}), (ORIGIN + 6, {"temperature": -1.0})],
               [(ORIGIN + 7, {"temperature": -1.0, "count": 9, "temperature_qc": UNCERTAIN}),
                (ORIGIN + TWO_MIN + 1, {"temperature": 5.5}), (ORIGIN + HOUR - 1, {"count": -3}),
                (ORIGIN + HOUR + 1, {"temperature": 0.25, "count": 1})]], None,
              [Query("minute", 2, ORIGIN - TWO_MIN, ORIGIN + 2 * HOUR),
               Query("hour", 1, ORIGIN - HOUR, ORIGIN + 2 * HOUR), Query("day", 1, ORIGIN - DAY, ORIGIN + DAY)],
              read_between) for read_between in (True, False)),
    # after the first batch was read: an overwrite of one of its records with an append, then an append, then an
    # overwrite of another of its records (rewrites of buckets the rollups hold, around an append, in write order)
    History([[(ORIGIN + 5, {"temperature": 2.0, "count": 4}), (ORIGIN + TWO_MIN + 6, {"temperature": -1.0})],
             [(ORIGIN + 5, {"temperature": 7.0}), (ORIGIN + TWO_MIN + 7, {"temperature": 3.0, "count": 1})],
             [(ORIGIN + HOUR, {"temperature": 1.0})],
             [(ORIGIN + TWO_MIN + 6, {"temperature": 11.0})]], None,
            [Query("minute", 2, ORIGIN - TWO_MIN, ORIGIN + HOUR), Query("day", 1, ORIGIN - DAY, ORIGIN + DAY)], True),
    # weeks (from Monday) and months over 40 days: the week of the DST change (Sunday 27 October 2024, a local
    # day of 25 hours), points either side of its Monday midnights and of the end of October
    History([[(DST_ORIGIN + 2 * HOUR, {"temperature": 1.0}), (DST_ORIGIN + 2 * HOUR + 1, {"temperature": 2.0}),
              (DST_ORIGIN + 27 * HOUR, {"temperature": 3.0}), (DST_ORIGIN + 27 * HOUR + 1, {"temperature": 4.0}),
              (DST_ORIGIN + 5 * DAY + 2 * HOUR, {"temperature": 5.0, "count": 1}),
              (DST_ORIGIN + 5 * DAY + 2 * HOUR + 1, {"temperature": 6.0}),
              (DST_ORIGIN + 40 * DAY, {"temperature": 7.0, "count": 2})]], None,
            [Query("week", 1, DST_ORIGIN - 7 * DAY, DST_ORIGIN + 20 * DAY),
             Query("week", 2, DST_ORIGIN, DST_ORIGIN + 41 * DAY), Query("month", 1, DST_ORIGIN, DST_ORIGIN + 30 * DAY),
             Query("month", 2, DST_ORIGIN - 30 * DAY, DST_ORIGIN)]),
)


def test_aggregates_agree_with_the_raw_points(api, tenant, pump_type):
    """Random histories (overwrites, deletes, every quality): every field of every interval of random
    minute, hour and day queries equals the reference computed from the surviving raw points."""

    def check_queries(history: History, asset_id: str, stored: dict[int, dict]) -> None:
        for query in history.queries:
            resp = api.get(AGGREGATES_V4, params=query.params(asset_id))
            assert resp.status_code == 200, f"{history!r}\n{query!r}: {resp.status_code} {resp.text}"
            got = resp.json().get("aggregates")
            expected = reference_aggregates(stored, query)
            # --hypothesis-show-statistics: every unit must come up with data, and local days of 23 or 25 hours
            event(f"{query.unit} intervals, {'some' if expected else 'none'} with data")
            if any((hi - lo) % DAY for lo, hi in reference_intervals(query.after, query.upto, query.unit, query.value)
                   if query.unit in ("day", "week", "month")):
                event("a day, week or month interval across a DST change")
            problems = compare_aggregates(stored, query, expected, got)
            assert not problems, "\n".join([
                repr(history), f"query {query!r}:", *problems,
                "expected: " + json.dumps(expected), "got:      " + json.dumps(got)])

    def check(history: History):
        asset_id = new_asset(api, tenant, pump_type)
        for i, batch in enumerate(history.batches):
            put_records(api, asset_id, batch)
            if i == 0 and history.read_between:
                check_queries(history, asset_id, history.stored(upto_batch=1))
        if history.delete:
            after, upto = history.delete
            resp = api.delete(f"{TIMESERIES}/{asset_id}/{ASPECT}",
                              params={"from": record_time(after), "to": record_time(upto)})
            assert resp.status_code == 204, f"{history!r}\nDELETE: {resp.status_code} {resp.text}"
        stored = history.stored()
        written = [entry[0] for batch in history.batches for entry in batch]
        raw = read_all(api, asset_id, min(written) - DAY, max(written) + DAY)
        expected_raw = [as_record(t, stored[t]) for t in sorted(stored)]
        assert raw == expected_raw, f"{history!r}\nraw records: expected {expected_raw}\n got {raw}"
        check_queries(history, asset_id, stored)

    for pinned in PINNED:
        check(pinned)
    http_settings(40)(given(history=histories())(check))()


# --- the paging property --------------------------------------------------------------------------------


@dataclass
class PagingCase:
    times: list[int]
    limit: int
    descending: bool
    after: int
    upto: int
    offsets: tuple[int, int]  # the UTC offsets (minutes) ``from`` and ``to`` are written in

    def __repr__(self):
        return (f"PagingCase({len(self.times)} records {[record_time(t) for t in self.times]}, limit={self.limit}, "
                f"sort={'desc' if self.descending else 'asc'}, range=({zoned_time(self.after, self.offsets[0])}, "
                f"{zoned_time(self.upto, self.offsets[1])}])")


@st.composite
def paging_cases(draw) -> PagingCase:
    """0-300 records, dense (neighbouring milliseconds) or spread over days; a range in or around them."""
    origin = ORIGIN
    span = draw(st.sampled_from([400, 5 * SECOND, HOUR, 3 * DAY]))
    count = draw(st.one_of(st.integers(0, 10), st.integers(0, 300)))
    rng = draw(st.randoms(use_true_random=False))
    times = sorted(origin + t for t in rng.sample(range(span + 1), min(count, span + 1)))
    edges = st.sampled_from(times) if times else st.just(origin)
    anywhere = st.integers(origin - 10, origin + span + 10)
    after = draw(st.one_of(st.just(origin - DAY), edges, edges.map(lambda t: t - 1), anywhere))
    upto = draw(st.one_of(st.just(origin + span + DAY), edges, edges.map(lambda t: t - 1), anywhere,
                          st.integers(after, after + span // 10 + 5)))
    after, upto = min(after, upto), max(after, upto)
    limit = draw(st.one_of(st.integers(1, 50), st.sampled_from([1, 2, 2000])))
    offsets = (draw(st.sampled_from([0, 0, 120, -330])), draw(st.sampled_from([0, 0, 60, 345])))
    return PagingCase(times, limit, draw(st.booleans()), after, upto, offsets)


def test_paging_returns_every_record_exactly_once(api, tenant, pump_type, server):
    """Following ``Link: <...>; rel="next"`` from the first page to the last gives exactly the records
    in ``(from, to]``, in the asked order, each once; a page with a link is full, a page without is the last."""

    def check(case: PagingCase):
        asset_id = new_asset(api, tenant, pump_type)
        batch = [(t, {"count": i, "temperature": i / 7, "status": f"r{i}"}) for i, t in enumerate(case.times)]
        if batch:
            put_records(api, asset_id, batch)
        wanted = [as_record(t, v) for t, v in batch if case.after < t <= case.upto]
        if case.descending:
            wanted.reverse()
        url = f"{TIMESERIES}/{asset_id}/{ASPECT}"
        params = {"from": zoned_time(case.after, case.offsets[0]), "to": zoned_time(case.upto, case.offsets[1]),
                  "limit": case.limit, "sort": "desc" if case.descending else "asc"}
        pages, links = [], []
        while url is not None:
            assert len(pages) <= len(wanted) // case.limit + 1, f"{case!r}\nno end of paging: {links}"
            resp = api.get(url, params=params)
            assert resp.status_code == 200, f"{case!r}\nGET {resp.url}: {resp.status_code} {resp.text}"
            page = resp.json()
            assert page or not pages, f"{case!r}\nthe link {links[-1]} led to an empty page"
            pages.append(page)
            link = resp.headers.get("Link")
            url = params = None
            if link is not None:
                links.append(link)
                assert link.startswith("<") and link.endswith('>; rel="next"'), f"{case!r}\nLink: {link}"
                url = link[1:link.index(">")]
                assert url.startswith(server.url + f"{TIMESERIES}/{asset_id}/{ASPECT}?"), f"{case!r}\nLink: {link}"
                assert len(page) == case.limit, f"{case!r}\na page with a next link has {len(page)} records"
            assert len(page) <= case.limit, f"{case!r}\na page of {len(page)} records"
        got = [record for page in pages for record in page]
        assert got == wanted, "\n".join([
            repr(case), f"pages of {[len(p) for p in pages]} records, links {links}",
            f"missing: {[r['_time'] for r in wanted if r not in got]}",
            f"extra or repeated: {[r['_time'] for i, r in enumerate(got) if r not in wanted or r in got[:i]]}",
            f"expected order: {[r['_time'] for r in wanted]}", f"got order:      {[r['_time'] for r in got]}"])

    http_settings(30)(given(case=paging_cases())(
        example(case=PagingCase([ORIGIN + i for i in range(5)], 2, True, ORIGIN - 1, ORIGIN + 4, (0, 0)))(
            example(case=PagingCase([ORIGIN + i for i in range(5)], 2, False, ORIGIN, ORIGIN + 4, (120, -330)))(
                example(case=PagingCase([ORIGIN + i for i in range(4)], 4, False, ORIGIN - 1, ORIGIN + 3, (0, 0)))(
                    check)))))()


# --- beyond the magnitudes of the property ------------------------------------------------------------


def leaves_the_double_range(values: list[float]) -> bool:
    """Does a running sum of the values in time order (exact, then rounded) pass the double range on the way?
    Only then may sum and average be null: an emulator adding in time order cannot do better."""
    total = Fraction(0)
    for v in values:
        total += Fraction(v)
        if abs(total) > Fraction(sys.float_info.max):
            return True
    return False


def check_beyond_range(api, asset_id: str, values: list[float], times: list[int]) -> None:
    """Any finite DOUBLE is a valid value: the write succeeds, counts, extremes, first and last are exact,
    and sum, average and sd are the exact value or null where the emulator's arithmetic leaves the double
    range (mindsphere-api.md 4a: sd is null beyond it); never a wrong number. sum and average are numbers
    whenever no running sum leaves the range (stats.py: never null within the double range, ``mc`` calls
    toFixed on them): this check once took null there too, so a mutant answering null for sum and average
    whenever sd is null (``"sum": self.sum if math.isfinite(sd) else None`` in ``Stats.public``) survived."""
    body = [{"_time": record_time(t), "temperature": v} for t, v in zip(times, values, strict=True)]
    resp = api.put(f"{TIMESERIES}/{asset_id}/{ASPECT}", json=body)
    assert resp.status_code == 204, f"PUT {body}: {resp.status_code} {resp.text}"
    query = Query("hour", 1, times[0] - 1, times[-1])
    resp = api.get(AGGREGATES_V4, params=query.params(asset_id))
    assert resp.status_code == 200, f"{body}\n{query!r}: {resp.status_code} {resp.text}"
    got = resp.json()["aggregates"]
    assert len(got) == 1 and set(got[0]) == {"starttime", "endtime", "temperature"}, f"{body}\n{got}"
    stats = got[0]["temperature"]
    expected = reference_order_stats([(t, v, None) for t, v in zip(times, values, strict=True)])
    problems = [f"{name}: expected {value!r}, got {stats[name]!r}" for name, value in expected.items()
                if stats[name] != value]
    for name, value in reference_moments(values).items():
        if name != "sd" and stats[name] is None and not leaves_the_double_range(values):
            problems.append(f"{name}: expected {value!r}, got null (no running sum leaves the double range)")
        elif value is None and stats[name] is not None:
            problems.append(f"{name}: expected null (the exact value is past the double range), got {stats[name]!r}")
        elif value is not None and stats[name] is not None and not math.isclose(stats[name], value, rel_tol=1e-9):
            problems.append(f"{name}: expected {value!r} or null, got {stats[name]!r}")
    assert not problems, "\n".join([json.dumps(body), *problems])


def test_values_beyond_the_double_range_are_accepted(api, tenant, pump_type):
    """Squares or sums past the double range (but finite values) must not make a write fail."""
    check_beyond_range(api, new_asset(api, tenant, pump_type), [1e200, -1e200], [ORIGIN + 1, ORIGIN + SECOND])
    check_beyond_range(api, new_asset(api, tenant, pump_type), [1e308, 1e308, -1e308],
                       [ORIGIN + 1, ORIGIN + SECOND, ORIGIN + 2 * SECOND])
    # the spread is past the range, every running sum within it: sum 1e308 and its average are numbers
    check_beyond_range(api, new_asset(api, tenant, pump_type), [1e308, -1e308, 1e308],
                       [ORIGIN + 1, ORIGIN + SECOND, ORIGIN + HOUR // 2])


def test_merging_infinite_bucket_sums(api, tenant, pump_type):
    """Two 2-minute buckets of the same hour, each with a sum past the double range: merged, their
    spread is inf - inf (NaN) unless handled (found by this file: a 500 on SQLite, sd 0.0 on PostgreSQL)."""
    check_beyond_range(api, new_asset(api, tenant, pump_type), [1e308, 1e308, 1.5e308, 1.5e308],
                       [ORIGIN + 1, ORIGIN + SECOND, ORIGIN + 5 * MINUTE + 1, ORIGIN + 5 * MINUTE + SECOND])


@pytest.mark.parametrize("stamp", [
    "2024-W24-3T10:00:00.123Z",  # an ISO week date: datetime.fromisoformat accepts it (Python 3.11+)
    pytest.param("2024-06-12T10:00:00.\u0661\u0662\u0663Z", id="arabic-indic-fraction"),
    pytest.param("2024-06-12T10:00:00.\uff11\uff12\uff13Z", id="fullwidth-fraction"),
])
def test_a_time_in_the_canonical_shape_is_refused_or_stored_in_mindsphere_form(api, tenant, pump_type, stamp):
    """A ``_time`` of 24 characters like ``2024-06-12T10:00:00.123Z`` but not in that form is refused
    (400), or stored and answered as ``2024-06-12T10:00:00.123Z``, never echoed verbatim."""
    asset_id = new_asset(api, tenant, pump_type)
    resp = api.put(f"{TIMESERIES}/{asset_id}/{ASPECT}", json=[{"_time": stamp, "count": 1}])
    if resp.status_code == 400:
        return
    assert resp.status_code == 204, resp.text
    records = read_all(api, asset_id, ORIGIN, ORIGIN + DAY)
    assert records == [{"_time": "2024-06-12T10:00:00.123Z", "count": 1}], f"_time {stamp!r}: {records}"
