"""Tier-2 services (gep.indicators.gep.services, resample, run): hand-computed values on a tiny geographic grid.

Cell areas in the expectations come from gep.vector.geodesy.lonlat_box_area_m2 (exact ellipsoidal boxes), the
per-class densities are written out by hand from the parameter files' numbers, and every unit conversion
(mm·m² → m³, t/hm² → t, g → t, yuan → 万元) is spelled out here again.
"""

from __future__ import annotations

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

from gep.accounting.classes import load_scheme
from gep.core.errors import InputError
from gep.vector.geodesy import lonlat_box_area_m2
from gep.raster.grid import Grid
from gep.accounting.landcover import LandcoverRaster, crosstab_table, landcover_area
from gep.vector.regions import region_frame
from gep.indicators.gep import load_gep_config, run_gep, write_service_rasters
from gep.indicators.gep import services as sv
from gep.raster.resample import warp_to_grid
from gep.indicators.gep.statistics import template

LON0, LAT0, RES = 112.0, 28.0, 0.001
LC = np.array([[2, 2, 4, 4, 5, 8],
               [2, 2, 4, 1, 5, 8],
               [3, 3, 9, 1, 7, 0],
               [3, 3, 9, 1, 7, 6]], dtype=np.uint8)
SPLIT = 3  # region A = columns 0-2, region B = columns 3-5
YEAR = 2020


def cell_area(row: int) -> float:
    top = LAT0 - row * RES
    return lonlat_box_area_m2(LON0, top - RES, LON0 + RES, top, 4326)


def write(path, arr, transform, nodata=None, dtype=None):
    arr = np.asarray(arr)
    with rasterio.open(path, "w", driver="GTiff", height=arr.shape[0], width=arr.shape[1], count=1,
                       dtype=dtype or arr.dtype.name, crs="EPSG:4326", transform=transform, nodata=nodata) as dst:
        dst.write(arr.astype(dtype or arr.dtype), 1)
    return path


# hand values per class (CLCD codes) from the shipped parameter files
P, ET, NPP, R, K, LS = 1500.0, 800.0, 600.0, 3000.0, 0.03, 2.0
# runoff_coefficients_clcd.yaml: every class with an α counts (snow and ice, 6, has none)
ALPHA = {1: 0.0957, 2: 0.0465, 3: 0.042, 4: 0.0665, 5: 0.0, 7: 0.30, 8: 0.65, 9: 0.0}
WATER_MM = {c: P - P * a - ET for c, a in ALPHA.items()}               # 2: 630.25 … 8: 1500 − 975 − 800 = −275 mm
CP = {1: 0.23 * 0.40, 2: 0.006, 3: 0.02, 4: 0.04, 7: 1.0, 9: 0.0}      # usle_cp_clcd.yaml, C·P
SOIL_T_HM2 = {c: R * K * LS * (1 - cp) for c, cp in CP.items()}        # 163.44, 178.92, …
CO2_G_M2 = {c: NPP * 0.3 * 44 / 12 for c in (2, 3, 4, 9)}              # 660 g CO₂/m²
# climate_regulation.yaml: heat of 1 mm over 1 m² = 10⁻³ m³ × 1000 kg/m³ × 2.45 MJ/kg / 3.6 MJ/kWh = 0.68056 kWh;
# 90 cooling days of 365; vegetation: ET × 0.6 transpiration share, ÷ r = 3; water (5, 9): evaporation (= ET here)
# × (heat + γ 100 kWh/m³ × 10⁻³ m³/mm), not ÷ r
HEAT_KWH_PER_MM = 1e-3 * 1000 * 2.45 / 3.6
COOL = 90 / 365
VEG_KWH_M2 = ET * 0.6 * COOL * HEAT_KWH_PER_MM / 3.0                    # 26.85 kWh/m²/a
WATER_KWH_M2 = ET * COOL * (HEAT_KWH_PER_MM + 100 * 1e-3)               # 153.97 kWh/m²/a
CLIMATE_KWH_M2 = {2: VEG_KWH_M2, 3: VEG_KWH_M2, 4: VEG_KWH_M2, 5: WATER_KWH_M2, 9: WATER_KWH_M2}


