"""The core kernel: exact, chunked area of every (zone × stratum × land-cover class) on one raster grid.

For each dask block of the land-cover raster:

1. zones are burned into the block by cell centre (GDAL rasterize) — exact for every cell that no zone
   boundary crosses;
2. the cells crossed by a boundary are taken out of that dense label and added back with their exact
   covered fraction (:mod:`gep.fraction`), once per zone that covers them;
3. every cell contributes its true ground area (:mod:`gep.cellarea`) in integer cm² to the bin
   (zone, stratum, class); sums are exact integers, so results do not depend on chunking, scheduler or order.

A stratum is any integer raster on the same grid (terrain class, a red-line mask…), so "region × terrain ×
land cover" is one pass over the land cover.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import dask
import numpy as np
import shapely
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning
from rasterio.features import rasterize

from .fraction import BoundaryCells, boundary_cells
from .grid import Grid

# rasterize's in-memory target has no georeferencing of its own; the warning is noise here
warnings.filterwarnings("ignore", category=NotGeoreferencedWarning, module="rasterio.features")

# float64 sums of integers are exact below 2**53
_EXACT = 2**53


@dataclass(frozen=True)
class CodeLUT:
    """Maps raw raster codes to class indices 0..K-1; ``K`` = nodata, ``K+1`` = unknown code."""

    codes: np.ndarray  # int64, the scheme's codes in order
    nodata: int | None

    @property
    def n(self) -> int:
        """Number of bins: the scheme's classes + nodata + unknown."""
        return len(self.codes) + 2

    @property
    def nodata_index(self) -> int:
        return len(self.codes)

    @property
    def unknown_index(self) -> int:
        return len(self.codes) + 1

    def apply(self, block: np.ndarray) -> np.ndarray:
        """Class index of every cell of ``block`` (integer dtype), as uint16."""
        if block.dtype.kind not in "iu":
            raise TypeError(f"land cover must be integer, got {block.dtype}")
        if block.dtype.itemsize <= 2:
            info = np.iinfo(block.dtype)
            table = np.full(int(info.max) - int(info.min) + 1, self.unknown_index, dtype=np.uint16)
            for i, code in enumerate(self.codes):
                if info.min <= code <= info.max:
                    table[int(code) - int(info.min)] = i
            if self.nodata is not None and info.min <= self.nodata <= info.max:
                table[int(self.nodata) - int(info.min)] = self.nodata_index
            idx = block.astype(np.int32) - int(info.min) if info.min else block
            return table[idx]
        order = np.argsort(self.codes)
        sorted_codes = self.codes[order]
        flat = block.astype(np.int64)
        pos = np.clip(np.searchsorted(sorted_codes, flat), 0, len(sorted_codes) - 1)
        out = np.where(sorted_codes[pos] == flat, order[pos], self.unknown_index).astype(np.uint16)
        if self.nodata is not None:
            out[flat == self.nodata] = self.nodata_index
        return out


def exact_bincount(keys: np.ndarray, weights: np.ndarray, minlength: int) -> np.ndarray:
    """Σ of integer ``weights`` per key, exactly, as int64 (splits the weights when float64 could round)."""
    weights = np.asarray(weights)
    if weights.size == 0:
        return np.zeros(minlength, dtype=np.int64)
    wmax = int(weights.max())
    if wmax * weights.size < _EXACT:
        return np.rint(np.bincount(keys, weights=weights, minlength=minlength)).astype(np.int64)
    hi = weights >> 24
    lo = weights & ((1 << 24) - 1)
    shi = np.rint(np.bincount(keys, weights=hi, minlength=minlength)).astype(np.int64)
    slo = np.rint(np.bincount(keys, weights=lo, minlength=minlength)).astype(np.int64)
    return (shi << 24) + slo


@dataclass
class Zones:
    """Zone polygons prepared for one grid: polygons in the grid's CRS, spatial index, boundary fractions."""

    geoms: np.ndarray
    tree: shapely.STRtree
    boundary: BoundaryCells

    @classmethod
    def prepare(cls, geoms, grid: Grid) -> "Zones":
        """``geoms`` must already be in ``grid.crs`` and must not overlap each other."""
        geoms = np.asarray(geoms, dtype=object)
        return cls(geoms, shapely.STRtree(geoms), boundary_cells(geoms, grid.transform, grid.shape))

    def __len__(self) -> int:
        return len(self.geoms)


