"""The statistics of one variable over one interval, and how two of them combine.

Fields are MindSphere's (mindsphere-api.md 4a): ``countgood, countuncertain, countbad, sum,
average, minvalue, mintime, maxvalue, maxtime, firstvalue, firsttime, lastvalue, lasttime, sd``.
Decisions [?]: every value counts in the statistics whatever its quality (the counts tell the
qualities apart); ``sd`` is the population standard deviation; ties keep the earliest time for
min and max.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FIELDS = ("countgood", "countuncertain", "countbad", "sum", "m2", "minvalue", "mintime", "maxvalue", "maxtime",
          "firstvalue", "firsttime", "lastvalue", "lasttime")


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
        m2 = _finite_or_inf(_sum([(v - mean) * (v - mean) for v in values]))  # d * d: inf past the range
        if codes:
            top = [(q >> 30) & 0b11 for q in codes]  # OPC UA severity bits; no code is good
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
        return tuple(getattr(self, f) for f in FIELDS)

    def merge(self, other: Stats) -> Stats:
        """Chan's parallel combination; ``other`` must not start before ``self`` ends (time order)."""
        n_a, n_b = self.count, other.count
        n = n_a + n_b
        delta = other.sum / n_b - self.sum / n_a
        m2 = _finite_or_inf(self.m2 + other.m2 + delta * delta * n_a * n_b / n)
        low = self if self.minvalue <= other.minvalue else other
        high = self if self.maxvalue >= other.maxvalue else other
        first = self if self.firsttime <= other.firsttime else other
        last = other if other.lasttime >= self.lasttime else self
        return Stats(self.countgood + other.countgood, self.countuncertain + other.countuncertain,
                     self.countbad + other.countbad, self.sum + other.sum, m2,
                     low.minvalue, low.mintime, high.maxvalue, high.maxtime,
                     first.firstvalue, first.firsttime, last.lastvalue, last.lasttime)

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


def _finite_or_inf(m2: float) -> float:
    """Past the double range a spread is infinite, never NaN (inf - inf): NaN is no number to store."""
    return m2 if m2 == m2 else math.inf


def _sum(values: list[float]) -> float:
    """An exact sum; past the double range (where fsum raises) the plain float sum, inf."""
    try:
        return math.fsum(values)
    except OverflowError:
        return sum(values)


def combine(items) -> Stats | None:
    """The merge of stats in time order, or None for none."""
    out = None
    for item in items:
        out = item if out is None else out.merge(item)
    return out
