"""Maps and charts (PNG, matplotlib) of the spatial 两山指数 indicators.

- :func:`coverage_map`: 林草覆盖率 per region (%), classes cut at the standard's targets, each region labelled
  with its value and its own target (terrain type), regions that miss it hatched;
- :func:`gep_map`: GEP per km² (万元/km², current prices, said on the map) per region;
- :func:`redline_map`: 生态保护红线 change against one comparison year, the previous year or the baseline year
  (said on the map): regions coloured by the same change their labels print, added/removed parts;
- :func:`trend_chart`: one region's 7 / 9 / 10 values across years (whole-year axis) and its status counts.

Every map is drawn in a transverse Mercator projection centred on the regions, so north is up and the scale
bar is true at the centre; every label uses the bundled CJK font (:mod:`gep.scorecard.fonts`). Region labels
are placed by :func:`place_labels`: largest regions first, a label only where it overlaps no label drawn before
it, so a province of a hundred counties stays readable; the map says how many labels it left out (their values
are in the report's and the workbook's tables). ``*_figure`` functions return the figure, ``*_map`` write it.
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
from gep.indicators.judgement import DECREASED, INCOMPLETE, MET, NO_DATA, NOT_COMPUTED, NOT_MET, NOT_SURVEYED, STATUSES
from gep.scorecard.index import region_label
from gep.scorecard.standard import LianshanStandard

DPI = 200
#: White margin (inches) kept around what a cropped figure draws (:func:`save_png`).
PAD_IN = 0.15
STATUS_COLOURS = {MET: "#63be7b", NOT_MET: "#e06666", NOT_COMPUTED: "#f6c342", NOT_SURVEYED: "#f6e08f",
                  NO_DATA: "#bfbfbf", INCOMPLETE: "#b4a7d6"}


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
    ax.set_title(mpl_text(title), fontproperties=fp_title, pad=18)
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax, fp


def _extent(ax, regions: gpd.GeoDataFrame) -> None:
    """The map's view: the regions plus margins for the north arrow (right) and the scale bar (below), with the
    axes box already shrunk to the equal aspect, so that labels can be measured where they will be drawn."""
    x0, y0, x1, y1 = regions.total_bounds
    dx, dy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    ax.set_xlim(x0 - 0.05 * dx, x1 + 0.14 * dx)
    ax.set_ylim(y0 - 0.15 * dy, y1 + 0.05 * dy)
    ax.apply_aspect()


def _finish(fig, ax, fp) -> None:
    add_scale_bar(ax, fp)
    add_north_arrow(ax, fp)


def _write(fig, out: Path) -> Path:
    out = Path(out)
    save_png(fig, out)
    return out


#: The ``gid`` of a region label (tests find the labels by it).
LABEL_GID = "region-label"
_LABEL_BOX = {"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.7, "linewidth": 0}


def place_labels(fig, ax, items, fp) -> tuple[list, int]:
    """Draw the labels that fit: ``items`` are (x, y, text, priority) in data units; in order of priority
    (highest first, ties in the given order), a label is kept when its box (text plus the white background)
    lies inside the axes and overlaps no label kept before it, else removed. Extents are the renderer's own
    (the figure at its final DPI, the axes already at their final size: :func:`_extent`). Returns the labels
    drawn and how many were left out."""
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    size_px = fp.get_size_in_points() * fig.dpi / 72.0
    pad = _LABEL_BOX_PAD * size_px + 1.0
    order = sorted(range(len(items)), key=lambda k: -items[k][3])
    boxes = np.empty((len(items), 4))  # x0, y0, x1, y1 of the kept labels (pixels)
    kept: list = []
    advance: dict[str, float] = {}  # pixel width of each character, measured once

    def width(line: str) -> float:
        for ch in set(line) - advance.keys():
            advance[ch] = renderer.get_text_width_height_descent(ch, fp, ismath=False)[0]
        return sum(advance[ch] for ch in line)

    def clashes(b) -> bool:
        n = len(kept)
        return bool(n) and bool(np.any((boxes[:n, 0] < b[2]) & (b[0] < boxes[:n, 2])
                                       & (boxes[:n, 1] < b[3]) & (b[1] < boxes[:n, 3])))

    anchors = ax.transData.transform([(it[0], it[1]) for it in items]) if items else np.empty((0, 2))
    for k in order:
        x, y, text, _ = items[k]
        # a quick lower bound of the label's box (characters' widths summed, lines' heights, 80 %) rejects most
        # labels that cannot fit without laying them out (a province's thousand labels: seconds, not a minute)
        lines = text.split("\n")
        hw = 0.4 * max(width(line) for line in lines)
        hh = 0.4 * len(lines) * size_px
        ax_, ay_ = anchors[k]
        if clashes((ax_ - hw, ay_ - hh, ax_ + hw, ay_ + hh)):
            continue
        t = ax.text(x, y, text, ha="center", va="center", fontproperties=fp, zorder=4, bbox=_LABEL_BOX,
                    gid=LABEL_GID)
        e = t.get_window_extent(renderer)
        b = (e.x0 - pad, e.y0 - pad, e.x1 + pad, e.y1 + pad)
        inside = b[0] >= frame.x0 and b[1] >= frame.y0 and b[2] <= frame.x1 and b[3] <= frame.y1
        if inside and not clashes(b):
            boxes[len(kept)] = b
            kept.append(t)
        else:
            t.remove()
    left_out = len(items) - len(kept)
    if left_out:
        ax.text(0.5, -0.01, f"另有 {left_out} 个区域的标注放不下，数值见报告与工作簿的表格"
                            f"（{left_out} labels left out: see the tables）",
                transform=ax.transAxes, ha="center", va="top", fontproperties=fp, color="#555555")
    return kept, left_out


#: The white box around a label is this many font sizes wider than the text on every side (boxstyle pad).
_LABEL_BOX_PAD = 0.2


def _priorities(g: gpd.GeoDataFrame) -> np.ndarray:
    """Label priority of each region: its area on the map (large regions first; they have the room)."""
    return np.asarray(g.geometry.area, dtype=float)


def _subtitle(ax, text: str, fp) -> None:
    """A line under the title saying what the map compares or which prices it shows."""
    ax.text(0.5, 1.0, mpl_text(text), transform=ax.transAxes, ha="center", va="bottom", fontproperties=fp,
            color="#333333")


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


def coverage_figure(regions: gpd.GeoDataFrame, coverage: pd.DataFrame, year: int, *,
                    breaks: list[float] | None = None, title: str | None = None):
    """The figure of :func:`coverage_map` (not written)."""
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
    _extent(ax, g)
    has = g["coverage_pct"].notna() if "coverage_pct" in g else pd.Series(False, index=g.index)
    if (~has).any():
        g[~has].plot(ax=ax, color="#d9d9d9", edgecolor="#555555", linewidth=0.6)
    if has.any():
        g[has].plot(ax=ax, column="coverage_pct", cmap=cmap, norm=norm, edgecolor="#333333", linewidth=0.6)
        miss = has & (g["meets_target"] == False)
        if miss.any():
            g[miss].plot(ax=ax, facecolor="none", edgecolor="#c00000", hatch="///", linewidth=1.2)
    _extent(ax, g)  # plotting autoscales: the view again
    items = []
    for pt, rec, pri in zip(_label_points(g), g.itertuples(index=False), _priorities(g)):
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
        items.append((pt.x, pt.y, "\n".join(lines), pri))
    place_labels(fig, ax, items, fp)
    handles = [Patch(facecolor=cmap(k), edgecolor="#333333", label=f"{edges[k]:g}–{edges[k + 1]:g}%")
               for k in range(n)]
    handles.append(Patch(facecolor="none", edgecolor="#c00000", hatch="///", label="未达到目标"))
    if (~has).any():
        handles.append(Patch(facecolor="#d9d9d9", edgecolor="#555555", label=NO_DATA))
    _legend(ax, handles, fp, "林草覆盖率")
    _finish(fig, ax, fp)
    return fig


def coverage_map(regions: gpd.GeoDataFrame, coverage: pd.DataFrame, year: int, out: Path, *,
                 breaks: list[float] | None = None, title: str | None = None) -> Path:
    """Choropleth of 林草覆盖率 (%) in ``year``; classes cut at ``breaks`` (default: the targets in the table).

    ``coverage``: rows of ``forest_grass_coverage`` (region_code, coverage_pct, terrain_type, target_pct,
    comparison, meets_target). Regions are labelled "name / value% / terrain-type target" where the label fits
    (:func:`place_labels`); regions that miss their target are hatched; regions without a value are grey.
    """
    return _write(coverage_figure(regions, coverage, year, breaks=breaks, title=title), out)


def _classes(values: np.ndarray, k: int = 5) -> list[float]:
    """Up to ``k`` quantile classes of ``values`` (edges, ascending, unique)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return [0.0, 1.0]
    edges = np.unique(np.quantile(v, np.linspace(0, 1, min(k, max(v.size, 1)) + 1)))
    if edges.size == 1:
        edges = np.array([edges[0] * 0.99 if edges[0] else -0.5, edges[0] * 1.01 if edges[0] else 0.5])
    return [float(e) for e in edges]


