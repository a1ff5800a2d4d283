"""Random numbers that are a pure function of (seed, asset, sample index).

Why counter-based: the feeder writes history in chunks, newest day first, and live data one tick at
a time; the points must not depend on how the range was cut. Each block of ``BLOCK`` samples draws
its numbers from its own Philox stream, keyed by the asset's key and the block's index, so any
sample's noise is found by generating its block alone. Each asset's key comes from the seed and the
asset id (not from its position in a list), so adding a pump leaves the other pumps' data as it was.
"""

from __future__ import annotations

import hashlib

import numpy as np

BLOCK = 4096  # samples per random block
_INDEX_BITS = 56

# What a stream is for (the top byte of the low key word): independent streams per purpose.
NOISE, SCHEDULE, SPEC, WEATHER = 1, 2, 3, 4


def asset_key(seed: int, asset_id: str) -> int:
    """A 64-bit key of one asset: SHA-256 of the seed and the id (stable across numpy versions)."""
    digest = hashlib.sha256(f"mindsphere-emulator:pump:{seed}:{asset_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def generator(key: int, purpose: int, index: int) -> np.random.Generator:
    """The Philox stream of one (asset, purpose, index): e.g. the noise of block 7, the schedule of day 19000."""
    low = (purpose << _INDEX_BITS) | (index & ((1 << _INDEX_BITS) - 1))
    return np.random.Generator(np.random.Philox(key=(key << 64) | low))


def normals(key: int, k0: int, k1: int, channels: int) -> np.ndarray:
    """Standard normal numbers of samples ``[k0, k1)``, shape ``(k1 - k0, channels)``: each block is drawn
    whole and cut, so a sample's numbers do not depend on the range asked for."""
    out = np.empty((max(k1 - k0, 0), channels))
    if k1 <= k0:
        return out
    for block in range(k0 // BLOCK, (k1 - 1) // BLOCK + 1):
        drawn = generator(key, NOISE, block).standard_normal((BLOCK, channels))
        lo, hi = max(k0, block * BLOCK), min(k1, (block + 1) * BLOCK)
        out[lo - k0:hi - k0] = drawn[lo - block * BLOCK:hi - block * BLOCK]
    return out


def uniforms(key: int, purpose: int, index: int, count: int) -> np.ndarray:
    """``count`` numbers in [0, 1) of one (asset, purpose, index), e.g. the jitter of one day's schedule."""
    return generator(key, purpose, index).random(count)
