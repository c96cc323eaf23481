"""LS factor (gep.hydrology.ls_factor): D8 flow accumulation against a brute-force loop, L and S by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS

from gep.core.errors import InputError
from gep.hydrology.ls_factor import (
    OFFSETS,
    cell_geometry,
    compute_ls,
    d8_receivers,
    flow_accumulation,
    ls_factor,
    ls_from_parts,
)

UTM49 = CRS.from_epsg(32649)


def brute_receivers(z, dx, dy):
    """Steepest downhill neighbour by explicit loops (same tie order as OFFSETS)."""
    h, w = z.shape
    rec = np.full(h * w, -1)
    for r in range(h):
        for c in range(w):
            if np.isnan(z[r, c]):
                continue
            best, best_k = 0.0, -1
            for k, (dr, dc) in enumerate(OFFSETS):
                rr, cc = r + dr, c + dc
                if not (0 <= rr < h and 0 <= cc < w) or np.isnan(z[rr, cc]):
                    continue
                drop = (z[r, c] - z[rr, cc]) / math.hypot(dc * dx[r], dr * dy[r])
                if drop > best:
                    best, best_k = drop, k
            if best_k >= 0:
                dr, dc = OFFSETS[best_k]
                rec[r * w + c] = (r + dr) * w + c + dc
    return rec


def brute_accumulation(z, rec, weight):
    """Visit cells from the highest down, pushing each cell's total to its receiver (a plain loop)."""
    acc = weight.astype(float).ravel().copy()
    order = np.argsort(-np.nan_to_num(z.ravel(), nan=-np.inf), kind="stable")
    for i in order:
        if rec[i] >= 0:
            acc[rec[i]] += acc[i]
    return acc


def test_d8_and_accumulation_match_brute_force():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(23, 31)).cumsum(axis=0) + rng.normal(size=(23, 31))
    z[5, 7] = np.nan
    dx, dy = np.full(23, 30.0), np.full(23, 25.0)
    rec = d8_receivers(z, dx, dy)
    np.testing.assert_array_equal(rec, brute_receivers(z, dx, dy))
    weight = rng.uniform(1, 2, size=z.size)
    np.testing.assert_allclose(flow_accumulation(rec, weight), brute_accumulation(z, rec, weight), rtol=1e-12)


def test_accumulation_on_a_valley_by_hand():
    # V-shaped valley draining south along the middle column: every side cell flows to the centre column
    # (drop 10 m over 30 m beats the diagonal), the centre column flows south.
    z = np.array([[110, 100, 110],
                  [109, 99, 109],
                  [108, 98, 108]], dtype=float)
    rec = d8_receivers(z, np.full(3, 30.0), np.full(3, 30.0))
    assert rec.tolist() == [1, 4, 1, 4, 7, 4, 7, -1, 7]
    acc = flow_accumulation(rec, np.ones(9))
    assert acc.tolist() == [1, 3, 1, 1, 6, 1, 1, 9, 1]


def _mcool_s(sin_t, pct):
    return 10.8 * sin_t + 0.03 if pct < 9 else 16.8 * sin_t - 0.5


def _m(pct, sin_t):
    if pct <= 1:
        return 0.2
    if pct <= 3.5:
        return 0.3
    if pct <= 5:
        return 0.4
    if pct <= 9:
        return 0.5
    beta = (sin_t / 0.0896) / (3 * sin_t**0.8 + 0.56)
    return beta / (1 + beta)


@pytest.mark.parametrize("grade", [0.005, 0.02, 0.045, 0.07, 0.10, 0.30])
def test_ls_on_a_plane_by_hand(grade):
    # plane falling east with the given grade on a 30 m UTM grid: each cell drains east, so a cell in column
    # j has j upslope cells (A = j × 900 m²); interior slope is exactly the grade (Horn), aspect term x = 1.
    h, w = 5, 12
    res = 30.0
    z = 500.0 - grade * res * np.arange(w)[None, :] * np.ones((h, 1))
    t = Affine(res, 0, 500000, 0, -res, 3100000)
    ls, _ = ls_factor(z, t, UTM49)
    pct = grade * 100
    theta = math.atan(grade)
    s = _mcool_s(math.sin(theta), pct)
    m = _m(pct, math.sin(theta))
    for j in range(1, w - 1):
        a = j * 900.0
        l_hand = ((a + 900.0) ** (m + 1) - a ** (m + 1)) / (30.0 ** (m + 2) * 22.13**m)
        assert ls[2, j] == pytest.approx(min(l_hand, 122.0) * s, rel=1e-5)


def test_l_is_capped_like_invest():
    # a huge upslope area: L would exceed 122, so LS = 122 × S
    slope_pct = np.array([20.0])
    val = ls_from_parts(slope_pct, np.array([1.0]), np.array([1e9]), np.array([900.0]), l_max=122.0)
    s = 16.8 * math.sin(math.atan(0.2)) - 0.5
    assert val[0] == pytest.approx(122.0 * s)
    val2 = ls_from_parts(slope_pct, np.array([1.0]), np.array([1e9]), np.array([900.0]), l_max=50.0)
    assert val2[0] == pytest.approx(50.0 * s)


def test_aspect_term_for_diagonal_slopes():
    # x = |sin a| + |cos a| = √2 for a slope facing a diagonal: L is divided by x^m
    base = ls_from_parts(np.array([30.0]), np.array([1.0]), np.array([9000.0]), np.array([900.0]))
    diag = ls_from_parts(np.array([30.0]), np.array([math.sqrt(2)]), np.array([9000.0]), np.array([900.0]))
    sin_t = math.sin(math.atan(0.3))
    m = _m(30.0, sin_t)
    assert diag[0] / base[0] == pytest.approx(math.sqrt(2) ** -m)


def test_geographic_cell_geometry_uses_the_ellipsoid():
    t = Affine(0.001, 0, 112.0, 0, -0.001, 28.0)
    dx, dy, area = cell_geometry(t, (3, 4), CRS.from_epsg(4326))
    from gep.vector.geodesy import lonlat_box_area_m2

    assert area[0] == pytest.approx(lonlat_box_area_m2(112.0, 27.999, 112.001, 28.0), rel=1e-9)
    # 0.001° of longitude at 28° ≈ 98.3 m, of latitude ≈ 110.8 m
    assert dx[0] == pytest.approx(98.3, abs=0.2)
    assert dy[0] == pytest.approx(110.8, abs=0.2)
    assert dx[0] * dy[0] == pytest.approx(area[0], rel=1e-4)


def test_compute_ls_writes_a_raster_and_rejects_missing_dem(tmp_path):
    z = (400.0 - 3.0 * np.arange(20)[None, :] - 1.0 * np.arange(15)[:, None]).astype(np.float32)
    z[0, 0] = -9999
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", height=15, width=20, count=1, dtype="float32", crs="EPSG:32649",
                       transform=Affine(30, 0, 500000, 0, -30, 3100000), nodata=-9999) as dst:
        dst.write(z, 1)
    summary = compute_ls(path, tmp_path / "ls.tif")
    with rasterio.open(tmp_path / "ls.tif") as src:
        ls = src.read(1)
        assert src.crs == "EPSG:32649"
    assert np.isnan(ls[0, 0]) and np.isfinite(ls[5, 5])
    # the nodata cell and its 3 neighbours (Horn needs all 8 neighbours) have no LS
    assert summary["valid_cells"] == 15 * 20 - 4
    with pytest.raises(InputError, match="does not exist"):
        compute_ls(tmp_path / "nope.tif", tmp_path / "x.tif")
