"""The pump's eight sensors: range, noise, resolution, quality codes.

Each reading is the process value plus Gaussian noise, rounded to the sensor's resolution and
clamped into its measuring range (a transmitter reports no value beyond its span). Rounding also
keeps the data the same bit for bit on every machine: a last-bit difference in a transcendental
function cannot move a value rounded to a few decimals (short of an exact tie).

Quality codes are OPC UA status codes, as MindSphere's ``_qc`` values: good readings carry none (a
value without a code counts as good), a failed sensor reports ``Bad_SensorFailure``.
"""

from __future__ import annotations

from dataclasses import dataclass

GOOD = 0x00000000
BAD_SENSOR_FAILURE = 0x808C0000  # OPC UA Bad_SensorFailure


@dataclass(frozen=True)
class Sensor:
    name: str
    aspect: str
    low: float
    high: float
    sigma: float  # noise, in the variable's unit
    decimals: int


SENSORS: tuple[Sensor, ...] = (
    Sensor("Flow", "PumpData", 0.0, 60.0, 0.15, 2),
    Sensor("MotorCurrent", "PumpData", 0.0, 60.0, 0.12, 2),
    Sensor("PressureIn", "PumpData", 0.0, 2500.0, 2.0, 1),
    Sensor("PressureOut", "PumpData", 0.0, 10000.0, 6.0, 1),
    Sensor("StuffingBoxTemperature", "PumpData", -40.0, 200.0, 0.08, 2),
    Sensor("Humidity", "Environment", 0.0, 100.0, 0.4, 1),
    Sensor("Pressure", "Environment", 800.0, 1100.0, 0.15, 1),
    Sensor("Temperature", "Environment", -40.0, 60.0, 0.08, 2),
)
BY_NAME = {s.name: s for s in SENSORS}
ASPECTS: dict[str, list[str]] = {}
for _s in SENSORS:
    ASPECTS.setdefault(_s.aspect, []).append(_s.name)
