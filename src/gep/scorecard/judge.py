"""Judgements of the 两山指数: from a value (or a series of yearly values) to a status word.

Status words are those of the published tables: 达标 / 不达标 / 暂未核算 (not yet computed) / 暂未调查 (not yet
surveyed) / 无数据; they, the comparisons and the rounding policy live in :mod:`gep.indicators.judgement`
(docs/methods.md §5). Judgement types:

- ``threshold``: value > threshold (strict, as in ">90%") or value ≥ threshold (as in "100%" or Guizhou's "≥"),
  judged on the difference rounded to ``decimals``, so float noise cannot flip a value that sits exactly on
  the threshold;
- ``trend`` (稳定提高): the year's value against the previous year with a value (rule ``previous``) or every
  step from the first year on (rule ``monotone``); a step passes when the rounded change is > 0
  (``strict=True``, the default: an unchanged value is no improvement) or ≥ 0 (``strict=False``: a standard
  that lets 稳定 count). A year without an earlier value cannot be judged: 暂未核算;
- ``no_decrease`` (不减少): value ≥ the previous year's value and ≥ the first (baseline) year's value;
- ``established`` (建立实施) and ``obtained`` (获得): text answers such as 已建立 / 建立实施 / 是 or 已获得.

An empty value gives the indicator's ``missing_status`` (暂未核算, or 暂未调查 for survey-based indicators); a
cell that holds one of the status words keeps it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

import pandas as pd

from gep.indicators.judgement import (
    BASELINE,
    DECIMALS,
    IMPROVED,
    IMPROVES,
    INCOMPLETE,
    MET,
    NO_DATA,
    NOT_COMPUTED,
    NOT_DECREASED,
    NOT_MET,
    NOT_SURVEYED,
    PROTECTED_STATUS,
    STABLE,
    STATUS_WORDS,
    STATUSES,
    improved,
    meets,
    not_decreased,
)

#: Text answers (after cutting at the first bracket or colon, e.g. "已获得（国家森林城市）" → "已获得").
TEXT_ANSWERS = {
    "established": {
        True: ("已建立", "建立实施", "已建立实施", "已建立并实施", "已实施", "建立", "是"),
        False: ("未建立", "未实施", "正在建立", "正在探索建立", "探索建立中", "建设中", "否"),
    },
    "obtained": {
        True: ("已获得", "获得", "是", "有"),
        False: ("未获得", "否", "无"),
    },
}
_CUT = re.compile(r"[（(：:，,；;。\s]")

#: Verdicts of the pipeline's ``protected_change`` table → status (see :data:`gep.indicators.judgement.PROTECTED_STATUS`).
PROTECTED_VERDICTS = PROTECTED_STATUS


@dataclass(frozen=True)
class Judgement:
    """A status word and a short note saying why (Chinese, shown in the workbook and report)."""

    status: str
    note: str = ""


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def passes(value: float, threshold: float, comparison: str, decimals: int = DECIMALS) -> bool:
    """True when ``value`` meets ``threshold`` under ``comparison`` (">" strict, "≥" non-strict).

    The difference is rounded to ``decimals`` first: 0.1 × 3 × 100 = 30.000000000000004 must not pass "> 30"
    (:func:`gep.indicators.judgement.meets`).
    """
    return meets(float(value), float(threshold), comparison, decimals)


def judge_threshold(value: float | None, threshold: float | None, comparison: str, *,
                    missing_status: str = NOT_COMPUTED, decimals: int = DECIMALS, unit: str = "") -> Judgement:
    """达标 when ``value`` meets ``threshold`` (same unit), else 不达标; no value → ``missing_status``.

    A missing threshold (a per-year reference value nobody supplied) gives 暂未核算.
    """
    if _missing(value):
        return Judgement(missing_status, "无数值")
    if _missing(threshold):
        return Judgement(NOT_COMPUTED, "缺少参考值")
    ok = passes(value, threshold, comparison, decimals)
    return Judgement(MET if ok else NOT_MET, f"{_fmt(value)}{unit} {'满足' if ok else '未满足'} {comparison}"
                     f"{_fmt(threshold)}{unit}")


def _earlier(series: Mapping[int, float | None], year: int) -> list[tuple[int, float]]:
    return sorted((int(y), float(v)) for y, v in series.items() if int(y) < year and not _missing(v))


def judge_trend(series: Mapping[int, float | None], year: int, *, rule: str = "previous", strict: bool = True,
                missing_status: str = NOT_COMPUTED, decimals: int = DECIMALS) -> Judgement:
    """稳定提高 for ``year`` from the yearly values ``series`` (year → value; None/NaN = no value).

    ``rule="previous"``: compare with the latest earlier year that has a value; ``"monotone"``: every step
    between consecutive years with values, from the first up to ``year``, must pass. A step passes when the
    later value is above the earlier one after rounding (``strict=True``: :func:`gep.indicators.judgement.improved`)
    or at least equal to it (``strict=False``: an unchanged value is 稳定). Without an earlier value the trend
    cannot be judged: 暂未核算.
    """
    value = series.get(year)
    if _missing(value):
        return Judgement(missing_status, "无数值")
    earlier = _earlier(series, year)
    if not earlier:
        return Judgement(NOT_COMPUTED, f"无上一年数值，无法判断{IMPROVES}")
    seq = earlier + [(year, float(value))]
    pairs = [(seq[-2], seq[-1])] if rule == "previous" else list(pairwise(seq))

    def step_ok(a: float, b: float) -> bool:
        return improved(b - a, 0.0, decimals) if strict else not_decreased(b, a, 0.0, decimals)

    bad = [(a, b) for a, b in pairs if not step_ok(a[1], b[1])]
    if bad:
        (y0, v0), (y1, v1) = bad[0]
        return Judgement(NOT_MET, f"{y1}年 {_fmt(v1)} 低于{'或等于' if strict else ''} {y0}年 {_fmt(v0)}")
    (y0, v0), (y1, v1) = pairs[-1]
    word = IMPROVED if improved(v1 - v0, 0.0, decimals) else STABLE
    return Judgement(MET, f"{word}：{y0}年 {_fmt(v0)} → {y1}年 {_fmt(v1)}")


def judge_no_decrease(series: Mapping[int, float | None], year: int, *, missing_status: str = NOT_COMPUTED,
                      decimals: int = DECIMALS) -> Judgement:
    """不减少 for ``year``: its value ≥ the latest earlier value and ≥ the first (baseline) year's value.

    The first year with a value has nothing to compare with: 暂未核算.
    """
    value = series.get(year)
    if _missing(value):
        return Judgement(missing_status, "无数值")
    earlier = _earlier(series, year)
    if not earlier:
        return Judgement(NOT_COMPUTED, f"无上一年数值，无法判断{NOT_DECREASED}")
    (yp, vp), (yb, vb) = earlier[-1], earlier[0]
    v = float(value)
    if not not_decreased(v, vp, 0.0, decimals):
        return Judgement(NOT_MET, f"比{yp}年减少 {_fmt(vp - v)}")
    if not not_decreased(v, vb, 0.0, decimals):
        return Judgement(NOT_MET, f"比基准年{yb}减少 {_fmt(vb - v)}")
    return Judgement(MET, f"不少于{yp}年（{_fmt(vp)}）")


def text_answer(kind: str, text: str | None) -> bool | None:
    """Read a text answer of an ``established`` or ``obtained`` indicator: True, False or None (unknown).

    The text is cut at its first bracket, colon, comma or space, so "已获得（国家森林城市）" reads as 已获得.
    """
    if text is None:
        return None
    head = _CUT.split(str(text).strip(), maxsplit=1)[0]
    for answer, words in TEXT_ANSWERS[kind].items():
        if head in words:
            return answer
    return None


def judge_text(kind: str, text: str | None, *, missing_status: str = NOT_COMPUTED) -> Judgement:
    """建立实施 / 获得: 达标 for a yes-answer (已建立, 建立实施, 是, 已获得…), 不达标 for a no-answer."""
    if text is None or str(text).strip() == "":
        return Judgement(missing_status, "无数值")
    answer = text_answer(kind, text)
    if answer is None:
        return Judgement(NOT_COMPUTED, f"无法识别的填报内容“{text}”")
    return Judgement(MET if answer else NOT_MET, "")


def status_from_meets(meets) -> str:
    """Indicator 7: the pipeline's ``meets_target`` (bool; missing → 暂未核算)."""
    if meets is None or pd.isna(meets):
        return NOT_COMPUTED
    return MET if bool(meets) else NOT_MET


