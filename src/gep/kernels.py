"""Compiled inner loops of the area kernel (numba, no GIL, cached on disk).

One pass per block over the cells of the interior runs only (cells outside every zone are never touched),
plus the boundary cells; each cell adds its area in integer cm² to its (zone, stratum, class) bin. Integer
addition makes the sums exact and independent of order.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def count_block(lc, table, offset, strata, use_strata, area, run_row, run_c0, run_c1, run_zone,
                b_row, b_col, b_zone, b_area, ns, ncls, out):
    """Add the areas of one block's cells into ``out`` (int64, shape ((k+1)·ns·ncls,)).

    lc: land-cover block (any integer dtype); class index = table[lc - offset].
    strata: stratum index per cell (used when ``use_strata``); area: int64 cm² per cell (may be a broadcast).
    Runs: cells [run_c0, run_c1) of row run_row belong wholly to local zone run_zone.
    Boundary cells: (b_row, b_col) add b_area cm² (their covered fraction of the cell) to local zone b_zone.
    """
    per_zone = ns * ncls
    for k in range(run_row.shape[0]):
        r = run_row[k]
        base = run_zone[k] * per_zone
        for c in range(run_c0[k], run_c1[k]):
            b = base + table[lc[r, c] - offset]
            if use_strata:
                b += strata[r, c] * ncls
            out[b] += area[r, c]
    for k in range(b_row.shape[0]):
        r = b_row[k]
        c = b_col[k]
        b = b_zone[k] * per_zone + table[lc[r, c] - offset]
        if use_strata:
            b += strata[r, c] * ncls
        out[b] += b_area[k]


@njit(nogil=True, cache=True)
def sum_block(values, valid, area, run_row, run_c0, run_c1, run_zone, b_row, b_col, b_zone, b_frac, out):
    """Σ value × area and Σ area of valid cells per local zone (float64; ``out`` shape (k+1, 2))."""
    for k in range(run_row.shape[0]):
        r = run_row[k]
        z = run_zone[k]
        for c in range(run_c0[k], run_c1[k]):
            if valid[r, c]:
                a = area[r, c]
                out[z, 0] += values[r, c] * a
                out[z, 1] += a
    for k in range(b_row.shape[0]):
        r = b_row[k]
        c = b_col[k]
        if valid[r, c]:
            a = area[r, c] * b_frac[k]
            out[b_zone[k], 0] += values[r, c] * a
            out[b_zone[k], 1] += a


def class_table(lut, dtype: np.dtype) -> tuple[np.ndarray, int]:
    """(table, offset) so that ``table[code - offset]`` is the class index, for integer dtypes of ≤ 2 bytes."""
    info = np.iinfo(dtype)
    table = np.full(int(info.max) - int(info.min) + 1, lut.unknown_index, dtype=np.int64)
    for i, code in enumerate(lut.codes):
        if info.min <= code <= info.max:
            table[int(code) - int(info.min)] = i
    if lut.nodata is not None and info.min <= lut.nodata <= info.max:
        table[int(lut.nodata) - int(info.min)] = lut.nodata_index
    return table, int(info.min)


@njit(cache=True)
def suffix_sums(values, group_start):
    """Σ of the values AFTER each element within its group (groups are runs flagged by ``group_start``).

    Summed from each group's own end, so a group's result never depends on what other groups hold (a global
    cumulative sum would carry rounding from earlier groups).
    """
    n = values.shape[0]
    out = np.zeros(n)
    acc = 0.0
    for i in range(n - 1, -1, -1):
        out[i] = acc
        if group_start[i]:
            acc = 0.0
        else:
            acc += values[i]
    return out