def hand_total(density: dict, factor: float) -> tuple[float, float]:
    """Σ density(class) × cell area × factor over regions A and B (classes not listed count 0)."""
    tot = [0.0, 0.0]
    for r in range(LC.shape[0]):
        for c in range(LC.shape[1]):
            tot[0 if c < SPLIT else 1] += density.get(int(LC[r, c]), 0.0) * cell_area(r) * factor
    return tot[0], tot[1]


def test_unit_conversions_spelled_out():
    assert sv.MM_M2_TO_M3 == 1e-3               # 1 mm × 1 m² = 0.001 m³
    assert sv.T_PER_HM2_M2_TO_T == 1e-4         # 1 t/hm² × 1 m² = 1e-4 t
    assert sv.G_M2_TO_T == 1e-6                 # 1 g/m² × 1 m² = 1e-6 t
    assert sv.SERVICES["water_conservation"][3] == sv.MM_M2_TO_M3
    assert sv.SERVICES["soil_retention"][3] == sv.T_PER_HM2_M2_TO_T
    assert sv.SERVICES["carbon_sequestration"][3] == sv.G_M2_TO_T
    # 630.25 mm over one hectare = 6302.5 m³; 178.92 t/hm² over 1 km² = 17892 t
    assert 630.25 * 10_000 * sv.MM_M2_TO_M3 == pytest.approx(6302.5)
    assert 178.92 * 1e6 * sv.T_PER_HM2_M2_TO_T == pytest.approx(17892.0)
    assert sv.heat_kwh_per_mm(2.45, 1000.0, 3.6) == pytest.approx(0.680555555)   # 2450 kJ / 3600 kJ/kWh
    assert VEG_KWH_M2 == pytest.approx(26.84932, rel=1e-5) and WATER_KWH_M2 == pytest.approx(153.9726, rel=1e-5)


def test_kernels_by_hand():
    lc = np.array([[2, 4, 5, 8, 0]], dtype=np.uint8)
    codes = np.arange(1, 10)
    alpha = np.array([np.nan, 0.0465, 0.042, 0.0665, np.nan, np.nan, np.nan, np.nan, 0.0])
    q = sv.water_conservation_mm(lc, np.full(lc.shape, P), np.full(lc.shape, ET), codes, alpha)
    np.testing.assert_allclose(q[0, :4], [630.25, 600.25, 0.0, 0.0])
    assert np.isnan(q[0, 4])  # nodata code 0 has no parameter row
    # negative water conservation is kept unless clipped
    q2 = sv.water_conservation_mm(lc, np.full(lc.shape, 700.0), np.full(lc.shape, ET), codes, alpha,
                                  clip_negative=True)
    assert q2[0, 0] == 0.0
    co2 = sv.carbon_co2_g_m2(lc, np.full(lc.shape, NPP), 0.3, [2, 3, 4, 9], codes)
    np.testing.assert_allclose(co2[0, :4], [660.0, 660.0, 0.0, 0.0])  # 600 × 0.3 × 44/12
    # 73 cooling days = 1/5 of the year; 500 mm transpiration → 100 mm on cooling days × 0.68056 / 3 = 22.685 kWh
    np.testing.assert_allclose(sv.cooling_fraction([73.0, 0.0, -1.0, 400.0]), [0.2, 0.0, np.nan, np.nan])
    assert sv.vegetation_kwh_m2(100.0, 2.45 / 3.6, 3.0) == pytest.approx(22.6851852)
    # 1000 mm evaporation × 0.2 = 200 mm = 0.2 m³/m²: 0.2 × 1000 × 2450 / 3600 + 0.2 × 100 = 136.111 + 20 kWh
    assert sv.water_kwh_m2(200.0, 2.45 / 3.6, 100.0) == pytest.approx(156.1111111)


