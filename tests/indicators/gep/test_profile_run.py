"""The raster run valued with a GEP profile (gep.profile), its row status and price records, the summary's
provisional/profile columns and the deduction table (docs/methods.md §4.8). Values are hand-computed from the
tiny grid of test_valuation_tier2 (hand_total) and the deflator 2010 = 100, 2019 = 120, 2020 = 125."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from gep.core.errors import InputError
from gep.core.resources import builtin
from gep.indicators.gep import load_gep_config, run_gep
from gep.indicators.gep.valuation import read_region_deductions

from indicators.gep.test_valuation_tier2 import WATER_MM, YEAR, hand_total, tiny  # noqa: F401  (tiny is a fixture)

SERVICES = ["water_conservation", "soil_retention", "carbon_sequestration", "oxygen_release",
            "climate_regulation", "statistics"]
D = {2010: 100.0, 2019: 120.0, 2020: 125.0}


def _run(tiny, years=(YEAR,), services=SERVICES, **gep):
    tmp, regions, lca, cfg_dict = tiny
    lca = pd.concat([lca.assign(year=y) for y in years], ignore_index=True)
    for y in years:  # the tiny grid's rasters of 2020 serve every year asked for
        for name in ("precip", "et", "npp"):
            if not (tmp / f"{name}_{y}.tif").exists():
                shutil.copy(tmp / f"{name}_{YEAR}.tif", tmp / f"{name}_{y}.tif")
    cfg = load_gep_config({**cfg_dict, "services": services, **gep})
    return run_gep(cfg, years=list(years), landcover_area=lca, regions=regions,
                   landcover_path_for_year=lambda y: tmp / f"lc_{YEAR}.tif", out_dir=tmp / "out", write=False)


def _row(table, region, service, year=YEAR):
    t = table[(table["region_code"] == region) & (table["service"] == service) & (table["year"] == year)]
    assert len(t) == 1
    return t.iloc[0]


def test_national_default_values_as_the_2010_price_table_and_marks_p(tiny):
    table = _run(tiny)["gep_services"]
    prof = _run(tiny, profile="national_default")["gep_services"]
    cols = ["region_code", "year", "service"]
    a, b = table.sort_values(cols).reset_index(drop=True), prof.sort_values(cols).reset_index(drop=True)
    assert list(a["service"]) == list(b["service"])
    pd.testing.assert_series_equal(a["value_yuan"], b["value_yuan"], rtol=1e-12)
    pd.testing.assert_series_equal(a["value_constant_yuan"], b["value_constant_yuan"], rtol=1e-12)
    # by hand: region A's water conservation (m³) × 7.06 元/m³ of 2010 × D(2020)/D(2010)
    q_a = hand_total(WATER_MM, 1e-3)[0]
    row = _row(prof, "A", "water_conservation")
    assert row["value_yuan"] == pytest.approx(q_a * 7.06 * 125.0 / 100.0, rel=1e-6)
    assert row["unit_price"] == pytest.approx(7.06 * 1.25)
    assert row["price_record"] == "water_storage 7.06 元/m³ of 2010, 甘孜州, P"
    assert _row(prof, "A", "soil_retention")["price_record"] == (
        "dredging 15.58 元/m³ of 2010, 甘孜州, P; nitrogen 875 元/t of 2010, 甘孜州, P; "
        "phosphorus 2800 元/t of 2010, 甘孜州, P")
    priced = prof[prof["category"] == "regulating"]
    assert len(priced) == 10 and set(priced["status"]) == {"P"}
    # the price table of one study is V; the rows still rest on P parameter files (runoff classes, …)
    assert _row(table, "A", "water_conservation")["price_record"] == "water_storage 7.06 元/m³ of 2010, V"
    assert set(table.loc[table["category"] == "regulating", "status"]) == {"P"}


def _user_profile(tmp_path):
    data = yaml.safe_load(builtin("profiles", "national_default").read_text(encoding="utf-8"))
    data["name"] = "my_province"
    rec = data["prices"]["water_storage"]
    data["prices"]["water_storage"] = [rec, {**rec, "value": 9.0, "price_year": 2020, "region": "本省",
                                             "status": "V2", "source": "provincial price list 2020"}]
    path = tmp_path / "my_profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_user_profile_record_of_the_year_as_is_and_the_2010_record_deflated(tiny):
    path = _user_profile(tiny[0])
    out = _run(tiny, years=(2019, 2020), services=SERVICES[:-1], profile=str(path))  # statistics: 2020 only
    s = out["gep_services"]
    q_a = hand_total(WATER_MM, 1e-3)[0]
    r20, r19 = _row(s, "A", "water_conservation", 2020), _row(s, "A", "water_conservation", 2019)
    assert r20["unit_price"] == pytest.approx(9.0)                       # the 2020 record, no deflator
    assert r20["value_yuan"] == pytest.approx(q_a * 9.0, rel=1e-6)
    # constant prices of 2010 (the earliest price year of the profile): × D(2010)/D(2020)
    assert r20["value_constant_yuan"] == pytest.approx(q_a * 9.0 * 100.0 / 125.0, rel=1e-6)
    assert r20["price_record"] == "water_storage 9 元/m³ of 2020, 本省, V2"
    assert r19["unit_price"] == pytest.approx(7.06 * 120.0 / 100.0)      # 8.472: the 2010 record deflated
    assert r19["value_yuan"] == pytest.approx(q_a * 8.472, rel=1e-6)
    assert r19["price_record"] == "water_storage 7.06 元/m³ of 2010, 甘孜州, P"
    summary = out["gep_summary"]
    assert set(summary["profile"]) == {"my_province"}
    scope = summary["gep_scope"].iloc[0]
    assert scope.startswith("tier 2: regulating; not accounted: ")
    missing = scope.split("not accounted: ")[1].split(", ")
    assert sorted(missing) == sorted(["agriculture", "forestry", "animal_husbandry", "fishery", "water_supply",
                                      "hydropower", "sand_fixation", "flood_regulation", "so2", "nox", "dust",
                                      "cod", "nh3_n", "pest_forest (optional)", "pest_grassland (optional)",
                                      "tourism"])


def test_deduction_of_one_wan_yuan_lowers_gep(tiny):
    tmp = tiny[0]
    base = _run(tiny, profile="national_default")["gep_summary"].set_index("region_code")
    (tmp / "ded.csv").write_text("region_code,year,item,value,value_unit,source\n"
                                 f"A,{YEAR},imported timber,1,万元,county forestry bureau 2020\n", encoding="utf-8")
    out = _run(tiny, profile="national_default", deductions=str(tmp / "ded.csv"))
    after = out["gep_summary"].set_index("region_code")
    assert base.loc["A", "gep_yuan"] - after.loc["A", "gep_yuan"] == pytest.approx(10_000.0)
    # constant prices of 2010: 10,000 × D(2010)/D(2020) = 8,000
    assert base.loc["A", "gep_constant_yuan"] - after.loc["A", "gep_constant_yuan"] == pytest.approx(8_000.0)
    assert after.loc["B", "gep_yuan"] == pytest.approx(base.loc["B", "gep_yuan"])
    row = _row(out["gep_services"], "A", "deduction:imported timber")
    assert row["category"] == "deduction" and row["value_yuan"] == -10_000.0
    assert "deduction" in after.loc["A", "gep_scope"]


def test_deduction_table_problems_one_line_each(tmp_path):
    path = tmp_path / "ded.csv"
    path.write_text("region_code,year,item,value,value_unit,source\n"
                    "Z,2020,timber,1,万元,x\n"          # 2: unknown region
                    "A,2018,timber,1,万元,x\n"          # 3: not an accounting year
                    "A,2020,timber,-1,万元,x\n"         # 4: negative
                    "A,2020,fish,many,万元,x\n"         # 5: not a number
                    "A,2020,grain,1,千元,x\n"           # 6: unknown unit
                    "B,2020,tea,1,元,x\n"
                    "B,2020,tea,2,元,x\n"               # 8: duplicate of line 7
                    "B,2020,salt,2,元,\n",              # 9: no source
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_region_deductions(path, region_codes=["A", "B"], years=[2019, 2020])
    lines = err.value.lines()
    assert len(lines) == 7
    assert f"{path}: line 2: region_code 'Z'" in lines[0]
    assert "line 3: year '2018' is not an accounting year" in lines[1]
    assert "line 4: value -1" in lines[2] and "line 5: value 'many'" in lines[3]
    assert "line 6: value_unit '千元'" in lines[4]
    assert "line 8: duplicate row for B 2020 tea (also line 7)" in lines[5]
    assert "line 9: source of B 2020 salt is empty" in lines[6]


def test_profile_without_a_price_a_service_needs_stops_before_raster_work(tiny):
    tmp = tiny[0]
    data = yaml.safe_load(builtin("profiles", "national_default").read_text(encoding="utf-8"))
    for item in ("water_conservation", "flood_regulation"):
        del data["items"][item]
    del data["prices"]["water_storage"]
    (tmp / "short.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"short\.yaml: price 'water_storage' is missing \(needed by "
                                         r"water_conservation\)"):
        _run(tiny, profile=str(tmp / "short.yaml"))


def test_provisional_lists_the_p_and_demo_services(tiny, caplog):
    tmp = tiny[0]
    stats = pd.read_csv(tmp / "stats.csv", dtype=str, keep_default_na=False)
    stats.loc[stats["service"] == "tourism", "source"] = "DEMO: invented"
    stats.to_csv(tmp / "stats.csv", index=False)
    with caplog.at_level("WARNING", logger="gep.indicators.gep"):
        out = _run(tiny, profile="national_default")
    assert _row(out["gep_services"], "A", "tourism")["status"] == "DEMO"
    assert _row(out["gep_services"], "A", "agriculture")["status"] == ""
    prov = out["gep_summary"].set_index("region_code").loc["A", "provisional"].split(", ")
    assert sorted(prov) == sorted(["tourism", "carbon_sequestration", "climate_regulation", "oxygen_release",
                                   "soil_retention", "water_conservation"])
    warned = [r.getMessage() for r in caplog.records if "P or DEMO" in r.getMessage()]
    assert len(warned) == 1 and "tourism (DEMO)" in warned[0] and "water_conservation (P)" in warned[0]