#: What the GEP map and chart say about prices: the values are current prices, the verdict constant prices.
GEP_PRICES = "当年价"
GEP_VERDICT_PRICES = "“稳定提高”按可比价判定"


def gep_figure(regions: gpd.GeoDataFrame, gep_summary: pd.DataFrame, year: int):
    """The figure of :func:`gep_map` (not written)."""
    import matplotlib
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    crs = local_crs(regions)
    rows = gep_summary[gep_summary["year"] == year].drop(columns=["region_name"], errors="ignore")
    g = regions.to_crs(crs).merge(rows, on="region_code", how="left")
    vals = g["gep_per_km2_wan_yuan"].to_numpy(dtype=float)
    edges = _classes(vals)
    n = len(edges) - 1
    ramp = matplotlib.colormaps["YlOrBr"]
    cmap = ListedColormap([ramp(0.15 + 0.8 * k / max(n - 1, 1)) for k in range(n)])
    norm = BoundaryNorm(edges, n, clip=True)
    fig, ax, fp = _frame(g, f"单位国土面积生态系统生产总值（{year}年，{GEP_PRICES}，万元/km²）")
    cp = rows["constant_price_year"].dropna() if "constant_price_year" in rows else pd.Series(dtype=float)
    base = f"（{int(cp.iloc[0])}年价）" if len(cp) else ""
    _subtitle(ax, f"数值为{GEP_PRICES}；{GEP_VERDICT_PRICES}{base}", fp)
    _extent(ax, g)
    has = np.isfinite(vals)
    if (~has).any():
        g[~has].plot(ax=ax, color="#d9d9d9", edgecolor="#555555", linewidth=0.6)
    if has.any():
        g[has].plot(ax=ax, column="gep_per_km2_wan_yuan", cmap=cmap, norm=norm, edgecolor="#333333", linewidth=0.6)
    _extent(ax, g)
    items = [(pt.x, pt.y, f"{mpl_text(rec.region_name)}\n{v:,.1f}" if np.isfinite(v)
              else f"{mpl_text(rec.region_name)}\n{NOT_COMPUTED}", pri)
             for pt, rec, v, pri in zip(_label_points(g), g.itertuples(index=False), vals, _priorities(g))]
    place_labels(fig, ax, items, fp)
    handles = [Patch(facecolor=cmap(k), edgecolor="#333333", label=f"{edges[k]:,.1f}–{edges[k + 1]:,.1f}")
               for k in range(n)]
    if (~has).any():
        handles.append(Patch(facecolor="#d9d9d9", edgecolor="#555555", label=NOT_COMPUTED))
    _legend(ax, handles, fp, f"万元/km²，{GEP_PRICES}")
    _finish(fig, ax, fp)
    return fig


