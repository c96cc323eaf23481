"""D8 flow accumulation tile by tile, exact across tiles, with memory bounded by the tile size.

The method is Barnes (2017), "Parallel non-divergent flow accumulation for trillion cell digital elevation
models on desktops or clusters", Environmental Modelling & Software 92: 202–212, adapted to a single process
that reads the DEM twice instead of keeping per-tile state. The DEM is cut into tiles of T × T cells, each
read with a 1-cell halo (NaN outside the DEM), so the D8 receivers of a tile's cells, which may lie in a
neighbouring tile, are those of the whole DEM (:func:`gep.hydrology.ls_factor.d8_codes`, the package's one
D8 rule). The accumulated weight is the cell area of each row (m²).

1. **Pass 1 (per tile).** Receivers; accumulation of the tile's own cell areas with no inflow from outside
   (Kahn's algorithm with a plain queue, numba); for every *perimeter* cell of the tile: its local
   accumulation, its receiver when that lies in another tile (global cell index row·W + col, else −1), and
   its *link*, the first perimeter cell of the same tile strictly downstream along its flow path inside the
   tile (``EXIT`` when the path leaves the tile, ``NONE`` when it ends in a pit, a flat or at nodata inside).
   Links are found in O(tile) by walking the queue order backwards (downstream cells first). Only these
   per-perimeter arrays are kept (24 B per perimeter cell, i.e. ~4·T·24 B per tile).
2. **Global step.** On the graph of all perimeter cells (edges d → receiver across tiles and q → link within
   a tile; every node has at most one outgoing edge and flow is strictly downhill, so it is a forest):
   inj(c) = Σ total(d) over cells d of other tiles draining into c, offset(c) = inj(c) + Σ offset(q) over the
   same tile's perimeter cells q linked to c, total(c) = local(c) + offset(c), solved in topological order.
   inj is what flows into the tile at its entry cells from the rest of the DEM.
3. **Pass 2 (per tile).** The tile is read again and its accumulation recomputed with inj added at its
   entry cells: this is the exact whole-DEM accumulation of the tile's cells, handed to the caller's
   ``finish`` (e.g. LS of the tile) in the same worker thread.

Both passes process tiles in parallel on ``workers`` threads (the numba kernels release the GIL); each tile's
arithmetic is the same whatever the number of workers, and results are handed back in tile order, so the
output is bit-identical for any ``workers``. At most ``workers + 1`` tiles are in flight (``workers`` being
computed, one finished and waiting) plus the one the caller holds.

Memory per tile of n = (T+2)² cells while it is computed: a float32 halo block, int8 directions, uint8
in-degree, float64 accumulation, int32 queue order and (pass 1) int32 link scratch (22 B/cell), plus the
reader's transient copies of a masked rasterio read, plus what ``finish`` allocates. Peak memory is
~``workers`` times that, plus what ``finish`` returns for the (at most two) finished tiles waiting or held by
the caller. The perimeter graph grows with the perimeter cells at the global step (~4·H·W/T cells), not with
the DEM's area. Measured figures: benchmarks/README.md.

Accumulation is float64; only the summation order differs from the whole-DEM
:func:`gep.hydrology.ls_factor.flow_accumulation` (relative differences ~1e-15).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
from numba import njit

from gep.hydrology.d8 import _DC, _DR, d8_codes, d8_distances

#: Link of a perimeter cell whose path leaves the tile (through a receiver in another tile).
EXIT = -1
#: Link of a perimeter cell whose path ends inside the tile (pit, flat, nodata neighbours only).
NONE = -2

Window = tuple[int, int, int, int]  # r0, r1, c0, c1 (half-open rows and columns of the DEM)
BlockReader = Callable[[int, int, int, int], np.ndarray]
R = TypeVar("R")


# ---------------------------------------------------------------------------------------------------------
# perimeter numbering: row 0, then (left, right) of rows 1..th-2, then row th-1; thin tiles: every cell


@njit(cache=True, nogil=True)
def n_perimeter(th, tw):
    """Number of perimeter cells of a th × tw tile."""
    if th <= 2 or tw <= 2:
        return th * tw
    return 2 * tw + 2 * (th - 2)


@njit(cache=True, nogil=True)
def perimeter_slot(i, j, th, tw):
    """Slot (0 … n_perimeter − 1) of tile cell (i, j), or −1 for an interior cell."""
    if th <= 2 or tw <= 2:
        return i * tw + j
    if i == 0:
        return j
    if i == th - 1:
        return tw + 2 * (th - 2) + j
    if j == 0:
        return tw + 2 * (i - 1)
    if j == tw - 1:
        return tw + 2 * (i - 1) + 1
    return -1


@njit(cache=True, nogil=True)
def perimeter_cell(s, th, tw):
    """(i, j) of perimeter slot ``s`` of a th × tw tile (inverse of :func:`perimeter_slot`)."""
    if th <= 2 or tw <= 2:
        return s // tw, s % tw
    if s < tw:
        return 0, s
    s -= tw
    if s < 2 * (th - 2):
        return 1 + s // 2, 0 if s % 2 == 0 else tw - 1
    return th - 1, s - 2 * (th - 2)


# ---------------------------------------------------------------------------------------------------------
# per-tile kernels


@njit(cache=True, nogil=True)
def _local_receiver(c, code, th, tw):
    """Local flat index of cell c's receiver; −1: none; −2: outside the tile."""
    k = code[c]
    if k < 0:
        return -1
    i = c // tw + _DR[k]
    j = c % tw + _DC[k]
    if i < 0 or i >= th or j < 0 or j >= tw:
        return -2
    return i * tw + j


