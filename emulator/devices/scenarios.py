"""Declarative fault scenarios: what goes wrong with a pump, and when, on the virtual clock.

A scenario (built in: ``emulator/devices/data/scenarios/*.yaml``; or a YAML or JSON file of your own) lists
events::

    name: cavitation
    description: The supply tank is drawn down; the pump cavitates.
    events:
      - effect: cavitation
        at: 2h          # after the scenario's start (the pump's ScenarioStart), or an ISO-8601 time
        for: 3h         # how long (default: for ever)
        ramp: 20m       # time to full severity (default 0: at once)
        tankLevel: -8   # effect parameters (below)

Effects and their parameters:

* ``cavitation`` (``tankLevel``, m over the pump's axis, default -8): the tank level falls, suction
  pressure falls below what the pump needs: flow drops, the current fluctuates.
* ``seal_wear`` (``factor``, default 2.5): the packing's friction grows to ``factor`` times; the stuffing
  box temperature drifts up at stable flow. Its ramp defaults to the whole event.
* ``dry_running``: the tank runs empty: no flow, no head, the current falls to no-load, the stuffing
  box heats up fast.
* ``blocked_discharge`` (``opening``, default 0): the discharge valve closes: flow falls to zero,
  discharge pressure rises to the shut-off head, the current falls, the pump heats the water.
* ``sensor_stuck`` (``variable``): the reading freezes at its value at the event's start.
* ``sensor_drift`` (``variable``, ``rate`` per hour in the variable's unit): the reading drifts.
* ``sensor_dropout`` (``variables``: a list, or ``all``; ``qualityCode``, default Bad_SensorFailure):
  readings report the bottom of their range with a bad quality code.
* ``device_offline`` (``forward``, default true): nothing arrives for the event's duration; with
  ``forward`` the device then sends what it buffered (store-and-forward), else the gap stays.

Relative times count from an anchor: the pump's ``ScenarioStart`` (the virtual time when it was
seeded). Effects are pure functions of time, so a scenario changes the data of its windows only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emulator.devices import data, sensors
from emulator.devices.timebase import duration, instant

PARAMETERS: dict[str, dict[str, object]] = {  # effect -> parameter -> default
    "cavitation": {"tankLevel": -8.0},
    "seal_wear": {"factor": 2.5},
    "dry_running": {},
    "blocked_discharge": {"opening": 0.0},
    "sensor_stuck": {"variable": None},
    "sensor_drift": {"variable": None, "rate": None},
    "sensor_dropout": {"variables": "all", "qualityCode": sensors.BAD_SENSOR_FAILURE},
    "device_offline": {"forward": True},
}
_EVENT_KEYS = {"effect", "at", "for", "ramp"}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says which event and why."""


@dataclass(frozen=True)
class Event:
    effect: str
    start: float  # epoch seconds
    end: float  # epoch seconds (inf: for ever)
    ramp: float  # seconds to full severity
    params: dict = field(default_factory=dict)

    def severity(self, t: np.ndarray) -> np.ndarray:
        """0 outside the event; inside it rises linearly to 1 over ``ramp`` seconds."""
        inside = (t >= self.start) & (t < self.end)
        if self.ramp <= 0:
            return inside.astype(float)
        return np.clip((t - self.start) / self.ramp, 0.0, 1.0) * inside


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    events: tuple[Event, ...]

    def of(self, *effects: str) -> list[Event]:
        return [e for e in self.events if e.effect in effects]

    def offline_windows(self) -> list[tuple[float, float, bool]]:
        """(start, end, forward) of each device_offline event, in epoch seconds."""
        return [(e.start, e.end, bool(e.params["forward"])) for e in self.of("device_offline")]


NO_SCENARIO = Scenario("none", "normal operation", ())


@dataclass(frozen=True)
class Source:
    """Where a scenario comes from: a built-in one (``path`` None) or a file."""

    name: str  # the built-in name, or the file's stem
    path: Path | None

    @property
    def builtin(self) -> bool:
        return self.path is None

    def text(self) -> str:
        if self.path is None:
            return data.read_text("scenarios", self.name + data.SCENARIO_SUFFIX)
        return self.path.read_text(encoding="utf-8")