def test_soil_retention_equals_invest_avoided_erosion():
    """A_c = R·K·LS·(1 − C·P) is InVEST SDR's RKLS − USLE on the same factors, cell by cell."""
    rng = np.random.default_rng(1)
    shape = (7, 9)
    lc = rng.integers(1, 10, shape).astype(np.uint8)
    r, k, ls = rng.uniform(500, 8000, shape), rng.uniform(0.005, 0.06, shape), rng.uniform(0.03, 40, shape)
    codes = np.arange(1, 10)
    c = rng.uniform(0, 1, 9)
    p = rng.uniform(0, 1, 9)
    inc = np.ones(9)
    out = sv.soil_retention_t_hm2(lc, r, k, ls, codes, c, p, inc)
    rkls = r * k * ls                          # InVEST: potential soil loss, t/(ha·yr)
    usle = rkls * c[lc - 1] * p[lc - 1]        # InVEST: USLE soil loss
    np.testing.assert_allclose(out, rkls - usle, rtol=1e-12)
    # by hand: R 3000, K 0.03, LS 2.5, forest C 0.006 P 1 → 225 × 0.994 = 223.65 t/hm²; × 1 m² = 0.022365 t
    one = sv.soil_retention_t_hm2(np.array([[2]], np.uint8), 3000.0, 0.03, 2.5, codes,
                                  np.r_[0.23, 0.006, np.zeros(7)], np.r_[0.4, 1.0, np.zeros(7)], inc)
    assert one[0, 0] == pytest.approx(223.65)
    assert one[0, 0] * 1.0 * sv.T_PER_HM2_M2_TO_T == pytest.approx(0.022365)


# ---------------------------------------------------------------------------------------------------------
# end to end on a tiny grid


@pytest.fixture()
def tiny(tmp_path):
    t_lc = Affine(RES, 0, LON0, 0, -RES, LAT0)
    lc_path = write(tmp_path / f"lc_{YEAR}.tif", LC, t_lc, nodata=0)
    # climate on a coarser grid (0.002°) covering more than the land cover, constant fields
    t_c = Affine(2 * RES, 0, LON0 - 2 * RES, 0, -2 * RES, LAT0 + 2 * RES)
    for name, value in (("precip", P), ("et", ET), ("npp", NPP)):
        write(tmp_path / f"{name}_{YEAR}.tif", np.full((6, 7), value, np.float32), t_c, nodata=-9999.0)
    write(tmp_path / "ls.tif", np.full(LC.shape, LS, np.float32), t_lc)
    regions = gpd.GeoDataFrame(
        {"region_code": ["A", "B"], "region_name": ["甲", "乙"]},
        geometry=[box(LON0, LAT0 - 4 * RES, LON0 + SPLIT * RES, LAT0),
                  box(LON0 + SPLIT * RES, LAT0 - 4 * RES, LON0 + 6 * RES, LAT0)], crs="EPSG:4326")
    scheme = load_scheme("clcd")
    tab = crosstab_table(LandcoverRaster.open(lc_path, chunk=64), regions, scheme.codes)
    lca = landcover_area(tab, region_frame(regions), scheme, YEAR)
    stats = template(region_frame(regions), [YEAR])
    stats["value"] = 10.0       # 10 万元 = 100,000 元 each
    stats.to_csv(tmp_path / "stats.csv", index=False)
    (tmp_path / "deflator.csv").write_text("year,index\n2010,100\n2019,120\n2020,125\n", encoding="utf-8")
    cfg = {
        "rasters": {"precipitation": str(tmp_path / "precip_{year}.tif"), "et": str(tmp_path / "et_{year}.tif"),
                    "npp": str(tmp_path / "npp_{year}.tif"), "erosivity": R, "erodibility": K},
        "ls": {"path": str(tmp_path / "ls.tif")},
        "statistics": str(tmp_path / "stats.csv"),
        "deflator": str(tmp_path / "deflator.csv"),
        "chunk": 64,
        # the tiny grid has a snow cell; 冰川积雪 is an empty Xie row, so map it elsewhere for Tier 1
        "tier1": {"class_types": {6: {"裸地": 1.0}}},
    }
    return tmp_path, regions, lca, cfg


