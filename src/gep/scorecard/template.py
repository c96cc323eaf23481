"""The department template: a blank table of the non-spatial 两山指数 indicators to fill in, and its reader.

Layout (one sheet ``填报`` in .xlsx, or a CSV with the same header): one row per region × indicator, columns
区域代码 | 区域名称 | 序号 | 指标 | 项目 | 单位 | 目标值 | one column per year | 责任单位 | 备注. ``项目`` is 现状值 (the
indicator's value) or 参考值 (a per-year reference the standard asks for, e.g. Guizhou's provincial average of
indicator 1). English column keys (region_code, region_name, indicator_no, indicator, item, unit, target,
responsible_unit, note) are accepted too.

Cells take a number in the row's unit (percentages as 0–100, "91%" or an Excel percent cell), one of the text
answers of 建立实施 / 获得 indicators (已建立 / 未建立 / 已获得 / 未获得 …), or a status word 暂未核算 / 暂未调查 /
无数据. Empty cells are allowed: they become the indicator's missing status (暂未核算, or 暂未调查).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gep.core.atomic import atomic_path
from gep.core.errors import InputError, problem
from gep.io.tables import CSV_ENCODING
from gep.scorecard.judge import STATUS_WORDS, TEXT_ANSWERS, text_answer
from gep.scorecard.standard import Indicator, LianshanStandard
from gep.scorecard.xlsx_util import HEADER_FILL, HEADER_FONT, THIN_BORDER, set_text

#: (key, Chinese header) of the fixed columns, in order; the year columns sit between 目标值 and 责任单位.
LEAD = [("region_code", "区域代码"), ("region_name", "区域名称"), ("indicator_no", "序号"), ("indicator", "指标"),
        ("item", "项目"), ("unit", "单位"), ("target", "目标值")]
TAIL = [("responsible_unit", "责任单位"), ("note", "备注")]
ITEM_VALUE, ITEM_REFERENCE = "现状值", "参考值"
_ITEMS = {"": "value", ITEM_VALUE: "value", "value": "value", ITEM_REFERENCE: "reference", "reference": "reference"}
SHEET = "填报"
_YEAR = re.compile(r"^\s*(\d{4})\s*年?\s*$")
_NUMBER = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(%|％)?\s*$")
_UNIT_ALIASES = {"％": "%", "百分比": "%", "km2": "km²", "平方公里": "km²", "—": "", "-": "", "无": ""}


def _norm_unit(u: Any) -> str:
    s = "" if u is None else str(u).strip()
    return _UNIT_ALIASES.get(s, s)


def _shown_unit(ind: Indicator) -> str:
    return ind.unit or "—"


def _region_frame(regions) -> pd.DataFrame:
    """region_code (text) and region_name from a (Geo)DataFrame or an iterable of codes."""
    if isinstance(regions, pd.DataFrame):
        if "region_code" not in regions.columns:
            raise InputError("regions table lacks 'region_code'; pass the output of gep.vector.regions.read_regions")
        df = pd.DataFrame({"region_code": regions["region_code"].astype(str),
                           "region_name": (regions["region_name"] if "region_name" in regions.columns
                                           else regions["region_code"]).astype(str)})
    else:
        codes = [str(c) for c in regions]
        df = pd.DataFrame({"region_code": codes, "region_name": codes})
    return df.drop_duplicates("region_code").sort_values("region_code", kind="stable").reset_index(drop=True)


def template_rows(standard: LianshanStandard, years: Iterable[int], regions) -> pd.DataFrame:
    """The blank template as a table: one row per region × department indicator (+ reference rows).

    Columns: the Chinese headers of :data:`LEAD`, one per year (str(year), empty), 责任单位, 备注.
    """
    years = sorted({int(y) for y in years})
    reg = _region_frame(regions)
    rows = []
    for code, name in zip(reg["region_code"], reg["region_name"]):
        for ind in standard.department():
            items = [(ITEM_VALUE, ind.name)]
            if ind.reference:
                items.append((ITEM_REFERENCE, ind.reference))
            for item, label in items:
                row = {"区域代码": code, "区域名称": name, "序号": ind.no, "指标": label, "项目": item,
                       "单位": _shown_unit(ind), "目标值": ind.target}
                row.update({str(y): None for y in years})
                row.update({"责任单位": None, "备注": None})
                rows.append(row)
    cols = [zh for _, zh in LEAD] + [str(y) for y in years] + [zh for _, zh in TAIL]
    return pd.DataFrame(rows, columns=cols)


def _instructions(standard: LianshanStandard, years: list[int]) -> list[list[str]]:
    lines = [
        ["“两山”指数部门填报表 说明"],
        [f"标准：{standard.title}（{standard.name}）；年份：{', '.join(map(str, years))}"],
        ["每行一个区域的一个指标。请在年份列填写该年数值；留空表示暂未核算（满意度类指标为暂未调查）。"],
        ["数值按“单位”列填写：百分比填 0–100 的数（如 91 或 91%），不要填“≥90%”之类文字。"],
        ["也可直接填写状态：暂未核算 / 暂未调查 / 无数据。"],
        ["建立实施类指标填写：" + " / ".join(TEXT_ANSWERS["established"][True][:3]) + "（达标）或 "
         + " / ".join(TEXT_ANSWERS["established"][False][:3]) + "（不达标）。"],
        ["获得类指标填写：已获得 / 未获得，可在括号内注明品牌，如“已获得（国家森林城市）”。"],
        ["项目为“参考值”的行填写对比用的参考数值（如当年度全省平均水平）。"],
        [("请勿修改区域代码（按文本保存，保留前导零）、序号和单位；林草覆盖率、生态保护红线面积、单位国土面积"
          "生态系统生产总值由 gep 根据地图计算，无需填写。")],
        ["责任单位、备注列可自由填写。如需为 gep 计算的指标（林草覆盖率等）登记责任单位，可添加该序号的一行，"
         "只填区域代码、序号和责任单位，年份列留空。"],
    ]
    return lines


def write_template(path: str | Path, standard: LianshanStandard, years: Iterable[int], regions) -> Path:
    """Write the blank department template to ``path`` (.xlsx or .csv), atomically; returns the path.

    ``regions``: a (Geo)DataFrame with region_code, region_name, or an iterable of codes.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise InputError(f"{path}: unknown template format '{path.suffix}'; use .xlsx or .csv")
    years = sorted({int(y) for y in years})
    if not years:
        raise InputError("--years: give at least one year")
    df = template_rows(standard, years, regions)
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            # spreadsheet programs run cells that start with = + - @ as formulas: keep region names literal
            df["区域名称"] = df["区域名称"].map(lambda v: f"'{v}" if str(v)[:1] in "=+-@" else v)
            df.to_csv(tmp, index=False, encoding=CSV_ENCODING, lineterminator="\n")  # with BOM, for Excel
        else:
            _write_xlsx(tmp, df, standard, years)
    return path


