"""The Excel workbook ``lianshan_index.xlsx``: the 两山指数 table per region, laid out like the local work plans.

Sheets: ``汇总`` (regions × years × indicators, status words coloured, counts per status), one sheet per region
(目标层 / 任务层 / 序号 / 指标 / 单位 / 目标值 / 现状值 per year / 达标情况 per year / 责任单位 / 说明, group cells
merged), one sheet per computed table (forest_grass_coverage, protected_area, protected_change, gep_summary when
given), ``指标10分项`` (indicator 10's items, P/DEMO warning and change by item, when the GEP tables are there)
and ``说明`` (standard, judgement rules, sources). Every user text is written as a literal string, never
as a formula.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from copy import copy
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from gep.core.atomic import atomic_path
from gep.scorecard.gep_review import CHANGE_COLUMNS, CHANGE_HEADERS, ITEM_COLUMNS, ITEM_HEADERS, GepReview
from gep.scorecard.index import by_indicator, present, region_label
from gep.indicators.judgement import MET, NO_DATA, NOT_COMPUTED, NOT_MET, NOT_SURVEYED, STATUSES
from gep.scorecard.standard import JUDGEMENTS, LianshanStandard
from gep.scorecard.xlsx_util import (
    CENTER,
    HEADER_FILL,
    HEADER_FONT,
    LEFT,
    STATUS_FILLS,
    STATUS_FONTS,
    THIN_BORDER,
    TITLE_FONT,
    set_text,
    sheet_title,
)

#: Excel number formats by unit: the value stays a plain number (48.79, not 0.4879) and shows its unit.
NUMBER_FORMATS = {
    "%": '0.00"%"',
    "km²": '#,##0.00" km²"',
    "万元/km²": '#,##0.00" 万元/km²"',
    "种": '#,##0" 种"',
}
SUMMARY_SHEET = "汇总"
NOTES_SHEET = "说明"
GEP_SHEET = "指标10分项"
WARN_FONT = Font(bold=True, color="9C0006")
#: Number formats of the indicator-10 sheet's columns (value columns in 万元, shares in %).
GEP_FORMATS = {"quantity": "#,##0.00", "unit_price": "#,##0.00##", "price_year": "0",
               "value_wan_yuan": "#,##0.00", "value_constant_wan_yuan": "#,##0.00",
               "value_prev_wan_yuan": "#,##0.00", "change_wan_yuan": "#,##0.00", "share_of_change_pct": '0.00"%"'}
TABLE_SHEETS = ("forest_grass_coverage", "protected_area", "protected_change", "gep_summary")
REGION_HEAD = ["目标层", "任务层", "序号", "指标", "单位", "目标值"]


def _style(ws, c, fmt, bold, align, fill, font, border) -> None:
    """Style cell ``c``. Each combination (with the cell's style before) is built once per workbook and then
    copied: openpyxl's style setters hash every style object on each assignment (copying: 14.8 → 13.2 s for a
    300-region workbook, the same bytes). The style objects are module constants; the cache keeps them alive, so
    their ids stay theirs."""
    cache = ws.parent.__dict__.setdefault("_gep_styles", {})
    key = (None if c._style is None else tuple(c._style), fmt, bold, id(align), id(fill), id(font), border)
    hit = cache.get(key)
    if hit is not None:
        c._style = copy(hit[0])
        return
    if fmt:
        c.number_format = fmt
    if bold:
        c.font = HEADER_FONT
    if font is not None:
        c.font = font
    if fill is not None:
        c.fill = fill
    c.alignment = align
    if border:
        c.border = THIN_BORDER
    cache[key] = (copy(c._style), align, fill, font)


def _put(ws, row: int, col: int, value, *, fmt: str | None = None, bold: bool = False, align=CENTER,
         fill=None, font=None, border: bool = True):
    c = ws.cell(row=row, column=col)
    _style(ws, c, fmt, bold, align, fill, font, border)  # first: a literal text below may add quotePrefix
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        c.value = None
    elif isinstance(value, str):
        set_text(c, value)
    elif isinstance(value, (bool, np.bool_)):
        c.value = bool(value)
    elif isinstance(value, (int, np.integer)):
        c.value = int(value)
    elif isinstance(value, (float, np.floating)):
        c.value = float(value)
    else:
        set_text(c, str(value))
    return c


def _text(v) -> str | None:
    return str(v) if present(v) else None


def _status_cell(ws, row: int, col: int, status: str | None):
    return _put(ws, row, col, status, fill=STATUS_FILLS.get(status or ""), font=STATUS_FONTS.get(status or ""))


def _merge_runs(ws, col: int, first_row: int, labels: list[str], within: list[str] | None = None) -> None:
    """Merge vertically adjacent equal labels in ``col`` (and equal ``within`` labels: tasks inside a group)."""
    start = 0
    for k in range(1, len(labels) + 1):
        end_run = (k == len(labels) or labels[k] != labels[start]
                   or (within is not None and within[k] != within[start]))
        if end_run:
            if k - start > 1:
                ws.merge_cells(start_row=first_row + start, start_column=col, end_row=first_row + k - 1,
                               end_column=col)
            start = k


def _region_sheet(ws, df: pd.DataFrame, standard: LianshanStandard, years: list[int], code: str, name: str) -> None:
    has_resp = df["responsible_unit"].notna().any()
    ny = len(years)
    c_val = len(REGION_HEAD) + 1
    c_stat = c_val + ny
    c_resp = c_stat + ny
    c_note = c_resp + (1 if has_resp else 0)
    last = c_note
    _put(ws, 1, 1, f"{region_label(name, code)}“两山”指数评估指标", font=TITLE_FONT, border=False)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    span = f"{years[0]}–{years[-1]}" if ny > 1 else str(years[0])
    _put(ws, 2, 1, f"{standard.title}；{span} 年；指标 7、9、10 由 gep 根据地图计算，其余来自部门填报", align=LEFT,
         border=False)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    for j, h in enumerate(REGION_HEAD, start=1):
        _put(ws, 3, j, h, bold=True, fill=HEADER_FILL)
        _put(ws, 4, j, None, fill=HEADER_FILL)
        ws.merge_cells(start_row=3, start_column=j, end_row=4, end_column=j)
    for c0, label in ((c_val, "现状值"), (c_stat, "达标情况")):
        _put(ws, 3, c0, label, bold=True, fill=HEADER_FILL)
        for k, y in enumerate(years):
            if k:
                _put(ws, 3, c0 + k, None, fill=HEADER_FILL)
            _put(ws, 4, c0 + k, f"{y}年", bold=True, fill=HEADER_FILL)
        if ny > 1:
            ws.merge_cells(start_row=3, start_column=c0, end_row=3, end_column=c0 + ny - 1)
    tail = ([(c_resp, "责任单位")] if has_resp else []) + [(c_note, "说明")]
    for c, label in tail:
        _put(ws, 3, c, label, bold=True, fill=HEADER_FILL)
        _put(ws, 4, c, None, fill=HEADER_FILL)
        ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)

    first = 5
    groups, tasks = [], []
    for k, item in enumerate(by_indicator(df)):
        r = first + k
        ind, by_year = item["first"], item["by_year"]
        fmt = NUMBER_FORMATS.get(ind["unit"])
        _put(ws, r, 1, ind["group"])
        _put(ws, r, 2, ind["task"])
        _put(ws, r, 3, int(ind["indicator_no"]))
        _put(ws, r, 4, ind["indicator"], align=LEFT)
        _put(ws, r, 5, _text(ind["unit"]) or "—")
        _put(ws, r, 6, "；".join(item["targets"]))
        notes = []
        for j, y in enumerate(years):
            rec = by_year.get(y)
            if rec is None:
                _put(ws, r, c_val + j, None)
                _status_cell(ws, r, c_stat + j, None)
                continue
            text, value = _text(rec["value_text"]), rec["value"]
            if text is not None and not (isinstance(value, float) and not math.isnan(value)):
                _put(ws, r, c_val + j, text)
            elif text is not None:  # a number with a text detail (Guizhou 9: both layers' areas)
                _put(ws, r, c_val + j, value, fmt=fmt)
                notes.append(f"{y}：{text}")
            else:
                _put(ws, r, c_val + j, value, fmt=fmt)
            _status_cell(ws, r, c_stat + j, rec["status"])
            if _text(rec["note"]):
                notes.append(f"{y}：{rec['note']}")
        if has_resp:
            _put(ws, r, c_resp, item["responsible"], align=LEFT)
        _put(ws, r, c_note, "\n".join(notes) if notes else None, align=LEFT)
        groups.append(str(ind["group"]))
        tasks.append(str(ind["task"]))
    _merge_runs(ws, 1, first, groups)
    _merge_runs(ws, 2, first, tasks, within=groups)
    widths = [14, 10, 6, 34, 10, 22] + [12] * ny + [10] * ny + ([22] if has_resp else []) + [40]
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = ws.cell(row=first, column=c_val)


def _summary_sheet(ws, index: pd.DataFrame, standard: LianshanStandard) -> None:
    inds = list(standard.indicators)
    lead = ["区域代码", "区域名称", "年份"]
    c0 = len(lead) + 1
    c_cnt = c0 + len(inds)
    for j, h in enumerate(lead, start=1):
        _put(ws, 1, j, h, bold=True, fill=HEADER_FILL)
        _put(ws, 2, j, None, fill=HEADER_FILL)
        ws.merge_cells(start_row=1, start_column=j, end_row=2, end_column=j)
    for k, ind in enumerate(inds):
        _put(ws, 1, c0 + k, ind.group, bold=True, fill=HEADER_FILL)
        _put(ws, 2, c0 + k, f"{ind.no} {ind.name}", bold=True, fill=HEADER_FILL)
    _merge_runs_horizontal(ws, 1, c0, [i.group for i in inds])
    for k, s in enumerate(STATUSES):
        _put(ws, 1, c_cnt + k, "指标数", bold=True, fill=HEADER_FILL)
        _put(ws, 2, c_cnt + k, s, bold=True, fill=STATUS_FILLS.get(s))
    ws.merge_cells(start_row=1, start_column=c_cnt, end_row=1, end_column=c_cnt + len(STATUSES) - 1)
    r = 3
    col_of = {ind.no: c0 + k for k, ind in enumerate(inds)}
    for (code, year), g in index.groupby(["region_code", "year"], sort=True):
        _put(ws, r, 1, str(code))
        _put(ws, r, 2, str(g["region_name"].iloc[0]))
        _put(ws, r, 3, int(year))
        for rec in g.itertuples(index=False):
            _status_cell(ws, r, col_of[int(rec.indicator_no)], rec.status)
        counts = g["status"].value_counts()
        for k, s in enumerate(STATUSES):
            _put(ws, r, c_cnt + k, int(counts.get(s, 0)))
        r += 1
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 14
    for k in range(len(inds)):
        ws.column_dimensions[get_column_letter(c0 + k)].width = 11
    ws.row_dimensions[2].height = 60
    ws.freeze_panes = ws.cell(row=3, column=c0)


def _merge_runs_horizontal(ws, row: int, c0: int, labels: list[str]) -> None:
    start = 0
    for k in range(1, len(labels) + 1):
        if k == len(labels) or labels[k] != labels[start]:
            if k - start > 1:
                ws.merge_cells(start_row=row, start_column=c0 + start, end_row=row, end_column=c0 + k - 1)
            start = k


def _table_sheet(ws, df: pd.DataFrame) -> None:
    cols = list(df.columns)
    for j, h in enumerate(cols, start=1):
        _put(ws, 1, j, str(h), bold=True, fill=HEADER_FILL)
    for i, rec in enumerate(df.itertuples(index=False), start=2):
        for j, v in enumerate(rec, start=1):
            _put(ws, i, j, v, align=LEFT, border=False)
    for j, h in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(28, len(str(h)) + 2))
    ws.freeze_panes = "A2"


def _frame_block(ws, row: int, df: pd.DataFrame, columns: list[str], headers: list[str]) -> int:
    """Write ``df[columns]`` under Chinese ``headers`` from ``row``; the last row (合计) bold. Returns the next row."""
    for j, h in enumerate(headers, start=1):
        _put(ws, row, j, h, bold=True, fill=HEADER_FILL)
    for i, rec in enumerate(df[columns].itertuples(index=False), start=row + 1):
        last = i == row + len(df)
        for j, (col, v) in enumerate(zip(columns, rec), start=1):
            _put(ws, i, j, v, fmt=GEP_FORMATS.get(col), bold=last, align=LEFT)
    return row + len(df) + 2


def _gep_sheet(ws, review: GepReview) -> None:
    """Indicator 10 for a reviewer (docs/methods.md §5.4): scope, P/DEMO warning, the latest year's items summed
    over the level's regions and the change by item against the previous accounted year."""
    lines = [f"单位国土面积生态系统生产总值（指标 10）分项核算：{review.year or '—'}年，{review.n_regions} 个区域合计",
             "核算范围：" + ("；".join(review.scope) or "未记录"),
             "核算方案（profile）：" + ("；".join(review.profiles) or "未记录")]
    for r, text in enumerate(lines, start=1):
        _put(ws, r, 1, text, align=LEFT, border=False, font=TITLE_FONT if r == 1 else None)
    row = len(lines) + 1
    if review.warning:
        _put(ws, row, 1, review.warning, align=LEFT, border=False, font=WARN_FONT)
        row += 1
    row += 1
    if len(review.items):
        row = _frame_block(ws, row, review.items, ITEM_COLUMNS, ITEM_HEADERS)
    else:
        _put(ws, row, 1, "未找到 gep_services：无分项数据。", align=LEFT, border=False)
        row += 2
    if len(review.change):
        per_km2 = review.change_per_km2_wan_yuan
        _put(ws, row, 1, f"{review.year}年较 {review.change_year_prev}年的分项变化（可比价，{review.n_change_regions} "
             f"个区域合计；单位国土面积变化 {per_km2:,.4f} 万元/km²）", bold=True, align=LEFT, border=False)
        _frame_block(ws, row + 1, review.change, CHANGE_COLUMNS, CHANGE_HEADERS)
    for j, w in enumerate([22, 14, 10, 16, 12, 12, 16, 12, 16, 16, 10, 50], start=1):
        ws.column_dimensions[get_column_letter(j)].width = w


