"""Terrain classes from a DEM (gep.indicators.coverage.terrain): relief windows, classes, chunk independence, regridding, COG.

Expected values are computed by hand (plane, step, cone) or by a brute-force loop over windows that shares no
code with the Dask/scipy implementation.
"""

from __future__ import annotations

import json
import math

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rioxarray  # noqa: F401 - registers the .rio accessor
import xarray as xr
from affine import Affine
from pyproj import CRS, Geod, Transformer
from shapely.geometry import box

from gep.cli.main import main
from gep.core.errors import InputError
from gep.indicators.coverage.terrain import (
    NODATA_CODE,
    TERRAIN_CLASSES,
    GridSpec,
    TerrainConfig,
    classify_relief,
    dem_coverage,
    load_terrain_config,
    relief,
    terrain_on_grid,
    window_cells,
    write_cog,
)

UTM49 = 32649


def make_dem(z, res=(30.0, 30.0), origin=(500000.0, 3100000.0), crs=UTM49, chunks=None, nodata=None):
    """A (y, x) DataArray with rioxarray georeferencing; cell (0, 0) has its top-left corner at ``origin``."""
    ny, nx = z.shape
    rx, ry = res
    x = origin[0] + rx * (np.arange(nx) + 0.5)
    y = origin[1] - ry * (np.arange(ny) + 0.5)
    data = da.from_array(z, chunks=chunks if chunks else z.shape)
    arr = xr.DataArray(data, coords={"y": y, "x": x}, dims=("y", "x"), name="dem").rio.write_crs(crs)
    if nodata is not None:
        arr = arr.rio.write_nodata(nodata)
    return arr


def naive_relief(z, ny, nx, nodata=None):
    """Brute force: max − min over the valid cells of each (ny × nx) window clipped to the raster."""
    z = np.asarray(z, dtype=np.float64)
    valid = np.isfinite(z) if nodata is None else np.isfinite(z) & (z != nodata)
    zz = np.where(valid, z, np.nan)
    out = np.full(z.shape, np.nan)
    hy, hx = ny // 2, nx // 2
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            if valid[i, j]:
                w = zz[max(0, i - hy): i + hy + 1, max(0, j - hx): j + hx + 1]
                out[i, j] = np.nanmax(w) - np.nanmin(w)
    return out


def hand_classes(rf):
    """Classes by explicit comparisons (not np.digitize)."""
    out = np.zeros(rf.shape, dtype=np.uint8)
    for code, lo, hi in ((1, -1.0, 30), (2, 30, 200), (3, 200, 500), (4, 500, 1000), (5, 1000, 2500),
                         (6, 2500, np.inf)):
        with np.errstate(invalid="ignore"):
            out[(rf >= lo) & (rf < hi)] = code
    return out


def write_tif(path, z, transform, crs, nodata=None, dtype="float32"):
    with rasterio.open(path, "w", driver="GTiff", height=z.shape[0], width=z.shape[1], count=1, dtype=dtype,
                       crs=CRS.from_user_input(crs), transform=transform, nodata=nodata, tiled=True,
                       blockxsize=16, blockysize=16) as dst:
        dst.write(z.astype(dtype), 1)
    return path


# ----------------------------------------------------------------------------------------------- windows


def test_window_cells_projected_nearest_odd():
    dem = make_dem(np.zeros((10, 10)))
    assert window_cells(dem, 4583.0) == (153, 153)  # 152.77 cells → 153
    assert window_cells(dem, 150.0) == (5, 5)  # exactly 5
    assert window_cells(dem, 149.0) == (5, 5)  # 4.97 → 5
    assert window_cells(dem, 119.0) == (3, 3)  # 3.97 → 3 (nearest odd of 3 and 5)
    anis = make_dem(np.zeros((10, 10)), res=(30.0, 90.0))
    assert window_cells(anis, 900.0) == (11, 31)  # 10 → 11 (tie goes up), 30 → 31


def test_window_cells_geographic_uses_ellipsoid_at_central_latitude():
    res = 0.0003
    ny = 200
    top = 28.0 + ny * res / 2  # central latitude 28°
    dem = make_dem(np.zeros((ny, 100)), res=(res, res), origin=(110.0, top), crs=4326)
    geod = Geod(ellps="WGS84")
    # independent: geodesic lengths of tiny steps along the parallel and the meridian at 28°N
    m_lon = geod.inv(110.0, 28.0, 110.001, 28.0)[2] / 0.001
    m_lat = geod.inv(110.0, 27.9995, 110.0, 28.0005)[2] / 0.001
    cells_x, cells_y = 4583.0 / (res * m_lon), 4583.0 / (res * m_lat)

    def nearest_odd(v):
        return min((k for k in range(1, 1001, 2)), key=lambda k: abs(k - v))

    assert window_cells(dem, 4583.0) == (nearest_odd(cells_y), nearest_odd(cells_x))
    assert window_cells(dem, 4583.0) == (137, 155)


