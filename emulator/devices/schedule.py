"""The duty schedule: when the pump runs and at what speed.

A pump in a water works runs by day and stops at night, with its speed setpoint changed a few times
a day by the level control. A :class:`DailySchedule` lists ``(time of local day, setpoint)`` changes
(setpoint: fraction of rated speed, 0 = stopped), the same every day; with a ``jitter_key`` each day
moves its change times and setpoints a little, from that day's own random stream, so the day stays
a pure function of its date. The motor follows a setpoint change as a first-order lag (a soft
starter), in closed form from the last change, so any instant is computed without the ones before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emulator.devices import noise

DAY = 86400.0


@dataclass(frozen=True)
class DailySchedule:
    changes: tuple[tuple[float, float], ...]  # (seconds after local midnight, setpoint), ascending
    utc_offset: float = 0.0  # seconds: local = UTC + offset (the site's standard time)
    jitter_key: int | None = None  # vary each day (times by up to 40 minutes, setpoints by up to 0.05)
    speed_tau: float = 6.0  # seconds: the motor's time constant

    def __post_init__(self):
        if not self.changes:
            raise ValueError("a schedule needs at least one change")
        times = [c[0] for c in self.changes]
        if times != sorted(times) or len(set(times)) != len(times) or times[0] < 0 or times[-1] >= DAY:
            raise ValueError("schedule change times must ascend within one day")
        if any(not 0.0 <= s <= 1.1 for _, s in self.changes):
            raise ValueError("setpoints are fractions of rated speed, 0 to 1.1")

    def _day(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        offsets = np.array([c[0] for c in self.changes], dtype=float)
        setpoints = np.array([c[1] for c in self.changes], dtype=float)
        if self.jitter_key is not None:
            gaps = np.diff(np.concatenate([offsets, [offsets[0] + DAY]]))
            reach = np.minimum(2400.0, 0.4 * gaps.min())
            draw = noise.uniforms(self.jitter_key, noise.SCHEDULE, day, 2 * len(offsets))
            offsets = offsets + (draw[:len(offsets)] * 2 - 1) * reach
            running = setpoints > 0
            setpoints = np.where(running, np.clip(setpoints + (draw[len(offsets):] * 2 - 1) * 0.05, 0.55, 1.1), 0.0)
        return day * DAY + offsets - self.utc_offset, setpoints

    def setpoint_and_speed(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The setpoint and the motor's speed (fractions of rated speed) at epoch seconds ``t``."""
        if t.size == 0:
            return np.empty(0), np.empty(0)
        local = t + self.utc_offset
        first, last = int(np.floor(local.min() / DAY)) - 2, int(np.floor(local.max() / DAY))
        days = [self._day(d) for d in range(first, last + 1)]
        times = np.concatenate([d[0] for d in days])
        setpoints = np.concatenate([d[1] for d in days])
        idx = np.searchsorted(times, t, side="right") - 1
        current = setpoints[idx]
        previous = setpoints[np.maximum(idx - 1, 0)]
        speed = current + (previous - current) * np.exp(-(t - times[idx]) / self.speed_tau)
        return current, speed


def default_schedule(key: int, utc_offset: float) -> DailySchedule:
    """A water-works day: start about 05:30, speed changes through the day, stop about 21:30."""
    return DailySchedule(changes=((5.5 * 3600, 0.85), (9 * 3600, 1.0), (13 * 3600, 0.9), (17.5 * 3600, 1.0),
                                  (21.5 * 3600, 0.0)),
                         utc_offset=utc_offset, jitter_key=key)