def _notes_sheet(ws, standard: LianshanStandard, notes: list[str]) -> None:
    lines = [
        ["标准", f"{standard.title}（{standard.name}）"],
        ["来源", standard.source],
        ["文件", standard.path],
        ["状态", f"{MET} / {NOT_MET} / {NOT_COMPUTED}（缺值或无法判断）/ {NOT_SURVEYED} / {NO_DATA}"],
        ["价格", "单位国土面积生态系统生产总值（指标 10）的现状值为当年价，“稳定提高”按可比价判定"],
        ["表格", "全部计算表（区域代码为文本，中英文列名与单位）见同一文件夹的 tables.xlsx"],
        [],
        ["序号", "指标", "单位", "目标值", "判定方式", "数据来源", "依据", "标记"],
    ]
    for ind in standard.indicators:
        how = JUDGEMENTS[ind.judgement]
        if ind.judgement == "trend":
            how += f"（{'逐年' if ind.trend_rule == 'previous' else '自首年起每年'}"\
                   f"{'严格提高' if ind.trend_strict else '不低于上一年'}）"
        data = {"department": "部门填报", "coverage": "gep: forest_grass_coverage",
                "protected": "gep: protected_change", "gep": "gep: gep_summary"}[ind.data]
        lines.append([ind.no, ind.name, ind.unit or "—", ind.target, how, data, ind.source,
                      ind.status + (f"；{ind.note}" if ind.note else "")])
    if notes:
        lines += [[], ["注意"]] + [[n] for n in notes]
    for i, line in enumerate(lines, start=1):
        for j, v in enumerate(line, start=1):
            _put(ws, i, j, v, align=LEFT, border=False, bold=(j == 1 and i <= 6) or i == 8)
    for j, w in enumerate([8, 36, 10, 28, 30, 28, 40, 16], start=1):
        ws.column_dimensions[get_column_letter(j)].width = w