@njit(cache=True, nogil=True)
def _push_sources(indeg, queue):
    """Start of Kahn's algorithm: put every node without donors (in-degree 0) into ``queue``; return how many."""
    tail = 0
    for c in range(indeg.shape[0]):
        if indeg[c] == 0:
            queue[tail] = c
            tail += 1
    return tail


@njit(cache=True, nogil=True)
def tile_accumulate(code, w_rows, inj):
    """Accumulation (float64, weight units) of a tile's cells and the topological order of the cells.

    ``code`` (th, tw) int8: D8 directions (:func:`d8_codes`); ``w_rows`` (th,): the weight of a cell of each
    row (m²); ``inj`` (n_perimeter,): inflow from outside the tile added at each perimeter cell (m²).
    Returns (acc (th·tw,), order (th·tw,) int32: every cell after all its donors).
    """
    th, tw = code.shape
    n = th * tw
    flat = code.ravel()
    indeg = np.zeros(n, dtype=np.uint8)
    acc = np.empty(n, dtype=np.float64)
    for c in range(n):
        acc[c] = w_rows[c // tw]
        r = _local_receiver(c, flat, th, tw)
        if r >= 0:
            indeg[r] += 1
    for s in range(inj.shape[0]):
        if inj[s] != 0.0:
            i, j = perimeter_cell(s, th, tw)
            acc[i * tw + j] += inj[s]
    order = np.empty(n, dtype=np.int32)
    tail = _push_sources(indeg, order)
    head = 0
    while head < tail:
        c = order[head]
        head += 1
        r = _local_receiver(c, flat, th, tw)
        if r >= 0:
            acc[r] += acc[c]
            indeg[r] -= 1
            if indeg[r] == 0:
                order[tail] = r
                tail += 1
    if tail != n:
        raise ValueError("flow graph of a tile has a cycle")
    return acc, order


@njit(cache=True, nogil=True)
def tile_perimeter(code, w_rows, r0, c0, width):
    """Pass 1 of one tile: (local accumulation, cross-tile receiver, link) of each perimeter slot.

    ``r0``, ``c0``: the tile's first DEM row/column; ``width``: the DEM's width. The receiver is the global
    cell index (row · width + col) where it lies in another tile, else −1; the link is the slot of the first
    perimeter cell strictly downstream inside the tile, :data:`EXIT` or :data:`NONE`.
    """
    th, tw = code.shape
    n = th * tw
    npr = n_perimeter(th, tw)
    acc, order = tile_accumulate(code, w_rows, np.zeros(npr))
    flat = code.ravel()
    nxt = np.empty(n, dtype=np.int32)
    for t in range(n - 1, -1, -1):  # downstream cells first
        c = order[t]
        r = _local_receiver(c, flat, th, tw)
        if r == -1:
            nxt[c] = NONE
        elif r == -2:
            nxt[c] = EXIT
        else:
            s = perimeter_slot(r // tw, r % tw, th, tw)
            nxt[c] = s if s >= 0 else nxt[r]
    local = np.empty(npr, dtype=np.float64)
    rec = np.full(npr, -1, dtype=np.int64)
    link = np.empty(npr, dtype=np.int32)
    for s in range(npr):
        i, j = perimeter_cell(s, th, tw)
        c = i * tw + j
        local[s] = acc[c]
        link[s] = nxt[c]
        if nxt[c] == EXIT:
            k = flat[c]
            rec[s] = np.int64(r0 + i + _DR[k]) * width + (c0 + j + _DC[k])
    return local, rec, link


# ---------------------------------------------------------------------------------------------------------
# global step


@njit(cache=True, nogil=True)
def _perimeter_ids(rec, shape_h, shape_w, tile, n_tile_cols, base):
    """Perimeter id (base of the tile + slot) of global cell indices ``rec`` (−1 stays −1)."""
    out = np.full(rec.shape[0], -1, dtype=np.int64)
    for q in range(rec.shape[0]):
        g = rec[q]
        if g < 0:
            continue
        gr = g // shape_w
        gc = g % shape_w
        ti = gr // tile
        tj = gc // tile
        th = min(tile, shape_h - ti * tile)
        tw = min(tile, shape_w - tj * tile)
        s = perimeter_slot(gr - ti * tile, gc - tj * tile, th, tw)
        if s < 0:
            raise ValueError("cross-tile receiver is not a perimeter cell")
        out[q] = base[ti * n_tile_cols + tj] + s
    return out


@njit(cache=True, nogil=True)
def solve_perimeter(local, succ, cross):
    """Inflow inj (m²) of every perimeter cell from other tiles, by Kahn's algorithm on the perimeter forest.

    ``local``: local accumulation; ``succ``: perimeter id of the one successor (−1: none); ``cross``: True
    where that edge goes to another tile (pass ``total`` = local + offset), False for a link within the tile
    (pass ``offset``).
    """
    n = local.shape[0]
    indeg = np.zeros(n, dtype=np.int32)
    for p in range(n):
        if succ[p] >= 0:
            indeg[succ[p]] += 1
    offset = np.zeros(n, dtype=np.float64)
    inj = np.zeros(n, dtype=np.float64)
    queue = np.empty(n, dtype=np.int64)
    tail = _push_sources(indeg, queue)
    head = 0
    while head < tail:
        p = queue[head]
        head += 1
        s = succ[p]
        if s < 0:
            continue
        if cross[p]:
            v = local[p] + offset[p]
            inj[s] += v
            offset[s] += v
        else:
            offset[s] += offset[p]
        indeg[s] -= 1
        if indeg[s] == 0:
            queue[tail] = s
            tail += 1
    if tail != n:
        raise ValueError("perimeter flow graph has a cycle")
    return inj


# ---------------------------------------------------------------------------------------------------------
# driver


def tile_windows(shape: tuple[int, int], tile: int) -> list[Window]:
    """(r0, r1, c0, c1) of the tiles of a DEM of ``shape`` cells, row-major."""
    h, w = shape
    return [(r0, min(h, r0 + tile), c0, min(w, c0 + tile)) for r0 in range(0, h, tile) for c0 in range(0, w, tile)]


def in_order(fn: Callable[[int], R], n: int, workers: int) -> Iterator[R]:
    """fn(0), …, fn(n − 1), computed on ``workers`` threads and yielded in that order.

    At most ``workers + 1`` calls are in flight (submitted and not yet yielded), which bounds memory. An
    exception raised by a call is re-raised here when its turn comes; the calls not yet started are then
    cancelled and the running ones awaited, also when the caller closes the generator early.
    """
    if workers < 1:
        raise ValueError("workers must be ≥ 1")
    pool = ThreadPoolExecutor(workers, thread_name_prefix="gep-tile")
    pending: deque = deque()
    try:
        for t in range(n):
            pending.append(pool.submit(fn, t))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _window_tuple(window: Window, zb: np.ndarray, acc: np.ndarray) -> tuple[Window, np.ndarray, np.ndarray]:
    return window, zb, acc


def tiled_accumulation(read_block: BlockReader, shape: tuple[int, int], dx: np.ndarray, dy: np.ndarray,
                       weight_rows: np.ndarray, tile: int = 2048, workers: int = 1,
                       finish: Callable[[Window, np.ndarray, np.ndarray], Any] = _window_tuple) -> Iterator[Any]:
    """Exact whole-DEM D8 accumulation, tile by tile: yields ``finish(window, halo block, acc)`` per tile.

    ``read_block(r0, r1, c0, c1)`` returns the elevations (float32, m; NaN = nodata) of rows r0..r1 and
    columns c0..c1 with a 1-cell halo on every side, NaN outside the DEM: shape (r1−r0+2, c1−c0+2).
    ``dx``, ``dy`` (m) and ``weight_rows`` (m², the accumulated weight of a cell) are given per DEM row.
    Each tile is read twice (pass 1 and pass 2, see the module docstring). ``acc`` (float64, m², shape of the
    tile) includes the cell itself and everything upstream of it in the whole DEM; the halo block is
    ``finish``'s to change. By default ``finish`` returns (window, halo block, acc).

    Tiles are computed on ``workers`` threads (:func:`in_order`): ``read_block`` and ``finish`` are called
    from those threads, concurrently when ``workers`` > 1, and must be thread-safe then. Results are yielded
    in tile order (row-major, :func:`tile_windows`) and do not depend on ``workers``.
    """
    if tile < 1:
        raise ValueError("tile must be ≥ 1")
    h, w = shape
    wins = tile_windows(shape, tile)
    n_tile_cols = -(-w // tile) if w else 0
    dist = d8_distances(dx, dy)
    weight_rows = np.asarray(weight_rows, dtype=np.float64)
    counts = np.array([n_perimeter(r1 - r0, c1 - c0) for r0, r1, c0, c1 in wins], dtype=np.int64)
    base = np.zeros(len(wins) + 1, dtype=np.int64)
    np.cumsum(counts, out=base[1:])
    n_all = int(base[-1])
    local = np.empty(n_all, dtype=np.float64)
    rec = np.empty(n_all, dtype=np.int64)
    succ = np.full(n_all, -1, dtype=np.int64)

    def pass1(t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r0, r1, c0, c1 = wins[t]
        code = d8_codes(read_block(r0, r1, c0, c1), dist[r0:r1])
        return tile_perimeter(code, weight_rows[r0:r1], r0, c0, w)

    for t, (loc, rc, link) in enumerate(in_order(pass1, len(wins), workers)):
        lo, hi = base[t], base[t + 1]
        local[lo:hi], rec[lo:hi] = loc, rc
        within = link >= 0
        succ[lo:hi][within] = lo + link[within]
    # global step
    cross = rec >= 0
    rec_id = _perimeter_ids(rec, h, w, tile, n_tile_cols, base)
    del rec
    succ[cross] = rec_id[cross]
    del rec_id
    inj = solve_perimeter(local, succ, cross)
    del local, succ, cross

    def pass2(t: int) -> Any:
        r0, r1, c0, c1 = wins[t]
        zb = read_block(r0, r1, c0, c1)
        code = d8_codes(zb, dist[r0:r1])
        acc, _order = tile_accumulate(code, weight_rows[r0:r1], inj[base[t]:base[t + 1]])
        del code, _order
        return finish(wins[t], zb, acc.reshape(r1 - r0, c1 - c0))

    yield from in_order(pass2, len(wins), workers)


def array_reader(z: np.ndarray) -> BlockReader:
    """A ``read_block`` over an in-memory DEM array (rounded to float32, as a DEM read from file)."""
    zp = np.pad(np.asarray(z, dtype=np.float32), 1, mode="constant", constant_values=np.nan)

    def read_block(r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        return zp[r0:r1 + 2, c0:c1 + 2].copy()

    return read_block


def flow_accumulation_tiled(z: np.ndarray, dx: np.ndarray, dy: np.ndarray, weight_rows: np.ndarray,
                            tile: int, workers: int = 1) -> np.ndarray:
    """Whole-DEM accumulation (float64, flat like :func:`~gep.hydrology.ls_factor.flow_accumulation`) of an
    in-memory DEM computed tile by tile on ``workers`` threads; for tests and comparisons."""
    h, w = z.shape
    acc = np.empty((h, w), dtype=np.float64)
    for (r0, r1, c0, c1), _zb, a in tiled_accumulation(array_reader(z), (h, w), dx, dy, weight_rows, tile,
                                                       workers):
        acc[r0:r1, c0:c1] = a
    return acc.reshape(-1)
