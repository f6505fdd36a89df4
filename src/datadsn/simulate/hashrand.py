"""Counter-based random numbers: uniform draws keyed by (seed, salt, entity, month).

Month-by-month generation needs per contract-month randomness that does not depend on the
order or the batch in which months are produced; a keyed hash gives exactly that.
"""

from __future__ import annotations

import zlib

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (wrapping uint64 arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def uniform(
    seed: int, salt: str, entity: np.ndarray | int, month: int | np.ndarray = 0
) -> np.ndarray:
    """Deterministic floats in [0, 1) for each entity (and month)."""
    key = np.uint64((seed * 1_000_003 + zlib.crc32(salt.encode())) % 2**63)
    with np.errstate(over="ignore"):
        x = _mix(np.asarray(entity, dtype=np.uint64) * _GOLD + key)
        x = _mix(x + (np.asarray(month, dtype=np.int64) + 1000).astype(np.uint64) * _GOLD)
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)
