"""USLE/RUSLE slope-length and steepness factor LS from a DEM (docs/methods.md §4.2.5).

The method is chosen by an :class:`LsMethod`; its defaults are InVEST SDR's LS as of InVEST 3.14 (kept
through 3.20, ``sdr.py`` ``_calculate_ls_factor``):

- **Depression filling** (``fill_pits``, default on): Priority-Flood+ε (Barnes et al. 2014,
  :mod:`gep.hydrology.fill`) on the whole DEM before routing and slope; pits are filled to their spill level
  and flats get the smallest float32 slope towards their outlet, so every cell drains to the DEM's edge.
- **Flow accumulation (D8).** Each cell drains to the one of its 8 neighbours with the steepest downward
  drop per metre (ties: the first in N, NE, E, SE, S, SW, W, NW order; the one rule is :func:`d8_codes`).
  The accumulated quantity is the ellipsoidal cell area (m²), so ``acc`` is the contributing area *including*
  the cell itself. :func:`compute_ls` accumulates tile by tile, exactly across tiles
  (:mod:`gep.hydrology.flow_tiles`, after Barnes 2017); :func:`ls_factor` is the whole-DEM in-memory
  reference (Kahn's algorithm front by front, :func:`flow_accumulation`).
- **L (Desmet & Govers 1996)** with U the upslope term, D = √(cell area) (m)::

      L = ((U + D²)^(m+1) − U^(m+1)) / (D^(m+2) · x^m · 22.13^m),  capped at ``l_max`` (InVEST: 122)

  ``area_form="sqrt"`` (default, InVEST ≥ 3.14): U = √A with A = acc − cell area, the area strictly
  upslope (m²); ``"area"``: U = A (the form InVEST used before 3.14). ``x_form="slope"`` (default, InVEST
  ≥ 3.14's code): x = |sin θ| + |cos θ| of the slope angle θ; ``"aspect"``: x = |sin a| + |cos a| of the
  aspect a (Desmet & Govers' definition; 1 on flat cells). m by percent slope s as in InVEST (Oliveira et
  al. 2013 table): 0.2 (s ≤ 1), 0.3 (≤ 3.5), 0.4 (≤ 5), 0.5 (≤ 9), β/(1+β) above with
  β = (sin θ / 0.0896) / (3 sin^0.8 θ + 0.56).
- **S**: ``s_form="mccool"`` (default, McCool et al. 1987): 10.8 sin θ + 0.03 where s < 9 %, else
  16.8 sin θ − 0.50; ``"liu"`` (Liu Baoyuan et al. 1994, steep slopes in Chinese practice): McCool below
  10°, 21.91 sin θ − 0.96 from 10° up.
- **Stream cells** (``stream_threshold``, off by default; the ``invest`` preset: 1000): cells draining more
  than that many cells (acc > (threshold + ½) × the cell's area) are channel, not hillslope; InVEST SDR gives
  them no RKLS, gep writes LS = 0 there so they retain no soil.
- **Slope** θ from Horn's (1981) 3 × 3 finite differences, with the cell's ground size in metres (for a
  geographic DEM: the row's length of a degree of longitude/latitude on the CRS's ellipsoid). DEM edges are
  extended by replication; nodata cells and their neighbours get NaN.

Memory: without filling, :func:`compute_ls` reads the DEM twice in ``tile`` × ``tile`` windows (default
2048) with a 1-cell halo and writes LS window by window, so memory is bounded by the tile and the number of
``workers`` (threads computing tiles in parallel: the flow graph of a tile plus the row-striped LS
temporaries, per worker; at most ``workers + 1`` tiles in flight) and by the perimeter graph (tile-edge
cells), not by the DEM. Filling is a whole-DEM operation: with ``fill_pits`` the DEM is read once into memory
(float32, 4 B/cell, plus 1 B/cell and the flood's queues while filling) and the tiles are cut from the filled
array. For a DEM too large for that, fill it beforehand (any priority-flood or Wang & Liu tool) and set
``fill_pits: false``. The output does not depend on ``workers`` (bit for bit). Time and peak memory by DEM
size, tile and workers: benchmarks/README.md (bench_services.py). The output equals :func:`ls_factor` (the
in-memory reference). Use a DEM of the resolution the LS factor is meant for (30 m or 90 m); LS is then
resampled (bilinear) onto the land-cover grid by :mod:`gep.raster.resample`.
"""

