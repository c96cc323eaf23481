"""Coarse inputs sampled from the small source array (gep.raster.resample, ``_Coarse``) against GDAL's warp of
the same raster onto the same grid (the path every input took before, still taken for fine sources)."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from helpers_raster import write_tif
from pyproj import CRS

import gep.raster.resample as resample
from gep.raster.grid import Grid
from gep.raster.resample import WarpReader, warp_to_grid

ALBERS = ("+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs")
SRC_4326 = Affine(0.01, 0, 111.9, 0, -0.01, 28.1)          # 20 × 20 cells of 0.01°
# a fine grid partly outside the source (west and south), not aligned with it: edges and the outside covered
FINE_4326 = Grid(Affine(0.0013, 0, 111.885, 0, -0.0013, 28.093), (170, 150), CRS.from_epsg(4326))


def _fine_albers() -> Grid:
    from pyproj import Transformer
    x, y = Transformer.from_crs(4326, ALBERS, always_xy=True).transform(111.95, 28.05)
    return Grid(Affine(130.0, 0, x, 0, -130.0, y), (140, 160), CRS.from_proj4(ALBERS))


def _source(tmp_path, nodata=-9999.0, dtype="float32"):
    rng = np.random.default_rng(5)
    raw = (500 + 300 * rng.random((20, 20))).astype(dtype)
    raw[3, 4] = raw[10, 11] = raw[11, 11] = raw[0, 19] = nodata   # nodata inside, in a pair and in a corner
    return raw, write_tif(tmp_path / "src.tif", raw, SRC_4326, "EPSG:4326", nodata=nodata)


def _both(path, grid, monkeypatch, **kw):
    """(sampled, warped) of the same call; the first must have taken the coarse path."""
    assert WarpReader(path, grid, **kw).coarse is not None
    sampled = warp_to_grid(path, grid, (64, 48), **kw).compute()
    with monkeypatch.context() as m:
        m.setattr(resample, "COARSE_RATIO", 10 ** 9)
        assert WarpReader(path, grid, **kw).coarse is None
        warped = warp_to_grid(path, grid, (64, 48), **kw).compute()
    return sampled, warped


def _ulps(a, b):
    """Largest difference in float32 units in the last place (NaN must match)."""
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    return int(np.max(np.abs(a[ok].astype(np.float32).view(np.int32).astype(np.int64)
                             - b[ok].astype(np.float32).view(np.int32).astype(np.int64))))


@pytest.mark.parametrize("kw", [dict(resampling="nearest"),
                                dict(resampling="nearest", scale=0.1, offset=-3.0),
                                dict(resampling="nearest", valid_range=(0, 700)),
                                dict(resampling="nearest", kind="amount", output="amount")])
def test_nearest_same_crs_equals_the_warp(tmp_path, monkeypatch, kw):
    _, path = _source(tmp_path)
    sampled, warped = _both(path, FINE_4326, monkeypatch, **kw)
    assert np.isnan(sampled[:, :5]).all() and np.isnan(sampled[-20:, :]).all()   # outside the source
    assert np.isfinite(sampled).sum() > 10000
    np.testing.assert_array_equal(sampled, warped)


@pytest.mark.parametrize("kw", [dict(resampling="bilinear"),
                                dict(resampling="bilinear", scale=0.1, offset=-3.0),
                                dict(resampling="bilinear", valid_range=(0, 700)),
                                dict(resampling="bilinear", kind="amount", output="amount")])
def test_bilinear_same_crs_equals_the_warp(tmp_path, monkeypatch, kw):
    _, path = _source(tmp_path)
    sampled, warped = _both(path, FINE_4326, monkeypatch, **kw)
    assert _ulps(sampled, warped) <= 1    # float32 rounding of the same double sum, summed in another order
    np.testing.assert_allclose(sampled, warped, rtol=2e-7, equal_nan=True)


def test_bilinear_without_nodata_equals_the_warp(tmp_path, monkeypatch):
    raw = (np.arange(400, dtype=np.int16).reshape(20, 20) * 3 + 100)
    path = write_tif(tmp_path / "k.tif", raw, SRC_4326, "EPSG:4326")
    sampled, warped = _both(path, FINE_4326, monkeypatch, resampling="bilinear")
    assert _ulps(sampled, warped) <= 1


def test_bilinear_by_hand_at_an_interior_point(tmp_path):
    raw, path = _source(tmp_path)
    grid = Grid(Affine(0.0025, 0, 111.9, 0, -0.0025, 28.1), (80, 80), CRS.from_epsg(4326))
    got = warp_to_grid(path, grid, (80, 80), resampling="bilinear").compute()
    # cell (r=9, c=14): centre at source pixel (x, y) = (14.5 / 4, 9.5 / 4) = (3.625, 2.375):
    # columns 3 and 4 with weights 0.875/0.125 (x - 0.5 = 3.125), rows 1 and 2 with 0.125/0.875 (y - 0.5 = 1.875)
    v = raw.astype(np.float64)
    expect = (v[1, 3] * 0.875 * 0.125 + v[1, 4] * 0.125 * 0.125 + v[2, 3] * 0.875 * 0.875
              + v[2, 4] * 0.125 * 0.875)
    assert got[9, 14] == pytest.approx(expect, rel=1e-7)
    # next to the nodata cell (3, 4): its weight is left out and the others renormalised
    # cell (r=11, c=14): y = 11.5 / 4 = 2.875 → rows 2 and 3 with weights 0.625/0.375, x as above
    w = {(2, 3): 0.875 * 0.625, (2, 4): 0.125 * 0.625, (3, 3): 0.875 * 0.375}
    expect = sum(v[k] * f for k, f in w.items()) / sum(w.values())
    assert got[11, 14] == pytest.approx(expect, rel=1e-7)


def test_sources_in_another_crs_are_warped(tmp_path):
    _, path = _source(tmp_path)
    assert WarpReader(path, _fine_albers(), resampling="bilinear").coarse is None   # 4326 over Albers
    got = warp_to_grid(path, _fine_albers(), (64, 48), resampling="nearest").compute()
    assert np.isfinite(got).sum() > 10000


def test_count_above_sampled_like_the_warp(tmp_path, monkeypatch):
    import rasterio

    rng = np.random.default_rng(3)
    days = (20 + 12 * rng.random((30, 20, 20))).astype(np.float32)
    path = tmp_path / "tmax.tif"
    with rasterio.open(path, "w", driver="GTiff", width=20, height=20, count=30, dtype="float32",
                       crs="EPSG:4326", transform=SRC_4326) as dst:
        dst.write(days)
    sampled, warped = _both(path, FINE_4326, monkeypatch, resampling="nearest", count_above=26.0)
    np.testing.assert_array_equal(sampled, warped)
    assert np.nanmax(sampled) == (days > 26).sum(axis=0).max()


def test_a_source_not_coarse_enough_is_warped(tmp_path):
    _, path = _source(tmp_path)
    grid = Grid(Affine(0.004, 0, 111.9, 0, -0.004, 28.1), (50, 50), CRS.from_epsg(4326))   # 2.5 cells a cell
    assert WarpReader(path, grid, resampling="bilinear").coarse is None
    assert WarpReader(path, FINE_4326, resampling="cubic").coarse is None
