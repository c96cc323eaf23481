"""The scorecard deliverables of a small finished run: tidy table, workbook, GeoPackage, maps, HTML, CLI."""

from __future__ import annotations

import os
import re
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box
from test_scorecard_fixtures import CODES, FORMULA_NAME, SCRIPT_NAME, YEARS, run_dir
from test_scorecard_fixtures import regions as fixture_regions

from gep.cli.main import main
from gep.indicators.coverage.index import forest_grass_coverage, region_terrain_type
from gep.core.errors import InputError
from gep.indicators.protected.areas import protected_area, protected_change
from gep.scorecard import INDEX_COLUMNS, build_outputs, lianshan_index, load_lianshan_standard, write_template
from gep.scorecard.judge import MET, NO_DATA, NOT_COMPUTED, NOT_MET, NOT_SURVEYED
from gep.io.tables import write_table

NAT = load_lianshan_standard("national")


def _filled_template(path, regions):
    """The template with 甲镇's values for indicators 1, 4, 18 and 20 (others empty)."""
    write_template(path, NAT, YEARS, regions)
    wb = openpyxl.load_workbook(path)
    ws = wb["填报"]
    header = [c.value for c in ws[1]]
    col = {h: j for j, h in enumerate(header)}
    fill = {1: [91, 90, 92.5], 4: [80, 80.5, 79], 18: ["建立实施", "建立实施", "建立实施"], 20: [3.09, None, 2.5]}
    for row in ws.iter_rows(min_row=2):
        if row[0].value == CODES[0] and row[2].value in fill:
            for y, v in zip(YEARS, fill[row[2].value]):
                row[col[str(y)]].value = v
            row[col["责任单位"]].value = "区生态环境分局"
        if row[0].value == CODES[2] and row[2].value == 1:
            row[col["责任单位"]].value = SCRIPT_NAME  # user text that must stay inert
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    r = run_dir(root)
    tpl = _filled_template(root / "filled.xlsx", r["regions"])
    out = root / "scorecard" / "township"
    with pytest.MonkeyPatch.context() as mp:  # the 12 figures drawn on two worker processes, however few
        mp.setattr("gep.scorecard.figure_pool.MIN_JOBS_PER_WORKER", 1)
        written = build_outputs(r["tables"], out, regions=r["regions"], years=YEARS, standard="national",
                                template=tpl, provenance=r["provenance"], change_gpkg=r["change_gpkg"], workers=2)
    return {**r, "out": out, "written": written, "template": tpl}


def test_files_written(built):
    out = built["out"]
    names = {p.relative_to(out).as_posix() for p in built["written"]}
    expected = {"lianshan_index.csv", "lianshan_index.parquet", "lianshan_index.meta.json", "lianshan_index.xlsx",
                "indicators.gpkg", "report/index.html", "maps/coverage_2019.png", "maps/coverage_2021.png",
                "maps/gep_per_km2_2021.png", "maps/redline_change_2019_2020.png", "maps/redline_change_2020_2021.png",
                *(f"maps/trend_{c}.png" for c in CODES)}
    assert expected <= names
    assert all(p.is_file() for p in built["written"])
    assert not list(out.rglob("*.tmp*"))  # atomic writes leave no temporaries