def _labels(h: int, w: int, r0: int, c0: int, grid: Grid, geoms: np.ndarray, bc: BoundaryCells) -> np.ndarray:
    """Zone label (1..k, 0 = none) of every cell of a block whose centre lies in a zone, with the boundary
    cells (handled by their exact fractions) set to 0."""
    labels = rasterize(((g, i + 1) for i, g in enumerate(geoms)), out_shape=(h, w),
                       transform=grid.transform @ Affine.translation(c0, r0), fill=0, dtype="int32")
    if len(bc):
        labels[bc.row - r0, bc.col - c0] = 0
    return labels


def _block_sums(lc: np.ndarray, strata: np.ndarray | None, r0: int, c0: int, grid: Grid, lut: CodeLUT,
                ns: int, zone_ids: np.ndarray, geoms: np.ndarray, bc: BoundaryCells):
    """Area sums of one block: (global zone ids, int64 array (len(zone_ids), ns, lut.n) of cm²)."""
    h, w = lc.shape
    k = len(zone_ids)
    nbins = (k + 1) * ns * lut.n
    if k == 0:
        return zone_ids, np.zeros((0, ns, lut.n), dtype=np.int64)
    labels = _labels(h, w, r0, c0, grid, geoms, bc)
    br, bcol = bc.row - r0, bc.col - c0
    cls = lut.apply(lc)
    key = labels * (ns * lut.n) + cls
    if strata is not None:
        key += strata.astype(np.int32) * lut.n
    area = grid.cell_area_cm2(r0, r0 + h, c0, c0 + w)
    sums = exact_bincount(key.ravel(), np.ascontiguousarray(area).ravel(), nbins)
    if len(bc):
        local = np.searchsorted(zone_ids, bc.zone) + 1
        bkey = local * (ns * lut.n) + cls[br, bcol].astype(np.int64)
        if strata is not None:
            bkey += strata[br, bcol].astype(np.int64) * lut.n
        bweight = np.rint(bc.frac * area[br, bcol]).astype(np.int64)
        sums += exact_bincount(bkey, bweight, nbins)
    return zone_ids, sums.reshape(k + 1, ns, lut.n)[1:]


def _blocks(da_chunks):
    """(row0, row1, col0, col1) of every block of a 2-D dask array, in block order."""
    rows = np.r_[0, np.cumsum(da_chunks[0])]
    cols = np.r_[0, np.cumsum(da_chunks[1])]
    for i in range(len(rows) - 1):
        for j in range(len(cols) - 1):
            yield i, j, int(rows[i]), int(rows[i + 1]), int(cols[j]), int(cols[j + 1])


