"""``gep services`` and ``gep ls-factor`` end to end on tiny files; Tier 1 through run_gep with regulators."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from affine import Affine
from helpers_raster import write_gpkg, write_tif
from shapely.geometry import box

from gep.accounting.classes import load_scheme
from gep.cli.main import main
from gep.accounting.landcover import LandcoverRaster, crosstab_table, landcover_area
from gep.vector.regions import region_frame
from gep.io.tables import write_single
from gep.indicators.gep import load_gep_config, run_gep

LON0, LAT0, RES = 112.0, 28.0, 0.001


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(2)
    t = Affine(RES, 0, LON0, 0, -RES, LAT0)
    lcs = {}
    for year in (2019, 2020):
        arr = rng.choice(np.array([1, 2, 3, 4, 5, 8, 9], dtype=np.uint8), size=(30, 40))
        lcs[year] = arr
        write_tif(tmp_path / f"lc_{year}.tif", arr, t, "EPSG:4326", nodata=0)
    for name, value in (("p", 1400.0), ("et", 700.0), ("npp", 500.0)):
        for year in (2019, 2020):
            write_tif(tmp_path / f"{name}_{year}.tif", np.full((8, 10), value + year - 2019, np.float32),
                      Affine(0.005, 0, LON0 - 0.005, 0, -0.005, LAT0 + 0.005), "EPSG:4326", nodata=-9999.0)
    dem = (800 - 5.0 * np.arange(40)[None, :] - 3.0 * np.arange(30)[:, None]).astype(np.float32)
    write_tif(tmp_path / "dem.tif", dem, t, "EPSG:4326")
    geoms = [box(LON0, LAT0 - 0.03, LON0 + 0.0173, LAT0), box(LON0 + 0.0173, LAT0 - 0.03, LON0 + 0.04, LAT0)]
    write_gpkg(tmp_path / "regions.gpkg", {"code": ["0101", "0102"], "name": ["东", "西"]}, geoms, "EPSG:4326")
    regions = gpd.GeoDataFrame({"region_code": ["0101", "0102"], "region_name": ["东", "西"]}, geometry=geoms,
                               crs="EPSG:4326")
    scheme = load_scheme("clcd")
    lca = pd.concat([landcover_area(crosstab_table(LandcoverRaster.open(tmp_path / f"lc_{y}.tif", chunk=64), regions,
                                                   scheme.codes), region_frame(regions), scheme, y)
                     for y in (2019, 2020)], ignore_index=True)
    write_single(lca, tmp_path / "landcover_area.csv")
    cfg = {"rasters": {"precipitation": str(tmp_path / "p_{year}.tif"), "et": str(tmp_path / "et_{year}.tif"),
                       "npp": str(tmp_path / "npp_{year}.tif"), "erosivity": 4000, "erodibility": 0.02},
           "services": ["tier1", "water_conservation", "soil_retention", "carbon_sequestration", "oxygen_release",
                        "climate_regulation", "carbon_stock"],
           "deflator": "deflator_demo", "chunk": 64}
    (tmp_path / "gep.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return tmp_path, regions, lca, cfg


def test_cli_services_end_to_end(files):
    tmp, *_ = files
    args = ["services", "--config", str(tmp / "gep.yaml"), "--landcover", str(tmp / "lc_{year}.tif"),
            "--landcover-area", str(tmp / "landcover_area.csv"), "--regions", str(tmp / "regions.gpkg"),
            "--id-field", "code", "--name-field", "name", "--years", "2019", "2020", "--dem", str(tmp / "dem.tif"),
            "--out-dir", str(tmp / "out"), "--scheduler", "synchronous"]
    assert main(args) == 0
    svc = pd.read_csv(tmp / "out" / "gep_services.csv", dtype={"region_code": str})
    assert set(svc["region_code"]) == {"0101", "0102"}
    assert {"water_conservation", "soil_retention", "food_production"} <= set(svc["service"])
    assert list(svc.columns[:12]) == ["region_code", "region_name", "year", "service", "tier", "quantity",
                                      "quantity_unit", "unit_price", "price_unit", "value_yuan", "method", "source"]
    summ = pd.read_csv(tmp / "out" / "gep_summary.csv", dtype={"region_code": str})
    assert list(summ.columns[:9]) == ["region_code", "region_name", "year", "gep_yuan", "gep_constant_yuan",
                                      "land_area_km2", "gep_per_km2_wan_yuan", "change_pct", "verdict"]
    assert set(summ["verdict"]) <= {"达标", "不达标", "无数据"}
    assert (tmp / "out" / "rasters" / "soil_retention_2020.tif").is_file()
    assert (tmp / "out" / "rasters" / "ls_factor.tif").is_file()
    assert (tmp / "out" / "carbon_stock.csv").is_file()
    # an unknown config key: exit 2 with one line naming it
    (tmp / "bad.yaml").write_text("deflator: deflator_demo\nservises: [tier1]\n", encoding="utf-8")
    assert main(args[:1] + ["--config", str(tmp / "bad.yaml")] + args[3:]) == 2


def test_cli_ls_factor(files, capsys):
    tmp, *_ = files
    assert main(["ls-factor", str(tmp / "dem.tif"), "--out", str(tmp / "ls.tif")]) == 0
    assert "mean LS" in capsys.readouterr().out
    assert main(["ls-factor", str(tmp / "missing.tif"), "--out", str(tmp / "ls2.tif")]) == 2


def test_tier1_values_through_run_gep_with_regulators(files):
    tmp, regions, lca, cfg = files
    ratio = tmp / "npp_ratio.csv"
    ratio.write_text("region_code,year,ratio\n0101,2019,1.5\n0102,2019,0.5\n0101,2020,1\n0102,2020,1\n",
                     encoding="utf-8")
    c = load_gep_config({**cfg, "services": ["tier1"], "gep_tier": 1,
                         "tier1": {"regulators": {"npp": {"table": str(ratio)},
                                                  "precipitation": {"raster": str(tmp / "p_{year}.tif"),
                                                                    "reference_mean": 700.0}}}})
    out = run_gep(c, years=[2019, 2020], landcover_area=lca, regions=regions,
                  landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "o", write=False)
    s = out["gep_services"].set_index(["region_code", "year", "service"])
    from gep.indicators.gep.params import load_deflator

    d = load_deflator("deflator_demo")
    area = lca[(lca.region_code == "0101") & (lca.year == 2019)].set_index("lc_code")["area_km2"] * 100  # hm²
    # 气体调节 (NPP-regulated): Σ hm² × factor × 1.5 × E × D(2019)/D(2010)
    f_gas = {1: 0.67, 2: 2.35, 3: 1.41, 4: 1.97, 5: 0.77, 9: 1.90}
    q = sum(area.get(k, 0.0) * v for k, v in f_gas.items()) * 1.5
    row = s.loc[("0101", 2019, "gas_regulation")]
    assert row["quantity"] == pytest.approx(q, rel=1e-9)
    assert row["value_yuan"] == pytest.approx(q * 3406.50 * d.index[2019] / d.index[2010], rel=1e-9)
    assert row["value_constant_yuan"] == pytest.approx(q * 3406.50, rel=1e-9)
    # 水资源供给 (precipitation-regulated): ratio = mean P (1400 mm in 2019) / 700 = 2
    f_ws = {1: 0.02, 2: 0.37, 3: 0.22, 4: 0.31, 5: 8.29, 9: 2.59}
    q_ws = sum(area.get(k, 0.0) * v for k, v in f_ws.items()) * 2.0
    assert s.loc[("0101", 2019, "water_supply"), "quantity"] == pytest.approx(q_ws, rel=1e-6)
    summ = out["gep_summary"].query("region_code == '0101' and year == 2019").iloc[0]
    rows = out["gep_services"].query("region_code == '0101' and year == 2019")
    # ESV: all 11 services; GEP (gep_tier 1): without the supporting ones (docs/methods.md §4.1)
    assert summ["esv_yuan"] == pytest.approx(rows["value_yuan"].sum())
    assert summ["gep_yuan"] == pytest.approx(rows.query("category != 'supporting'")["value_yuan"].sum())
    assert summ["gep_yuan"] < summ["esv_yuan"]


def test_run_gep_without_outputs_writes_nothing(files):
    tmp, regions, lca, cfg = files
    c = load_gep_config({**cfg, "services": ["soil_retention"], "dem": str(tmp / "dem.tif")})
    out = run_gep(c, years=[2020], landcover_area=lca, regions=regions,
                  landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "none", write=False)
    assert not (tmp / "none").exists()
    soil = out["gep_services"]
    assert (soil["service"] == "soil_retention").all() and (soil["quantity"] > 0).all()
    assert "l_max 122" in soil["method"].iloc[0]


def test_workflow_gep_stages_name_a_year_or_level_the_config_lacks(capsys):
    """`gep stage gep-rasters` and `gep stage gep-sums` (rules gep_rasters, gep_sums) refuse a year or level the config does
    not have, in one line with exit 2, before any work."""
    from pathlib import Path

    demo = str(Path(__file__).resolve().parents[2] / "config" / "config.yaml")
    assert main(["stage", "gep-sums", demo, "--level", "county", "--year", "2031"]) == 2
    assert "--year 2031: not one of the config's years (2019, 2020, 2021)" in capsys.readouterr().err
    assert main(["stage", "gep-rasters", demo, "--year", "1999"]) == 2
    assert "--year 1999: not one of the config's years" in capsys.readouterr().err
    assert main(["stage", "gep-sums", demo, "--level", "nation", "--year", "2020"]) == 2
    assert "--level nation: no such region level; the config has county, township" in capsys.readouterr().err
