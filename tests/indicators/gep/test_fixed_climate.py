"""``gep.fixed_climate``: weather-driven inputs held at their mean over climate years (docs/methods.md §4.6), so
that a wetter year is not read as ecological gain in the 稳定提高 verdict. Hand values on a tiny grid."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from helpers_raster import write_tif
from shapely.geometry import box

from gep.accounting.classes import load_scheme
from gep.accounting.landcover import LandcoverRaster, crosstab_table, landcover_area
from gep.core.errors import InputError
from gep.indicators.gep import load_gep_config, run_gep
from gep.indicators.gep.run import preflight
from gep.vector.geodesy import lonlat_box_area_m2
from gep.vector.regions import region_frame

LON0, LAT0, RES, N = 112.0, 28.0, 0.001, 4
YEARS = [2019, 2020]
PRECIP = {2019: 1000.0, 2020: 1400.0}   # mm/a; mean 1200 mm
ET = 600.0                               # mm/a, constant
ALPHA_FOREST = 0.0465                    # runoff_coefficients_clcd.yaml, CLCD 2 森林


def _area_m2() -> float:
    """The ellipsoidal area of the 4 × 4 cells (the region is the grid)."""
    return lonlat_box_area_m2(LON0, LAT0 - N * RES, LON0 + N * RES, LAT0, 4326)


@pytest.fixture()
def forest(tmp_path):
    """Forest everywhere in both years; precipitation 1000 mm in 2019, 1400 mm in 2020."""
    t = Affine(RES, 0, LON0, 0, -RES, LAT0)
    for y in YEARS:
        write_tif(tmp_path / f"lc_{y}.tif", np.full((N, N), 2, np.uint8), t, "EPSG:4326", nodata=0)
        write_tif(tmp_path / f"p_{y}.tif", np.full((N, N), PRECIP[y], np.float32), t, "EPSG:4326", nodata=-1.0)
    regions = gpd.GeoDataFrame({"region_code": ["R"], "region_name": ["林县"]},
                               geometry=[box(LON0, LAT0 - N * RES, LON0 + N * RES, LAT0)], crs="EPSG:4326")
    scheme = load_scheme("clcd")
    lca = [landcover_area(crosstab_table(LandcoverRaster.open(tmp_path / f"lc_{y}.tif", chunk=64), regions,
                                         scheme.codes), region_frame(regions), scheme, y) for y in YEARS]
    (tmp_path / "d.csv").write_text("year,index\n2010,100\n2019,120\n2020,125\n", encoding="utf-8")
    cfg = {"services": ["water_conservation"], "deflator": str(tmp_path / "d.csv"), "chunk": 64,
           "rasters": {"precipitation": str(tmp_path / "p_{year}.tif"), "et": ET}}
    return tmp_path, regions, lca, cfg


def _run(tmp, regions, lca, cfg, out="out"):
    import pandas as pd

    return run_gep(load_gep_config(cfg), years=YEARS, landcover_area=pd.concat(lca, ignore_index=True),
                   regions=regions, landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / out,
                   landcover_nodata=0)


def test_fixed_climate_takes_the_weather_out_of_the_trend(forest):
    tmp, regions, lca, cfg = forest
    actual = _run(tmp, regions, lca, cfg, "actual")["gep_summary"].set_index("year")
    # actual climate: water conservation (P − αP − ET) per m² is 353.5 mm in 2019 and 734.9 mm in 2020
    assert actual.loc[2020, "change_pct"] == pytest.approx((1400 * (1 - ALPHA_FOREST) - ET)
                                                          / (1000 * (1 - ALPHA_FOREST) - ET) * 100 - 100)
    assert actual.loc[2020, "verdict"] == "达标"

    fixed = {**cfg, "fixed_climate": {"from": 2019, "to": 2020}}
    out = _run(tmp, regions, lca, fixed)
    s = out["gep_summary"].set_index("year")
    assert s.loc[2020, "change_pct"] == 0.0                     # same land cover, same climate: no change
    assert s.loc[2020, "verdict"] == "不达标"                    # an unchanged value is no improvement
    w = out["gep_services"].set_index(["year", "service"])
    hand_m3 = (1200 * (1 - ALPHA_FOREST) - ET) * _area_m2() * 1e-3    # 544.2 mm at the 1200 mm mean
    for y in YEARS:
        assert w.loc[(y, "water_conservation"), "quantity"] == pytest.approx(hand_m3, rel=1e-6)
    note = "fixed climate: mean of precipitation over 2019, 2020"
    assert s.loc[2020, "gep_scope"] == f"tier 2: regulating; {note}"
    assert s.loc[2020, "verdict_rule"].endswith(f"(constant prices); {note}")
    meta = json.loads((tmp / "out" / "gep_summary.meta.json").read_text(encoding="utf-8"))
    assert meta["fixed_climate"] == note
    meta = json.loads((tmp / "out" / "gep_services.meta.json").read_text(encoding="utf-8"))
    assert meta["fixed_climate"] == note


def test_nodata_in_any_climate_year_is_nodata(forest):
    """A cell without precipitation in one climate year has no mean: the coverage check then stops the run."""
    tmp, regions, lca, cfg = forest
    p = np.full((N, N), 1000.0, np.float32)
    p[0, 0] = -1.0
    write_tif(tmp / "p_2019.tif", p, Affine(RES, 0, LON0, 0, -RES, LAT0), "EPSG:4326", nodata=-1.0)
    with pytest.raises(InputError) as err:
        _run(tmp, regions, lca, {**cfg, "fixed_climate": {"years": [2019, 2020]}})
    # one cell of 16 (≈ 6.25 % of the area) is missing in every accounting year, 2020 included
    lines = err.value.lines()
    assert [line.split(":")[0] for line in lines] == ["water_conservation 2019", "water_conservation 2020"]
    assert all("inputs cover 93.7" in line for line in lines), lines


def test_missing_climate_year_file_is_one_line(forest):
    tmp, regions, lca, cfg = forest
    gep = load_gep_config({**cfg, "fixed_climate": {"from": 2017, "to": 2020, "inputs": ["precipitation"]}})
    problems = preflight(gep, YEARS, None)
    assert problems == [
        f"gep.rasters.precipitation: {tmp / 'p_2017.tif'} (climate year 2017 of gep.fixed_climate) does not exist; "
        "provide it or leave 2017 out of gep.fixed_climate",
        f"gep.rasters.precipitation: {tmp / 'p_2018.tif'} (climate year 2018 of gep.fixed_climate) does not exist; "
        "provide it or leave 2018 out of gep.fixed_climate"]


def test_constants_and_unlisted_inputs_are_not_fixed(forest):
    tmp, _, _, cfg = forest
    gep = load_gep_config({**cfg, "fixed_climate": {"years": [2019], "inputs": ["et"]}})
    assert gep.climate_note() is None                 # et is a constant, precipitation not listed
    assert gep.raster_years("precipitation", gep.rasters.precipitation, YEARS) == YEARS


@pytest.mark.parametrize("bad, says", [
    ({"years": [2019], "from": 2015, "to": 2020}, "either as 'years'"),
    ({"from": 2020, "to": 2015}, "from 2020 to 2015"),
    ({"years": [2019, 2019]}, "once"),
    ({"years": [2019], "inputs": ["landcover"]}, "inputs landcover: not a gep.rasters input"),
])
def test_bad_fixed_climate_settings_are_refused(bad, says):
    with pytest.raises(InputError, match=says):
        load_gep_config({"fixed_climate": bad})
