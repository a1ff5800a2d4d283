"""A centrifugal pump on a system: operating point, pressures, shaft power and motor current.

* The pump curve at rated speed is ``H = H0 - k Q^2``; by the affinity laws at speed fraction ``r``
  head scales with ``r^2``, flow with ``r`` and power with ``r^3``: ``H = r^2 H0 - k Q^2``.
* The system curve is ``H = Hs + R Q^2`` (static lift plus friction); a closing discharge valve makes
  ``R`` grow as ``1 / opening^2``. The operating point is where the two meet; below the static lift
  the check valve stays shut and nothing flows.
* Suction pressure is the air pressure plus the supply tank's water column over the pump's axis, less
  the suction line's friction. When it leaves less net positive suction head (NPSHa) than the pump
  needs (NPSHr, rising with flow), the pump cavitates: its head breaks down and the flow drops.
* Shaft power of a centrifugal pump rises about linearly from ~45 % of the rated power at zero flow;
  with affinity it scales with ``r^3``. Motor current is that power over the motor's efficiency,
  voltage and power factor, plus the magnetising current while the motor is energised.
* A pump running dry moves no water: no flow, no head, only windage and bearing losses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

RHO = 998.0  # kg/m3, water at 20 C
G = 9.81
HPA_PER_M = RHO * G / 100.0  # hPa of one metre of water column
VAPOUR_HPA = 23.4  # vapour pressure of water at 20 C


@dataclass(frozen=True)
class PumpSpec:
    """A mid-size water-works pump (about 25 l/s at 42 m, 14 kW) and its system."""

    shutoff_head: float = 52.0  # m at rated speed and zero flow (H0)
    curve_k: float = 0.016  # m / (l/s)^2
    bep_flow: float = 25.0  # l/s at the best efficiency point, rated speed
    eta_max: float = 0.76  # pump efficiency at the best efficiency point
    shutoff_power_share: float = 0.45  # shaft power at zero flow, share of the rated power
    static_head: float = 14.0  # m the system lifts (Hs)
    system_r: float = 0.04  # m / (l/s)^2 of friction in the discharge line (R)
    suction_loss: float = 0.05  # hPa / (l/s)^2 of friction in the suction line
    npshr_bep: float = 3.5  # m of NPSH the pump needs at the best efficiency point
    tank_level: float = 3.0  # m of the supply tank's level over the pump's axis, on average
    tank_swing: float = 0.8  # m the level swings as the tank is filled and drawn
    tank_period: float = 6.5 * 3600  # s of one fill-and-draw cycle
    motor_voltage: float = 400.0  # V, three-phase
    motor_efficiency: float = 0.92
    power_factor: float = 0.86
    magnetising_current: float = 5.5  # A while energised, even without load
    friction_rise: float = 20.0  # K of the stuffing box over ambient at rated speed, new packing
    churn_rise: float = 45.0  # K more when the pump churns at zero flow
    thermal_tau: float = 900.0  # s: the stuffing box's time constant
    speed_tau: float = 6.0  # s: the motor's response to a new setpoint

    @property
    def rated_head(self) -> float:
        return self.shutoff_head - self.curve_k * self.bep_flow ** 2

    @property
    def rated_power(self) -> float:
        """kW of shaft power at the best efficiency point."""
        return RHO * G * self.bep_flow / 1000.0 * self.rated_head / self.eta_max / 1000.0

    def scaled(self, flow: float, head: float) -> PumpSpec:
        """The same design, ``flow`` times the flow and ``head`` times the head (a bigger or smaller pump)."""
        return replace(self, shutoff_head=self.shutoff_head * head, curve_k=self.curve_k * head / flow ** 2,
                       bep_flow=self.bep_flow * flow, static_head=self.static_head * head,
                       system_r=self.system_r * head / flow ** 2, suction_loss=self.suction_loss / flow ** 2)


@dataclass
class State:
    """Noise-free process values, one array element per sample."""

    flow: np.ndarray  # l/s
    head: np.ndarray  # m
    shaft_power: np.ndarray  # kW
    current: np.ndarray  # A
    pressure_in: np.ndarray  # hPa absolute
    pressure_out: np.ndarray  # hPa absolute
    cavitation: np.ndarray  # 0 (none) .. 1 (severe)
    heat_rise: np.ndarray  # K: the stuffing box's steady-state rise over ambient


def operate(spec: PumpSpec, speed: np.ndarray, energised: np.ndarray, air: np.ndarray, tank_level: np.ndarray,
            valve: np.ndarray, fluid: np.ndarray, wear: np.ndarray) -> State:
    """The operating point of every sample. ``speed``: fraction of rated speed; ``energised``: the motor is
    switched on; ``air``: air pressure (hPa); ``tank_level``: m over the pump's axis; ``valve``: discharge
    opening 0..1; ``fluid``: 1 = flooded, 0 = dry; ``wear``: 1 = new packing, more = worn."""
    r = np.maximum(speed, 0.0)
    r2 = r * r
    friction = spec.curve_k + spec.system_r / np.maximum(valve, 1e-3) ** 2
    flow = np.sqrt(np.maximum(r2 * spec.shutoff_head - spec.static_head, 0.0) / friction)
    column = HPA_PER_M * tank_level * fluid
    npsha = (air + column - spec.suction_loss * flow * flow - VAPOUR_HPA) / HPA_PER_M
    npshr = spec.npshr_bep * np.maximum((flow / spec.bep_flow) ** 2, 0.2 * r2)
    cavitation = np.clip((1.15 * npshr - npsha) / np.maximum(npshr, 1e-6), 0.0, 1.0) * fluid * (r > 0.05)
    developed = (1.0 - 0.55 * cavitation) * r2 * spec.shutoff_head
    flow = np.sqrt(np.maximum(developed - spec.static_head, 0.0) / friction) * fluid
    head = np.maximum(developed - spec.curve_k * flow * flow, 0.0) * fluid
    pressure_in = air + column - spec.suction_loss * flow * flow
    pressure_out = np.maximum(pressure_in + HPA_PER_M * head, air + HPA_PER_M * spec.static_head)
    load = spec.shutoff_power_share + (1 - spec.shutoff_power_share) * flow / (spec.bep_flow * np.maximum(r, 1e-3))
    shaft_power = spec.rated_power * r2 * r * load * (fluid + 0.1 * (1.0 - fluid))
    amps_per_kw = 1000.0 / (spec.motor_efficiency * math.sqrt(3) * spec.motor_voltage * spec.power_factor)
    current = shaft_power * amps_per_kw + spec.magnetising_current * energised
    churn = np.maximum(1.0 - flow / (0.35 * spec.bep_flow * np.maximum(r, 1e-3)), 0.0) ** 2
    heat_rise = r2 * spec.friction_rise * wear * (3.0 - 2.0 * fluid) + r2 * r * spec.churn_rise * churn * fluid
    return State(flow, head, shaft_power, current, pressure_in, pressure_out, cavitation, heat_rise)