def test_window_smaller_than_three_cells_is_an_input_error():
    dem = make_dem(np.zeros((20, 20)))
    with pytest.raises(InputError, match="window_m=50"):
        relief(dem, 50.0)  # 1.7 cells
    anis = make_dem(np.zeros((20, 20)), res=(30.0, 100.0))
    with pytest.raises(InputError, match="cells"):
        relief(anis, 190.0)  # 6.3 cells along x but 1.9 along y


# ----------------------------------------------------------------------------------------- relief values


def test_tilted_plane_relief_is_slope_times_window_extent():
    ny, nx, res = 30, 40, 30.0
    x = 500000.0 + res * (np.arange(nx) + 0.5)
    y = 3100000.0 - res * (np.arange(ny) + 0.5)
    z = 0.25 * (x[None, :] - 500000.0) + 0.125 * (3100000.0 - y[:, None])
    rf = relief(make_dem(z, chunks=8), 150.0).values  # 5 × 5 cells
    # interior: slope × (n − 1) × res along each axis: 0.25·120 + 0.125·120 = 45 m
    assert rf[2:-2, 2:-2].min() == 45.0 and rf[2:-2, 2:-2].max() == 45.0
    # everywhere: windows clipped at the edges use only the cells that exist
    jj, ii = np.meshgrid(np.arange(nx), np.arange(ny))
    span_x = np.minimum(jj + 2, nx - 1) - np.maximum(jj - 2, 0)
    span_y = np.minimum(ii + 2, ny - 1) - np.maximum(ii - 2, 0)
    np.testing.assert_array_equal(rf, 0.25 * res * span_x + 0.125 * res * span_y)
    assert rf[0, 0] == 22.5  # corner: 0.25·60 + 0.125·60
    cls = classify_relief(relief(make_dem(z, chunks=8), 150.0)).values
    assert cls[0, 0] == 1 and cls[10, 10] == 2
    assert cls.dtype == np.uint8


def test_step_function_classes_by_hand():
    ny, nx = 12, 40
    z = np.zeros((ny, nx))
    z[:, 20:] = 300.0  # step between columns 19 and 20
    rf = relief(make_dem(z, chunks=(5, 7)), 150.0).values
    expected = np.zeros((ny, nx))
    expected[:, 18:22] = 300.0  # the 5-cell window of columns 18..21 straddles the step
    np.testing.assert_array_equal(rf, expected)
    cls = classify_relief(relief(make_dem(z, chunks=(5, 7)), 150.0)).values
    exp_cls = np.ones((ny, nx), dtype=np.uint8)
    exp_cls[:, 18:22] = 3  # 300 m: 小起伏山地 [200, 500)
    np.testing.assert_array_equal(cls, exp_cls)


def test_cone_relief_by_hand_and_brute_force():
    n, res = 61, 90.0
    c = 30  # peak at the centre cell
    ii, jj = np.mgrid[0:n, 0:n]
    r = res * np.hypot(ii - c, jj - c)
    z = 1000.0 - 0.5 * r
    dem = make_dem(z, res=(res, res), chunks=13)
    assert window_cells(dem, 900.0) == (11, 11)  # half window 5 cells = 450 m
    rf = relief(dem, 900.0).values
    # at the peak the minimum is at the window corners, 450·√2 m away
    assert rf[c, c] == pytest.approx(0.5 * 450.0 * math.sqrt(2.0), rel=1e-12)  # 318.198 m
    # 20 cells east of the peak: highest cell 15 cells away (on the axis), lowest 25 cells east and 5 off-axis
    assert rf[c, c + 20] == pytest.approx(0.5 * (math.hypot(25 * res, 5 * res) - 15 * res), rel=1e-12)
    np.testing.assert_allclose(rf, naive_relief(z, 11, 11), rtol=0, atol=1e-9)
    cls = classify_relief(relief(dem, 900.0)).values
    assert cls[c, c] == 3 and cls[c, c + 20] == 3  # 318.2 m and 472.3 m
    np.testing.assert_array_equal(cls, hand_classes(naive_relief(z, 11, 11)))


