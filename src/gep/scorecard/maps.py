"""Maps and charts (PNG, matplotlib) of the spatial 两山指数 indicators.

- :func:`coverage_map`: 林草覆盖率 per region (%), classes cut at the standard's targets, each region labelled
  with its value and its own target (terrain type), regions that miss it hatched;
- :func:`gep_map`: GEP per km² (万元/km²) per region;
- :func:`redline_map`: 生态保护红线 change between two years (regions by verdict, added/removed parts);
- :func:`trend_chart`: one region's 7 / 9 / 10 values across years and its status counts.

Every map is drawn in a transverse Mercator projection centred on the regions, so north is up and the scale
bar is true at the centre; every label uses the bundled CJK font (:mod:`gep.scorecard.fonts`).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gep.core.atomic import atomic_path
from gep.scorecard.fonts import cjk_font, mpl_text
from gep.indicators.judgement import (BASELINE, BEFORE_BASELINE, DECREASED, MET, NO_DATA, NOT_COMPUTED,
                                      NOT_DECREASED, NOT_MET, NOT_SURVEYED, STATUSES)
from gep.scorecard.standard import LianshanStandard

DPI = 110
#: White margin (inches) kept around what a cropped figure draws (:func:`save_png`).
PAD_IN = 0.15
STATUS_COLOURS = {MET: "#63be7b", NOT_MET: "#e06666", NOT_COMPUTED: "#f6c342", NOT_SURVEYED: "#f6e08f",
                  NO_DATA: "#bfbfbf"}


def local_crs(gdf: gpd.GeoDataFrame) -> str:
    """A transverse Mercator CRS centred on ``gdf`` (metres; north up; scale true on the central meridian)."""
    ll = gdf.to_crs(4326) if gdf.crs is not None else gdf
    c = shapely.union_all(np.asarray(ll.geometry.values)).centroid
    lon, lat = (c.x, c.y) if not c.is_empty else (0.0, 0.0)
    return f"+proj=tmerc +lat_0={lat:.6f} +lon_0={lon:.6f} +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"


def _nice_length_km(width_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k km) near a quarter of the map width."""
    target = max(width_m / 4.0 / 1000.0, 1e-3)
    k = math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * 10 ** k <= target:
            return m * 10 ** k
    return 10 ** k


