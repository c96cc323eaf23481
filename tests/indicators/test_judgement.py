"""The one home of judgements (gep.indicators.judgement): hand-computed cases at every boundary, and the
indicators that call it (7, 9, 10) judging a value exactly at its boundary the same way."""

import math

import numpy as np
import pandas as pd
import pytest

from gep.indicators import judgement as J
from gep.indicators.coverage.index import CoverageStandard, coverage_trend
from gep.indicators.gep.accounts import verdicts as gep_verdicts
from gep.indicators.protected.areas import protected_change


# ------------------------------------------------------------------------------------------ status words

def test_status_words_and_keys():
    assert J.STATUS == {"met": "达标", "not_met": "不达标", "not_computed": "暂未核算", "not_surveyed": "暂未调查",
                        "no_data": "无数据", "incomplete": "数据不全"}
    assert J.STATUSES == ("达标", "不达标", "暂未核算", "暂未调查", "无数据", "数据不全")
    assert J.VERDICTS == {"not_decreased": "不减少", "decreased": "减少", "baseline": "基准年",
                          "before_baseline": "基准年前"}
    assert J.PROTECTED_STATUS == {"不减少": "达标", "基准年": "达标", "减少": "不达标", "基准年前": "暂未核算"}
    assert J.JUDGEMENTS["trend"] == "稳定提高" and J.JUDGEMENTS["no_decrease"] == "不减少"


def test_scorecard_uses_the_same_words():
    from gep.scorecard import judge, standard
    assert judge.STATUSES is J.STATUSES and judge.MET is J.MET and judge.PROTECTED_VERDICTS is J.PROTECTED_STATUS
    assert standard.JUDGEMENTS is J.JUDGEMENTS and standard.MISSING_STATUSES is J.MISSING_STATUSES


# ------------------------------------------------------------------------------------------ rounding

def test_rounding_policy():
    assert J.DECIMALS == 6
    assert 0.07 * 100 == 7.000000000000001 and J.rounded(0.07 * 100) == 7.0
    assert 0.57 * 100 == 56.99999999999999 and J.difference(0.57 * 100, 57) == 0.0
    assert 0.4 * 100 == 40.0 and J.difference(0.4 * 100, 40) == 0.0   # exact in binary: nothing to absorb
    assert J.difference(0.4 * 3, 1.2) == 0.0  # 1.2000000000000002
    assert math.copysign(1.0, J.rounded(-1e-12)) == 1.0  # −0.0 becomes 0.0
    assert J.difference(60.0000004, 60.0) == 0.0 and J.difference(60.000001, 60.0) == 0.000001
    np.testing.assert_array_equal(J.rounded(np.array([0.1 * 3, np.nan])), [0.3, np.nan])


# ------------------------------------------------------------------------------------------ threshold

@pytest.mark.parametrize("value,target,sign,ok", [
    (60.0, 60, ">", False),            # exactly at a strict target fails
    (60.0, 60, "≥", True),             # exactly at a non-strict target passes
    (60.0, 60, ">=", True),
    (0.4 * 100, 40, ">", False),       # 40.0: exactly at the target
    (0.4 * 100, 40, "≥", True),
    (0.07 * 100, 7, ">", False),       # 7.000000000000001 is exactly at the target, not above it
    (0.57 * 100, 57, "≥", True),       # 56.99999999999999 is exactly at the target, not below it
    (0.1 * 3 * 100, 30, ">", False),   # 30.000000000000004
    (60.000001, 60, ">", True),        # one unit of the 6th decimal is above
    (59.999999, 60, "≥", False),
    (60.0000004, 60, ">", False),      # below the 6th decimal: at the target
    (59.9999996, 60, "≥", True),
])
def test_meets(value, target, sign, ok):
    assert J.meets(value, target, sign) is ok


def test_meets_vectorised_and_unknown_sign():
    np.testing.assert_array_equal(J.meets(np.array([59.0, 60.0, 0.6 * 100]), np.array([60.0, 60.0, 60.0]), ">"),
                                  [False, False, False])
    np.testing.assert_array_equal(J.meets(np.array([59.0, 60.0, 61.0]), 60.0, "≥"), [False, True, True])
    assert not J.meets(np.nan, 60, "≥")
    with pytest.raises(ValueError, match="unknown comparison"):
        J.meets(1, 1, "<")
    assert J.comparison_sign(" >= ") == "≥" and J.comparison_sign("<") is None


# ------------------------------------------------------------------------------------------ 稳定提高