def write_workbook(path: str | Path, index: pd.DataFrame, standard: LianshanStandard, *,
                   tables: Mapping[str, pd.DataFrame | None] | None = None, notes: list[str] | None = None,
                   gep: GepReview | None = None) -> Path:
    """Write ``lianshan_index.xlsx`` (atomically) from the ``lianshan_index`` table; returns the path.

    ``tables``: computed tables to copy into their own sheets (name → DataFrame; None entries skipped).
    ``notes``: warnings to list on the 说明 sheet. ``gep``: indicator 10's items, warning and change
    (:func:`gep.scorecard.gep_review.gep_review`) for the 指标10分项 sheet.
    """
    path = Path(path)
    years = sorted(int(y) for y in index["year"].unique()) if len(index) else []
    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET
    taken = {SUMMARY_SHEET, NOTES_SHEET, GEP_SHEET, *TABLE_SHEETS}
    _summary_sheet(ws, index, standard)
    for code, g in index.groupby("region_code", sort=True):
        name = str(g["region_name"].iloc[0])
        title = sheet_title(name if name else str(code), taken)
        _region_sheet(wb.create_sheet(title), g, standard, years, str(code), name)
    if gep is not None:
        _gep_sheet(wb.create_sheet(GEP_SHEET), gep)
    for name in TABLE_SHEETS:
        df = (tables or {}).get(name)
        if df is not None:
            _table_sheet(wb.create_sheet(name), df)
    _notes_sheet(wb.create_sheet(NOTES_SHEET), standard, notes or [])
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


__all__ = ["NUMBER_FORMATS", "write_workbook"]
