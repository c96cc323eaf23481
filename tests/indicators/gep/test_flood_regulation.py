"""洪水调蓄 flood regulation (docs/methods.md §4.2.7) against hand computations on two townships and their
county, and the checks of the water-body table (one line per problem, exit 2, nothing written)."""

from __future__ import annotations

import pytest

from gep.cli.main import main
from gep.core.errors import InputError
from gep.indicators.gep import load_gep_config, run_gep
from gep_area_builders import (COUNTY, TOWN_A, TOWN_B, YEAR, county, gep_config, landcover_area, townships,
                               write_csv)

# e^6.636 = 762.0407…, 2^0.678 = 1.599920…, 0.5^0.678 = 0.625031…  (hand values, 6 figures)
LAKE_A = 762.0407 * 1.599920 * 1.5 * 1e4       # lake of 2 km², 1.5 renewals/a → m³
LAKE_B = 762.0407 * 0.625031 * 1.0 * 1e4       # lake of 0.5 km², 1 renewal/a
RES_A = 0.35 * 1000 * 1e4                       # reservoir of 1000 × 10⁴ m³
RES_B = 0.35 * 200 * 1e4
MARSH_A = 3.0 * 1e6 * 0.3                       # 3 km² of wetland (CLCD 9) × 0.3 m
MARSH_B = 0.5 * 1e6 * 0.3

BODIES = f"""
region_code,name,kind,capacity_10k_m3,area_km2,renewals
{TOWN_A},东湖,lake,,2,1.5
{TOWN_A},红旗水库,reservoir,1000,,
{TOWN_B},西塘,lake,,0.5,1
{TOWN_B},2#水库,reservoir,200,,
"""


def _run(tmp_path, level, bodies=BODIES, out="out"):
    path = write_csv(tmp_path / "water_bodies.csv", bodies)
    cfg = load_gep_config(gep_config(tmp_path, ["flood_regulation"], water_bodies=path))
    regions = townships() if level == "township" else county()
    return run_gep(cfg, years=[YEAR], landcover_area=landcover_area(level), regions=regions,
                   landcover_path_for_year=lambda y: None, out_dir=tmp_path / out)


def test_flood_regulation_by_hand_at_both_levels(tmp_path):
    s = _run(tmp_path, "township")["gep_services"].set_index(["region_code", "service"])
    expected = {(TOWN_A, "lakes"): LAKE_A, (TOWN_A, "reservoirs"): RES_A, (TOWN_A, "marshes"): MARSH_A,
                (TOWN_B, "lakes"): LAKE_B, (TOWN_B, "reservoirs"): RES_B, (TOWN_B, "marshes"): MARSH_B}
    for (rc, part), q in expected.items():
        row = s.loc[(rc, f"flood_regulation:{part}")]
        assert row["quantity"] == pytest.approx(q, rel=1e-5), part
        assert row["quantity_unit"] == "m³"
        # reservoir storage cost 7.06 元/m³ of 2010, deflator 125/100 for 2020
        assert row["unit_price"] == pytest.approx(7.06 * 1.25, rel=1e-12)
        assert row["value_constant_yuan"] == pytest.approx(row["quantity"] * 7.06, rel=1e-12)
        assert row["category"] == "regulating" and row["tier"] == 2
    assert s.loc[(TOWN_A, "flood_regulation:lakes"), "service_zh"] == "洪水调蓄（湖泊）"
    # the county: water bodies listed under the townships lie in it; marshes from the county's class areas
    c = _run(tmp_path, "county", out="county")["gep_services"].set_index("service")
    assert c.loc["flood_regulation:lakes", "quantity"] == pytest.approx(LAKE_A + LAKE_B, rel=1e-5)
    assert c.loc["flood_regulation:reservoirs", "quantity"] == pytest.approx(RES_A + RES_B, rel=1e-12)
    assert c.loc["flood_regulation:marshes", "quantity"] == pytest.approx(MARSH_A + MARSH_B, rel=1e-12)
    assert c.loc["flood_regulation:lakes", "region_code"] == COUNTY


def test_lakes_larger_than_the_mapped_water_are_pointed_out(tmp_path, caplog):
    bodies = f"region_code,name,kind,capacity_10k_m3,area_km2,renewals\n{TOWN_B},大湖,lake,,5,1\n"
    _run(tmp_path, "township", bodies)
    assert any("大湖" not in r.message and TOWN_B in r.message and "check the lake areas" in r.message
               for r in caplog.records)


BAD = f"""
region_code,name,kind,capacity_10k_m3,area_km2,renewals
{TOWN_A},东湖,lake,,2,1.5
999999000000,外湖,lake,,1,1
{TOWN_A},红旗水库,reservoir,-5,,
{TOWN_A},东湖,lake,,2,1.5
{TOWN_B},西塘,pond,,0.5,1
{TOWN_B},无名湖,lake,,,1
{COUNTY},县湖,lake,,1,1
"""


def test_bad_water_body_table_one_line_each(tmp_path):
    with pytest.raises(InputError) as err:
        _run(tmp_path, "township", BAD)
    lines = err.value.lines()
    path = tmp_path / "water_bodies.csv"
    assert lines == [
        f"{path}: line 3: region_code '999999000000' is not a region of this level nor inside one; fix the code "
        f"(codes are text: keep leading zeros)",
        f"{path}: line 4: capacity_10k_m3 -5 is negative; give a value ≥ 0",
        f"{path}: line 5: duplicate row for lake '东湖' in {TOWN_A} (also line 2); keep one",
        f"{path}: line 6: kind 'pond' is not one of lake, reservoir",
        f"{path}: line 7: area_km2 is empty; fill it in",
        f"{path}: line 8: lake '县湖' is listed under {COUNTY}, which contains several regions of this level; "
        f"give the code of the region it lies in",
    ]
    assert not (tmp_path / "out").exists()


def test_bad_water_body_table_exits_2_and_writes_nothing(tmp_path, capsys):
    regions = townships()
    regions.to_file(tmp_path / "towns.gpkg", layer="towns", driver="GPKG")
    landcover_area("township").to_csv(tmp_path / "lca.csv", index=False)
    path = write_csv(tmp_path / "water_bodies.csv",
                     f"region_code,name,kind,capacity_10k_m3,area_km2,renewals\n{TOWN_A},红旗水库,reservoir,-5,,\n")
    import yaml
    (tmp_path / "gep.yaml").write_text(yaml.safe_dump(gep_config(tmp_path, ["flood_regulation"],
                                                                 water_bodies=path)), encoding="utf-8")
    rc = main(["services", "--config", str(tmp_path / "gep.yaml"), "--landcover", str(tmp_path / "lc_{year}.tif"),
               "--landcover-area", str(tmp_path / "lca.csv"), "--regions", str(tmp_path / "towns.gpkg"),
               "--id-field", "region_code", "--name-field", "region_name", "--years", str(YEAR),
               "--out-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{path}: line 2: capacity_10k_m3 -5 is negative; give a value ≥ 0" in err
    assert len([ln for ln in err.splitlines() if "capacity_10k_m3" in ln]) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_flood_regulation_needs_its_table(tmp_path):
    cfg = load_gep_config({**gep_config(tmp_path, ["flood_regulation"]), "tables": {}})
    with pytest.raises(InputError, match="gep.tables.water_bodies: not set but needed by service 'flood_regulation'"):
        run_gep(cfg, years=[YEAR], landcover_area=landcover_area("township"), regions=townships(),
                landcover_path_for_year=lambda y: None, out_dir=tmp_path / "out")