def gep_map(regions: gpd.GeoDataFrame, gep_summary: pd.DataFrame, year: int, out: Path) -> Path:
    """Choropleth of GEP per km² (万元/km², ``gep_per_km2_wan_yuan``, current prices) in ``year`` (quantile
    classes); the map says that the values are current prices and the verdict is judged at constant prices."""
    return _write(gep_figure(regions, gep_summary, year), out)


#: The red-line map's classes: the sign of the change its labels print (rounded as printed, CHANGE_DECIMALS).
INCREASED, UNCHANGED = "增加", "不变"
CHANGE_COLOURS = {INCREASED: "#d9f0d3", UNCHANGED: "#eeeeee", DECREASED: "#f4cccc"}
CHANGE_DECIMALS = 3
#: The comparisons a red-line map can show: the delta column of ``protected_change`` and the words for it.
COMPARISONS = {"previous": ("delta_km2", "上一年"), "baseline": ("delta_base_km2", "基准年")}


def change_class(delta: float) -> str | None:
    """增加 / 不变 / 减少 of a change in km², rounded to CHANGE_DECIMALS places as the map's labels print it
    (None for no value): a label "Δ +0.000 km²" is never on a region coloured 减少."""
    if delta is None or not np.isfinite(delta):
        return None
    r = round(float(delta), CHANGE_DECIMALS)
    return INCREASED if r > 0 else DECREASED if r < 0 else UNCHANGED


