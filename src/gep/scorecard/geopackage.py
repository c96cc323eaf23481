"""``indicators.gpkg``: region polygons with the 两山指数 values per year, for QGIS and other GIS tools.

Layers:

- ``indicators``: one feature per region, wide columns per year Y — ``coverage_pct_Y`` (%), ``coverage_target_pct_Y``
  (%), ``coverage_status_Y``, ``redline_km2_Y`` (km²), ``redline_status_Y``, ``gep_per_km2_wan_yuan_Y``
  (万元/km²), ``gep_status_Y``, ``n_met_Y`` / ``n_not_met_Y`` (number of indicators 达标 / 不达标), plus
  ``terrain_type`` (of the last year);
- every layer of ``maps/protected_change.gpkg`` (red-line / protected-area parts added and removed), copied;
- ``layer_styles``: QGIS's style table: the styles of :mod:`gep.scorecard.qgis_styles` on ``indicators`` (default:
  the last year's 林草覆盖率 达标/不达标) and the added/removed style on each change layer, so every layer opens
  styled in QGIS.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gep.core.atomic import atomic_path
from gep.core.errors import InputError
from gep.io.qgis_styles import STYLE_TABLE, change_styles, write_layer_styles
from gep.scorecard.judge import MET, NOT_MET
from gep.scorecard.qgis_styles import indicator_styles
from gep.scorecard.standard import LianshanStandard

LAYER = "indicators"


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


def write_indicators_gpkg(path: str | Path, layer: gpd.GeoDataFrame, *, change_gpkg: str | Path | None = None,
                          breaks: list[float] | None = None, comparison: str = ">") -> Path:
    """Write ``indicators.gpkg`` atomically: the indicator layer, the change layers, the default QGIS styles.

    ``breaks``/``comparison``: the 林草覆盖率 targets (%) and their comparison, for the styles' classes and legend.
    """
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
    styles = indicator_styles(layer, breaks=breaks, comparison=comparison)
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(layer, tmp, layer=LAYER, driver="GPKG", promote_to_multi=True)
        for name, df in change_layers:
            kw = {}
            if isinstance(df, gpd.GeoDataFrame):
                kw = {"promote_to_multi": True} if len(df) else {"geometry_type": "MultiPolygon"}
            pyogrio.write_dataframe(df, tmp, layer=name, driver="GPKG", **kw)
        write_layer_styles(tmp, styles + change_styles(dict(change_layers)))
    return path


__all__ = ["LAYER", "indicator_layer", "write_indicators_gpkg"]
