"""``gep crosstab`` on a land-survey polygon layer: the raster crosstab's long table (region_id, lc_code,
area_m2) with the survey's own areas, checked against sums made by hand from the layer; geometry areas against
pyproj.Geod; one-line errors (exit 2) that write nothing."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Transformer

from gep.accounting.survey_demo import DEMO_CRS, synthetic_survey
from gep.cli.main import main

X0, Y0 = 37_600_000.0, 3_100_000.0  # zone 37 (EPSG:4525), ~28°N
BOUNDS = (X0, Y0, X0 + 1600.0, Y0 + 1000.0)
NX, NY = 16, 10
GEOD = CRS(DEMO_CRS).get_geod()
TO_LONLAT = Transformer.from_crs(DEMO_CRS, 4490, always_xy=True)


@pytest.fixture(scope="module")
def layer():
    return synthetic_survey(BOUNDS, NX, NY, seed=11)


@pytest.fixture(scope="module")
def files(layer, tmp_path_factory):
    """The survey (GeoPackage, layer DLTB) and two regions made of whole polygons (west / east columns)."""
    d = tmp_path_factory.mktemp("survey_cli")
    survey = d / "DLTB.gpkg"
    layer.to_file(survey, layer="DLTB", engine="pyogrio")
    west = np.arange(len(layer)) % NX < 7
    geoms = layer.geometry.values
    regions = gpd.GeoDataFrame({"code": ["430100001", "430100002"], "name": ["西乡", "东乡"]},
                               geometry=[shapely.union_all(geoms[west]), shapely.union_all(geoms[~west])],
                               crs=DEMO_CRS)
    reg = d / "regions.gpkg"
    regions.to_file(reg, layer="regions", engine="pyogrio")
    return {"dir": d, "survey": survey, "regions": reg, "west": west}


def _cm2(x) -> np.ndarray:
    return np.rint(np.asarray(x, dtype=np.float64) * 1e4).astype(np.int64)


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"region_id": str, "lc_code": str})


def _hand(layer, west) -> dict:
    """m² by (region, scheme code): TBDLMJ to DLBM, TKMJ to 1203, from the layer's own fields."""
    out = {}
    for code, mask in (("430100001", west), ("430100002", ~west)):
        sub = layer[mask]
        for dlbm, cm2 in zip(sub.DLBM, _cm2(sub.TBDLMJ)):
            key = (code, dlbm.lstrip("0"))
            out[key] = out.get(key, 0) + cm2
        out[(code, "1203")] = out.get((code, "1203"), 0) + int(_cm2(sub.TKMJ).sum())
    return {k: v / 1e4 for k, v in out.items() if v}


def test_survey_areas_by_region_and_class(layer, files, tmp_path, capsys):
    out = tmp_path / "out.csv"
    rc = main(["crosstab", str(files["survey"]), str(files["regions"]), "--id-field", "code", "--name-field",
               "name", "--class-field", "DLBM", "--out", str(out)])
    assert rc == 0
    got = _read(out)
    assert list(got.columns) == ["region_id", "region_name", "lc_code", "area_m2"]
    assert dict(zip(zip(got.region_id, got.lc_code), got.area_m2)) == pytest.approx(_hand(layer, files["west"]),
                                                                                   abs=1e-9)
    assert set(got.loc[got.region_id == "430100001", "region_name"]) == {"西乡"}
    assert "160 polygons (survey areas)" in capsys.readouterr().out