def test_run_gep_tier2_by_hand(tiny):
    tmp, regions, lca, cfg_dict = tiny
    cfg = load_gep_config(cfg_dict)
    out = run_gep(cfg, years=[YEAR], landcover_area=lca, regions=regions,
                  landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "out")
    s = out["gep_services"]
    t2 = s[s["tier"] == 2].set_index(["region_code", "service"])
    expected = {
        "water_conservation": hand_total(WATER_MM, 1e-3),          # m³
        "soil_retention": hand_total(SOIL_T_HM2, 1e-4),            # t
        "carbon_sequestration": hand_total(CO2_G_M2, 1e-6),        # t CO₂
        "oxygen_release": tuple(v * 32 / 44 for v in hand_total(CO2_G_M2, 1e-6)),   # t O₂
        "climate_regulation": hand_total(CLIMATE_KWH_M2, 1.0),     # kWh
    }
    for service, (qa, qb) in expected.items():
        assert t2.loc[("A", service), "quantity"] == pytest.approx(qa, rel=1e-6), service
        assert t2.loc[("B", service), "quantity"] == pytest.approx(qb, rel=1e-6), service
    # prices of 2010 (prices_dolkar2017.yaml) × deflator 125/100 for 2020, constant prices of 2010
    prices = {
        "water_conservation": 7.06,
        "soil_retention": 0.24 / 0.93 * 15.58 + 0.0037 * 875 + 0.00108 * 2800,
        "carbon_sequestration": 380.0,     # 元/t CO₂, as the study applied it
        "oxygen_release": 727.0,
        "climate_regulation": 0.53,
    }
    for service, price in prices.items():
        row = t2.loc[("A", service)]
        assert row["unit_price"] == pytest.approx(price * 1.25, rel=1e-12)
        assert row["value_yuan"] == pytest.approx(row["quantity"] * price * 1.25, rel=1e-12)
        assert row["value_constant_yuan"] == pytest.approx(row["quantity"] * price, rel=1e-12)
        assert row["method"] and row["source"]
        assert "/" not in row["source"]  # file names only: the same inputs give the same table in any folder
    soil = t2.loc[("A", "soil_retention")]
    assert "Desmet & Govers" in soil["method"] and "RKLS − USLE" in soil["method"]
    # statistics rows: 10 万元 each, current prices of 2020 → constant 2010: × 100/125
    st = t2.loc[("A", "agriculture")]
    assert st["value_yuan"] == pytest.approx(100_000.0)
    assert st["value_constant_yuan"] == pytest.approx(100_000.0 * 100 / 125)
    # summary: tier 2 = regulating + statistics; per km² in 万元
    summ = out["gep_summary"].set_index("region_code")
    gep_a = s[(s["region_code"] == "A") & (s["tier"] == 2)]["value_yuan"].sum()
    assert summ.loc["A", "gep_yuan"] == pytest.approx(gep_a)
    area_a = sum(cell_area(r) for r in range(4)) * SPLIT / 1e6
    assert summ.loc["A", "land_area_km2"] == pytest.approx(area_a, rel=1e-6)
    assert summ.loc["A", "gep_per_km2_wan_yuan"] == pytest.approx(gep_a / area_a / 1e4, rel=1e-6)
    assert summ.loc["A", "verdict"] == "无数据"  # one year: nothing to compare with
    # tables and rasters were written
    for name in ("gep_services", "gep_summary", "carbon_stock"):
        assert (tmp / "out" / f"{name}.csv").is_file() and (tmp / "out" / f"{name}.parquet").is_file()
    with rasterio.open(tmp / "out" / "rasters" / f"water_conservation_{YEAR}.tif") as src:
        w = src.read(1)
        assert src.tags()["units"].startswith("mm")
    # forest 1500 − 69.75 − 800; impervious 1500 − 975 − 800 (counted, negative); snow and ice not counted
    assert w[0, 0] == pytest.approx(630.25) and w[0, 5] == pytest.approx(-275.0) and w[3, 5] == 0.0
    assert np.isnan(w[2, 5])


def test_run_gep_without_writing_rasters_gives_the_same_totals(tiny):
    tmp, regions, lca, cfg_dict = tiny
    a = run_gep(load_gep_config(cfg_dict), years=[YEAR], landcover_area=lca, regions=regions,
                landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "o1", write=False)
    b = run_gep(load_gep_config({**cfg_dict, "write_rasters": False}), years=[YEAR], landcover_area=lca,
                regions=regions, landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "o2",
                write=False)
    np.testing.assert_allclose(a["gep_services"]["quantity"].astype(float),
                               b["gep_services"]["quantity"].astype(float), rtol=1e-6)
    assert not (tmp / "o1").exists()


