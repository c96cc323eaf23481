"""``tables.xlsx``: every published table of a region level in one workbook that Excel opens without fixing.

A CSV opened in Excel loses what matters to a bureau: a 12-digit region code becomes ``4.30124E+11`` and the
leading zeros of a township code disappear. Here every table of ``OUTPUT_DIR/tables/LEVEL`` (and the level's
``lianshan_index``) is a sheet whose code and name columns are text cells, under three header rows: the Chinese
column name, the English one (as in the CSV and Parquet files) and the unit. The first sheet, ``说明``, lists the
tables (Chinese title, rows, file) and the run's warnings.

The workbook is written in openpyxl's write-only mode (rows streamed to the file): a province's terrain table
has hundreds of thousands of rows. A table longer than an Excel sheet (1,048,576 rows) is cut there, and the
说明 sheet says so and names the CSV that holds it whole.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from gep.core.atomic import atomic_path
from gep.io.tables import read_table

#: Chinese titles of the published tables, in the order of the workbook's sheets (others follow by name).
TABLE_TITLES = {
    "lianshan_index": "“两山”指数指标表（20 项指标）",
    "forest_grass_coverage": "林草覆盖率（指标 7）",
    "coverage_by_terrain": "分地形林草覆盖率",
    "coverage_trend": "林草覆盖率变化",
    "region_terrain_type": "区域地形类型",
    "terrain_area": "分地形土地覆被面积",
    "protected_area": "生态保护红线、自然保护地面积（指标 9）",
    "protected_change": "生态保护红线、自然保护地面积变化（不减少判定）",
    "redline_landcover": "红线内土地覆被",
    "redline_transition": "红线内土地覆被转移",
    "gep_summary": "生态系统生产总值与单位面积 GEP（指标 10）",
    "gep_services": "GEP 分项服务",
    "gep_change": "GEP 分项年际变化（可比价）",
    "carbon_stock": "碳储量",
    "landcover_area": "土地覆被面积",
    "landcover_change": "土地覆被转移",
    "extent_account": "生态系统面积账户（SEEA）",
    "region_area": "区域面积核对",
}

#: Chinese names of the columns of gep's tables (a column not listed shows its English name twice).
COLUMN_LABELS = {
    "region_code": "区域代码", "region_name": "区域名称", "year": "年份", "year_from": "起始年", "year_to": "终止年",
    "year_prev": "上一年", "year_base": "基准年", "first_year": "首年", "previous_year": "上一年",
    "basis_year": "依据年份", "constant_price_year": "可比价基年",
    "lc_code": "地类代码", "lc_name_zh": "地类名称", "lc_name_en": "地类名称（英文）", "category": "地类大类",
    "lc_from": "原地类代码", "lc_to": "现地类代码", "area_km2": "面积", "area_cm2": "面积（精确整数）",
    "polygon_area_km2": "区域多边形面积", "valid_km2": "有效数据面积", "nodata_km2": "无数据面积",
    "outside_raster_km2": "栅格范围外面积", "area_check_pct": "面积核对差异",
    "opening_km2": "期初面积", "additions_km2": "增加", "reductions_km2": "减少", "net_change_km2": "净变化",
    "closing_km2": "期末面积",
    "terrain_code": "地形分级代码", "terrain_class": "地形分级", "terrain_class_en": "地形分级（英文）",
    "terrain_type": "地形类型", "terrain_rule": "地形类型判定依据", "computed_type": "按地形计算的类型",
    "terrain_source": "地形类型来源", "terrain_borderline": "地形类型临界（需人工确认）", "terrain_note": "地形类型说明",
    "share_grid": "地形占比计算网格", "unknown_codes_km2": "分类体系外代码面积（按无数据）",
    "unknown_codes_pct": "分类体系外代码面积占比",
    "plain_km2": "平原面积", "hill_km2": "丘陵面积", "mountain_km2": "山地面积", "terrain_nodata_km2": "无高程面积",
    "plain_pct": "平原占比", "hill_pct": "丘陵占比", "mountain_pct": "山地占比", "precip_mm": "年降水量",
    "region_area_km2": "区域面积", "water_km2": "水域面积", "land_area_km2": "国土面积（不含水域）",
    "forest_km2": "林地面积", "grass_km2": "草地面积", "coverage_pct": "林草覆盖率", "target_pct": "目标值",
    "comparison": "比较方式", "meets_target": "是否达到目标", "gap_pct": "距目标差距", "gap_km2": "距目标差距面积",
    "standard": "覆盖率标准", "change_prev_pp": "较上一年变化", "change_first_pp": "较首年变化",
    "layer": "图层", "type": "类型", "share_of_region_pct": "占区域面积比例", "area_prev_km2": "上一年面积",
    "delta_km2": "较上一年变化", "delta_pct": "较上一年变化率", "area_base_km2": "基准年面积",
    "delta_base_km2": "较基准年变化", "verdict": "判定", "filled": "是否补齐", "share_pct": "占图层面积比例",
    "service": "服务", "service_zh": "服务名称", "tier": "层级", "quantity": "功能量", "quantity_unit": "功能量单位",
    "unit_price": "单价", "price_unit": "单价单位", "value_yuan": "价值量（当年价）",
    "value_constant_yuan": "价值量（可比价）", "method": "方法", "source": "来源",
    "gep_yuan": "GEP（当年价）", "gep_constant_yuan": "GEP（可比价）",
    "gep_per_km2_wan_yuan": "单位国土面积 GEP（当年价）",
    "gep_constant_per_km2_wan_yuan": "单位国土面积 GEP（可比价）", "change_pct": "变化率", "gep_scope": "核算范围",
    "verdict_rule": "判定规则", "esv_yuan": "生态系统服务价值 ESV（当年价）",
    "esv_per_km2_wan_yuan": "单位国土面积 ESV（当年价）",
    "value_constant_prev_yuan": "上一年价值量（可比价）", "change_constant_yuan": "价值量变化（可比价）",
    "change_per_km2_wan_yuan": "单位国土面积变化（可比价）", "share_of_change_pct": "占总变化比例",
    "provisional": "使用暂定/演示参数的项目", "profile": "核算方案", "price_record": "价格记录",
    "c_above_t": "地上碳", "c_below_t": "地下碳", "c_soil_t": "土壤碳", "c_dead_t": "枯落物碳", "c_total_t": "总碳储量",
    "c_total_t_per_ha": "单位面积碳储量", "change_t": "碳储量变化", "change_co2_t": "碳储量变化（CO₂ 当量）",
    # lianshan_index
    "group": "目标层", "task": "任务层", "indicator_no": "序号", "indicator": "指标", "unit": "单位",
    "target": "目标值", "value": "现状值", "value_text": "现状值（文字）", "status": "达标情况", "note": "说明",
    "responsible_unit": "责任单位",
}

#: Chinese names of columns whose meaning differs by table (the same English name, another Chinese one).
TABLE_COLUMN_LABELS = {("gep_services", "status"): "数据状态（V / V2 / P / DEMO）"}

#: Chinese forms of the units written in the tables' ``.meta.json``.
UNIT_LABELS = {
    "km2": "km²", "km2 (ellipsoidal)": "km²（椭球面积）", "km2 (ellipsoidal area of the region polygon)":
    "km²（区域多边形椭球面积）", "cm2 (exact integer)": "cm²（精确整数）", "%": "%", "percentage points": "百分点",
    "calendar year": "年", "mm": "mm", "t C": "t C", "t C/ha": "t C/ha",
    "yuan, current prices": "元（当年价）", "yuan, constant prices": "元（可比价）",
    "10^4 yuan per km2, current prices": "万元/km²（当年价）",
    "yuan, current prices: ESV 生态系统服务价值, all 11 Tier-1 services (supporting included)":
    "元（当年价；生态系统服务价值 ESV，Tier 1 全部 11 项服务，含支持服务）",
    "10^4 yuan per km2, current prices: ESV 生态系统服务价值 (Tier 1)": "万元/km²（当年价；生态系统服务价值 ESV，Tier 1）",
    "10^4 yuan per km2, constant prices": "万元/km²（可比价）",
    "yuan, current prices of year": "元（当年价）",
    "yuan, constant prices of constant_price_year": "元（可比价基年价）",
    "yuan per quantity_unit, current prices of year": "元/功能量单位（当年价）",
    "see quantity_unit": "见功能量单位", "% of the layer inside the region": "%（占图层）",
    "t CO2 equivalent (change × 44/12)": "t CO₂ 当量",
    "t C (vs previous accounted year)": "t C（较上一核算年）",
    "% change of constant-price GEP per km2 vs the previous accounted year": "%（可比价单位面积 GEP 较上一核算年）",
    "yuan, constant prices (year − year_prev)": "元（可比价，本年 − 上一年）",
    "10^4 yuan per km2, constant prices (year − year_prev)": "万元/km²（可比价，本年 − 上一年）",
    "% of the region's total change (empty when the total change is 0)": "%（占区域总变化；总变化为 0 时为空）",
}
#: A unit from the column name's ending, for columns whose table records none.
_SUFFIX_UNITS = (("_km2", "km²"), ("_cm2", "cm²"), ("_pct", "%"), ("_pp", "百分点"), ("_mm", "mm"))

#: Columns always written as text cells (codes with leading zeros or 12 digits, names).
TEXT_COLUMNS = ("region_code", "region_name")
#: Rows of an Excel sheet, and the header rows of each table sheet.
EXCEL_ROWS = 1_048_576
HEADER_ROWS = 3
NOTES_SHEET = "说明"


def unit_label(column: str, unit: str | None) -> str:
    """The unit shown under ``column``: the table's own (in Chinese where known), else from the name's ending."""
    if unit:
        return UNIT_LABELS.get(unit, unit)
    return next((u for end, u in _SUFFIX_UNITS if column.endswith(end)), "")


def published_tables(tables_dir: str | Path) -> list[tuple[str, Path, dict]]:
    """The published tables of a level: (name, file, units) for every ``NAME.meta.json`` with its Parquet (else
    CSV) file beside it, in the order of TABLE_TITLES, then by name."""
    tables_dir = Path(tables_dir)
    found = []
    for meta in sorted(tables_dir.glob("*.meta.json")) if tables_dir.is_dir() else []:
        name = meta.name[: -len(".meta.json")]
        data = next((tables_dir / f"{name}{ext}" for ext in (".parquet", ".csv")
                     if (tables_dir / f"{name}{ext}").is_file()), None)
        if data is None:
            continue
        try:
            units = dict(json.loads(meta.read_text(encoding="utf-8")).get("units") or {})
        except (json.JSONDecodeError, AttributeError):
            units = {}
        found.append((name, data, units))
    order = {n: k for k, n in enumerate(TABLE_TITLES)}
    return sorted(found, key=lambda t: (order.get(t[0], len(order)), t[0]))


def _column_values(s: pd.Series, text: bool) -> list:
    """A column as Python values for openpyxl: text stays text (codes keep their zeros), NaN/NA become empty."""
    if text or s.dtype == object or pd.api.types.is_string_dtype(s):
        return [None if (v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))) else str(v)
                for v in s.tolist()]
    if pd.api.types.is_bool_dtype(s):
        return [bool(v) for v in s.tolist()]
    if pd.api.types.is_integer_dtype(s):
        return [None if v is pd.NA else int(v) for v in s.astype(object).tolist()]
    if pd.api.types.is_float_dtype(s):
        a = s.to_numpy(dtype=float, na_value=np.nan)
        return [float(v) if math.isfinite(v) else None for v in a.tolist()]
    return [None if pd.isna(v) else str(v) for v in s.tolist()]


def _cell(ws, value, font=None):
    """A cell of a write-only sheet; text that looks like a formula (=, +, -, @) stays literal text."""
    from openpyxl.cell import WriteOnlyCell

    from gep.scorecard.xlsx_util import set_text

    c = WriteOnlyCell(ws)
    if isinstance(value, str):
        set_text(c, value)
    else:
        c.value = value
    if font is not None:
        c.font = font
    return c


def _table_sheet(wb, title: str, df: pd.DataFrame, units: Mapping[str, str], name: str = "") -> int:
    """Write one table sheet (of table ``name``); returns the number of data rows written (≤ what fits in a
    sheet)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from gep.scorecard.xlsx_util import HEADER_FILL, HEADER_FONT

    ws = wb.create_sheet(title)
    cols = [str(c) for c in df.columns]
    labels = [TABLE_COLUMN_LABELS.get((name, c), COLUMN_LABELS.get(c, c)) for c in cols]
    for j, (c, label) in enumerate(zip(cols, labels), start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(30, 2 * len(label) + 2, len(c) + 4))
    ws.freeze_panes = f"A{HEADER_ROWS + 1}"
    grey = Font(color="666666", italic=True)

    def header(values, font):
        row = []
        for v in values:
            c = _cell(ws, v, font)
            c.fill = HEADER_FILL
            row.append(c)
        return row

    ws.append(header(labels, HEADER_FONT))
    ws.append(header(cols, grey))
    ws.append(header([unit_label(c, units.get(c)) for c in cols], grey))
    n = min(len(df), EXCEL_ROWS - HEADER_ROWS)
    part = df.iloc[:n]
    columns = [_column_values(part[c], c in TEXT_COLUMNS or c.endswith(("_code", "_name", "_zh", "_en")) and
                              not pd.api.types.is_numeric_dtype(part[c])) for c in part.columns]
    literal = [any(isinstance(v, str) and v[:1] in "=+-@" for v in col) for col in columns]
    for row in zip(*columns):
        ws.append([_cell(ws, v) if lit and isinstance(v, str) else v for v, lit in zip(row, literal)]
                  if any(literal) else list(row))
    return n


