"""Indicator 7 (林草覆盖率) tables from a hand-built terrain × land-cover area table (gep.indicators.coverage.index).

Every expected number below is worked out by hand from the rows of the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.indicators.coverage.index import (
    CoverageConfig,
    available_standards,
    coverage_by_terrain,
    coverage_trend,
    forest_grass_coverage,
    load_coverage_config,
    load_standard,
    read_overrides,
    region_terrain_type,
)
from gep.core.errors import InputError
from gep.indicators.coverage.terrain import TerrainConfig

CLCD = {"cropland": 1, "forest": 2, "shrub": 3, "grass": 4, "water": 5, "snow": 6, "barren": 7, "built": 8,
        "wetland": 9}


def rows(code, name, year, items):
    """items: (terrain_code, category, area_km2); lc_code follows CLCD, "nodata" for nodata."""
    return [
        {"region_code": code, "region_name": name, "year": year, "terrain_code": t,
         "lc_code": CLCD.get(cat, "nodata"), "category": cat, "area_km2": float(a)}
        for t, cat, a in items
    ]


# A: 山区 (mountain 65 of 100 km²), B: 丘陵区 exactly at 40 %, C: 平原区 but dry (350 mm).
A_2020 = [(3, "forest", 40), (3, "shrub", 10), (4, "grass", 5), (3, "nodata", 10), (2, "cropland", 20),
          (1, "water", 10), (1, "built", 5)]
A_2021 = [(3, "forest", 46), (3, "shrub", 10), (4, "grass", 5), (3, "nodata", 10), (2, "cropland", 14),
          (1, "water", 10), (1, "built", 5)]
A_2023 = [(3, "forest", 47), (3, "shrub", 10), (4, "grass", 5), (3, "nodata", 10), (2, "cropland", 13),
          (1, "water", 10), (1, "built", 5)]
B = [(2, "forest", 30), (2, "grass", 10), (2, "cropland", 20), (3, "cropland", 20), (1, "cropland", 20)]
C = [(1, "grass", 30), (1, "barren", 60), (1, "wetland", 10)]


def table():
    data = (rows("520101", "甲县", 2020, A_2020) + rows("520101", "甲县", 2021, A_2021)
            + rows("520101", "甲县", 2023, A_2023) + rows("520102", "乙县", 2020, B) + rows("520102", "乙县", 2021, B)
            + rows("520103", "丙县", 2020, C) + rows("520103", "丙县", 2021, C))
    return pd.DataFrame(data)


PRECIP = pd.Series({"520101": 1100.0, "520102": 980.0, "520103": 350.0})


def one(df, code, year):
    sel = df[(df["region_code"] == code) & (df["year"] == year)]
    assert len(sel) == 1
    return sel.iloc[0]


# ----------------------------------------------------------------------------------------- terrain type


def test_region_terrain_type_shares_and_rules():
    types = region_terrain_type(table(), TerrainConfig(), PRECIP)
    a = one(types, "520101", 2020)
    assert (a.plain_km2, a.hill_km2, a.mountain_km2, a.terrain_nodata_km2) == (15.0, 20.0, 65.0, 0.0)
    assert (a.plain_pct, a.hill_pct, a.mountain_pct) == (15.0, 20.0, 65.0)
    assert (a.terrain_type, a.terrain_rule) == ("山区", "mountain share ≥ 50%")
    b = one(types, "520102", 2021)
    assert (b.mountain_pct, b.hill_pct) == (20.0, 60.0)
    assert (b.terrain_type, b.terrain_rule) == ("丘陵区", "mountain + hill share ≥ 50%")
    c = one(types, "520103", 2020)
    assert c.computed_type == "平原区"  # 100 % plain
    assert (c.terrain_type, c.terrain_rule, c.precip_mm) == ("干旱半干旱地区", "precipitation < 400 mm", 350.0)
    assert types[["region_code", "year"]].values.tolist() == [
        ["520101", 2020], ["520101", 2021], ["520101", 2023], ["520102", 2020], ["520102", 2021],
        ["520103", 2020], ["520103", 2021]]
    # without precipitation the dry region stays 平原区
    c2 = one(region_terrain_type(table()), "520103", 2020)
    assert (c2.terrain_type, c2.terrain_rule) == ("平原区", "mountain + hill share < 50%")


def test_share_rule_boundaries_and_type_year():
    # 2020: mountain exactly 50 % → 山区 (≥). 2021: mountain 49 %, hill 1 % → m + h exactly 50 % → 丘陵区.
    t = pd.DataFrame(rows("1", "r", 2020, [(3, "forest", 50), (1, "cropland", 50)])
                     + rows("1", "r", 2021, [(3, "forest", 49), (2, "forest", 1), (1, "cropland", 50)])
                     + rows("2", "s", 2020, [(2, "grass", 49.0), (1, "cropland", 51.0)]))
    first = region_terrain_type(t, TerrainConfig(type_year="first"))
    each = region_terrain_type(t, TerrainConfig(type_year="each"))
    assert one(first, "1", 2020).terrain_type == "山区"
    assert one(first, "1", 2021).terrain_type == "山区"  # kept from the first year
    assert one(first, "1", 2021).basis_year == 2020
    assert one(each, "1", 2021).terrain_type == "丘陵区"
    assert one(each, "1", 2021).terrain_rule == "mountain + hill share ≥ 50%"
    assert one(each, "2", 2020).terrain_type == "平原区"  # 49 % hill
    # thresholds are configuration
    cfg = TerrainConfig(mountain_share_pct=60.0, hill_mountain_share_pct=45.0)
    s = one(region_terrain_type(t, cfg), "2", 2020)
    assert (s.terrain_type, s.terrain_rule) == ("丘陵区", "mountain + hill share ≥ 45%")
    assert one(region_terrain_type(t, cfg), "1", 2020).terrain_type == "丘陵区"


def test_precipitation_rule_boundary_and_missing_values():
    at_400 = pd.Series({"520101": 1100.0, "520102": 980.0, "520103": 400.0})
    assert one(region_terrain_type(table(), None, at_400), "520103", 2020).terrain_type == "平原区"  # not < 400
    assert one(region_terrain_type(table(), TerrainConfig(arid_precip_mm=None), PRECIP),
               "520103", 2020).terrain_type == "平原区"  # rule disabled
    with pytest.raises(InputError, match="520102"):
        region_terrain_type(table(), None, PRECIP.drop("520102"))


def test_override_wins_and_is_checked(tmp_path):
    ov = pd.DataFrame({"region_code": ["520103", "520101"], "terrain_type": ["山区", "丘陵区"],
                       "source": ["省林业局 2023 名单", ""]})
    types = region_terrain_type(table(), None, PRECIP, ov)
    c = one(types, "520103", 2021)
    assert (c.terrain_type, c.terrain_rule) == ("山区", "override: 省林业局 2023 名单")  # beats precipitation
    assert c.computed_type == "平原区"
    assert one(types, "520101", 2020).terrain_rule == "override: override table"
    assert one(types, "520102", 2020).terrain_type == "丘陵区"
    with pytest.raises(InputError, match="999999"):
        region_terrain_type(table(), None, None, pd.DataFrame({"region_code": ["999999", "520101"],
                                                               "terrain_type": ["山区", "山区"], "source": "x"}))
    with pytest.raises(InputError, match="高原"):
        region_terrain_type(table(), None, None, pd.DataFrame({"region_code": ["520101"], "terrain_type": ["高原"]}))
    # from a CSV given in the config: codes with leading zeros survive
    path = tmp_path / "types.csv"
    path.write_text("region_code,terrain_type,source\n520102,平原区,省统计局\n", encoding="utf-8")
    assert read_overrides(path)["region_code"].tolist() == ["520102"]
    b = one(region_terrain_type(table(), TerrainConfig(overrides_path=path)), "520102", 2020)
    assert (b.terrain_type, b.terrain_rule) == ("平原区", "override: 省统计局")


def test_region_without_dem_needs_another_rule():
    t = pd.DataFrame(rows("9", "无图县", 2020, [(0, "forest", 10)]) + rows("1", "r", 2020, [(1, "forest", 10)]))
    with pytest.raises(InputError, match="9 have no DEM coverage"):
        region_terrain_type(t)
    got = region_terrain_type(t, None, None, pd.DataFrame({"region_code": ["9"], "terrain_type": ["山区"]}))
    assert one(got, "9", 2020).terrain_nodata_km2 == 10.0


# ------------------------------------------------------------------------------------------- standards


def test_standards_load_and_unknown_name():
    assert set(available_standards()) >= {"national", "guizhou"}
    nat = load_standard("national")
    assert nat.comparison == ">" and dict(nat.targets_pct) == {"山区": 60.0, "丘陵区": 40.0, "平原区": 18.0}
    assert nat.status == "V" and "管理规程" in nat.source
    gz = load_standard("guizhou")
    assert gz.comparison == "≥" and gz.targets_pct["干旱半干旱地区"] == 35.0 and gz.status == "V"
    with pytest.raises(InputError, match="unknown coverage standard 'nope'.*guizhou, national"):
        load_standard("nope")


def test_user_standard_file(tmp_path):
    path = tmp_path / "county.yaml"
    path.write_text("name: county\ncomparison: '>='\ntargets_pct: {山区: 70, 丘陵区: 50, 平原区: 20}\n",
                    encoding="utf-8")
    std = load_standard(path)
    assert std.comparison == "≥" and std.targets_pct["山区"] == 70.0
    bad = tmp_path / "bad.yaml"
    bad.write_text("comparison: '<'\ntargets_pct: {山区: 70}\n", encoding="utf-8")
    with pytest.raises(InputError, match="comparison"):
        load_standard(bad)


# -------------------------------------------------------------------------------------------- coverage


def test_coverage_by_hand_national():
    t = table()
    cov = forest_grass_coverage(t, region_terrain_type(t), "national")
    a = one(cov, "520101", 2020)
    # 林 = forest 40 + shrub 10, 草 = grass 5; denominator = whole region 100 km² incl. 10 km² nodata
    assert (a.forest_km2, a.grass_km2, a.nodata_km2, a.water_km2) == (50.0, 5.0, 10.0, 10.0)
    assert (a.region_area_km2, a.land_area_km2, a.coverage_pct) == (100.0, 100.0, 55.0)
    assert (a.terrain_type, a.target_pct, a.comparison, bool(a.meets_target)) == ("山区", 60.0, ">", False)
    assert (a.gap_pct, a.gap_km2) == (5.0, 5.0)
    a21 = one(cov, "520101", 2021)
    assert (a21.coverage_pct, bool(a21.meets_target), a21.gap_pct, a21.gap_km2) == (61.0, True, 0.0, 0.0)
    b = one(cov, "520102", 2020)  # exactly 40.0 % under ">" → not met, nothing left to add but any area
    assert (b.coverage_pct, b.target_pct, bool(b.meets_target), b.gap_pct, b.gap_km2) == (40.0, 40.0, False, 0.0, 0.0)
    assert cov["standard"].unique().tolist() == ["national"]
    assert cov.columns.tolist()[:5] == ["region_code", "region_name", "year", "terrain_type", "terrain_rule"]


def test_partial_data_is_flagged_with_the_value_over_the_mapped_area():
    """甲县 2020 has 10 of 100 km² without data: 90 % mapped. Over the mapped 90 km² its 林草 (55 km²) is
    61.111111 %; with min_mapped_pct 95 the data count as incomplete (数据不全), with 90 they do not."""
    t = table()
    cov = forest_grass_coverage(t, region_terrain_type(t), "national", min_mapped_pct=95.0)
    a = one(cov, "520101", 2020)
    assert (a.mapped_pct, a.coverage_mapped_pct, bool(a.data_complete)) == (90.0, 61.111111, False)
    assert a.coverage_pct == 55.0  # the published value keeps the nodata in its denominator
    b = one(cov, "520102", 2020)  # fully mapped
    assert (b.mapped_pct, b.coverage_mapped_pct, bool(b.data_complete)) == (100.0, 40.0, True)
    cov90 = forest_grass_coverage(t, region_terrain_type(t), "national", min_mapped_pct=90.0)
    assert bool(one(cov90, "520101", 2020).data_complete)


def test_boundaries_of_every_rule_in_both_standards():
    nat, gz = load_standard("national"), load_standard("guizhou")
    cases = [("山区", 60.0), ("丘陵区", 40.0), ("平原区", 18.0)]
    for ttype, target in cases:
        for cov_pct, strict_ok, loose_ok in ((target - 0.01, False, False), (target, False, True),
                                             (target + 0.01, True, True)):
            # region of 10,000 km² with cov_pct % forest: areas chosen so the percentages are exact decimals
            forest = cov_pct * 100.0
            t = pd.DataFrame(rows("1", "r", 2020, [(1, "forest", forest), (1, "cropland", 10000.0 - forest)]))
            types = pd.DataFrame({"region_code": ["1"], "year": [2020], "terrain_type": [ttype],
                                  "terrain_rule": ["test"]})
            r_nat = forest_grass_coverage(t, types, nat).iloc[0]
            r_gz = forest_grass_coverage(t, types, gz).iloc[0]
            assert r_nat.coverage_pct == pytest.approx(cov_pct, abs=1e-9)
            assert bool(r_nat.meets_target) is strict_ok, (ttype, cov_pct, ">")
            assert bool(r_gz.meets_target) is loose_ok, (ttype, cov_pct, "≥")
            assert r_nat.comparison == ">" and r_gz.comparison == "≥"
    # 干旱半干旱地区 (Guizhou only): 35 % is met under ≥
    t = pd.DataFrame(rows("1", "r", 2020, [(1, "grass", 35.0), (1, "barren", 65.0)]))
    types = pd.DataFrame({"region_code": ["1"], "year": [2020], "terrain_type": ["干旱半干旱地区"],
                          "terrain_rule": ["precipitation < 400 mm"]})
    assert bool(forest_grass_coverage(t, types, gz).iloc[0].meets_target)
    with pytest.raises(InputError, match="no target for 干旱半干旱地区"):
        forest_grass_coverage(t, types, nat)


def test_float_noise_cannot_flip_a_boundary():
    # 0.3 + 0.1 = 0.4 km² of 1 km²: 100 × 0.4 = 40.00000000000001 in floating point
    t = pd.DataFrame(rows("1", "r", 2020, [(2, "forest", 0.3), (2, "grass", 0.1), (2, "cropland", 0.2),
                                           (2, "cropland", 0.2), (2, "cropland", 0.2)]))
    types = region_terrain_type(t)
    assert types.iloc[0].terrain_type == "丘陵区"
    nat = forest_grass_coverage(t, types, "national").iloc[0]
    gz = forest_grass_coverage(t, types, "guizhou").iloc[0]
    assert nat.coverage_pct == 40.0 and not nat.meets_target and nat.gap_pct == 0.0
    assert gz.coverage_pct == 40.0 and gz.meets_target


def test_guizhou_with_precipitation_and_wetland_switch():
    t = table()
    types = region_terrain_type(t, None, PRECIP)
    c = one(forest_grass_coverage(t, types, "guizhou"), "520103", 2020)
    assert (c.terrain_type, c.coverage_pct, c.target_pct, bool(c.meets_target)) == ("干旱半干旱地区", 30.0, 35.0, False)
    assert (c.gap_pct, c.gap_km2) == (5.0, 5.0)
    c2 = one(forest_grass_coverage(t, types, "guizhou", CoverageConfig(wetland_as="grass")), "520103", 2020)
    assert (c2.grass_km2, c2.coverage_pct, bool(c2.meets_target)) == (40.0, 40.0, True)
    c3 = one(forest_grass_coverage(t, types, "guizhou", CoverageConfig(wetland_as="forest")), "520103", 2020)
    assert (c3.forest_km2, c3.grass_km2, c3.coverage_pct) == (10.0, 30.0, 40.0)


def test_other_category_switch():
    t = pd.DataFrame(rows("1", "r", 2020, [(1, "grass", 10.0), (1, "cropland", 80.0)])
                     + [{"region_code": "1", "region_name": "r", "year": 2020, "terrain_code": 1, "lc_code": 100,
                         "category": "other", "area_km2": 10.0}])
    types = region_terrain_type(t)
    assert forest_grass_coverage(t, types).iloc[0].coverage_pct == 10.0
    assert forest_grass_coverage(t, types, cfg=CoverageConfig(other_as="grass")).iloc[0].coverage_pct == 20.0


def test_denominator_options():
    t = table()
    types = region_terrain_type(t)
    land = one(forest_grass_coverage(t, types, "national", CoverageConfig(denominator="land")), "520101", 2020)
    assert land.land_area_km2 == 90.0 and land.coverage_pct == round(5500 / 90, 6) == 61.111111
    assert bool(land.meets_target)
    mapped = one(forest_grass_coverage(t, types, "national", CoverageConfig(nodata_in_denominator=False)),
                 "520101", 2020)
    assert mapped.land_area_km2 == 90.0 and mapped.nodata_km2 == 10.0
    both = one(forest_grass_coverage(t, types, "national",
                                     CoverageConfig(denominator="land", nodata_in_denominator=False)), "520101", 2020)
    assert both.land_area_km2 == 80.0 and both.coverage_pct == 68.75


def test_coverage_by_terrain_by_hand():
    out = coverage_by_terrain(table())
    a = out[(out.region_code == "520101") & (out.year == 2020)]
    assert a.terrain_class.tolist() == ["平原", "丘陵", "山地"]
    assert a.terrain_class_en.tolist() == ["plain", "hill", "mountain"]
    assert a.area_km2.tolist() == [15.0, 20.0, 65.0]
    # mountain: (40 + 10 + 5) / 65 = 84.615384…%
    assert a.coverage_pct.tolist() == [0.0, 0.0, 84.615385]
    land = coverage_by_terrain(table(), CoverageConfig(denominator="land"))
    pl = land[(land.region_code == "520101") & (land.year == 2020) & (land.terrain_class == "平原")].iloc[0]
    assert (pl.water_km2, pl.land_area_km2, pl.coverage_pct) == (10.0, 5.0, 0.0)
    nd = coverage_by_terrain(pd.DataFrame(rows("1", "r", 2020, [(0, "forest", 3.0), (0, "cropland", 1.0),
                                                                 (1, "grass", 1.0)])))
    assert nd.terrain_class.tolist() == ["平原", "无DEM"] and nd.coverage_pct.tolist() == [100.0, 75.0]


def test_coverage_trend_by_hand():
    t = table()
    cov = forest_grass_coverage(t, region_terrain_type(t), "national")
    tr = coverage_trend(cov)
    a = tr[tr.region_code == "520101"]
    # 55 → 61 → 62 % (2022 missing: 2023 compares with 2021)
    assert a.coverage_pct.tolist() == [55.0, 61.0, 62.0]
    assert a.previous_year.tolist()[1:] == [2020, 2021] and pd.isna(a.previous_year.iloc[0])
    assert np.isnan(a.change_prev_pp.iloc[0]) and a.change_prev_pp.tolist()[1:] == [6.0, 1.0]
    assert a.change_first_pp.tolist() == [0.0, 6.0, 7.0]
    assert (a.first_year == 2020).all()
    b = tr[tr.region_code == "520102"]
    assert b.change_prev_pp.tolist()[1:] == [0.0] and b.change_first_pp.tolist() == [0.0, 0.0]


def test_outputs_sorted_and_byte_identical():
    t = table()
    shuffled = t.sample(frac=1.0, random_state=7).reset_index(drop=True)
    for frame in (t, shuffled):
        types = region_terrain_type(frame, None, PRECIP)
        cov = forest_grass_coverage(frame, types, "guizhou")
        frame_out = (types.to_csv(index=False), cov.to_csv(index=False), coverage_by_terrain(frame).to_csv(index=False),
                     coverage_trend(cov).to_csv(index=False))
        if frame is t:
            first = frame_out
    assert frame_out == first
    assert cov[["region_code", "year"]].values.tolist() == sorted(cov[["region_code", "year"]].values.tolist())


def test_input_table_checks():
    t = table()
    with pytest.raises(InputError, match="area_km2"):
        forest_grass_coverage(t.drop(columns="area_km2"), region_terrain_type(t))
    bad = t.copy()
    bad.loc[0, "category"] = "orchard"
    with pytest.raises(InputError, match="orchard"):
        region_terrain_type(bad)
    with pytest.raises(InputError, match="no terrain type"):
        forest_grass_coverage(t, region_terrain_type(t)[lambda d: d.region_code != "520103"])
    with pytest.raises(InputError, match="denominator"):
        load_coverage_config({"denominator": "sea"})
