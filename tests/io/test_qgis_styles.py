"""The ``layer_styles`` table written without QGIS: layout, one default per layer, replacement, well-formed QML;
and that a GeoPackage carrying it still reads as one data layer. (QGIS itself loads these styles in
tests/scorecard/test_qgis_styles.py.)"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import box

from gep.io.qgis_styles import (Category, LayerStyle, Range, categorized_qml, change_styles, graduated_qml,
                                outline_style, write_layer_styles)
from gep.scorecard.qgis_styles import gep_breaks
from gep.vector.read import open_layer


def _gpkg(path, layer="parts"):
    gdf = gpd.GeoDataFrame({"change": ["added", "removed"], "year_from": [2020, 2020], "year_to": [2022, 2022],
                            "area_km2": [1.5, 0.25], "name": ["a", "b"]},
                           geometry=[box(0, 0, 1, 1), box(2, 0, 3, 1)], crs=4490)
    pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG")
    return gdf


def _rows(path):
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT f_table_name, f_geometry_column, styleName, useAsDefault, styleQML "
                           "FROM layer_styles ORDER BY id").fetchall()
    finally:
        con.close()


def test_styles_are_registered_and_one_default_per_layer(tmp_path):
    path = tmp_path / "x.gpkg"
    _gpkg(path)
    write_layer_styles(path, [outline_style("parts"), LayerStyle("parts", "other", outline_style("parts").qml)])
    write_layer_styles(path, [LayerStyle("parts", "newer", outline_style("parts").qml, default=True)])
    rows = _rows(path)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("parts", "geom", "parts (gep)", 0), ("parts", "geom", "other", 0),
                                                       ("parts", "geom", "newer", 1)]
    write_layer_styles(path, [LayerStyle("parts", "other", "<qgis/>")])  # same name: replaced, not added
    assert [r[2] for r in _rows(path)] == ["parts (gep)", "newer", "other"]
    assert [str(n) for n, _ in pyogrio.list_layers(path)] == ["parts", "layer_styles"]  # GDAL sees the table
    # a file carrying QGIS styles still reads as its one data layer
    gdf, name = open_layer(path, layer=None, where="x.gpkg")
    assert name == "parts" and len(gdf) == 2
    with pytest.raises(ValueError, match="no geometry layer 'nope'"):
        write_layer_styles(path, [LayerStyle("nope", "s", "<qgis/>")])


def test_change_styles_take_years_from_fields_or_name(tmp_path):
    gdf = _gpkg(tmp_path / "c.gpkg")
    empty = gdf.iloc[:0]
    styles = change_styles({"redline_2020_2022": gdf, "protected_2018_2019": empty,
                            "redline_2020_2022_status": gdf.drop(columns="geometry").assign(status="x")})
    assert [s.layer for s in styles] == ["redline_2020_2022", "protected_2018_2019"]
    labels = [{c.get("value"): c.get("label") for c in ET.fromstring(s.qml.split("\n", 1)[1]).iter("category")}
              for s in styles]
    assert labels[0]["added"] == "新增 added：2022 较 2020（与上一核算年相比）"
    assert labels[1]["removed"] == "减少 removed：2019 较 2018（与上一核算年相比）"
    assert all(s.default for s in styles)


def test_qml_is_well_formed_and_escaped():
    qml = categorized_qml("f", [Category('a"<&', "1,2,3,255", "x < y & z")], other="其他",
                          labels='"name" || \'<\'')
    root = ET.fromstring(qml.split("\n", 1)[1])
    cats = root.findall("renderer-v2/categories/category")
    assert [(c.get("value"), c.get("label")) for c in cats] == [('a"<&', "x < y & z"), ("", "其他")]
    assert root.find("labeling/settings/text-style").get("fieldName") == '"name" || \'<\''
    g = ET.fromstring(graduated_qml("v", [Range(0, 1.5, "1,1,1,255", "0–1.5")]).split("\n", 1)[1])
    assert [(float(r.get("lower")), float(r.get("upper"))) for r in g.iter("range")] == [(0, 1.5)]
    assert g.get("labelsEnabled") == "0"


def test_gep_breaks():
    # 9 values: quantiles at 20/40/60/80 % → 530, 1000, 1100, 2000 (two significant digits), ends = min and max
    vals = [500, 520, 540, 1000, 1050, 1100, 2000, 2000, 2100]
    assert gep_breaks(vals) == [500, 530, 1000, 1100, 2000, 2100]
    assert gep_breaks([float("nan"), None]) == [] and gep_breaks([7.0, 7.0]) == [7.0, 7.0]
    assert gep_breaks([1.0, 2.0], n=5)[0] == 1.0 and gep_breaks([1.0, 2.0])[-1] == 2.0
