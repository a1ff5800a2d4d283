"""Outdoor conditions at the pump's site: temperature, humidity and air pressure.

Temperature follows the sun: a daily cycle peaking mid-afternoon local time on a mean that depends on
the latitude and the season; relative humidity moves the opposite way (the same air holds more
water when warm, so its relative humidity falls by day). Weather is a few slow waves of periods of
days with phases from the asset's key: a pure function of time, so any instant is computed alone.
Air pressure drifts with the weather around 1013 hPa; it is also the reference of the pump's
absolute pressures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emulator.devices import noise

DAY = 86400.0
YEAR = 365.2422 * DAY
_WAVES = (2.9 * DAY, 5.3 * DAY, 11.7 * DAY)  # periods of the weather's slow waves


@dataclass(frozen=True)
class Site:
    """Where a pump stands. ``utc_offset``: seconds of the site's standard time ahead of UTC."""

    latitude: float = 49.59
    longitude: float = 11.0
    utc_offset: float = 3600.0


@dataclass(frozen=True)
class Ambient:
    temperature: np.ndarray  # C
    humidity: np.ndarray  # %
    pressure: np.ndarray  # hPa


def _phases(key: int) -> np.ndarray:
    return noise.uniforms(key, noise.WEATHER, 0, 2 * len(_WAVES)) * 2 * np.pi


@dataclass(frozen=True)
class Wave:
    """``amplitude * sin(2 pi t / period + phase)`` at epoch seconds ``t``."""

    amplitude: float
    period: float
    phase: float

    def at(self, t: np.ndarray) -> np.ndarray:
        return self.amplitude * np.sin(2 * np.pi * t / self.period + self.phase)


def temperature_terms(site: Site, key: int) -> tuple[float, tuple[Wave, ...]]:
    """The outdoor air temperature as a mean plus sine waves: the season, the day (+1 at 15:00 local standard
    time, -1 at 03:00) and the weather. Written as waves so a building's lag of it has a closed form
    (:mod:`.room`)."""
    phases = _phases(key)
    lat = abs(site.latitude)
    sign = 1.0 if site.latitude >= 0 else -1.0
    season = Wave(-0.22 * lat * sign, YEAR, np.pi / 2 - 2 * np.pi * 0.04)  # coldest about mid-January
    daily = Wave(4.5, DAY, np.pi / 2 + 2 * np.pi * (site.utc_offset / DAY - 15.0 / 24.0))
    weather = tuple(Wave(amp, period, float(phases[i]))
                    for i, (period, amp) in enumerate(zip(_WAVES, (2.0, 1.5, 1.0), strict=True)))
    return 27.0 - 0.42 * lat, (season, daily, *weather)


def ambient(site: Site, key: int, t: np.ndarray) -> Ambient:
    """Noise-free ambient values at epoch seconds ``t`` (outdoors)."""
    phases = _phases(key)
    mean, waves = temperature_terms(site, key)
    daily = waves[1].at(t) / waves[1].amplitude
    weather = sum(w.at(t) for w in waves[2:])
    temperature = mean + waves[0].at(t) + waves[1].at(t) + weather
    humidity = np.clip(68.0 - 16.0 * daily - 2.5 * weather, 8.0, 100.0)
    pressure = 1013.25 + sum(np.sin(2 * np.pi * t / period + phases[3 + i]) * amp
                             for i, (period, amp) in enumerate(zip(_WAVES, (6.0, 4.0, 3.0), strict=True)))
    return Ambient(temperature, humidity, pressure)