def test_class_boundaries_include_lower_bound():
    rf = xr.DataArray(np.array([[0.0, 29.999, 30.0, 199.9, 200.0, 499.9, 500.0, 999.9, 1000.0, 2499.9, 2500.0,
                                 9000.0, np.nan]]), dims=("y", "x"))
    got = classify_relief(rf).values[0].tolist()
    assert got == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 0]
    # configurable thresholds
    got = classify_relief(rf, (10, 20, 40, 80, 160)).values[0].tolist()
    assert got == [1, 3, 3, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0]
    with pytest.raises(InputError, match="strictly increasing"):
        classify_relief(rf, (30, 20, 500, 1000, 2500))


def test_terrain_classes_table():
    assert sorted(TERRAIN_CLASSES) == [1, 2, 3, 4, 5, 6]
    assert TERRAIN_CLASSES[1].name_zh == "平原" and TERRAIN_CLASSES[2].broad_zh == "丘陵"
    assert {TERRAIN_CLASSES[k].broad_zh for k in (3, 4, 5, 6)} == {"山地"}
    assert TERRAIN_CLASSES[6].name_zh == "极大起伏山地"


# ------------------------------------------------------------------------------------------------- seams


def seam_dem():
    ny, nx = 150, 130
    ii, jj = np.mgrid[0:ny, 0:nx]
    z = 200.0 + 40.0 * np.sin(ii / 9.0) * np.cos(jj / 13.0) + 0.37 * ii - 0.21 * jj
    # peaks exactly on tile boundaries of the 64- and 7-cell chunkings (rows/cols 63 = 9·7 and 64)
    z[64, 64] = 2900.0
    z[63, 63] = 1700.0
    z[7, 70] = 900.0
    z[100:104, 20:23] = np.nan  # a void
    return z


@pytest.mark.parametrize("window_m", [330.0, 1500.0])
def test_relief_identical_for_any_chunk_size(window_m):
    z = seam_dem()
    res = (30.0, 40.0)  # anisotropic cells: window 11 × 9 cells (330 m)
    results = []
    for chunks in (7, 64, z.shape):
        rf = relief(make_dem(z, res=res, chunks=chunks), window_m)
        results.append((rf.values, classify_relief(rf).values))
    for rf, cls in results[1:]:
        np.testing.assert_array_equal(rf, results[0][0])  # NaN positions equal too
        np.testing.assert_array_equal(cls, results[0][1])
    ny_, nx_ = window_cells(make_dem(z, res=res), window_m)
    np.testing.assert_array_equal(results[0][0], naive_relief(z, ny_, nx_).astype(np.float64))