def status_from_protected(verdicts: Mapping[str, str | None]) -> Judgement:
    """Indicator 9: combine the ``protected_change`` verdicts of each required layer (layer → verdict or None).

    Any 减少 → 不达标; otherwise a layer without a verdict → 暂未核算; otherwise 达标.
    """
    statuses = {layer: (NOT_COMPUTED if v is None else PROTECTED_VERDICTS.get(str(v), NOT_COMPUTED))
                for layer, v in verdicts.items()}
    labels = {"redline": "生态保护红线", "protected": "自然保护地"}
    failed = [labels.get(k, k) for k, s in statuses.items() if s == NOT_MET]
    if failed:
        return Judgement(NOT_MET, "、".join(failed) + "面积减少")
    lacking = [labels.get(k, k) for k, s in statuses.items() if s != MET]
    if lacking:
        return Judgement(NOT_COMPUTED, "、".join(lacking) + "面积暂未核算")
    base = [labels.get(k, k) for k, v in verdicts.items() if v == BASELINE]
    return Judgement(MET, ("基准年：" + "、".join(base)) if base else "")


def status_from_gep(verdict) -> Judgement:
    """Indicator 10: the ``gep_summary`` verdict as it is (达标/不达标/无数据/暂未核算); anything else → 暂未核算."""
    if verdict is None or pd.isna(verdict) or str(verdict) not in STATUSES:
        return Judgement(NOT_COMPUTED, "GEP 暂未核算")
    note = "首个核算年，无上一年可比" if str(verdict) == NO_DATA else ""
    return Judgement(str(verdict), note)


def _fmt(x: float) -> str:
    return f"{float(x):.6g}"


__all__ = [
    "INCOMPLETE",
    "MET",
    "NOT_COMPUTED",
    "NOT_MET",
    "NOT_SURVEYED",
    "NO_DATA",
    "STATUSES",
    "STATUS_WORDS",
    "Judgement",
    "judge_no_decrease",
    "judge_text",
    "judge_threshold",
    "judge_trend",
    "passes",
    "status_from_gep",
    "status_from_meets",
    "status_from_protected",
    "text_answer",
]