def test_index_table(built):
    df = pd.read_parquet(built["out"] / "lianshan_index.parquet")
    csv = pd.read_csv(built["out"] / "lianshan_index.csv", dtype={"region_code": str})
    assert list(df.columns) == INDEX_COLUMNS == list(csv.columns)
    assert len(df) == 3 * 3 * 20
    s = df.set_index(["region_code", "indicator_no", "year"])
    a = CODES[0]
    # 7: exactly at the 40% target under ">" → 不达标; the row's target names the terrain type
    assert s.loc[(a, 7, 2021), "value"] == 40.0 and s.loc[(a, 7, 2021), "status"] == NOT_MET
    assert s.loc[(a, 7, 2020), "status"] == MET and s.loc[(a, 7, 2021), "target"] == "丘陵区>40%"
    assert s.loc[(CODES[2], 7, 2019), "status"] == NOT_MET and "差" in s.loc[(CODES[2], 7, 2019), "note"]
    # 9: red line baseline, unchanged, decreased
    assert [s.loc[(a, 9, y), "status"] for y in YEARS] == [MET, MET, NOT_MET]
    assert s.loc[(a, 9, 2021), "value"] == 75.0 and s.loc[(a, 9, 2021), "unit"] == "km²"
    # 10: gep_summary's verdict as it is
    assert [s.loc[(a, 10, y), "status"] for y in YEARS] == [NO_DATA, MET, NOT_MET]
    # department values
    assert [s.loc[(a, 1, y), "status"] for y in YEARS] == [MET, NOT_MET, MET]
    assert [s.loc[(a, 4, y), "status"] for y in YEARS] == [NOT_COMPUTED, MET, NOT_MET]  # 80 → 80.5 rises, → 79 falls
    assert s.loc[(a, 18, 2019), "value_text"] == "建立实施" and s.loc[(a, 18, 2019), "status"] == MET
    assert s.loc[(a, 20, 2020), "status"] == NOT_COMPUTED and s.loc[(a, 20, 2021), "status"] == NOT_MET
    assert s.loc[(a, 17, 2021), "status"] == NOT_SURVEYED
    assert s.loc[(a, 1, 2019), "responsible_unit"] == "区生态环境分局"
    assert set(df.loc[df["indicator_no"].isin([7, 9, 10]), "source"]) == {"pipeline"}
    assert set(df.loc[~df["indicator_no"].isin([7, 9, 10]), "source"]) == {"department"}
    assert set(df["status"]) <= {MET, NOT_MET, NOT_COMPUTED, NOT_SURVEYED, NO_DATA}


