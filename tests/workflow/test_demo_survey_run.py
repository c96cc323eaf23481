"""The survey demo end to end (what `make demo-survey` runs: config/demo_survey.yaml): indicator 7 from the
land-survey polygons, indicators 9 and 10 from the raster, and the survey's numbers checked against sums made
by hand from the layers themselves (the townships cut no polygon: the demo survey was cut at their borders)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo_survey")
    cfg = yaml.safe_load((REPO / "config" / "demo_survey.yaml").read_text(encoding="utf-8"))
    data = folder / "data"
    cfg["output_dir"] = str(folder / "results")
    cfg["demo"]["dir"] = str(data)
    text = yaml.safe_dump(cfg, allow_unicode=True).replace("resources/demo", str(data))
    (folder / "config.yaml").write_text(text, encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"),
                          "--configfile", str(folder / "config.yaml"), "--cores", "2", "--quiet", "rules"],
                         cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    return {"folder": folder, "data": data, "cfg": yaml.safe_load(text)}


def _table(run, level: str, name: str) -> pd.DataFrame:
    return pd.read_csv(run["folder"] / "results" / "tables" / level / f"{name}.csv",
                       dtype={"region_code": str, "lc_code": str})


def _layer(run, year: int) -> gpd.GeoDataFrame:
    return gpd.read_file(run["data"] / f"survey_{year}.gpkg", layer="DLTB", engine="pyogrio")


def _cm2(x) -> np.ndarray:
    return np.rint(np.asarray(x, dtype=np.float64) * 1e4).astype(np.int64)


def _hand_sums(run, year: int) -> pd.Series:
    """cm² by (township, scheme code): TBDLMJ to DLBM and TKMJ to 1203, each polygon placed by its ZLDWDM."""
    layer = _layer(run, year)
    towns = gpd.read_file(run["data"] / "townships.gpkg", layer="townships", engine="pyogrio")
    town_of = {c[:9]: c for c in towns["code"].astype(str)}
    region = layer["ZLDWDM"].str[:9].map(town_of)
    assert region.notna().all()
    code = layer["DLBM"].str.lstrip("0")
    counted = pd.DataFrame({"region_code": region, "lc_code": code, "area_cm2": _cm2(layer["TBDLMJ"])})
    deducted = pd.DataFrame({"region_code": region, "lc_code": "1203", "area_cm2": _cm2(layer["TKMJ"])})
    sums = pd.concat([counted, deducted]).groupby(["region_code", "lc_code"])["area_cm2"].sum()
    return sums[sums != 0]


def test_indicators_7_9_10_are_computed(run):
    for level in ("county", "township"):
        for name in ("forest_grass_coverage", "terrain_area", "protected_change", "gep_summary",
                     "survey_issues", "survey_regions", "survey_totals", "survey_summary"):
            assert (run["folder"] / "results" / "tables" / level / f"{name}.csv").is_file(), (level, name)
        assert (run["folder"] / "results" / "scorecard" / level / "lianshan_index.xlsx").is_file()
    gep = _table(run, "township", "gep_summary")
    assert len(gep) == 14 * 3 and (gep.filter(like="gep").select_dtypes("number").abs().sum().sum() > 0)
    protected = _table(run, "county", "protected_change")
    assert set(protected["year"]) == {2019, 2020, 2021}


def test_class_totals_equal_the_surveys_own_sums(run):
    ta = _table(run, "township", "terrain_area")
    for year in (2019, 2020, 2021):
        got = ta[ta.year == year].groupby(["region_code", "lc_code"])["area_cm2"].sum()
        want = _hand_sums(run, year)
        assert got.to_dict() == want.to_dict(), year
    # the county is the sum of its townships, exactly
    county = _table(run, "county", "terrain_area").groupby(["year", "lc_code"])["area_cm2"].sum()
    towns = ta.groupby(["year", "lc_code"])["area_cm2"].sum()
    assert county.to_dict() == towns.to_dict()


def test_coverage_is_the_numerators_share_of_the_survey_area(run):
    """forest_grass with designated shrub share 0: 0301, 0302 and 0401, 0403, 0404 over all survey area."""
    fgc = _table(run, "township", "forest_grass_coverage").set_index(["region_code", "year"])
    assert (fgc["numerator"] == "forest_grass (designated shrub share 0)").all()
    for year in (2019, 2020, 2021):
        sums = _hand_sums(run, year).unstack(fill_value=0)
        lincao = sums.reindex(columns=["301", "302", "401", "403", "404"], fill_value=0).sum(axis=1)
        expected = 100 * lincao / sums.sum(axis=1)
        got = fgc.xs(year, level="year")["coverage_pct"].reindex(expected.index)
        assert np.allclose(got, expected, atol=1e-6), year
    # the demo plants forest every year: coverage rises in the county
    county = _table(run, "county", "forest_grass_coverage").sort_values("year")
    assert county["coverage_pct"].is_monotonic_increasing and county["coverage_pct"].iloc[-1] > \
        county["coverage_pct"].iloc[0]


def test_terrain_shares_split_no_class_total_and_cover_every_terrain_type(run):
    types = _table(run, "township", "region_terrain_type")
    assert set(types["terrain_type"]) >= {"山区", "平原区"}
    ta = _table(run, "township", "terrain_area")
    assert set(ta["terrain_code"]) >= {1, 2, 3}


def test_the_surveys_reports_are_published(run):
    summary = _table(run, "county", "survey_summary")
    assert list(summary["year"]) == [2019, 2020, 2021]
    assert (summary["gaps"] == 0).all() and (summary["overlap"] == 0).all()
    assert (summary["outside_regions_m2"] == 0).all()
    regions = _table(run, "township", "survey_regions")
    assert len(regions) == 14 * 3 and not regions["flagged"].any()
    totals = _table(run, "county", "survey_totals")
    layer = _layer(run, 2019)
    t19 = totals[totals.year == 2019].groupby("lc_code")["area_cm2"].sum()
    assert t19.sum() == _cm2(layer["TBDLMJ"]).sum() + _cm2(layer["TKMJ"]).sum()
    issues = _table(run, "county", "survey_issues")
    departs = issues[issues.issue == "area_departs"]
    assert (departs["rel_diff"] > 1e-3).all()