def test_rasters_written_once_give_the_same_tables_for_every_level(tiny):
    """The workflow writes each year's service rasters once (write_service_rasters) and every region level only
    reads them: tables equal those of a run that writes its own rasters, for two different region sets."""
    tmp, regions, lca, cfg_dict = tiny
    cfg = load_gep_config({**cfg_dict, "services": ["water_conservation", "soil_retention", "carbon_sequestration",
                                                    "oxygen_release", "climate_regulation", "carbon_stock"]})
    shared = tmp / "shared"
    written = write_service_rasters(cfg, YEAR, landcover_path=tmp / f"lc_{YEAR}.tif", raster_dir=shared,
                                    landcover_nodata=0)
    assert [p.name for p in written] == [f"{s}_{YEAR}.tif" for s in ("water_conservation", "soil_retention",
                                                                      "carbon_sequestration", "climate_regulation",
                                                                      "oxygen_release")]
    whole = gpd.GeoDataFrame({"region_code": ["AB"], "region_name": ["甲乙"]},
                             geometry=[regions.geometry.union_all()], crs=regions.crs)
    scheme = load_scheme("clcd")
    for level, regs, table in (("two", regions, lca),
                               ("one", whole, landcover_area(crosstab_table(LandcoverRaster.open(
                                   tmp / f"lc_{YEAR}.tif", chunk=64), whole, scheme.codes), region_frame(whole),
                                   scheme, YEAR))):
        own = run_gep(cfg, years=[YEAR], landcover_area=table, regions=regs,
                      landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / f"own_{level}")
        read = run_gep(cfg, years=[YEAR], landcover_area=table, regions=regs,
                       landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / f"read_{level}",
                       raster_dir=shared, rasters_written=True)
        for name in ("gep_services", "gep_summary"):
            pd.testing.assert_frame_equal(own[name], read[name])
        assert not (tmp / f"read_{level}" / "rasters").exists()  # nothing recomputed or copied per level
        for path in written:  # byte-identical to the rasters a level writes for itself
            assert path.read_bytes() == (tmp / f"own_{level}" / "rasters" / path.name).read_bytes(), path.name


@pytest.mark.parametrize("services", [
    ["water_conservation", "soil_retention", "carbon_sequestration", "oxygen_release", "climate_regulation",
     "tier1"],
    ["oxygen_release"],  # the CO₂ density is not written: the sums stage computes it again
])
def test_tables_from_stored_sums_equal_tables_computed_in_one_process(tiny, services):
    """The workflow sums each year's rasters over every level's regions once (write_year_sums, rule gep_sums)
    and builds the tables from the stored sums: the tables are exactly those of one process that reads the
    rasters itself, including Tier-1 regulator rasters (mean NPP / reference)."""
    from gep.indicators.gep.run import write_year_sums

    tmp, regions, lca, cfg_dict = tiny
    cfg = load_gep_config({**cfg_dict, "services": services,
                           "tier1": {**cfg_dict["tier1"], "regulators": {"npp": {
                               "raster": str(tmp / "npp_{year}.tif"), "reference_mean": NPP / 1.25}}}})
    shared = tmp / "shared"
    write_service_rasters(cfg, YEAR, landcover_path=tmp / f"lc_{YEAR}.tif", raster_dir=shared, landcover_nodata=0)
    whole = gpd.GeoDataFrame({"region_code": ["AB"], "region_name": ["甲乙"]},
                             geometry=[regions.geometry.union_all()], crs=regions.crs)
    targets = {"two": tmp / "interim" / "two" / f"gep_sums_{YEAR}.parquet",
               "one": tmp / "interim" / "one" / f"gep_sums_{YEAR}.parquet"}
    paths = write_year_sums(cfg, YEAR, levels={"two": regions, "one": whole}, landcover_path=tmp / f"lc_{YEAR}.tif",
                            raster_dir=shared, targets=targets, landcover_nodata=0)
    assert paths == [targets["two"], targets["one"]]
    stored = pd.read_parquet(targets["two"])
    assert list(stored.columns) == ["region_code", "layer", "sum", "covered_m2"]
    scheme = load_scheme("clcd")
    whole_lca = landcover_area(crosstab_table(LandcoverRaster.open(tmp / f"lc_{YEAR}.tif", chunk=64), whole,
                                              scheme.codes), region_frame(whole), scheme, YEAR)
    results = {}
    for level, regs, table in (("two", regions, lca), ("one", whole, whole_lca)):
        own = run_gep(cfg, years=[YEAR], landcover_area=table, regions=regs,
                      landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / f"own_{level}")
        stored = run_gep(cfg, years=[YEAR], landcover_area=table, regions=regs,
                         landcover_path_for_year=lambda y: tmp / "nowhere.tif", out_dir=tmp / f"sums_{level}",
                         raster_dir=tmp / "nowhere", rasters_written=True, sums_paths={YEAR: targets[level]})
        for name in ("gep_services", "gep_summary"):
            pd.testing.assert_frame_equal(own[name], stored[name], check_exact=True)
        results[level] = stored
    if "tier1" in services:  # NPP is constant: the raster regulator is mean NPP / reference = 1.25 everywhere
        fixed = load_gep_config({**cfg_dict, "services": services,
                                 "tier1": {**cfg_dict["tier1"], "regulators": {"npp": {"value": 1.25}}}})
        by_value = run_gep(fixed, years=[YEAR], landcover_area=lca, regions=regions,
                           landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "by_value")
        t1 = [r[r["tier"] == 1].reset_index(drop=True) for r in (results["two"]["gep_services"],
                                                                         by_value["gep_services"])]
        assert len(t1[0]) > 0 and t1[0]["quantity"].gt(0).any()
        np.testing.assert_allclose(t1[0]["quantity"], t1[1]["quantity"], rtol=1e-6)


