"""tables.xlsx: every published table of a level, region codes as text cells (a 12-digit code stays
'430102000000', not 4.30102E+11), Chinese and English headers and units; warnings in Chinese."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
from test_scorecard_fixtures import CODES, FORMULA_NAME, YEARS, run_dir

from gep.io.tables import write_table
from gep.scorecard import build_outputs
from gep.scorecard.tables_book import COLUMN_LABELS, TABLE_TITLES, published_tables, write_tables_workbook

CODE12 = "430102000000"


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    r = run_dir(root)
    # a level table with a 12-digit code and a code with a leading zero
    write_table(pd.DataFrame({"region_code": [CODE12, "0101"], "region_name": ["芙蓉区", "零一"], "year": [2021, 2021],
                              "area_km2": [42.5, 1.25]}), r["tables"], "region_area", units={"area_km2": "km2"})
    out = root / "out"
    build_outputs(r["tables"], out, regions=r["regions"], years=YEARS, maps=False, report=False)
    return r, out, openpyxl.load_workbook(out / "tables.xlsx")


def test_every_published_table_is_a_sheet(book):
    r, _, wb = book
    names = {p.name[: -len(".meta.json")] for p in r["tables"].glob("*.meta.json")}
    assert names == {"forest_grass_coverage", "protected_area", "protected_change", "gep_summary", "region_area"}
    assert wb.sheetnames[0] == "说明"
    assert set(wb.sheetnames[1:]) == names | {"lianshan_index"}
    listed = {row[1] for row in wb["说明"].iter_rows(min_row=6, values_only=True) if row and row[1]}
    assert names | {"lianshan_index"} <= listed


def test_codes_are_text_cells(book):
    _, _, wb = book
    ws = wb["region_area"]
    cells = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=1) for r in (4, 5)}
    assert set(cells) == {CODE12, "0101"}
    assert all(c.data_type == "s" for c in cells.values())
    assert ws.cell(row=4, column=4).value == 42.5 and ws.cell(row=4, column=4).data_type == "n"
    cov = wb["forest_grass_coverage"]
    assert [cov.cell(row=k, column=1).value for k in range(4, 7)] == [CODES[0]] * 3
    assert cov.cell(row=4, column=1).data_type == "s"
    # a region name that looks like a formula stays text
    names = [c.value for c in next(cov.iter_cols(min_col=2, max_col=2, min_row=4))]
    assert FORMULA_NAME in names
    assert all(c.data_type == "s" for c in next(cov.iter_cols(min_col=2, max_col=2, min_row=4)))


def test_headers_chinese_english_and_units(book):
    _, _, wb = book
    ws = wb["region_area"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=3)]
    assert rows[0] == ["区域代码", "区域名称", "年份", "面积"]
    assert rows[1] == ["region_code", "region_name", "year", "area_km2"]
    assert rows[2][3] == "km²"
    assert ws.freeze_panes == "A4"
    cov = wb["forest_grass_coverage"]
    head = {c.value: k for k, c in enumerate(cov[2])}
    assert cov[1][head["coverage_pct"]].value == "林草覆盖率" and cov[3][head["coverage_pct"]].value == "%"
    assert cov[3][head["gap_km2"]].value == "km²"  # from the name where the table records no unit


def test_every_column_of_the_tables_has_a_chinese_name():
    """The columns of the pipeline's tables (as the README lists them) all have Chinese names."""
    from gep.indicators.gep.accounts import SUMMARY_COLUMNS
    from gep.scorecard.index import INDEX_COLUMNS

    for col in [*SUMMARY_COLUMNS, *INDEX_COLUMNS]:
        assert col in COLUMN_LABELS, col
    assert "gep_summary" in TABLE_TITLES and "lianshan_index" in TABLE_TITLES


def test_too_long_table_is_cut_and_said(tmp_path, monkeypatch):
    import gep.scorecard.tables_book as tb

    monkeypatch.setattr(tb, "EXCEL_ROWS", 5)  # 3 header rows + 2 data rows
    write_table(pd.DataFrame({"region_code": ["1", "2", "3"], "v": [1, 2, 3]}), tmp_path, "t")
    path = write_tables_workbook(tmp_path / "x.xlsx", published_tables(tmp_path))
    wb = openpyxl.load_workbook(path)
    assert wb["t"].max_row == 5
    assert any("只写入前 2 行" in str(c) and "t.csv" in str(c) for row in wb["说明"].iter_rows(values_only=True)
               for c in row)


def test_no_name_field_is_warned_in_chinese(tmp_path, capsys):
    r = run_dir(tmp_path / "run")
    regions = r["regions"].assign(region_name=r["regions"]["region_code"])
    build_outputs(r["tables"], tmp_path / "out", regions=regions, years=YEARS, maps=False, report=False)
    err = capsys.readouterr().err
    assert "gep: warning: 区域图层没有名称字段" in err and "未提供部门填报模板" in err
    meta = json.loads((tmp_path / "out" / "lianshan_index.meta.json").read_text(encoding="utf-8"))
    assert any("没有名称字段" in n for n in meta["notes"])
    wb = openpyxl.load_workbook(tmp_path / "out" / "lianshan_index.xlsx")
    notes = [str(c) for row in wb["说明"].iter_rows(values_only=True) for c in row if c]
    assert any("没有名称字段" in n for n in notes)
    # the region sheets are titled with the code once, never "code（code）"
    title = wb[wb.sheetnames[1]]["A1"].value
    assert title.startswith(CODES[0]) and f"{CODES[0]}（{CODES[0]}）" not in title
