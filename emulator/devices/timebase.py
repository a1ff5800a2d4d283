"""Time for the simulation: durations as scenario files write them, and the sample grid.

Samples lie on a grid of whole multiples of the cadence since the epoch (``t = k * cadence``), so
the same instant gets the same sample however a range is cut into chunks: generation works on
step indices ``k``, never on "the first sample of this request".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from emulator.errors import BadRequest
from emulator.times import parse_instant

_DURATION = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def duration(value, what: str = "duration") -> float:
    """Seconds of ``90``, ``"90s"``, ``"20m"``, ``"2h"``, ``"-1d"``, ``"1.5h"``."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: {value!r} is not a duration")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{what}: {value!r} is not a duration (such as 90s, 20m, 2h, 1d)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def instant(value, anchor: float, what: str = "time") -> float:
    """Epoch seconds of an ISO-8601 time, or of a duration after ``anchor`` (the scenario's start)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).timestamp()
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return parse_instant(value.strip(), what, zone_required=False) / 1000
        except BadRequest as exc:
            raise ValueError(exc.message) from None
    return anchor + duration(value, what)


def steps(start_ms: int, end_ms: int, cadence_ms: int) -> tuple[int, int]:
    """Step indices ``[k0, k1)`` of the grid points in ``(start_ms, end_ms]`` (MindSphere's ranges)."""
    return start_ms // cadence_ms + 1, end_ms // cadence_ms + 1