def part_block_rows(n_block_rows: int, part: tuple[int, int]) -> range:
    """Block rows of tile group ``part = (index, count)``: contiguous bands of block rows, as even as possible."""
    index, count = part
    if not 0 <= index < count:
        raise ValueError(f"part index {index} outside 0..{count - 1}")
    return range(n_block_rows * index // count, n_block_rows * (index + 1) // count)


def _plan(chunks, grid: Grid, zones: Zones, part: tuple[int, int] | None = None):
    """For every block of an array with ``chunks``: (i, j, r0, c0, zone ids meeting the block, its boundary cells).

    With ``part = (index, count)`` only the blocks of that tile group (a band of block rows) are planned; the
    groups' integer sums add up exactly to the whole raster's.
    """
    bc = zones.boundary
    row_edges = np.r_[0, np.cumsum(chunks[0])]
    col_edges = np.r_[0, np.cumsum(chunks[1])]
    ncols = len(col_edges) - 1
    block_id = (np.searchsorted(row_edges, bc.row, side="right") - 1) * ncols + (
        np.searchsorted(col_edges, bc.col, side="right") - 1)
    order = np.argsort(block_id, kind="stable")
    sorted_ids = block_id[order]
    rows = part_block_rows(len(chunks[0]), part) if part else range(len(chunks[0]))
    for i, j, r0, r1, c0, c1 in _blocks(chunks):
        if i not in rows:
            continue
        box = shapely.box(*grid.window_bounds(r0, r1, c0, c1))
        zone_ids = np.sort(zones.tree.query(box, predicate="intersects")).astype(np.int64)
        lo, hi = np.searchsorted(sorted_ids, [i * ncols + j, i * ncols + j + 1])
        sub = bc.take(order[lo:hi])
        if len(sub):  # float edge cases: a boundary cell's zone always counts as meeting its block
            zone_ids = np.union1d(zone_ids, sub.zone)
        yield i, j, r0, c0, zone_ids, sub


def crosstab_tasks(lc, grid: Grid, zones: Zones, lut: CodeLUT, strata=None, ns: int = 1,
                   part: tuple[int, int] | None = None):
    """Dask delayed tasks, one per block, each returning ``(zone_ids, sums)`` (see :func:`_block_sums`).

    ``lc`` and ``strata`` are 2-D dask arrays (or DataArrays) on ``grid``; strata are rechunked like ``lc``.
    """
    lc = getattr(lc, "data", lc)
    lc_blocks = lc.to_delayed()
    st_blocks = None
    if strata is not None:
        st_blocks = getattr(strata, "data", strata).rechunk(lc.chunks).to_delayed()
    func = dask.delayed(_block_sums, pure=True)
    return [func(lc_blocks[i, j], None if st_blocks is None else st_blocks[i, j], r0, c0, grid, lut, ns, zone_ids,
                 zones.geoms[zone_ids], sub)
            for i, j, r0, c0, zone_ids, sub in _plan(lc.chunks, grid, zones, part)]


def combine(results, nzones: int, ns: int, nbins: int) -> np.ndarray:
    """Add the per-block sums into one int64 array (nzones, ns, nbins) of cm² (exact, order-free)."""
    total = np.zeros((nzones, ns, nbins), dtype=np.int64)
    for zone_ids, sums in results:
        if len(zone_ids):
            np.add.at(total, zone_ids, sums)
    return total


def crosstab(lc, grid: Grid, zones: Zones, lut: CodeLUT, strata=None, ns: int = 1,
             scheduler=None, part: tuple[int, int] | None = None) -> np.ndarray:
    """Exact area (int64 cm²) per (zone, stratum, class bin) of a land-cover raster; see module docstring.

    ``part = (index, count)`` restricts the sums to one tile group (see :func:`part_block_rows`).
    """
    tasks = crosstab_tasks(lc, grid, zones, lut, strata, ns, part)
    results = dask.compute(*tasks, scheduler=scheduler)
    return combine(results, len(zones), ns, lut.n)


def _block_value_sums(values: np.ndarray, r0: int, c0: int, grid: Grid, zone_ids: np.ndarray, geoms: np.ndarray,
                      bc: BoundaryCells, nodata):
    """Σ value × covered area (value·m²) and Σ covered area of valid cells (m²) per zone of one block."""
    h, w = values.shape
    k = len(zone_ids)
    if k == 0:
        return zone_ids, np.zeros((0, 2))
    labels = _labels(h, w, r0, c0, grid, geoms, bc)
    br, bcol = bc.row - r0, bc.col - c0
    vals = values.astype(np.float64)
    valid = np.isfinite(vals)
    if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
        valid &= vals != nodata
    area = grid.cell_area_cm2(r0, r0 + h, c0, c0 + w) / 1e4
    va = np.where(valid, vals * area, 0.0)
    aa = np.where(valid, area, 0.0)
    lab = labels.ravel()
    out = np.zeros((k + 1, 2))
    out[:, 0] = np.bincount(lab, weights=va.ravel(), minlength=k + 1)
    out[:, 1] = np.bincount(lab, weights=aa.ravel(), minlength=k + 1)
    if len(bc):
        local = np.searchsorted(zone_ids, bc.zone) + 1
        out[:, 0] += np.bincount(local, weights=bc.frac * va[br, bcol], minlength=k + 1)
        out[:, 1] += np.bincount(local, weights=bc.frac * aa[br, bcol], minlength=k + 1)
    return zone_ids, out[1:]


def zonal_sum(values, grid: Grid, zones: Zones, nodata=None, scheduler=None) -> np.ndarray:
    """Area-weighted sums of a continuous raster per zone, with the same exact boundary fractions.

    ``values`` is a 2-D dask array on ``grid`` of a quantity per unit area (e.g. t/m², mm); returns an array
    (nzones, 2): column 0 = Σ value × covered area (value·m²), column 1 = covered area with valid values (m²).
    The mean over a zone is column 0 / column 1. Float sums (not exact integers): results can differ in the
    last bits between chunkings.
    """
    values = getattr(values, "data", values)
    blocks = values.to_delayed()
    func = dask.delayed(_block_value_sums, pure=True)
    tasks = [func(blocks[i, j], r0, c0, grid, zone_ids, zones.geoms[zone_ids], sub, nodata)
             for i, j, r0, c0, zone_ids, sub in _plan(values.chunks, grid, zones)]
    total = np.zeros((len(zones), 2))
    for zone_ids, sums in dask.compute(*tasks, scheduler=scheduler):
        if len(zone_ids):
            np.add.at(total, zone_ids, sums)
    return total
