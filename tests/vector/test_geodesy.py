"""Ellipsoidal polygon areas (gep.vector.geodesy.polygon_area_m2) against pyproj.Geod, and independent of batching."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from gep.vector import geodesy
from gep.vector.geodesy import polygon_area_m2


def _layer() -> list:
    """A polygon with a hole, a two-part multipolygon and a wiggly polygon (many vertices), in lon/lat."""
    holed = shapely.Polygon([(112.0, 28.0), (112.3, 28.0), (112.3, 28.2), (112.0, 28.2)],
                            holes=[[(112.1, 28.05), (112.2, 28.05), (112.2, 28.15), (112.1, 28.15)]])
    multi = shapely.MultiPolygon([shapely.box(113.0, 29.0, 113.1, 29.1), shapely.box(113.2, 29.0, 113.25, 29.2)])
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    wiggly = shapely.Polygon(np.column_stack([114 + 0.2 * (1 + 0.1 * np.sin(7 * t)) * np.cos(t),
                                              30 + 0.2 * (1 + 0.1 * np.sin(7 * t)) * np.sin(t)]))
    return [holed, multi, wiggly]


def test_areas_match_pyproj_geod_on_densified_rings():
    geod = Geod(ellps="WGS84")
    geoms = _layer()
    got = polygon_area_m2(geoms, 4326)
    # oriented (exterior counter-clockwise, holes clockwise): Geod then subtracts the holes
    want = [abs(geod.geometry_area_perimeter(shapely.segmentize(shapely.orient_polygons(g), 0.0001))[0])
            for g in geoms]
    np.testing.assert_allclose(got, want, rtol=1e-8)
    # the hole is subtracted
    hole = abs(geod.geometry_area_perimeter(shapely.segmentize(shapely.box(112.1, 28.05, 112.2, 28.15), 0.0001))[0])
    outer = abs(geod.geometry_area_perimeter(shapely.segmentize(shapely.box(112.0, 28.0, 112.3, 28.2), 0.0001))[0])
    assert got[0] == pytest.approx(outer - hole, rel=1e-8)


@pytest.mark.parametrize("crs", ["EPSG:4326", "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +datum=WGS84"])
def test_batches_do_not_change_a_bit(monkeypatch, crs):
    """Parts are processed in batches (bounded memory for large region layers); the sums are the same."""
    geoms = np.asarray(_layer() * 3, dtype=object)
    if crs != "EPSG:4326":
        geoms = shapely.transform(geoms, Transformer.from_crs(4326, CRS(crs), always_xy=True).transform,
                                  interleaved=False)
    whole = polygon_area_m2(geoms, crs)
    monkeypatch.setattr(geodesy, "BATCH_VERTICES", 5)  # about one part per batch
    assert np.array_equal(polygon_area_m2(geoms, crs), whole)
    assert whole[0] > 0 and np.all(whole > 0)
