"""Judgements and status words of the 两山指数, in one place (docs/methods.md §5).

Every verdict gep publishes goes through the functions here: indicator 7's target comparison
(:mod:`gep.indicators.coverage.index`), indicator 9's 不减少 (:mod:`gep.indicators.protected.areas`),
indicator 10's 稳定提高 (:mod:`gep.indicators.gep.accounts`) and the scorecard's judgements of the department
indicators (:mod:`gep.scorecard.judge`).

Rounding policy (one for all): a judgement looks at the *difference* of the two numbers it compares (value −
target, value − previous value, or a change in %), rounded to :data:`DECIMALS` decimal places of the unit the
numbers are published in (%, km², 万元/km², …). Then

- threshold ``>``: difference > 0; threshold ``≥``: difference ≥ 0 (exactly at the target passes);
- 稳定提高 (:func:`improved`): difference > 0 (a change of 0.00 is **not** an improvement) and ≥ the minimum;
- 不减少 (:func:`not_decreased`): difference ≥ −tolerance.

So float noise (0.4 × 100 = 40.00000000000001, 1.1 − 0.1 = 1.0000000000000002) cannot flip a verdict, and
a value that sits exactly on its target is judged the same way wherever it is judged.
"""

from __future__ import annotations

import numpy as np

#: Decimal places (in the unit of the compared numbers) kept before any comparison.
DECIMALS = 6

# ---------------------------------------------------------------------------------------------------------
# status words (the words the published tables print), by English key

MET = "达标"
NOT_MET = "不达标"
NOT_COMPUTED = "暂未核算"   # not yet computed (no value, or nothing to compare with)
NOT_SURVEYED = "暂未调查"   # not yet surveyed (survey-based indicators without a value)
NO_DATA = "无数据"          # the first accounted year of a trend: nothing to compare with
INCOMPLETE = "数据不全"     # too much of the region without data to judge (docs/methods.md §2.4)

STATUS = {"met": MET, "not_met": NOT_MET, "not_computed": NOT_COMPUTED, "not_surveyed": NOT_SURVEYED,
          "no_data": NO_DATA, "incomplete": INCOMPLETE}
#: All status words, in report order.
STATUSES = tuple(STATUS.values())
#: Status words a department may write into a cell instead of a value.
STATUS_WORDS = (NOT_COMPUTED, NOT_SURVEYED, NO_DATA)
#: Status of an empty cell, per indicator (暂未调查 for survey-based indicators).
MISSING_STATUSES = (NOT_COMPUTED, NOT_SURVEYED)

# verdicts of the protected-area change table (indicator 9, docs/methods.md §3.2)
NOT_DECREASED = "不减少"
DECREASED = "减少"
BASELINE = "基准年"
BEFORE_BASELINE = "基准年前"
VERDICTS = {"not_decreased": NOT_DECREASED, "decreased": DECREASED, "baseline": BASELINE,
            "before_baseline": BEFORE_BASELINE}
#: protected_change verdict → status. The baseline year counts as 达标 (its area is the baseline itself);
#: years before the baseline are not judged.
PROTECTED_STATUS = {NOT_DECREASED: MET, BASELINE: MET, DECREASED: NOT_MET, BEFORE_BASELINE: NOT_COMPUTED}

# judgement types: the words the tables print as 目标值
IMPROVES = "稳定提高"
ESTABLISHED = "建立实施"
OBTAINED = "获得"
JUDGEMENTS = {
    "threshold": "阈值 (> or ≥ a number)",
    "trend": IMPROVES,
    "no_decrease": NOT_DECREASED,
    "established": ESTABLISHED,
    "obtained": OBTAINED,
}
#: Words of a passed trend step: the value rose (提高) or, where a standard lets an unchanged value pass, held (稳定).
IMPROVED, STABLE = "提高", "稳定"

#: Accepted spellings of the two comparisons → the canonical sign.
COMPARISONS = {">": ">", "≥": "≥", ">=": "≥"}


def comparison_sign(text) -> str | None:
    """The canonical comparison (">" or "≥") for ``text`` (">", "≥" or ">="), else None."""
    return COMPARISONS.get(str(text).strip()) if text is not None else None


# ---------------------------------------------------------------------------------------------------------
# the rounding policy and the comparisons


def _result(x):
    return bool(x) if np.ndim(x) == 0 else x


def rounded(x, decimals: int = DECIMALS):
    """``x`` rounded to ``decimals`` places (half to even, as numpy), −0.0 turned into 0.0; scalars or arrays."""
    out = np.round(np.asarray(x, dtype=np.float64), decimals) + 0.0
    return float(out) if out.ndim == 0 else out


def difference(value, reference, decimals: int = DECIMALS):
    """value − reference, rounded by the one policy: what every comparison below looks at."""
    return rounded(np.asarray(value, dtype=np.float64) - np.asarray(reference, dtype=np.float64), decimals)


def meets(value, target, comparison: str, decimals: int = DECIMALS):
    """True where ``value`` meets ``target`` under ``comparison`` (">": strictly above; "≥"/">=": at or above).

    Exactly at the target: passes "≥", fails ">"; 0.4 × 100 against 40 counts as exactly at the target.
    """
    sign = comparison_sign(comparison)
    if sign is None:
        raise ValueError(f"unknown comparison {comparison!r}; use '>' or '≥'")
    d = difference(value, target, decimals)
    return _result(np.greater(d, 0.0) if sign == ">" else np.greater_equal(d, 0.0))


def improved(change, min_change: float = 0.0, decimals: int = DECIMALS):
    """稳定提高 of one step: the change (a difference or a % change) rounded is > 0 and ≥ ``min_change``.

    A change that rounds to zero is no improvement; ``min_change`` (same unit) can only ask for more.
    """
    c = rounded(change, decimals)
    return _result(np.greater(c, 0.0) & np.greater_equal(c, rounded(min_change, decimals)))


def not_decreased(value, reference, tolerance: float = 0.0, decimals: int = DECIMALS):
    """不减少: value − reference, rounded, ≥ −``tolerance`` (same unit; exactly at −tolerance passes)."""
    if not tolerance >= 0:
        raise ValueError(f"tolerance {tolerance!r} must be ≥ 0")
    return _result(np.greater_equal(difference(value, reference, decimals), -rounded(tolerance, decimals)))


__all__ = [
    "BASELINE", "BEFORE_BASELINE", "COMPARISONS", "DECIMALS", "DECREASED", "ESTABLISHED", "IMPROVED", "IMPROVES",
    "INCOMPLETE", "JUDGEMENTS", "MET", "MISSING_STATUSES", "NOT_COMPUTED", "NOT_DECREASED", "NOT_MET", "NOT_SURVEYED", "NO_DATA",
    "OBTAINED", "PROTECTED_STATUS", "STABLE", "STATUS", "STATUSES", "STATUS_WORDS", "VERDICTS", "comparison_sign",
    "difference", "improved", "meets", "not_decreased", "rounded",
]