def _write_xlsx(tmp: Path, df: pd.DataFrame, standard: LianshanStandard, years: list[int]) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    cols = list(df.columns)
    for j, name in enumerate(cols, start=1):
        c = ws.cell(row=1, column=j)
        set_text(c, name)
        c.font, c.fill, c.border = HEADER_FONT, HEADER_FILL, THIN_BORDER
    by_no = standard.by_no()
    year_cols = [cols.index(str(y)) + 1 for y in years]
    text_rows: dict[str, list[str]] = {"established": [], "obtained": []}
    for i, rec in enumerate(df.itertuples(index=False), start=2):
        for j, value in enumerate(rec, start=1):
            c = ws.cell(row=i, column=j)
            if cols[j - 1] == "序号":
                c.value = int(value)
            elif value is not None and not (isinstance(value, float) and math.isnan(value)):
                set_text(c, str(value))  # user text (region names) stays literal, never a formula
            c.border = THIN_BORDER
        ws.cell(row=i, column=1).number_format = "@"  # codes are text: leading zeros survive re-typing
        ind = by_no[int(rec[2])]
        for j in year_cols:
            ws.cell(row=i, column=j).number_format = "@" if not ind.numeric else "General"
        if ind.judgement in text_rows:
            text_rows[ind.judgement] += [f"{get_column_letter(j)}{i}" for j in year_cols]
    for kind, refs in text_rows.items():
        if refs:
            words = ",".join(TEXT_ANSWERS[kind][True][:2] + TEXT_ANSWERS[kind][False][:1] + STATUS_WORDS[:1])
            dv = DataValidation(type="list", formula1=f'"{words}"', allow_blank=True, errorStyle="warning",
                                showErrorMessage=False)
            for ref in refs:
                dv.add(ref)
            ws.add_data_validation(dv)
    widths = {"区域代码": 16, "区域名称": 14, "序号": 6, "指标": 36, "项目": 8, "单位": 10, "目标值": 18,
              "责任单位": 24, "备注": 24}
    for j, name in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(j)].width = widths.get(name, 12)
    ws.freeze_panes = ws.cell(row=2, column=len(LEAD) + 1)
    info = wb.create_sheet("说明")
    for line in _instructions(standard, years):
        info.append(line)
    info.column_dimensions["A"].width = 110
    wb.save(tmp)


