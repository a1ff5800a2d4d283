"""The statistics of one variable over one interval, and how two of them combine.

Fields are MindSphere's (mindsphere-api.md 4a): ``countgood, countuncertain, countbad, sum,
average, minvalue, mintime, maxvalue, maxtime, firstvalue, firsttime, lastvalue, lasttime, sd``.
Decisions [?]: every value counts in the statistics whatever its quality (the counts tell the
qualities apart); ``sd`` is the population standard deviation; ties keep the earliest time for
min and max.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from itertools import repeat
from operator import and_, attrgetter, mul, rshift, sub

FIELDS = ("countgood", "countuncertain", "countbad", "sum", "m2", "minvalue", "mintime", "maxvalue", "maxtime",
          "firstvalue", "firsttime", "lastvalue", "lasttime")
_INTEGERS = {"countgood", "countuncertain", "countbad", "mintime", "maxtime", "firsttime", "lasttime"}
# The values in ``FIELDS`` order as one little-endian record (counts and times int64, the rest float64): a rollup
# row keeps them so too (its ``packed`` column), which an aggregate reads in one column and keys its kept answer by.
PACKED = struct.Struct("<" + "".join("q" if f in _INTEGERS else "d" for f in FIELDS))


@dataclass
class Stats:
    countgood: int
    countuncertain: int
    countbad: int
    sum: float
    m2: float  # sum of squared deviations from the mean
    minvalue: float
    mintime: int
    maxvalue: float
    maxtime: int
    firstvalue: float
    firsttime: int
    lastvalue: float
    lasttime: int

    @property
    def count(self) -> int:
        return self.countgood + self.countuncertain + self.countbad

    @classmethod
    def of_points(cls, points: list[tuple[int, float, int | None]]) -> Stats:
        """Stats of (time, value, quality code) points in time order."""
        return cls.of_series([t for t, _v, _q in points], [float(v) for _t, v, _q in points],
                             [q for _t, _v, q in points if q is not None])

    @classmethod
    def of_series(cls, times: list[int], values: list[float], codes: list[int]) -> Stats:
        """Stats of values (floats) at their times, in time order, and the quality codes some of them carry (two
        passes: exact ``m2``)."""
        total = _sum(values)
        mean = total / len(values)
        deviations = list(map(sub, values, repeat(mean)))  # C loops: the same operations as (v - mean) * (v - mean)
        m2 = _finite_or_inf(_sum(list(map(mul, deviations, deviations))))  # d * d: inf past the range
        if codes:
            top = list(map(and_, map(rshift, codes, repeat(30)), repeat(0b11)))  # OPC UA severity bits; none is good
            uncertain = top.count(1)
            good = top.count(0) + len(values) - len(codes)
        else:
            uncertain, good = 0, len(values)
        low = values.index(min(values))  # the first of equal minima
        high = values.index(max(values))  # the first of equal maxima
        return cls(good, uncertain, len(values) - good - uncertain, total, m2,
                   values[low], times[low], values[high], times[high],
                   values[0], times[0], values[-1], times[-1])

    def as_tuple(self) -> tuple:
        """The values in ``FIELDS`` order (the columns of a rollup row)."""
        return _FIELDS_OF(self)

    def public(self, iso) -> dict:
        """The answer's object; times through ``iso``. Numbers, never null within the double range (``mc``
        calls toFixed on them); ``sd`` is null beyond it, as MindSphere's is (mindsphere-api.md 4a)."""
        n = self.count
        sd = math.sqrt(self.m2 / n) if n and self.m2 > 0 else 0.0  # inf/nan beyond the double range
        return {"countgood": self.countgood, "countuncertain": self.countuncertain, "countbad": self.countbad,
                "sum": self.sum, "average": self.sum / n, "minvalue": self.minvalue, "mintime": iso(self.mintime),
                "maxvalue": self.maxvalue, "maxtime": iso(self.maxtime), "firstvalue": self.firstvalue,
                "firsttime": iso(self.firsttime), "lastvalue": self.lastvalue, "lasttime": iso(self.lasttime),
                "sd": sd if math.isfinite(sd) else None}  # [C] sd is null when beyond the double range


_FIELDS_OF = attrgetter(*FIELDS)


def _finite_or_inf(m2: float) -> float:
    """Past the double range a spread is infinite, never NaN (inf - inf): NaN is no number to store."""
    return m2 if m2 == m2 else math.inf


def _sum(values: list[float]) -> float:
    """An exact sum; past the double range (where fsum raises) the plain float sum, inf."""
    try:
        return math.fsum(values)
    except OverflowError:
        return sum(values)


def combine(rows) -> Stats:
    """Stats given as tuples in ``FIELDS`` order (rollup rows), one or more, in time order (of buckets that do not
    overlap), merged into one: each merged into the running total with Chan's parallel combination, folded in
    local variables (a write refreshes its hour and day from a few hundred rows; a Stats object per step cost twice
    as much). In time order the first values are the first row's and the last ones the last row's."""
    rows = iter(rows)
    good, uncertain, bad, total, m2, low, low_t, high, high_t, first_v, first_t, last_v, last_t = next(rows)
    n = good + uncertain + bad
    for g, u, b, s, m, lo, lo_t, hi, hi_t, _f_v, _f_t, l_v, l_t in rows:
        n_b = g + u + b
        both = n + n_b
        delta = s / n_b - total / n
        m2 = _finite_or_inf(m2 + m + delta * delta * n * n_b / both)
        if not low <= lo:  # ties keep the earlier
            low, low_t = lo, lo_t
        if not high >= hi:
            high, high_t = hi, hi_t
        good, uncertain, bad, total, n = good + g, uncertain + u, bad + b, total + s, both
        last_v, last_t = l_v, l_t
    return Stats(good, uncertain, bad, total, m2, low, low_t, high, high_t, first_v, first_t, last_v, last_t)
