"""``indicators.gpkg``: region polygons with the 两山指数 values per year, for QGIS and other GIS tools.

Layers:

- ``indicators``: one feature per region, wide columns per year Y — ``coverage_pct_Y`` (%), ``coverage_target_pct_Y``
  (%), ``coverage_status_Y``, ``redline_km2_Y`` (km²), ``redline_status_Y``, ``gep_per_km2_wan_yuan_Y``
  (万元/km²), ``gep_status_Y``, ``n_met_Y`` / ``n_not_met_Y`` (number of indicators 达标 / 不达标), plus
  ``terrain_type`` (of the last year);
- every layer of ``maps/protected_change.gpkg`` (red-line / protected-area parts added and removed), copied;
- ``layer_styles``: QGIS's style table with a graduated renderer on the last year's 林草覆盖率, classes cut at
  the standard's targets, marked ``useAsDefault`` so QGIS draws it when the layer is opened.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import pandas as pd
import pyogrio

from gep.core.atomic import atomic_path
from gep.core.errors import InputError
from gep.scorecard.judge import MET, NOT_MET
from gep.scorecard.standard import LianshanStandard

LAYER = "indicators"
STYLE_TABLE = "layer_styles"


def indicator_layer(regions: gpd.GeoDataFrame, index: pd.DataFrame, standard: LianshanStandard, *,
                    coverage: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Region polygons with wide per-year indicator columns (see the module docstring)."""
    out = regions[["region_code", "region_name", "geometry"]].copy()
    out["region_code"] = out["region_code"].astype(str)
    years = sorted(int(y) for y in index["year"].unique()) if len(index) else []
    no_of = {i.data: i.no for i in standard.indicators if i.computed}
    cols: dict[str, pd.Series] = {}
    idx = index.set_index(["region_code", "indicator_no", "year"])
    codes = out["region_code"]

    def pick(no: int | None, year: int, field: str, dtype):
        if no is None:
            return pd.Series([None] * len(out), dtype=dtype)
        vals = [idx[field].get((c, no, year)) for c in codes]
        return pd.Series(vals, dtype=dtype)

    cov = None
    if coverage is not None and "target_pct" in coverage.columns:
        cov = coverage.assign(region_code=coverage["region_code"].astype(str)).set_index(["region_code", "year"])
    for y in years:
        cols[f"coverage_pct_{y}"] = pick(no_of.get("coverage"), y, "value", "float64")
        if cov is not None:
            cols[f"coverage_target_pct_{y}"] = pd.Series([cov["target_pct"].get((c, y)) for c in codes],
                                                         dtype="float64")
        cols[f"coverage_status_{y}"] = pick(no_of.get("coverage"), y, "status", object)
        cols[f"redline_km2_{y}"] = pick(no_of.get("protected"), y, "value", "float64")
        cols[f"redline_status_{y}"] = pick(no_of.get("protected"), y, "status", object)
        cols[f"gep_per_km2_wan_yuan_{y}"] = pick(no_of.get("gep"), y, "value", "float64")
        cols[f"gep_status_{y}"] = pick(no_of.get("gep"), y, "status", object)
        sub = index[index["year"] == y]
        met = sub[sub["status"] == MET].groupby("region_code").size()
        bad = sub[sub["status"] == NOT_MET].groupby("region_code").size()
        cols[f"n_met_{y}"] = pd.Series([int(met.get(c, 0)) for c in codes], dtype="int32")
        cols[f"n_not_met_{y}"] = pd.Series([int(bad.get(c, 0)) for c in codes], dtype="int32")
    wide = pd.DataFrame(cols, index=range(len(out)))
    out = out.reset_index(drop=True)
    if cov is not None and "terrain_type" in coverage.columns and years:
        out["terrain_type"] = [cov["terrain_type"].get((c, years[-1])) if (c, years[-1]) in cov.index else None
                               for c in codes]
    out = pd.concat([out.drop(columns="geometry"), wide, out[["geometry"]]], axis=1)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=regions.crs)


# --------------------------------------------------------------------------------------------- QGIS style

_RAMP = ["247,252,185,255", "217,240,163,255", "173,221,142,255", "120,198,121,255", "49,163,84,255",
         "0,104,55,255"]