def test_stored_sums_that_do_not_fit_the_regions_name_the_file(tiny):
    from gep.indicators.gep.run import write_year_sums

    tmp, regions, lca, cfg_dict = tiny
    cfg = load_gep_config({**cfg_dict, "services": ["water_conservation"]})
    write_service_rasters(cfg, YEAR, landcover_path=tmp / f"lc_{YEAR}.tif", raster_dir=tmp / "r", landcover_nodata=0)
    target = tmp / f"gep_sums_{YEAR}.parquet"
    write_year_sums(cfg, YEAR, levels={"x": regions.iloc[:1]}, landcover_path=tmp / f"lc_{YEAR}.tif",
                    raster_dir=tmp / "r", targets={"x": target}, landcover_nodata=0)
    kw = dict(years=[YEAR], landcover_area=lca, regions=regions, landcover_path_for_year=lambda y: tmp / "no.tif",
              out_dir=tmp / "o", rasters_written=True)
    with pytest.raises(InputError, match=rf"{target.name}: no water_conservation sums for region\(s\) B; the "
                                         r"regions or services changed"):
        run_gep(cfg, sums_paths={YEAR: target}, **kw)
    with pytest.raises(InputError, match=r"none\.parquet: GEP sums missing; run `gep stage gep-sums`"):
        run_gep(cfg, sums_paths={YEAR: tmp / "none.parquet"}, **kw)
    assert not (tmp / "o").exists()


def test_settings_that_only_value_gep_leave_the_service_rasters_unchanged(tiny, tmp_path):
    """The workflow redoes the service rasters only when a setting in RASTER_SETTINGS changes (gep.workflow.config_files);
    every other GepConfig field must leave them byte-identical."""
    from gep.config.gep import RASTER_SETTINGS, GepConfig

    assert set(GepConfig.model_fields) - set(RASTER_SETTINGS) == {
        "tier1", "gep_tier", "statistics", "statistics_services", "deflator", "constant_price_year", "verdict",
        "tables", "profile", "deductions"}
    tmp, _, _, cfg_dict = tiny
    services = ["water_conservation", "soil_retention", "carbon_sequestration", "oxygen_release",
                "climate_regulation"]
    base = {**cfg_dict, "services": services}
    other = {**base, "gep_tier": 1, "statistics_services": ["tourism"], "constant_price_year": 2015,
             "verdict": {"rule": "monotone", "min_change_pct": 2.0}, "deflator": str(tmp_path / "none.csv"),
             "statistics": str(tmp_path / "none.csv"), "tier1": {"regulators": {"npp": {"value": 1.3}}},
             "tables": {"emissions": str(tmp_path / "none.csv")}, "profile": "national_default",
             "deductions": str(tmp_path / "none.csv")}
    files = {}
    for name, raw in (("base", base), ("other", other)):
        written = write_service_rasters(load_gep_config(raw), YEAR, landcover_path=tmp / f"lc_{YEAR}.tif",
                                        raster_dir=tmp_path / name, landcover_nodata=0)
        files[name] = {p.name: p.read_bytes() for p in written}
    assert len(files["base"]) == 5 and files["base"] == files["other"]