from __future__ import annotations

import math
import threading
from contextlib import closing, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.windows import Window

from gep.core.atomic import atomic_path
from gep.raster.cellarea import row_areas_m2
from gep.core.errors import InputError
from gep.core.workers import worker_count
from gep.hydrology.d8 import _DC, _DR, OFFSETS, d8_codes, d8_distances  # noqa: F401
from gep.hydrology.fill import FillStats, fill_depressions

if TYPE_CHECKING:
    from gep.config.gep import LSConfig

AREA_FORMS = ("sqrt", "area")
X_FORMS = ("slope", "aspect")
S_FORMS = ("mccool", "liu")

_STRIPE = 1024
_TILE_STRIPE = 256
_GDAL_CACHE_MB = 128
#: slope (%) from which the Liu et al. (1994) S applies: tan 10°
LIU_FROM_PCT = 100.0 * math.tan(math.radians(10.0))


@dataclass(frozen=True)
class LsMethod:
    """How LS is computed (docs/methods.md §4.2.5). The defaults are InVEST SDR's LS (3.14–3.20) with D8.

    ``area_form``: ``sqrt`` (√ of the upslope area, InVEST ≥ 3.14) or ``area`` (the area itself);
    ``x_form``: ``slope`` (|sin θ| + |cos θ| of the slope angle, InVEST ≥ 3.14) or ``aspect`` (of the aspect,
    Desmet & Govers); ``s_form``: ``mccool`` or ``liu`` (Liu et al. 1994 from 10°); ``l_max``: cap on L;
    ``fill_pits``: fill depressions first (Priority-Flood+ε); ``stream_threshold``: cells draining more than
    this many cells are streams and get LS 0 (None: no stream cells).
    """

    area_form: str = "sqrt"
    x_form: str = "slope"
    s_form: str = "mccool"
    l_max: float = 122.0
    fill_pits: bool = True
    stream_threshold: int | None = None

    def __post_init__(self) -> None:
        for key, value, allowed in (("area_form", self.area_form, AREA_FORMS), ("x_form", self.x_form, X_FORMS),
                                    ("s_form", self.s_form, S_FORMS)):
            if value not in allowed:
                raise InputError(f"LS {key} '{value}': use one of {', '.join(allowed)} (docs/methods.md §4.2.5)")
        if not self.l_max > 0:
            raise InputError(f"LS l_max {self.l_max}: use a positive cap on L (InVEST: 122)")
        if self.stream_threshold is not None and self.stream_threshold < 1:
            raise InputError(f"LS stream threshold {self.stream_threshold}: use a number of cells ≥ 1 "
                             "(InVEST: 1000)")

    @classmethod
    def from_settings(cls, ls: LSConfig) -> LsMethod:
        """The method of the ``gep.ls`` settings (their preset already applied)."""
        return cls(area_form=ls.area_form, x_form=ls.x_form, s_form=ls.s_form, l_max=ls.l_max,
                   fill_pits=ls.fill_pits,
                   stream_threshold=ls.threshold_flow_accumulation if ls.exclude_streams else None)

    def describe(self) -> str:
        """The method in words, for the ``method`` column and the LS raster's tags."""
        upslope = "√(upslope area)" if self.area_form == "sqrt" else "upslope area"
        x = "slope angle" if self.x_form == "slope" else "aspect"
        s = ("McCool 1987 S" if self.s_form == "mccool" else
             "S McCool 1987 below 10°, Liu et al. 1994 (21.91 sin θ − 0.96) from 10°")
        fill = "pits filled (Priority-Flood+ε, Barnes 2014)" if self.fill_pits else "pits not filled"
        streams = ("no stream cells excluded" if self.stream_threshold is None else
                   f"LS 0 on stream cells (draining > {self.stream_threshold} cells)")
        return (f"LS: Desmet & Govers 1996 L with D8 {upslope} and x from the {x}, L capped at l_max "
                f"{self.l_max:g}, {s}, Horn 1981 slope, {fill}, {streams}")

    def tags(self) -> dict[str, str]:
        """The method's settings as GeoTIFF tags."""
        return {"area_form": self.area_form, "x_form": self.x_form, "s_form": self.s_form,
                "l_max": str(self.l_max), "fill_pits": str(self.fill_pits),
                "stream_threshold": "none" if self.stream_threshold is None else str(self.stream_threshold)}


