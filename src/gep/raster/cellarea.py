"""True ground area of raster cells on the CRS's ellipsoid (docs/methods.md §1).

- Geographic CRS: a cell between latitudes φ1 and φ2 and Δλ degrees wide has the exact ellipsoidal area
  Δλ/360 × (zone area between φ1 and φ2), from the authalic-latitude formula; it depends on the row only.
- Projected CRS: nominal |res_x × res_y| divided by the projection's areal scale factor at the cell centre,
  taken from PROJ on a coarse lattice and interpolated bilinearly (the factor is smooth: Gauss-Krüger/UTM
  differ from 1 by up to ~0.1%).
Areas are returned in m²; the accounting uses fixed-point integers of cm² (``to_cm2``) so that sums are exact
and independent of chunking and order.
"""

from __future__ import annotations

import numpy as np
from affine import Affine
from pyproj import CRS, Proj, Transformer

from gep.core.units import CM2_PER_M2  # noqa: F401  (cell areas are integer cm²)


def apply_affine(t: Affine, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Apply the affine transform ``t`` to coordinate arrays (x, y) (vectorised, float64)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f


def _q(phi: np.ndarray, e: float) -> np.ndarray:
    """Authalic q(φ) of Snyder (1987) eq. 3-12, dimensionless."""
    s = np.sin(phi)
    if e == 0:
        return 2 * s
    es = e * s
    return (1 - e * e) * (s / (1 - es * es) - (1 / (2 * e)) * np.log((1 - es) / (1 + es)))


def band_area_m2(lat0: np.ndarray, lat1: np.ndarray, ellipsoid) -> np.ndarray:
    """Area (m²) of the full zone (360° of longitude) between latitudes ``lat0`` and ``lat1`` (degrees)."""
    a = ellipsoid.semi_major_metre
    b = ellipsoid.semi_minor_metre
    e = np.sqrt(max(0.0, 1 - (b * b) / (a * a)))
    q0 = _q(np.radians(lat0), e)
    q1 = _q(np.radians(lat1), e)
    return np.abs(np.pi * a * a * (q1 - q0))


def row_areas_m2(transform: Affine, height: int, crs: CRS, row0: int = 0) -> np.ndarray:
    """Exact area (m²) of one cell in each of rows ``row0 .. row0+height-1`` of a north-up geographic grid."""
    if transform.b != 0 or transform.d != 0:
        raise ValueError("rotated geographic grids are not supported")
    rows = np.arange(row0, row0 + height, dtype=np.float64)
    lat_top = transform.f + transform.e * rows
    lat_bot = lat_top + transform.e
    return band_area_m2(lat_top, lat_bot, crs.ellipsoid) * abs(transform.a) / 360.0


def to_cm2(area_m2: np.ndarray) -> np.ndarray:
    """Round areas in m² to integer cm² (int64): the fixed-point unit of all accounting sums."""
    return np.rint(np.asarray(area_m2, dtype=np.float64) * CM2_PER_M2).astype(np.int64)


def _areal_scale(crs: CRS, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """PROJ's areal scale factor (map area / ground area) at projected points (x, y)."""
    to_geo = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    lon, lat = to_geo.transform(xs, ys)
    factors = Proj(crs).get_factors(lon, lat)
    return np.asarray(factors.areal_scale, dtype=np.float64)


def cell_areas_m2(transform: Affine, window_rows: tuple[int, int], window_cols: tuple[int, int], crs: CRS,
                  lattice: int = 32) -> np.ndarray:
    """Ground area (m²) of every cell of a window of a projected grid, as a 2-D float64 array.

    ``window_rows``/``window_cols`` are (start, stop) in grid indices. The areal scale factor is evaluated at
    cell centres on a lattice of every ``lattice``-th GLOBAL row and column (so a cell gets the same area
    whichever block it is read in) and interpolated linearly between lattice points.
    """
    r0, r1 = window_rows
    c0, c1 = window_cols
    nominal = abs(transform.a * transform.e - transform.b * transform.d)
    lr = np.arange((r0 // lattice) * lattice, r1 - 1 + lattice, lattice, dtype=np.float64)
    lc = np.arange((c0 // lattice) * lattice, c1 - 1 + lattice, lattice, dtype=np.float64)
    cc, rr = np.meshgrid(lc + 0.5, lr + 0.5)
    xs, ys = apply_affine(transform, cc.ravel(), rr.ravel())
    k = _areal_scale(crs, np.asarray(xs), np.asarray(ys)).reshape(rr.shape)
    rows = np.arange(r0, r1, dtype=np.float64)
    cols = np.arange(c0, c1, dtype=np.float64)
    # separable linear interpolation: along columns for each lattice row, then along rows
    k_cols = np.vstack([np.interp(cols, lc, k[i]) for i in range(len(lr))])
    if len(lr) == 1:
        return nominal / np.broadcast_to(k_cols, (len(rows), len(cols))).copy()
    i = np.clip(np.searchsorted(lr, rows, side="right") - 1, 0, len(lr) - 2)
    t = ((rows - lr[i]) / (lr[i + 1] - lr[i]))[:, None]
    k_full = (1 - t) * k_cols[i] + t * k_cols[i + 1]
    return nominal / k_full