def _fill_symbol(name: str, colour: str) -> str:
    props = {"color": colour, "outline_color": "50,50,50,255", "outline_style": "solid", "outline_width": "0.3",
             "outline_width_unit": "MM", "style": "solid", "joinstyle": "bevel"}
    body = "".join(f'<prop k="{k}" v="{v}"/>' for k, v in props.items())
    return (f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">{body}</layer></symbol>')


def coverage_qml(field: str, breaks: list[float], *, label_field: str = "region_name") -> str:
    """QML of a graduated fill renderer on ``field`` (%), classes [0, b1], (b1, b2], …, (bn, 100].

    QGIS's ranges include their upper bound, so with strict targets ("> 40%") a region exactly at 40 falls in
    the class below the target, as its judgement does. Regions are labelled with ``label_field``.
    """
    edges = sorted({0.0, 100.0, *[float(b) for b in breaks if 0 < float(b) < 100]})
    n = len(edges) - 1
    step = (len(_RAMP) - 1) / max(n - 1, 1)
    colours = [_RAMP[round(k * step)] for k in range(n)]
    ranges = "".join(
        f'<range lower="{edges[k]:.6f}" upper="{edges[k + 1]:.6f}" symbol="{k}" '
        f'label={quoteattr(f"{edges[k]:g} – {edges[k + 1]:g} %")} render="true"/>' for k in range(n))
    symbols = "".join(_fill_symbol(str(k), colours[k]) for k in range(n))
    label = quoteattr(f'"{label_field}" || \'\\n\' || format_number("{field}", 1) || \'%\'')
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology|Labeling" labelsEnabled="1">\n'
        f'  <renderer-v2 type="graduatedSymbol" attr={quoteattr(field)} graduatedMethod="GraduatedColor" '
        'forceraster="0" symbollevels="0" enableorderby="0">\n'
        f"    <ranges>{ranges}</ranges>\n"
        f"    <symbols>{symbols}</symbols>\n"
        f"    <source-symbol>{_fill_symbol('0', _RAMP[0])}</source-symbol>\n"
        '    <mode name="manual"/>\n'
        '    <rotation/><sizescale/>\n'
        '    <labelformat format="%1 - %2 %" decimalplaces="1" trimtrailingzeroes="true"/>\n'
        "  </renderer-v2>\n"
        '  <labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={label} isExpression="1" fontSize="9" fontFamily="Noto Sans CJK SC" '
        'textColor="0,0,0,255" textOpacity="1" multilineAlign="1">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
        'bufferOpacity="0.8"/></text-style>'
        '<placement placement="0" offsetType="0" centroidWhole="0" centroidInside="1"/>'
        '<rendering obstacle="1" scaleVisibility="0" drawLabels="1"/>'
        "</settings></labeling>\n"
        "  <layerGeometryType>2</layerGeometryType>\n"
        "</qgis>\n"
    )


def style_row(table: str, geometry_column: str, qml: str, name: str, description: str) -> dict:
    """One row of QGIS's ``layer_styles`` table (the layout QGIS itself creates in a GeoPackage)."""
    return {"f_table_catalog": "", "f_table_schema": "", "f_table_name": table,
            "f_geometry_column": geometry_column, "styleName": name, "styleQML": qml, "styleSLD": "",
            "useAsDefault": True, "description": description, "owner": "", "ui": "",
            "update_time": pd.Timestamp(_dt.datetime.now(_dt.UTC).replace(microsecond=0))}


def write_indicators_gpkg(path: str | Path, layer: gpd.GeoDataFrame, *, change_gpkg: str | Path | None = None,
                          breaks: list[float] | None = None, style_field: str | None = None) -> Path:
    """Write ``indicators.gpkg`` atomically: the indicator layer, the change layers, the default QGIS style."""
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise InputError(f"{path}: the indicator layers are written as a GeoPackage; use a .gpkg file name")
    change_layers: list[tuple[str, pd.DataFrame]] = []
    if change_gpkg is not None:
        change_gpkg = Path(change_gpkg)
        if not change_gpkg.is_file():
            raise InputError(f"{change_gpkg}: file does not exist; run the protected-area stage first or leave "
                             "out --change-gpkg")
        for name, geom_type in pyogrio.list_layers(change_gpkg):
            if name in (LAYER, STYLE_TABLE):
                continue
            df = pyogrio.read_dataframe(change_gpkg, layer=name, read_geometry=geom_type is not None)
            change_layers.append((str(name), df))
    field = style_field or next((c for c in reversed(layer.columns) if str(c).startswith("coverage_pct_")), None)
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(layer, tmp, layer=LAYER, driver="GPKG", promote_to_multi=True)
        for name, df in change_layers:
            kw = {}
            if isinstance(df, gpd.GeoDataFrame):
                kw = {"promote_to_multi": True} if len(df) else {"geometry_type": "MultiPolygon"}
            pyogrio.write_dataframe(df, tmp, layer=name, driver="GPKG", **kw)
        if field is not None:
            geom_col = _geometry_column(tmp, LAYER)
            qml = coverage_qml(field, breaks or [18, 40, 60])
            row = style_row(LAYER, geom_col, qml, f"{LAYER} {field}", "林草覆盖率 by class of target (gep)")
            pyogrio.write_dataframe(pd.DataFrame([row]), tmp, layer=STYLE_TABLE, driver="GPKG",
                                    layer_options={"FID": "id"})
            _conformant_time(tmp)
    return path


def _conformant_time(path: Path) -> None:
    """Store update_time as the GeoPackage's own datetime text (YYYY-MM-DDTHH:MM:SS.SSSZ) so GDAL/QGIS read
    it without a "non-conformant content" warning (the writer leaves out the milliseconds)."""
    import sqlite3

    con = sqlite3.connect(str(path))
    try:
        con.execute(f"UPDATE {STYLE_TABLE} SET update_time = strftime('%Y-%m-%dT%H:%M:%fZ', update_time)")
        con.commit()
    finally:
        con.close()


def _geometry_column(path: Path, table: str) -> str:
    """Name of the geometry column GDAL gave ``table`` (``geom`` by default in a GeoPackage)."""
    import sqlite3

    con = sqlite3.connect(str(path))
    try:
        row = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)).fetchone()
    finally:
        con.close()
    return row[0] if row else "geom"


__all__ = ["LAYER", "STYLE_TABLE", "coverage_qml", "indicator_layer", "write_indicators_gpkg"]
