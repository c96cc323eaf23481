"""The department template: written blank, filled, read back; bad templates report every problem at once."""

from __future__ import annotations

import csv
import math

import openpyxl
import pandas as pd
import pytest
from test_scorecard_fixtures import CODES, FORMULA_NAME, NAMES, YEARS, regions, run_dir

from gep.cli.main import main
from gep.core.errors import InputError
from gep.scorecard import lianshan_index, load_lianshan_standard, read_template, write_template
from gep.scorecard.judge import MET, NOT_COMPUTED, NOT_MET, NOT_SURVEYED

NAT = load_lianshan_standard("national")


def _fill_xlsx(path, out, values):
    """Fill a written template: ``values`` maps (region_code, indicator_no, year) → cell value."""
    wb = openpyxl.load_workbook(path)
    ws = wb["填报"]
    header = [c.value for c in ws[1]]
    col = {h: j for j, h in enumerate(header)}
    for row in ws.iter_rows(min_row=2):
        code, no = row[0].value, row[2].value
        for y in YEARS:
            v = values.get((code, no, y))
            if v is not None:
                cell = row[col[str(y)]]
                if isinstance(v, tuple):  # (value, number_format)
                    cell.value, cell.number_format = v
                else:
                    cell.value = v
        if (code, no, "resp") in values:
            row[col["责任单位"]].value = values[(code, no, "resp")]
    wb.save(out)
    return out