def resolve(name_or_path: str) -> Source:
    """A built-in scenario by name (``cavitation``) or a scenario file by its path."""
    if "/" not in name_or_path and "\\" not in name_or_path and name_or_path in builtin_names():
        return Source(name_or_path, None)
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise ScenarioError(f"scenario {name_or_path!r} is neither a file nor one of: {', '.join(builtin_names())}")
    return Source(path.stem, path)


def builtin_names() -> list[str]:
    return data.scenario_names()


def read(source: Source) -> dict:
    text = source.text()
    try:
        if source.path is not None and source.path.suffix.lower() == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - any parse error is the file's fault
        label = source.path.name if source.path is not None else source.name
        raise ScenarioError(f"scenario {label}: cannot parse it: {exc}") from None


def load(name_or_path: str, anchor: float) -> Scenario:
    """The scenario of a built-in name or a file, its relative times counted from ``anchor`` (epoch seconds)."""
    source = resolve(name_or_path)
    return parse(read(source), anchor, source.name)


def parse(doc, anchor: float, default_name: str = "scenario") -> Scenario:
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise ScenarioError(f"scenario {default_name}: expected a mapping with a list of 'events'")
    events = [_event(raw, i, anchor) for i, raw in enumerate(doc["events"])]
    return Scenario(str(doc.get("name") or default_name), str(doc.get("description") or ""), tuple(events))


def _event(raw, i: int, anchor: float) -> Event:
    where = f"events[{i}]"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where} must be a mapping")
    effect = raw.get("effect")
    if effect not in PARAMETERS:
        raise ScenarioError(f"{where}.effect {effect!r} is not one of {', '.join(PARAMETERS)}")
    unknown = set(raw) - _EVENT_KEYS - set(PARAMETERS[effect])
    if unknown:
        raise ScenarioError(f"{where} ({effect}): unknown keys {', '.join(sorted(unknown))}")
    try:
        start = instant(raw.get("at", 0), anchor, f"{where}.at")
        length = duration(raw["for"], f"{where}.for") if raw.get("for") is not None else math.inf
        ramp = duration(raw.get("ramp", 0), f"{where}.ramp")
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    if length <= 0 or ramp < 0:
        raise ScenarioError(f"{where}: 'for' must be positive and 'ramp' not negative")
    params = {key: raw.get(key, default) for key, default in PARAMETERS[effect].items()}
    if effect == "seal_wear" and "ramp" not in raw and math.isfinite(length):
        ramp = length
    _check_params(effect, params, where)
    return Event(effect, start, start + length, ramp, params)


def _check_params(effect: str, params: dict, where: str) -> None:
    def number(key):
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ScenarioError(f"{where} ({effect}): {key} must be a number")
        params[key] = float(value)

    if effect == "cavitation":
        number("tankLevel")
    elif effect == "seal_wear":
        number("factor")
        if params["factor"] < 1:
            raise ScenarioError(f"{where} (seal_wear): factor must be at least 1")
    elif effect == "blocked_discharge":
        number("opening")
        if not 0 <= params["opening"] < 1:
            raise ScenarioError(f"{where} (blocked_discharge): opening must be in [0, 1)")
    elif effect in ("sensor_stuck", "sensor_drift"):
        if params["variable"] not in sensors.BY_NAME:
            raise ScenarioError(f"{where} ({effect}): variable must be one of {', '.join(sensors.BY_NAME)}")
        if effect == "sensor_drift":
            number("rate")
    elif effect == "sensor_dropout":
        names = params["variables"]
        names = list(sensors.BY_NAME) if names == "all" else names
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or any(n not in sensors.BY_NAME for n in names):
            raise ScenarioError(f"{where} (sensor_dropout): variables must be 'all' or names of "
                                f"{', '.join(sensors.BY_NAME)}")
        params["variables"] = names
        code = params["qualityCode"]
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 2**32 - 1:
            raise ScenarioError(f"{where} (sensor_dropout): qualityCode must be an OPC UA status code (uint32)")
    elif effect == "device_offline" and not isinstance(params["forward"], bool):
        raise ScenarioError(f"{where} (device_offline): forward must be true or false")