def test_geometry_areas_are_the_geodesic_areas(layer, files, tmp_path):
    out = tmp_path / "geom.parquet"
    assert main(["crosstab", str(files["survey"]), str(files["regions"]), "--id-field", "code",
                 "--survey-layer", "DLTB", "--geometry-areas", "--out", str(out)]) == 0
    got = pd.read_parquet(out).set_index(["region_id", "lc_code"])["area_m2"]
    want: dict = {}
    for code, mask in (("430100001", files["west"]), ("430100002", ~files["west"])):
        for dlbm, geom in zip(layer.DLBM[mask], layer.geometry.values[mask]):
            dense = shapely.segmentize(geom, 5.0)
            ll = shapely.transform(dense, lambda xy: np.column_stack(TO_LONLAT.transform(xy[:, 0], xy[:, 1])))
            key = (code, dlbm.lstrip("0"))
            want[key] = want.get(key, 0.0) + abs(GEOD.geometry_area_perimeter(ll)[0])
    assert set(got.index) == set(want)  # no 1203: geometry areas deduct nothing
    for key, area in want.items():
        assert got[key] == pytest.approx(area, rel=1e-7, abs=0.01)


def test_a_layer_without_area_fields_uses_geometry_areas(layer, files, tmp_path, capsys):
    bare = tmp_path / "bare.gpkg"
    layer[["DLBM", "geometry"]].to_file(bare, layer="DLTB", engine="pyogrio")
    out = tmp_path / "bare.csv"
    assert main(["crosstab", str(bare), str(files["regions"]), "--id-field", "code", "--out", str(out)]) == 0
    assert "no TBMJ or TBDLMJ field; the polygons' ellipsoidal areas are used" in capsys.readouterr().out
    got = _read(out)
    assert "1203" not in set(got.lc_code)
    assert got.area_m2.sum() == pytest.approx(layer.TBMJ.sum(), rel=1e-6)  # TBMJ is the ellipsoidal area


def _bad(args, tmp_path, capsys) -> str:
    out = tmp_path / "bad.csv"
    before = set(tmp_path.iterdir())
    assert main(["crosstab", *map(str, args), "--out", str(out)]) == 2
    assert set(tmp_path.iterdir()) == before  # nothing written
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    return err


def test_missing_field_lists_the_fields(files, tmp_path, capsys):
    err = _bad([files["survey"], files["regions"], "--id-field", "code", "--class-field", "地类编码"], tmp_path,
               capsys)
    assert "DLTB.gpkg (layer DLTB): field(s) 地类编码 not found; available fields: DLBM, TBMJ" in err


def test_missing_layer_lists_the_layers(files, tmp_path, capsys):
    err = _bad([files["survey"], files["regions"], "--id-field", "code", "--survey-layer", "DLTB2020"], tmp_path,
               capsys)
    assert "layer 'DLTB2020' not found; available layers: DLTB" in err


def test_text_in_an_area_field(layer, files, tmp_path, capsys):
    bad = layer.copy()
    bad["TKMJ"] = bad["TKMJ"].astype(str)
    bad.loc[4, "TKMJ"] = "n/a"
    path = tmp_path / "text.gpkg"
    bad.to_file(path, layer="DLTB", engine="pyogrio")
    err = _bad([path, files["regions"], "--id-field", "code"], tmp_path, capsys)
    assert "field 'TKMJ' has values that are not numbers (feature 5 'n/a'; 1 in all)" in err


def test_no_crs(layer, files, tmp_path, capsys):
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning):
        layer.set_crs(None, allow_override=True).to_file(path, layer="DLTB", engine="pyogrio")
    err = _bad([path, files["regions"], "--id-field", "code"], tmp_path, capsys)
    assert "nocrs.gpkg (layer DLTB): no CRS" in err
    out = tmp_path / "ok.csv"
    assert main(["crosstab", str(path), str(files["regions"]), "--id-field", "code", "--crs", DEMO_CRS,
                 "--out", str(out)]) == 0


def test_survey_options_on_a_raster_are_refused(tmp_path, capsys, files):
    from affine import Affine
    from helpers_raster import write_tif

    tif = tmp_path / "lc.tif"
    write_tif(tif, np.ones((4, 4), np.uint8), Affine(0.01, 0, 112, 0, -0.01, 28), "EPSG:4490")
    err = _bad([tif, files["regions"], "--id-field", "code", "--geometry-areas"], tmp_path, capsys)
    assert "lc.tif: is not a polygon layer, so --geometry-areas do not apply" in err
