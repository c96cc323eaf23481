"""The survey layer named in a run's config (landcover.survey): checked up front, one line per problem naming
file, layer and field (with the available names) and what to do; how a land-cover file is told to be a
polygon layer; which area fields are used."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gep.accounting.survey import (SurveyFields, fields_of, fields_present, options_of, survey_problems,
                                   vector_layers)
from gep.accounting.survey_classes import NUMERATORS
from gep.accounting.survey_demo import DEMO_CRS, synthetic_survey
from gep.config import validate
from gep.config.coverage import SURVEY_NUMERATORS, SurveyConfig

X0, Y0 = 37_600_000.0, 3_100_000.0
BOUNDS = (X0, Y0, X0 + 1000.0, Y0 + 800.0)


@pytest.fixture(scope="module")
def layer():
    return synthetic_survey(BOUNDS, 5, 4, seed=7)


def _write(gdf, path, layer="DLTB"):
    gdf.to_file(path, layer=layer, engine="pyogrio")
    return path


def _survey(**kw) -> SurveyConfig:
    return SurveyConfig(path="x_{year}.gpkg", **kw)


def test_config_names_the_engines_numerators_and_fields():
    assert tuple(NUMERATORS) == SURVEY_NUMERATORS
    s = _survey(area_fields={"tbdlmj": None}, geometry_areas=False, designated_shrub_share=0.25)
    f, o = fields_of(s), options_of(s)
    assert (f.class_field, f.area_field, f.deduct_area_field, f.counted_area_field, f.deduct_class_field) == \
        ("DLBM", "TBMJ", "TKMJ", None, "KCDLBM")
    assert o.scheme == "sandiao" and o.geometry_areas is False and o.gap_tolerance == 1e-4


def test_config_rejects_a_path_without_year_and_an_unknown_numerator():
    base = {"years": [2020], "landcover": {"path": "lc_{year}.tif"},
            "regions": {"county": {"path": "c.gpkg", "id_field": "code"}}}
    with pytest.raises(Exception, match=r"landcover.survey.path.*\{year\}"):
        validate({**base, "landcover": {"path": "lc_{year}.tif", "survey": {"path": "dltb.gpkg"}}})
    with pytest.raises(Exception, match=r"landcover.survey.numerator"):
        validate({**base, "landcover": {"path": "lc_{year}.tif", "survey": {"path": "d_{year}.gpkg",
                                                                           "numerator": "lincao"}}})
    with pytest.raises(Exception, match=r"designated_shrub_share"):
        validate({**base, "landcover": {"path": "lc_{year}.tif", "survey": {"path": "d_{year}.gpkg",
                                                                           "designated_shrub_share": 1.5}}})


def test_good_layers_have_no_problem(layer, tmp_path):
    paths = {y: _write(layer, tmp_path / f"s_{y}.gpkg") for y in (2019, 2020)}
    assert survey_problems(_survey(), paths) == []


def test_missing_layer_lists_the_layers(layer, tmp_path):
    path = _write(layer, tmp_path / "s.gpkg", layer="DLTB_2020")
    (line,) = survey_problems(_survey(), {2020: path})
    assert line.startswith("landcover.survey (year 2020): ") and "layer 'DLTB' not found" in line
    assert "available layers: DLTB_2020" in line


def test_missing_field_lists_the_fields(layer, tmp_path):
    path = _write(layer.rename(columns={"TBDLMJ": "DLMJ"}), tmp_path / "s.gpkg")
    (line,) = survey_problems(_survey(), {2020: path})
    assert "field(s) TBDLMJ not found" in line and "DLMJ" in line and "available fields: DLBM, TBMJ" in line
    # naming the field, or leaving it out, mends it
    assert survey_problems(_survey(area_fields={"tbdlmj": "DLMJ"}), {2020: path}) == []
    assert survey_problems(_survey(area_fields={"tbdlmj": None}), {2020: path}) == []


def test_text_in_an_area_field(layer, tmp_path):
    bad = layer.copy()
    bad["TBMJ"] = bad["TBMJ"].astype(str)
    bad.loc[2, "TBMJ"] = "12,5"
    path = _write(bad, tmp_path / "s.gpkg")
    (line,) = survey_problems(_survey(), {2021: path})
    assert "field 'TBMJ' has values that are not numbers (feature 3 '12,5'; 1 in all)" in line


def test_no_crs_and_a_crs_that_changes(layer, tmp_path):
    bare = _write(layer.set_crs(None, allow_override=True), tmp_path / "bare.gpkg")
    (line,) = survey_problems(_survey(), {2020: bare})
    assert "no CRS" in line and "set the survey's 'crs'" in line
    assert survey_problems(_survey(crs=DEMO_CRS), {2020: bare}) == []
    first = _write(layer, tmp_path / "a.gpkg")
    other = _write(layer.to_crs("EPSG:4526"), tmp_path / "b.gpkg")
    (line,) = survey_problems(_survey(), {2019: first, 2020: other})
    assert line.startswith("landcover.survey (year 2020): ") and "EPSG:4526 differs from" in line
    assert "EPSG:4525" in line and "one CRS" in line


def test_unknown_codes_are_listed_with_their_area(layer, tmp_path):
    bad = layer.copy()
    bad["DLBM"] = bad["DLBM"].astype(object)
    bad.loc[[0, 1], "DLBM"] = "9999"
    path = _write(bad, tmp_path / "s.gpkg")
    (line,) = survey_problems(_survey(), {2020: path})
    area = bad.loc[[0, 1], "TBMJ"].sum()
    assert f"'9999' ({area:,.2f} m²)" in line and "class scheme 'sandiao'" in line


def test_a_vector_file_is_told_by_opening_it_not_by_its_name(layer, tmp_path):
    from helpers_raster import write_tif
    from affine import Affine

    gpkg = _write(layer, tmp_path / "looks_like.tif")  # a GeoPackage with a raster's extension
    assert vector_layers(gpkg) == ["DLTB"]
    tif = tmp_path / "lc.tif"
    write_tif(tif, np.ones((4, 4), np.uint8), Affine(0.01, 0, 112, 0, -0.01, 28), "EPSG:4490")
    assert vector_layers(tif) == []
    assert vector_layers(tmp_path / "missing.gpkg") == []


def test_area_fields_used_where_the_layer_has_them(layer, tmp_path):
    path = _write(layer.drop(columns=["TKMJ", "KCDLBM"]), tmp_path / "s.gpkg")
    f = fields_present(path, "DLTB", SurveyFields(class_field="DLBM"))
    assert (f.area_field, f.deduct_area_field, f.counted_area_field, f.deduct_class_field) == \
        ("TBMJ", None, "TBDLMJ", None)
    bare = _write(gpd.GeoDataFrame({"DLBM": ["0301"]}, geometry=[shapely.box(*BOUNDS)], crs=DEMO_CRS),
                  tmp_path / "bare.gpkg")
    f = fields_present(bare, "DLTB")
    assert f.area_field is None and f.counted_area_field is None


def test_demo_surveys_plant_forest_year_by_year():
    from gep.accounting.survey_demo import demo_surveys

    towns = gpd.GeoDataFrame({"code": ["430181100", "430181101"]},
                             geometry=[shapely.box(112.0, 28.0, 112.05, 28.04), shapely.box(112.05, 28.0, 112.1, 28.04)],
                             crs="EPSG:4490")
    years = demo_surveys(towns, [2019, 2020, 2021], seed=5, cell_m=300)
    a, b, c = years[2019], years[2020], years[2021]
    assert a.geometry.equals(b.geometry) and b.geometry.equals(c.geometry)
    for old, new in ((a, b), (b, c)):
        changed = old.DLBM != new.DLBM
        assert changed.sum() > 0
        assert old.DLBM[changed].isin(["0103", "0404", "0201"]).all() and (new.DLBM[changed] == "0301").all()
        assert (new.TKMJ[changed] == 0).all() and (new.TBDLMJ[changed] == new.TBMJ[changed]).all()
    assert np.allclose(c.TBDLMJ, np.round(c.TBMJ - c.TKMJ, 2))
