"""Shared pieces of the simulated pump's tests: a fixed day, schedules, and the pinned fingerprint."""

from __future__ import annotations

from datetime import UTC, datetime

from emulator.devices.environment import Site
from emulator.devices.scenarios import load
from emulator.devices.schedule import DailySchedule
from emulator.devices.simulation import PumpSimulation

DAY_MS = 86_400_000
START = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1000)  # a Monday, midnight UTC
ASSET = "0123456789abcdef0123456789abcdef"
SITE = Site(latitude=49.59, longitude=11.0, utc_offset=0.0)  # standard time = UTC: hours read plainly
ALWAYS_ON = DailySchedule(changes=((0.0, 1.0),))

# sha256 of one day (2026-01-05, 10 s samples) of pump ASSET with seed 42 at SITE, default schedule: the
# records of both aspects as stored. It changes only when the model changes (then update it on purpose;
# last: the stuffing box's ambient became the pump room, emulator/devices/room.py).
PINNED_DIGEST = "ec8ac6a48926e012a7c29673d072c6c180908814017aca6043719fe42c1745ea"


def day(seed: int = 42, cadence: float = 10.0, **kwargs) -> PumpSimulation:
    return PumpSimulation(ASSET, seed, cadence, site=SITE, **kwargs)


def scenario_sim(name: str, cadence: float = 30.0, schedule: DailySchedule = ALWAYS_ON) -> PumpSimulation:
    """The pump running all day with a built-in scenario whose relative times count from START."""
    return day(cadence=cadence, schedule=schedule, scenario=load(name, START / 1000))