def write_tables_workbook(path: str | Path, tables: Iterable[tuple[str, pd.DataFrame | Path, Mapping[str, str]]],
                          *, notes: Iterable[str] = ()) -> Path:
    """Write ``tables.xlsx`` (atomically): a 说明 sheet, then one sheet per (name, table or file, units).

    Sheet names are the tables' names (Excel allows 31 characters); ``notes`` (warnings of the run) are listed
    on the 说明 sheet.
    """
    from openpyxl import Workbook

    from gep.scorecard.xlsx_util import HEADER_FONT, sheet_title

    path = Path(path)
    wb = Workbook(write_only=True)
    notes_ws = wb.create_sheet(NOTES_SHEET)
    taken = {NOTES_SHEET}
    listing = []
    for name, table, units in tables:
        df = read_table(table) if isinstance(table, (str, Path)) else table
        title = sheet_title(name, taken)
        n = _table_sheet(wb, title, df, units or {}, name)
        where = str(table) if isinstance(table, (str, Path)) else ""
        cut = (f"只写入前 {n} 行（Excel 工作表上限），完整数据见 {Path(where).with_suffix('.csv').name}"
               if n < len(df) else "")
        listing.append([title, name, TABLE_TITLES.get(name, ""), len(df), cut])
    for w, col in zip((24, 26, 40, 10, 50), "ABCDE"):
        notes_ws.column_dimensions[col].width = w
    lines = [
        ["gep 发布表格（Published tables）"],
        ["每个工作表是一张 gep 发布的表，与 tables/ 文件夹中同名的 CSV / Parquet 文件内容相同。"],
        ["第 1 行为中文列名，第 2 行为英文列名（与 CSV 相同），第 3 行为单位；区域代码、名称为文本单元格，"
         "保留前导零和 12 位代码。Row 1: Chinese column names; row 2: the English names of the CSV; row 3: units."],
        [],
        ["工作表", "表名", "中文名称", "行数", "备注"],
        *listing,
    ]
    notes = list(notes)
    if notes:
        lines += [[], ["注意（运行中的警告）"], *[[n] for n in notes]]
    for k, line in enumerate(lines):
        bold = k == 0 or line[:1] == ["工作表"] or line[:1] == ["注意（运行中的警告）"]
        notes_ws.append([_cell(notes_ws, v, HEADER_FONT if bold else None) for v in line])
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


__all__ = ["COLUMN_LABELS", "TABLE_TITLES", "published_tables", "unit_label", "write_tables_workbook"]
