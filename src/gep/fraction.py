"""Exact fraction of each boundary cell covered by a polygon (exactextract-level exactness, vectorised).

A cell that no polygon edge passes through is either wholly inside or wholly outside its polygon, and a
centre-point rasterisation labels it correctly. Only the cells that edges pass through need a fraction. For
those, the covered area follows from Green's theorem: with the winding number w(x, y) of the polygon,

    area(polygon ∩ cell) = ∫∫_cell w dx dy = Σ_edges ∫ clamp(x_edge(y) − c, 0, 1) dy      (pixel units)

for the cell [c, c+1] × [r, r+1]. Splitting every edge at the grid lines gives pieces that each lie in one
cell; a straight piece contributes dy · (x_mid − c) to its own cell and its full dy to every cell left of it
in the same row. So a boundary cell's fraction is (Σ dy of the pieces to its right in its row) +
(Σ dy · (x_mid − c) of its own pieces) — a sort and a cumulative sum, no per-cell geometry.

The same sums give the cells between two boundary cells of a row: their coverage is the Σ dy to their right,
0 or ±1, so each zone's interior is a list of runs (row, first col, end col) — no point-in-polygon tests and
no rasterisation, and interior and boundary cells agree by construction.

Fractions are planar in the grid's own coordinates; the cell's true area comes from :mod:`gep.cellarea`.
(For a geographic grid the area density varies inside a cell by about h·tanφ: < 0.05% of one cell even for
0.05° cells, far below the accuracy targets.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine

from .cellarea import apply_affine
from .kernels import suffix_sums

#: fractions closer than this to 0 are dropped and to 1 are set to 1 (float noise of the cumulative sums)
EPS = 1e-9


@dataclass
class BoundaryCells:
    """Boundary cells of a set of polygons: parallel arrays, sorted by (row, col, zone)."""

    row: np.ndarray  # int64, grid row
    col: np.ndarray  # int64, grid column
    zone: np.ndarray  # int64, index of the polygon in the input
    frac: np.ndarray  # float64, covered fraction of the cell's area, in (0, 1]

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def empty(cls) -> "BoundaryCells":
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), z.copy(), np.zeros(0))

    def take(self, idx) -> "BoundaryCells":
        return BoundaryCells(self.row[idx], self.col[idx], self.zone[idx], self.frac[idx])


@dataclass
class Runs:
    """Interior runs: cells ``col0 <= c < col1`` of ``row`` lie wholly inside ``zone`` (parallel int64 arrays)."""

    row: np.ndarray
    col0: np.ndarray
    col1: np.ndarray
    zone: np.ndarray

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def empty(cls) -> "Runs":
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), z.copy(), z.copy())

    def take(self, idx) -> "Runs":
        return Runs(self.row[idx], self.col0[idx], self.col1[idx], self.zone[idx])

    def cells(self) -> int:
        return int((self.col1 - self.col0).sum())


@dataclass
class Coverage:
    """How a set of non-overlapping polygons covers a grid: exact boundary fractions + interior runs."""

    boundary: BoundaryCells
    runs: Runs


def _segments(geoms: np.ndarray, inverse: Affine):
    """Edges of all (oriented) polygon rings in pixel coordinates, with the index of their polygon."""
    oriented = shapely.orient_polygons(geoms, exterior_cw=False)
    parts, part_owner = shapely.get_parts(oriented, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    cols, rows = apply_affine(inverse, coords[:, 0], coords[:, 1])
    same = ring_idx[1:] == ring_idx[:-1]
    owner = part_owner[ring_part[ring_idx[:-1][same]]]
    return cols[:-1][same], rows[:-1][same], cols[1:][same], rows[1:][same], owner


def _grouped_arange(counts: np.ndarray) -> np.ndarray:
    """For counts [2, 0, 3] return [0, 1, 0, 1, 2]."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def _crossings(a0: np.ndarray, a1: np.ndarray):
    """Parameters t in (0, 1) where segments from a0 to a1 cross integer grid lines, with segment index."""
    lo = np.minimum(a0, a1)
    hi = np.maximum(a0, a1)
    first = np.floor(lo) + 1
    n = np.maximum(0, np.ceil(hi) - first).astype(np.int64)
    seg = np.repeat(np.arange(len(a0)), n)
    k = np.repeat(first, n) + _grouped_arange(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (k - a0[seg]) / (a1[seg] - a0[seg])
    return seg, t


def _pieces(x0, y0, x1, y1):
    """Split segments at every grid line; return per piece: segment index, cell row/col, dy, dy·(x_mid − c)."""
    n = len(x0)
    sx, tx = _crossings(x0, x1)
    sy, ty = _crossings(y0, y1)
    seg = np.concatenate([np.arange(n), np.arange(n), sx, sy])
    t = np.concatenate([np.zeros(n), np.ones(n), tx, ty])
    order = np.lexsort((t, seg))
    seg = seg[order]
    t = t[order]
    keep = seg[1:] == seg[:-1]
    s = seg[:-1][keep]
    ta = t[:-1][keep]
    tb = t[1:][keep]
    nonzero = tb > ta
    s, ta, tb = s[nonzero], ta[nonzero], tb[nonzero]
    dxs = x1[s] - x0[s]
    dys = y1[s] - y0[s]
    tm = 0.5 * (ta + tb)
    xm = x0[s] + tm * dxs
    ym = y0[s] + tm * dys
    col = np.floor(xm).astype(np.int64)
    row = np.floor(ym).astype(np.int64)
    dy = (tb - ta) * dys
    own = dy * (xm - col)
    return s, row, col, dy, own


def boundary_cells(geoms, transform: Affine, shape: tuple[int, int], *, batch_vertices: int = 200_000) -> BoundaryCells:
    """Covered fractions of every grid cell crossed by the boundary of any of ``geoms`` (see :func:`coverage`)."""
    return coverage(geoms, transform, shape, batch_vertices=batch_vertices).boundary


def coverage(geoms, transform: Affine, shape: tuple[int, int], *, rows: tuple[int, int] | None = None,
             batch_vertices: int = 200_000) -> Coverage:
    """Covered fractions of every grid cell crossed by the boundary of any of ``geoms``, and interior runs.

    ``geoms`` are polygons/multipolygons in the grid's CRS; ``transform``/``shape`` describe the grid (rows,
    cols). Cells outside the grid are dropped (their area is outside the raster and is accounted as such by
    the caller). ``rows = (r0, r1)`` restricts the result to that band of rows (only the edges crossing it are
    split), with values identical to the whole grid's. Polygons are processed in batches of about
    ``batch_vertices`` vertices to bound memory.
    """
    geoms = np.asarray(geoms, dtype=object)
    inverse = ~transform
    # det < 0 for north-up grids: pixel space is mirrored, so the winding sign flips
    sign = -1.0 if (transform.a * transform.e - transform.b * transform.d) < 0 else 1.0
    nverts = shapely.get_num_coordinates(geoms)
    out: list[tuple[BoundaryCells, Runs]] = []
    start = 0
    while start < len(geoms):
        stop = start + 1
        acc = nverts[start]
        while stop < len(geoms) and acc + nverts[stop] <= batch_vertices:
            acc += nverts[stop]
            stop += 1
        out.append(_batch(geoms[start:stop], start, inverse, sign, shape, rows))
        start = stop
    if not out:
        return Coverage(BoundaryCells.empty(), Runs.empty())
    cells = BoundaryCells(*(np.concatenate([getattr(b, f) for b, _ in out]) for f in ("row", "col", "zone", "frac")))
    runs = Runs(*(np.concatenate([getattr(r, f) for _, r in out]) for f in ("row", "col0", "col1", "zone")))
    return Coverage(cells.take(np.lexsort((cells.zone, cells.col, cells.row))),
                    runs.take(np.lexsort((runs.col0, runs.row))))


def _batch(geoms: np.ndarray, offset: int, inverse: Affine, sign: float, shape,
           rows: tuple[int, int] | None = None) -> tuple[BoundaryCells, Runs]:
    x0, y0, x1, y1, owner = _segments(geoms, inverse)
    r_lo, r_hi = rows if rows is not None else (0, shape[0])
    band = (np.maximum(y0, y1) > r_lo) & (np.minimum(y0, y1) < r_hi)  # edges that cross the band's rows
    x0, y0, x1, y1, owner = x0[band], y0[band], x1[band], y1[band], owner[band]
    if len(x0) == 0:
        return BoundaryCells.empty(), Runs.empty()
    s, row, col, dy, own = _pieces(x0, y0, x1, y1)
    zone = owner[s]
    # one entry per (zone, row, col): sum dy and own contributions
    order = np.lexsort((col, row, zone))
    zone, row, col, dy, own = zone[order], row[order], col[order], dy[order], own[order]
    new = np.ones(len(zone), dtype=bool)
    new[1:] = (zone[1:] != zone[:-1]) | (row[1:] != row[:-1]) | (col[1:] != col[:-1])
    idx = np.flatnonzero(new)
    zone, row, col = zone[idx], row[idx], col[idx]
    dy_cell = np.add.reduceat(dy, idx)
    own_cell = np.add.reduceat(own, idx)
    # Σ dy of the pieces to the right in the same (zone, row): suffix sums within each run
    run_new = np.ones(len(zone), dtype=bool)
    run_new[1:] = (zone[1:] != zone[:-1]) | (row[1:] != row[:-1])
    right = suffix_sums(dy_cell, run_new)
    frac = sign * (right + own_cell)
    frac = np.where(frac > 1 - EPS, 1.0, frac)
    keep = (frac > EPS) & (row >= r_lo) & (row < r_hi) & (col >= 0) & (col < shape[1])
    cells = BoundaryCells(row[keep], col[keep], zone[keep] + offset, frac[keep])
    # interior runs: the gap after a crossed cell is covered when the Σ dy to its right is (±)1
    nxt = np.r_[~run_new[1:], False]  # the next crossed cell is in the same (zone, row)
    gap = np.flatnonzero(nxt & (sign * right > 0.5))
    c0 = np.maximum(col[gap] + 1, 0)
    c1 = np.minimum(col[gap + 1], shape[1])
    ok = (c1 > c0) & (row[gap] >= r_lo) & (row[gap] < r_hi)
    runs = Runs(row[gap][ok], c0[ok], c1[ok], zone[gap][ok] + offset)
    return cells, runs