def redline_figure(regions: gpd.GeoDataFrame, protected_change: pd.DataFrame | None, year_from: int, year_to: int,
                   *, parts: gpd.GeoDataFrame | None = None, layer: str = "redline", comparison: str = "previous"):
    """The figure of :func:`redline_map` (not written)."""
    from matplotlib.patches import Patch

    if comparison not in COMPARISONS:
        raise ValueError(f"comparison {comparison!r}: one of {', '.join(COMPARISONS)}")
    column, against = COMPARISONS[comparison]
    crs = local_crs(regions)
    g = regions.to_crs(crs)
    if protected_change is not None:
        pc = protected_change[(protected_change["layer"].astype(str) == layer)
                              & (protected_change["type"].astype(str) == "all")
                              & (protected_change["year"] == year_to)]
        keep = [c for c in ("region_code", "area_km2", column) if c in pc.columns]
        g = g.merge(pc[keep].rename(columns={column: "change_km2"}), on="region_code", how="left")
    label = "生态保护红线" if layer == "redline" else "自然保护地"
    fig, ax, fp = _frame(g, f"{label}面积变化（{year_from}–{year_to}年）")
    _subtitle(ax, f"比较：{year_to}年与{against}（{year_from}年）；颜色与标注均为这一比较的变化量", fp)
    _extent(ax, g)
    deltas = g["change_km2"].to_numpy(dtype=float) if "change_km2" in g else np.full(len(g), np.nan)
    classes = [change_class(d) for d in deltas]
    colours = [CHANGE_COLOURS.get(c, "#ffffff") for c in classes]
    g.plot(ax=ax, color=colours, edgecolor="#555555", linewidth=0.7)
    handles = [Patch(facecolor=CHANGE_COLOURS[c], edgecolor="#555555", label=f"{c}（与{against}比）")
               for c in (INCREASED, UNCHANGED, DECREASED) if c in classes]
    if parts is not None and len(parts):
        p = parts.to_crs(crs)
        for change, colour, name in (("added", "#1a9850", "新增"), ("removed", "#d73027", "减少")):
            sel = p[p["change"].astype(str) == change]
            if len(sel):
                sel.plot(ax=ax, color=colour, edgecolor=colour, linewidth=0.5, zorder=3)
                handles.append(Patch(facecolor=colour, edgecolor=colour, label=f"{label}{name}部分"))
    _extent(ax, g)
    items = []
    for pt, rec, d, pri in zip(_label_points(g), g.itertuples(index=False), deltas, _priorities(g)):
        a = getattr(rec, "area_km2", float("nan"))
        txt = mpl_text(rec.region_name)
        if a is not None and pd.notna(a):
            txt += f"\n{a:,.2f} km²"
        if np.isfinite(d):
            txt += f"\nΔ {d:+,.{CHANGE_DECIMALS}f} km²"
        items.append((pt.x, pt.y, txt, pri))
    place_labels(fig, ax, items, fp)
    if handles:
        _legend(ax, handles, fp, f"{year_to}年与{against}（{year_from}年）相比")
    _finish(fig, ax, fp)
    return fig


def redline_map(regions: gpd.GeoDataFrame, protected_change: pd.DataFrame | None, year_from: int, year_to: int,
                out: Path, *, parts: gpd.GeoDataFrame | None = None, layer: str = "redline",
                comparison: str = "previous") -> Path:
    """生态保护红线 change of ``year_to`` against ``year_from``: ``comparison="previous"`` (``year_from`` is the
    previous year; ``delta_km2``) or ``"baseline"`` (``year_from`` is the baseline year; ``delta_base_km2``).
    Regions are coloured 增加 / 不变 / 减少 by the same change their labels print (:func:`change_class`), and the
    map says which comparison it shows. The 不减少 verdict, which weighs both comparisons, is in the tables.
    ``parts``: a change layer of ``maps/protected_change.gpkg`` (``change`` column: added/removed) drawn on top.
    """
    return _write(redline_figure(regions, protected_change, year_from, year_to, parts=parts, layer=layer,
                                 comparison=comparison), out)


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
    """Write :func:`trend_figure` to ``out``."""
    save_png(trend_figure(index, region_code, standard=standard, coverage=coverage), Path(out), crop=False)
    return Path(out)


def trend_figure(index: pd.DataFrame, region_code: str, *, standard: LianshanStandard,
                 coverage: pd.DataFrame | None = None):
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
                                ("gep", "单位面积GEP", f"万元/km²，{GEP_PRICES}")):
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
        if no_src == "gep":
            ax.text(0.02, 0.04, f"{GEP_VERDICT_PRICES}", transform=ax.transAxes, fontproperties=fp, color="#555555")
        year_axis(ax, years)
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
    fig.suptitle(mpl_text(region_label(name, region_code)), fontproperties=cjk_font(13))
    _trend_layout(fig, axes, [title for _, title, _ in panels] + ["指标达标情况（项）"], cjk_font(12))
    return fig


def year_axis(ax, years: list[int]) -> None:
    """Whole years on the x axis, printed as such ("2020", never "0 +2.02e3" or "2020.5"): a tick at every year
    up to 8 years, else at most 8 whole-year ticks."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if len(years) <= 8:
        ax.set_xticks(years, [str(y) for y in years])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{round(x):d}"))
    if len(years) == 1:
        ax.set_xlim(years[0] - 1, years[0] + 1)


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


__all__ = ["COMPARISONS", "LABEL_GID", "add_north_arrow", "add_scale_bar", "change_class", "coverage_figure",
           "coverage_map", "gep_figure", "gep_map", "local_crs", "place_labels", "redline_figure", "redline_map",
           "safe_stem", "trend_chart", "trend_figure", "year_axis"]
