"""Default QGIS styles stored inside the GeoPackages gep writes (QGIS's ``layer_styles`` table).

QGIS opens a GeoPackage layer with the style marked ``useAsDefault`` in the file's ``layer_styles`` table; the
other rows of the table are listed under Layer Properties → Style → Load Style → "Database". The styles are QML
(QGIS's style XML) written by this module, so no QGIS is needed to write them.

- builders of QML: :func:`single_qml` (one fill), :func:`categorized_qml` (a colour per value),
  :func:`graduated_qml` (a colour per range), each with optional labels (:func:`label_expression` of fields);
- :func:`write_layer_styles`: add the styles to a GeoPackage (the table layout QGIS itself creates);
- the styles of the layers every run writes below the scorecard: :func:`change_layer_style` (red-line /
  protected-area parts added or removed between two years) and :func:`outline_style` (region or source
  polygons, labelled by name).

The indicator layer of ``indicators.gpkg`` gets its styles from :mod:`gep.scorecard.qgis_styles`.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

STYLE_TABLE = "layer_styles"
QGIS_VERSION = "3.22.0"

GREY = "200,200,200,255"
#: green ramp of graduated fills (ColorBrewer YlGn, light to dark)
GREENS = ("247,252,185,255", "217,240,163,255", "173,221,142,255", "120,198,121,255", "49,163,84,255",
          "0,104,55,255")
ADDED = "26,150,65,255"
REMOVED = "215,25,28,255"


@dataclass(frozen=True)
class LayerStyle:
    """One row of ``layer_styles``: the QML of ``layer``, its name and description as QGIS lists them."""

    layer: str
    name: str
    qml: str
    description: str = ""
    default: bool = False


@dataclass(frozen=True)
class Category:
    """A value of a categorized renderer, its fill colour ("R,G,B,A") and its legend text."""

    value: str
    colour: str
    label: str


@dataclass(frozen=True)
class Range:
    """A class of a graduated renderer: ``lower`` < value ≤ ``upper`` (QGIS's ranges include their upper bound;
    the first also its lower bound), its fill colour and its legend text."""

    lower: float
    upper: float
    colour: str
    label: str


# --------------------------------------------------------------------------------------------- QML pieces


def fill_symbol(name: str, colour: str, *, outline: str = "50,50,50,255", width: float = 0.3,
                style: str = "solid") -> str:
    """A fill symbol (QGIS SimpleFill): ``style`` solid, no, b_diagonal, …; colours "R,G,B,A"."""
    props = {"color": colour, "outline_color": outline, "outline_style": "solid", "outline_width": f"{width:g}",
             "outline_width_unit": "MM", "style": style, "joinstyle": "bevel"}
    body = "".join(f'<prop k="{k}" v="{v}"/>' for k, v in props.items())
    return (f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">{body}</layer></symbol>')


def label_expression(*parts: str) -> str:
    """A QGIS expression joining ``parts`` (each an expression) on separate lines, skipping NULL parts."""
    return " || '\\n' || ".join(f"coalesce({p}, '')" for p in parts)


def _labeling(expression: str | None) -> str:
    if not expression:
        return ""
    return (
        '  <labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(expression)} isExpression="1" fontSize="9" '
        'fontFamily="Noto Sans CJK SC" textColor="0,0,0,255" textOpacity="1" multilineAlign="1">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
        'bufferOpacity="0.8"/></text-style>'
        '<placement placement="0" offsetType="0" centroidWhole="0" centroidInside="1"/>'
        '<rendering obstacle="1" scaleVisibility="0" drawLabels="1" displayAll="0"/>'
        "</settings></labeling>\n"
    )


def _qml(renderer: str, labels: str | None) -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Labeling" labelsEnabled="{int(bool(labels))}">\n'
        f"{renderer}"
        f"{_labeling(labels)}"
        "  <layerGeometryType>2</layerGeometryType>\n"
        "</qgis>\n"
    )


_RENDERER_TAIL = "    <rotation/><sizescale/>\n  </renderer-v2>\n"
_RENDERER_OPTS = 'forceraster="0" symbollevels="0" enableorderby="0"'


def single_qml(colour: str, *, outline: str = "50,50,50,255", width: float = 0.3, style: str = "solid",
               labels: str | None = None) -> str:
    """QML of one fill for every feature, labelled with the expression ``labels`` (None: no labels)."""
    return _qml(f'  <renderer-v2 type="singleSymbol" {_RENDERER_OPTS}>\n'
                f"    <symbols>{fill_symbol('0', colour, outline=outline, width=width, style=style)}</symbols>\n"
                + _RENDERER_TAIL, labels)


def categorized_qml(field: str, categories: Sequence[Category], *, other: str | None = None,
                    labels: str | None = None) -> str:
    """QML of a fill colour per value of ``field``; ``other``: legend text of a grey class for every other
    value (NULL included), or None to leave other values undrawn."""
    cats = [*categories] + ([Category("", GREY, other)] if other is not None else [])
    rows = "".join(f'<category render="true" symbol="{k}" value={quoteattr(c.value)} label={quoteattr(c.label)}/>'
                   for k, c in enumerate(cats))
    symbols = "".join(fill_symbol(str(k), c.colour) for k, c in enumerate(cats))
    return _qml(f'  <renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} {_RENDERER_OPTS}>\n'
                f"    <categories>{rows}</categories>\n"
                f"    <symbols>{symbols}</symbols>\n"
                f"    <source-symbol>{fill_symbol('0', GREY)}</source-symbol>\n"
                + _RENDERER_TAIL, labels)


def graduated_qml(field: str, ranges: Sequence[Range], *, labels: str | None = None) -> str:
    """QML of a fill colour per range of ``field`` (features outside every range, NULL included, undrawn)."""
    rows = "".join(f'<range lower="{r.lower:.6f}" upper="{r.upper:.6f}" symbol="{k}" label={quoteattr(r.label)} '
                   'render="true"/>' for k, r in enumerate(ranges))
    symbols = "".join(fill_symbol(str(k), r.colour) for k, r in enumerate(ranges))
    return _qml(f'  <renderer-v2 type="graduatedSymbol" attr={quoteattr(field)} graduatedMethod="GraduatedColor" '
                f"{_RENDERER_OPTS}>\n"
                f"    <ranges>{rows}</ranges>\n"
                f"    <symbols>{symbols}</symbols>\n"
                f"    <source-symbol>{fill_symbol('0', GREENS[0])}</source-symbol>\n"
                '    <mode name="manual"/>\n'
                + _RENDERER_TAIL, labels)


def ramp(n: int, colours: Sequence[str] = GREENS) -> list[str]:
    """``n`` colours spread evenly over ``colours`` (light to dark)."""
    step = (len(colours) - 1) / max(n - 1, 1)
    return [colours[round(k * step)] for k in range(n)]


# --------------------------------------------------------------------------------------------- styles


def change_layer_style(layer: str, year_from: int, year_to: int, *, default: bool = True) -> LayerStyle:
    """Parts of a red-line / protected-area layer added or removed from ``year_from`` to ``year_to`` (the
    ``change`` field of ``maps/protected_change.gpkg``: "added" / "removed"), labelled with the signed area.

    The legend names the comparison: each pair of consecutive years of the run, the later against the earlier
    (the previous accounted year, not the baseline year; docs/methods.md §3)."""
    span = f"{year_to} 较 {year_from}（与上一核算年相比）"
    cats = [Category("added", ADDED, f"新增 added：{span}"), Category("removed", REMOVED, f"减少 removed：{span}")]
    labels = "if(\"change\" = 'removed', '−', '+') || format_number(\"area_km2\", 3) || ' km²'"
    return LayerStyle(layer, f"{layer} 新增/减少", categorized_qml("change", cats, labels=labels),
                      f"parts added / removed, {year_to} against {year_from} (previous accounted year) (gep)",
                      default)


def change_styles(layers) -> list[LayerStyle]:
    """:func:`change_layer_style` of every layer of ``layers`` (name → frame) that has a ``change`` field and
    geometry; the years come from its ``year_from``/``year_to`` fields, or, for an empty layer, from the last
    two 4-digit numbers of its name (``redline_2020_2021``)."""
    out = []
    for name, df in layers.items():
        if "change" not in df.columns or getattr(df, "geometry", None) is None:
            continue
        if len(df) and {"year_from", "year_to"} <= set(df.columns):
            years = [int(df["year_from"].iloc[0]), int(df["year_to"].iloc[0])]
        else:
            years = [int(x) for x in str(name).split("_") if x.isdigit() and len(x) == 4]
        if len(years) >= 2:
            out.append(change_layer_style(str(name), years[-2], years[-1]))
    return out


def outline_style(layer: str, *, label_field: str | None = "name", colour: str = "0,0,0,0",
                  outline: str = "60,60,60,255", width: float = 0.4, style: str = "solid",
                  description: str = "polygons (gep)") -> LayerStyle:
    """A plain style: polygons with ``outline`` (a transparent fill by default), labelled with ``label_field``."""
    labels = f'"{label_field}"' if label_field else None
    return LayerStyle(layer, f"{layer} (gep)", single_qml(colour, outline=outline, width=width, style=style,
                                                           labels=labels), description, True)


# --------------------------------------------------------------------------------------------- writing


_COLUMNS = ("id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, f_table_catalog TEXT(256), f_table_schema TEXT(256), "
            "f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT, styleQML TEXT, "
            "styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
            "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))")


def write_layer_styles(path: str | Path, styles: Sequence[LayerStyle]) -> None:
    """Add ``styles`` to the GeoPackage ``path`` (opened in place: call it on the temporary file of an atomic
    write). Creates ``layer_styles`` as QGIS does (registered as an attribute table) when missing; an earlier
    style of the same layer and name is replaced, and a new default style clears the layer's old default."""
    if not styles:
        return
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"
    con = sqlite3.connect(str(path))
    try:
        with con:
            have = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (STYLE_TABLE,)).fetchone()
            if not have:
                con.execute(f"CREATE TABLE {STYLE_TABLE} ({_COLUMNS})")
                con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change) "
                            "VALUES (?, 'attributes', ?, ?)", (STYLE_TABLE, STYLE_TABLE, now))
            geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
            for s in styles:
                if s.layer not in geom:
                    raise ValueError(f"{path}: no geometry layer '{s.layer}' to attach style '{s.name}' to")
                if s.default:
                    con.execute(f"UPDATE {STYLE_TABLE} SET useAsDefault = 0 WHERE f_table_name = ?", (s.layer,))
                con.execute(f"DELETE FROM {STYLE_TABLE} WHERE f_table_name = ? AND styleName = ?", (s.layer, s.name))
                con.execute(f"INSERT INTO {STYLE_TABLE} (f_table_catalog, f_table_schema, f_table_name, "
                            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, "
                            "update_time) VALUES ('', '', ?, ?, ?, ?, '', ?, ?, '', '', ?)",
                            (s.layer, geom[s.layer], s.name, s.qml, int(s.default), s.description, now))
    finally:
        con.close()


def geometry_layers(path: str | Path) -> list[str]:
    """The geometry layers of a GeoPackage (tables in ``gpkg_geometry_columns``), in file order."""
    con = sqlite3.connect(str(path))
    try:
        return [r[0] for r in con.execute("SELECT table_name FROM gpkg_geometry_columns ORDER BY rowid")]
    finally:
        con.close()


__all__ = ["ADDED", "GREENS", "GREY", "REMOVED", "STYLE_TABLE", "Category", "LayerStyle", "Range",
           "categorized_qml", "change_layer_style", "change_styles", "fill_symbol", "geometry_layers", "graduated_qml",
           "label_expression", "outline_style", "ramp", "single_qml", "write_layer_styles"]
