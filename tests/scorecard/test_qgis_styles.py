"""Every GeoPackage layer gep writes opens in real QGIS (Debian's python3-qgis, in a subprocess) with its default
style from ``layer_styles``, every other stored style applies, and each draws a non-blank map.

Written from the scorecard fixtures (three townships, 2019–2021) and the demo data: ``indicators.gpkg``,
``maps/protected_change.gpkg`` (written by the protected-area stage's writer), the demo's county, townships,
red line, protected areas and survey parcels. The expected colours follow from the fixture's numbers, not from
the style code: 甲镇 is exactly at its 40% target in 2021 (strict ">" → 不达标), the other two above theirs;
甲镇's red line shrinks in 2021. Skipped when QGIS cannot be imported (see tests/qgis_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from qgis_helpers import QGIS_PYTHON, SKIP_REASON, run_qgis_script
from test_scorecard_fixtures import YEARS, change_gpkg, coverage_table, gep_table, protected_tables, regions

from gep.demo import generate
from gep.accounting.survey_demo import write_demo_survey
from gep.indicators.protected.areas import write_change_gpkg
from gep.scorecard import lianshan_index, load_lianshan_standard
from gep.scorecard.fonts import cjk_font_file
from gep.scorecard.geopackage import indicator_layer, write_indicators_gpkg

pytestmark = [pytest.mark.skipif(QGIS_PYTHON is None, reason=SKIP_REASON), pytest.mark.slow]

MET_GREEN, NOT_MET_ORANGE, DECREASE_RED = "#31a354", "#fd8d3c", "#d7191c"


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    root = tmp_path_factory.mktemp("qgis")
    std = load_lianshan_standard("national")
    _, pc = protected_tables()
    index = lianshan_index(std, YEARS, regions(), coverage=coverage_table(), protected_change=pc,
                           gep_summary=gep_table())
    src = change_gpkg(root / "change_src.gpkg")
    change = write_change_gpkg(root / "protected_change.gpkg",
                               {n: pyogrio.read_dataframe(src, layer=n) for n, _ in pyogrio.list_layers(src)})
    ind = write_indicators_gpkg(root / "indicators.gpkg", indicator_layer(regions(), index, std,
                                                                          coverage=coverage_table()),
                                change_gpkg=change, breaks=[18, 40, 60], comparison=">")
    demo = generate(root / "demo")
    survey = write_demo_survey(root / "demo")
    uris = {}
    for path in (ind, change, demo["county"], demo["townships"], demo["redline"][min(demo["redline"])],
                 demo["protected"][min(demo["protected"])], survey):
        for name, geom in pyogrio.list_layers(path):
            if geom is not None:
                uris[(Path(path).name, str(name))] = f"{path}|layername={name}"
    pngs = root / "png"
    pngs.mkdir()
    font = str(cjk_font_file())
    out = run_qgis_script("render_layers.py", str(pngs), *uris.values(), env={"GEP_QGIS_FONT": font})
    return {key: rec for key, rec in zip(uris, out["layers"])}


def test_every_layer_opens_with_its_default_style_and_draws(opened):
    assert len(opened) == 10  # indicators.gpkg: 3 layers; protected_change.gpkg: 2; demo: 5
    for key, rec in opened.items():
        assert rec["valid"] and rec["features"] > 0, key
        first = rec["styles"][0]
        assert first["renderer"] in ("categorizedSymbol", "graduatedSymbol", "singleSymbol"), key
        assert first["drawn"] > 500, f"{key}: map drawn blank"
        for s in rec["styles"][1:]:
            assert s["import_error"] is None, (key, s["name"], s["import_error"])
            assert s["drawn"] > 500, (key, s["name"])


def test_indicator_layer_default_is_coverage_against_each_target(opened):
    rec = opened[("indicators.gpkg", "indicators")]
    s = rec["styles"][0]
    assert (s["renderer"], s["attr"]) == ("categorizedSymbol", "coverage_status_2021")
    assert [c[0] for c in s["classes"]] == ["达标", "不达标", ""]
    # features in region order: 甲镇 at exactly 40% (> 40 fails), the others above their 60% / 18% targets
    assert list(s["symbols"].values()) == [NOT_MET_ORANGE, MET_GREEN, MET_GREEN]
    assert s["label_texts"]["1"] == "甲镇\n40.0%（目标 >40%）"
    assert s["colours"].get(NOT_MET_ORANGE, 0) > 1000 and s["colours"].get(MET_GREEN, 0) > 2000
    assert len(rec["stored"]) == 13  # 3 years × (coverage status, coverage classes, red line, GEP) + terrain


def test_indicator_layer_other_styles(opened):
    styles = {s["name"]: s for s in opened[("indicators.gpkg", "indicators")]["styles"][1:]}
    cls = styles["林草覆盖率 2019 分级"]
    assert cls["renderer"] == "graduatedSymbol" and [c[:2] for c in cls["classes"]] == [[0, 18], [18, 40], [40, 60],
                                                                                        [60, 100]]
    # 2019: 48.79 % in (40, 60], 65 % in (60, 100], 15 % in [0, 18]: three different classes
    assert len(set(cls["symbols"].values())) == 3
    red = styles["生态保护红线 2021 不减少"]
    assert red["attr"] == "redline_status_2021" and list(red["symbols"].values())[0] == DECREASE_RED
    assert "少于上一年或基准年" in dict(red["classes"])["不达标"]
    assert red["label_texts"]["1"] == "甲镇\n75.00 km²"
    gep = styles["GEP 2021 每平方公里（当年价）"]
    assert gep["renderer"] == "graduatedSymbol" and gep["attr"] == "gep_per_km2_wan_yuan_2021"
    assert gep["label_texts"]["2"].endswith("2,100 万元/km²")
    assert all(v is not None for v in gep["symbols"].values())  # every region inside a class
    ter = styles["地形类型"]
    assert ter["attr"] == "terrain_type" and ter["label_texts"]["3"].endswith("平原区")


def test_change_layers_say_which_years_they_compare(opened):
    for gpkg in ("indicators.gpkg", "protected_change.gpkg"):
        s = opened[(gpkg, "redline_2020_2021")]["styles"][0]
        assert (s["renderer"], s["attr"]) == ("categorizedSymbol", "change")
        assert dict(s["classes"])["removed"] == "减少 removed：2021 较 2020（与上一核算年相比）"
        assert list(s["symbols"].values()) == [DECREASE_RED] and s["label_texts"]["1"] == "−1.360 km²"
        assert s["colours"].get(DECREASE_RED, 0) > 1000
        added = opened[(gpkg, "redline_2019_2020")]["styles"][0]
        assert dict(added["classes"])["added"].startswith("新增 added：2020 较 2019")


def test_demo_layers_are_labelled_by_name(opened):
    s = opened[("townships.gpkg", "townships")]["styles"][0]
    assert s["renderer"] == "singleSymbol" and s["labels"]
    assert len(s["label_texts"]) == 14 and all(t.endswith(("镇", "乡")) for t in s["label_texts"].values())
    assert opened[("survey.gpkg", "DLTB")]["styles"][0]["renderer"] == "singleSymbol"