def test_window_in_metres_gives_same_classes_at_30_and_90_m():
    """The same analytic terraced surface sampled at 30 m and at 90 m, window 2,790 m (93 / 31 cells)."""
    size = 36000.0

    def surface(res):
        n = int(size / res)
        xs = res * (np.arange(n) + 0.5)  # distance from the west edge
        ys = res * (np.arange(n) + 0.5)  # distance from the north edge
        f = 0.001 * xs + np.select([xs < 9000, xs < 18000, xs < 27000], [0.0, 20.0, 170.0], 570.0)
        g = np.select([ys < 11700, ys < 24300], [0.0, 700.0], 3300.0)  # steps on 90 m cell edges
        return g[:, None] + f[None, :]

    c30 = classify_relief(relief(make_dem(surface(30.0), res=(30.0, 30.0), chunks=256), 2790.0)).values
    c90 = classify_relief(relief(make_dem(surface(90.0), res=(90.0, 90.0), chunks=100), 2790.0)).values
    assert set(np.unique(c90)) == {1, 2, 3, 4, 5, 6}
    # 90 m cell (i, j) has the same centre as 30 m cell (3i + 1, 3j + 1)
    np.testing.assert_array_equal(c90, c30[1::3, 1::3])
    # hand check, far from every step: plain (tilt only: 0.001·2760 m), and hill next to the +150 m step
    assert c90[20, 20] == 1
    assert c90[20, 18000 // 90] == 2 and c90[20, 18000 // 90 - 15] == 2 and c90[20, 18000 // 90 - 16] == 1


# ------------------------------------------------------------------------------------------------ nodata


def test_dem_nodata_stays_nodata_and_windows_skip_it():
    z = seam_dem()
    z_nd = np.where(np.isnan(z), -9999.0, z)
    z_nd[0:3, 0:5] = -9999.0
    rf = relief(make_dem(z_nd, chunks=16, nodata=-9999.0), 330.0)
    vals = rf.values
    assert np.isnan(vals[z_nd == -9999.0]).all()
    np.testing.assert_array_equal(vals, naive_relief(z_nd, 11, 11, nodata=-9999.0))
    cls = classify_relief(rf).values
    assert (cls[z_nd == -9999.0] == NODATA_CODE).all() and (cls[z_nd != -9999.0] > 0).all()
    assert np.isnan(rf.rio.nodata)


# --------------------------------------------------------------------------------------- onto the grid


def dem_file(tmp_path, nodata=-9999.0):
    ny, nx = 120, 150
    ii, jj = np.mgrid[0:ny, 0:nx]
    z = 50.0 + 10.0 * jj + np.where(ii > 60, 400.0, 0.0) + 3.0 * np.sin(ii / 5.0)
    z[10:14, 10:20] = nodata
    transform = Affine(30.0, 0, 500000.0, 0, -30.0, 3100000.0)
    return write_tif(tmp_path / "dem.tif", z, transform, UTM49, nodata=nodata), z, transform


def native_classes(z, nodata, ny, nx):
    return hand_classes(naive_relief(z, ny, nx, nodata=nodata))


def test_terrain_on_grid_same_crs_coarser_grid(tmp_path):
    path, z, t = dem_file(tmp_path)
    nat = native_classes(z, -9999.0, 5, 5)
    # 60 m grid shifted by 15 m and extending 10 cells past the DEM's east edge
    spec = GridSpec(Affine(60.0, 0, 500015.0, 0, -60.0, 3099985.0), (58, 85), CRS.from_epsg(UTM49))
    got = terrain_on_grid(path, spec, TerrainConfig(window_m=150.0, chunk=16)).values
    h, w = spec.shape
    exp = np.zeros((h, w), dtype=np.uint8)
    for i in range(h):
        for j in range(w):
            xc, yc = 500015.0 + 60.0 * (j + 0.5), 3099985.0 - 60.0 * (i + 0.5)
            r, c = int(math.floor((3100000.0 - yc) / 30.0)), int(math.floor((xc - 500000.0) / 30.0))
            if 0 <= r < z.shape[0] and 0 <= c < z.shape[1]:
                exp[i, j] = nat[r, c]
    np.testing.assert_array_equal(got, exp)
    assert (got[:, 76:] == NODATA_CODE).all()  # outside the DEM
    assert got.dtype == np.uint8


def test_terrain_on_grid_other_crs_is_chunk_independent(tmp_path):
    path, z, t = dem_file(tmp_path)
    nat = native_classes(z, -9999.0, 5, 5)
    to_geo = Transformer.from_crs(UTM49, 4326, always_xy=True)
    lon0, lat0 = to_geo.transform(499900.0, 3100100.0)
    spec = GridSpec(Affine(0.0004, 0, lon0, 0, -0.0004, lat0), (100, 130), CRS.from_epsg(4326))
    a = terrain_on_grid(path, spec, TerrainConfig(window_m=150.0, chunk=16)).values
    b = terrain_on_grid(path, spec, TerrainConfig(window_m=150.0, chunk=2048)).values
    np.testing.assert_array_equal(a, b)
    # independent nearest neighbour: transform every destination centre with PROJ and take the cell under it
    to_utm = Transformer.from_crs(4326, UTM49, always_xy=True)
    jj, ii = np.meshgrid(np.arange(130), np.arange(100))
    xs, ys = to_utm.transform(lon0 + 0.0004 * (jj + 0.5), lat0 - 0.0004 * (ii + 0.5))
    r = np.floor((3100000.0 - ys) / 30.0).astype(int)
    c = np.floor((xs - 500000.0) / 30.0).astype(int)
    inside = (r >= 0) & (r < z.shape[0]) & (c >= 0) & (c < z.shape[1])
    exp = np.zeros(a.shape, dtype=np.uint8)
    exp[inside] = nat[r[inside], c[inside]]
    np.testing.assert_array_equal(a, exp)
    assert (a == 0).any() and set(np.unique(a)) >= {1, 2, 3}


def test_dem_coverage_reports_and_raises(tmp_path):
    path, _, _ = dem_file(tmp_path)  # x 500000..504500, y 3096400..3100000
    regions = gpd.GeoDataFrame(
        {"region_code": ["002", "001"], "region_name": ["half", "inside"]},
        geometry=[box(503500.0, 3097000.0, 505500.0, 3099000.0), box(500600.0, 3097000.0, 502000.0, 3099000.0)],
        crs=UTM49,
    )
    df = dem_coverage(path, regions, raise_below=False)
    assert df["region_code"].tolist() == ["001", "002"]
    assert df.loc[0, "dem_covered_pct"] == pytest.approx(100.0, abs=1e-6)
    assert df.loc[1, "dem_covered_pct"] == pytest.approx(50.0, abs=0.01)  # east half beyond the DEM
    assert df.loc[1, "dem_missing_km2"] == pytest.approx(2.0, rel=2e-3)  # 1 km × 2 km
    with pytest.raises(InputError, match=r"002 half: 2\.00\d km² missing"):
        dem_coverage(path, regions)


# ---------------------------------------------------------------------------------------------- output


def test_write_cog(tmp_path):
    rng = np.random.default_rng(1)
    cls = rng.integers(0, 7, size=(1100, 1200)).astype(np.uint8)
    arr = xr.DataArray(da.from_array(cls, chunks=300), dims=("y", "x"),
                       coords={"y": 3100000.0 - 30.0 * (np.arange(1100) + 0.5),
                               "x": 500000.0 + 30.0 * (np.arange(1200) + 0.5)}, name="terrain_class")
    arr = arr.rio.write_crs(UTM49).rio.write_nodata(0, encoded=False)
    out = write_cog(arr, tmp_path / "sub" / "t.tif", TERRAIN_CLASSES)
    with rasterio.open(out) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.crs == CRS.from_epsg(UTM49) and src.nodata == 0 and src.dtypes[0] == "uint8"
        assert src.overviews(1)  # internal overviews
        assert src.transform == Affine(30.0, 0, 500000.0, 0, -30.0, 3100000.0)
        tags = src.tags()
        assert tags["units"] == "terrain class code"
        assert json.loads(tags["classes"])["3"]["name_zh"] == "小起伏山地"
        np.testing.assert_array_equal(src.read(1), cls)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["t.tif"]  # no temporaries left


def test_cli_terrain(tmp_path, capsys):
    path, z, _ = dem_file(tmp_path)
    lc = write_tif(tmp_path / "lc.tif", np.ones((58, 75)), Affine(60.0, 0, 500000.0, 0, -60.0, 3100000.0), UTM49,
                   nodata=0, dtype="uint8")
    out = tmp_path / "terrain.tif"
    assert main(["terrain", str(path), "--like", str(lc), "--out", str(out), "--window-m", "150"]) == 0
    expected = terrain_on_grid(path, lc, TerrainConfig(window_m=150.0)).values
    with rasterio.open(out) as src:
        np.testing.assert_array_equal(src.read(1), expected)
        assert src.shape == (58, 75)
    assert main(["terrain", str(path), "--like", str(lc), "--out", str(out), "--window-m", "20"]) == 2
    assert "window_m=20" in capsys.readouterr().err
    assert main(["terrain", str(tmp_path / "nope.tif"), "--like", str(lc), "--out", str(out)]) == 2


def test_config_errors_are_input_errors(tmp_path):
    assert load_terrain_config(None, window_m=900.0).window_m == 900.0
    with pytest.raises(InputError, match="thresholds_m"):
        load_terrain_config({"thresholds_m": [30, 200, 100, 1000, 2500]})
    with pytest.raises(InputError, match="window_mm"):
        load_terrain_config({"window_mm": 100})


def test_write_cog_in_bands_writes_the_same_file(tmp_path):
    """Bands of block rows (bounded memory for graphs with shared tiles) give a byte-identical COG."""
    from affine import Affine

    rng = np.random.default_rng(3)
    data = da.from_array(rng.integers(0, 7, (2500, 1700)).astype(np.uint8), chunks=(512, 512))
    t = Affine(0.001, 0, 112.0, 0, -0.001, 28.0)
    arr = xr.DataArray(data, dims=("y", "x"), coords={"y": 28.0 - 0.001 * (np.arange(2500) + 0.5),
                                                      "x": 112.0 + 0.001 * (np.arange(1700) + 0.5)})
    arr = arr.rio.write_crs("EPSG:4490").rio.write_transform(t)
    whole = write_cog(arr, tmp_path / "whole.tif")
    banded = write_cog(arr, tmp_path / "banded.tif", band_blocks=1)
    assert data.numblocks[0] == 5  # five bands of one block row
    assert whole.read_bytes() == banded.read_bytes()
    with rasterio.open(banded) as src:
        assert np.array_equal(src.read(1), data.compute())
