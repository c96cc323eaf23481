"""空气净化 and 水质净化 (docs/methods.md §4.2.8, §4.2.9): the lesser of capacity × class area and the region's
emissions or discharges, by hand on two townships and their county; the checks of the load tables."""

from __future__ import annotations

import pytest

from gep.core.errors import InputError
from gep.indicators.gep import load_gep_config, run_gep
from gep_area_builders import (COUNTY, TOWN_A, TOWN_B, YEAR, county, gep_config, landcover_area, townships,
                               write_csv)

EMISSIONS = f"""
region_code,year,pollutant,amount_t,source
{TOWN_A},{YEAR},so2,100,test
{TOWN_A},{YEAR},nox,20,test
{TOWN_A},{YEAR},dust,50,test
{TOWN_B},{YEAR},so2,30,test
{TOWN_B},{YEAR},nox,0.5,test
{TOWN_B},{YEAR},dust,10,test
{TOWN_B},2019,dust,-1,a year not accounted is still checked
"""

DISCHARGES = f"""
region_code,year,pollutant,amount_t
{TOWN_A},{YEAR},cod,300
{TOWN_A},{YEAR},nh3_n,80
{TOWN_B},{YEAR},cod,100
{TOWN_B},{YEAR},nh3_n,3
"""


def _run(tmp_path, level, services, out="out", **texts):
    tables = {k: write_csv(tmp_path / f"{k}.csv", v) for k, v in texts.items()}
    cfg = load_gep_config(gep_config(tmp_path, services, **tables))
    regions = townships() if level == "township" else county()
    return run_gep(cfg, years=[YEAR], landcover_area=landcover_area(level), regions=regions,
                   landcover_path_for_year=lambda y: None, out_dir=tmp_path / out)["gep_services"]


def test_air_purification_by_hand(tmp_path):
    good = EMISSIONS.replace(f"{TOWN_B},2019,dust,-1", f"{TOWN_B},2019,dust,1")
    s = _run(tmp_path, "township", ["air_purification"], emissions=good).set_index(["region_code", "service"])
    # forest (CLCD 2): A 10 km² = 1000 hm², B 1 km² = 100 hm²; capacity kg/hm²: SO₂ 152.13, NOₓ 6, dust 21655
    expected = {(TOWN_A, "so2"): 100.0,          # capacity 152.13 t > emissions 100 t
                (TOWN_A, "nox"): 6.0,            # capacity 6 t < emissions 20 t
                (TOWN_A, "dust"): 50.0,
                (TOWN_B, "so2"): 15.213,         # capacity 15.213 t < emissions 30 t
                (TOWN_B, "nox"): 0.5,
                (TOWN_B, "dust"): 10.0}
    prices = {"so2": 1200.0, "nox": 630.0, "dust": 150.0}
    for (rc, pol), q in expected.items():
        row = s.loc[(rc, f"air_purification:{pol}")]
        assert row["quantity"] == pytest.approx(q, rel=1e-12), (rc, pol)
        assert row["quantity_unit"] == "t"
        assert row["value_constant_yuan"] == pytest.approx(q * prices[pol], rel=1e-12)
        assert row["unit_price"] == pytest.approx(prices[pol] * 1.25, rel=1e-12)
    assert "→ capacity" in s.loc[(TOWN_A, "air_purification:nox"), "method"]
    assert "→ emissions" in s.loc[(TOWN_A, "air_purification:so2"), "method"]
    # the county has no rows of its own: its emissions are its townships' sums, its capacity its own forest
    c = _run(tmp_path, "county", ["air_purification"], out="county", emissions=good).set_index("service")
    assert c.loc["air_purification:so2", "quantity"] == pytest.approx(130.0)      # < 1100 hm² × 0.15213 t
    assert c.loc["air_purification:nox", "quantity"] == pytest.approx(6.6)        # 1100 hm² × 6 kg < 20.5 t
    assert c.loc["air_purification:dust", "quantity"] == pytest.approx(60.0)
    assert set(c["region_code"]) == {COUNTY}


def test_water_purification_by_hand_and_optional_tp(tmp_path):
    s = _run(tmp_path, "township", ["water_purification"], discharges=DISCHARGES)
    s = s.set_index(["region_code", "service"])
    # water + wetland (CLCD 5, 9): A 5.5 km² = 550 hm², B 0.7 km² = 70 hm²; COD 1000, NH₃-N 100 kg/hm² [P]
    expected = {(TOWN_A, "cod"): 300.0, (TOWN_A, "nh3_n"): 55.0, (TOWN_B, "cod"): 70.0, (TOWN_B, "nh3_n"): 3.0}
    for (rc, pol), q in expected.items():
        row = s.loc[(rc, f"water_purification:{pol}")]
        assert row["quantity"] == pytest.approx(q, rel=1e-12), (rc, pol)
    assert s.loc[(TOWN_A, "water_purification:cod"), "value_constant_yuan"] == pytest.approx(300 * 700.0)
    assert s.loc[(TOWN_A, "water_purification:nh3_n"), "value_constant_yuan"] == pytest.approx(55 * 875.0)
    assert not any(str(k[1]).endswith(":tp") for k in s.index)   # no TP rows in the table: TP not counted
    # TP rows given: TP is counted, and the built-in price table (no TP price) says what is missing
    with_tp = DISCHARGES + f"{TOWN_A},{YEAR},tp,2\n{TOWN_B},{YEAR},tp,1\n"
    with pytest.raises(InputError, match="price 'tp' is missing .needed by water_purification:tp."):
        _run(tmp_path, "township", ["water_purification"], out="tp", discharges=with_tp)


def test_bad_emissions_table_one_line_each(tmp_path):
    bad = EMISSIONS + f"""999999000000,{YEAR},so2,1,x
{TOWN_A},{YEAR},so2,100,again
{TOWN_A},{YEAR},co2,5,x
"""
    with pytest.raises(InputError) as err:
        _run(tmp_path, "township", ["air_purification"], emissions=bad)
    path = tmp_path / "emissions.csv"
    assert err.value.lines() == [
        f"{path}: line 8: amount_t -1 is negative; give a value ≥ 0",
        f"{path}: line 9: region_code '999999000000' is not a region of this level nor inside one; fix the code "
        f"(codes are text: keep leading zeros)",
        f"{path}: line 10: duplicate row for {TOWN_A} {YEAR} so2 (also line 2); keep one",
        f"{path}: line 11: pollutant 'co2' is not one of so2, nox, dust",
    ]
    assert not (tmp_path / "out").exists()


def test_missing_emissions_are_named(tmp_path):
    text = "\n".join(ln for ln in EMISSIONS.strip().splitlines() if "nox,0.5" not in ln and ",-1," not in ln)
    with pytest.raises(InputError) as err:
        _run(tmp_path, "township", ["air_purification"], emissions=text)
    assert err.value.lines() == [f"{tmp_path / 'emissions.csv'}: no nox row for region {TOWN_B} year {YEAR}; add "
                                 f"one (amount_t 0 where there is none)"]