#: the InVEST SDR 3.20 settings gep reproduces with D8 routing (the ``invest`` preset of ``gep.ls``)
INVEST = LsMethod(area_form="sqrt", x_form="slope", s_form="mccool", l_max=122.0, fill_pits=True,
                  stream_threshold=1000)


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


def s_factor(slope_pct: np.ndarray, s_form: str = "mccool") -> np.ndarray:
    """S from percent slope: McCool et al. (1987), or with ``s_form="liu"`` Liu et al. (1994) from 10°."""
    sin_t = np.sin(np.arctan(slope_pct / 100.0))
    s = np.where(slope_pct < 9.0, 10.8 * sin_t + 0.03, 16.8 * sin_t - 0.50)
    if s_form == "liu":
        s = np.where(slope_pct >= LIU_FROM_PCT, 21.91 * sin_t - 0.96, s)
    return s


def ls_from_parts(slope_pct: np.ndarray, x: np.ndarray, upslope_m2: np.ndarray, cell_m2: np.ndarray,
                  method: LsMethod = LsMethod()) -> np.ndarray:
    """LS from percent slope, the x term, upslope area A (m², excluding the cell) and cell area (m²).

    Uses ``method``'s area form, S form and cap (x is given). Exposed for tests and for users who bring their
    own slope or accumulation.
    """
    sin_t = np.sin(np.arctan(slope_pct / 100.0))
    m = _m_exponent(slope_pct, sin_t)
    u = np.sqrt(upslope_m2) if method.area_form == "sqrt" else upslope_m2
    d = np.sqrt(cell_m2)
    l_factor = ((u + d * d) ** (m + 1) - u ** (m + 1)) / (d ** (m + 2) * x**m * 22.13**m)
    l_factor = np.minimum(l_factor, method.l_max)
    return l_factor * s_factor(slope_pct, method.s_form)


def x_from_slope(slope_pct: np.ndarray) -> np.ndarray:
    """x = |sin θ| + |cos θ| of the slope angle θ (InVEST ≥ 3.14)."""
    theta = np.arctan(slope_pct / 100.0)
    return np.abs(np.sin(theta)) + np.abs(np.cos(theta))


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


def stream_mask(acc: np.ndarray, cell_m2: np.ndarray, threshold: int | None) -> np.ndarray | None:
    """Stream cells: more than ``threshold`` cells drain through the cell (itself included), i.e. acc (m²) >
    (threshold + ½) × its cell area, so rounding in acc never moves a cell across (InVEST: FA > threshold)."""
    if threshold is None:
        return None
    return acc > (threshold + 0.5) * cell_m2


