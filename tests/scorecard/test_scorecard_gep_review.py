"""Indicator 10 for a reviewer: the per-item table, the P/DEMO warning and the change by item in the report and
the workbook (docs/methods.md §4.9, §5.4).

The fixture's gep_summary (test_scorecard_fixtures.gep_table: 100 km² each, GEP per km² 1050 / 2100 / 540 万元 in
2021 and 1100 / 2000 / 520 in 2020) is split into three items per region, in 万元 (current = constant prices):

    2021            甲       乙       丙      level        2020      甲       乙       丙      level
    water       60,000  150,000  30,000    240,000                70,000  140,000  28,000    238,000
    soil        40,000   50,000  20,000    110,000                35,000   50,000  20,000    105,000
    agriculture  5,000   10,000   4,000     19,000                 5,000   10,000   4,000     19,000
    GEP        105,000  210,000  54,000    369,000               110,000  200,000  52,000    362,000

Water at 5 元/m³ everywhere: 1.2 + 3 + 0.6 亿 m³ = 4.8 亿 m³. Soil: t at 20 元/t in 甲 and 乙 but m³ at 10 元/m³ in
丙, so neither its quantity nor its price is summed. Change 2021 vs 2020: water +2,000, soil +5,000, agriculture 0,
total +7,000 万元 (= 369,000 − 362,000); shares 28.57 %, 71.43 %, 0 %; per km² 7,000 / 300 = 23.3333 万元/km².
"""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from test_scorecard_fixtures import CODES, NAMES, YEARS, gep_table, run_dir

from gep.indicators.gep.change import gep_change
from gep.io.tables import write_table
from gep.scorecard import build_outputs
from gep.scorecard.gep_review import WARNING_HEAD, level_items, row_status, warning_text

WAN = 1e4
ITEMS = {  # service: (中文名, category, {year: [甲, 乙, 丙] 万元})
    "water_conservation": ("水源涵养", "regulating", {2020: [70_000, 140_000, 28_000], 2021: [60_000, 150_000, 30_000]}),
    "soil_retention": ("土壤保持", "regulating", {2020: [35_000, 50_000, 20_000], 2021: [40_000, 50_000, 20_000]}),
    "agriculture": ("农业产品", "provisioning", {2020: [5_000, 10_000, 4_000], 2021: [5_000, 10_000, 4_000]}),
}
PRICE = {"water_conservation": [(5.0, "m³")] * 3, "soil_retention": [(20.0, "t"), (20.0, "t"), (10.0, "m³")]}


def services(status_of) -> pd.DataFrame:
    """gep_services of 2020–2021; ``status_of(service, k)`` gives the row's status (None: no status column)."""
    rows = []
    for service, (zh, cat, by_year) in ITEMS.items():
        for year, values in by_year.items():
            for k, (code, name, wan) in enumerate(zip(CODES, NAMES, values)):
                price, unit = PRICE.get(service, [(None, None)] * 3)[k]
                yuan = wan * WAN
                row = {"region_code": code, "region_name": name, "year": year, "service": service, "tier": 2,
                       "quantity": yuan / price if price else float("nan"), "quantity_unit": unit or "",
                       "unit_price": price if price else float("nan"), "price_unit": f"元/{unit}" if unit else "",
                       "value_yuan": yuan, "method": "m", "source": "statistics.csv" if not price else "prices.yaml",
                       "service_zh": zh, "category": cat, "value_constant_yuan": yuan, "constant_price_year": 2010}
                status = status_of(service, k)
                if status is not None:
                    row["status"] = status
                rows.append(row)
    # a Tier-1 row: not part of the Tier-2 account the table shows
    rows.append({**rows[0], "service": "t1_gas", "service_zh": "气体调节", "tier": 1, "value_yuan": 9e12,
                 "value_constant_yuan": 9e12})
    return pd.DataFrame(rows)


def summary(provisional: str) -> pd.DataFrame:
    return gep_table().assign(gep_scope="tier 2: provisioning+regulating", profile="national_default",
                              provisional=provisional, constant_price_year=2010)


