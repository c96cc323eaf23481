"""Maps and charts that read at any number of regions: labels never drawn over each other (checked with the
renderer's own boxes), whole years on the time axis, 200 dpi, and maps whose colours and labels tell the same
comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import geopandas as gpd
from PIL import Image
from shapely.geometry import box
from test_scorecard_fixtures import CODES, coverage_table, protected_tables, regions

from gep.scorecard import load_lianshan_standard
from gep.scorecard.maps import (DPI, LABEL_GID, change_class, coverage_figure, coverage_map, redline_figure,
                                trend_figure)

NAT = load_lianshan_standard("national")


def _province(n_cols=12, n_rows=10):
    """120 small regions (0.05° squares) in a grid, long names, a value each."""
    cells = [(i, j) for j in range(n_rows) for i in range(n_cols)]
    codes = [f"4301{k:08d}" for k in range(len(cells))]
    reg = gpd.GeoDataFrame({"region_code": codes, "region_name": [f"第{k}号长名称乡镇" for k in range(len(cells))]},
                           geometry=[box(112 + 0.05 * i, 28 + 0.05 * j, 112.05 + 0.05 * i, 28.05 + 0.05 * j)
                                     for i, j in cells], crs=4490)
    cov = pd.DataFrame({"region_code": codes, "year": 2021, "coverage_pct": np.linspace(10, 90, len(codes)),
                        "terrain_type": "山区", "target_pct": 60.0, "comparison": ">"})
    cov["meets_target"] = cov["coverage_pct"] > 60
    return reg, cov


def _label_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for ax in fig.axes for t in ax.texts if t.get_gid() == LABEL_GID]
    return texts, [t.get_bbox_patch().get_window_extent(renderer) for t in texts]


def test_no_two_drawn_labels_overlap_on_120_regions():
    reg, cov = _province()
    fig = coverage_figure(reg, cov, 2021)
    texts, boxes = _label_boxes(fig)
    assert 5 <= len(texts) < len(reg)  # some fit, not all (a 12 × 10 grid of three-line labels on 8 inches)
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            assert not boxes[a].overlaps(boxes[b]), (texts[a].get_text(), texts[b].get_text())
    # and the map says how many it left out
    note = [t.get_text() for t in fig.axes[0].texts if "放不下" in t.get_text()]
    assert note and f"另有 {len(reg) - len(texts)} 个区域" in note[0]


def test_three_regions_are_all_labelled():
    fig = coverage_figure(regions(), coverage_table(), 2021)
    texts, boxes = _label_boxes(fig)
    assert len(texts) == 3 and not any("放不下" in t.get_text() for t in fig.axes[0].texts)


def test_maps_are_200_dpi(tmp_path):
    out = coverage_map(regions(), coverage_table(), 2021, tmp_path / "m.png")
    with Image.open(out) as im:
        dpi = im.info.get("dpi")
        assert DPI == 200
        # an 8-inch-wide figure cropped to what is drawn: well over 110 dpi's 880 pixels
        assert im.size[0] > 1000
    assert dpi is None or round(dpi[0]) == 200


def _years_of(ax):
    """The x tick labels drawn (ticks inside the view)."""
    lo, hi = ax.get_xlim()
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text() and lo <= t.get_position()[0] <= hi]


def test_year_axis_prints_whole_years():
    idx = pd.DataFrame({"region_code": "1", "region_name": "甲", "year": [2021], "indicator_no": 7,
                        "value": [41.0], "status": ["达标"]})
    fig = trend_figure(idx, "1", standard=NAT)
    fig.canvas.draw()
    assert _years_of(fig.axes[0]) == ["2021"]
    assert fig.axes[0].xaxis.get_offset_text().get_text() == ""
    many = pd.DataFrame({"region_code": "1", "region_name": "甲", "year": list(range(2001, 2024)), "indicator_no": 7,
                         "value": np.linspace(40, 50, 23), "status": "达标"})
    fig = trend_figure(many, "1", standard=NAT)
    fig.canvas.draw()
    labels = _years_of(fig.axes[0])
    assert labels and all(t.isdigit() and 1999 <= int(t) <= 2025 for t in labels)  # whole years near the run
    assert fig.axes[0].xaxis.get_offset_text().get_text() == ""


def test_redline_map_colours_and_labels_use_one_comparison():
    """甲镇 (75.0 km² in 2021): −1.36 against the previous year 2020, −1.36 against the 2019 baseline; 乙
    (12.0): 0 against 2020 but +2 against 2019. Each map colours by the change it prints and says which."""
    _, pc = protected_tables()
    assert change_class(0.0004) == "不变" and change_class(-0.0004) == "不变" and change_class(-0.0006) == "减少"
    for comparison, from_year, expect in (("previous", 2020, {CODES[0]: "减少", CODES[1]: "不变"}),
                                          ("baseline", 2019, {CODES[0]: "减少", CODES[1]: "增加"})):
        fig = redline_figure(regions(), pc, from_year, 2021, comparison=comparison)
        ax = fig.axes[0]
        words = "上一年" if comparison == "previous" else "基准年"
        assert any(f"2021年与{words}（{from_year}年）" in t.get_text() for t in ax.texts)
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert all(words in t for t in legend if t[:2] in ("增加", "不变", "减少"))
        labels = {t.get_text().split("\n")[0]: t.get_text() for t in ax.texts if t.get_gid() == LABEL_GID}
        assert "Δ -1.360 km²" in labels["甲镇"]
        second = next(v for k, v in labels.items() if k.startswith("=HYPERLINK"))
        assert ("Δ +0.000 km²" if comparison == "previous" else "Δ +2.000 km²") in second
        assert {c: change_class(d) for c, d in zip(CODES[:2], [-1.36, 0.0 if comparison == "previous" else 2.0])} \
            == expect
