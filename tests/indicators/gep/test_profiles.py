"""GEP profiles (gep.indicators.gep.profiles), units (gep.indicators.gep.units) and the account engine
(gep.indicators.gep.valuation): loading, one-line errors, unit and basis conversion, price years, deduction,
the P/DEMO flag."""

from __future__ import annotations

import textwrap

import pytest

from gep.core.errors import InputError
from gep.indicators.gep.params import load_deflator
from gep.indicators.gep.profiles import STATUSES, builtin_profiles, load_profile
from gep.indicators.gep.units import basis_factor, parse_unit, price_unit
from gep.indicators.gep.valuation import (Deduction, QuantityRecord, read_deductions, read_quantities,
                                          value_account)

HEAD = "name: test\nstatus: P\nsource: test\n"
CARBON_ITEM = "  carbon: {name_zh: 固碳, category: regulating, quantity_unit: t, basis: CO₂, price: carbon}\n"
CARBON_PRICE = "  carbon: {value: 100, unit: 元/t, basis: CO₂, price_year: 2010, region: X, source: s, status: V}\n"


def _write(tmp_path, text: str, name="p.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _profile(tmp_path, items=CARBON_ITEM, prices=CARBON_PRICE, extra=""):
    return _write(tmp_path, HEAD + "items:\n" + items + "prices:\n" + prices + extra)


# ---- units


def test_units():
    assert parse_unit("亿m³").factor == 1e8 and parse_unit("亿m³").base == "m³"
    assert parse_unit("万hm²").factor == 1e8 and parse_unit("万hm²").dimension == "area"
    assert parse_unit("km²").factor == 1e6
    assert parse_unit("亿kW·h").factor == 1e8 and parse_unit("亿kW·h").dimension == "energy"
    assert parse_unit("万元").factor == 1e4
    assert parse_unit("tons") is None and parse_unit("兆t") is None
    assert price_unit("万元/hm²", "x")[0] == 1e4 and price_unit("万元/hm²", "x")[1].factor == 1e4
    with pytest.raises(InputError, match="MONEY/UNIT"):
        price_unit("元", "here")
    assert basis_factor("C", "CO₂") == pytest.approx(44 / 12)
    assert basis_factor("CO2", "C") == pytest.approx(12 / 44)
    assert basis_factor("storage", "storage") == 1.0
    assert basis_factor("O₂", "CO₂") is None


# ---- the built-in profiles


def test_builtin_profiles_load():
    assert {"garze2010", "national_default", "provincial_template"} <= set(builtin_profiles())
    garze = load_profile("garze2010")
    assert {r.status for recs in garze.prices.values() for r in recs} == {"V"}
    assert {r.price_year for recs in garze.prices.values() for r in recs} == {2010}
    assert {r.region for recs in garze.prices.values() for r in recs} == {"甘孜州"}
    national = load_profile("national_default")
    assert {r.status for recs in national.prices.values() for r in recs} == {"P"}
    assert {k for k, it in national.items.items() if it.optional} == {"oxygen_release", "pest_forest",
                                                                      "pest_grassland"}
    assert {it.category for it in national.items.values()} == {"material", "regulating", "cultural"}
    template = load_profile("provincial_template")
    assert set(template.items) == set(national.items)
    assert all(r.value is None and r.unit and r.basis for recs in template.prices.values() for r in recs)


def test_template_price_must_be_filled():
    template = load_profile("provincial_template")
    with pytest.raises(InputError, match=r"prices\.water_storage: value is empty; fill in"):
        value_account(template, [QuantityRecord("water_conservation", 1.0, "m³")], 2020)
    # a given value needs no price
    acc = value_account(template, [QuantityRecord("tourism", 2.0, "万元")], 2020)
    assert acc.total("cultural") == 20_000.0


# ---- loader errors: one line naming file, key and value


@pytest.mark.parametrize("prices, needle", [
    ("  carbon: {value: 100, basis: CO₂, price_year: 2010, source: s, status: V}\n", "prices.carbon: unit is missing"),
    ("  carbon: {value: 100, unit: 元/t, price_year: 2010, source: s, status: V}\n", "prices.carbon: basis is missing"),
    ("  carbon: {value: 100, unit: 元/t, basis: CO₂, source: s, status: V}\n", "prices.carbon.price_year: 'None'"),
    ("  carbon: {value: 100, unit: 元/t, basis: CO₂, price_year: 2010, source: s, status: X}\n",
     "prices.carbon.status: 'X' is not one of V, V2, P, DEMO"),
    ("  carbon: {value: 100, unit: 元/t, basis: CO₂, price_year: 2010, status: V}\n", "prices.carbon.source: empty"),
    ("  carbon: {value: -1, unit: 元/t, basis: CO₂, price_year: 2010, source: s, status: V}\n", "-1 is negative"),
    ("  carbon: {value: 100, unit: 元/tons, basis: CO₂, price_year: 2010, source: s, status: V}\n",
     "unit 'tons' is not known"),
    ("  oxygen: {value: 1, unit: 元/t, basis: O₂, price_year: 2010, source: s, status: V}\n",
     "items.carbon.price: 'carbon' is not under 'prices'"),
    ("  carbon: {value: 100, unit: 元/m³, basis: CO₂, price_year: 2010, source: s, status: V}\n",
     "quantity in t but price 'carbon' is per m³"),
    ("  carbon: {value: 100, unit: 元/t, basis: O₂, price_year: 2010, source: s, status: V}\n",
     "basis 'CO₂' but price 'carbon' is per 'O₂'"),
])
def test_price_errors(tmp_path, prices, needle):
    path = _profile(tmp_path, prices=prices)
    with pytest.raises(InputError) as err:
        load_profile(path)
    assert needle in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("items, needle", [
    ("  carbon: {name_zh: 固碳, category: supporting, quantity_unit: t, basis: CO₂, price: carbon}\n",
     "items.carbon.category: 'supporting' is not one of material, regulating, cultural"),
    ("  carbon: {name_zh: 固碳, category: regulating, quantity_unit: t, basis: CO₂}\n", "items.carbon: no price"),
    ("  carbon: {name_zh: 固碳, category: regulating, quantity_unit: t, price: carbon}\n",
     "items.carbon.basis: missing"),
    ("  carbon: {category: regulating, quantity_unit: t, valuation: given}\n", "is not 元, 万元 or 亿元"),
    ("  carbon: {category: regulating, quantity_unit: t, basis: CO₂, price: carbon, convert: {per: [rho], unit: m², "
     "basis: x}}\n", "parameter 'rho' is not under 'parameters'"),
])
def test_item_errors(tmp_path, items, needle):
    path = _profile(tmp_path, items=items)
    with pytest.raises(InputError) as err:
        load_profile(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_profile_needs_status_and_source(tmp_path):
    path = _write(tmp_path, "name: x\nitems: {}\nprices: {}\n")
    with pytest.raises(InputError, match="key 'status' is missing"):
        load_profile(path)
    with pytest.raises(InputError, match="unknown GEP profile 'nope'"):
        load_profile("nope")


def test_statuses_are_the_documented_marks():
    assert STATUSES == ("V", "V2", "P", "DEMO")


# ---- the engine


def test_price_years_deflator_and_per_year_records(tmp_path):
    prices = ("  carbon:\n"
              "    - {value: 100, unit: 元/t, basis: CO₂, price_year: 2010, region: X, source: s, status: V}\n"
              "    - {value: 150, unit: 元/t, basis: CO₂, price_year: 2020, region: X, source: s2, status: V2}\n")
    profile = load_profile(_profile(tmp_path, prices=prices))
    rec = [QuantityRecord("carbon", 2.0, "t", "CO₂")]
    # a record of the year: used as it is
    row = value_account(profile, rec, 2020).rows.iloc[0]
    assert (row["value_yuan"], row["price_year"], row["status"]) == (300.0, 2020, "V2")
    # 2015: the latest earlier record (2010), brought to 2015 prices by the deflator: 110.4 / 100
    with pytest.raises(InputError, match="price of 2010 for an account of 2015; give a deflator"):
        value_account(profile, rec, 2015)
    row = value_account(profile, rec, 2015, deflator=load_deflator("deflator_demo")).rows.iloc[0]
    assert row["deflator_factor"] == pytest.approx(1.104)
    assert row["value_yuan"] == pytest.approx(2 * 100 * 1.104)
    # before every record: the earliest, deflated
    row = value_account(profile, rec, 2005 + 6, deflator=load_deflator("deflator_demo")).rows.iloc[0]
    assert row["price_year"] == 2010 and row["value_yuan"] == pytest.approx(2 * 100 * 1.02)


def test_conversion_parameters_and_flag(tmp_path):
    items = ("  sand: {name_zh: 防风固沙, category: regulating, quantity_unit: t, basis: sand, price: sand_control,\n"
             "         convert: {per: [rho, h], unit: m², basis: land}}\n"
             "  food: {name_zh: 农业产品, category: material, quantity_unit: 万元, valuation: given}\n"
             "  trips: {name_zh: 旅游, category: cultural, quantity_unit: 亿元, valuation: given}\n")
    prices = "  sand_control: {value: 2, unit: 元/hm², basis: land, price_year: 2020, source: s, status: V}\n"
    params = ("parameters:\n  rho: {value: 1.25, unit: t/m³, source: s, status: DEMO}\n"
              "  h: {value: 0.2, unit: m, source: s, status: V}\n")
    profile = load_profile(_profile(tmp_path, items=items, prices=prices, extra=params))
    acc = value_account(profile, [QuantityRecord("sand", 10.0, "万t", "sand"), QuantityRecord("food", 3, "万元")],
                        2020, deductions=[Deduction("外调水", 5_000.0)])
    rows = acc.rows.set_index("item")
    # 10 万t = 1e5 t ÷ (1.25 t/m³ × 0.2 m) = 4e5 m² = 40 hm² × 2 元/hm² = 80 元
    assert rows.loc["sand", "priced_quantity"] == pytest.approx(40.0)
    assert rows.loc["sand", "value_yuan"] == pytest.approx(80.0)
    assert rows.loc["sand", "status"] == "DEMO"                    # the weakest of price and parameters
    assert acc.total("regulating") == pytest.approx(80.0)
    assert acc.total("material") == pytest.approx(30_000.0)
    assert acc.total("deduction") == pytest.approx(-5_000.0)
    assert acc.total("gep") == pytest.approx(80.0 + 30_000.0 - 5_000.0)
    assert acc.provisional == ("sand",) and acc.missing == ("trips",)
    gep_note = acc.totals.set_index("line").loc["gep", "note"]
    assert "includes P/DEMO records: sand" in gep_note and "no quantity for trips" in gep_note
    assert len(acc.warnings()) == 2


def test_national_default_account_is_flagged():
    acc = value_account(load_profile("national_default"),
                        [QuantityRecord("water_conservation", 1.0, "亿m³"), QuantityRecord("tourism", 1.0, "亿元")],
                        2010)
    assert acc.provisional == ("water_conservation",)
    assert acc.total("gep") == pytest.approx(7.06e8 + 1e8)
    assert "oxygen_release" not in acc.missing and "sediment" in acc.missing      # optional items not missing


def test_quantity_problems_reported_at_once(tmp_path):
    profile = load_profile(_profile(tmp_path))
    path = _write(tmp_path, "item,quantity,unit,basis,year\n"
                            "carbon,1,t,CO₂,2010\n"
                            "carbon,2,t,CO₂,2010\n"        # duplicate
                            "oxygen,1,t,O₂,2010\n"         # unknown item
                            "carbon,1,t,CO₂,2009\n", "q.csv")   # other year: not read
    records, year = read_quantities(path, year=2010)
    assert year == 2010 and len(records) == 3
    with pytest.raises(InputError) as err:
        value_account(profile, records, 2010)
    text = "\n".join(err.value.lines())
    assert "line 3: item 'carbon' appears twice (also" in text
    assert "line 4: item 'oxygen' is not in profile test" in text
    for bad, needle in [("carbon,1,m³,CO₂\n", "unit 'm³' of carbon is not a unit of mass"),
                        ("carbon,1,t,O₂\n", "basis 'O₂' of carbon does not convert"),
                        ("carbon,x,t,CO₂\n", "quantity of carbon 'x' is not a number"),
                        ("carbon,-3,t,CO₂\n", "is not a number ≥ 0")]:
        p = _write(tmp_path, "item,quantity,unit,basis\n" + bad, "bad.csv")
        with pytest.raises(InputError, match=needle):
            value_account(profile, read_quantities(p)[0], 2010)
    with pytest.raises(InputError, match="rows of several years"):
        read_quantities(path)


def test_read_deductions(tmp_path):
    path = _write(tmp_path, "item,value,value_unit,source\n外调水,1.5,亿元,调水公报\n外购电,2,万元,\n", "d.csv")
    got = read_deductions(path)
    assert [(d.item, d.value_yuan) for d in got] == [("外调水", 1.5e8), ("外购电", 2e4)]
    bad = _write(tmp_path, "item,value,value_unit\nx,1,t\n", "d2.csv")
    with pytest.raises(InputError, match="line 2: value_unit 't' is not 元, 万元 or 亿元"):
        read_deductions(bad)
