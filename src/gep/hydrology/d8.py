"""The D8 flow-direction rule (steepest downhill neighbour), shared by whole-DEM and tiled routing."""

from __future__ import annotations

import numpy as np
from numba import njit

#: neighbour offsets (row, col) in the order of the D8 codes 0..7: N, NE, E, SE, S, SW, W, NW
OFFSETS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))

_DR = np.array([o[0] for o in OFFSETS], dtype=np.int64)
_DC = np.array([o[1] for o in OFFSETS], dtype=np.int64)

def d8_distances(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Distance (m) from a cell to each of its 8 neighbours (:data:`OFFSETS` order), per row: shape (rows, 8)."""
    dx = np.asarray(dx, dtype=np.float64)
    dy = np.asarray(dy, dtype=np.float64)
    return np.stack([np.sqrt((dc * dx) ** 2 + (dr * dy) ** 2) for dr, dc in OFFSETS], axis=1)


@njit(cache=True, nogil=True, error_model="numpy")
def d8_codes(zp, dist):
    """D8 direction of every inner cell of ``zp``: index k into :data:`OFFSETS`, or −1 (no lower neighbour).

    ``zp`` (float32, m) holds the cells with a 1-cell halo on every side (NaN = nodata or outside the DEM);
    ``dist`` (m) is :func:`d8_distances` of the inner rows. The drop per metre is computed in float64; the
    steepest strictly positive drop wins, ties go to the first direction in OFFSETS order and NaN never wins.
    This kernel is the one D8 rule of the package (whole-DEM and tiled accumulation both call it).
    """
    h = zp.shape[0] - 2
    w = zp.shape[1] - 2
    out = np.full((h, w), -1, dtype=np.int8)
    for i in range(h):
        for j in range(w):
            zc = np.float64(zp[i + 1, j + 1])
            best = 0.0
            best_k = -1
            for k in range(8):
                drop = (zc - np.float64(zp[i + 1 + _DR[k], j + 1 + _DC[k]])) / dist[i, k]
                if drop > best:  # NaN compares False: nodata neighbours and cells never win
                    best = drop
                    best_k = k
            out[i, j] = best_k
    return out