def test_workbook_region_sheet_cell_by_cell(built):
    wb = openpyxl.load_workbook(built["out"] / "lianshan_index.xlsx")
    assert wb.sheetnames[0] == "汇总" and wb.sheetnames[1] == "甲镇"
    assert {"forest_grass_coverage", "protected_area", "protected_change", "gep_summary", "说明"} <= set(wb.sheetnames)
    ws = wb["甲镇"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    # title, the two header rows, 目标层 groups (1–10, 11–17, 18–20) and 任务层 tasks merged
    assert {"A1:N1", "A2:N2", "A3:A4", "B3:B4", "F3:F4", "G3:I3", "J3:L3", "M3:M4", "N3:N4",
            "A5:A14", "A15:A21", "A22:A24", "B5:B10", "B11:B14", "B16:B18",
            "B20:B21", "B22:B23"} <= merged
    assert ws["A1"].value == "甲镇（430124001）“两山”指数评估指标"
    assert [ws.cell(row=3, column=j).value for j in range(1, 15)] == [
        "目标层", "任务层", "序号", "指标", "单位", "目标值", "现状值", None, None, "达标情况", None, None,
        "责任单位", "说明"]
    assert [ws.cell(row=4, column=j).value for j in range(7, 13)] == ["2019年", "2020年", "2021年"] * 2
    # row of indicator 1 (row 5)
    assert [ws.cell(row=5, column=j).value for j in range(1, 7)] == [
        "构筑绿水青山", "环境质量", 1, "环境空气质量优良天数比例", "%", ">90%"]
    assert [ws.cell(row=5, column=j).value for j in range(7, 10)] == [91, 90, 92.5]
    assert ws["G5"].number_format == '0.00"%"'
    assert [ws.cell(row=5, column=j).value for j in range(10, 13)] == [MET, NOT_MET, MET]
    assert ws["J5"].fill.fgColor.rgb.endswith("C6EFCE") and ws["K5"].fill.fgColor.rgb.endswith("FFC7CE")
    assert ws["M5"].value == "区生态环境分局"
    # indicator 7 is row 11: value, terrain-specific target, status
    assert ws["C11"].value == 7 and ws["F11"].value == "丘陵区>40%"
    assert [ws.cell(row=11, column=j).value for j in range(7, 13)] == [48.79, 49.0, 40.0, MET, MET, NOT_MET]
    # indicator 9 (row 13) in km², 10 (row 14) in 万元/km²
    assert ws["I13"].value == 75.0 and ws["I13"].number_format.endswith('" km²"') and ws["L13"].value == NOT_MET
    assert ws["G14"].value == 1000.0 and "万元/km²" in ws["G14"].number_format and ws["J14"].value == NO_DATA
    assert ws["J14"].fill.fgColor.rgb.endswith("D9D9D9")
    # text answers (18, row 22) and an empty cell (5, row 9)
    assert ws["C22"].value == 18 and ws["G22"].value == "建立实施" and ws["J22"].value == MET
    assert ws["G9"].value is None and ws["J9"].value == NOT_COMPUTED and ws["J9"].fill.fgColor.rgb.endswith("FFEB9C")
    assert ws.max_row == 24
    # summary: one row per region × year, a status per indicator, counts that add up to 20
    sm = wb["汇总"]
    assert sm["A3"].value == CODES[0] and sm["C3"].value == 2019 and sm["J3"].value == MET  # col J = indicator 7
    counts = [sm.cell(row=5, column=j).value for j in range(24, 29)]
    assert sum(counts) == 20 and sm.cell(row=2, column=24).value == MET


def test_workbook_keeps_user_text_inert(built):
    path = built["out"] / "lianshan_index.xlsx"
    wb = openpyxl.load_workbook(path)
    assert FORMULA_NAME in wb.sheetnames
    ws = wb[FORMULA_NAME]
    assert ws["A1"].value.startswith(FORMULA_NAME) and ws["A1"].data_type == "s"
    sm = wb["汇总"]
    cell = next(c for row in sm.iter_rows() for c in row if c.value == FORMULA_NAME)
    assert cell.data_type == "s" and cell.quotePrefix
    assert any(c.value == SCRIPT_NAME for row in sm.iter_rows() for c in row)
    for sheet in wb.worksheets:
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row), sheet.title
    with zipfile.ZipFile(path) as z:  # no formula element anywhere in the file
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode("utf-8") and "<f " not in z.read(name).decode("utf-8")