# ------------------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class DepartmentData:
    """What a filled template says.

    ``values``: one row per non-empty cell — region_code, indicator_no, item ("value"/"reference"), year,
    value (float, in the indicator's unit; NaN for text), value_text (text answer or status word; None for
    numbers), cell (where it came from). ``rows``: one row per template row — region_code, indicator_no, item,
    responsible_unit, note.
    """

    values: pd.DataFrame
    rows: pd.DataFrame
    path: str = ""


@dataclass
class _Cell:
    raw: Any
    where: str
    percent_format: bool = False
    formula_without_value: bool = False


def _read_xlsx(path: Path) -> tuple[list[str], list[tuple[int, list[_Cell]]]]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        wb_v = load_workbook(path, data_only=True)
        wb_f = load_workbook(path, data_only=False)
    except Exception as err:  # noqa: BLE001 - openpyxl raises many types for broken files
        raise InputError(f"{path}: cannot be read as an Excel workbook ({str(err).splitlines()[0]}); "
                         "save it as .xlsx") from None
    name = SHEET if SHEET in wb_v.sheetnames else wb_v.sheetnames[0]
    ws_v, ws_f = wb_v[name], wb_f[name]
    header: list[str] = []
    rows: list[tuple[int, list[_Cell]]] = []
    for r, (row_v, row_f) in enumerate(zip(ws_v.iter_rows(), ws_f.iter_rows()), start=1):
        if r == 1:
            header = ["" if c.value is None else str(c.value).strip() for c in row_v]
            continue
        cells = []
        for j, (cv, cf) in enumerate(zip(row_v, row_f), start=1):
            fmt = cv.number_format or ""
            cells.append(_Cell(cv.value, f"{path} sheet '{name}' cell {get_column_letter(j)}{r}",
                               percent_format="%" in fmt and isinstance(cv.value, (int, float)),
                               formula_without_value=cf.data_type == "f" and cv.value is None))
        rows.append((r, cells))
    return header, rows


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[_Cell]]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the CSV as UTF-8 (Excel: CSV UTF-8)") from None
    reader = list(csv.reader(text.splitlines()))
    if not reader:
        raise InputError(f"{path}: the file is empty; fill in the template written by gep index-template")
    header = [h.strip() for h in reader[0]]
    rows = []
    for r, rec in enumerate(reader[1:], start=2):
        cells = [_Cell(v, f"{path} row {r} column '{header[j] if j < len(header) else j + 1}'")
                 for j, v in enumerate(rec)]
        rows.append((r, cells))
    return header, rows


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v.strip() == "")


