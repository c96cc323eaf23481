"""Reading polygon layers (gep.vector.read): encodings of shapefiles without .cpg, several layers, ids as
text, and repairs that are counted and measured."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gep.core.errors import InputError
from gep.vector.read import id_text, open_layer, shapefile_encoding
from gep.vector.regions import read_regions

NAMES = ["城关镇", "石门乡"]


def _shapefile(folder, encoding, cpg=False):
    gdf = gpd.GeoDataFrame({"code": ["430101", "430102"], "name": NAMES},
                           geometry=[shapely.box(112, 28, 112.1, 28.1), shapely.box(112.1, 28, 112.2, 28.1)],
                           crs="EPSG:4490")
    path = folder / "towns.shp"
    gdf.to_file(path, engine="pyogrio", encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_names_of_a_shapefile_without_cpg_decode(tmp_path, encoding):
    path = _shapefile(tmp_path, encoding)
    assert not path.with_suffix(".cpg").exists()
    regions, _ = read_regions(path, "code", "name")
    assert regions["region_name"].tolist() == NAMES


def test_gbk_bytes_are_recognised_as_gb18030(tmp_path):
    assert shapefile_encoding(_shapefile(tmp_path, "GBK")) == "GB18030"
    assert shapefile_encoding(_shapefile(tmp_path, "GBK", cpg=True)) is None  # the .cpg decides


def test_a_declared_encoding_wins(tmp_path):
    path = _shapefile(tmp_path, "GBK")
    regions, _ = read_regions(path, "code", "name", encoding="GBK")
    assert regions["region_name"].tolist() == NAMES


def test_several_layers_need_a_name(tmp_path):
    path = tmp_path / "two.gpkg"
    one = gpd.GeoDataFrame({"code": ["1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4490")
    one.to_file(path, layer="county", engine="pyogrio")
    one.to_file(path, layer="towns", engine="pyogrio")
    with pytest.raises(InputError, match=r"has 2 layers \(county, towns\); name the one"):
        open_layer(path, layer=None, where=str(path))
    gdf, name = open_layer(path, layer="towns", where=str(path))
    assert name == "towns" and len(gdf) == 1


def test_ids_as_text():
    values = pd.Series([430101.0, "0012", None, np.nan, 7])
    assert id_text(values).tolist() == ["430101", "0012", None, None, "7"]


def test_a_repaired_region_is_counted_with_the_area_it_changed(tmp_path):
    # a bow-tie ring: its two triangles have area 0.5 each (planar, degrees²); GEOS's raw area of the invalid
    # ring is 0 (the two lobes cancel), so the repair changes the area by 2 × 0.25 = 0.5
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    assert not bowtie.is_valid and shapely.area(bowtie) == pytest.approx(0.0)
    gdf = gpd.GeoDataFrame({"code": ["1", "2"]}, geometry=[bowtie, shapely.box(2, 0, 3, 1)], crs="EPSG:4490")
    path = tmp_path / "r.gpkg"
    gdf.to_file(path, engine="pyogrio")
    regions, report = read_regions(path, "code")
    assert report["repaired"] == 1
    assert report["repaired_area_change"] == pytest.approx(0.5)
    assert shapely.area(regions.geometry.iloc[0]) == pytest.approx(0.5)
    assert regions.geometry.is_valid.all()


# --------------------------------------------------------------------------------------------- CRS sanity

from gep.raster.crs_sanity import check_extent  # noqa: E402

# a township near Changsha: 112.9°E 28.2°N; in CGCS2000 3-degree Gauss-Krüger CM 114E (EPSG:4547, no zone
# prefix) that is x ≈ 391,000 m, y ≈ 3,121,000 m
GK_BOUNDS = (391_000.0, 3_121_000.0, 401_000.0, 3_131_000.0)


def test_gauss_kruger_metres_declared_as_degrees():
    with pytest.raises(InputError, match=r"look like metres, but the declared CRS China Geodetic Coordinate System "
                                         r"2000 is in degrees"):
        check_extent(GK_BOUNDS, "EPSG:4490", "towns.gpkg")


def test_swapped_latitude_and_longitude():
    with pytest.raises(InputError, match="latitude and longitude swapped"):
        check_extent((28.1, 112.8, 28.3, 113.0), "EPSG:4490", "towns.gpkg")


def test_wrong_gauss_kruger_zone_prefix():
    check_extent(GK_BOUNDS, "EPSG:4547", "towns.gpkg")  # the right CRS passes
    # EPSG:4513+ are the zone-prefixed 3-degree zones: zone 38 (CM 114E) expects x ≈ 38,391,000
    check_extent((38_391_000.0, 3_121_000.0, 38_401_000.0, 3_131_000.0), "EPSG:4526", "towns.gpkg")
    with pytest.raises(InputError, match="lie outside the area where"):
        check_extent(GK_BOUNDS, "EPSG:4526", "towns.gpkg")


def test_regions_in_metres_declared_as_degrees_are_refused_before_any_work(tmp_path):
    gdf = gpd.GeoDataFrame({"code": ["1"]}, geometry=[shapely.box(*GK_BOUNDS)], crs="EPSG:4490")
    path = tmp_path / "mislabelled.gpkg"
    gdf.to_file(path, engine="pyogrio")
    with pytest.raises(InputError, match="mislabelled.gpkg: coordinates .* look like metres"):
        read_regions(path, "code")
