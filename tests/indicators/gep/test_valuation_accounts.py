"""Prices, deflators, constant prices and the 稳定提高 verdict (gep.indicators.gep.accounts, params)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.core.errors import InputError
from gep.indicators.gep.accounts import YUAN_PER_WAN, apply_prices, summarise
from gep.indicators.gep.params import load_deflator, load_prices


def rows(records):
    cols = ["region_code", "region_name", "year", "service", "service_zh", "category", "tier", "quantity",
            "quantity_unit", "base_price", "price_year", "price_unit", "given_value_yuan", "method", "source"]
    df = pd.DataFrame(records, columns=cols)
    for c in ("quantity", "base_price", "price_year", "given_value_yuan"):
        df[c] = df[c].astype(float)
    return df


def deflator(tmp_path, text="year,index\n2010,100\n2019,110\n2020,125\n2021,120\n"):
    p = tmp_path / "d.csv"
    p.write_text(text, encoding="utf-8")
    return load_deflator(p)


def test_current_and_constant_prices(tmp_path):
    d = deflator(tmp_path)
    r = rows([
        ("A", "a", 2020, "water_conservation", "水源涵养", "regulating", 2, 1000.0, "m³", 10.0, 2010, "元/m³",
         np.nan, "m", "s"),
        ("A", "a", 2020, "agriculture", "农业产品", "provisioning", 2, np.nan, "", np.nan, np.nan, "", 5e6, "m", "s"),
    ])
    out = apply_prices(r, d, 2010).set_index("service")
    w = out.loc["water_conservation"]
    assert w["unit_price"] == pytest.approx(12.5)                  # 10 元/m³ of 2010 × 125/100
    assert w["value_yuan"] == pytest.approx(12_500.0)
    assert w["value_constant_yuan"] == pytest.approx(10_000.0)     # constant prices of 2010
    a = out.loc["agriculture"]
    assert a["value_yuan"] == pytest.approx(5e6)                   # given in current prices of 2020
    assert a["value_constant_yuan"] == pytest.approx(5e6 * 100 / 125)
    # another constant-price year: 2019 prices
    out19 = apply_prices(r, d, 2019).set_index("service")
    assert out19.loc["water_conservation", "value_constant_yuan"] == pytest.approx(1000 * 10 * 110 / 100)
    assert out19.loc["agriculture", "value_constant_yuan"] == pytest.approx(5e6 * 110 / 125)


def test_price_year_without_deflator_is_an_error(tmp_path):
    d = deflator(tmp_path, "year,index\n2019,110\n2020,125\n")
    r = rows([("A", "a", 2020, "water_conservation", "水源涵养", "regulating", 2, 1.0, "m³", 7.06, 2010, "元/m³",
               np.nan, "m", "s")])
    with pytest.raises(InputError, match=r"no deflator for year\(s\) 2010"):
        apply_prices(r, d, 2020)


def test_deflator_files(tmp_path):
    demo = load_deflator("deflator_demo")
    assert "DEMO" in demo.status and demo.index[2010] == 100.0
    assert demo.factor(2010, 2020) == pytest.approx(demo.index[2020] / 100.0)
    (tmp_path / "bad.csv").write_text("year,index\n2010,abc\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        load_deflator(tmp_path / "bad.csv")
    (tmp_path / "dup.csv").write_text("year,index\n2010,1\n2010,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="appears twice"):
        load_deflator(tmp_path / "dup.csv")
    (tmp_path / "neg.csv").write_text("year,index\n2010,-1\n", encoding="utf-8")
    with pytest.raises(InputError, match="positive"):
        load_deflator(tmp_path / "neg.csv")


def test_price_table_is_versioned_and_marked():
    p = load_prices()
    assert p.base_year == 2010 and "NOT national defaults" in p.file.status and "Dolkar" in p.file.source
    assert p.prices["water_storage"] == (7.06, "元/m³")
    assert p.prices["dredging"][0] == 15.58 and p.prices["carbon"][0] == 380.0
    assert p.prices["oxygen"][0] == 727.0 and p.prices["electricity"][0] == 0.53
    with pytest.raises(InputError, match="price 'sulphur' is missing"):
        p.get("sulphur", "test")


def _services(values):
    """gep_services-like frame: region A, tier 2, one row per year with the given constant-price values."""
    recs = []
    for y, v in values.items():
        recs.append({"region_code": "A", "year": y, "tier": 2, "category": "regulating", "value_yuan": v * 1.1,
                     "value_constant_yuan": v})
    return pd.DataFrame(recs)


def test_summary_per_km2_in_wan_yuan_and_verdicts():
    svc = _services({2019: 2e8, 2020: 2.2e8, 2021: 2.1e8, 2022: 2.3e8})
    land = pd.DataFrame({"region_code": ["A"], "land_area_km2": [50.0]})
    names = pd.DataFrame({"region_code": ["A"], "region_name": ["a"]})
    s = summarise(svc, land, tier=2, region_names=names, years=[2019, 2020, 2021, 2022], rule="previous",
                  constant_year=2010)
    assert YUAN_PER_WAN == 1e4
    # 2e8 元 × 1.1 / 50 km² = 4.4e6 元/km² = 440 万元/km²
    assert s.loc[0, "gep_per_km2_wan_yuan"] == pytest.approx(440.0)
    assert s.loc[0, "gep_constant_per_km2_wan_yuan"] == pytest.approx(400.0)
    np.testing.assert_allclose(s["change_pct"].to_numpy()[1:], [10.0, -100 / 22, 100 * 0.2 / 2.1])
    assert s["verdict"].tolist() == ["无数据", "达标", "不达标", "达标"]
    m = summarise(svc, land, tier=2, region_names=names, years=[2019, 2020, 2021, 2022], rule="monotone",
                  constant_year=2010)
    assert m["verdict"].tolist() == ["无数据", "达标", "不达标", "不达标"]  # once broken, the trend stays broken
    t = summarise(svc, land, tier=2, region_names=names, years=[2019, 2020, 2021, 2022], rule="previous",
                  min_change_pct=5.0, constant_year=2010)
    assert t["verdict"].tolist() == ["无数据", "达标", "不达标", "达标"]
    # the verdict uses constant prices: a pure price rise is not an ecological gain
    infl = pd.DataFrame([{"region_code": "A", "year": 2019, "tier": 2, "category": "regulating",
                          "value_yuan": 1e8, "value_constant_yuan": 1e8},
                         {"region_code": "A", "year": 2020, "tier": 2, "category": "regulating",
                          "value_yuan": 1.2e8, "value_constant_yuan": 0.99e8}])
    v = summarise(infl, land, tier=2, region_names=names, years=[2019, 2020], constant_year=2010)
    assert v["verdict"].tolist() == ["无数据", "不达标"]


def test_summary_marks_missing_years():
    svc = _services({2019: 1e8})
    land = pd.DataFrame({"region_code": ["A"], "land_area_km2": [10.0]})
    names = pd.DataFrame({"region_code": ["A"], "region_name": ["a"]})
    s = summarise(svc, land, tier=2, region_names=names, years=[2019, 2020], constant_year=2010)
    assert s["verdict"].tolist() == ["无数据", "暂未核算"]
    assert np.isnan(s.loc[1, "gep_yuan"])
