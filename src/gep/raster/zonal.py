"""The core kernel: exact, chunked area of every (zone × stratum × land-cover class) on one raster grid.

The zones (regions) are first turned into their exact coverage of the grid (:mod:`gep.raster.fraction`): interior
runs of wholly covered cells, and boundary cells with their covered fraction. Then, for each dask block of the
land-cover raster:

1. each cell of an interior run adds its true ground area (:mod:`gep.raster.cellarea`) to the bin
   (zone, stratum, class); cells outside every zone are never visited;
2. each boundary cell adds its covered fraction of its area, once per zone covering it;
3. areas are integers of cm² added in a compiled loop (:mod:`gep.raster.kernels`), so sums are exact and results do
   not depend on chunking, scheduler or order.

A stratum is any integer raster on the same grid (terrain class, the class of another year…), so "region ×
terrain × land cover" is one pass over the land cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial

import dask
import numpy as np
import shapely

from gep.core.units import CM2_PER_M2
from gep.raster.fraction import BoundaryCells, Coverage, Runs, coverage
from gep.raster.grid import Grid, RasterBlocks
from gep.raster.kernels import class_table, count_block, run_keys, sum_block, unsigned

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
            return class_table(self, block.dtype).astype(np.uint16)[unsigned(block)]
        order = np.argsort(self.codes)
        sorted_codes = self.codes[order]
        flat = block.astype(np.int64)
        pos = np.clip(np.searchsorted(sorted_codes, flat), 0, len(sorted_codes) - 1)
        out = np.where(sorted_codes[pos] == flat, order[pos], self.unknown_index).astype(np.uint16)
        if self.nodata is not None:
            out[flat == self.nodata] = self.nodata_index
        return out


@dataclass
class Zones:
    """Zone polygons for one grid (in the grid's CRS, not overlapping). Their exact coverage of the grid is
    computed band by band inside the dask tasks (:func:`band_coverage`), so memory holds one band's boundary
    cells at a time, not the whole raster's; ``cover`` (the whole grid at once) is for small grids and tests."""

    geoms: np.ndarray
    grid: Grid

    @classmethod
    def prepare(cls, geoms, grid: Grid) -> "Zones":
        return cls(np.asarray(geoms, dtype=object), grid)

    @cached_property
    def tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.geoms)

    @cached_property
    def cover(self) -> Coverage:
        return coverage(self.geoms, self.grid.transform, self.grid.shape)

    @property
    def boundary(self) -> BoundaryCells:
        return self.cover.boundary

    def __len__(self) -> int:
        return len(self.geoms)


@dataclass
class BlockPlan:
    """What one block needs: its position, the zones present (global ids, sorted), its runs and boundary cells
    (coordinates relative to the block, zones as local indices 1..k)."""

    i: int
    j: int
    r0: int
    c0: int
    h: int
    w: int
    zone_ids: np.ndarray
    runs: Runs
    boundary: BoundaryCells


def _block_sums(lc, strata: np.ndarray | None, plan: BlockPlan, grid: Grid, lut: CodeLUT, ns: int):
    """Area sums of one block: (global zone ids, int64 array (len(zone_ids), ns, lut.n) of cm²).

    ``lc`` is the block, or a :class:`gep.raster.grid.WindowRead` that reads it here."""
    k = len(plan.zone_ids)
    if k == 0:
        return plan.zone_ids, np.zeros((0, ns, lut.n), dtype=np.int64)
    lc = np.asarray(lc)
    if lc.dtype.itemsize <= 2:
        table = class_table(lut, lc.dtype)
        lc = unsigned(lc)
    else:  # wide codes: map in numpy first, then count the class indices
        lc = lut.apply(lc)
        table = np.arange(lut.n, dtype=np.uint32)
    area = grid.cell_area_cm2(plan.r0, plan.r0 + plan.h, plan.c0, plan.c0 + plan.w)
    bc, runs = plan.boundary, plan.runs
    b_area = np.rint(bc.frac * area[bc.row, bc.col]).astype(np.int64)
    use_strata = strata is not None
    st = unsigned(np.asarray(strata)) if use_strata else np.zeros((1, lc.shape[1]), dtype=np.uint8)
    out = np.zeros((k + 1) * ns * lut.n, dtype=np.int64)
    row_constant = area.strides[1] == 0  # a broadcast of per-row areas (geographic grids)
    keys = run_keys(table, lc.dtype.itemsize, ns, lut.n, lut.unknown_index)
    count_block(lc, table, st, use_strata, area, row_constant, keys, runs.row, runs.col0, runs.col1,
                runs.zone, bc.row, bc.col, bc.zone, b_area, ns, lut.n, out)
    return plan.zone_ids, out.reshape(k + 1, ns, lut.n)[1:]