def test_geopackage(built):
    path = built["out"] / "indicators.gpkg"
    layers = {name: geom for name, geom in pyogrio.list_layers(path)}
    assert layers["indicators"] == "MultiPolygon"
    assert {"redline_2019_2020", "redline_2020_2021", "redline_2020_2021_status", "layer_styles"} <= set(layers)
    df = pyogrio.read_dataframe(path, layer="indicators")
    for y in YEARS:
        for c in ("coverage_pct", "coverage_target_pct", "coverage_status", "redline_km2", "redline_status",
                  "gep_per_km2_wan_yuan", "gep_status", "n_met", "n_not_met"):
            assert f"{c}_{y}" in df.columns
    row = df.set_index("region_code").loc[CODES[0]]
    assert row["coverage_pct_2021"] == 40.0 and row["coverage_status_2021"] == NOT_MET
    assert row["redline_km2_2019"] == 76.36 and row["terrain_type"] == "丘陵区"
    assert row["gep_per_km2_wan_yuan_2020"] == 1100.0 and row["region_name"] == "甲镇"
    assert str(df.crs.to_epsg()) == "4490"
    ch = pyogrio.read_dataframe(path, layer="redline_2020_2021")
    assert list(ch["change"]) == ["removed"]
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
                           "styleQML, useAsDefault, update_time FROM layer_styles").fetchall()
        geom_col = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name='indicators'"
                               ).fetchone()[0]
    finally:
        con.close()
    by_name = {r[4]: r for r in rows}
    assert len(by_name) == len(rows) == 15  # 3 years × (2 coverage + red line + GEP) + terrain + 2 change layers
    defaults = sorted((r[2], r[4]) for r in rows if r[6] == 1)
    assert defaults == [("indicators", "林草覆盖率 2021 达标/不达标"), ("redline_2019_2020", "redline_2019_2020 新增/减少"),
                        ("redline_2020_2021", "redline_2020_2021 新增/减少")]
    for cat, schema, table, gcol, _name, qml, default, when in rows:
        assert (cat, schema) == ("", "") and gcol == (geom_col if table == "indicators" else "geom")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", when)
    root = ET.fromstring(by_name["林草覆盖率 2021 达标/不达标"][5].split("\n", 1)[1])  # well-formed after the DOCTYPE
    r = root.find("renderer-v2")
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "coverage_status_2021"
    assert [c.get("value") for c in r.find("categories")] == [MET, NOT_MET, ""]
    assert "region_name" in root.find("labeling/settings/text-style").get("fieldName")
    root = ET.fromstring(by_name["林草覆盖率 2021 分级"][5].split("\n", 1)[1])
    r = root.find("renderer-v2")
    assert r.get("type") == "graduatedSymbol" and r.get("attr") == "coverage_pct_2021"
    edges = [(float(x.get("lower")), float(x.get("upper"))) for x in r.find("ranges")]
    assert edges == [(0, 18), (18, 40), (40, 60), (60, 100)]
    assert len(r.find("symbols")) == 4
    # the removed part is labelled as against the previous accounted year, 2021 vs 2020
    root = ET.fromstring(by_name["redline_2020_2021 新增/减少"][5].split("\n", 1)[1])
    labels = {c.get("value"): c.get("label") for c in root.find("renderer-v2/categories")}
    assert labels["removed"] == "减少 removed：2021 较 2020（与上一核算年相比）"


def test_maps_are_drawn(built):
    import matplotlib.image as mpimg

    for name in ("coverage_2021.png", "redline_change_2020_2021.png", "gep_per_km2_2020.png",
                 f"trend_{CODES[0]}.png"):
        img = mpimg.imread(built["out"] / "maps" / name)
        assert img.shape[0] > 200 and img.shape[1] > 300
        assert float(np.var(img[..., :3])) > 1e-3, name  # not a blank canvas


def test_figures_are_the_same_drawn_in_one_process_or_in_worker_processes(built, tmp_path):
    """The fixture drew its 12 figures (3 coverage, 3 GEP, 2 red-line against the previous year, 1 against the baseline, 3 trends) on 2 worker processes; drawn again in this process, every PNG is
    byte-identical and the report lists them in the same order."""
    out = tmp_path / "serial"
    build_outputs(built["tables"], out, regions=built["regions"], years=YEARS, template=built["template"],
                  provenance=built["provenance"], change_gpkg=built["change_gpkg"], workers=1)
    pngs = sorted(p.name for p in (built["out"] / "maps").glob("*.png"))
    assert len(pngs) == 12 and pngs == sorted(p.name for p in (out / "maps").glob("*.png"))
    for name in pngs:
        assert (out / "maps" / name).read_bytes() == (built["out"] / "maps" / name).read_bytes(), name

    def images(html_path):
        return re.findall(r'data:image/png;base64,([^"]+)"', html_path.read_text(encoding="utf-8"))

    assert images(out / "report" / "index.html") == images(built["out"] / "report" / "index.html")


def _square(x):
    if x == 7:
        raise InputError(f"job {x}: refused")
    return x * x


def _die(code):
    os._exit(code)  # a drawing process killed (e.g. for memory)


def test_figure_pool_keeps_order_and_raises_the_first_error():
    from gep.scorecard.figure_pool import draw

    jobs = [(_square, (x,), {}) for x in range(20)]
    assert draw([j for j in jobs if j[1][0] != 7], 2) == [x * x for x in range(20) if x != 7]
    assert draw(jobs[:7], 1) == [x * x for x in range(7)]
    with pytest.raises(InputError, match="job 7: refused"):
        draw(jobs, 2)
    with pytest.raises(RuntimeError, match="died .killed for memory"):
        draw(jobs[:7] + [(_die, (137,), {})] + jobs[8:], 2)


