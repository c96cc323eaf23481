"""``gep_change``: the change of constant-price GEP by item between accounted years (docs/methods.md §4.9).

Hand-made gep_services: 2 regions × 3 years × 3 services (values in 万元 below, × 10⁴ in the table).

    A (100 km²)   2019   2020   2021        B (50 km²)   2019   2020   2021
    water         1000   1200   1200        water        2000   2100   2100
    soil           500    400    400        soil            —     50     50
    farm           300    300      —        farm          100     50     50
    GEP           1800   1900   1600        GEP          2100   2200   2200

A 2020: water +200, soil −100, farm 0 → +100 (shares 200, −100, 0 %); per km² +100/100 = +1 万元/km².
A 2021: farm −300 (absent in 2021, counts 0) → −300 (share 100 %); per km² −3.
B 2020: water +100, soil +50 (absent in 2019), farm −50 → +100 (shares 100, 50, −50 %); per km² +2.
B 2021: no change: shares empty.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gep.indicators.gep.accounts import summarise
from gep.indicators.gep.change import CHANGE_COLUMNS, TOTAL, gep_change

WAN = 1e4
VALUES = {  # (region, year): {service: 万元}
    ("A", 2019): {"water": 1000, "soil": 500, "farm": 300},
    ("A", 2020): {"water": 1200, "soil": 400, "farm": 300},
    ("A", 2021): {"water": 1200, "soil": 400},
    ("B", 2019): {"water": 2000, "farm": 100},
    ("B", 2020): {"water": 2100, "soil": 50, "farm": 50},
    ("B", 2021): {"water": 2100, "soil": 50, "farm": 50},
}
LABELS = {"water": ("水源涵养", "regulating"), "soil": ("土壤保持", "regulating"), "farm": ("农业产品", "provisioning")}


def services() -> pd.DataFrame:
    rows = []
    for (region, year), items in VALUES.items():
        for service, wan in items.items():
            zh, cat = LABELS[service]
            # current prices are twice the constant ones: the change must use the constant ones
            rows.append({"region_code": region, "region_name": f"{region}县", "year": year, "service": service,
                         "service_zh": zh, "category": cat, "tier": 2, "value_yuan": 2 * wan * WAN,
                         "value_constant_yuan": wan * WAN, "constant_price_year": 2010})
    # a Tier-1 row is another account of the same land: never part of the Tier-2 change
    rows.append({"region_code": "A", "region_name": "A县", "year": 2020, "service": "t1_water", "service_zh": "水文调节",
                 "category": "regulating", "tier": 1, "value_yuan": 9e9, "value_constant_yuan": 9e9,
                 "constant_price_year": 2010})
    return pd.DataFrame(rows)


def summary(svc: pd.DataFrame) -> pd.DataFrame:
    return summarise(svc, pd.DataFrame({"region_code": ["A", "B"], "land_area_km2": [100.0, 50.0]}), tier=2,
                     region_names=pd.DataFrame({"region_code": ["A", "B"], "region_name": ["A县", "B县"]}),
                     years=[2019, 2020, 2021], constant_year=2010)


@pytest.fixture(scope="module")
def change():
    svc = services()
    return gep_change(svc, summary(svc), tier=2)


def _row(change, region, year, service):
    r = change[(change["region_code"] == region) & (change["year"] == year) & (change["service"] == service)]
    assert len(r) == 1, (region, year, service)
    return r.iloc[0]


def test_columns_and_rows(change):
    assert list(change.columns) == CHANGE_COLUMNS
    # from the second year on: 2 regions × 2 years × (3 services + total); no 2019 rows, no Tier-1 rows
    assert len(change) == 16
    assert set(change["year"]) == {2020, 2021} and set(change["year_prev"]) == {2019, 2020}
    assert set(change["service"]) == {"water", "soil", "farm", TOTAL}
    # each region-year: items by category then service, total last
    a20 = change[(change["region_code"] == "A") & (change["year"] == 2020)]
    assert list(a20["service"]) == ["farm", "soil", "water", TOTAL]


def test_item_changes_by_hand(change):
    assert _row(change, "A", 2020, "water")["change_constant_yuan"] == 200 * WAN
    assert _row(change, "A", 2020, "soil")["change_constant_yuan"] == -100 * WAN
    assert _row(change, "A", 2020, "farm")["change_constant_yuan"] == 0.0
    # present in 2020 only: 300 → 0
    farm = _row(change, "A", 2021, "farm")
    assert (farm["value_constant_prev_yuan"], farm["value_constant_yuan"], farm["change_constant_yuan"]) == \
        (300 * WAN, 0.0, -300 * WAN)
    assert farm["service_zh"] == "农业产品" and farm["category"] == "provisioning"
    # absent in 2019: 0 → 50
    soil = _row(change, "B", 2020, "soil")
    assert (soil["value_constant_prev_yuan"], soil["change_constant_yuan"]) == (0.0, 50 * WAN)
    # per km²: 万元/km²
    assert _row(change, "A", 2020, "water")["change_per_km2_wan_yuan"] == pytest.approx(2.0, rel=1e-12)
    assert _row(change, "B", 2020, "soil")["change_per_km2_wan_yuan"] == pytest.approx(1.0, rel=1e-12)


def test_shares_by_hand(change):
    assert _row(change, "A", 2020, "water")["share_of_change_pct"] == pytest.approx(200.0)
    assert _row(change, "A", 2020, "soil")["share_of_change_pct"] == pytest.approx(-100.0)
    assert _row(change, "A", 2020, "farm")["share_of_change_pct"] == 0.0
    assert _row(change, "A", 2021, "farm")["share_of_change_pct"] == pytest.approx(100.0)
    assert [_row(change, "B", 2020, s)["share_of_change_pct"] for s in ("water", "soil", "farm", TOTAL)] == \
        pytest.approx([100.0, 50.0, -50.0, 100.0])
    # no change in B 2021: no share
    b21 = change[(change["region_code"] == "B") & (change["year"] == 2021)]
    assert b21["share_of_change_pct"].isna().all() and (b21["change_constant_yuan"] == 0).all()


def test_totals_equal_the_summary(change):
    svc = services()
    s = summary(svc).set_index(["region_code", "year"])
    expected = {("A", 2020): 100, ("A", 2021): -300, ("B", 2020): 100, ("B", 2021): 0}
    for (region, year), wan in expected.items():
        t = _row(change, region, year, TOTAL)
        d = s.loc[(region, year), "gep_constant_yuan"] - s.loc[(region, year - 1), "gep_constant_yuan"]
        assert t["change_constant_yuan"] == wan * WAN
        assert math.isclose(t["change_constant_yuan"], d, rel_tol=1e-9, abs_tol=1e-9)
        per_km2 = (s.loc[(region, year), "gep_constant_per_km2_wan_yuan"]
                   - s.loc[(region, year - 1), "gep_constant_per_km2_wan_yuan"])
        assert math.isclose(t["change_per_km2_wan_yuan"], per_km2, rel_tol=1e-9, abs_tol=1e-12)
        items = change[(change["region_code"] == region) & (change["year"] == year) & (change["service"] != TOTAL)]
        assert math.isclose(items["change_constant_yuan"].sum(), d, rel_tol=1e-9, abs_tol=1e-9)
    assert _row(change, "A", 2020, TOTAL)["change_per_km2_wan_yuan"] == pytest.approx(1.0)
    assert _row(change, "A", 2021, TOTAL)["change_per_km2_wan_yuan"] == pytest.approx(-3.0)
    assert _row(change, "B", 2020, TOTAL)["change_per_km2_wan_yuan"] == pytest.approx(2.0)


def test_a_year_without_gep_breaks_the_pair():
    """A region without GEP in 2020 has no 2020 change and no 2021 change (its change_pct is empty too)."""
    svc = services()
    svc = svc[~((svc["region_code"] == "B") & (svc["year"] == 2020))]
    ch = gep_change(svc, summary(svc), tier=2)
    assert set(ch.loc[ch["region_code"] == "B", "year"]) == set()
    assert set(ch.loc[ch["region_code"] == "A", "year"]) == {2020, 2021}


def test_one_year_gives_an_empty_table():
    svc = services()
    svc = svc[svc["year"] == 2019]
    s = summarise(svc, pd.DataFrame({"region_code": ["A", "B"], "land_area_km2": [100.0, 50.0]}), tier=2,
                  region_names=pd.DataFrame({"region_code": ["A", "B"], "region_name": ["A县", "B县"]}),
                  years=[2019], constant_year=2010)
    ch = gep_change(svc, s, tier=2)
    assert ch.empty and list(ch.columns) == CHANGE_COLUMNS


def test_tier1_change_leaves_out_supporting_services_as_gep_does():
    """With gep_tier 1 GEP sums the Tier-1 rows without the supporting services (ESV only); the change by item
    must add up to the same GEP change: +30 (regulating) − 0 (cultural), the supporting +1000 left out."""
    rows = []
    for year, (reg, sup, cul) in {2019: (100, 50, 10), 2020: (130, 1050, 10)}.items():
        for service, cat, wan in (("t1_climate", "regulating", reg), ("t1_soil", "supporting", sup),
                                  ("t1_landscape", "cultural", cul)):
            rows.append({"region_code": "A", "region_name": "A县", "year": year, "service": service,
                         "service_zh": service, "category": cat, "tier": 1, "value_yuan": wan * WAN,
                         "value_constant_yuan": wan * WAN, "constant_price_year": 2010})
    svc = pd.DataFrame(rows)
    summ = summarise(svc, pd.DataFrame({"region_code": ["A"], "land_area_km2": [10.0]}), tier=1,
                     region_names=pd.DataFrame({"region_code": ["A"], "region_name": ["A县"]}), years=[2019, 2020],
                     constant_year=2010)
    ch = gep_change(svc, summ, tier=1)
    assert "t1_soil" not in set(ch["service"])
    total = ch[ch["service"] == TOTAL]["change_constant_yuan"].iloc[0]
    assert total == pytest.approx(30 * WAN, rel=1e-12)
    gep = summ.set_index("year")["gep_constant_yuan"]
    assert total == pytest.approx(gep[2020] - gep[2019], rel=1e-12)
