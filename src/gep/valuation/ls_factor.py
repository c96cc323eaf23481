"""USLE/RUSLE slope-length and steepness factor LS from a DEM, with D8 flow accumulation (numpy, in memory).

Method (named in the output ``method`` column as :data:`LS_METHOD`), as in InVEST SDR:

- **Flow accumulation (D8).** Each cell drains to the one of its 8 neighbours with the steepest downward
  drop per metre (ties: the first in N, NE, E, SE, S, SW, W, NW order). Cells without a strictly lower
  neighbour (pits, flats, the DEM's edge) end their flow path. The accumulated quantity is the ellipsoidal
  cell area (m²), so ``acc`` is the contributing area *including* the cell itself. The accumulation is
  ordered topologically, front by front (Kahn's algorithm): every step moves all cells whose donors are
  done at once with ``np.add.at``, so there is no Python loop over cells; the number of steps equals the
  longest flow path in cells. **No depression filling is done**: give a hydrologically conditioned
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

Memory: the whole DEM is held with its flow graph: about 35–40 bytes per DEM cell at the peak (float32
elevation and its padded copy, int32 receiver (int64 above 2³¹ cells), float64 accumulation, uint8
in-degree, int32 scratch, float32 LS, the read buffer) plus row-striped temporaries — measured 1.9 GB peak
RSS for 6,667 × 6,667 cells (44 M, 24 s on 2 cores); expect ~4 GB for 10,000 × 10,000 and ~16 GB for
20,000 × 20,000. :func:`compute_ls` refuses DEMs that would
not fit into the memory available and says so. Use a DEM of the resolution the LS factor is meant for (30 m
or 90 m); LS is then resampled (bilinear) onto the land-cover grid by :mod:`gep.valuation.resample`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS

from ..atomic import atomic_path
from ..cellarea import row_areas_m2
from ..errors import InputError

#: Method label written to the ``method`` column of soil-retention rows.
LS_METHOD = ("LS: Desmet & Govers 1996 L with D8 contributing area (as InVEST SDR, L capped), "
             "McCool 1987 S, Horn 1981 slope")

#: (row, col) offsets of the 8 neighbours: N, NE, E, SE, S, SW, W, NW.
OFFSETS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))

#: Bytes per DEM cell held during the computation (see module docstring).
BYTES_PER_CELL = 40
_STRIPE = 1024


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

    ``dx``/``dy`` are the cell sizes (m) of each row. Steepest drop per metre; strictly downhill only.
    """
    h, w = z.shape
    idx_dtype = np.int32 if h * w < 2**31 - 1 else np.int64
    rec = np.full(h * w, -1, dtype=idx_dtype)
    zp = np.pad(z.astype(np.float32, copy=False), 1, mode="constant", constant_values=np.nan)  # 4 B/cell
    for r0 in range(0, h, _STRIPE):
        r1 = min(h, r0 + _STRIPE)
        zc = zp[1 + r0:1 + r1, 1:1 + w].astype(np.float64)
        best = np.zeros(zc.shape)
        best_k = np.full(zc.shape, -1, dtype=np.int8)
        ddx = dx[r0:r1, None]
        ddy = dy[r0:r1, None]
        for k, (dr, dc) in enumerate(OFFSETS):
            zn = zp[1 + r0 + dr:1 + r1 + dr, 1 + dc:1 + w + dc].astype(np.float64)
            dist = np.sqrt((dc * ddx) ** 2 + (dr * ddy) ** 2)
            with np.errstate(invalid="ignore"):
                drop = (zc - zn) / dist
                better = drop > best  # NaN compares False: nodata neighbours and cells never win
            best[better] = drop[better]
            best_k[better] = k
        rows, cols = np.nonzero(best_k >= 0)
        k = best_k[rows, cols]
        off_r = np.array([o[0] for o in OFFSETS])[k]
        off_c = np.array([o[1] for o in OFFSETS])[k]
        src = (rows + r0) * w + cols
        rec[src] = ((rows + r0 + off_r) * w + cols + off_c).astype(idx_dtype)
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


def ls_factor(z: np.ndarray, transform: Affine, crs: CRS, *, l_max: float = 122.0,
              area_form: str = "area") -> tuple[np.ndarray, dict]:
    """LS (float32, NaN on nodata) of a DEM array ``z`` (m, NaN = nodata) and a summary dict."""
    if area_form not in ("area", "sqrt"):
        raise InputError(f"LS area_form '{area_form}': use 'area' (Desmet & Govers) or 'sqrt' (InVEST ≥ 3.14)")
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
        ca = area[r0:r1, None]
        upslope = np.maximum(acc[r0:r1] - ca, 0.0)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            ls[r0:r1] = ls_from_parts(slope_pct, x, upslope, ca, l_max, area_form)
    ls[np.isnan(z)] = np.nan
    valid = np.isfinite(ls)
    summary = {"cells": int(h * w), "valid_cells": int(valid.sum()),
               "ls_mean": float(ls[valid].mean()) if valid.any() else float("nan"),
               "ls_max": float(ls[valid].max()) if valid.any() else float("nan"),
               "max_contributing_km2": float(np.nanmax(acc) / 1e6) if valid.any() else 0.0}
    return ls, summary


def _mem_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def compute_ls(dem_path: str | Path, out_path: str | Path, *, l_max: float = 122.0, area_form: str = "area",
               z_scale: float = 1.0) -> dict:
    """Read a DEM (whole, into memory), compute LS on its grid and write it as a tiled float32 GeoTIFF.

    ``z_scale`` converts the DEM's elevation unit to metres. Returns the summary of :func:`ls_factor` plus
    the output path. Raises InputError for a missing file, a DEM without CRS, or a DEM that would not fit
    into the available memory (~40 bytes per cell).
    """
    dem_path = Path(dem_path)
    if not dem_path.is_file():
        raise InputError(f"{dem_path}: DEM does not exist; check 'dem' in the GEP config or --dem")
    with rasterio.open(dem_path) as src:
        if src.crs is None:
            raise InputError(f"{dem_path}: DEM has no CRS; assign one (gdal_edit.py -a_srs EPSG:4490)")
        need = src.height * src.width * BYTES_PER_CELL
        avail = _mem_available()
        if avail is not None and need > 0.8 * avail:
            raise InputError(
                f"{dem_path}: the LS factor needs the whole DEM in memory (~{need / 2**30:.1f} GiB for "
                f"{src.height}×{src.width} cells) but only {avail / 2**30:.1f} GiB are available; use a coarser "
                f"DEM (e.g. 90 m), clip it to the regions, or run on a machine with more memory")
        z = src.read(1, masked=True).astype(np.float32).filled(np.nan)
        if z_scale != 1.0:
            z *= np.float32(z_scale)
        transform, crs = src.transform, CRS.from_user_input(src.crs)
        profile = {"driver": "GTiff", "height": src.height, "width": src.width, "count": 1, "dtype": "float32",
                       "crs": src.crs, "transform": transform, "nodata": np.nan, "tiled": True, "blockxsize": 512,
                       "blockysize": 512, "compress": "deflate", "predictor": 3, "BIGTIFF": "IF_SAFER"}
    ls, summary = ls_factor(z, transform, crs, l_max=l_max, area_form=area_form)
    del z
    with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(ls, 1)
        dst.update_tags(units="1 (dimensionless LS factor)", method=LS_METHOD, l_max=str(l_max),
                        area_form=area_form, dem=str(dem_path))
    summary["path"] = str(out_path)
    return summary
