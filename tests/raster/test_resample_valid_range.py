"""Inputs with several flag codes (gep.raster.resample, ``valid_range``): every raw value outside the range is
nodata before resampling, so flags are never blended into valid cells (docs/methods.md §4.2.6)."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from helpers_raster import write_tif
from pyproj import CRS

from gep.config.gep import RasterInput
from gep.raster.grid import Grid
from gep.raster.resample import warp_to_grid

SRC_T = Affine(0.004, 0, 112.0, 0, -0.004, 28.0)
FINE = Grid(Affine(0.001, 0, 112.0, 0, -0.001, 28.0), (16, 16), CRS.from_epsg(4326))


def _source(tmp_path, flags: dict, name="npp.tif", nodata=None):
    raw = (np.arange(16, dtype=np.int16).reshape(4, 4) * 100 + 1000)   # 1000 … 2500, all valid
    for (r, c), code in flags.items():
        raw[r, c] = code
    return raw, write_tif(tmp_path / name, raw, SRC_T, "EPSG:4326", nodata=nodata)


def test_nearest_with_valid_range_drops_every_flag_code(tmp_path):
    raw, path = _source(tmp_path, {(0, 0): 32761, (2, 3): 32767})   # two MOD17 fill codes, no nodata declared
    got = warp_to_grid(path, FINE, (5, 7), resampling="nearest", scale=0.1, valid_range=(0, 32700)).compute()
    expect = np.repeat(np.repeat(raw * 0.1, 4, 0), 4, 1).astype(np.float64)
    expect[0:4, 0:4] = np.nan
    expect[8:12, 12:16] = np.nan
    np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_bilinear_with_valid_range_does_not_blend_flags(tmp_path):
    flags = {(1, 1): 32761, (2, 2): 32767}
    raw, path = _source(tmp_path, flags)
    masked = warp_to_grid(path, FINE, (6, 6), resampling="bilinear", valid_range=(0, 32700)).compute()
    assert np.nanmax(masked) <= raw[raw <= 32700].max()   # nothing above the largest valid value
    # with one nodata value (32767), GDAL blends the other code (32761) into its neighbours
    one = warp_to_grid(path, FINE, (6, 6), resampling="bilinear", nodata=32767).compute()
    assert np.nanmax(one) > 5000
    # the same as declaring every flag nodata: a file whose flags are one nodata value gives the same cells
    _, nod = _source(tmp_path, {rc: -1 for rc in flags}, name="nod.tif", nodata=-1)
    ref = warp_to_grid(nod, FINE, (6, 6), resampling="bilinear").compute()
    np.testing.assert_allclose(masked, ref, rtol=1e-6, equal_nan=True)
    assert np.isnan(masked).sum() > 0


def test_blocks_outside_the_source_are_nan(tmp_path):
    _, path = _source(tmp_path, {})
    wide = Grid(Affine(0.001, 0, 111.98, 0, -0.001, 28.0), (16, 36), CRS.from_epsg(4326))
    got = warp_to_grid(path, wide, (16, 12), resampling="nearest", valid_range=(0, 32700)).compute()
    assert np.isnan(got[:, :12]).all()          # a whole block west of the source
    assert got[0, 20] == pytest.approx(1000.0)  # 111.98 + 0.0205 lies in the source's first cell


def test_valid_range_makes_nearest_the_default():
    assert RasterInput.model_validate({"path": "npp.tif", "valid_range": [0, 32700]}).resampling == "nearest"
    assert RasterInput.model_validate({"path": "npp.tif", "valid_range": [0, 32700],
                                       "resampling": "bilinear"}).resampling == "bilinear"
    assert RasterInput.model_validate({"path": "npp.tif"}).resampling == "bilinear"
    with pytest.raises(ValueError, match=r"valid_range \[5, 1\]: min is above max"):
        RasterInput.model_validate({"path": "npp.tif", "valid_range": [5, 1]})


def test_count_above_counts_the_bands_above_a_threshold(tmp_path):
    """Three daily maxima per cell (°C × 10 raw, scale 0.1): the number above 26 °C, per source cell; a band on
    nodata does not count, and a cell with no valid band is NaN."""
    import rasterio

    days = np.array([[[250, 300], [270, 200]],
                     [[261, 300], [-999, 200]],
                     [[259, 300], [-999, -999]]], dtype=np.int16)
    days[:, 1, 1] = -999
    path = tmp_path / "tmax.tif"
    with rasterio.open(path, "w", driver="GTiff", height=2, width=2, count=3, dtype="int16", crs="EPSG:4326",
                       transform=SRC_T, nodata=-999) as dst:
        dst.write(days)
    grid = Grid(Affine(0.002, 0, 112.0, 0, -0.002, 28.0), (4, 4), CRS.from_epsg(4326))
    got = warp_to_grid(path, grid, (3, 3), scale=0.1, count_above=26.0, resampling="nearest").compute()
    # (0,0): 25.0, 26.1, 25.9 → 1; (0,1): 30 × 3 → 3; (1,0): 27.0 and two nodata → 1; (1,1): all nodata → NaN
    expect = np.repeat(np.repeat(np.array([[1.0, 3.0], [1.0, np.nan]]), 2, 0), 2, 1)
    np.testing.assert_array_equal(got, expect)
    assert RasterInput.model_validate({"path": "t.tif", "count_above": 26}).resampling == "nearest"
    with pytest.raises(ValueError, match="count_above counts the bands of a raster"):
        RasterInput.model_validate({"value": 90, "count_above": 26})
