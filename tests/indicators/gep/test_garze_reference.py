"""The Garzê 2010 reference account (Pema Dolkar et al. 2017, 生态学报 37(19):6302–6312, Table 3; docs/methods.md
§4.7): the account engine, fed the study's quantities and the ``garze2010`` profile's prices, reproduces every
row of the account and its totals.

The quantities (``src/gep/data/profiles/garze2010_quantities.csv``) are printed rounded: 2.51 亿 t of O₂ × 727
元/t = 1824.77 亿元, but the table prints 1821.9182. So each priced row is asserted within the band its
quantity's rounding allows: half a unit of the quantity's last printed digit × the unit price, plus half a
unit of the printed value's fourth decimal. Values given as such (农林牧渔 net output, recreation) are printed
to four decimals and must come back exactly.

For the totals the rounding bands add up (about 5.8 亿元, mostly oxygen and carbon). The paper prints every row
value to four decimals, so the quantities it used are known to that precision (printed value ÷ unit price);
fed those, the engine gives the printed totals to their precision: regulating 6842.28, cultural 70.67; the
four-decimal material rows sum to 632.6488, which rounds to 632.65 while the paper prints 632.64 (and GEP
7545.598 where it prints 7545.59): the paper's material total is the sum of its text's figures 22.07
(animal husbandry, 22.0760 in Table 3) and 545.35 (water, 545.36 in Table 3). The test says so below.
"""

from __future__ import annotations

import pandas as pd
import pytest

from gep.core.resources import data_dir
from gep.indicators.gep.profiles import load_profile
from gep.indicators.gep.valuation import QuantityRecord, read_quantities, value_account

REFERENCE = data_dir("profiles") / "garze2010_quantities.csv"

#: the study's printed totals, 亿元 (abstract, Table 3, §3.4)
PRINTED = {"material": 632.64, "regulating": 6842.28, "cultural": 70.67, "gep": 7545.59}
#: half a unit of the fourth decimal of a printed row value, 亿元
HALF_PRINTED_DIGIT = 0.00005


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


@pytest.fixture(scope="module")
def reference():
    table = pd.read_csv(REFERENCE, dtype=str, keep_default_na=False)
    records, year = read_quantities(REFERENCE)
    account = value_account(load_profile("garze2010"), records, year)
    rows = account.rows.set_index("item")
    return table.set_index("item"), account, rows


def test_every_row_within_its_printed_rounding(reference):
    table, account, rows = reference
    assert account.year == 2010 and len(rows) == len(table) == 28
    for item, ref in table.iterrows():
        got = rows.loc[item, "value_yi_yuan"]
        printed = float(ref["printed_value_yi_yuan"])
        if ref["unit"].endswith("元"):                       # a value as given, printed to 4 decimals
            assert got == pytest.approx(printed, abs=1e-12), item
            continue
        q = float(ref["quantity"])
        per_unit = got / q                                   # 亿元 per printed quantity unit (linear)
        band = 0.5 * 10 ** -_decimals(ref["quantity"]) * per_unit + HALF_PRINTED_DIGIT
        assert abs(got - printed) <= band, (item, got, printed, band)


def test_rows_by_hand(reference):
    _, _, rows = reference
    yi = rows["value_yi_yuan"]
    # quantity × price, worked by hand (亿 = 10⁸)
    assert yi["water_conservation"] == pytest.approx(321.49 * 7.06)                 # 2269.7194
    assert yi["oxygen_release"] == pytest.approx(2.51 * 727)                        # 1824.77 (printed 1821.92)
    assert yi["carbon_sequestration"] == pytest.approx(0.31 * 380)                  # 117.80 (printed 117.35)
    assert yi["nitrogen"] == pytest.approx(1437.94e4 * 875 / 1e8)                   # 125.81975
    assert yi["pest_grassland"] == pytest.approx(711.13e4 * 112.5 / 1e8)            # 8.0002125
    # sand fixation: 779.42 万t ÷ (1.28 t/m³ × 0.1 m) = 60,892,187.5 m² (the paper: 60.89 km²) × 3.75 元/m²
    assert rows.loc["sand_fixation", "priced_quantity"] == pytest.approx(60_892_187.5)
    assert rows.loc["sand_fixation", "value_yuan"] == pytest.approx(228_345_703.125)
    # pest control priced per hm² as the price is: 158 万hm² = 1.58e6 hm² × 375 元/hm²
    assert rows.loc["pest_forest", "priced_quantity"] == pytest.approx(1.58e6)
    assert rows.loc["pest_forest", "priced_unit"] == "hm²"
    assert rows.loc["so2", "value_yuan"] == pytest.approx(1137 * 1200)
    # every row keeps what a reviewer needs to redo it
    assert rows.loc["carbon_sequestration", ["price", "price_unit", "price_basis", "price_year", "price_region",
                                             "status"]].tolist() == [380.0, "元/t", "CO₂", 2010, "甘孜州", "V"]
    assert "Dolkar" in rows.loc["carbon_sequestration", "price_source"]