def test_missing_shared_raster_names_the_stage_to_run(tiny):
    tmp, regions, lca, cfg_dict = tiny
    with pytest.raises(InputError, match=r"water_conservation_2020\.tif: service raster missing; run `gep "
                                         r"stage gep-rasters` for 2020"):
        run_gep(load_gep_config(cfg_dict), years=[YEAR], landcover_area=lca, regions=regions,
                landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "o", raster_dir=tmp / "none",
                rasters_written=True)


def test_rasters_an_older_gep_wrote_per_level_are_pointed_out(tmp_path, capsys):
    from gep.workflow.pipeline import _note_superseded_rasters

    old = tmp_path / "tables" / "county" / "rasters"
    _note_superseded_rasters(old, tmp_path / "rasters" / "gep")  # no such folder: silent
    old.mkdir(parents=True)
    (old / "water_conservation_2020.tif").write_bytes(b"x" * (3 * 2**20))
    _note_superseded_rasters(old, tmp_path / "rasters" / "gep")
    out = capsys.readouterr().out
    assert f"{old} holds 1 GEP raster file(s) (0.0 GiB) from an older gep" in out and f"rm -r '{old}'" in out


def test_missing_inputs_are_reported_together(tiny):
    tmp, regions, lca, cfg_dict = tiny
    bad = dict(cfg_dict)
    bad["rasters"] = {"precipitation": str(tmp / "nope_{year}.tif")}
    bad.pop("deflator")
    with pytest.raises(InputError) as err:
        run_gep(load_gep_config(bad), years=[YEAR], landcover_area=lca, regions=regions,
                landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "o")
    text = "\n".join(err.value.lines())
    for key in ("gep.rasters.precipitation", "gep.rasters.et", "gep.rasters.npp", "gep.rasters.erosivity",
                "gep.deflator"):
        assert key in text


def test_price_year_without_deflator_is_an_error(tiny):
    tmp, regions, lca, cfg_dict = tiny
    (tmp / "deflator.csv").write_text("year,index\n2019,120\n2020,125\n", encoding="utf-8")  # no 2010
    with pytest.raises(InputError, match="no deflator for year"):
        run_gep(load_gep_config(cfg_dict), years=[YEAR], landcover_area=lca, regions=regions,
                landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "o")


def test_raster_coverage_is_checked(tiny):
    tmp, regions, lca, cfg_dict = tiny
    # NPP covering only the western half: region B's carbon inputs are missing
    t_c = Affine(RES, 0, LON0, 0, -RES, LAT0)
    write(tmp / f"npp_{YEAR}.tif", np.full((4, 3), NPP, np.float32), t_c, nodata=-9999.0)
    cfg = load_gep_config({**cfg_dict, "services": ["carbon_sequestration"]})
    with pytest.raises(InputError, match="region B"):
        run_gep(cfg, years=[YEAR], landcover_area=lca, regions=regions,
                landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "o")


def test_unknown_class_in_a_parameter_file_is_an_error(tiny, tmp_path):
    tmp, regions, lca, cfg_dict = tiny
    f = tmp_path / "runoff.yaml"
    f.write_text("name: x\nstatus: P\nsource: test\nclasses:\n  1: {alpha_pct: 5}\n  2: {alpha_pct: 5}\n",
                 encoding="utf-8")
    cfg = load_gep_config({**cfg_dict, "services": ["water_conservation"], "parameters": {"runoff": str(f)}})
    with pytest.raises(InputError, match=r"no row for land-cover code\(s\) 3, 4, 5, 6, 7, 8, 9"):
        run_gep(cfg, years=[YEAR], landcover_area=lca, regions=regions,
                landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "o")


# ---------------------------------------------------------------------------------------------------------
# resampling


def _grid(transform, shape, crs="EPSG:4326") -> Grid:
    from pyproj import CRS

    return Grid(transform, shape, CRS.from_user_input(crs))