def add_scale_bar(ax, fp) -> None:
    """Two-segment scale bar at the lower left (axes in metres)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length_km = _nice_length_km(x1 - x0)
    length = length_km * 1000.0
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.03 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((bx, by), length / 2, h, facecolor="black", edgecolor="black", zorder=5))
    ax.add_patch(Rectangle((bx + length / 2, by), length / 2, h, facecolor="white", edgecolor="black", zorder=5))
    label = f"{length_km:g} km"
    ax.text(bx, by + 2 * h, "0", fontproperties=fp, ha="center", va="bottom", zorder=5)
    ax.text(bx + length, by + 2 * h, label, fontproperties=fp, ha="center", va="bottom", zorder=5)


def add_north_arrow(ax, fp) -> None:
    """North arrow at the upper right (the map is in a north-up projection)."""
    ax.annotate("", xy=(0.955, 0.93), xytext=(0.955, 0.82), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "edgecolor": "black", "width": 3, "headwidth": 11}, zorder=6)
    ax.text(0.955, 0.94, "北\nN", transform=ax.transAxes, ha="center", va="bottom", fontproperties=fp, zorder=6,
            linespacing=1.0)


def _figure(width_in: float, height_in: float, ncols: int = 1):
    """A ``width_in`` × ``height_in`` inch figure at DPI with ``ncols`` axes side by side, on an Agg canvas of
    its own (not pyplot's: no backend to pick, nothing to close, nothing kept between figures); (fig, axes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def _frame(regions: gpd.GeoDataFrame, title: str):
    fig, (ax,) = _figure(8.0, 6.5)
    fp_title, fp = cjk_font(14), cjk_font(9)
    ax.set_title(mpl_text(title), fontproperties=fp_title)
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax, fp


def _finish(fig, ax, fp, out: Path, regions: gpd.GeoDataFrame) -> Path:
    x0, y0, x1, y1 = regions.total_bounds
    dx, dy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    # margins outside the regions: the north arrow on the right, the scale bar below
    ax.set_xlim(x0 - 0.05 * dx, x1 + 0.14 * dx)
    ax.set_ylim(y0 - 0.15 * dy, y1 + 0.05 * dy)
    add_scale_bar(ax, fp)
    add_north_arrow(ax, fp)
    out = Path(out)
    save_png(fig, out)
    return out


def save_png(fig, out: Path, *, crop: bool = True) -> None:
    """Write ``fig`` (on an Agg canvas) to ``out`` (atomically) as a 256-colour PNG, rendered once at DPI.

    ``crop``: keep only what is drawn, plus PAD_IN inches of white (``bbox_inches="tight"`` without its second
    rendering; see :func:`_drawn_pixels`); otherwise the whole figure, laid out by its caller.

    The figures are flat colours and anti-aliased edges, so a palette loses nothing visible; the files are 3–6×
    smaller than matplotlib's RGBA PNGs (trend chart 95 → 28 kB, map 476 → 83 kB), and so is the HTML report
    that inlines them. The palette and the PNG cost ~10 ms per trend chart.
    """
    from PIL import Image

    fig.set_dpi(DPI)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    if crop:
        rows_cols = _drawn_pixels(fig, rgba.shape[0], rgba.shape[1])
        rgba = rgba[rows_cols] if rows_cols is not None else _render_tight(fig)
    # the figures are opaque (white background): RGB, then an adaptive palette (deterministic)
    pal = Image.fromarray(rgba).convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    with atomic_path(out) as tmp:
        pal.save(tmp, format="PNG")


def _drawn_pixels(fig, height: int, width: int) -> tuple[slice, slice] | None:
    """Rows and columns of the rendered canvas (``height`` × ``width`` pixels) that hold what ``fig`` draws, plus
    PAD_IN inches where the canvas has them; None when something is drawn outside the canvas (a crop would cut
    it off). Uses the text extents of the rendering just done, so costs no second rendering."""
    box = fig.get_tightbbox(fig.canvas.get_renderer())  # inches, origin at the lower left
    dpi = fig.dpi
    x0, x1, y0, y1 = box.x0 * dpi, box.x1 * dpi, box.y0 * dpi, box.y1 * dpi
    if x0 < -0.5 or y0 < -0.5 or x1 > width + 0.5 or y1 > height + 0.5:
        return None
    pad = PAD_IN * dpi
    cols = slice(max(0, math.floor(x0 - pad)), min(width, math.ceil(x1 + pad)))
    rows = slice(max(0, math.floor(height - y1 - pad)), min(height, math.ceil(height - y0 + pad)))
    return rows, cols


def _render_tight(fig) -> np.ndarray:
    """``fig`` rendered again with ``bbox_inches="tight"`` (a canvas grown to what is drawn), as RGBA pixels."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, dpi=DPI, format="png", bbox_inches="tight", pad_inches=PAD_IN)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGBA"))


def _label_points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.point_on_surface(np.asarray(gdf.geometry.values))


def _legend(ax, handles, fp, title: str) -> None:
    leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), prop=fp, title=mpl_text(title),
                    frameon=True, framealpha=0.9, borderaxespad=0.0)
    leg.get_title().set_fontproperties(fp)


def coverage_map(regions: gpd.GeoDataFrame, coverage: pd.DataFrame, year: int, out: Path, *,
                 breaks: list[float] | None = None, title: str | None = None) -> Path:
    """Choropleth of 林草覆盖率 (%) in ``year``; classes cut at ``breaks`` (default: the targets in the table).

    ``coverage``: rows of ``forest_grass_coverage`` (region_code, coverage_pct, terrain_type, target_pct,
    comparison, meets_target). Each region is labelled "name / value% / terrain-type target"; regions that miss
    their target are hatched; regions without a value are grey.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    crs = local_crs(regions)
    g = regions.to_crs(crs).merge(coverage[coverage["year"] == year].drop(columns=["region_name"], errors="ignore"),
                                  on="region_code", how="left")
    targets = sorted({float(t) for t in g.get("target_pct", pd.Series(dtype=float)).dropna()})
    edges = sorted({0.0, 100.0, *(breaks if breaks is not None else targets)})
    n = len(edges) - 1
    import matplotlib

    greens = matplotlib.colormaps["YlGn"]
    cmap = ListedColormap([greens(0.15 + 0.8 * k / max(n - 1, 1)) for k in range(n)])
    norm = BoundaryNorm(edges, n)
    fig, ax, fp = _frame(g, title or f"林草覆盖率（{year}年）")
    has = g["coverage_pct"].notna() if "coverage_pct" in g else pd.Series(False, index=g.index)
    if (~has).any():
        g[~has].plot(ax=ax, color="#d9d9d9", edgecolor="#555555", linewidth=0.6)
    if has.any():
        g[has].plot(ax=ax, column="coverage_pct", cmap=cmap, norm=norm, edgecolor="#333333", linewidth=0.6)
        miss = has & (g["meets_target"] == False)
        if miss.any():
            g[miss].plot(ax=ax, facecolor="none", edgecolor="#c00000", hatch="///", linewidth=1.2)
    for pt, rec in zip(_label_points(g), g.itertuples(index=False)):
        value = getattr(rec, "coverage_pct", float("nan"))
        lines = [mpl_text(rec.region_name)]
        if pd.notna(value):
            lines.append(f"{value:.2f}%")
            tt, tp = getattr(rec, "terrain_type", None), getattr(rec, "target_pct", None)
            cmp_ = getattr(rec, "comparison", None)
            if isinstance(tt, str) and tp is not None and pd.notna(tp):
                lines.append(f"{mpl_text(tt)}{cmp_ or ''}{tp:g}%")
        else:
            lines.append(NO_DATA)
        ax.text(pt.x, pt.y, "\n".join(lines), ha="center", va="center", fontproperties=fp, zorder=4,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.7, "linewidth": 0})
    handles = [Patch(facecolor=cmap(k), edgecolor="#333333", label=f"{edges[k]:g}–{edges[k + 1]:g}%")
               for k in range(n)]
    handles.append(Patch(facecolor="none", edgecolor="#c00000", hatch="///", label="未达到目标"))
    if (~has).any():
        handles.append(Patch(facecolor="#d9d9d9", edgecolor="#555555", label=NO_DATA))
    _legend(ax, handles, fp, "林草覆盖率")
    return _finish(fig, ax, fp, out, g)