def _build(root, svc: pd.DataFrame, summ: pd.DataFrame):
    r = run_dir(root)
    write_table(summ, r["tables"], "gep_summary")
    write_table(svc, r["tables"], "gep_services")
    write_table(gep_change(svc, summ, tier=2), r["tables"], "gep_change")
    out = root / "out"
    build_outputs(r["tables"], out, regions=r["regions"], years=YEARS, maps=False)
    return {"out": out, "html": (out / "report" / "index.html").read_text(encoding="utf-8"),
            "wb": openpyxl.load_workbook(out / "lianshan_index.xlsx"),
            "tables": openpyxl.load_workbook(out / "tables.xlsx")}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Soil retention of 乙 rests on a DEMO price."""
    svc = services(lambda s, k: "DEMO" if (s, k) == ("soil_retention", 1) else "V")
    return _build(tmp_path_factory.mktemp("demo"), svc, summary("soil_retention"))


@pytest.fixture(scope="module")
def verified(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("v"), services(lambda s, k: "V"), summary(""))


def _rows(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def _find(rows, first):
    return next(k for k, r in enumerate(rows) if r[0] == first)


def test_workbook_items_by_hand(demo):
    ws = demo["wb"]["指标10分项"]
    rows = _rows(ws)
    assert rows[0][0] == "单位国土面积生态系统生产总值（指标 10）分项核算：2021年，3 个区域合计"
    assert rows[1][0] == "核算范围：tier 2: provisioning+regulating"
    assert rows[2][0] == "核算方案（profile）：national_default"
    h = _find(rows, "服务")
    assert rows[h][:12] == ["服务", "中文名", "类别", "功能量（合计）", "功能量单位", "单价", "单价单位",
                            "单价年份（当年价）", "价值量（当年价，万元）", "价值量（可比价，万元）", "数据状态", "来源"]
    agri, soil, water, total = rows[h + 1: h + 5]
    # water: 4.8 亿 m³ at 5 元/m³ = 240,000 万元
    assert water[:11] == ["water_conservation", "水源涵养", "调节服务", 4.8e8, "m³", 5.0, "元/m³", 2021, 240_000.0,
                          240_000.0, "V"]
    # soil: t in two regions, m³ in the third → no quantity, no single price; the weakest status is DEMO
    assert soil[:11] == ["soil_retention", "土壤保持", "调节服务", None, "各区域不同", None, "各区域不同", 2021,
                         110_000.0, 110_000.0, "DEMO"]
    # statistics rows: a value, no quantity, no price (an empty text cell reads back as None)
    assert agri[:9] == ["agriculture", "农业产品", "物质产品", None, None, None, None, None, 19_000.0]
    # the total is the level's GEP of 2021 (Tier-1 rows left out): Σ gep_yuan of gep_summary / 10⁴
    gep_2021 = gep_table().query("year == 2021")["gep_yuan"].sum() / WAN
    assert total[0] == "total" and total[1] == "合计" and total[8] == pytest.approx(gep_2021) == 369_000.0


def test_workbook_change_by_item_by_hand(demo):
    rows = _rows(demo["wb"]["指标10分项"])
    t = _find(rows, "2021年较 2020年的分项变化（可比价，3 个区域合计；单位国土面积变化 23.3333 万元/km²）")
    assert rows[t + 1][:7] == ["服务", "中文名", "类别", "上一年价值量（可比价，万元）", "本年价值量（可比价，万元）",
                               "变化（可比价，万元）", "占总变化比例（%）"]
    soil, water, agri, total = rows[t + 2: t + 6]
    assert soil[:6] == ["soil_retention", "土壤保持", "调节服务", 105_000.0, 110_000.0, 5_000.0]
    assert soil[6] == pytest.approx(500 / 7)
    assert water[3:6] == [238_000.0, 240_000.0, 2_000.0] and water[6] == pytest.approx(200 / 7)
    assert agri[5] == 0.0 and agri[6] == 0.0
    # the level's change equals the change of the summed GEP: 369,000 − 362,000
    assert total[:2] == ["total", "合计"] and total[5] == 7_000.0 and total[6] == pytest.approx(100.0)


def test_warning_on_the_sheet_the_notes_and_the_report(demo):
    warning = WARNING_HEAD + "土壤保持 soil_retention（DEMO）"
    rows = _rows(demo["wb"]["指标10分项"])
    assert rows[3][0] == warning
    assert [warning] in [r[:1] for r in _rows(demo["wb"]["说明"])]
    assert any(r[:1] == [warning] for r in _rows(demo["tables"]["说明"]))
    html = demo["html"]
    assert html.count(warning) == 2  # the summary's notes and the indicator-10 section
    for text in ("三、指标 10：生态系统生产总值分项", "2021年分项核算（3 个区域合计）", "369,000.00", "240,000.00",
                 "480,000,000.00", "各区域不同", "2021年较 2020年的分项变化", "71.43%", "28.57%", "23.3333",
                 "tier 2: provisioning+regulating", "national_default"):
        assert text in html, text
    assert "gep_change" in demo["tables"].sheetnames and "gep_services" in demo["tables"].sheetnames


def test_no_warning_when_every_row_is_verified(verified):
    assert "暂定（P）或演示（DEMO）" not in verified["html"]
    assert "369,000.00" in verified["html"]  # the per-item table is there
    for wb in (verified["wb"], verified["tables"]):
        for ws in wb.worksheets:
            assert not any(isinstance(v, str) and v.startswith(WARNING_HEAD) for r in _rows(ws) for v in r), ws.title
    rows = _rows(verified["wb"]["指标10分项"])
    assert rows[3][0] is None  # no warning line between the scope and the table


def test_status_from_older_tables():
    """Tables without a status column: the status comes from the source; provisional alone names the item too."""
    svc = pd.DataFrame({"service": ["a", "b", "c", "d"], "service_zh": ["甲项", "乙项", "丙项", "丁项"],
                        "source": ["prices.yaml [P]; f.yaml [V]", "deflator_demo.yaml [DEMO]", "prices.yaml [V]",
                                   None]})
    assert list(row_status(svc)) == ["P", "DEMO", "", ""]
    assert warning_text(None, svc) == WARNING_HEAD + "甲项 a（P）、乙项 b（DEMO）"
    # an empty status falls back to the source; a given one wins
    svc["status"] = ["V", None, "DEMO", ""]
    assert list(row_status(svc)) == ["V", "DEMO", "DEMO", ""]
    assert warning_text(pd.DataFrame({"provisional": ["x, c", ""]}), svc) == \
        WARNING_HEAD + "乙项 b（DEMO）、丙项 c（DEMO）、x（P/DEMO）"
    assert warning_text(pd.DataFrame({"provisional": [""]}), svc[svc["service"] == "a"]) is None


def test_price_record_joins_the_source():
    """Where gep_services keeps each row's price record, the item's source names it (once for equal records)."""
    svc = pd.DataFrame({"region_code": ["1", "2"], "year": [2021, 2021], "service": ["carbon"] * 2,
                        "service_zh": ["固碳"] * 2, "category": ["regulating"] * 2, "tier": [2, 2],
                        "quantity": [10.0, 30.0], "quantity_unit": ["t CO2"] * 2, "unit_price": [400.0, 400.0],
                        "price_unit": ["元/t"] * 2, "value_yuan": [4000.0, 12000.0],
                        "value_constant_yuan": [3800.0, 11400.0], "source": ["npp.tif; prices.yaml [V]"] * 2,
                        "price_record": ["carbon 380 元/t CO2, 2010, 甘孜州 [V]"] * 2})
    items = level_items(svc, None, 2021)
    carbon, total = items.iloc[0], items.iloc[1]
    assert (carbon["quantity"], carbon["unit_price"], carbon["value_wan_yuan"]) == (40.0, 400.0, 1.6)
    assert carbon["value_constant_wan_yuan"] == pytest.approx(1.52)
    assert carbon["source"] == "npp.tif; prices.yaml [V]；价格记录：carbon 380 元/t CO2, 2010, 甘孜州 [V]"
    assert total["service"] == "total" and total["value_wan_yuan"] == 1.6
