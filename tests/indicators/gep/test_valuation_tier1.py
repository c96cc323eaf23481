"""Tier 1 equivalent-factor method (gep.indicators.gep.tier1) and its parameter files, by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from gep.core.errors import InputError
from gep.indicators.gep.params import load_ecosystem_map, load_equivalent_factors
from gep.indicators.gep.tier1 import tier1_quantities

CLCD = list(range(1, 10))


def lca(rows):
    return pd.DataFrame(rows, columns=["region_code", "region_name", "year", "lc_code", "area_km2"])


def test_shipped_factor_table_rows_and_empty_rows():
    f = load_equivalent_factors()
    assert f.file.status == "V2" and "谢高地" in f.file.source and "citing papers" in f.file.source
    assert f.e_value == 3406.50 and f.e_year == 2010
    assert [s.name_zh for s in f.services] == ["食物生产", "原料生产", "水资源供给", "气体调节", "气候调节", "净化环境",
                                               "水文调节", "土壤保持", "维持养分循环", "生物多样性", "美学景观"]
    assert f.factors["水田"][2] == -2.63 and f.factors["水系"][6] == 102.24 and f.factors["湿地"][9] == 7.87
    for empty in ("针叶林", "草原", "草甸", "冰川积雪"):
        assert empty in f.factors and f.factors[empty] is None
    assert len([t for t, v in f.factors.items() if v is not None]) == 10


def test_tier1_by_hand():
    f = load_equivalent_factors()
    m = load_ecosystem_map(scheme_codes=CLCD)
    # region R: 2 km² forest (针阔混交林), 1 km² cropland (旱地), 0.5 km² built-up (value 0)
    q = tier1_quantities(lca([("R", "r", 2020, 2, 2.0), ("R", "r", 2020, 1, 1.0), ("R", "r", 2020, 8, 0.5)]), f, m)
    q = q.set_index("service")["quantity"]
    assert len(q) == 11
    # 食物生产: 200 hm² × 0.31 + 100 hm² × 0.85 = 147 standard-equivalent hectares
    assert q["food_production"] == pytest.approx(200 * 0.31 + 100 * 0.85)
    # 水文调节: 200 × 3.51 + 100 × 0.27
    assert q["hydrological_regulation"] == pytest.approx(200 * 3.51 + 100 * 0.27)
    # value = quantity × E (2010 prices): 147 × 3406.50 元
    assert q["food_production"] * f.e_value == pytest.approx(147 * 3406.50)


def test_paddy_switch_and_split():
    f = load_equivalent_factors()
    rows = lca([("R", "r", 2020, 1, 1.0)])
    paddy = load_ecosystem_map(scheme_codes=CLCD, overrides={1: {"水田": 1.0}})
    q = tier1_quantities(rows, f, paddy).set_index("service")["quantity"]
    assert q["water_supply"] == pytest.approx(100 * -2.63)  # paddy consumes water: negative factor kept
    split = load_ecosystem_map(scheme_codes=CLCD, overrides={"1": {"旱地": 0.6, "水田": 0.4}})
    q = tier1_quantities(rows, f, split).set_index("service")["quantity"]
    assert q["food_production"] == pytest.approx(60 * 0.85 + 40 * 1.36)
    with pytest.raises(InputError, match="add up to 0.9"):
        load_ecosystem_map(scheme_codes=CLCD, overrides={1: {"旱地": 0.5, "水田": 0.4}})


def test_regulators_scale_their_services():
    f = load_equivalent_factors()
    m = load_ecosystem_map(scheme_codes=CLCD)
    rows = lca([("R", "r", 2020, 2, 1.0)])
    reg = pd.DataFrame({"region_code": ["R"], "year": [2020], "npp": [1.2], "precipitation": [0.5],
                        "soil_conservation": [2.0]})
    q = tier1_quantities(rows, f, m, reg).set_index("service")["quantity"]
    assert q["gas_regulation"] == pytest.approx(100 * 2.35 * 1.2)        # NPP ratio
    assert q["water_supply"] == pytest.approx(100 * 0.37 * 0.5)          # precipitation ratio
    assert q["hydrological_regulation"] == pytest.approx(100 * 3.51 * 0.5)
    assert q["soil_conservation"] == pytest.approx(100 * 2.86 * 2.0)     # soil-conservation ratio


def test_empty_row_with_area_is_an_error_naming_row_and_file():
    f = load_equivalent_factors()
    m = load_ecosystem_map(scheme_codes=CLCD)
    with pytest.raises(InputError) as err:
        tier1_quantities(lca([("R", "r", 2020, 6, 0.1)]), f, m)  # snow/ice → 冰川积雪 (empty)
    msg = str(err.value)
    assert "冰川积雪" in msg and "xie2015_equivalent_factors.yaml" in msg and "fill in" in msg
    # zero area in an empty row is fine
    q = tier1_quantities(lca([("R", "r", 2020, 6, 0.0), ("R", "r", 2020, 2, 1.0)]), f, m)
    assert len(q) == 11


def test_unknown_class_and_unknown_type_are_errors(tmp_path):
    f = load_equivalent_factors()
    m = load_ecosystem_map(scheme_codes=CLCD)
    with pytest.raises(InputError, match=r"code\(s\) 42 have area but no ecosystem type"):
        tier1_quantities(lca([("R", "r", 2020, 42, 1.0)]), f, m)
    typo = load_ecosystem_map(scheme_codes=CLCD, overrides={2: {"阔叶森林": 1.0}})
    with pytest.raises(InputError, match="阔叶森林 are not rows"):
        tier1_quantities(lca([("R", "r", 2020, 2, 1.0)]), f, typo)
    bad = tmp_path / "map.yaml"
    bad.write_text("name: m\nstatus: P\nsource: t\nclasses:\n  1: {types: {旱地: 1.0}}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no row for land-cover code\(s\) 2, 3"):
        load_ecosystem_map(bad, scheme_codes=CLCD)


def test_ecosystem_map_defaults_are_documented():
    m = load_ecosystem_map(scheme_codes=CLCD)
    assert m.file.status == "P"
    assert m.classes[1] == {"旱地": 1.0} and m.classes[2] == {"针阔混交林": 1.0}
    assert m.classes[4] == {"灌草丛": 1.0} and m.classes[5] == {"水系": 1.0} and m.classes[6] == {"冰川积雪": 1.0}
    assert m.classes[8] == {} and m.classes[9] == {"湿地": 1.0} and m.classes[7] == {"裸地": 1.0}
    assert "[P]" in m.file.path.read_text(encoding="utf-8")


def test_tier1_reports_esv_and_counts_gep_without_supporting_services(tmp_path):
    """1 km² of forest (CLCD 2 → 针阔混交林): the ESV sums all 11 factors, GEP (gep_tier 1) leaves out the
    supporting ones (土壤保持 2.86, 维持养分循环 0.22, 生物多样性 2.60 in the shipped table)."""
    import geopandas as gpd
    from shapely.geometry import box

    from gep.indicators.gep import load_gep_config, run_gep
    from gep.vector.geodesy import lonlat_box_area_m2

    row = [0.31, 0.71, 0.37, 2.35, 7.03, 1.99, 3.51, 2.86, 0.22, 2.60, 1.14]
    assert list(load_equivalent_factors().factors["针阔混交林"]) == row   # the shipped row the hand sums use
    all_factors = 0.31 + 0.71 + 0.37 + 2.35 + 7.03 + 1.99 + 3.51 + 2.86 + 0.22 + 2.60 + 1.14   # 23.09
    supporting = 2.86 + 0.22 + 2.60                                                           # 5.68
    e_2020 = 3406.50 * 125 / 100   # E of 2010 brought to 2020 prices by the deflator (125 / 100)
    (tmp_path / "d.csv").write_text("year,index\n2010,100\n2020,125\n", encoding="utf-8")
    regions = gpd.GeoDataFrame({"region_code": ["R"], "region_name": ["r"]},
                               geometry=[box(112.0, 28.0, 112.01, 28.01)], crs="EPSG:4326")
    cfg = load_gep_config({"services": ["tier1"], "gep_tier": 1, "deflator": str(tmp_path / "d.csv")})
    out = run_gep(cfg, years=[2020], landcover_area=lca([("R", "r", 2020, 2, 1.0)]), regions=regions,
                  landcover_path_for_year=lambda y: tmp_path / "unused.tif", out_dir=tmp_path / "out")
    s = out["gep_summary"].iloc[0]
    assert s["esv_yuan"] == pytest.approx(100 * all_factors * e_2020)                     # 9,832,010.63 元
    assert s["gep_yuan"] == pytest.approx(100 * (all_factors - supporting) * e_2020)      # 7,413,395.63 元
    assert s["gep_constant_yuan"] == pytest.approx(100 * 17.41 * 3406.50)                 # 2010 prices
    area_km2 = lonlat_box_area_m2(112.0, 28.0, 112.01, 28.01, 4326) / 1e6
    assert s["esv_per_km2_wan_yuan"] == pytest.approx(100 * all_factors * e_2020 / area_km2 / 1e4)
    assert s["gep_scope"] == ("tier 1 (equivalent factors, ESV without supporting services): "
                              "cultural+provisioning+regulating")
    # gep_services keeps all 11 rows; the supporting ones say they are outside GEP
    rows = out["gep_services"].set_index("service")
    assert len(rows) == 11 and rows["value_yuan"].sum() == pytest.approx(s["esv_yuan"])
    assert rows.loc["biodiversity", "value_yuan"] == pytest.approx(100 * 2.60 * e_2020)
    for service in ("soil_conservation", "nutrient_cycling", "biodiversity"):
        assert "outside GEP" in rows.loc[service, "method"], service
    assert "outside GEP" not in rows.loc["food_production", "method"]


def test_esv_is_empty_without_tier1(tmp_path):
    from gep.indicators.gep.accounts import summarise

    services = pd.DataFrame({"region_code": ["R"], "year": [2020], "tier": [2], "category": ["regulating"],
                             "value_yuan": [10.0], "value_constant_yuan": [8.0]})
    out = summarise(services, pd.DataFrame({"region_code": ["R"], "land_area_km2": [2.0]}), tier=2,
                    region_names=pd.DataFrame({"region_code": ["R"], "region_name": ["r"]}), years=[2020],
                    constant_year=2010)
    assert out.loc[0, "gep_yuan"] == 10.0 and pd.isna(out.loc[0, "esv_yuan"])
    assert out.loc[0, "gep_scope"] == "tier 2: regulating"