def test_carbon_given_as_carbon_is_converted(reference):
    # the same 0.31 亿 t CO₂ given as t C (× 12/44) is valued the same: 44/12 is applied once, in the engine
    _, _, rows = reference
    profile = load_profile("garze2010")
    rec = QuantityRecord("carbon_sequestration", 0.31 * 12 / 44, "亿t", "C", where="test")
    got = value_account(profile, [rec], 2010).rows.iloc[0]
    assert got["value_yuan"] == pytest.approx(rows.loc["carbon_sequestration", "value_yuan"])
    assert "× 3.66667" in got["conversion"]


def test_totals_from_printed_quantities_within_summed_bands(reference):
    table, account, rows = reference
    bands = {"material": 0.0, "regulating": 0.0, "cultural": 0.0}
    for item, ref in table.iterrows():
        cat = rows.loc[item, "category"]
        if ref["unit"].endswith("元"):
            bands[cat] += HALF_PRINTED_DIGIT
        else:
            per_unit = rows.loc[item, "value_yi_yuan"] / float(ref["quantity"])
            bands[cat] += 0.5 * 10 ** -_decimals(ref["quantity"]) * per_unit + HALF_PRINTED_DIGIT
    bands["gep"] = sum(bands.values())
    for line, printed in PRINTED.items():
        got = account.total(line) / 1e8
        assert abs(got - printed) <= bands[line] + 0.005, (line, got, printed, bands[line])
    # what that is: GEP 7548.95 from the rounded quantities, 3.36 above the printed 7545.59 (oxygen +2.85,
    # carbon +0.45), inside the summed band of about 5.8
    assert account.total("gep") / 1e8 == pytest.approx(7548.950075, abs=1e-6)
    assert 5.7 < bands["gep"] < 5.9
    assert account.provisional == () and account.missing == () and account.warnings() == []


def test_totals_from_the_quantities_the_printed_values_imply(reference):
    table, _, rows = reference
    profile = load_profile("garze2010")
    records = []
    for item, ref in table.iterrows():
        printed = float(ref["printed_value_yi_yuan"])
        if ref["unit"].endswith("元"):
            records.append(QuantityRecord(item, printed, "亿元", where=item))
        else:   # the quantity the printed 4-decimal value implies, in the printed unit
            per_unit = rows.loc[item, "value_yi_yuan"] / float(ref["quantity"])
            records.append(QuantityRecord(item, printed / per_unit, ref["unit"], ref["basis"], where=item))
    account = value_account(profile, records, 2010)
    got = {line: account.total(line) / 1e8 for line in PRINTED}
    assert round(got["regulating"], 2) == PRINTED["regulating"]           # 6842.2823
    assert round(got["cultural"], 2) == PRINTED["cultural"]               # 70.6669
    # material: the four-decimal rows sum to 632.6488 → 632.65; the paper prints 632.64 (see the docstring)
    assert got["material"] == pytest.approx(632.6488, abs=1e-9)
    assert abs(got["material"] - PRINTED["material"]) <= 0.01
    assert got["gep"] == pytest.approx(7545.598, abs=1e-9)
    assert abs(got["gep"] - PRINTED["gep"]) <= 0.01


def test_printed_two_decimal_values_against_printed_totals():
    # a check of the paper itself: Table 3's two-decimal service values
    material = [12.29, 2.38, 22.08, 0.04, 545.36, 50.51]                   # 农林牧渔, 水资源, 水电
    regulating = [2269.71, 399.60, 2.28, 59.56, 0.03, 0.04, 1939.27, 2157.86, 13.93]
    assert sum(regulating) == pytest.approx(PRINTED["regulating"], abs=1e-9)        # adds up
    assert sum(material) == pytest.approx(632.66, abs=1e-9)                          # printed 632.64
    # the text's figures (§3.1: 畜牧业 22.07, 水资源 545.35) give the printed material total
    assert sum([12.29, 2.38, 22.07, 0.04, 545.35, 50.51]) == pytest.approx(PRINTED["material"], abs=1e-9)
    assert sum(material) + sum(regulating) + 70.67 == pytest.approx(7545.61, abs=1e-9)  # printed 7545.59
