"""USLE/RUSLE slope-length and steepness factor LS from a DEM, with D8 flow accumulation.

Method (named in the output ``method`` column as :data:`LS_METHOD`), as in InVEST SDR:

- **Flow accumulation (D8).** Each cell drains to the one of its 8 neighbours with the steepest downward
  drop per metre (ties: the first in N, NE, E, SE, S, SW, W, NW order; the one rule is :func:`d8_codes`).
  Cells without a strictly lower neighbour (pits, flats, the DEM's edge) end their flow path. The
  accumulated quantity is the ellipsoidal cell area (m²), so ``acc`` is the contributing area *including*
  the cell itself. :func:`compute_ls` accumulates tile by tile, exactly across tiles
  (:mod:`gep.hydrology.flow_tiles`, after Barnes 2017); :func:`ls_factor` is the whole-DEM in-memory
  reference, ordered topologically front by front (Kahn's algorithm with ``np.add.at``,
  :func:`flow_accumulation`). **No depression filling is done**: give a hydrologically conditioned
  (sink-filled) DEM, as InVEST also asks; unfilled pits cut flow paths short and lower L.
- **L (Desmet & Govers 1996)** with the upslope area A = acc − cell area (m²), D = √(cell area) (m),
  x = |sin a| + |cos a| with a the aspect (from the gradient; 1 on flat cells)::

      L = ((A + D²)^(m+1) − A^(m+1)) / (D^(m+2) · x^m · 22.13^m),  capped at ``l_max`` (InVEST: 122)

  m by percent slope s as in InVEST (Oliveira et al. 2013 table): 0.2 (s ≤ 1), 0.3 (≤ 3.5), 0.4 (≤ 5),
  0.5 (≤ 9), β/(1+β) above with β = (sin θ / 0.0896) / (3 sin^0.8 θ + 0.56). ``area_form="sqrt"``
  replaces A by √A, which is what InVEST ≥ 3.14 does to match SAGA (dimensionally odd, offered for
  comparison only).
- **S (McCool et al. 1987)**: 10.8 sin θ + 0.03 where s < 9 %, else 16.8 sin θ − 0.50.
- **Slope** θ from Horn's (1981) 3 × 3 finite differences, with the cell's ground size in metres (for a
  geographic DEM: the row's length of a degree of longitude/latitude on the CRS's ellipsoid). DEM edges are
  extended by replication; nodata cells and their neighbours get NaN.

Memory: :func:`compute_ls` reads the DEM twice in ``tile`` × ``tile`` windows (default 2048) with a 1-cell
halo and writes LS window by window, so memory is bounded by the tile and the number of ``workers`` (threads
computing tiles in parallel: the flow graph of a tile plus the row-striped LS temporaries, per worker; at
most ``workers + 1`` tiles in flight) and by the perimeter graph (tile-edge cells), not by the DEM. The
output does not depend on ``workers`` (bit for bit). Time and peak memory by DEM size, tile and workers:
benchmarks/README.md (bench_services.py). The output equals :func:`ls_factor` (the in-memory reference, whose
memory grows with the DEM).
Use a DEM of the resolution the LS factor is meant for (30 m or 90 m); LS is then resampled (bilinear) onto
the land-cover grid by :mod:`gep.raster.resample`.
"""

from __future__ import annotations

import math
import threading
from contextlib import closing
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from numba import njit
from pyproj import CRS
from rasterio.windows import Window

from gep.core.atomic import atomic_path
from gep.raster.cellarea import row_areas_m2
from gep.core.errors import InputError
from gep.core.workers import worker_count
from gep.hydrology.d8 import _DC, _DR, OFFSETS, d8_codes, d8_distances  # noqa: F401

#: Method label written to the ``method`` column of soil-retention rows.
LS_METHOD = ("LS: Desmet & Govers 1996 L with D8 contributing area (as InVEST SDR, L capped), "
             "McCool 1987 S, Horn 1981 slope")

#: (row, col) offsets of the 8 neighbours: N, NE, E, SE, S, SW, W, NW.
_STRIPE = 1024
_TILE_STRIPE = 256
_GDAL_CACHE_MB = 128


