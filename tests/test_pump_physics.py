"""The simulated pump's physics over a simulated day, and its determinism (no server needed: the model is
a pure function of seed, asset and time; the feeder tests show the same data through HTTP)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.devices import environment, room
from emulator.devices.environment import Site
from emulator.devices.schedule import DailySchedule
from emulator.devices.sensors import SENSORS
from emulator.devices.simulation import PumpSimulation
from tests.support import pump as ps

HOUR = 3600.0


@st.composite
def schedules(draw):
    """A day: start in the morning, 0-3 setpoint changes, maybe a midday stop, stop in the evening."""
    start = draw(st.integers(3, 9)) * HOUR
    stop = draw(st.integers(15, 22)) * HOUR
    changes = [(start, draw(st.floats(0.65, 1.05)))]
    moments = draw(st.lists(st.integers(int(start / HOUR) + 1, int(stop / HOUR) - 1), max_size=3, unique=True))
    for hour in sorted(moments):
        changes.append((hour * HOUR + 900, draw(st.sampled_from([0.0, 0.7, 0.8, 0.9, 1.0]))))
    changes.append((stop, 0.0))
    return DailySchedule(changes=tuple(changes))


def readings(sim: PumpSimulation):
    frame = sim.window(ps.START, ps.START + ps.DAY_MS)
    t = frame.times / 1000.0
    setpoint, _speed = sim.schedule.setpoint_and_speed(t)
    return t, setpoint, frame.values


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), schedule=schedules())
def test_a_day_is_physically_plausible(seed, schedule):
    sim = ps.day(seed, cadence=30.0, schedule=schedule)
    t, setpoint, v = readings(sim)
    for sensor in SENSORS:  # no NaN, nothing outside a sensor's range
        values = v[sensor.name]
        assert np.isfinite(values).all(), sensor.name
        assert values.min() >= sensor.low and values.max() <= sensor.high, sensor.name
    since_change = t - _last_change(schedule, t)
    running = (setpoint > 0) & (since_change > 120)
    stopped = (setpoint == 0) & (since_change > 120)
    assert running.any() and stopped.any()
    assert (v["PressureOut"][running] > v["PressureIn"][running]).all()
    assert np.corrcoef(v["Flow"], v["MotorCurrent"])[0, 1] > 0.8
    assert v["Flow"][stopped].max() < 0.8 and v["MotorCurrent"][stopped].max() < 0.8
    assert v["Flow"][running].min() > 5 and v["MotorCurrent"][running].min() > 5
    # temperature lags load: a minute after a start the current is there, the temperature barely moved
    temp, current = v["StuffingBoxTemperature"], v["MotorCurrent"]
    for start, level in schedule.changes:
        before, after, later = (np.searchsorted(t, ps.START / 1000 + start + dt) for dt in (-60, 60, 3600))
        previous = [s for s in schedule.changes if s[0] < start]
        if level == 0 or not previous or previous[-1][1] != 0 or start - previous[-1][0] < 2 * HOUR:
            continue
        if any(start < s[0] < start + HOUR for s in schedule.changes):
            continue
        assert current[after] > 0.8 * current[later]
        rise_minute, rise_hour = temp[after] - temp[before], temp[later] - temp[before]
        assert rise_hour > 5 and rise_minute < 0.3 * rise_hour


def _last_change(schedule: DailySchedule, t: np.ndarray) -> np.ndarray:
    local = t % 86400.0
    times = np.array([c[0] for c in schedule.changes])
    idx = np.searchsorted(times, local, side="right") - 1
    return np.where(idx >= 0, t - local + times[np.maximum(idx, 0)], t - local - 86400 + times[-1])


def test_the_daily_cycle_moves_temperature_and_humidity_opposite():
    v = ps.day().window(ps.START, ps.START + ps.DAY_MS).values
    assert np.corrcoef(v["Temperature"], v["Humidity"])[0, 1] < -0.8
    hours = np.arange(len(v["Temperature"])) * 10 / HOUR
    assert 12 <= hours[np.argmax(v["Temperature"])] <= 18  # warmest in the afternoon (standard time = UTC)
    assert 960 < v["Pressure"].mean() < 1060


def test_a_day_hashes_to_its_pinned_digest_here_and_in_another_process():
    assert ps.day().window(ps.START, ps.START + ps.DAY_MS).digest() == ps.PINNED_DIGEST
    code = ("from tests.support import pump as ps; print(ps.day().window(ps.START, ps.START + ps.DAY_MS).digest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent).stdout.strip()
    assert out == ps.PINNED_DIGEST


def test_chunks_give_the_same_bits_as_one_piece():
    whole = ps.day(7, cadence=5.0).window(ps.START, ps.START + 2 * 3_600_000)
    fresh = ps.day(7, cadence=5.0)  # no cache shared with the first
    parts = [fresh.window(ps.START + a, ps.START + b) for a, b in ((0, 1_234_000), (1_234_000, 3_600_000),
                                                                   (3_600_000, 7_200_000))]
    for name, values in whole.values.items():
        assert np.array_equal(np.concatenate([p.values[name] for p in parts]), values), name
    one_sample = ps.day(7, cadence=5.0).window(ps.START + 3_595_000, ps.START + 3_600_000)
    assert one_sample.records("PumpData") == whole.part(719, 720).records("PumpData")


def test_each_asset_has_its_own_stream_and_the_seed_matters():
    a = ps.day(1).window(ps.START, ps.START + 3_600_000).digest()
    assert ps.day(1).window(ps.START, ps.START + 3_600_000).digest() == a
    assert ps.day(2).window(ps.START, ps.START + 3_600_000).digest() != a
    other = PumpSimulation("f" * 32, 1, 10.0, site=ps.SITE).window(ps.START, ps.START + 3_600_000).digest()
    assert other != a


def test_the_thermal_state_does_not_depend_on_where_generation_starts():
    sim = ps.day(3, cadence=60.0)
    late = sim.window(ps.START + 20 * 3_600_000, ps.START + 21 * 3_600_000).values["StuffingBoxTemperature"]
    fresh = ps.day(3, cadence=60.0).window(ps.START, ps.START + ps.DAY_MS).values["StuffingBoxTemperature"]
    assert np.array_equal(late, fresh[20 * 60:21 * 60])
    steps = np.abs(np.diff(fresh))
    boundaries = [k - 1 for k in range(sim.block, len(fresh), sim.block)]  # 4-hour blocks meet here
    assert steps[boundaries].max() <= steps.max()  # no jump where two blocks meet


ERLANGEN = Site()  # the default site: Erlangen, standard time UTC+1


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), day=st.integers(1, 31))
def test_on_a_december_night_in_erlangen_the_stuffing_box_stands_in_a_heated_room(seed, day):
    """The box's ambient is the pump room (heated, lagging the weather), not the outdoor air: at night, hours
    after the stop, the box reads the room's temperature, above freezing, while outdoors it may freeze."""
    sim = PumpSimulation(ps.ASSET, seed, 60.0)
    dusk = int(datetime(2026, 12, day, 21, tzinfo=UTC).timestamp() * 1000)  # 22:00 local
    frame = sim.window(dusk, dusk + 8 * 3_600_000)
    box, t = frame.values["StuffingBoxTemperature"], frame.times / 1000.0
    setpoint, _ = sim.schedule.setpoint_and_speed(t)
    air = room.temperature(ERLANGEN, sim.key, t)
    assert box.min() > 5.0
    assert air.min() >= 12.0 and air.max() <= 20.0  # a heated room in December
    cooled = (setpoint == 0) & (t > t[0] + 2 * HOUR)  # the stop is at least 2.5 hours back (about 21:30)
    assert cooled.any()
    assert np.abs(box[cooled] - air[cooled]).max() < 1.0


