"""Area-weighted zonal sums of continuous rasters (gep.raster.zonal.zonal_sum, zonal_sums): against cell areas summed
by hand, the same for any chunking and scheduler, and several rasters over several zone sets in one pass."""

from __future__ import annotations

import dask.array as da
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS

from gep.vector.geodesy import lonlat_box_area_m2
from gep.raster.grid import Grid
from gep.raster.zonal import Zones, zonal_sum, zonal_sums

RES, LON0, LAT0 = 0.01, 110.0, 30.0
SHAPE = (40, 50)


def _grid() -> Grid:
    return Grid(Affine(RES, 0, LON0, 0, -RES, LAT0), SHAPE, CRS.from_epsg(4490))


def _cell_area_m2(row: int) -> float:
    top = LAT0 - row * RES
    return lonlat_box_area_m2(0.0, top - RES, RES, top, 4490)


def _layers():
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 100, SHAPE)
    a[rng.uniform(size=SHAPE) < 0.1] = np.nan  # nodata: left out of the sum and of the covered area
    b = np.full(SHAPE, 2.5, np.float32)
    return a, b


def test_cell_aligned_zones_sum_value_times_ellipsoidal_cell_area():
    grid = _grid()
    a, b = _layers()
    # zone 0: rows 0-39 × cols 0-19; zone 1: rows 5-24 × cols 20-49 (cell-aligned boxes)
    boxes = [shapely.box(LON0, LAT0 - 40 * RES, LON0 + 20 * RES, LAT0),
             shapely.box(LON0 + 20 * RES, LAT0 - 25 * RES, LON0 + 50 * RES, LAT0 - 5 * RES)]
    zones = Zones.prepare(boxes, grid)
    got = {name: zonal_sum(da.from_array(v, chunks=16), grid, zones, scheduler="sync")
           for name, v in (("a", a), ("b", b))}
    area = np.array([_cell_area_m2(r) for r in range(SHAPE[0])])[:, None] * np.ones(SHAPE)
    for z, (rows, cols) in enumerate(((slice(0, 40), slice(0, 20)), (slice(5, 25), slice(20, 50)))):
        va, ar = a[rows, cols], area[rows, cols]
        ok = np.isfinite(va)
        np.testing.assert_allclose(got["a"][z], [np.sum(va[ok] * ar[ok]), np.sum(ar[ok])], rtol=1e-9)
        np.testing.assert_allclose(got["b"][z], [2.5 * ar.sum(), ar.sum()], rtol=1e-9)


def test_any_chunking_and_scheduler_give_close_sums():
    """Float sums: the same to ~1e-12 relative whatever the chunks (the exact boundary fractions do not
    depend on them) and the scheduler."""
    grid = _grid()
    a, _ = _layers()
    shapes = [shapely.Point(LON0 + 0.17, LAT0 - 0.21).buffer(0.123, 64),
              shapely.Polygon([(LON0 + 0.3, LAT0 - 0.05), (LON0 + 0.49, LAT0 - 0.1), (LON0 + 0.41, LAT0 - 0.38)])]
    zones = Zones.prepare(shapes, grid)
    whole = zonal_sum(da.from_array(a, chunks=SHAPE), grid, zones, scheduler="sync")
    tiled = zonal_sum(da.from_array(a, chunks=(16, 12)), grid, zones, scheduler="threads")
    np.testing.assert_allclose(tiled, whole, rtol=1e-12)
    assert whole[:, 1].min() > 0
    # the covered area is each polygon's ellipsoidal area less its nodata cells (a tenth of the cells)
    from gep.vector.geodesy import polygon_area_m2

    share = whole[:, 1] / polygon_area_m2(np.asarray(shapes), grid.crs)
    assert np.all((share > 0.85) & (share < 0.95)), share


def test_rasters_over_zone_sets_in_one_pass_equal_each_alone_bit_for_bit():
    """The GEP sums read each block once for every layer and region level (zonal_sums); each result is exactly
    that of its own zonal_sum, including zone sets that touch different blocks."""
    grid = _grid()
    a, b = _layers()
    west = Zones.prepare([shapely.box(LON0, LAT0 - 0.4, LON0 + 0.13, LAT0)], grid)  # touches the first column only
    mixed = Zones.prepare([shapely.Point(LON0 + 0.17, LAT0 - 0.21).buffer(0.123, 64),
                           shapely.Polygon([(LON0 + 0.3, LAT0 - 0.05), (LON0 + 0.49, LAT0 - 0.1),
                                            (LON0 + 0.41, LAT0 - 0.38)])], grid)
    layers = {"a": da.from_array(a, chunks=(16, 12)), "b": da.from_array(b, chunks=(16, 12))}
    together = zonal_sums(layers, grid, {"west": west, "mixed": mixed}, scheduler="threads")
    assert set(together) == {(z, n) for z in ("west", "mixed") for n in ("a", "b")}
    for (key, name), got in together.items():
        alone = zonal_sum(layers[name], grid, west if key == "west" else mixed, scheduler="sync")
        assert np.array_equal(got, alone), (key, name)
    assert together["west", "b"][0, 1] > 0 and zonal_sums({}, grid, {"west": west}) == {}
