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
