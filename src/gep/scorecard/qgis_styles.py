"""QGIS styles of the ``indicators`` layer of ``indicators.gpkg`` (one per theme and year; see docs/methods.md §5).

For each year Y of the layer:

- 林草覆盖率 Y 达标/不达标 — categorized on ``coverage_status_Y`` (the judgement against each region's own
  target, which depends on its terrain type), labelled "name / value% (目标 >target%)"; the last year's is the
  layer's default style;
- 林草覆盖率 Y 分级 — graduated on ``coverage_pct_Y``, classes cut at the standard's targets (18/40/60 %);
- 生态保护红线 Y — categorized on ``redline_status_Y``: 达标 = not less than the previous year and the baseline
  year, 不达标 = less than either (docs/methods.md §3), labelled with the area in km²;
- GEP Y 每平方公里 — graduated on ``gep_per_km2_wan_yuan_Y`` (万元/km², current prices), the same classes for
  every year (quantiles of all years' values) so years compare;

and 地形类型 — categorized on ``terrain_type`` (山区 / 丘陵区 / 平原区 / 干旱半干旱地区).
The QML itself is built by :mod:`gep.io.qgis_styles`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gep.config.terrain import REGION_TYPES
from gep.indicators.judgement import MET, NO_DATA, NOT_COMPUTED, NOT_MET
from gep.io.qgis_styles import (GREENS, Category, LayerStyle, Range, categorized_qml, graduated_qml,
                                label_expression, ramp)

NAME = '"region_name"'
MET_COLOUR = "49,163,84,255"
NOT_MET_COLOUR = "253,141,60,255"
TERRAIN_COLOURS = {"山区": "140,81,10,255", "丘陵区": "216,179,101,255", "平原区": "199,234,229,255",
                   "干旱半干旱地区": "246,232,195,255"}


def _years(columns: Sequence[str], prefix: str) -> list[int]:
    pat = re.compile(re.escape(prefix) + r"(\d{4})$")
    return sorted(int(m.group(1)) for c in columns if (m := pat.match(str(c))))


def _num(field: str, decimals: int) -> str:
    return f'format_number("{field}", {decimals})'


def coverage_status_style(year: int, comparison: str = ">", *, default: bool = False) -> LayerStyle:
    """林草覆盖率 of ``year`` by judgement: 达标 (above the region's own target) / 不达标 / not judged."""
    cmp = comparison or ">"
    cats = [Category(MET, MET_COLOUR, f"达标：林草覆盖率 {cmp} 本区目标（{year}）"),
            Category(NOT_MET, NOT_MET_COLOUR, f"不达标：林草覆盖率未达本区目标（{year}）")]
    value = f"{_num(f'coverage_pct_{year}', 1)} || '%'"
    target = f"'（目标 {cmp}' || {_num(f'coverage_target_pct_{year}', 0)} || '%）'"
    labels = label_expression(NAME, f"{value} || coalesce({target}, '')")
    return LayerStyle("indicators", f"林草覆盖率 {year} 达标/不达标",
                      categorized_qml(f"coverage_status_{year}", cats, other=f"{NOT_COMPUTED} / {NO_DATA}",
                                      labels=labels),
                      f"forest and grass coverage {year}: meets its region's target or not (gep)", default)


def coverage_class_style(year: int, breaks: Sequence[float]) -> LayerStyle:
    """林草覆盖率 of ``year`` in classes [0, b1], (b1, b2], …, (bn, 100] cut at the targets ``breaks`` (%).

    QGIS's ranges include their upper bound, so with strict targets ("> 40%") a region exactly at 40 falls in
    the class below the target, as its judgement does."""
    edges = sorted({0.0, 100.0, *[float(b) for b in breaks if 0 < float(b) < 100]})
    n = len(edges) - 1
    colours = ramp(n)
    ranges = [Range(edges[k], edges[k + 1], colours[k], f"{edges[k]:g} – {edges[k + 1]:g} %") for k in range(n)]
    labels = label_expression(NAME, f"{_num(f'coverage_pct_{year}', 1)} || '%'")
    cut = "/".join(f"{b:g}" for b in edges[1:-1])
    return LayerStyle("indicators", f"林草覆盖率 {year} 分级", graduated_qml(f"coverage_pct_{year}", ranges,
                                                                         labels=labels),
                      f"forest and grass coverage {year} (%), classes cut at the targets {cut} % (gep)")


def redline_status_style(year: int) -> LayerStyle:
    """生态保护红线 of ``year`` by judgement; the legend says against which years it was compared."""
    cats = [Category(MET, MET_COLOUR, f"达标：{year} 面积不少于上一年和基准年"),
            Category(NOT_MET, "215,25,28,255", f"不达标：{year} 面积少于上一年或基准年")]
    labels = label_expression(NAME, f"{_num(f'redline_km2_{year}', 2)} || ' km²'")
    return LayerStyle("indicators", f"生态保护红线 {year} 不减少",
                      categorized_qml(f"redline_status_{year}", cats, other=f"{NOT_COMPUTED} / 基准年前",
                                      labels=labels),
                      f"red-line area {year}: not less than the previous and the baseline year (gep)")


def gep_breaks(values: Sequence[float], n: int = 5) -> list[float]:
    """Class edges for GEP per km²: ``n`` quantile classes of ``values`` rounded to two significant digits,
    widened to enclose every value (fewer classes when values repeat). Empty when there is no value."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(float(x))], dtype=float)
    if not len(v):
        return []
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        return [lo, hi]

    def round2(x: float) -> float:
        return float(f"{x:.2g}") if x else 0.0

    inner = [round2(q) for q in np.quantile(v, np.linspace(0, 1, n + 1)[1:-1])]
    return sorted({lo, hi, *[q for q in inner if lo < q < hi]})


def gep_style(year: int, edges: Sequence[float]) -> LayerStyle:
    """GEP per km² of ``year`` (万元/km², current prices) in the classes ``edges`` (see :func:`gep_breaks`)."""
    colours = ramp(len(edges) - 1, GREENS[1:])
    ranges = [Range(a, b, c, f"{a:,.6g} – {b:,.6g}") for a, b, c in zip(edges[:-1], edges[1:], colours)]
    labels = label_expression(NAME, f"{_num(f'gep_per_km2_wan_yuan_{year}', 0)} || ' 万元/km²'")
    return LayerStyle("indicators", f"GEP {year} 每平方公里（当年价）",
                      graduated_qml(f"gep_per_km2_wan_yuan_{year}", ranges, labels=labels),
                      f"GEP per km² {year}, 10^4 yuan/km², current prices (gep)")


def terrain_style() -> LayerStyle:
    """The region terrain type that sets the 林草覆盖率 target."""
    cats = [Category(t, TERRAIN_COLOURS.get(t, "200,200,200,255"), t) for t in REGION_TYPES]
    return LayerStyle("indicators", "地形类型", categorized_qml("terrain_type", cats, other="未定",
                                                               labels=label_expression(NAME, '"terrain_type"')),
                      "region terrain type (山区 / 丘陵区 / 平原区 / 干旱半干旱地区) of the last year (gep)")


def indicator_styles(layer: pd.DataFrame, *, breaks: Sequence[float] | None = None,
                     comparison: str = ">") -> list[LayerStyle]:
    """Every style of the ``indicators`` layer (module docstring); the last year's 达标/不达标 map of 林草覆盖率
    is the default. ``breaks``: the 林草覆盖率 targets (%); ``comparison``: their comparison (">" or "≥")."""
    cols = [str(c) for c in layer.columns]
    out: list[LayerStyle] = []
    cov_years = _years(cols, "coverage_status_")
    for y in cov_years:
        out.append(coverage_status_style(y, comparison, default=y == cov_years[-1]))
        out.append(coverage_class_style(y, breaks or [18, 40, 60]))
    for y in _years(cols, "redline_status_"):
        out.append(redline_status_style(y))
    gep_years = _years(cols, "gep_per_km2_wan_yuan_")
    edges = gep_breaks([x for y in gep_years for x in layer[f"gep_per_km2_wan_yuan_{y}"].tolist()])
    if len(edges) >= 2:
        out += [gep_style(y, edges) for y in gep_years]
    if "terrain_type" in cols:
        out.append(terrain_style())
    return out


__all__ = ["coverage_class_style", "coverage_status_style", "gep_breaks", "gep_style", "indicator_styles",
           "redline_status_style", "terrain_style"]
