"""The virtual clock: every "now" in the emulator comes from here.

Token expiry, latest-value windows, aggregate defaults and the simulated devices all read one
clock, so a test can freeze or shift time and every part of the emulator agrees on it.

Modes (the same shape ``PUT /_emulator/clock`` takes):

* ``real``: wall-clock time.
* ``frozen``: time stands still at ``time`` until advanced.
* ``offset``: wall-clock time shifted so that it read ``time`` when the mode was set, running at
  ``speed`` (1.0 = real time, 60.0 = a minute a second).
"""

from __future__ import annotations

import time as _time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

MODES = ("real", "frozen", "offset")
MAX_SPEED = 1_000_000  # a virtual clock runs at most this many times real time
MAX_JUMP_SECONDS = 10 * 365 * 86400  # one advance moves the clock at most ten years
STATE_RANGE = (-62_135_596_800, 253_402_300_799)  # a stored anchor: epoch seconds of 0001-01-01 to 9999-12-31


@dataclass(frozen=True)
class ClockState:
    mode: str = "real"
    anchor_virtual: float = 0.0  # virtual epoch seconds at anchor_real
    anchor_real: float = 0.0  # wall epoch seconds when the mode was set
    speed: float = 1.0

    def now(self, wall: float) -> float:
        if self.mode == "real":
            return wall
        if self.mode == "frozen":
            return self.anchor_virtual
        return self.anchor_virtual + (wall - self.anchor_real) * self.speed

    def as_dict(self) -> dict:
        return asdict(self)


class Clock:
    """A clock whose state can be swapped atomically (one reference assignment)."""

    def __init__(self, state: ClockState | None = None, wall=_time.time):
        self._wall = wall
        self.state = state or ClockState()

    def time(self) -> float:
        """Virtual epoch seconds."""
        return self.state.now(self._wall())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def set(self, mode: str, at: float | None = None, speed: float = 1.0) -> ClockState:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        wall = self._wall()
        virtual = self.time() if at is None else at
        self.state = ClockState(mode=mode, anchor_virtual=virtual, anchor_real=wall, speed=speed)
        return self.state

    def advance(self, seconds: float) -> ClockState:
        wall = self._wall()
        current = self.time()
        mode = "frozen" if self.state.mode == "frozen" else "offset"
        self.state = ClockState(mode=mode, anchor_virtual=current + seconds, anchor_real=wall,
                                speed=self.state.speed if mode == "offset" else 1.0)
        return self.state
