"""Indicator 7 from a land-survey layer through the workflow's own stages (terrain-grid, terrain-areas,
survey-account, coverage-tables) on a small input set, checked against sums made by hand from the survey's fields; `gep
validate` and the stage refuse bad layers with one line each and write nothing."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

import badinput_builders as b
from gep import config
from gep.cli.main import main

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid
#: each region box is cut into four quadrants, classes in this order (SW, SE, NW, NE)
CLASSES = ["0301", "0305", "0404", "0101"]


def _quadrants(box) -> list:
    x0, y0, x1, y1 = box.bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return [shapely.box(x0, y0, xm, ym), shapely.box(xm, y0, x1, ym), shapely.box(x0, ym, xm, y1),
            shapely.box(xm, ym, x1, y1)]


def _geod_area(g) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(g, 0.001))[0])


def survey_layer(drop: int | None = None) -> gpd.GeoDataFrame:
    geoms, codes, regions = [], [], []
    for code, box in zip(b.CODES, b.region_boxes()):
        for q, cls in zip(_quadrants(box), CLASSES):
            geoms.append(q)
            codes.append(cls)
            regions.append(code)
    tbmj = np.round([_geod_area(g) for g in geoms], 2)
    tkmj = np.where(np.array(codes) == "0101", np.round(tbmj * 0.05, 2), 0.0)
    gdf = gpd.GeoDataFrame({"DLBM": codes, "TBMJ": tbmj, "TKMJ": tkmj,
                            "KCDLBM": np.where(tkmj > 0, "1203", ""), "TBDLMJ": np.round(tbmj - tkmj, 2),
                            "region": regions}, geometry=geoms, crs=b.CRS)
    return gdf.drop(index=drop).reset_index(drop=True) if drop is not None else gdf


@pytest.fixture()
def run(tmp_path):
    d = b.build_valid_set(tmp_path / "in")
    layers = {2019: survey_layer(), 2020: survey_layer(drop=6)}  # 2020: region 2's 0404 polygon is missing
    for year, gdf in layers.items():
        gdf.drop(columns="region").to_file(d / f"dltb_{year}.gpkg", layer="DLTB", engine="pyogrio")
    cfg = b.valid_config(d)
    cfg["landcover"]["survey"] = {"path": f"{d}/dltb_{{year}}.gpkg", "designated_shrub_share": 0.5}
    return {"dir": d, "cfg": cfg, "config": b.write_config(d, cfg), "layers": layers}


def _hand(gdf: gpd.GeoDataFrame) -> pd.Series:
    counted = pd.DataFrame({"region_code": gdf.region, "lc_code": gdf.DLBM.str.lstrip("0"), "m2": gdf.TBDLMJ})
    deducted = pd.DataFrame({"region_code": gdf.region, "lc_code": "1203", "m2": gdf.TKMJ})
    s = pd.concat([counted, deducted]).groupby(["region_code", "lc_code"])["m2"].sum()
    return s[s != 0]


def test_stages_give_the_surveys_numbers(run):
    from gep.indicators.coverage.stage import coverage_tables, relief_areas, survey_account, write_terrain
    from gep.io.run_paths import table_path, terrain_path

    cfg = config.load(run["config"])
    write_terrain(cfg, terrain_path(cfg))
    relief_areas(cfg, [b.LEVEL])
    for year in cfg.years:
        survey_account(cfg, b.LEVEL, year)
    coverage_tables(cfg, b.LEVEL)
    read = lambda name: pd.read_csv(table_path(cfg, b.LEVEL, name), dtype={"region_code": str, "lc_code": str})
    ta = read("terrain_area")
    for year, gdf in run["layers"].items():
        got = ta[(ta.year == year) & (ta.lc_code != "nodata")].groupby(["region_code", "lc_code"])["area_cm2"].sum()
        want = (_hand(gdf) * 1e4).round().astype(np.int64)
        assert got.to_dict() == want.to_dict(), year
    # 2019: 林 = 0301 + 0.5 × 0305, 草 = 0404, over all the survey's area
    fgc = read("forest_grass_coverage").set_index(["region_code", "year"])
    assert (fgc["numerator"] == "forest_grass (designated shrub share 0.5)").all()
    h = _hand(run["layers"][2019]).unstack(fill_value=0.0)
    want = 100 * (h["301"] + 0.5 * h["305"] + h["404"]) / h.sum(axis=1)
    assert np.allclose(fgc.xs(2019, level="year").loc[want.index, "coverage_pct"], want, atol=1e-6)
    # 2020: the missing polygon is a gap, reported and kept in the denominator as nodata
    regions = read("survey_regions").set_index(["region_code", "year"])
    gap = _geod_area(_quadrants(b.region_boxes()[1])[2])
    assert regions.loc[(b.CODES[1], 2020), "flagged"] and not regions.loc[(b.CODES[0], 2020), "flagged"]
    assert regions.loc[(b.CODES[1], 2020), "uncovered_m2"] == pytest.approx(gap, rel=1e-6)
    nodata = ta[(ta.year == 2020) & (ta.lc_code == "nodata")]
    assert list(nodata.region_code) == [b.CODES[1]] and list(nodata.terrain_code) == [0]
    assert nodata.area_km2.iloc[0] == pytest.approx(gap / 1e6, rel=1e-6)
    h20 = _hand(run["layers"][2020]).unstack(fill_value=0.0).loc[b.CODES[1]]
    row = fgc.loc[(b.CODES[1], 2020)]
    assert row["nodata_km2"] == pytest.approx(gap / 1e6, rel=1e-6)
    assert row["coverage_pct"] == pytest.approx(100 * (h20["301"] + 0.5 * h20["305"]) / (h20.sum() + gap),
                                                abs=1e-5)
    for name in ("survey_issues", "survey_totals", "survey_summary", "coverage_by_terrain", "coverage_trend"):
        assert table_path(cfg, b.LEVEL, name).is_file()
    assert set(read("survey_summary")["gaps"]) == {0, 1}


def test_validate_accepts_the_survey(run, capsys):
    assert main(["validate", str(run["config"])]) == 0


def test_validate_refuses_a_crs_change_and_a_missing_field(run, tmp_path, capsys):
    d = run["dir"]
    run["layers"][2020].drop(columns=["region", "TBDLMJ"]).to_crs("EPSG:4526").to_file(
        d / "dltb_2020.gpkg", layer="DLTB", engine="pyogrio")
    report = tmp_path / "report.json"
    before = b.snapshot(d)
    assert main(["validate", str(run["config"]), "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert "landcover.survey (year 2020): " in err and "field(s) TBDLMJ not found; available fields: DLBM" in err
    assert not report.exists() and b.snapshot(d) == before
    # with the field left out, the CRS is what remains
    cfg = dict(run["cfg"])
    cfg["landcover"]["survey"]["area_fields"] = {"tbdlmj": None}
    b.write_config(d, cfg)
    assert main(["validate", str(run["config"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dltb_2020.gpkg: CRS EPSG:4526 differs from" in err[0]


def test_the_survey_stage_refuses_a_bad_layer_and_writes_nothing(run, capsys):
    d = run["dir"]
    bad = run["layers"][2019].drop(columns="region")
    bad["TBMJ"] = bad["TBMJ"].astype(str)
    bad.loc[0, "TBMJ"] = "abc"
    bad.to_file(d / "dltb_2019.gpkg", layer="DLTB", engine="pyogrio")
    before = b.snapshot(d)
    assert main(["stage", "survey-account", str(run["config"]), "--level", b.LEVEL, "--year", "2019"]) == 2
    err = capsys.readouterr().err
    assert "field 'TBMJ' has values that are not numbers (feature 1 'abc'" in err
    assert b.snapshot(d) == before


def test_survey_settings_redo_only_the_jobs_that_read_the_survey(run):
    from gep.workflow.rules import settings

    cfg = config.load(run["config"])
    other = dict(run["cfg"])
    other["landcover"] = {**run["cfg"]["landcover"], "survey": {**run["cfg"]["landcover"]["survey"],
                                                                "numerator": "forestland_grass"}}
    cfg2 = config.validate(other)
    # the raster jobs' params (the landcover section) do not hold the survey; the survey's jobs' do
    assert settings(cfg, "landcover") == settings(cfg2, "landcover") and '"survey"' not in settings(cfg, "landcover")
    assert settings(cfg, "landcover.survey") != settings(cfg2, "landcover.survey")
    assert '"numerator":"forestland_grass"' in settings(cfg2, "landcover.survey")
