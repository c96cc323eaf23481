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
def count_block(lc, table, strata, use_strata, area, row_constant, keys, run_row, run_c0, run_c1,
                run_zone, b_row, b_col, b_zone, b_area, ns, ncls, out):
    """Add the areas of one block's cells into ``out`` (int64, shape ((k+1)·ns·ncls,)).

    lc: land-cover block of unsigned integers (see :func:`unsigned`); class index = table[lc] (uint32).
    strata: unsigned stratum index per cell when ``use_strata``, else zeros of shape (1, block width); area:
    int64 cm² per cell (may be a broadcast).
    ``row_constant``: every cell of a row has the same area (geographic grids), so a run's cells are counted
    per key first (four interleaved counters, which keeps the loop from waiting on its own stores) and each
    key adds count × area once per run; otherwise every cell adds its own area to four interleaved sums per bin
    (projected grids; interleaved for the same reason), added to ``out`` at the run's end. ``keys``
    (:func:`run_keys`) says what is counted: the raw code of a 1-byte land cover (no class lookup per cell) or
    the class bin.
    Runs: cells [run_c0, run_c1) of row run_row belong wholly to local zone run_zone.
    Boundary cells: (b_row, b_col) add b_area cm² (their covered fraction of the cell) to local zone b_zone.
    Rows are read as 1-D views and indexed with unsigned values, and each run picks its counting loop once (a
    branch per cell, or a signed index with numba's negative-index check, costs several times as much; see
    benchmarks/README.md).
    """
    by_code, stride, key_bin, flush = keys
    per_zone = ns * ncls
    nf = flush.shape[0]
    hist = np.zeros((key_bin.shape[0], 4), dtype=np.int64)
    acc = np.zeros((per_zone, 4), dtype=np.int64)  # per-cell areas of one run, four interleaved sums per bin
    for k in range(run_row.shape[0]):
        r = run_row[k]
        row = lc[r]
        srow = strata[r] if use_strata else strata[0]
        base = run_zone[k] * per_zone
        c, end = run_c0[k], run_c1[k]
        if not row_constant:
            _add_areas(row, srow, area[r], c, end, acc, table, use_strata, ncls)
            for b in range(per_zone):
                total = acc[b, 0] + acc[b, 1] + acc[b, 2] + acc[b, 3]
                if total:
                    out[base + b] += total
                    acc[b, 0] = 0
                    acc[b, 1] = 0
                    acc[b, 2] = 0
                    acc[b, 3] = 0
            continue
        if by_code and not use_strata:
            _count_raw(row, c, end, hist)
        else:
            _count_keyed(row, srow, c, end, hist, table, by_code, stride)
        # add count × the row's cell area per key and zero the counters: the keys expected first, then, if some
        # cells are left (an unknown code), every key. Written out here: as a called function it is markedly
        # slower (benchmarks/README.md).
        a = area[r, run_c0[k]]
        left = end - run_c0[k]
        for i in range(nf + key_bin.shape[0]):
            if i < nf:
                key = flush[i]
            elif left:
                key = i - nf
            else:
                break
            n = hist[key, 0] + hist[key, 1] + hist[key, 2] + hist[key, 3]
            if n:
                out[base + key_bin[key]] += n * a
                hist[key, 0] = 0
                hist[key, 1] = 0
                hist[key, 2] = 0
                hist[key, 3] = 0
                left -= n
    for k in range(b_row.shape[0]):
        r = b_row[k]
        c = b_col[k]
        b = b_zone[k] * per_zone + table[lc[r, c]]
        if use_strata:
            b += strata[r, c] * ncls
        out[b] += b_area[k]


@njit(nogil=True, cache=True, inline="always")
def _count_raw(row, c, end, hist):
    """Count the raw codes of cells [c, end) of ``row`` in four interleaved counters ``hist[key, 0:4]``."""
    while c + 4 <= end:
        for q in range(4):
            hist[row[c + q], q] += 1
        c += 4
    for c in range(c, end):
        hist[row[c], 0] += 1


@njit(nogil=True, cache=True, inline="always")
def _count_keyed(row, srow, c, end, hist, table, by_code, stride):
    """Count the keys (raw code or class index, + stride × stratum) of cells [c, end) like :func:`_count_raw`."""
    while c + 4 <= end:
        for q in range(4):
            v = row[c + q]
            key = np.uint64(v) if by_code else np.uint64(table[v])
            hist[key + srow[c + q] * stride, q] += 1
        c += 4
    for c in range(c, end):
        v = row[c]
        key = np.uint64(v) if by_code else np.uint64(table[v])
        hist[key + srow[c] * stride, 0] += 1


@njit(nogil=True, cache=True, inline="always")
def _add_areas(row, srow, arow, c, end, acc, table, use_strata, ncls):
    """Add the area of every cell [c, end) of ``row`` to its bin (class + ncls × stratum) of ``acc[bin, 0:4]``."""
    if use_strata:
        while c + 4 <= end:
            for q in range(4):
                acc[table[row[c + q]] + srow[c + q] * ncls, q] += arow[c + q]
            c += 4
        for c in range(c, end):
            acc[table[row[c]] + srow[c] * ncls, 0] += arow[c]
        return
    while c + 4 <= end:
        for q in range(4):
            acc[table[row[c + q]], q] += arow[c + q]
        c += 4
    for c in range(c, end):
        acc[table[row[c]], 0] += arow[c]


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
        return True, np.uint64(stride), key_bin, flush
    key_bin = np.arange(ns * ncls, dtype=np.int64)
    return False, np.uint64(ncls), key_bin, key_bin


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


def unsigned(block: np.ndarray) -> np.ndarray:
    """An integer block viewed as the unsigned type of its size (int8 -1 is read as 255), as the kernels index."""
    return block.view(block.dtype.str.replace("i", "u")) if block.dtype.kind == "i" else block


def class_table(lut, dtype: np.dtype) -> np.ndarray:
    """uint32 table of class indices for integer dtypes of ≤ 2 bytes: ``table[unsigned(block)]`` is the class
    index of every cell."""
    info = np.iinfo(dtype)
    table = np.full(int(info.max) - int(info.min) + 1, lut.unknown_index, dtype=np.uint32)
    mask = table.shape[0] - 1
    for i, code in enumerate(lut.codes):
        if info.min <= code <= info.max:
            table[int(code) & mask] = i
    if lut.nodata is not None and info.min <= lut.nodata <= info.max:
        table[int(lut.nodata) & mask] = lut.nodata_index
    return table


@njit(cache=True)
def _ping(x):
    return x + 1


def _set_up_numba() -> None:
    """Load numba's code generator by calling a tiny cached kernel.

    numba's first compile imports scipy.linalg (a noticeable share of a crosstab's start-up; see
    benchmarks/README.md) only to probe for BLAS, which no gep kernel uses. The probe is answered "absent"
    while this runs (numba then computes np.correlate/np.convolve without BLAS in this process); the module
    is importable again right after.
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

    The first call of any compiled kernel in a process is slow (numba sets up its code generator, even
    when the kernel comes from the on-disk cache; see :func:`_set_up_numba`). Started before reading the
    regions, this overlaps with file reading and GEOS work, which release the GIL.
    """
    thread = threading.Thread(target=_set_up_numba, name="gep-numba-warm-up", daemon=True)
    thread.start()
    return thread