def test_resampling_amounts_preserves_totals_on_nested_grids(tmp_path):
    rng = np.random.default_rng(5)
    amounts = rng.uniform(0, 100, (5, 6)).astype(np.float64)  # e.g. t per 0.004° cell
    src_t = Affine(0.004, 0, 112.0, 0, -0.004, 28.0)
    path = write(tmp_path / "amount.tif", amounts, src_t, dtype="float64")
    dst = _grid(Affine(0.001, 0, 112.0, 0, -0.001, 28.0), (20, 24))
    out = warp_to_grid(path, dst, (7, 9), resampling="nearest", kind="amount", output="amount").compute()
    assert out.astype(np.float64).sum() == pytest.approx(amounts.sum(), rel=1e-6)
    # each source cell's amount is spread over its 16 target cells in proportion to their areas
    src_area = lonlat_box_area_m2(112.0, 27.996, 112.004, 28.0)
    assert out[0:4, 0:4].astype(np.float64).sum() == pytest.approx(amounts[0, 0], rel=1e-6)
    assert out[0, 0] == pytest.approx(amounts[0, 0] * lonlat_box_area_m2(112.0, 27.999, 112.001, 28.0) / src_area,
                                      rel=1e-6)
    # coarser target: GDAL's area-weighted average of the densities, × target area
    fine = write(tmp_path / "fine.tif", np.repeat(np.repeat(amounts / 16, 4, 0), 4, 1), dst.transform,
                 dtype="float64")
    coarse = _grid(src_t, (5, 6))
    back = warp_to_grid(fine, coarse, (5, 6), resampling="average", kind="amount", output="amount").compute()
    np.testing.assert_allclose(back, amounts, rtol=1e-4)


def test_resampling_a_density_field_across_crs_keeps_totals(tmp_path):
    # a uniform density (amount proportional to cell area) in lon/lat, read onto a UTM grid inside it
    src_t = Affine(0.002, 0, 111.9, 0, -0.002, 28.1)
    rows = np.array([lonlat_box_area_m2(111.9, 28.1 - 0.002 * (r + 1), 111.902, 28.1 - 0.002 * r)
                     for r in range(100)])
    amounts = np.repeat((0.5 * rows)[:, None], 100, axis=1)  # 0.5 t per m²
    path = write(tmp_path / "a.tif", amounts, src_t, dtype="float64")
    from pyproj import Transformer

    x0, y0 = Transformer.from_crs(4326, 32649, always_xy=True).transform(112.0, 28.0)
    dst = _grid(Affine(30.0, 0, x0, 0, -30.0, y0), (40, 50), "EPSG:32649")
    out = warp_to_grid(path, dst, (16, 16), resampling="bilinear", kind="amount", output="amount").compute()
    areas = dst.cell_area_cm2(0, 40, 0, 50) / 1e4
    assert out.astype(np.float64).sum() == pytest.approx(0.5 * areas.sum(), rel=1e-5)
    dens = warp_to_grid(path, dst, (16, 16), kind="amount", output="density").compute()
    np.testing.assert_allclose(dens, 0.5, rtol=1e-5)


def test_intensity_resampling_is_lazy_and_chunked(tmp_path):
    src_t = Affine(0.01, 0, 112.0, 0, -0.01, 28.0)
    arr = np.arange(100, dtype=np.float32).reshape(10, 10)
    path = write(tmp_path / "p.tif", arr, src_t, nodata=-1.0)
    dst = _grid(Affine(0.001, 0, 112.0, 0, -0.001, 28.0), (100, 100))
    lazy = warp_to_grid(path, dst, (32, 32), resampling="nearest", scale=2.0, offset=1.0)
    assert isinstance(lazy, da.Array) and lazy.numblocks == (4, 4)
    got = lazy.compute()
    np.testing.assert_allclose(got[::10, ::10], arr * 2 + 1)
    # outside the source: NaN
    wide = _grid(Affine(0.001, 0, 111.99, 0, -0.001, 28.0), (10, 20))
    assert np.isnan(warp_to_grid(path, wide, (10, 20), resampling="nearest").compute()[:, :10]).all()
    with pytest.raises(InputError, match="does not exist"):
        warp_to_grid(tmp_path / "none.tif", dst, (32, 32))
