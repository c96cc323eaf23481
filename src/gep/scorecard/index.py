"""The ``lianshan_index`` table: every 两山指数 indicator per region and year, with its value and status.

Inputs: the pipeline's tidy tables (``forest_grass_coverage`` for 7, ``protected_change`` for 9, ``gep_summary``
for 10; any may be absent, giving 暂未核算) and the department template read by
:func:`gep.scorecard.template.read_template` (the other 17; absent → every cell empty → 暂未核算 / 暂未调查).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from gep.core.errors import InputError
from gep.scorecard.judge import (
    INCOMPLETE,
    NOT_COMPUTED,
    NOT_MET,
    STATUS_WORDS,
    STATUSES,
    Judgement,
    judge_no_decrease,
    judge_text,
    judge_threshold,
    judge_trend,
    status_from_gep,
    status_from_meets,
    status_from_protected,
)
from gep.scorecard.standard import Indicator, LianshanStandard
from gep.scorecard.template import DepartmentData, _region_frame

INDEX_COLUMNS = ["region_code", "region_name", "year", "group", "task", "indicator_no", "indicator", "unit",
                 "target", "value", "value_text", "status", "note", "source", "responsible_unit"]
INDEX_UNITS = {"value": "the row's unit column (%, km², 万元/km², 种)", "year": "calendar year",
               "status": " / ".join(STATUSES),
               "source": "pipeline (computed by gep from maps) or department (filled template)"}

_NEED = {
    "coverage": ("forest_grass_coverage", ["region_code", "year", "coverage_pct", "meets_target"]),
    "protected": ("protected_change", ["region_code", "layer", "type", "year", "area_km2", "verdict"]),
    "gep": ("gep_summary", ["region_code", "year", "gep_per_km2_wan_yuan", "verdict"]),
}
LAYER_LABELS = {"redline": "生态保护红线", "protected": "自然保护地"}


def _check(df: pd.DataFrame | None, kind: str) -> pd.DataFrame | None:
    if df is None:
        return None
    name, cols = _NEED[kind]
    lacking = [c for c in cols if c not in df.columns]
    if lacking:
        raise InputError(f"table {name} lacks column(s) {', '.join(lacking)}; pass the table written by the "
                         "pipeline")
    out = df.copy()
    out["region_code"] = out["region_code"].astype(str)
    out["year"] = out["year"].astype("int64")
    return out


def _fmt(x: float, digits: int = 2) -> str:
    return f"{x:,.{digits}f}"


def lianshan_index(standard: LianshanStandard, years: Iterable[int], regions, *,
                   coverage: pd.DataFrame | None = None, protected_change: pd.DataFrame | None = None,
                   gep_summary: pd.DataFrame | None = None, department: DepartmentData | None = None,
                   decimals: int = 6) -> pd.DataFrame:
    """One row per region × year × indicator of ``standard``, in table order.

    Columns :data:`INDEX_COLUMNS`: ``value`` is a number in ``unit`` (NaN for text answers and missing
    values), ``value_text`` the text answer or the status word written by a department, ``status`` the
    judgement (达标 / 不达标 / 暂未核算 / 暂未调查 / 无数据), ``note`` why, ``source`` pipeline or department.
    Indicator 7 takes the pipeline's ``meets_target`` (its target depends on the region's terrain type and the
    row's ``target`` says which), 9 the ``protected_change`` verdicts (type "all") of the indicator's layers,
    10 the ``gep_summary`` verdict.
    """
    years = sorted({int(y) for y in years})
    reg = _region_frame(regions)
    cov = _check(coverage, "coverage")
    prot = _check(protected_change, "protected")
    gep = _check(gep_summary, "gep")
    if prot is not None:
        prot = prot[(prot["type"].astype(str) == "all") & (prot["region_code"] != "__outside__")]
    dep_vals = department.values if department is not None else pd.DataFrame(
        columns=["region_code", "indicator_no", "item", "year", "value", "value_text", "cell"])
    dep_rows = department.rows if department is not None else pd.DataFrame(
        columns=["region_code", "indicator_no", "item", "responsible_unit", "note"])
    cell_of = {(str(r.region_code), int(r.indicator_no), r.item, int(r.year)):
               (float(r.value), None if pd.isna(r.value_text) else str(r.value_text))
               for r in dep_vals.itertuples(index=False)}
    resp_of = {(str(r.region_code), int(r.indicator_no)): r.responsible_unit
               for r in dep_rows.itertuples(index=False) if r.item == "value" and not pd.isna(r.responsible_unit)}
    cov_of = {(r["region_code"], r["year"]): r for r in cov.to_dict("records")} if cov is not None else {}
    gep_of = {(r["region_code"], r["year"]): r for r in gep.to_dict("records")} if gep is not None else {}
    prot_of = ({(r["region_code"], str(r["layer"]), r["year"]): r for r in prot.to_dict("records")}
               if prot is not None else {})

    rows: list[dict] = []
    for code, name in zip(reg["region_code"], reg["region_name"]):
        for order, ind in enumerate(standard.indicators):
            series = {y: cell_of.get((code, ind.no, "value", y), (math.nan, None)) for y in years}
            refs = {y: cell_of.get((code, ind.no, "reference", y), (math.nan, None)) for y in years}
            for y in years:
                base = {"region_code": code, "region_name": name, "year": y, "group": ind.group,
                        "task": ind.task, "indicator_no": ind.no, "indicator": ind.name, "unit": ind.unit,
                        "target": ind.target, "source": "pipeline" if ind.computed else "department",
                        "responsible_unit": resp_of.get((code, ind.no)), "_order": order}
                if ind.data == "coverage":
                    base.update(_coverage_row(ind, cov_of.get((code, y)), cov is not None))
                elif ind.data == "protected":
                    base.update(_protected_row(ind, {layer: prot_of.get((code, layer, y)) for layer in ind.layers},
                                               prot is not None))
                elif ind.data == "gep":
                    base.update(_gep_row(gep_of.get((code, y)), gep is not None))
                else:
                    base.update(_department_row(ind, series, refs, y, decimals))
                rows.append(base)
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=INDEX_COLUMNS)
    df = df.sort_values(["region_code", "year", "_order"], kind="stable").reset_index(drop=True)
    df["value"] = df["value"].astype(float)
    df["indicator_no"] = df["indicator_no"].astype("int64")
    df["year"] = df["year"].astype("int64")
    for c in ("value_text", "note", "responsible_unit"):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df[INDEX_COLUMNS]


def _department_row(ind: Indicator, series: dict, refs: dict, year: int, decimals: int) -> dict:
    value, text = series[year]
    if text is not None and ind.numeric:  # a status word written into a numeric cell
        return {"value": math.nan, "value_text": text, "status": text, "note": "部门填报"}
    numbers = {y: (v if t is None else math.nan) for y, (v, t) in series.items()}
    if ind.judgement == "threshold":
        if ind.reference:
            ref, ref_text = refs[year]
            j = judge_threshold(value, ref if ref_text is None else math.nan, ind.comparison,
                                missing_status=ind.missing_status, decimals=decimals, unit=ind.unit)
            if j.status == NOT_COMPUTED and j.note == "缺少参考值":
                j = Judgement(NOT_COMPUTED, f"缺少{ind.reference}")
            elif j.note:
                j = Judgement(j.status, f"{j.note}（{ind.reference}）")
        else:
            j = judge_threshold(value, ind.threshold, ind.comparison, missing_status=ind.missing_status,
                                decimals=decimals, unit=ind.unit)
    elif ind.judgement == "trend":
        j = judge_trend(numbers, year, rule=ind.trend_rule, strict=ind.trend_strict,
                        missing_status=ind.missing_status, decimals=decimals)
    elif ind.judgement == "no_decrease":
        j = judge_no_decrease(numbers, year, missing_status=ind.missing_status, decimals=decimals)
    else:
        if text is not None and text in STATUS_WORDS:
            return {"value": math.nan, "value_text": text, "status": text, "note": "部门填报"}
        j = judge_text(ind.judgement, text, missing_status=ind.missing_status)
    return {"value": value if ind.numeric else math.nan, "value_text": text, "status": j.status, "note": j.note}


def _coverage_row(ind: Indicator, row: dict | None, have_table: bool) -> dict:
    if row is None or pd.isna(row.get("coverage_pct")):
        why = "未计算林草覆盖率（缺少 forest_grass_coverage）" if not have_table else "该区域该年无林草覆盖率"
        return {"value": math.nan, "value_text": None, "status": NOT_COMPUTED, "note": why}
    status = status_from_meets(row.get("meets_target"))
    incomplete = row.get("data_complete") is not None and not pd.isna(row.get("data_complete")) \
        and not bool(row.get("data_complete"))
    if incomplete:  # too much of the region without land-cover data to judge it (docs/methods.md §2.4)
        status = INCOMPLETE
    target = ind.target
    ttype, tpct, comp = row.get("terrain_type"), row.get("target_pct"), row.get("comparison")
    if isinstance(ttype, str) and tpct is not None and not pd.isna(tpct):
        target = f"{ttype}{comp if isinstance(comp, str) else ind.comparison}{float(tpct):g}%"
    note = ""
    gap = row.get("gap_pct")
    if status == NOT_MET and gap is not None and not pd.isna(gap) and gap > 0:
        note = f"差 {_fmt(float(gap))} 个百分点"
        if row.get("gap_km2") is not None and not pd.isna(row.get("gap_km2")):
            note += f"（约 {_fmt(float(row['gap_km2']))} km² 林草）"
    if incomplete:
        note = (f"仅 {_fmt(float(row['mapped_pct']))}% 的面积有土地覆盖数据；按有数据面积计林草覆盖率为 "
                f"{_fmt(float(row['coverage_mapped_pct']))}%")
    return {"value": float(row["coverage_pct"]), "value_text": None, "status": status, "note": note,
            "target": target}


def _protected_row(ind: Indicator, rows: dict[str, dict | None], have_table: bool) -> dict:
    if not have_table:
        return {"value": math.nan, "value_text": None, "status": NOT_COMPUTED,
                "note": "未计算生态保护红线面积（缺少 protected_change）"}
    j = status_from_protected({layer: (None if r is None else r.get("verdict")) for layer, r in rows.items()})
    first = rows.get(ind.layers[0])
    value = float(first["area_km2"]) if first is not None and not pd.isna(first.get("area_km2")) else math.nan
    text = None
    if len(rows) > 1:
        parts = [f"{LAYER_LABELS.get(k, k)} {_fmt(float(r['area_km2']))} km²" if r is not None else
                 f"{LAYER_LABELS.get(k, k)} 暂未核算" for k, r in rows.items()]
        text = "；".join(parts)
    notes = [j.note] if j.note else []
    if first is not None and not pd.isna(first.get("delta_km2")):
        notes.append(f"较上一年 {float(first['delta_km2']):+,.4f} km²")
    return {"value": value, "value_text": text, "status": j.status, "note": "；".join(notes)}


def _gep_row(row: dict | None, have_table: bool) -> dict:
    if row is None:
        why = "GEP 暂未核算（缺少 gep_summary）" if not have_table else "该区域该年无 GEP"
        return {"value": math.nan, "value_text": None, "status": NOT_COMPUTED, "note": why}
    j = status_from_gep(row.get("verdict"))
    v = row.get("gep_per_km2_wan_yuan")
    notes = [j.note] if j.note else []
    ch = row.get("change_pct")
    if ch is not None and not pd.isna(ch):
        notes.append(f"可比价变化 {float(ch):+.2f}%")
    notes.append("现状值为当年价，判定按可比价")  # the value and the verdict use different prices: say so
    return {"value": float(v) if v is not None and not pd.isna(v) else math.nan, "value_text": None,
            "status": j.status, "note": "；".join(notes)}


def consistency_notes(standard: LianshanStandard, coverage: pd.DataFrame | None) -> list[str]:
    """A warning when the run's 林草覆盖率 table was judged with another coverage standard than the one the
    list's indicator 7 names (its targets and comparison are that standard's, stored there only)."""
    notes: list[str] = []
    ind = next((i for i in standard.indicators if i.data == "coverage"), None)
    if ind is None or coverage is None or coverage.empty or "standard" not in coverage.columns:
        return notes
    used = sorted(set(coverage["standard"].dropna().astype(str)))
    if ind.coverage_standard and used and used != [ind.coverage_standard]:
        notes.append(f"林草覆盖率表按覆盖率标准“{', '.join(used)}”判定，而指标表“{standard.name}”的指标 {ind.no} "
                     f"要求“{ind.coverage_standard}”：请以 coverage.standard: {ind.coverage_standard} 重新运行覆盖率步骤。"
                     f"forest_grass_coverage was judged with coverage standard '{', '.join(used)}', but standard "
                     f"'{standard.name}' names '{ind.coverage_standard}' for indicator {ind.no}; rerun the coverage "
                     f"stage with coverage.standard: {ind.coverage_standard}")
    return notes


def summary_counts(index: pd.DataFrame) -> pd.DataFrame:
    """Number of indicators per status word for each region and year (columns: the status words)."""
    if index.empty:
        return pd.DataFrame(columns=["region_code", "region_name", "year", *STATUSES])
    t = pd.crosstab([index["region_code"], index["region_name"], index["year"]], index["status"])
    for s in STATUSES:
        if s not in t.columns:
            t[s] = 0
    return t[list(STATUSES)].reset_index()


def region_label(name, code) -> str:
    """How a region is named to readers: "name（code）", or the code alone when the region layer has no names
    and the code stands in for them (never "430102（430102）")."""
    name, code = str(name), str(code)
    return code if name == code or not name.strip() else f"{name}（{code}）"


def present(value) -> bool:
    """A cell of the index table holds a value (not None, NaN or pd.NA)."""
    return not (value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)))


def by_indicator(region_rows: pd.DataFrame) -> list[dict]:
    """One region's rows of the index table grouped per indicator, in order of first appearance, as plain
    records (pandas indexing per indicator and year cost the workbook and the report more than writing them).

    Each item: ``first`` (the indicator's first record: group, task, indicator, unit…), ``by_year`` (year →
    record; the first record of a year), ``targets`` (distinct target texts, in order) and ``responsible``
    (the first responsible unit given, or None).
    """
    records: dict = {}
    for rec in region_rows.to_dict("records"):
        records.setdefault(rec["indicator_no"], []).append(rec)
    out = []
    for recs in records.values():
        out.append({
            "first": recs[0],
            "by_year": {int(rec["year"]): rec for rec in reversed(recs)},
            "targets": list(dict.fromkeys(str(rec["target"]) for rec in recs if present(rec["target"]))),
            "responsible": next((rec["responsible_unit"] for rec in recs if present(rec["responsible_unit"])),
                                None),
        })
    return out


__all__ = ["INDEX_COLUMNS", "INDEX_UNITS", "by_indicator", "consistency_notes", "lianshan_index", "present",
           "region_label", "summary_counts"]
