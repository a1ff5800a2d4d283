"""The pump room's air: the stuffing box's ambient.

A pump stands in a pump station, a building kept above freezing (its water pipes must not freeze), not in
the open: on a December night in Erlangen the air outside is below zero while the room is at its heating
setpoint. The room follows the weather only loosely:

* the building's mass lags the outdoor temperature (:mod:`.environment`) as a first-order system of time
  constant ``TAU`` (days): the daily cycle all but vanishes, weather waves are damped, the season stays;
* motor losses and pipes warm it ``GAIN`` kelvin above that lagged outdoor air;
* a heater holds it at least at ``HEATING``: a smooth maximum (width ``SOFTNESS``), so the room never falls
  below the setpoint and moves without a kink where the heating takes over.

The outdoor temperature is a mean plus sine waves, and a first-order lag of ``sin(w t + p)`` in steady
state is ``sin(w t + p - atan(w tau)) / sqrt(1 + (w tau)^2)``: so the room too is a pure function of time,
computed for any instant alone (chunk-independent and deterministic, like every reading).
"""

from __future__ import annotations

import numpy as np

from emulator.devices import environment
from emulator.devices.environment import Site

TAU = 2.0 * environment.DAY  # a masonry pump house: the outdoor air reaches the room over days
GAIN = 4.0  # K: motor losses and the pipes warm the room above the lagged outdoor air
HEATING = 14.0  # C: the heater's setpoint (frost protection of the pipes with margin)
SOFTNESS = 1.0  # K: width of the smooth maximum between the free-running room and the heating


def free_running(site: Site, key: int, t: np.ndarray) -> np.ndarray:
    """The room without heating: the outdoor temperature lagged by the building, plus the internal gain."""
    mean, waves = environment.temperature_terms(site, key)
    out = np.full(np.shape(t), mean + GAIN, dtype=float)
    for wave in waves:
        wt = 2 * np.pi * TAU / wave.period
        lagged = environment.Wave(wave.amplitude / np.hypot(1.0, wt), wave.period, wave.phase - np.arctan(wt))
        out = out + lagged.at(t)
    return out


def temperature(site: Site, key: int, t: np.ndarray) -> np.ndarray:
    """The pump room's air temperature at epoch seconds ``t`` (C): at least ``HEATING``."""
    free = free_running(site, key, t)
    return HEATING + SOFTNESS * np.logaddexp(0.0, (free - HEATING) / SOFTNESS)
