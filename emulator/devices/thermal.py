"""The stuffing box's temperature: a first-order thermal lag of friction heat over the pump room's air.

The packing of the stuffing box rubs on the shaft: its heat rises with speed (and with wear); the
pumped water carries heat away, except when the pump churns against a closed valve or runs dry.
The box's temperature approaches ``ambient + rise`` with time constant ``tau`` (minutes), so it lags
the load: the current jumps at a start, the temperature follows over the next half hour.

Chunk independence: the lag has a state, but its memory fades as ``exp(-t / tau)``. Time is cut into
fixed blocks (aligned to the epoch); the temperatures of a block are always computed by starting one
whole block earlier at that instant's steady state. After a block of at least ``16 tau`` the start's
influence is below ``1e-7`` of a step, and since every block is computed from the same start every
time, a sample's temperature never depends on the range that was asked for.
"""

from __future__ import annotations

import math

import numpy as np

BLOCK_SECONDS = 4 * 3600.0
KELVIN = 273.15  # the recurrence runs on kelvin: all terms positive, no cancellation


def block_steps(cadence_s: float, tau: float) -> int:
    """Samples per thermal block: at least four hours and at least 16 time constants."""
    return max(1, math.ceil(max(BLOCK_SECONDS, 16 * tau) / cadence_s))


def lag(u: np.ndarray, alpha: float) -> np.ndarray:
    """``y[i] = alpha * y[i-1] + (1 - alpha) * u[i]`` with ``y[-1] = u[0]`` (steady at the start), computed
    a sub-block at a time in closed form: ``y = a^i (y0 + sum (1-a) u_j / a^j)``. Sub-blocks are short
    enough that ``a^-n`` stays far from overflow."""
    n = len(u)
    out = np.empty(n)
    if n == 0:
        return out
    x = u + KELVIN
    span = max(1, min(4096, int(300.0 / max(-math.log(alpha), 1e-12))))
    powers = alpha ** np.arange(1, span + 1)
    y0 = x[0]
    for lo in range(0, n, span):
        hi = min(n, lo + span)
        p = powers[:hi - lo]
        block = p * (y0 + np.cumsum((1.0 - alpha) * x[lo:hi] / p))
        out[lo:hi] = block
        y0 = block[-1]
    return out - KELVIN
