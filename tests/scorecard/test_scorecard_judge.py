"""两山指数 judgements at their boundaries, and the indicator lists (standards) as data."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from gep.core.errors import InputError
from gep.scorecard import lianshan_index, load_lianshan_standard
from gep.scorecard.judge import (
    MET,
    NO_DATA,
    NOT_COMPUTED,
    NOT_MET,
    NOT_SURVEYED,
    judge_no_decrease,
    judge_text,
    judge_threshold,
    judge_trend,
    passes,
    status_from_gep,
    status_from_meets,
    status_from_protected,
    text_answer,
)
from gep.scorecard.standard import available_standards
from gep.scorecard.template import DepartmentData

NAN = float("nan")


# ------------------------------------------------------------------------------------------------ threshold


@pytest.mark.parametrize("value, comparison, expected", [
    (90.0, ">", NOT_MET),          # exactly at a strict target fails (">90%")
    (90.000001, ">", MET),
    (89.999999, ">", NOT_MET),
    (90.0, "≥", MET),              # exactly at a non-strict target passes ("100%", Guizhou "≥")
    (90.0, ">=", MET),
    (89.999999, "≥", NOT_MET),
])
def test_threshold_boundaries(value, comparison, expected):
    assert judge_threshold(value, 90.0, comparison).status == expected


def test_threshold_float_noise_does_not_flip_the_boundary():
    value = 0.1 * 3 * 100  # 30.000000000000004
    assert value > 30
    assert judge_threshold(value, 30.0, ">").status == NOT_MET
    assert passes(value, 30.0, "≥")


def test_threshold_missing_value_and_missing_reference():
    assert judge_threshold(None, 90, ">").status == NOT_COMPUTED
    assert judge_threshold(NAN, 90, ">").status == NOT_COMPUTED
    assert judge_threshold(None, 95, ">", missing_status=NOT_SURVEYED).status == NOT_SURVEYED
    j = judge_threshold(91.0, None, ">")
    assert j.status == NOT_COMPUTED and "参考值" in j.note


def test_unknown_comparison_is_a_bug():
    with pytest.raises(ValueError):
        passes(1, 1, "<")


# ------------------------------------------------------------------------------------------------ trend


def test_trend_equal_values_are_no_improvement_unless_a_standard_lets_stable_count():
    s = {2019: 50.0, 2020: 50.0}
    assert judge_trend(s, 2020).status == NOT_MET          # 稳定提高 needs a rise (docs/methods.md §5)
    assert judge_trend(s, 2020, strict=True).status == NOT_MET
    j = judge_trend(s, 2020, strict=False)                   # a local standard with trend.strict: false
    assert j.status == MET and "稳定" in j.note


def test_trend_one_year_cannot_be_judged():
    assert judge_trend({2020: 50.0}, 2020).status == NOT_COMPUTED
    assert judge_trend({2019: 40.0, 2020: 50.0}, 2019).status == NOT_COMPUTED  # first year of a series
    assert judge_trend({2019: NAN, 2020: 50.0}, 2020).status == NOT_COMPUTED   # earlier year without a value


def test_trend_decrease_and_increase():
    assert judge_trend({2019: 50.0, 2020: 49.99}, 2020).status == NOT_MET
    j = judge_trend({2019: 50.0, 2020: 50.01}, 2020, strict=True)
    assert j.status == MET and "提高" in j.note


def test_trend_missing_value_gives_missing_status():
    assert judge_trend({2019: 50.0, 2020: None}, 2020).status == NOT_COMPUTED
    assert judge_trend({2019: 50.0}, 2020, missing_status=NOT_SURVEYED).status == NOT_SURVEYED


def test_trend_gap_compares_with_latest_earlier_value():
    s = {2019: 50.0, 2020: NAN, 2021: 51.0}
    j = judge_trend(s, 2021)
    assert j.status == MET and "2019" in j.note


def test_trend_rule_previous_vs_monotone():
    s = {2019: 90.0, 2020: 80.0, 2021: 85.0}
    assert judge_trend(s, 2021, rule="previous").status == MET
    j = judge_trend(s, 2021, rule="monotone")
    assert j.status == NOT_MET and "2020" in j.note
    assert judge_trend({2019: 80.0, 2020: 80.0, 2021: 85.0}, 2021, rule="monotone").status == NOT_MET
    assert judge_trend({2019: 80.0, 2020: 80.0, 2021: 85.0}, 2021, rule="monotone", strict=False).status == MET
    assert judge_trend({2019: 79.0, 2020: 80.0, 2021: 85.0}, 2021, rule="monotone").status == MET


def test_trend_float_noise_is_neither_a_rise_nor_a_decrease():
    # 0.30000000000000004 vs 0.3: the rounded change is 0, so no rise (strict) and no decrease (not strict)
    assert judge_trend({2019: 0.3, 2020: 0.1 * 3}, 2020).status == NOT_MET
    assert judge_trend({2019: 0.3, 2020: 0.1 * 3}, 2020, strict=False).status == MET
    assert judge_trend({2019: 0.1 * 3, 2020: 0.3}, 2020, strict=False).status == MET


# ------------------------------------------------------------------------------------------------ no decrease


def test_no_decrease_boundaries():
    assert judge_no_decrease({2019: 76.36, 2020: 76.36}, 2020).status == MET
    assert judge_no_decrease({2019: 76.36, 2020: 76.35}, 2020).status == NOT_MET
    assert judge_no_decrease({2019: 76.36}, 2019).status == NOT_COMPUTED
    assert judge_no_decrease({2019: 1.0, 2020: None}, 2020).status == NOT_COMPUTED


def test_no_decrease_also_against_the_baseline():
    s = {2019: 100.0, 2020: 95.0, 2021: 98.0}  # 2021 ≥ 2020 but below the 2019 baseline
    j = judge_no_decrease(s, 2021)
    assert j.status == NOT_MET and "基准年" in j.note


# ------------------------------------------------------------------------------------------------ text answers


@pytest.mark.parametrize("text", ["已建立", "建立实施", "是", "已建立实施", " 已建立（2021年印发） "])
def test_established_yes(text):
    assert judge_text("established", text).status == MET


@pytest.mark.parametrize("text", ["未建立", "正在探索建立", "否"])
def test_established_no(text):
    assert judge_text("established", text).status == NOT_MET


def test_obtained_answers():
    assert judge_text("obtained", "已获得（国家森林城市）").status == MET
    assert judge_text("obtained", "获得").status == MET
    assert judge_text("obtained", "未获得").status == NOT_MET
    assert judge_text("obtained", "").status == NOT_COMPUTED
    assert judge_text("obtained", None, missing_status=NOT_SURVEYED).status == NOT_SURVEYED
    assert text_answer("obtained", "也许") is None
    assert judge_text("obtained", "也许").status == NOT_COMPUTED


# ------------------------------------------------------------------------------------------------ pipeline verdicts


def test_pipeline_statuses():
    assert status_from_meets(True) == MET
    assert status_from_meets(False) == NOT_MET
    assert status_from_meets(None) == NOT_COMPUTED
    assert status_from_meets(NAN) == NOT_COMPUTED
    assert status_from_meets(pd.NA) == NOT_COMPUTED
    assert status_from_protected({"redline": "不减少"}).status == MET
    assert status_from_protected({"redline": "基准年"}).status == MET
    assert status_from_protected({"redline": "减少"}).status == NOT_MET
    assert status_from_protected({"redline": "基准年前"}).status == NOT_COMPUTED
    assert status_from_protected({"redline": "不减少", "protected": None}).status == NOT_COMPUTED
    j = status_from_protected({"redline": "不减少", "protected": "减少"})
    assert j.status == NOT_MET and "自然保护地" in j.note
    assert status_from_gep("达标").status == MET
    assert status_from_gep("不达标").status == NOT_MET
    assert status_from_gep("无数据").status == NO_DATA
    assert status_from_gep(None).status == NOT_COMPUTED
    assert status_from_gep(NAN).status == NOT_COMPUTED


# ------------------------------------------------------------------------------------------------ standards


def test_builtin_standards():
    assert {"national", "guizhou"} <= set(available_standards())
    nat = load_lianshan_standard("national")
    assert [i.no for i in nat.indicators] == list(range(1, 21))
    assert len(nat.department()) == 17
    assert [i.no for i in nat.computed()] == [7, 9, 10]
    assert [i.group for i in nat.indicators].count("构筑绿水青山") == 10
    b = nat.by_no()
    assert (b[1].threshold, b[1].comparison) == (90.0, ">")
    assert (b[2].threshold, b[2].comparison) == (100.0, "≥")
    assert b[7].targets_pct == {"山区": 60.0, "丘陵区": 40.0, "平原区": 18.0} and b[7].comparison == ">"
    assert b[17].missing_status == NOT_SURVEYED
    assert b[18].judgement == "established" and b[16].judgement == "obtained"
    gz = load_lianshan_standard("guizhou")
    g = gz.by_no()
    assert g[1].reference and g[1].threshold is None
    assert g[3].judgement == "trend"
    assert g[7].comparison == "≥" and g[7].targets_pct["干旱半干旱地区"] == 35.0
    assert g[9].layers == ("redline", "protected") and "自然保护地面积" in g[9].name


def test_unknown_standard_name():
    with pytest.raises(InputError, match="unknown 两山指数 standard 'mars'.*national"):
        load_lianshan_standard("mars")
    with pytest.raises(InputError, match="does not exist"):
        load_lianshan_standard("/nonexistent/lianshan.yaml")


def test_bad_standard_reports_every_problem_with_file_and_key(tmp_path):
    p = tmp_path / "lianshan_local.yaml"
    p.write_text(
        "name: local\n"
        "groups: [构筑绿水青山]\n"
        "indicators:\n"
        "  - {number: 1, group: 构筑绿水青山, task: 环境质量, name: A, unit: '%', target: '>90%', judgement: guess}\n"
        "  - {number: 2, group: 构筑绿水青山, task: 环境质量, unit: '%', target: '>90%', judgement: threshold,"
        " threshold: 90, comparison: '>'}\n"
        "  - {number: 3, group: 别的, task: x, name: C, unit: '%', target: 'x', judgement: threshold, comparison: '<',"
        " threshold: 1}\n"
        "  - {number: 1, group: 构筑绿水青山, task: x, name: D, unit: '%', target: 'x', judgement: trend}\n"
        "  - {no: 5, group: 构筑绿水青山, task: x, name: E, unit: '%', target: 'x', judgement: trend}\n",
        encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_lianshan_standard(p)
    lines = err.value.lines()
    text = "\n".join(lines)
    assert all(str(p) in line for line in lines)
    assert "indicators[0].judgement" in text and "unknown judgement type" in text
    assert "indicators[1].name' is missing" in text
    assert "indicators[2].group" in text and "indicators[2].comparison" in text
    assert "indicators[3].number' = 1 repeats" in text
    assert "indicators[4]" in text and "number:" in text  # the YAML `no:` → False gotcha
    assert len(lines) >= 6


def test_bad_yaml_and_shape(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        load_lianshan_standard(p)
    p.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected a mapping"):
        load_lianshan_standard(p)


def test_local_indicator_is_judged_and_placed_in_its_group(tmp_path):
    src = load_lianshan_standard("guizhou").path
    text = Path(src).read_text(encoding="utf-8").replace(
        "local_indicators: []",
        "local_indicators:\n  - {number: 21, group: 构筑绿水青山, task: 生态状况, name: 石漠化治理率, unit: '%',"
        " target: 稳定提高, judgement: trend, source: 本地, status: P}\n")
    p = tmp_path / "lianshan_mine.yaml"
    p.write_text(text, encoding="utf-8")
    std = load_lianshan_standard(p)
    nos = [i.no for i in std.indicators]
    assert nos.index(21) == nos.index(10) + 1  # end of 构筑绿水青山, before 11
    assert std.by_no()[21].local and not std.by_no()[21].computed


def test_guizhou_indicator_1_against_the_provincial_average():
    std = load_lianshan_standard("guizhou")
    vals = pd.DataFrame([
        {"region_code": "1", "indicator_no": 1, "item": "value", "year": 2020, "value": 95.0, "value_text": None,
         "cell": "A"},
        {"region_code": "1", "indicator_no": 1, "item": "reference", "year": 2020, "value": 95.0,
         "value_text": None, "cell": "B"},
        {"region_code": "1", "indicator_no": 1, "item": "value", "year": 2021, "value": 96.0, "value_text": None,
         "cell": "C"},
        {"region_code": "1", "indicator_no": 1, "item": "reference", "year": 2021, "value": 95.5,
         "value_text": None, "cell": "D"},
        {"region_code": "1", "indicator_no": 1, "item": "value", "year": 2022, "value": 96.0, "value_text": None,
         "cell": "E"},
    ])
    dep = DepartmentData(values=vals, rows=pd.DataFrame(columns=["region_code", "indicator_no", "item",
                                                                 "responsible_unit", "note"]))
    idx = lianshan_index(std, [2020, 2021, 2022], ["1"], department=dep)
    one = idx[idx["indicator_no"] == 1].set_index("year")["status"]
    assert one[2020] == NOT_MET   # equal to the average is not "超过"
    assert one[2021] == MET
    assert one[2022] == NOT_COMPUTED  # no average given for 2022
    # Guizhou 3 is a trend; without department data every department indicator is 暂未核算 / 暂未调查
    assert set(idx.loc[idx["indicator_no"] == 17, "status"]) == {NOT_SURVEYED}
    assert set(idx.loc[idx["indicator_no"] == 7, "status"]) == {NOT_COMPUTED}
    assert math.isnan(idx.loc[idx["indicator_no"] == 9, "value"].iloc[0])


def test_coverage_with_incomplete_data_is_judged_incomplete():
    """A township with 9 % of its area without land cover: 数据不全 with the value over the mapped area beside
    it, not a bare 不达标 (docs/methods.md §2.4)."""
    from gep.scorecard.index import _coverage_row
    from gep.scorecard.standard import load_lianshan_standard

    ind = load_lianshan_standard("national").by_no()[7]
    row = {"coverage_pct": 39.6, "meets_target": False, "terrain_type": "丘陵区", "target_pct": 40.0,
           "comparison": ">", "gap_pct": 0.4, "gap_km2": 1.0, "mapped_pct": 91.0, "coverage_mapped_pct": 43.7,
           "data_complete": False}
    out = _coverage_row(ind, row, True)
    assert out["status"] == "数据不全" and out["value"] == 39.6
    assert "91.00%" in out["note"] and "43.70%" in out["note"]
    assert _coverage_row(ind, {**row, "data_complete": True}, True)["status"] == "不达标"
    assert _coverage_row(ind, {k: v for k, v in row.items() if k != "data_complete"}, True)["status"] == "不达标"