def cell_geometry(transform: Affine, shape: tuple[int, int], crs: CRS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground size of the cells of each row: (dx_m, dy_m, area_m2), arrays of length ``shape[0]``.

    Geographic CRS: dx, dy from the ellipsoid's radii of curvature at the row's central latitude, area the
    exact ellipsoidal row area. Projected CRS: the nominal cell size in metres (areal scale factor ignored,
    < 0.1 % in Gauss-Krüger/UTM zones).
    """
    h = shape[0]
    if transform.b != 0 or transform.d != 0:
        raise InputError("DEM has a rotated geotransform; warp it to a north-up grid first (gdalwarp)")
    if crs.is_geographic:
        ell = crs.ellipsoid
        a, b = ell.semi_major_metre, ell.semi_minor_metre
        e2 = 1.0 - (b * b) / (a * a)
        lat = np.radians(transform.f + transform.e * (np.arange(h) + 0.5))
        w = 1.0 - e2 * np.sin(lat) ** 2
        n = a / np.sqrt(w)
        m = a * (1.0 - e2) / w**1.5
        dx = n * np.cos(lat) * math.radians(abs(transform.a))
        dy = m * math.radians(abs(transform.e))
        area = row_areas_m2(transform, h, crs)
        return dx, dy, area
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    dx = np.full(h, abs(transform.a) * factor)
    dy = np.full(h, abs(transform.e) * factor)
    return dx, dy, dx * dy


def d8_receivers(z: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Flat index of the D8 receiver of every cell (−1: none), from elevations ``z`` (NaN = nodata).

    ``dx``/``dy`` are the cell sizes (m) of each row. Steepest drop per metre; strictly downhill only
    (:func:`d8_codes`). Elevations are rounded to float32 first, as the DEM is read.
    """
    h, w = z.shape
    idx_dtype = np.int32 if h * w < 2**31 - 1 else np.int64
    rec = np.full(h * w, -1, dtype=idx_dtype)
    zp = np.pad(z.astype(np.float32, copy=False), 1, mode="constant", constant_values=np.nan)  # 4 B/cell
    code = d8_codes(zp, d8_distances(dx, dy))  # 1 B/cell
    del zp
    for r0 in range(0, h, _STRIPE):
        r1 = min(h, r0 + _STRIPE)
        rows, cols = np.nonzero(code[r0:r1] >= 0)
        k = code[r0:r1][rows, cols]
        src = (rows + r0) * w + cols
        rec[src] = ((rows + r0 + _DR[k]) * w + cols + _DC[k]).astype(idx_dtype)
    return rec


def flow_accumulation(receivers: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Σ of ``weight`` over each cell and all cells upstream of it along the receiver graph (float64).

    ``receivers`` is a flat index array (−1 = outlet) describing a forest (no cycles: strictly downhill).
    Processed front by front in topological order; each front is one vectorised step.
    """
    n = receivers.size
    acc = np.array(weight, dtype=np.float64, copy=True).reshape(-1)  # one contiguous copy
    has = receivers >= 0
    indeg = np.bincount(receivers[has], minlength=n).astype(np.uint8)  # at most 8 donors
    del has
    # scratch for de-duplicating a front in O(front) (np.unique would sort every front)
    owner = np.empty(n, dtype=receivers.dtype)
    front = np.flatnonzero(indeg == 0).astype(receivers.dtype)
    while front.size:
        dst = receivers[front]
        keep = dst >= 0
        src, dst = front[keep], dst[keep]
        if dst.size == 0:
            break
        np.add.at(acc, dst, acc[src])
        # values of the same dtype as the target keep ufunc.at on its fast path
        np.subtract.at(indeg, dst, np.ones(dst.size, dtype=np.uint8))
        ready = dst[indeg[dst] == 0]
        # a receiver with several donors in this front appears several times: keep its last occurrence
        pos = np.arange(ready.size, dtype=receivers.dtype)
        owner[ready] = pos
        front = ready[owner[ready] == pos]
    return acc


def _m_exponent(slope_pct: np.ndarray, sin_t: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = (sin_t / 0.0896) / (3.0 * sin_t**0.8 + 0.56)
    m = np.select([slope_pct <= 1.0, slope_pct <= 3.5, slope_pct <= 5.0, slope_pct <= 9.0],
                  [0.2, 0.3, 0.4, 0.5], default=beta / (1.0 + beta))
    return np.where(np.isnan(slope_pct), np.nan, m)


def ls_from_parts(slope_pct: np.ndarray, x_aspect: np.ndarray, upslope_m2: np.ndarray, cell_m2: np.ndarray,
                  l_max: float = 122.0, area_form: str = "area") -> np.ndarray:
    """LS from percent slope, aspect term x, upslope area A (m², excluding the cell) and cell area (m²).

    Exposed for tests and for users who bring their own slope or accumulation.
    """
    theta = np.arctan(slope_pct / 100.0)
    sin_t = np.sin(theta)
    s_factor = np.where(slope_pct < 9.0, 10.8 * sin_t + 0.03, 16.8 * sin_t - 0.50)
    m = _m_exponent(slope_pct, sin_t)
    a_in = np.sqrt(upslope_m2) if area_form == "sqrt" else upslope_m2
    d = np.sqrt(cell_m2)
    l_factor = ((a_in + d * d) ** (m + 1) - a_in ** (m + 1)) / (d ** (m + 2) * x_aspect**m * 22.13**m)
    l_factor = np.minimum(l_factor, l_max)
    return l_factor * s_factor


def slope_aspect(z: np.ndarray, dx: np.ndarray, dy: np.ndarray, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray]:
    """Percent slope and the aspect term x = |sin a| + |cos a| of rows r0..r1 (Horn 1981)."""
    h, _w = z.shape
    lo, hi = max(0, r0 - 1), min(h, r1 + 1)
    block = z[lo:hi].astype(np.float64)
    # replicate the DEM's outer edge (rows only where the stripe touches the raster's top/bottom)
    top = 1 if r0 == 0 else 0
    bottom = 1 if r1 == h else 0
    zp = np.pad(block, ((top, bottom), (1, 1)), mode="edge")
    a, b, c = zp[:-2, :-2], zp[:-2, 1:-1], zp[:-2, 2:]
    d_, f = zp[1:-1, :-2], zp[1:-1, 2:]
    g, hh, i = zp[2:, :-2], zp[2:, 1:-1], zp[2:, 2:]
    ddx = dx[r0:r1, None]
    ddy = dy[r0:r1, None]
    gx = ((c + 2 * f + i) - (a + 2 * d_ + g)) / (8.0 * ddx)
    gy = ((g + 2 * hh + i) - (a + 2 * b + c)) / (8.0 * ddy)
    grad = np.hypot(gx, gy)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.where(grad > 0, (np.abs(gx) + np.abs(gy)) / grad, 1.0)
    x = np.where(np.isnan(grad), np.nan, x)
    return 100.0 * grad, x


def _check_area_form(area_form: str) -> None:
    if area_form not in ("area", "sqrt"):
        raise InputError(f"LS area_form '{area_form}': use 'area' (Desmet & Govers) or 'sqrt' (InVEST ≥ 3.14)")


def _ls_rows(slope_pct: np.ndarray, x: np.ndarray, acc: np.ndarray, cell_m2: np.ndarray, z: np.ndarray,
             l_max: float, area_form: str) -> np.ndarray:
    """LS (float32) of a block of cells from slope, aspect term, accumulation (m², incl. the cell), cell area.

    Cells whose elevation ``z`` is NaN get NaN.
    """
    upslope = np.maximum(acc - cell_m2, 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ls = ls_from_parts(slope_pct, x, upslope, cell_m2, l_max, area_form).astype(np.float32)
    ls[np.isnan(z)] = np.nan
    return ls


class _LsStats:
    """Summary of an LS raster built block by block (cells, valid cells, mean/max LS, largest accumulation)."""

    def __init__(self) -> None:
        self.cells = 0
        self.valid = 0
        self.total = 0.0
        self.ls_max = -math.inf
        self.acc_max = -math.inf

    def add(self, ls: np.ndarray, acc: np.ndarray) -> None:
        self.cells += int(ls.size)
        ok = np.isfinite(ls)
        n = int(ok.sum())
        if n:
            vals = ls[ok]
            self.valid += n
            self.total += float(vals.sum(dtype=np.float64))
            self.ls_max = max(self.ls_max, float(vals.max()))
        if acc.size:
            self.acc_max = max(self.acc_max, float(np.max(acc)))

    def merge(self, other: _LsStats) -> None:
        """Add the summary of another block (merging blocks in a fixed order gives a fixed float sum)."""
        self.cells += other.cells
        self.valid += other.valid
        self.total += other.total
        self.ls_max = max(self.ls_max, other.ls_max)
        self.acc_max = max(self.acc_max, other.acc_max)

    def summary(self) -> dict:
        some = self.valid > 0
        return {"cells": self.cells, "valid_cells": self.valid,
                "ls_mean": self.total / self.valid if some else float("nan"),
                "ls_max": self.ls_max if some else float("nan"),
                "max_contributing_km2": self.acc_max / 1e6 if some else 0.0}


def ls_factor(z: np.ndarray, transform: Affine, crs: CRS, *, l_max: float = 122.0,
              area_form: str = "area") -> tuple[np.ndarray, dict]:
    """LS (float32, NaN on nodata) of a DEM array ``z`` (m, NaN = nodata) and a summary dict.

    The whole DEM and its flow graph are held in memory (memory grows with the DEM); this is the reference for the
    tiled :func:`compute_ls`, which gives the same LS with memory bounded by the tile.
    """
    _check_area_form(area_form)
    crs = CRS.from_user_input(crs)
    h, w = z.shape
    dx, dy, area = cell_geometry(transform, (h, w), crs)
    rec = d8_receivers(z, dx, dy)
    acc = flow_accumulation(rec, np.broadcast_to(area[:, None], (h, w))).reshape(h, w)
    del rec
    ls = np.empty((h, w), dtype=np.float32)
    for r0 in range(0, h, _STRIPE):
        r1 = min(h, r0 + _STRIPE)
        slope_pct, x = slope_aspect(z, dx, dy, r0, r1)
        ls[r0:r1] = _ls_rows(slope_pct, x, acc[r0:r1], area[r0:r1, None], z[r0:r1], l_max, area_form)
    stats = _LsStats()
    stats.add(ls, acc)
    return ls, stats.summary()


def _ls_tile(zb: np.ndarray, acc: np.ndarray, window: tuple[int, int, int, int], shape: tuple[int, int],
             dx: np.ndarray, dy: np.ndarray, area: np.ndarray, l_max: float, area_form: str) -> np.ndarray:
    """LS (float32) of one tile from its 1-cell-halo block ``zb`` (NaN outside the DEM; changed in place).

    The halo rows/columns outside the DEM are replaced by the DEM's edge (the replication of
    :func:`slope_aspect`), so Horn's slope equals the whole-DEM one cell for cell. Row stripes of
    ``_TILE_STRIPE`` rows bound the float64 temporaries.
    """
    r0, r1, c0, c1 = window
    h, w = shape
    if r0 == 0:
        zb[0] = zb[1]
    if r1 == h:
        zb[-1] = zb[-2]
    if c0 == 0:
        zb[:, 0] = zb[:, 1]
    if c1 == w:
        zb[:, -1] = zb[:, -2]
    th = r1 - r0
    dxs = np.ones(th + 2)
    dys = np.ones(th + 2)
    dxs[1:-1] = dx[r0:r1]
    dys[1:-1] = dy[r0:r1]
    ls = np.empty((th, c1 - c0), dtype=np.float32)
    for s0 in range(0, th, _TILE_STRIPE):
        s1 = min(th, s0 + _TILE_STRIPE)
        slope_pct, x = slope_aspect(zb, dxs, dys, 1 + s0, 1 + s1)
        ls[s0:s1] = _ls_rows(slope_pct[:, 1:-1], x[:, 1:-1], acc[s0:s1], area[r0 + s0:r0 + s1, None],
                             zb[1 + s0:1 + s1, 1:-1], l_max, area_form)
    return ls


class _DemReader:
    """``read_block`` of :func:`~gep.hydrology.flow_tiles.tiled_accumulation` over a DEM file, thread-safe:
    each thread reads through its own rasterio dataset (datasets must not be shared between threads)."""

    def __init__(self, path: Path, shape: tuple[int, int], z_scale: float) -> None:
        self.path, self.shape, self.z_scale = path, shape, z_scale
        self._local = threading.local()
        self._opened: list = []
        self._lock = threading.Lock()

    def __call__(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Rows r0..r1, columns c0..c1 with a 1-cell halo (float32 m, NaN = nodata or outside)."""
        src = getattr(self._local, "src", None)
        if src is None:
            src = self._local.src = rasterio.open(self.path)
            with self._lock:
                self._opened.append(src)
        h, w = self.shape
        lo_r, hi_r, lo_c, hi_c = max(r0 - 1, 0), min(r1 + 1, h), max(c0 - 1, 0), min(c1 + 1, w)
        z = src.read(1, window=Window(lo_c, lo_r, hi_c - lo_c, hi_r - lo_r), masked=True)
        z = z.astype(np.float32).filled(np.nan)
        if self.z_scale != 1.0:
            z *= np.float32(self.z_scale)
        zb = np.full((r1 - r0 + 2, c1 - c0 + 2), np.nan, dtype=np.float32)
        zb[lo_r - r0 + 1:hi_r - r0 + 1, lo_c - c0 + 1:hi_c - c0 + 1] = z
        return zb

    def close(self) -> None:
        """Close every thread's dataset (call once no thread reads any more)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for src in opened:
            src.close()


def compute_ls(dem_path: str | Path, out_path: str | Path, *, l_max: float = 122.0, area_form: str = "area",
               z_scale: float = 1.0, tile: int = 2048, workers: int | None = None) -> dict:
    """Compute LS on a DEM's grid tile by tile and write it as a tiled float32 GeoTIFF.

    The DEM is read in ``tile`` × ``tile`` windows (plus a 1-cell halo), twice: flow accumulation is exact
    across tiles (:mod:`gep.hydrology.flow_tiles`), and memory is bounded by the tile and the workers, whatever
    the DEM size (figures in benchmarks/README.md).
    Tiles are read and computed (accumulation and LS) on ``workers`` threads (default: ``GEP_THREADS``, else
    the number of CPUs); the GeoTIFF is written from the calling thread. The output and the summary are
    bit-identical for any ``workers``. ``z_scale`` converts the DEM's elevation unit to metres. Returns the
    summary of :func:`ls_factor` plus the output path and the tile size. Raises InputError for a missing file,
    a DEM without CRS, a tile size < 1 or workers < 0.
    """
    from gep.hydrology.flow_tiles import tiled_accumulation

    _check_area_form(area_form)
    dem_path = Path(dem_path)
    if not dem_path.is_file():
        raise InputError(f"{dem_path}: DEM does not exist; check 'dem' in the GEP config or --dem")
    if tile < 1:
        raise InputError(f"LS tile size {tile}: use a positive number of cells (e.g. 2048)")
    if workers is not None and workers < 0:
        raise InputError(f"LS workers {workers}: use a positive number of threads (0: the default)")
    workers = worker_count(workers)
    with rasterio.open(dem_path) as src:
        if src.crs is None:
            raise InputError(f"{dem_path}: DEM has no CRS; assign one (gdal_edit.py -a_srs EPSG:4490)")
        h, w = src.height, src.width
        transform, crs = src.transform, CRS.from_user_input(src.crs)
        profile = {"driver": "GTiff", "height": h, "width": w, "count": 1, "dtype": "float32",
                   "crs": src.crs, "transform": transform, "nodata": np.nan, "tiled": True, "blockxsize": 512,
                   "blockysize": 512, "compress": "deflate", "predictor": 3, "BIGTIFF": "IF_SAFER"}
    dx, dy, area = cell_geometry(transform, (h, w), crs)

    def finish(window: tuple[int, int, int, int], zb: np.ndarray, acc: np.ndarray) -> tuple:
        """LS of one tile and its summary, in a worker thread."""
        ls = _ls_tile(zb, acc, window, (h, w), dx, dy, area, l_max, area_form)
        part = _LsStats()
        part.add(ls, acc)
        return window, ls, part

    stats = _LsStats()
    reader = _DemReader(dem_path, (h, w), z_scale)
    # closed in reverse order: the tile generator (waits for the worker threads) before the DEM handles, also
    # when writing fails
    tiles = closing(tiled_accumulation(reader, (h, w), dx, dy, area, tile, workers, finish))
    # a small GDAL block cache: each output tile is written once, whole, so caching buys nothing
    with closing(reader), tiles as tile_iter, rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_MB), \
            atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        for (r0, r1, c0, c1), ls, part in tile_iter:
            stats.merge(part)  # in tile order: the float sum does not depend on the workers
            dst.write(ls, 1, window=Window(c0, r0, c1 - c0, r1 - r0))
        dst.update_tags(units="1 (dimensionless LS factor)", method=LS_METHOD, l_max=str(l_max),
                        area_form=area_form, dem=str(dem_path))
    summary = stats.summary()
    summary["path"] = str(out_path)
    summary["tile"] = int(tile)
    return summary
