"""Depression filling of a DEM before routing: Priority-Flood+ε (Barnes, Lehman & Mulla 2014).

Barnes R., Lehman C., Mulla D. (2014), "Priority-flood: An optimal depression-filling and watershed-labeling
algorithm for digital elevation models", Computers & Geosciences 62: 117–127, Algorithm 3 (Priority-Flood+ε).

The flood starts from every valid cell on the DEM's edge or next to nodata (these drain out of the DEM) and
grows inwards, always from the lowest cell reached so far (a binary heap keyed on elevation, ties first in,
first out). A neighbour n of the cell c being processed that is not higher than the next float32 above
z(c) is raised to exactly that value (``nextafter(z(c), +∞)``) and processed next, in first-in first-out
order: pits and depressions are filled up to their spill level, and every flat (a filled depression or a
flat already in the DEM) gets the smallest float32 slope towards the cell it drains through. So after
filling, every valid cell not on the edge has a strictly lower neighbour, and the strict-downhill D8 rule of
:func:`gep.hydrology.d8.d8_codes` routes every cell to the edge: flats drain towards their outlet along the
flood's breadth-first order, deterministically (docs/methods.md §4.2.5).

The raise on a flat is one float32 step per cell of path length (6·10⁻⁵ m per cell at 1000 m, 2.4·10⁻⁴ m
at 4000 m): negligible in the slope (S uses sin θ). The filling works on the whole DEM in memory (the
padded float32 DEM, 4 B/cell, a closed flag, 1 B/cell, and the two queues, whose size is the flood's front,
≤ 16 B per queued cell).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from gep.hydrology.d8 import _DC, _DR


@dataclass(frozen=True)
class FillStats:
    """What the filling changed: ``sinks`` cells where D8 flow ended before filling (no strictly lower
    neighbour, all 8 neighbours valid: pits and flat cells), ``depressions`` depressions filled,
    ``cells_filled`` cells raised because they lay below their spill level, ``cells_flat`` cells raised by
    float32 steps only (flats given a drainage slope), ``max_fill_m`` the largest raise (m)."""

    sinks: int
    depressions: int
    cells_filled: int
    cells_flat: int
    max_fill_m: float

    def as_dict(self) -> dict:
        return {"sink_cells": self.sinks, "depressions_filled": self.depressions, "cells_filled": self.cells_filled,
                "flat_cells_routed": self.cells_flat, "max_fill_m": self.max_fill_m}


@njit(cache=True, nogil=True)
def count_sinks(zp):
    """Number of inner cells of ``zp`` (1-cell NaN halo) whose 8 neighbours are all valid and none is lower."""
    h = zp.shape[0] - 2
    w = zp.shape[1] - 2
    n = 0
    for i in range(1, h + 1):
        for j in range(1, w + 1):
            zc = zp[i, j]
            if np.isnan(zc):
                continue
            pit = True
            for k in range(8):
                zn = zp[i + _DR[k], j + _DC[k]]
                if np.isnan(zn) or zn < zc:
                    pit = False
                    break
            if pit:
                n += 1
    return n


@njit(cache=True, nogil=True)
def _up(z):
    """The next float32 above ``z`` (``np.nextafter(z, +inf)`` for finite float32)."""
    return np.nextafter(z, np.float32(np.inf))


@njit(cache=True, nogil=True)
def _less(za, sa, zb, sb):
    return za < zb or (za == zb and sa < sb)


@njit(cache=True, nogil=True)
def _heap_push(hz, hs, hi, size, z, s, i):
    """Push (z, s, i) onto the heap of ``size`` entries (arrays large enough); returns the new size."""
    c = size
    while c > 0:
        p = (c - 1) // 2
        if not _less(z, s, hz[p], hs[p]):
            break
        hz[c], hs[c], hi[c] = hz[p], hs[p], hi[p]
        c = p
    hz[c], hs[c], hi[c] = z, s, i
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(hz, hs, hi, size):
    """Remove the smallest entry; returns (its cell index, the new size)."""
    top = hi[0]
    size -= 1
    z, s, i = hz[size], hs[size], hi[size]
    c = 0
    while True:
        a = 2 * c + 1
        if a >= size:
            break
        b = a + 1
        if b < size and _less(hz[b], hs[b], hz[a], hs[a]):
            a = b
        if not _less(hz[a], hs[a], z, s):
            break
        hz[c], hs[c], hi[c] = hz[a], hs[a], hi[a]
        c = a
    if size > 0:
        hz[c], hs[c], hi[c] = z, s, i
    return top, size


@njit(cache=True, nogil=True)
def fill_eps(zp):
    """Priority-Flood+ε on ``zp`` (float32, 1-cell NaN halo; NaN = nodata), in place.

    Returns (depressions filled, cells filled below the flood's level, flat cells raised by float32 steps only,
    largest raise in the DEM's unit). A depression is counted when the flood first enters it from the cell
    it spills over (a depression inside another counts with it).
    """
    h = zp.shape[0]
    w = zp.shape[1]
    n = h * w
    flat = zp.ravel()
    closed = np.zeros(n, dtype=np.uint8)
    cap = 4 * (h + w) + 1024
    hz = np.empty(cap, dtype=np.float32)
    hs = np.empty(cap, dtype=np.int64)
    hi = np.empty(cap, dtype=np.int64)
    size = 0
    seq = 0
    pit = np.empty(cap, dtype=np.int64)  # ring buffer (FIFO)
    p_head = 0
    p_len = 0
    # seeds: valid cells with a NaN neighbour (the halo or nodata) drain out of the DEM
    for c in range(n):
        if np.isnan(flat[c]):
            closed[c] = 1
    for r in range(1, h - 1):
        for q in range(1, w - 1):
            c = r * w + q
            if closed[c]:
                continue
            edge = False
            for k in range(8):
                if np.isnan(flat[c + _DR[k] * w + _DC[k]]):
                    edge = True
                    break
            if edge:
                closed[c] = 1
                if size == hz.shape[0]:
                    hz = np.concatenate((hz, np.empty(size, dtype=np.float32)))
                    hs = np.concatenate((hs, np.empty(size, dtype=np.int64)))
                    hi = np.concatenate((hi, np.empty(size, dtype=np.int64)))
                size = _heap_push(hz, hs, hi, size, flat[c], seq, c)
                seq += 1
    filled = 0
    flats = 0
    depressions = 0
    max_raise = 0.0
    level = -np.inf  # the flood's level: the elevation of the last cell taken from the heap
    while size > 0 or p_len > 0:
        from_heap = p_len == 0
        if not from_heap:
            c = pit[p_head]
            p_head += 1
            if p_head == pit.shape[0]:
                p_head = 0
            p_len -= 1
        else:
            c, size = _heap_pop(hz, hs, hi, size)
            level = flat[c]
        zc = flat[c]
        up = _up(zc)
        entered = False
        for k in range(8):
            nb = c + _DR[k] * w + _DC[k]
            if closed[nb]:
                continue
            closed[nb] = 1
            zn = flat[nb]
            if zn <= up:
                if zn < level:
                    filled += 1
                    if from_heap and not entered:
                        depressions += 1
                        entered = True
                else:
                    flats += 1
                raise_by = np.float64(up) - np.float64(zn)
                if raise_by > max_raise:
                    max_raise = raise_by
                flat[nb] = up
                if p_len == pit.shape[0]:  # grow the ring buffer, unrolling it
                    bigger = np.empty(2 * p_len, dtype=np.int64)
                    for t in range(p_len):
                        bigger[t] = pit[(p_head + t) % p_len]
                    pit = bigger
                    p_head = 0
                pit[(p_head + p_len) % pit.shape[0]] = nb
                p_len += 1
            else:
                if size == hz.shape[0]:
                    hz = np.concatenate((hz, np.empty(size, dtype=np.float32)))
                    hs = np.concatenate((hs, np.empty(size, dtype=np.int64)))
                    hi = np.concatenate((hi, np.empty(size, dtype=np.int64)))
                size = _heap_push(hz, hs, hi, size, zn, seq, nb)
                seq += 1
    return depressions, filled, flats, max_raise


def fill_depressions(zp: np.ndarray) -> FillStats:
    """Fill the depressions of a padded DEM ``zp`` (float32, 1-cell NaN halo, NaN = nodata) in place.

    Every valid cell not next to NaN then has a strictly lower neighbour (module docstring). The sinks are
    counted before filling.
    """
    if zp.dtype != np.float32 or zp.ndim != 2:
        raise ValueError("fill_depressions needs a 2-D float32 array with a NaN halo")
    sinks = int(count_sinks(zp))
    depressions, cells, flats, max_raise = fill_eps(zp)
    return FillStats(sinks, int(depressions), int(cells), int(flats), float(max_raise))


def filled(z: np.ndarray) -> tuple[np.ndarray, FillStats]:
    """A filled copy (float32) of the DEM array ``z`` (NaN = nodata) and what the filling changed."""
    zp = np.pad(np.asarray(z, dtype=np.float32), 1, mode="constant", constant_values=np.nan)
    stats = fill_depressions(zp)
    return zp[1:-1, 1:-1].copy(), stats