def test_blank_xlsx_template_layout(tmp_path):
    p = write_template(tmp_path / "t.xlsx", NAT, YEARS, regions())
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["填报", "说明"]
    ws = wb["填报"]
    header = [c.value for c in ws[1]]
    assert header == ["区域代码", "区域名称", "序号", "指标", "项目", "单位", "目标值", "2019", "2020", "2021",
                      "责任单位", "备注"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3 * 17
    assert {r[2] for r in rows} == set(range(1, 21)) - {7, 9, 10}
    first = rows[0]
    assert first[:7] == (CODES[0], "甲镇", 1, "环境空气质量优良天数比例", "现状值", "%", ">90%")
    assert ws["A2"].data_type == "s" and ws["A2"].number_format == "@"  # codes stay text
    # a region named like a formula is literal text in the template too
    cells = [ws.cell(row=r, column=2) for r in range(2, ws.max_row + 1)]
    f = [c for c in cells if c.value == FORMULA_NAME]
    assert f and all(c.data_type == "s" for c in f)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_guizhou_template_has_reference_rows(tmp_path):
    p = write_template(tmp_path / "g.csv", load_lianshan_standard("guizhou"), [2020], regions().iloc[:1])
    df = pd.read_csv(p, dtype=str)
    ref = df[df["项目"] == "参考值"]
    assert list(ref["序号"]) == ["1"] and ref["指标"].iloc[0] == "当年度全省平均水平"
    assert len(df) == 18


def test_filled_xlsx_round_trip(tmp_path):
    t = write_template(tmp_path / "t.xlsx", NAT, YEARS, regions())
    c = CODES[0]
    filled = _fill_xlsx(t, tmp_path / "filled.xlsx", {
        (c, 1, 2019): 91, (c, 1, 2020): "90%", (c, 1, 2021): (0.905, "0.0%"),  # number, text %, Excel percent
        (c, 4, 2019): 80.0, (c, 4, 2020): 80.0, (c, 4, 2021): 79.5,
        (c, 8, 2019): 1198, (c, 8, 2020): 1200,
        (c, 16, 2020): "已获得（国家森林城市）", (c, 18, 2021): "建立实施", (c, 19, 2021): "正在探索建立",
        (c, 17, 2021): "暂未调查", (c, 20, 2021): "3.09",
        (c, 20, "resp"): "区财政局",
    })
    dep = read_template(filled, NAT, YEARS, regions())
    v = dep.values.set_index(["region_code", "indicator_no", "year"])
    assert v.loc[(c, 1, 2019), "value"] == 91.0
    assert v.loc[(c, 1, 2020), "value"] == 90.0
    assert math.isclose(v.loc[(c, 1, 2021), "value"], 90.5)
    assert v.loc[(c, 16, 2020), "value_text"] == "已获得（国家森林城市）"
    idx = lianshan_index(NAT, YEARS, regions(), department=dep)
    s = idx[idx["region_code"] == c].set_index(["indicator_no", "year"])
    assert s.loc[(1, 2019), "status"] == MET
    assert s.loc[(1, 2020), "status"] == NOT_MET            # exactly 90 under ">90%"
    assert s.loc[(1, 2021), "status"] == MET
    assert s.loc[(4, 2019), "status"] == NOT_COMPUTED       # first year of a trend
    assert s.loc[(4, 2020), "status"] == NOT_MET            # equal: no rise, so not 稳定提高
    assert s.loc[(4, 2021), "status"] == NOT_MET
    assert s.loc[(8, 2020), "status"] == MET and s.loc[(8, 2021), "status"] == NOT_COMPUTED
    assert s.loc[(16, 2020), "status"] == MET and s.loc[(16, 2019), "status"] == NOT_COMPUTED
    assert s.loc[(18, 2021), "status"] == MET and s.loc[(19, 2021), "status"] == NOT_MET
    assert s.loc[(17, 2021), "status"] == NOT_SURVEYED and s.loc[(17, 2020), "status"] == NOT_SURVEYED
    assert s.loc[(20, 2021), "status"] == MET and s.loc[(20, 2021), "responsible_unit"] == "区财政局"
    assert s.loc[(5, 2021), "status"] == NOT_COMPUTED       # empty cell
    other = idx[idx["region_code"] == CODES[1]]
    assert set(other.loc[other["source"] == "department", "status"]) <= {NOT_COMPUTED, NOT_SURVEYED}


def test_csv_template_keeps_formula_like_names_literal(tmp_path):
    t = write_template(tmp_path / "t.csv", NAT, [2020], regions())
    names = set(pd.read_csv(t, dtype=str)["区域名称"])
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names
    assert read_template(t, NAT, [2020], regions()).values.empty  # still reads back (names are not used)


def test_filled_csv_round_trip_keeps_leading_zeros(tmp_path):
    reg = regions().assign(region_code=["0101", "0102", "0103"])
    t = write_template(tmp_path / "t.csv", NAT, [2020, 2021], reg)
    rows = list(csv.reader(t.read_text(encoding="utf-8-sig").splitlines()))
    header = rows[0]
    for r in rows[1:]:
        if r[0] == "0101" and r[2] == "20":
            r[header.index("2020")] = "2.5"
            r[header.index("2021")] = "3.5%"
            r[header.index("责任单位")] = "财政局"
    t.write_text("\n".join(",".join(f'"{x}"' for x in r) for r in rows) + "\n", encoding="utf-8-sig")  # BOM ok
    dep = read_template(t, NAT, [2020, 2021], reg)
    assert list(dep.values["region_code"]) == ["0101", "0101"]
    idx = lianshan_index(NAT, [2020, 2021], reg, department=dep).set_index(["region_code", "indicator_no", "year"])
    assert idx.loc[("0101", 20, 2020), "status"] == NOT_MET
    assert idx.loc[("0101", 20, 2021), "status"] == MET
    assert idx.loc[("0101", 20, 2021), "responsible_unit"] == "财政局"


def test_bad_template_reports_all_problems_at_once(tmp_path):
    t = write_template(tmp_path / "t.xlsx", NAT, YEARS, regions())
    wb = openpyxl.load_workbook(t)
    ws = wb["填报"]
    header = [c.value for c in ws[1]]
    ws.cell(row=1, column=len(header) + 1, value="2018")  # a year outside the run
    col = {h: j + 1 for j, h in enumerate(header)}
    ws.cell(row=2, column=col["2019"], value="≥90%")            # text in a numeric cell (indicator 1)
    ws.cell(row=3, column=col["2020"], value=101)               # percentage above 100 (indicator 2)
    ws.cell(row=4, column=col["单位"], value="万元")             # wrong unit (indicator 3)
    ws.cell(row=5, column=col["序号"], value=99)                 # unknown indicator number
    ws.cell(row=6, column=len(header) + 1, value=88)            # value for 2018
    ws.cell(row=7, column=col["2021"], value=-5)                # negative percentage (indicator 6)
    ws.cell(row=8, column=col["2021"], value="可能吧")           # unknown answer... on indicator 8 (numeric)
    ws.cell(row=16, column=col["2020"], value="差不多")          # unknown text answer (indicator 18)
    ws.append(["999999", "外县", 1, "环境空气质量优良天数比例", "现状值", "%", ">90%", 95])  # region not in run
    ws.append([CODES[0], "甲镇", 7, "林草覆盖率", "现状值", "%", "", 50])  # gep computes 7
    ws.append([CODES[0], "甲镇", 1, "环境空气质量优良天数比例", "现状值", "%", ">90%", 95])  # duplicate row
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(InputError) as err:
        read_template(tmp_path / "bad.xlsx", NAT, YEARS, regions())
    lines = err.value.lines()
    text = "\n".join(lines)
    assert str(err.value).startswith(f"{len(lines)} problem(s)")
    expected = ["cell H2", "'≥90%'", "cell I3", "101% ", "cell F4", "'万元'", "cell C5", "number 99",
                "cell J7", "-5% ", "cell J8", "'可能吧'", "cell I16", "'差不多'", "'999999'", "gep computes",
                "repeats row 2", "2018"]
    for e in expected:
        assert e in text, e
    assert len(lines) == 11
    assert all(str(tmp_path / "bad.xlsx") in line for line in lines)
    assert all(";" in line for line in lines)  # every line says what to do


def test_bad_template_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_template(tmp_path / "missing.xlsx", NAT, YEARS, regions())
    (tmp_path / "x.txt").write_text("a", encoding="utf-8")
    with pytest.raises(InputError, match="use .xlsx or .csv"):
        read_template(tmp_path / "x.txt", NAT, YEARS, regions())
    (tmp_path / "h.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_template(tmp_path / "h.csv", NAT, YEARS, regions())
    assert len(err.value.lines()) == 3  # region code, indicator number and year columns missing
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot be read as an Excel workbook"):
        read_template(tmp_path / "broken.xlsx", NAT, YEARS, regions())


def test_formula_without_cached_value_is_reported(tmp_path):
    t = write_template(tmp_path / "t.xlsx", NAT, YEARS, regions())
    wb = openpyxl.load_workbook(t)
    wb["填报"]["H2"] = "=1+90"  # openpyxl stores no computed value
    wb.save(tmp_path / "f.xlsx")
    with pytest.raises(InputError, match="formula without a computed value"):
        read_template(tmp_path / "f.xlsx", NAT, YEARS, regions())


def test_cli_index_template(tmp_path, capsys):
    r = run_dir(tmp_path / "run")
    out = tmp_path / "tpl.xlsx"
    rc = main(["index-template", str(out), "--regions", str(r["regions_path"]), "--id-field", "code",
               "--name-field", "name", "--years", "2019", "2020", "--standard", "national"])
    assert rc == 0 and out.is_file()
    assert "3 region(s) × 17 indicators" in capsys.readouterr().out
    ws = openpyxl.load_workbook(out)["填报"]
    assert [c.value for c in ws[1]][7:9] == ["2019", "2020"]
    assert {ws.cell(row=k, column=2).value for k in range(2, ws.max_row + 1)} == set(NAMES)
    rc = main(["index-template", str(tmp_path / "tpl.txt"), "--regions", str(r["regions_path"]), "--id-field", "code",
               "--years", "2020"])
    assert rc == 2
    assert "use .xlsx or .csv" in capsys.readouterr().err
    rc = main(["index-template", str(out), "--regions", str(r["regions_path"]), "--id-field", "code",
               "--years", "2020", "--standard", "mars"])
    assert rc == 2


def test_row_for_a_computed_indicator_may_carry_a_responsible_unit(tmp_path):
    t = write_template(tmp_path / "t.xlsx", NAT, YEARS, regions())
    wb = openpyxl.load_workbook(t)
    ws = wb["填报"]
    ws.append([CODES[0], "甲镇", 7, "林草覆盖率", "现状值", "%", "", None, None, None, "区林业局"])
    wb.save(tmp_path / "f.xlsx")
    dep = read_template(tmp_path / "f.xlsx", NAT, YEARS, regions())
    idx = lianshan_index(NAT, YEARS, regions(), department=dep)
    seven = idx[(idx["region_code"] == CODES[0]) & (idx["indicator_no"] == 7)]
    assert set(seven["responsible_unit"]) == {"区林业局"} and set(seven["source"]) == {"pipeline"}


def test_one_template_for_two_region_levels(tmp_path):
    """A county row and township rows in one file: each level reads its own rows; a code in no level is still
    an error (issue: with county + township levels every template failed at one level or both)."""
    towns = regions()
    county = pd.DataFrame({"region_code": ["430124000000"], "region_name": ["示范县"]})
    t = tmp_path / "both.csv"
    t.write_text("区域代码,序号,项目,2020\n430124000000,20,现状值,3.5\n430124001,20,现状值,1.5\n"
                 "430124002,20,现状值,2.5\n", encoding="utf-8")
    dep_c = read_template(t, NAT, [2020], county, other_levels=CODES)
    assert dep_c.values[["region_code", "value"]].values.tolist() == [["430124000000", 3.5]]
    dep_t = read_template(t, NAT, [2020], towns, other_levels=["430124000000"])
    assert sorted(dep_t.values["region_code"]) == ["430124001", "430124002"]
    assert sorted(dep_t.values["value"]) == [1.5, 2.5]
    with pytest.raises(InputError, match="430124000000"):  # without the other level, its row is unknown
        read_template(t, NAT, [2020], towns)


def test_template_per_level_must_name_known_levels(tmp_path):
    from gep import config as gep_config

    base = {"years": [2020], "landcover": {"path": "lc_{year}.tif"},
            "regions": {"county": {"path": "c.gpkg", "id_field": "code"},
                        "township": {"path": "t.gpkg", "id_field": "code"}}}
    cfg = gep_config.validate({**base, "scorecard": {"template": {"county": "c.csv", "township": "t.csv"}}}, "x")
    assert cfg.scorecard.template_for("county") == "c.csv" and cfg.scorecard.templates() == ["c.csv", "t.csv"]
    with pytest.raises(InputError, match="village"):
        gep_config.validate({**base, "scorecard": {"template": {"village": "v.csv"}}}, "x")