def _code_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_template(path: str | Path, standard: LianshanStandard, years: Iterable[int], regions, *,
                  other_levels: Iterable[str] = ()) -> DepartmentData:
    """Read and check a filled department template (.xlsx or .csv).

    One template may hold the rows of several region levels (county and township rows in one file): rows whose
    code is one of ``other_levels`` (the codes of the run's other levels) belong to those levels and are
    skipped here; a code in no level is an error.

    Every problem is collected and raised at once as ``InputError.many`` (one line each: file, row/cell, value,
    fix): unknown indicator numbers, values for indicators gep computes, wrong units, text in numeric cells,
    unknown text answers, percentages outside 0–100, values in years outside the run, regions not in the run,
    duplicate rows, formulas without a computed value. Empty cells are fine (→ 暂未核算 or 暂未调查 later).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file does not exist; write one with 'gep index-template' and fill it in")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        header, rows = _read_xlsx(path)
    elif suffix == ".csv":
        header, rows = _read_csv(path)
    else:
        raise InputError(f"{path}: unknown template format '{path.suffix}'; use .xlsx or .csv")
    run_years = sorted({int(y) for y in years})
    reg = _region_frame(regions)
    known_regions = set(reg["region_code"])
    elsewhere = {str(c) for c in other_levels} - known_regions
    by_no = standard.by_no()
    problems: list[str] = []

    keys = {zh: k for k, zh in LEAD + TAIL} | {k: k for k, _ in LEAD + TAIL}
    col_of: dict[str, int] = {}
    year_of: dict[int, int] = {}
    for j, h in enumerate(header):
        m = _YEAR.match(h)
        if m:
            year_of[j] = int(m.group(1))
        elif h in keys and keys[h] not in col_of:
            col_of[keys[h]] = j
    for need in ("region_code", "indicator_no"):
        if need not in col_of:
            zh = dict(LEAD)[need]
            problems.append(problem(f"{path} header", f"column '{zh}' ({need}) not found",
                                    "keep the header row written by gep index-template"))
    if not year_of:
        problems.append(problem(f"{path} header", "no year columns (e.g. '2020') found",
                                f"keep one column per year of the run ({', '.join(map(str, run_years))})"))
    if problems:
        raise InputError.many(problems)

    def get(cells: list[_Cell], key: str) -> _Cell | None:
        j = col_of.get(key)
        return cells[j] if j is not None and j < len(cells) else None

    values: list[dict] = []
    meta: list[dict] = []
    seen: dict[tuple, int] = {}
    unknown_regions: dict[str, list[int]] = {}
    outside_years: dict[int, list[str]] = {}
    for r, cells in rows:
        if all(_blank(c.raw) for c in cells):
            continue
        c_code, c_no = get(cells, "region_code"), get(cells, "indicator_no")
        if c_code is None or _blank(c_code.raw):
            problems.append(problem(f"{path} row {r}", "区域代码 is empty", "fill in the region code"))
            continue
        code = _code_text(c_code.raw)
        if code in elsewhere:  # a row of another region level of the run
            continue
        if code not in known_regions:
            unknown_regions.setdefault(code, []).append(r)
            continue
        raw_no = None if c_no is None else c_no.raw
        try:
            no = int(float(str(raw_no).strip()))
            if float(str(raw_no).strip()) != no:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(problem(c_no.where if c_no else f"{path} row {r}", f"序号 {raw_no!r} is not an "
                                    "indicator number", "write the number of the indicator (1–20, or a local one)"))
            continue
        ind = by_no.get(no)
        if ind is None:
            problems.append(problem(c_no.where, f"indicator number {no} is not in standard '{standard.name}'",
                                    f"use one of {', '.join(str(i.no) for i in standard.department())} or "
                                    "add the indicator to the standard file"))
            continue
        c_item = get(cells, "item")
        item_raw = "" if c_item is None or _blank(c_item.raw) else str(c_item.raw).strip()
        item = _ITEMS.get(item_raw)
        if item is None:
            problems.append(problem(c_item.where, f"项目 '{item_raw}' is unknown",
                                    f"write {ITEM_VALUE} (or {ITEM_REFERENCE} on a reference row)"))
            continue
        if item == "reference" and not ind.reference:
            problems.append(problem(c_item.where, f"indicator {no} takes no {ITEM_REFERENCE}",
                                    "remove the row (its target is a fixed number)"))
            continue
        key = (code, no, item)
        if key in seen:
            problems.append(problem(f"{path} row {r}", f"region {code} indicator {no} ({item_raw or ITEM_VALUE}) "
                                    f"repeats row {seen[key]}", "keep one row per region and indicator"))
            continue
        seen[key] = r
        c_unit = get(cells, "unit")
        if c_unit is not None and not _blank(c_unit.raw) and _norm_unit(c_unit.raw) != _norm_unit(ind.unit):
            problems.append(problem(c_unit.where, f"unit '{c_unit.raw}' of indicator {no} ({ind.name}) should be "
                                    f"'{_shown_unit(ind)}'", f"convert the values to {_shown_unit(ind)} and "
                                    f"write '{_shown_unit(ind)}' in the 单位 column"))
        c_resp, c_note = get(cells, "responsible_unit"), get(cells, "note")
        meta.append({"region_code": code, "indicator_no": no, "item": item,
                     "responsible_unit": None if c_resp is None or _blank(c_resp.raw) else str(c_resp.raw).strip(),
                     "note": None if c_note is None or _blank(c_note.raw) else str(c_note.raw).strip()})
        for j, year in year_of.items():
            if j >= len(cells):
                continue
            cell = cells[j]
            if cell.formula_without_value:
                problems.append(problem(cell.where, "holds a formula without a computed value",
                                        "open and save the file in Excel, or type the value"))
                continue
            if _blank(cell.raw):
                continue
            if year not in run_years:
                outside_years.setdefault(year, []).append(cell.where)
                continue
            if ind.computed:
                problems.append(problem(cell.where, f"value {cell.raw!r} for indicator {no} ({ind.name}), which "
                                        "gep computes from maps", "leave it empty (the 责任单位 may stay)"))
                continue
            parsed = _parse_cell(cell, ind, item, problems)
            if parsed is not None:
                number, text = parsed
                values.append({"region_code": code, "indicator_no": no, "item": item, "year": year,
                               "value": number, "value_text": text, "cell": cell.where})
    for code, rs in sorted(unknown_regions.items()):
        listed = ", ".join(map(str, rs[:5])) + (" …" if len(rs) > 5 else "")
        problems.append(problem(f"{path} row(s) {listed}", f"区域代码 '{code}' is not a region of this run",
                                "fix the code (codes are text: keep leading zeros; format the column as text) "
                                f"or remove those rows; regions: {', '.join(sorted(known_regions)[:10])}"))
    for year, where in sorted(outside_years.items()):
        problems.append(problem(where[0] + (f" and {len(where) - 1} more" if len(where) > 1 else ""),
                                f"values for {year}, which is not a year of this run ({', '.join(map(str, run_years))})",
                                "remove the column or add the year to the run"))
    if problems:
        raise InputError.many(problems)
    vcols = ["region_code", "indicator_no", "item", "year", "value", "value_text", "cell"]
    mcols = ["region_code", "indicator_no", "item", "responsible_unit", "note"]
    v = pd.DataFrame(values, columns=vcols)
    v["value"] = v["value"].astype(float)
    v["indicator_no"] = v["indicator_no"].astype("int64")
    v["year"] = v["year"].astype("int64")
    return DepartmentData(values=v, rows=pd.DataFrame(meta, columns=mcols), path=str(path))


def _parse_cell(cell: _Cell, ind: Indicator, item: str, problems: list[str]) -> tuple[float, str | None] | None:
    """(number, text) of one filled cell, or None after appending a problem."""
    raw = cell.raw
    if isinstance(raw, str) and raw.strip() in STATUS_WORDS:
        return math.nan, raw.strip()
    if ind.numeric or item == "reference":
        unit = _shown_unit(ind)
        if isinstance(raw, bool):
            number = None
        elif isinstance(raw, (int, float)):
            number = float(raw) * (100.0 if cell.percent_format else 1.0)
        else:
            m = _NUMBER.match(str(raw).replace(",", ""))
            number = float(m.group(1)) if m else None
            if m and m.group(2) and _norm_unit(ind.unit) != "%":
                number = None
        if number is None or not math.isfinite(number):
            problems.append(problem(cell.where, f"text {str(raw)!r} in a numeric cell of indicator {ind.no} "
                                    f"({ind.name})", f"write a number in {unit} (e.g. 91.5), or "
                                    f"{' / '.join(STATUS_WORDS)}"))
            return None
        if _norm_unit(ind.unit) == "%" and not 0.0 <= number <= 100.0:
            problems.append(problem(cell.where, f"{number:g}% of indicator {ind.no} ({ind.name}) is outside 0–100",
                                    "write the percentage as a number from 0 to 100 (91.5 for 91.5%)"))
            return None
        return number, None
    if isinstance(raw, (int, float)) or text_answer(ind.judgement, str(raw)) is None:
        yes, no = TEXT_ANSWERS[ind.judgement][True], TEXT_ANSWERS[ind.judgement][False]
        problems.append(problem(cell.where, f"answer {str(raw)!r} of indicator {ind.no} ({ind.name}) is not "
                                "understood", f"write {' / '.join(yes[:3])} (达标) or {' / '.join(no[:3])} (不达标); "
                                "details go in 备注"))
        return None
    return math.nan, str(raw).strip()


__all__ = ["ITEM_REFERENCE", "ITEM_VALUE", "DepartmentData", "read_template", "template_rows", "write_template"]