def _classes(values: np.ndarray, k: int = 5) -> list[float]:
    """Up to ``k`` quantile classes of ``values`` (edges, ascending, unique)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return [0.0, 1.0]
    edges = np.unique(np.quantile(v, np.linspace(0, 1, min(k, max(v.size, 1)) + 1)))
    if edges.size == 1:
        edges = np.array([edges[0] * 0.99 if edges[0] else -0.5, edges[0] * 1.01 if edges[0] else 0.5])
    return [float(e) for e in edges]


def gep_map(regions: gpd.GeoDataFrame, gep_summary: pd.DataFrame, year: int, out: Path) -> Path:
    """Choropleth of GEP per km² (万元/km², ``gep_per_km2_wan_yuan``) in ``year`` (quantile classes)."""
    import matplotlib
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    crs = local_crs(regions)
    g = regions.to_crs(crs).merge(gep_summary[gep_summary["year"] == year].drop(columns=["region_name"],
                                                                                  errors="ignore"),
                                  on="region_code", how="left")
    vals = g["gep_per_km2_wan_yuan"].to_numpy(dtype=float)
    edges = _classes(vals)
    n = len(edges) - 1
    ramp = matplotlib.colormaps["YlOrBr"]
    cmap = ListedColormap([ramp(0.15 + 0.8 * k / max(n - 1, 1)) for k in range(n)])
    norm = BoundaryNorm(edges, n, clip=True)
    fig, ax, fp = _frame(g, f"单位国土面积生态系统生产总值（{year}年，万元/km²）")
    has = np.isfinite(vals)
    if (~has).any():
        g[~has].plot(ax=ax, color="#d9d9d9", edgecolor="#555555", linewidth=0.6)
    if has.any():
        g[has].plot(ax=ax, column="gep_per_km2_wan_yuan", cmap=cmap, norm=norm, edgecolor="#333333", linewidth=0.6)
    for pt, rec, v in zip(_label_points(g), g.itertuples(index=False), vals):
        txt = f"{mpl_text(rec.region_name)}\n{v:,.1f}" if np.isfinite(v) else f"{mpl_text(rec.region_name)}\n{NOT_COMPUTED}"
        ax.text(pt.x, pt.y, txt, ha="center", va="center", fontproperties=fp, zorder=4,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.7, "linewidth": 0})
    handles = [Patch(facecolor=cmap(k), edgecolor="#333333", label=f"{edges[k]:,.1f}–{edges[k + 1]:,.1f}")
               for k in range(n)]
    if (~has).any():
        handles.append(Patch(facecolor="#d9d9d9", edgecolor="#555555", label=NOT_COMPUTED))
    _legend(ax, handles, fp, "万元/km²")
    return _finish(fig, ax, fp, out, g)


VERDICT_COLOURS = {NOT_DECREASED: "#d9f0d3", BASELINE: "#eeeeee", DECREASED: "#f4cccc", BEFORE_BASELINE: "#eeeeee"}


def redline_map(regions: gpd.GeoDataFrame, protected_change: pd.DataFrame | None, year_from: int, year_to: int,
                out: Path, *, parts: gpd.GeoDataFrame | None = None, layer: str = "redline") -> Path:
    """生态保护红线 change from ``year_from`` to ``year_to``: regions coloured by the 不减少 verdict of
    ``year_to``, labelled with the change (km²), and the added / removed parts (``parts``: a change layer of
    ``maps/protected_change.gpkg`` with a ``change`` column) drawn on top.
    """
    from matplotlib.patches import Patch

    crs = local_crs(regions)
    g = regions.to_crs(crs)
    pc = None
    if protected_change is not None:
        pc = protected_change[(protected_change["layer"].astype(str) == layer)
                              & (protected_change["type"].astype(str) == "all")
                              & (protected_change["year"] == year_to)]
        g = g.merge(pc[["region_code", "area_km2", "delta_km2", "verdict"]], on="region_code", how="left")
    label = "生态保护红线" if layer == "redline" else "自然保护地"
    fig, ax, fp = _frame(g, f"{label}面积变化（{year_from}–{year_to}年）")
    verdicts = g["verdict"] if "verdict" in g else pd.Series([None] * len(g), index=g.index)
    colours = [VERDICT_COLOURS.get(str(v), "#ffffff") for v in verdicts]
    g.plot(ax=ax, color=colours, edgecolor="#555555", linewidth=0.7)
    handles = [Patch(facecolor=VERDICT_COLOURS[v], edgecolor="#555555", label=v)
               for v in (NOT_DECREASED, DECREASED, BASELINE) if (verdicts.astype(str) == v).any()]
    if parts is not None and len(parts):
        p = parts.to_crs(crs)
        for change, colour, name in (("added", "#1a9850", "新增"), ("removed", "#d73027", "减少")):
            sel = p[p["change"].astype(str) == change]
            if len(sel):
                sel.plot(ax=ax, color=colour, edgecolor=colour, linewidth=0.5, zorder=3)
                handles.append(Patch(facecolor=colour, edgecolor=colour, label=f"{label}{name}部分"))
    for pt, rec in zip(_label_points(g), g.itertuples(index=False)):
        d = getattr(rec, "delta_km2", float("nan"))
        a = getattr(rec, "area_km2", float("nan"))
        txt = mpl_text(rec.region_name)
        if a is not None and pd.notna(a):
            txt += f"\n{a:,.2f} km²"
        if d is not None and pd.notna(d):
            txt += f"\nΔ {d:+,.3f} km²"
        ax.text(pt.x, pt.y, txt, ha="center", va="center", fontproperties=fp, zorder=4,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.7, "linewidth": 0})
    if handles:
        _legend(ax, handles, fp, f"{year_to}年 不减少判定")
    return _finish(fig, ax, fp, out, g)


#: Trend chart geometry (inches): one panel this wide per indicator plus the status bars, all this high.
TREND_PANEL_W_IN, TREND_H_IN = 4.2, 3.6
#: Fixed trend-chart margins (inches): above the panels (suptitle and panel titles), below them (the years),
#: right of the last (the status legend), and beside the widest y tick label (left of it and between panels).
TREND_TOP_IN, TREND_BOTTOM_IN, TREND_LEGEND_IN = 0.78, 0.32, 1.05
TREND_TICK_PAD_IN, TREND_GAP_PAD_IN = 0.18, 0.32
#: How far (points) a panel title goes up to clear the y axis's offset text ("1e7") when the axis has one.
TREND_OFFSET_PT = 13.0


def trend_chart(index: pd.DataFrame, region_code: str, out: Path, *, standard: LianshanStandard,
                coverage: pd.DataFrame | None = None) -> Path:
    """One region's indicator values across years: 林草覆盖率 (with its target), 生态保护红线面积, GEP per km²
    (each only when the ``lianshan_index`` table has values), and the number of indicators per status.

    Drawn once, at a fixed size (TREND_PANEL_W_IN × TREND_H_IN inches per panel, margins from the tick labels:
    :func:`_trend_layout`): ~0.15 s of one core, where tight_layout and a tight bounding box drew it 3 times.
    """
    d = index[index["region_code"].astype(str) == str(region_code)]
    name = str(d["region_name"].iloc[0]) if len(d) else str(region_code)
    years = sorted(int(y) for y in d["year"].unique())
    panels = []
    for no_src, title, unit in (("coverage", "林草覆盖率", "%"), ("protected", "生态保护红线面积", "km²"),
                                ("gep", "单位国土面积生态系统生产总值", "万元/km²")):
        nos = [i.no for i in standard.indicators if i.data == no_src]
        rows = d[d["indicator_no"].isin(nos[:1])]
        if len(rows) and rows["value"].notna().any():
            panels.append((no_src, f"{title}（{unit}）", rows.sort_values("year")))
    fp = cjk_font(9)
    fig, axes = _figure(TREND_PANEL_W_IN * (len(panels) + 1), TREND_H_IN, len(panels) + 1)
    for ax, (no_src, _, rows) in zip(axes, panels):
        ax.plot(rows["year"], rows["value"], marker="o", color="#2e7d32")
        for y, v, s in zip(rows["year"], rows["value"], rows["status"]):
            if pd.notna(v):
                ax.annotate(s, (y, v), textcoords="offset points", xytext=(0, 7), ha="center", fontproperties=fp,
                            color="#9c0006" if s == NOT_MET else "#333333")
        if no_src == "coverage" and coverage is not None and "target_pct" in coverage:
            c = coverage[coverage["region_code"].astype(str) == str(region_code)].sort_values("year")
            if len(c) and c["target_pct"].notna().any():
                ax.step(c["year"], c["target_pct"], where="mid", linestyle="--", color="#c00000")
                ax.text(0.02, 0.04, f"虚线：目标 {c['target_pct'].iloc[-1]:g}%", transform=ax.transAxes,
                        fontproperties=fp, color="#c00000")
        ax.set_xticks(years)
        ax.margins(y=0.25)
        ax.grid(alpha=0.3)
    ax = axes[-1]
    bottom = np.zeros(len(years))
    for s in STATUSES:
        cnt = np.array([int(((d["year"] == y) & (d["status"] == s)).sum()) for y in years])
        if cnt.any():
            ax.bar([str(y) for y in years], cnt, bottom=bottom, color=STATUS_COLOURS[s], label=s)
            bottom += cnt
    ax.legend(prop=fp, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.suptitle(mpl_text(f"{name}（{region_code}）"), fontproperties=cjk_font(13))
    _trend_layout(fig, axes, [title for _, title, _ in panels] + ["指标达标情况（项）"], cjk_font(12))
    save_png(fig, Path(out), crop=False)
    return Path(out)


def _trend_layout(fig, axes, titles: list[str], fp_title) -> None:
    """Lay the panels out with fixed margins (inches, TREND_*_IN) instead of tight_layout, which draws the chart
    to measure it, and give them their ``titles``. The panels share one width; left of each is room for the
    widest y tick label of all. A y axis with an offset text ("1e7", above it) raises its panel's title, and
    then every panel starts lower.

    The titles and (empty) axis labels are put at fixed places: matplotlib would otherwise measure every tick
    label to place them each time the chart is drawn (a quarter of the drawing time).
    """
    from matplotlib import rcParams

    w_in, h_in = fig.get_size_inches()
    fig.subplots_adjust(bottom=TREND_BOTTOM_IN / h_in, top=1 - TREND_TOP_IN / h_in)  # tick count depends on height
    ticks = [_ytick_labels(ax) for ax in axes]
    raise_pt = TREND_OFFSET_PT if any(offset for _, offset in ticks) else 0.0
    for ax, title, (_, offset) in zip(axes, titles, ticks):
        ax.set_title(title, fontproperties=fp_title, y=1.0,
                     pad=rcParams["axes.titlepad"] + (raise_pt if offset else 0.0))
        ax.xaxis.set_label_coords(0.5, -0.1)
        ax.yaxis.set_label_coords(-0.1, 0.5)
    tick_in = max(_text_width_in(fig, labels) for labels, _ in ticks)
    left, gap = tick_in + TREND_TICK_PAD_IN, tick_in + TREND_GAP_PAD_IN
    width = (w_in - left - TREND_LEGEND_IN - (len(axes) - 1) * gap) / len(axes)
    fig.subplots_adjust(left=left / w_in, right=1 - TREND_LEGEND_IN / w_in, wspace=gap / width,
                        top=1 - (TREND_TOP_IN + raise_pt / 72) / h_in)


def _ytick_labels(ax) -> tuple[list[str], str]:
    """The y tick labels ``ax`` will draw (its formatter's, for the ticks inside the view limits) and the offset
    text drawn above the axis ("" when none); nothing is rendered."""
    lo, hi = sorted(ax.get_ylim())
    eps = 1e-9 * (hi - lo)
    locs = [v for v in ax.get_yticks() if lo - eps <= v <= hi + eps]
    formatter = ax.yaxis.get_major_formatter()
    return formatter.format_ticks(locs), formatter.get_offset()


def _text_width_in(fig, texts: list[str]) -> float:
    """Width (inches) of the widest of ``texts`` in the tick label font (text metrics only; 0 for none)."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(size=rcParams["ytick.labelsize"])
    renderer = fig.canvas.get_renderer()
    widths = [renderer.get_text_width_height_descent(t, prop, ismath=False)[0] for t in texts if t]
    return max(widths, default=0.0) / fig.dpi


def safe_stem(text: str) -> str:
    """A file-name stem from a region code (anything but letters, digits, - and _ becomes _)."""
    return re.sub(r"[^0-9A-Za-z_-]", "_", str(text))[:80] or "region"


__all__ = ["add_north_arrow", "add_scale_bar", "coverage_map", "gep_map", "local_crs", "redline_map", "safe_stem",
           "trend_chart"]