def test_html_report_is_self_contained_and_escaped(built):
    html = (built["out"] / "report" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "script-src" not in html and "default-src 'none'" in html
    assert "=HYPERLINK(&#34;x&#34;)" in html or "=HYPERLINK(&quot;x&quot;)" in html
    assert "示范县 &lt;b&gt;demo&lt;/b&gt;" in html  # config text from provenance.json is escaped too
    srcs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "url(data:font/woff;base64," in html  # CJK font subset embedded
    assert not re.search(r"url\((?!data:)", html)
    assert "class_scheme_source" in html and "Yang &amp; Huang" in html  # parameters from the tables' meta.json
    for text in ("48.79%", "76.36 km²", "1,050.00 万元/km²", "丘陵区&gt;40%", "3ebda9155d93835bf566c040cbbd1024",
                 "abc123", "区生态环境分局", "一、摘要", "三、指标 10：生态系统生产总值分项", "六、方法与参数来源",
                 "七、数据来源与可追溯性"):
        assert text in html, text
    # every map and trend chart is inlined
    assert html.count("data:image/png;base64,") == 9 + 3  # 3 + 3 + 2 + 1 maps (one against the baseline) and 3 charts


def test_without_gep_summary_indicator_10_is_not_computed(tmp_path):
    r = run_dir(tmp_path / "run", with_gep=False)
    out = tmp_path / "out"
    written = build_outputs(r["tables"], out, regions=r["regions"], years=YEARS, maps=False, report=False,
                            index_dir=tmp_path / "idx")
    assert (tmp_path / "idx" / "lianshan_index.parquet") in written
    df = pd.read_parquet(tmp_path / "idx" / "lianshan_index.parquet")
    ten = df[df["indicator_no"] == 10]
    assert set(ten["status"]) == {NOT_COMPUTED} and ten["value"].isna().all()
    assert not (out / "maps").exists()
    wb = openpyxl.load_workbook(out / "lianshan_index.xlsx")
    assert "gep_summary" not in wb.sheetnames
    assert any("gep_summary not found" in str(c.value) for row in wb["说明"].iter_rows() for c in row)


def test_report_without_maps(tmp_path):
    r = run_dir(tmp_path / "run")
    build_outputs(r["tables"], tmp_path / "out", regions=r["regions"], years=YEARS, maps=False)
    html = (tmp_path / "out" / "report" / "index.html").read_text(encoding="utf-8")
    assert "data:image/png" not in html and "未生成地图" in html and "未提供 provenance.json" in html


def test_regions_without_crs_are_refused(tmp_path):
    r = run_dir(tmp_path / "run")
    with pytest.raises(Exception, match="no CRS"):
        build_outputs(r["tables"], tmp_path / "out", regions=r["regions"].set_crs(None, allow_override=True),
                      years=YEARS, maps=False, report=False)


def test_one_year_run(tmp_path):
    """A run with one year: trends cannot be judged (暂未核算), threshold indicators can."""
    r = run_dir(tmp_path / "run")
    build_outputs(r["tables"], tmp_path / "out", regions=r["regions"], years=[2020], maps=False, report=False)
    df = pd.read_parquet(tmp_path / "out" / "lianshan_index.parquet")
    assert set(df["year"]) == {2020}
    s = df.set_index(["region_code", "indicator_no"])
    assert s.loc[(CODES[0], 7), "status"] == MET
    assert s.loc[(CODES[0], 4), "status"] == NOT_COMPUTED


def test_cli_scorecard(tmp_path, capsys):
    r = run_dir(tmp_path / "run")
    out = tmp_path / "sc"
    args = ["scorecard", "--tables-dir", str(r["tables"]), "--out-dir", str(out), "--regions",
            str(r["regions_path"]), "--id-field", "code", "--name-field", "name", "--years", "2019", "2020", "2021",
            "--change-gpkg", str(r["change_gpkg"]), "--provenance", str(r["provenance"])]
    assert main(args + ["--no-maps", "--no-report"]) == 0
    assert (out / "lianshan_index.xlsx").is_file() and (out / "indicators.gpkg").is_file()
    assert not (out / "report").exists()
    df = pd.read_csv(out / "lianshan_index.csv", dtype={"region_code": str})
    assert set(df["region_name"]) == {"甲镇", FORMULA_NAME, SCRIPT_NAME}
    capsys.readouterr()
    assert main(args + ["--no-maps", "--no-report", "--template", str(tmp_path / "missing.xlsx")]) == 2
    assert "--template" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("区域代码,序号,2019\n999,1,abc\n", encoding="utf-8")
    assert main(args + ["--no-maps", "--no-report", "--template", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "'999' is not a region of this run" in err
    assert main(["scorecard", "--tables-dir", str(tmp_path / "nope"), "--out-dir", str(out), "--regions",
                 str(r["regions_path"]), "--id-field", "code", "--years", "2020"]) == 2


def test_tables_made_by_the_pipeline_functions_feed_the_scorecard(tmp_path):
    """Contract with the stages upstream: tables from gep.indicators.coverage.index / gep.indicators.protected.areas (not hand-made)."""
    reg = fixture_regions()
    rows = []
    for code, name in zip(reg["region_code"], reg["region_name"]):
        for y, forest in ((2020, 40.0), (2021, 41.0)):  # hill region: 40% is not "> 40%", 41% is
            for terrain, lc, cat, area in ((2, 2, "forest", forest), (2, 1, "cropland", 100.0 - forest)):
                rows.append({"region_code": code, "region_name": name, "year": y, "terrain_code": terrain,
                             "lc_code": lc, "category": cat, "area_km2": area})
    terrain_area = pd.DataFrame(rows)
    cov = forest_grass_coverage(terrain_area, region_terrain_type(terrain_area), "national")
    layers = {2020: box(112.5, 28.2, 112.55, 28.3), 2021: box(112.5, 28.2, 112.54, 28.3)}
    areas = pd.concat([protected_area(reg, gpd.GeoDataFrame(geometry=[g], crs=4490), layer_name="redline", year=y)
                       for y, g in layers.items()], ignore_index=True)
    change = protected_change(areas)
    idx = lianshan_index(NAT, [2020, 2021], reg, coverage=cov, protected_change=change)
    s = idx.set_index(["region_code", "indicator_no", "year"])
    a = CODES[0]
    assert s.loc[(a, 7, 2020), "status"] == NOT_MET and s.loc[(a, 7, 2021), "status"] == MET
    assert s.loc[(a, 7, 2021), "target"] == "丘陵区>40%"
    assert s.loc[(a, 9, 2020), "status"] == MET and s.loc[(a, 9, 2021), "status"] == NOT_MET
    assert s.loc[(a, 9, 2020), "value"] == pytest.approx(areas.query("region_code == @a and year == 2020")
                                                          ["area_km2"].iloc[0])
    assert s.loc[(CODES[1], 9, 2021), "status"] == MET  # no red line at all: 0 km², not decreased
    d = tmp_path / "tables"  # the same tables go through the whole stage
    write_table(cov, d, "forest_grass_coverage")
    write_table(areas, d, "protected_area")
    write_table(change, d, "protected_change")
    written = build_outputs(d, tmp_path / "sc", regions=reg, years=[2020, 2021], maps=True, report=False)
    assert (tmp_path / "sc" / "maps" / "coverage_2021.png") in written


def test_cjk_font_comes_from_a_package_or_the_env_var(tmp_path, monkeypatch):
    from gep.core.errors import InputError
    from gep.scorecard import fonts

    fonts.cjk_font_file.cache_clear()
    try:
        path = str(fonts.cjk_font_file())
        assert "site-packages" in path or "dist-packages" in path  # installed by pip, not a system font
        monkeypatch.setenv(fonts.ENV_VAR, str(tmp_path / "none.ttf"))
        fonts.cjk_font_file.cache_clear()
        with pytest.raises(InputError, match="GEP_CJK_FONT"):
            fonts.cjk_font_file()
    finally:
        monkeypatch.delenv(fonts.ENV_VAR, raising=False)
        fonts.cjk_font_file.cache_clear()


def test_map_labels_with_dollar_signs_are_literal(tmp_path):
    """A '$' in a region name would start matplotlib mathtext (and fail on bad TeX) if not escaped."""
    from test_scorecard_fixtures import coverage_table

    from gep.scorecard.maps import coverage_map

    reg = fixture_regions().assign(region_name=[r"x$\frac$y", "$1$", "乙"])
    out = coverage_map(reg, coverage_table(), 2021, tmp_path / "m.png")
    assert out.is_file() and out.stat().st_size > 10_000


def test_index_parquet_types(tmp_path):
    import pyarrow.parquet as pq

    r = run_dir(tmp_path / "run")
    build_outputs(r["tables"], tmp_path / "out", regions=r["regions"], years=YEARS, maps=False, report=False)
    schema = pq.read_schema(tmp_path / "out" / "lianshan_index.parquet")
    assert str(schema.field("value_text").type) in ("string", "large_string")  # all empty, still text
    assert str(schema.field("responsible_unit").type) in ("string", "large_string")
    assert str(schema.field("value").type) == "double" and str(schema.field("indicator_no").type) == "int64"
    meta = (tmp_path / "out" / "lianshan_index.meta.json").read_text(encoding="utf-8")
    assert '"standard": "national"' in meta


def _touch(path):
    import time

    time.sleep(0.05)
    Path(path).touch()
    return path


def test_figures_not_started_are_cancelled_when_the_block_fails(tmp_path):
    """The scorecard writes its workbook while the figures are drawn; if that fails, the charts not started yet
    are dropped instead of being drawn to the end."""
    from gep.scorecard.figure_pool import drawing

    jobs = [(_touch, (tmp_path / f"{k}.done",), {}) for k in range(80)]
    with pytest.raises(InputError, match="workbook failed"):
        with drawing(jobs, 2) as results:
            raise InputError("workbook failed")
    assert len(list(tmp_path.glob("*.done"))) < len(jobs)
    with drawing(jobs[:40], 2) as results:  # and the results, when asked for, are every job's, in order
        assert results() == [tmp_path / f"{k}.done" for k in range(40)]


def test_drawing_processes_fit_the_jobs_memory(monkeypatch, capsys):
    """No more drawing processes than the job's memory (GEP_MEM_MB, the rule's mem_mb) holds, and never more
    than the figures need; a bad GEP_MEM_MB is a one-line error."""
    from gep.scorecard.figure_pool import BASE_MB, MIN_JOBS_PER_WORKER, PROCESS_MB, draw, processes

    many = 100 * MIN_JOBS_PER_WORKER
    assert processes(16, many, None) == 16
    assert processes(16, many, BASE_MB + 7 * PROCESS_MB) == 7
    assert processes(16, many, BASE_MB + 7 * PROCESS_MB - 1) == 6
    assert processes(16, many, 100) == 1  # too little for a pool: drawn in this process
    assert processes(16, 3 * MIN_JOBS_PER_WORKER, None) == 3
    monkeypatch.setenv("GEP_MEM_MB", str(BASE_MB + PROCESS_MB))  # room for one: drawn here, with a note
    assert draw([(_square, (x,), {}) for x in range(20) if x != 7], 2) == [x * x for x in range(20) if x != 7]
    assert "on 1 process(es), not 2" in capsys.readouterr().err
    monkeypatch.setenv("GEP_MEM_MB", "2GB")
    with pytest.raises(InputError, match="GEP_MEM_MB=2GB: not a memory size"):
        draw([], 2)