def _ls_rows(slope_pct: np.ndarray, x_aspect: np.ndarray, acc: np.ndarray, cell_m2: np.ndarray, z: np.ndarray,
             method: LsMethod) -> tuple[np.ndarray, int]:
    """LS (float32) of a block of cells from slope, aspect term, accumulation (m², incl. the cell), cell area,
    and the number of stream cells set to 0. Cells whose elevation ``z`` is NaN get NaN."""
    upslope = np.maximum(acc - cell_m2, 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        x = x_from_slope(slope_pct) if method.x_form == "slope" else x_aspect
        ls = ls_from_parts(slope_pct, x, upslope, cell_m2, method).astype(np.float32)
    ls[np.isnan(z)] = np.nan
    streams = stream_mask(acc, cell_m2, method.stream_threshold)
    n_streams = 0
    if streams is not None:
        streams &= ~np.isnan(z)
        ls[streams] = 0.0
        n_streams = int(streams.sum())
    return ls, n_streams


class _LsStats:
    """Summary of an LS raster built block by block (cells, valid cells, mean/max LS, largest accumulation,
    stream cells)."""

    def __init__(self) -> None:
        self.cells = 0
        self.valid = 0
        self.total = 0.0
        self.ls_max = -math.inf
        self.acc_max = -math.inf
        self.streams = 0

    def add(self, ls: np.ndarray, acc: np.ndarray, streams: int = 0) -> None:
        self.cells += int(ls.size)
        self.streams += streams
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
        self.streams += other.streams

    def summary(self, method: LsMethod, fill: FillStats | None) -> dict:
        some = self.valid > 0
        out = {"cells": self.cells, "valid_cells": self.valid,
               "ls_mean": self.total / self.valid if some else float("nan"),
               "ls_max": self.ls_max if some else float("nan"),
               "max_contributing_km2": self.acc_max / 1e6 if some else 0.0}
        if fill is not None:
            out.update(fill.as_dict())
        if method.stream_threshold is not None:
            out["stream_cells"] = self.streams
        return out


def ls_factor(z: np.ndarray, transform: Affine, crs: CRS, method: LsMethod = LsMethod()) -> tuple[np.ndarray, dict]:
    """LS (float32, NaN on nodata) of a DEM array ``z`` (m, NaN = nodata) and a summary dict.

    The whole DEM and its flow graph are held in memory (memory grows with the DEM); this is the reference for the
    tiled :func:`compute_ls`, which gives the same LS.
    """
    crs = CRS.from_user_input(crs)
    h, w = z.shape
    fill = None
    if method.fill_pits:
        zp = np.pad(np.asarray(z, dtype=np.float32), 1, mode="constant", constant_values=np.nan)
        fill = fill_depressions(zp)
        z = zp[1:-1, 1:-1]
    dx, dy, area = cell_geometry(transform, (h, w), crs)
    rec = d8_receivers(z, dx, dy)
    acc = flow_accumulation(rec, np.broadcast_to(area[:, None], (h, w))).reshape(h, w)
    del rec
    ls = np.empty((h, w), dtype=np.float32)
    stats = _LsStats()
    for r0 in range(0, h, _STRIPE):
        r1 = min(h, r0 + _STRIPE)
        slope_pct, x = slope_aspect(z, dx, dy, r0, r1)
        ls[r0:r1], streams = _ls_rows(slope_pct, x, acc[r0:r1], area[r0:r1, None], z[r0:r1], method)
        stats.streams += streams
    stats.add(ls, acc)
    return ls, stats.summary(method, fill)


def _ls_tile(zb: np.ndarray, acc: np.ndarray, window: tuple[int, int, int, int], shape: tuple[int, int],
             dx: np.ndarray, dy: np.ndarray, area: np.ndarray, method: LsMethod) -> tuple[np.ndarray, int]:
    """LS (float32) of one tile from its 1-cell-halo block ``zb`` (NaN outside the DEM; changed in place), and
    its number of stream cells.

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
    n_streams = 0
    for s0 in range(0, th, _TILE_STRIPE):
        s1 = min(th, s0 + _TILE_STRIPE)
        slope_pct, x = slope_aspect(zb, dxs, dys, 1 + s0, 1 + s1)
        ls[s0:s1], streams = _ls_rows(slope_pct[:, 1:-1], x[:, 1:-1], acc[s0:s1], area[r0 + s0:r0 + s1, None],
                                      zb[1 + s0:1 + s1, 1:-1], method)
        n_streams += streams
    return ls, n_streams


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


def _read_padded(path: Path, shape: tuple[int, int], z_scale: float) -> np.ndarray:
    """The whole DEM (float32 m, NaN = nodata) with a 1-cell NaN halo, read in row stripes."""
    h, w = shape
    zp = np.full((h + 2, w + 2), np.nan, dtype=np.float32)
    with rasterio.open(path) as src:
        for r0 in range(0, h, _STRIPE):
            r1 = min(h, r0 + _STRIPE)
            z = src.read(1, window=Window(0, r0, w, r1 - r0), masked=True)
            zp[1 + r0:1 + r1, 1:-1] = z.astype(np.float32).filled(np.nan)
    if z_scale != 1.0:
        zp *= np.float32(z_scale)
    return zp


def _padded_reader(zp: np.ndarray):
    """``read_block`` over a padded in-memory DEM (read-only: thread-safe)."""

    def read_block(r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        return zp[r0:r1 + 2, c0:c1 + 2].copy()

    return read_block


def compute_ls(dem_path: str | Path, out_path: str | Path, method: LsMethod = LsMethod(), *,
               z_scale: float = 1.0, tile: int = 2048, workers: int | None = None) -> dict:
    """Compute LS on a DEM's grid tile by tile and write it as a tiled float32 GeoTIFF.

    With ``method.fill_pits`` the DEM is read whole and filled first (module docstring); the tiles are then
    cut from the filled array. Otherwise it is read in ``tile`` × ``tile`` windows (plus a 1-cell halo),
    twice. Flow accumulation is exact across tiles (:mod:`gep.hydrology.flow_tiles`).
    Tiles are computed (accumulation and LS) on ``workers`` threads (default: ``GEP_THREADS``, else the
    number of CPUs); the GeoTIFF is written from the calling thread. The output and the summary are
    bit-identical for any ``workers``. ``z_scale`` converts the DEM's elevation unit to metres. Returns the
    summary of :func:`ls_factor` (with the pits filled and the stream cells) plus the output path and the
    tile size. Raises InputError for a missing file, a DEM without CRS, a tile size < 1 or workers < 0.
    """
    from gep.hydrology.flow_tiles import tiled_accumulation

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
        ls, streams = _ls_tile(zb, acc, window, (h, w), dx, dy, area, method)
        part = _LsStats()
        part.add(ls, acc, streams)
        return window, ls, part

    stats = _LsStats()
    fill = None
    if method.fill_pits:
        zp = _read_padded(dem_path, (h, w), z_scale)
        fill = fill_depressions(zp)
        reader = _padded_reader(zp)
        release = nullcontext()
    else:
        reader = _DemReader(dem_path, (h, w), z_scale)
        release = closing(reader)
    # closed in reverse order: the tile generator (waits for the worker threads) before the DEM handles, also
    # when writing fails
    tiles = closing(tiled_accumulation(reader, (h, w), dx, dy, area, tile, workers, finish))
    # a small GDAL block cache: each output tile is written once, whole, so caching buys nothing
    with release, tiles as tile_iter, rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_MB), \
            atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        for (r0, r1, c0, c1), ls, part in tile_iter:
            stats.merge(part)  # in tile order: the float sum does not depend on the workers
            dst.write(ls, 1, window=Window(c0, r0, c1 - c0, r1 - r0))
        extra = {} if fill is None else {k: str(v) for k, v in fill.as_dict().items()}
        dst.update_tags(units="1 (dimensionless LS factor)", method=method.describe(), dem=str(dem_path),
                        **method.tags(), **extra)
    summary = stats.summary(method, fill)
    summary["path"] = str(out_path)
    summary["tile"] = int(tile)
    return summary