def test_the_outdoor_air_still_freezes_that_night():
    """The Environment aspect stays the outdoor weather: the same December night is below zero out there while
    the stuffing box, inside, reads the room."""
    sim = PumpSimulation(ps.ASSET, 42, 60.0)
    dusk = int(datetime(2026, 12, 13, 21, tzinfo=UTC).timestamp() * 1000)
    v = sim.window(dusk, dusk + 8 * 3_600_000).values
    assert v["Temperature"].min() < -5.0
    assert v["StuffingBoxTemperature"].min() > 12.0


def test_the_room_follows_the_weather_only_loosely():
    """Over a year the outdoor day swings by many kelvins, the room's by a fraction of that; the room never
    falls below the heating's setpoint and is warmer in summer than in winter."""
    t = datetime(2026, 1, 1, tzinfo=UTC).timestamp() + np.arange(0, 365 * 86400, 600.0)
    air = room.temperature(ERLANGEN, 7, t)
    mean, waves = environment.temperature_terms(ERLANGEN, 7)
    outdoor = mean + sum(w.at(t) for w in waves)
    assert np.abs(outdoor - environment.ambient(ERLANGEN, 7, t).temperature).max() < 1e-9
    assert air.min() >= room.HEATING and outdoor.min() < -5
    per_day = 144
    swing = lambda x: np.ptp(x[: len(x) // per_day * per_day].reshape(-1, per_day), axis=1)  # noqa: E731
    assert swing(air).max() < 2.5 and swing(air).mean() < 0.2 * swing(outdoor).mean()
    assert swing(outdoor).mean() > 8.0
    july, january = air[181 * per_day:212 * per_day].mean(), air[:31 * per_day].mean()
    assert july > january + 4
