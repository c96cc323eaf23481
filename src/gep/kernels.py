"""Compiled inner loops of the area kernel (numba, no GIL, cached on disk).

One pass per block over the cells of the interior runs only (cells outside every zone are never touched),
plus the boundary cells; each cell adds its area in integer cm² to its (zone, stratum, class) bin. Integer
addition makes the sums exact and independent of order.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def count_block(lc, table, offset, strata, use_strata, area, row_constant, keys, run_row, run_c0, run_c1,
                run_zone, b_row, b_col, b_zone, b_area, ns, ncls, out):
    """Add the areas of one block's cells into ``out`` (int64, shape ((k+1)·ns·ncls,)).

    lc: land-cover block (any integer dtype); class index = table[lc - offset].
    strata: stratum index per cell (used when ``use_strata``); area: int64 cm² per cell (may be a broadcast).
    ``row_constant``: every cell of a row has the same area (geographic grids), so a run's cells are counted
    per key first (four interleaved counters, which keeps the loop from waiting on its own stores) and each
    key adds count × area once per run; otherwise every cell adds its own area. ``keys`` (:class:`RunKeys`)
    says what is counted: the raw code of a 1-byte land cover (no class lookup per cell) or the class bin.
    Runs: cells [run_c0, run_c1) of row run_row belong wholly to local zone run_zone.
    Boundary cells: (b_row, b_col) add b_area cm² (their covered fraction of the cell) to local zone b_zone.
    """
    by_code, stride, key_bin, flush = keys
    per_zone = ns * ncls
    hist = np.zeros((4, key_bin.shape[0]), dtype=np.int64)
    for k in range(run_row.shape[0]):
        r = run_row[k]
        base = run_zone[k] * per_zone
        c, end = run_c0[k], run_c1[k]
        if not row_constant:
            for c in range(c, end):
                b = base + table[lc[r, c] - offset]
                if use_strata:
                    b += strata[r, c] * ncls
                out[b] += area[r, c]
            continue
        while c + 4 <= end:
            for q in range(4):
                key = (lc[r, c + q] - offset) if by_code else table[lc[r, c + q] - offset]
                if use_strata:
                    key += strata[r, c + q] * stride
                hist[q, key] += 1
            c += 4
        for c in range(c, end):
            key = (lc[r, c] - offset) if by_code else table[lc[r, c] - offset]
            if use_strata:
                key += strata[r, c] * stride
            hist[0, key] += 1
        a = area[r, run_c0[k]]
        left = run_c1[k] - run_c0[k]
        for key in flush:  # the keys expected here; any other (an unknown code) is found by the scan below
            left -= _flush_key(hist, key, out, base + key_bin[key], a)
        if left:
            for key in range(key_bin.shape[0]):
                _flush_key(hist, key, out, base + key_bin[key], a)
    for k in range(b_row.shape[0]):
        r = b_row[k]
        c = b_col[k]
        b = b_zone[k] * per_zone + table[lc[r, c] - offset]
        if use_strata:
            b += strata[r, c] * ncls
        out[b] += b_area[k]


@njit(nogil=True, cache=True, inline="always")
def _flush_key(hist, key, out, bin_, a):
    """Add the count of ``key`` (Σ of its four counters) × area ``a`` to ``out[bin_]``, zero the counters and
    return the count."""
    n = hist[0, key] + hist[1, key] + hist[2, key] + hist[3, key]
    if n:
        out[bin_] += n * a
        hist[0, key] = 0
        hist[1, key] = 0
        hist[2, key] = 0
        hist[3, key] = 0
    return n


def run_keys(table: np.ndarray, itemsize: int, ns: int, ncls: int, unknown: int) -> tuple:
    """What :func:`count_block` counts per run: ``(by_code, stride, key_bin, flush)``.

    1-byte land cover: the key is the raw code (+ 256 × stratum), ``key_bin`` maps it to its (stratum, class)
    bin and ``flush`` lists the keys of the scheme's codes and nodata. Wider codes: the key is the class bin
    itself (+ ncls × stratum).
    """
    if itemsize == 1:
        stride = len(table)  # 256
        key_bin = (np.arange(ns)[:, None] * ncls + table[None, :]).ravel().astype(np.int64)
        known = np.flatnonzero(table != unknown)
        flush = (np.arange(ns)[:, None] * stride + known[None, :]).ravel().astype(np.int64)
        return True, stride, key_bin, flush
    key_bin = np.arange(ns * ncls, dtype=np.int64)
    return False, ncls, key_bin, key_bin


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
def _ping(x):
    return x + 1


def _set_up_numba() -> None:
    """Load numba's code generator by calling a tiny cached kernel.

    numba's first compile imports scipy.linalg (0.15–0.2 s, a tenth of the 20,000² crosstab) only to probe for
    BLAS, which no gep kernel uses. The probe is answered "absent" while this runs (numba then computes
    np.correlate/np.convolve without BLAS in this process); the module is importable again right after.
    """
    name = "scipy.linalg.cython_blas"
    block = name not in sys.modules
    if block:
        sys.modules[name] = None  # an import of it now raises ImportError, which numba's probe expects
    try:
        _ping(1)
    finally:
        if block and name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]


def warm_up() -> threading.Thread:
    """Start loading numba's compiler in a background thread and return the thread.

    The first call of any compiled kernel in a process costs ~0.1 s (numba sets up its code generator, even
    when the kernel comes from the on-disk cache; see :func:`_set_up_numba`). Started before reading the
    regions, this overlaps with file reading and GEOS work, which release the GIL.
    """
    thread = threading.Thread(target=_set_up_numba, name="gep-numba-warm-up", daemon=True)
    thread.start()
    return thread
