"""Each built-in scenario (fixtures/scenarios/*.yaml) shows its effect in the data where and when its file
says, and nowhere else. The pump runs all day; every file starts its event 2 hours after its anchor."""

from __future__ import annotations

import numpy as np
import pytest

from emulator.devices import scenarios, sensors
from emulator.devices.simulation import NEVER
from tests.support import pump as ps

H = 3_600_000


def windows(name: str, cadence: float = 30.0):
    """(readings with the scenario, the same pump without it, times in hours after START, the scenario)."""
    sim = ps.scenario_sim(name, cadence)
    plain = ps.day(cadence=cadence, schedule=ps.ALWAYS_ON)
    span = (ps.START, ps.START + 30 * H)
    frame, base = sim.window(*span), plain.window(*span)
    hours = (frame.times - ps.START) / H
    return frame, base, hours, sim.scenario


def mean(values, hours, lo, hi):
    return float(values[(hours > lo) & (hours <= hi)].mean())


@pytest.mark.parametrize("name", scenarios.builtin_names())
def test_nothing_changes_before_the_event(name):
    frame, base, hours, scenario = windows(name)
    event = scenario.events[0]
    assert event.start == ps.START / 1000 + 2 * 3600
    before = hours < 2
    for var in frame.values:
        assert np.array_equal(frame.values[var][before], base.values[var][before]), var
    assert (frame.visible_at[before] == frame.times[before]).all()


def test_cavitation_suction_pressure_falls_flow_drops_current_fluctuates():
    frame, base, hours, _ = windows("cavitation")
    v, b = frame.values, base.values
    assert mean(v["PressureIn"], hours, 2.5, 5) < mean(b["PressureIn"], hours, 2.5, 5) - 800
    assert mean(v["Flow"], hours, 2.5, 5) < 0.85 * mean(b["Flow"], hours, 2.5, 5)
    during = (hours > 2.5) & (hours <= 5)
    assert np.std(np.diff(v["MotorCurrent"][during])) > 4 * np.std(np.diff(b["MotorCurrent"][during]))
    after = hours > 5.1
    assert np.array_equal(v["Flow"][after], b["Flow"][after])  # the tank is back: so is the pump


def test_seal_wear_drifts_the_temperature_up_at_stable_flow():
    frame, base, hours, _ = windows("seal-wear")
    v, b = frame.values, base.values
    late = (hours > 22) & (hours <= 26)
    assert (v["StuffingBoxTemperature"] - b["StuffingBoxTemperature"])[late].mean() > 15
    assert abs(v["Flow"][late].mean() - b["Flow"][late].mean()) < 0.05
    early = (hours > 2) & (hours <= 3)
    assert (v["StuffingBoxTemperature"] - b["StuffingBoxTemperature"])[early].mean() < 3  # a slow drift


def test_dry_running_no_flow_no_load_and_a_hot_stuffing_box():
    frame, base, hours, _ = windows("dry-running")
    v, b = frame.values, base.values
    assert v["Flow"][(hours > 2.1) & (hours < 3)].max() < 0.8
    assert mean(v["MotorCurrent"], hours, 2.1, 3) < 0.4 * mean(b["MotorCurrent"], hours, 2.1, 3)
    t_end = v["StuffingBoxTemperature"][(hours > 2.9) & (hours < 3)].mean()
    assert t_end > b["StuffingBoxTemperature"][(hours > 2.9) & (hours < 3)].mean() + 25


def test_blocked_discharge_no_flow_shutoff_pressure_lower_current():
    frame, base, hours, _ = windows("blocked-discharge")
    v, b = frame.values, base.values
    assert v["Flow"][(hours > 2.05) & (hours < 3)].max() < 0.8
    assert mean(v["PressureOut"], hours, 2.05, 3) > mean(b["PressureOut"], hours, 2.05, 3) + 500
    assert mean(v["MotorCurrent"], hours, 2.05, 3) < 0.8 * mean(b["MotorCurrent"], hours, 2.05, 3)


def test_a_stuck_sensor_holds_its_value_with_good_quality():
    frame, base, hours, _ = windows("sensor-stuck")
    during = (hours >= 2) & (hours < 4)
    assert len(set(frame.values["Flow"][during].tolist())) == 1
    assert len(set(base.values["Flow"][during].tolist())) > 10
    assert "Flow" not in frame.quality
    assert np.array_equal(frame.values["MotorCurrent"], base.values["MotorCurrent"])  # only the sensor is wrong


def test_a_drifting_sensor_moves_away_by_its_rate():
    frame, base, hours, _ = windows("sensor-drift")
    gap = frame.values["PressureOut"] - base.values["PressureOut"]
    during = (hours >= 2) & (hours < 8)
    assert np.allclose(gap[during], 40 * (hours[during] - 2), atol=0.11)
    assert np.array_equal(frame.values["PressureOut"][hours >= 8], base.values["PressureOut"][hours >= 8])


def test_a_dropout_reads_the_range_bottom_with_a_bad_quality_code():
    frame, _base, hours, _ = windows("sensor-dropout")
    during = (hours >= 2) & (hours < 3)
    for name in ("PressureIn", "StuffingBoxTemperature"):
        assert (frame.values[name][during] == sensors.BY_NAME[name].low).all()
        assert (frame.quality[name][during] == 0x808C0000).all() and not frame.quality[name][~during].any()
    records = frame.records("PumpData")
    first_bad = records[int(np.flatnonzero(during)[0])]
    assert first_bad["PressureIn_qc"] == 0x808C0000 and "Flow_qc" not in first_bad


def test_offline_then_store_and_forward():
    frame, _base, hours, scenario = windows("device-offline")
    (start, end, forward), = scenario.offline_windows()
    assert forward and end - start == 45 * 60
    during = (hours >= 2) & (hours < 2.75)
    assert (frame.visible_at[during] == int(end * 1000)).all()
    midway = ps.START + int(2.5 * H)
    seen = {r["_time"] for r in frame.records("PumpData", visible_by=midway)}
    assert len(seen) == int((~during & (frame.times <= midway)).sum())  # a gap while it is offline
    assert len(frame.records("PumpData", visible_by=int(end * 1000))) >= int((frame.times < end * 1000).sum())


def test_offline_without_forwarding_loses_the_data():
    doc = {"events": [{"effect": "device_offline", "at": "1h", "for": "30m", "forward": False}]}
    sim = ps.day(cadence=60.0, scenario=scenarios.parse(doc, ps.START / 1000))
    frame = sim.window(ps.START, ps.START + 3 * H)
    assert (frame.visible_at == NEVER).sum() == 30
    assert len(frame.records("PumpData", visible_by=ps.START + 10 * H)) == 180 - 30


@pytest.mark.parametrize(("doc", "message"), [
    ({"events": [{"effect": "meteor"}]}, "effect"),
    ({"events": [{"effect": "sensor_stuck", "variable": "Speed"}]}, "variable"),
    ({"events": [{"effect": "cavitation", "tankLevel": -8, "colour": "red"}]}, "unknown keys colour"),
    ({"events": [{"effect": "cavitation", "at": "soon"}]}, "not a duration"),
    ({"events": [{"effect": "sensor_drift", "variable": "Flow"}]}, "rate"),
    ({"name": "x"}, "events"),
])
def test_a_bad_scenario_file_is_refused_with_its_reason(doc, message):
    with pytest.raises(scenarios.ScenarioError, match=message):
        scenarios.parse(doc, 0.0)
