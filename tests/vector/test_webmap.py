"""Web-map offsets (docs/methods.md §7): GCJ-02 and BD-09 boundaries are brought back to WGS84 before any overlay."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod

from gep.vector.regions import read_regions
from gep.vector.webmap import bd09_to_gcj02, gcj02_to_wgs84, wgs84_to_gcj02

NINGXIANG = (112.55, 28.28)


def test_gcj02_offset_size_and_round_trip():
    lon, lat = np.array([NINGXIANG[0]]), np.array([NINGXIANG[1]])
    glon, glat = wgs84_to_gcj02(lon, lat)
    _, _, dist = Geod(ellps="WGS84").inv(lon, lat, glon, glat)
    assert 300 < dist[0] < 800  # hundreds of metres, as docs/methods.md §7 reports near Ningxiang
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    _, _, err = Geod(ellps="WGS84").inv(lon, lat, back_lon, back_lat)
    assert err[0] < 0.01  # better than 1 cm


def test_outside_china_is_unchanged():
    lon, lat = wgs84_to_gcj02(np.array([2.35]), np.array([48.85]))
    assert lon[0] == 2.35 and lat[0] == 48.85


def test_bd09_region_file_is_converted(tmp_path):
    true = shapely.box(112.50, 28.25, 112.60, 28.32)
    # shift the true polygon into GCJ-02, then into BD-09 (forward BD-09 formula)
    def to_gcj(xy):
        return np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))

    def to_bd(xy):
        x, y = xy[:, 0], xy[:, 1]
        z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * np.pi * 3000 / 180)
        t = np.arctan2(y, x) + 0.000003 * np.cos(x * np.pi * 3000 / 180)
        return np.column_stack([z * np.cos(t) + 0.0065, z * np.sin(t) + 0.006])

    bd = shapely.transform(shapely.transform(shapely.segmentize(true, 0.01), to_gcj), to_bd)
    gpd.GeoDataFrame({"code": ["1"]}, geometry=[bd], crs="EPSG:4326").to_file(tmp_path / "bd.gpkg")
    regions, _ = read_regions(tmp_path / "bd.gpkg", "code", coord_system="bd09")
    got = regions.geometry.iloc[0]
    assert shapely.hausdorff_distance(got, shapely.segmentize(true, 0.01)) < 1e-6  # ~0.1 m
    lon, lat = bd09_to_gcj02(np.array([112.5]), np.array([28.25]))
    assert abs(lon[0] - 112.5) < 0.02 and abs(lat[0] - 28.25) < 0.02
