"""One simulated pump: every reading as a pure function of (seed, asset, sample index).

The pipeline of a range of samples ``[k0, k1)`` (sample ``k`` is at ``k * cadence`` since the epoch):

1. the duty schedule gives the motor's setpoint and speed (:mod:`.schedule`);
2. the site's outdoor air (:mod:`.environment`), the pump room's (:mod:`.room`) and the supply tank's level;
3. the scenario's physical effects change the tank level, the discharge valve, the water supply and
   the packing's wear (:mod:`.scenarios`);
4. the pump meets its system (:mod:`.hydraulics`): flow, pressures, power, current, heat;
5. the stuffing box's temperature lags its heat over the room's air (:mod:`.thermal`), per aligned block;
6. the sensors add noise, drift, freeze or drop out, and round and clamp (:mod:`.sensors`);
7. ``device_offline`` windows say when each sample reaches the cloud (``visible_at``).

Nothing depends on what was generated before, so a range cut in chunks gives the same bits as the
range in one piece, and two processes with the same seed agree.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import orjson

from emulator.devices import environment, hydraulics, noise, room, sensors, thermal
from emulator.devices.environment import Site
from emulator.devices.hydraulics import PumpSpec
from emulator.devices.scenarios import NO_SCENARIO, Scenario
from emulator.devices.schedule import DailySchedule, default_schedule

NEVER = np.iinfo(np.int64).max  # visible_at of a sample lost in an outage without store-and-forward
_FLOW_Z, _CURRENT_Z = len(sensors.SENSORS), len(sensors.SENSORS) + 1  # cavitation's own fluctuations
CHANNELS = len(sensors.SENSORS) + 2
_THERMAL_CACHE = 16


@dataclass
class Frame:
    """Readings of a range of samples: times (epoch ms), values and quality codes per variable, and
    when each sample reaches the cloud."""

    times: np.ndarray
    values: dict[str, np.ndarray]
    quality: dict[str, np.ndarray]  # only variables with a non-good code somewhere; 0 = good
    visible_at: np.ndarray

    def __len__(self) -> int:
        return len(self.times)

    def part(self, lo: int, hi: int) -> Frame:
        """Samples ``[lo, hi)`` of this frame."""
        cut = slice(lo, hi)
        return Frame(self.times[cut], {k: v[cut] for k, v in self.values.items()},
                     {k: v[cut] for k, v in self.quality.items()}, self.visible_at[cut])

    def records(self, aspect: str, visible_by: int | None = None) -> list[dict]:
        """Time series records of one aspect (``{"_time", var: value, var_qc: code}``, codes only where not
        good); with ``visible_by`` (epoch ms) only the samples the device has sent by then."""
        return self.batch(aspect, visible_by)[1]

    def batch(self, aspect: str, visible_by: int | None = None) -> tuple[list[int], list[dict], dict[str, list]]:
        """:meth:`records`, with their times (epoch ms) and their values as columns (each variable's, and a
        ``<variable>_qc`` column of codes, 0 for good, for a variable with a code somewhere): what the time series
        service stores without reading them back out of the records (:func:`emulator.timeseries.service.write_made`)."""
        names = sensors.ASPECTS[aspect]
        keep = None if visible_by is None else self.visible_at <= visible_by
        times = self.times if keep is None else self.times[keep]
        columns = {n: (self.values[n] if keep is None else self.values[n][keep]).tolist() for n in names}
        stamps = np.datetime_as_string(times.astype("datetime64[ms]"), unit="ms", timezone="UTC").tolist()
        keys = ("_time", *names)
        out = [dict(zip(keys, row)) for row in zip(stamps, *columns.values())]  # noqa: B905 - equal lengths
        for name in names:
            codes = self.quality.get(name)
            if codes is None:
                continue
            codes = codes if keep is None else codes[keep]
            for i in np.flatnonzero(codes).tolist():
                out[i][name + "_qc"] = int(codes[i])
            columns[name + "_qc"] = codes.tolist()
        return times.tolist(), out, columns

    def digest(self) -> str:
        """SHA-256 of every record of both aspects, as stored: the fingerprint the determinism tests pin."""
        h = hashlib.sha256()
        for aspect in sensors.ASPECTS:
            h.update(orjson.dumps(self.records(aspect)))
        h.update(self.visible_at.tobytes())
        return h.hexdigest()


class PumpSimulation:
    """A pump at a site, driven by a schedule, with a scenario. ``cadence``: seconds between samples."""

    def __init__(self, asset_id: str, seed: int, cadence: float = 10.0, site: Site | None = None,
                 scenario: Scenario | None = None, schedule: DailySchedule | None = None,
                 spec: PumpSpec | None = None):
        self.asset_id = asset_id
        self.seed = seed
        self.key = noise.asset_key(seed, asset_id)
        self.cadence_ms = int(round(cadence * 1000))
        if self.cadence_ms < 100:
            raise ValueError("the cadence must be at least 0.1 s")
        self.site = site or Site()
        self.scenario = scenario or NO_SCENARIO
        variation = noise.uniforms(self.key, noise.SPEC, 0, 3)
        self.spec = spec or PumpSpec().scaled(flow=0.8 + 0.45 * variation[0], head=0.85 + 0.3 * variation[1])
        self.tank_phase = float(variation[2]) * 2 * math.pi
        self.schedule = schedule or default_schedule(self.key, self.site.utc_offset)
        self.block = thermal.block_steps(self.cadence_ms / 1000.0, self.spec.thermal_tau)
        self.alpha = math.exp(-(self.cadence_ms / 1000.0) / self.spec.thermal_tau)
        self._thermal: OrderedDict[int, np.ndarray] = OrderedDict()

    # --- grid ----------------------------------------------------------------------------------------

    def steps(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """Sample indices ``[k0, k1)`` of the samples in ``(start_ms, end_ms]``."""
        return start_ms // self.cadence_ms + 1, end_ms // self.cadence_ms + 1

    def window(self, start_ms: int, end_ms: int) -> Frame:
        """The samples in ``(start_ms, end_ms]``."""
        return self.frame(*self.steps(start_ms, end_ms))

    # --- the pipeline ----------------------------------------------------------------------------------

    def _process(self, k0: int, k1: int):
        """Noise-free process values of samples ``[k0, k1)``: (seconds, ambient, hydraulic state)."""
        t = (np.arange(k0, k1, dtype=np.int64) * self.cadence_ms) / 1000.0
        setpoint, speed = self.schedule.setpoint_and_speed(t)
        air = environment.ambient(self.site, self.key, t)
        spec = self.spec
        level = spec.tank_level + spec.tank_swing * np.sin(2 * np.pi * t / spec.tank_period + self.tank_phase)
        valve = np.ones_like(t)
        fluid = np.ones_like(t)
        wear = np.ones_like(t)
        for e in self.scenario.of("cavitation"):
            level = level + e.severity(t) * (e.params["tankLevel"] - level)
        for e in self.scenario.of("dry_running"):
            fluid = fluid * (1.0 - e.severity(t))
        for e in self.scenario.of("blocked_discharge"):
            valve = valve * (1.0 - e.severity(t) * (1.0 - e.params["opening"]))
        for e in self.scenario.of("seal_wear"):
            wear = wear * (1.0 + e.severity(t) * (e.params["factor"] - 1.0))
        state = hydraulics.operate(spec, speed, (setpoint > 0).astype(float), air.pressure, level, valve, fluid, wear)
        return t, air, state

    def _temperatures(self, k0: int, k1: int, process=None, base: int = 0) -> np.ndarray:
        """Stuffing box temperatures of ``[k0, k1)``: each thermal block from one block of warm-up. ``process``
        (with its first sample ``base``) may hold the process values already, from one block before."""
        size = self.block
        blocks = range(k0 // size, (k1 - 1) // size + 1)
        missing = [b for b in blocks if b not in self._thermal]
        if missing:
            if process is None:
                base = (missing[0] - 1) * size
                process = self._process(base, (missing[-1] + 1) * size)
            t, _air, state = process
            heat = room.temperature(self.site, self.key, t) + state.heat_rise  # the box stands in the pump room
            for b in missing:
                segment = heat[(b - 1) * size - base:(b + 1) * size - base]
                self._thermal[b] = thermal.lag(segment, self.alpha)[size:]
        parts = []
        for b in blocks:
            self._thermal.move_to_end(b)
            lo, hi = max(k0, b * size), min(k1, (b + 1) * size)
            parts.append(self._thermal[b][lo - b * size:hi - b * size])
        while len(self._thermal) > max(_THERMAL_CACHE, len(blocks)):
            self._thermal.popitem(last=False)
        return np.concatenate(parts)

    def frame(self, k0: int, k1: int, faults: bool = True) -> Frame:
        """Readings of samples ``[k0, k1)``; ``faults=False`` leaves the scenario's sensor faults out."""
        if k1 <= k0:
            empty = np.empty(0)
            return Frame(np.empty(0, dtype=np.int64), {s.name: empty for s in sensors.SENSORS}, {},
                         np.empty(0, dtype=np.int64))
        size = self.block
        first, last = k0 // size, (k1 - 1) // size
        if any(b not in self._thermal for b in range(first, last + 1)):
            base = (first - 1) * size  # one pass over the blocks and their warm-up gives both
            wide = self._process(base, (last + 1) * size)
            temperature = self._temperatures(k0, k1, wide, base)
            t, air, state = self._slice(wide, k0 - base, k1 - base)
        else:
            t, air, state = self._process(k0, k1)
            temperature = self._temperatures(k0, k1)
        z = noise.normals(self.key, k0, k1, CHANNELS)
        raw = {
            "Flow": state.flow * (1.0 + 0.06 * state.cavitation * z[:, _FLOW_Z]),
            "MotorCurrent": state.current * (1.0 + 0.10 * state.cavitation * z[:, _CURRENT_Z]),
            "PressureIn": state.pressure_in,
            "PressureOut": state.pressure_out,
            "StuffingBoxTemperature": temperature,
            "Humidity": air.humidity,
            "Pressure": air.pressure,
            "Temperature": air.temperature,
        }
        values, quality = {}, {}
        for i, sensor in enumerate(sensors.SENSORS):
            reading = raw[sensor.name] + sensor.sigma * z[:, i]
            if faults:
                for e in self.scenario.of("sensor_drift"):
                    if e.params["variable"] == sensor.name:
                        inside = (t >= e.start) & (t < e.end)
                        reading = reading + inside * (t - e.start) / 3600.0 * e.params["rate"]
            values[sensor.name] = np.round(np.clip(reading, sensor.low, sensor.high), sensor.decimals)
        times = np.arange(k0, k1, dtype=np.int64) * self.cadence_ms
        if faults:
            self._sensor_faults(t, values, quality)
        visible = times.copy()
        for start, end, forward in self.scenario.offline_windows():
            inside = (t >= start) & (t < end)
            visible[inside] = int(math.ceil(end * 1000)) if forward and math.isfinite(end) else NEVER
        return Frame(times, values, quality, visible)

    @staticmethod
    def _slice(process, lo: int, hi: int | None):
        t, air, state = process
        cut = slice(lo, hi)
        return (t[cut], environment.Ambient(air.temperature[cut], air.humidity[cut], air.pressure[cut]),
                hydraulics.State(*(getattr(state, f)[cut] for f in hydraulics.State.__dataclass_fields__)))

    def _sensor_faults(self, t: np.ndarray, values: dict, quality: dict) -> None:
        for e in self.scenario.of("sensor_stuck"):
            name = e.params["variable"]
            inside = (t >= e.start) & (t < e.end)
            if inside.any():
                first = math.ceil(e.start * 1000 / self.cadence_ms)
                held = self.frame(first, first + 1, faults=False).values[name][0]
                values[name] = np.where(inside, held, values[name])
        for e in self.scenario.of("sensor_dropout"):
            inside = (t >= e.start) & (t < e.end)
            if not inside.any():
                continue
            for name in e.params["variables"]:
                values[name] = np.where(inside, sensors.BY_NAME[name].low, values[name])
                codes = quality.setdefault(name, np.zeros(len(t), dtype=np.int64))
                codes[inside] = e.params["qualityCode"]