def part_block_rows(n_block_rows: int, part: tuple[int, int]) -> range:
    """Block rows of tile group ``part = (index, count)``: contiguous bands of block rows, as even as possible."""
    index, count = part
    if not 0 <= index < count:
        raise ValueError(f"part index {index} outside 0..{count - 1}")
    return range(n_block_rows * index // count, n_block_rows * (index + 1) // count)


def _split_runs(runs: Runs, col_edges: np.ndarray) -> tuple[Runs, np.ndarray]:
    """Runs cut at block column edges; returns the pieces and each piece's block column."""
    j0 = np.searchsorted(col_edges, runs.col0, side="right") - 1
    j1 = np.searchsorted(col_edges, runs.col1 - 1, side="right") - 1
    n = j1 - j0 + 1
    idx = np.repeat(np.arange(len(runs)), n)
    j = j0[idx] + (np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n))
    col0 = np.maximum(runs.col0[idx], col_edges[j])
    col1 = np.minimum(runs.col1[idx], col_edges[j + 1])
    return Runs(runs.row[idx], col0, col1, runs.zone[idx]), j


def _plan_band(cover: Coverage, row_edges: np.ndarray, col_edges: np.ndarray, i: int,
               cols: list[int] | None = None) -> list[BlockPlan]:
    """Block plans of block row ``i`` from a coverage of that band's rows only.

    Entries are grouped by block column with one stable sort (small integer keys: numpy's radix sort) and one
    gather; each block then takes a contiguous slice, in the coverage's order.
    """
    r0, r1 = int(row_edges[i]), int(row_edges[i + 1])
    runs, rj = _split_runs(cover.runs, col_edges)
    bc = cover.boundary
    key_type = np.int16 if len(col_edges) < np.iinfo(np.int16).max else np.int64
    bj = (np.searchsorted(col_edges, bc.col, side="right") - 1).astype(key_type)
    b_order, r_order = np.argsort(bj, kind="stable"), np.argsort(rj.astype(key_type), kind="stable")
    bc, runs = bc.take(b_order), runs.take(r_order)
    b_cut = np.searchsorted(bj[b_order], np.arange(len(col_edges)), side="left")
    r_cut = np.searchsorted(rj[r_order], np.arange(len(col_edges)), side="left")
    local = np.zeros(int(max(bc.zone.max(initial=-1), runs.zone.max(initial=-1))) + 1, dtype=np.int64)
    plans = []
    for j in (range(len(col_edges) - 1) if cols is None else cols):
        b = bc.take(slice(b_cut[j], b_cut[j + 1]))
        r = runs.take(slice(r_cut[j], r_cut[j + 1]))
        present = np.zeros(len(local), dtype=bool)
        present[b.zone] = True
        present[r.zone] = True
        zone_ids = np.flatnonzero(present)
        local[zone_ids] = np.arange(1, len(zone_ids) + 1)
        c0 = int(col_edges[j])
        local_b = BoundaryCells(b.row - r0, b.col - c0, local[b.zone], b.frac)
        local_r = Runs(r.row - r0, r.col0 - c0, r.col1 - c0, local[r.zone])
        plans.append(BlockPlan(i, j, r0, c0, r1 - r0, int(col_edges[j + 1]) - c0, zone_ids, local_r, local_b))
    return plans


def plan_blocks(chunks, zones: Zones, part: tuple[int, int] | None = None) -> list[BlockPlan]:
    """A :class:`BlockPlan` for every block of a 2-D array with dask ``chunks`` (or of tile group ``part``),
    from the whole-grid coverage (small grids and tests; the tasks plan band by band)."""
    row_edges = np.r_[0, np.cumsum(chunks[0])].astype(np.int64)
    col_edges = np.r_[0, np.cumsum(chunks[1])].astype(np.int64)
    rows = part_block_rows(len(chunks[0]), part) if part else range(len(chunks[0]))
    cover = zones.cover
    plans = []
    for i in rows:
        r0, r1 = row_edges[i], row_edges[i + 1]
        band = Coverage(cover.boundary.take((cover.boundary.row >= r0) & (cover.boundary.row < r1)),
                        cover.runs.take((cover.runs.row >= r0) & (cover.runs.row < r1)))
        plans += _plan_band(band, row_edges, col_edges, i)
    return plans