@pytest.mark.parametrize("change,minimum,ok", [
    (0.0, 0.0, False),                 # 0.00 % is not an improvement
    (-0.0, 0.0, False),
    (4e-7, 0.0, False),                # rounds to 0.000000
    (1e-6, 0.0, True),                 # the smallest kept change
    (0.3 - 0.1 * 3, 0.0, False),       # float noise −5.6e-17
    (-0.01, 0.0, False),
    (1.0, 1.0, True),                  # exactly at the minimum
    (0.999999, 1.0, False),
    (0.5, -1.0, True),                 # a negative minimum cannot let a decrease or 0 pass…
    (0.0, -1.0, False),
    (-0.5, -1.0, False),
    (float("nan"), 0.0, False),
])
def test_improved(change, minimum, ok):
    assert J.improved(change, minimum) is ok


def test_improved_vectorised():
    np.testing.assert_array_equal(J.improved(np.array([0.0, 0.1, -0.1, 1e-9])), [False, True, False, False])


# ------------------------------------------------------------------------------------------ 不减少

@pytest.mark.parametrize("value,reference,tol,ok", [
    (10.0, 10.0, 0.0, True),           # unchanged
    (0.4 * 3, 1.2, 0.0, True),         # 1.2000000000000002 vs 1.2
    (0.57 * 100, 57.0, 0.0, True),     # 56.99999999999999: −7e-15 is no decrease
    (9.999999, 10.0, 0.0, False),      # 1 m² less (km²)
    (9.9999996, 10.0, 0.0, True),      # 0.4 m² less: below the 6th decimal of a km²
    (9.5, 10.0, 0.5, True),            # exactly −tolerance passes
    (9.499999, 10.0, 0.5, False),
    (9.4, 10.0, 0.5, False),
])
def test_not_decreased(value, reference, tol, ok):
    assert J.not_decreased(value, reference, tol) is ok


def test_not_decreased_rejects_negative_tolerance():
    with pytest.raises(ValueError):
        J.not_decreased(1.0, 1.0, -0.1)


# ------------------------------------------------------------------------------------------ the callers

def test_coverage_standard_meets_at_the_boundary():
    strict = CoverageStandard("s", {"丘陵区": 40.0}, ">")
    loose = CoverageStandard("l", {"丘陵区": 40.0}, "≥")
    assert strict.meets(0.4 * 100, 40.0) is False and loose.meets(0.4 * 100, 40.0) is True
    assert strict.target_text() == "丘陵区>40%" and loose.target_text() == "丘陵区≥40%"


def test_coverage_trend_rounds_changes_once():
    cov = pd.DataFrame({"region_code": ["1", "1"], "region_name": ["a", "a"], "year": [2019, 2020],
                        "coverage_pct": [0.1 * 3, 0.3]})
    t = coverage_trend(cov)
    assert t["change_first_pp"].tolist() == [0.0, 0.0]
    assert math.copysign(1.0, t["change_prev_pp"].iloc[1]) == 1.0


def test_gep_verdict_unchanged_is_not_an_improvement():
    change = pd.Series([np.nan, 0.0, 2.0, 1e-9, -1.0, 0.5])
    first = pd.Series([True, False, False, False, False, False])
    region = pd.Series(["1"] * 6)
    assert gep_verdicts(change, first, "previous", 0.0, region) == ["无数据", "不达标", "达标", "不达标", "不达标", "达标"]
    assert gep_verdicts(change, first, "monotone", 0.0, region) == ["无数据", "不达标", "不达标", "不达标", "不达标",
                                                                    "不达标"]
    assert gep_verdicts(pd.Series([np.nan, 1.0, 0.999999]), pd.Series([True, False, False]), "previous", 1.0,
                        pd.Series(["1"] * 3)) == ["无数据", "达标", "不达标"]


def test_protected_change_uses_the_tolerance_and_rounding():
    areas = pd.DataFrame({"region_code": ["1"] * 4, "region_name": ["a"] * 4, "year": [2019, 2020, 2021, 2022],
                          "layer": ["redline"] * 4, "type": ["all"] * 4,
                          "area_km2": [57.0, 0.57 * 100, 56.9999996, 56.999]})
    v = protected_change(areas)["verdict"].tolist()
    # 56.99999999999999 and −0.4 m² are no decrease; −1000 m² is
    assert v == ["基准年", "不减少", "不减少", "减少"]
    v = protected_change(areas, tolerance_km2=0.001)["verdict"].tolist()
    assert v == ["基准年", "不减少", "不减少", "不减少"]  # exactly −tolerance
    v = protected_change(areas, tolerance_km2=0.000999)["verdict"].tolist()
    assert v[-1] == "减少"