def _band_plans(geoms: np.ndarray, ids: np.ndarray, grid: Grid, row_edges, col_edges, i: int,
                cols: list[int]) -> list[BlockPlan]:
    """Coverage of block row ``i`` by the zones ``ids`` (those whose box meets the band), planned per block."""
    cover = coverage(geoms[ids], grid.transform, grid.shape, rows=(int(row_edges[i]), int(row_edges[i + 1])))
    cover = Coverage(BoundaryCells(cover.boundary.row, cover.boundary.col, ids[cover.boundary.zone],
                                   cover.boundary.frac),
                     Runs(cover.runs.row, cover.runs.col0, cover.runs.col1, ids[cover.runs.zone]))
    return _plan_band(cover, row_edges, col_edges, i, cols)


def _band_blocks(chunks, grid: Grid, zones: Zones, part: tuple[int, int] | None):
    """For every block row (band) that zones touch: (i, the blocks j they touch, delayed list of their plans).

    The band's coverage is computed inside the task, from the zones whose bounding box meets the band only,
    so memory holds a band's boundary cells at a time and each polygon is split only where it is needed.
    """
    row_edges = np.r_[0, np.cumsum(chunks[0])].astype(np.int64)
    col_edges = np.r_[0, np.cumsum(chunks[1])].astype(np.int64)
    geoms = dask.delayed(zones.geoms, pure=False)  # one graph node shared by all band tasks
    rows = part_block_rows(len(chunks[0]), part) if part else range(len(chunks[0]))
    for i in rows:
        band = shapely.box(*grid.window_bounds(row_edges[i], row_edges[i + 1], 0, col_edges[-1]))
        ids = np.sort(zones.tree.query(band)).astype(np.int64)
        if len(ids) == 0:
            continue
        boxes = shapely.box(*np.array([grid.window_bounds(row_edges[i], row_edges[i + 1], col_edges[j],
                                                          col_edges[j + 1]) for j in range(len(col_edges) - 1)]).T)
        cols = sorted(set(zones.tree.query(boxes)[0].tolist()))
        # arguments that hold no dask object are bound, not passed: dask would walk each one (dataclasses, lists)
        plans = dask.delayed(partial(_band_plans, ids=ids, grid=grid, row_edges=row_edges, col_edges=col_edges, i=i,
                                     cols=cols), pure=False)(geoms)
        yield i, cols, plans


def _planned(func, plans: list[BlockPlan], k: int, *args, **kw):
    """``func(*args, plans[k], **kw)``: one block's work with plan k of its band (the band's plans are one task
    output, so dask needs no task per block to pick a plan)."""
    return func(*args, plans[k], **kw)


def crosstab_tasks(lc, grid: Grid, zones: Zones, lut: CodeLUT, strata=None, ns: int = 1,
                   part: tuple[int, int] | None = None):
    """Dask delayed tasks, one per block, each returning ``(zone_ids, sums)`` (see :func:`_block_sums`).

    ``lc`` is a 2-D dask array (or DataArray) or :class:`gep.raster.grid.RasterBlocks` on ``grid``; ``strata`` a
    dask array (or DataArray), rechunked like ``lc``.
    Each band of block rows first computes its own coverage; blocks that no zone's bounding box touches are
    skipped (never read).
    """
    lc = getattr(lc, "data", lc)
    lc_blocks = lc.windows() if isinstance(lc, RasterBlocks) else lc.to_delayed()
    st_blocks = None
    if strata is not None:
        st_blocks = getattr(strata, "data", strata).rechunk(lc.chunks).to_delayed()
    func = dask.delayed(partial(_planned, _block_sums, grid=grid, lut=lut, ns=ns), pure=False)  # no input hashing
    return [func(plans, k, lc_blocks[i, j], None if st_blocks is None else st_blocks[i, j])
            for i, cols, plans in _band_blocks(lc.chunks, grid, zones, part) for k, j in enumerate(cols)]


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


def _valid_values(values: np.ndarray, nodata) -> tuple[np.ndarray, np.ndarray]:
    """A block's values as float64 and where they are valid (finite, not ``nodata``)."""
    vals = values.astype(np.float64)
    valid = np.isfinite(vals)
    if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
        valid &= vals != nodata
    return vals, valid


def _block_value_sums(vals: np.ndarray, valid: np.ndarray, area_m2: np.ndarray, plan: BlockPlan) -> np.ndarray:
    """Σ value × covered area (value·m²) and Σ covered area of valid cells (m²) per zone of one block
    (``vals``, ``valid`` from :func:`_valid_values`; ``area_m2`` the block's cell areas): (zones of the plan, 2)."""
    out = np.zeros((len(plan.zone_ids) + 1, 2))
    bc, runs = plan.boundary, plan.runs
    sum_block(vals, valid, area_m2, runs.row, runs.col0, runs.col1, runs.zone, bc.row, bc.col, bc.zone, bc.frac,
              out)
    return out[1:]


def zonal_sum(values, grid: Grid, zones: Zones, nodata=None, scheduler=None) -> np.ndarray:
    """Area-weighted sums of a continuous raster per zone, with the same exact boundary fractions.

    ``values`` is a 2-D dask array on ``grid`` of a quantity per unit area (e.g. t/m², mm); returns an array
    (nzones, 2): column 0 = Σ value × covered area (value·m²), column 1 = covered area with valid values (m²).
    The mean over a zone is column 0 / column 1. Float sums (not exact integers): results can differ in the
    last bits between chunkings.
    """
    return zonal_sums({"": values}, grid, {"": zones}, nodata=nodata, scheduler=scheduler)["", ""]


def zonal_sums(layers: dict, grid: Grid, zone_sets: dict, nodata=None, scheduler=None) -> dict:
    """:func:`zonal_sum` of every raster in ``layers`` (``{name: 2-D dask array on grid}``, chunked alike) over
    every zone set in ``zone_sets`` (``{key: Zones}``, e.g. the region levels), in one pass: one task per block
    reads the block of each raster once and sums it over each zone set that touches it, so memory holds one
    block of each raster per worker. Returns ``{(key, name): (nzones, 2) array}``, each bit-identical to its
    own :func:`zonal_sum` (blocks are added in the same order)."""
    names, keys = list(layers), list(zone_sets)
    arrays = [getattr(layers[n], "data", layers[n]) for n in names]
    if not arrays:
        return {}
    chunks = arrays[0].chunks
    blocks = [a.rechunk(chunks).to_delayed() for a in arrays]
    touching: dict[tuple[int, int], list] = {}  # block (i, j) → [(zone set index, its band's plans, plan index)]
    for z, key in enumerate(keys):
        for i, cols, plans in _band_blocks(chunks, grid, zone_sets[key], None):
            for k, j in enumerate(cols):
                touching.setdefault((i, j), []).append((z, plans, k))
    func = dask.delayed(partial(_block_sums_over_sets, grid=grid, nodata=nodata, nlayers=len(names)), pure=False)
    order = sorted(touching)  # row-major, as zonal_sum always added its blocks
    tasks = [func([(z, k) for z, _, k in touching[ij]], *[b[ij] for b in blocks], *[p for _, p, _ in touching[ij]])
             for ij in order]
    totals = {(key, name): np.zeros((len(zone_sets[key]), 2)) for key in keys for name in names}
    for result in dask.compute(*tasks, scheduler=scheduler):
        for z, zone_ids, sums in result:
            if len(zone_ids):
                for name, block_sums in zip(names, sums):
                    np.add.at(totals[keys[z], name], zone_ids, block_sums)
    return totals


def _block_sums_over_sets(entries: list[tuple[int, int]], *args, grid: Grid, nodata, nlayers: int):
    """One block's :func:`_block_value_sums` for each raster (the first ``nlayers`` arguments) and each zone set
    touching it (``entries``: (zone set index, plan index in its band), then that band's plans as arguments):
    [(zone set index, zone ids, [sums of each raster])]."""
    blocks, band_plans = args[:nlayers], args[nlayers:]
    plans = [p[k] for (_, k), p in zip(entries, band_plans)]  # each zone set's plan of this one block
    area = grid.cell_area_cm2(plans[0].r0, plans[0].r0 + plans[0].h, plans[0].c0, plans[0].c0 + plans[0].w) / CM2_PER_M2
    sums: list[list[np.ndarray]] = [[] for _ in plans]
    for values in blocks:  # one raster at a time in float64, summed over every zone set
        vals, valid = _valid_values(values, nodata)
        for per_set, plan in zip(sums, plans):
            per_set.append(_block_value_sums(vals, valid, area, plan))
    return [(z, plan.zone_ids, per_set) for (z, _), plan, per_set in zip(entries, plans, sums)]
