"""Indicator 9 stages: red-line and protected-area tables, the change GeoPackage, and land cover inside them.

Tables of one region level (``tables/LEVEL/``):

- ``protected_area``: region × year × layer × type, area_km2 and share_of_region_pct (vector areas, exact);
- ``protected_change``: change against the previous and the baseline year, with the 不减少 verdict;
- ``redline_landcover``: land-cover composition inside each layer per region × year (raster crosstab with the
  layer ∩ region pieces as zones, same exact accounting as ``landcover_area``);
- ``redline_transition``: land-cover transitions inside the later year's layer between consecutive years.

``maps/protected_change.gpkg`` holds the added/removed parts and per-id status for each pair of years.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gep.accounting.classes import load_scheme
from gep.core.compute import progress, scheduler
from gep.config import Config
from gep.core.errors import InputError
from gep.accounting.landcover import NODATA, UNKNOWN, crosstab_table, transition_table
from gep.core.units import CM2_PER_KM2
from gep.accounting.inputs import load_regions, open_landcover
from gep.io.publish import publish_table
from gep.io.run_paths import redline_path, redline_transition_path
from gep.indicators.protected.areas import (ProtectedLayerConfig, carried_notes, change_layers, change_status, dissolve,
                        protected_area, protected_change, read_layer, resolve_sources, write_change_gpkg)
from gep.vector.regions import region_frame, to_crs
from gep.io.tables import read_table, write_single

UNITS = {"area_km2": "km2 (ellipsoidal)", "share_of_region_pct": "%", "area_prev_km2": "km2",
         "delta_km2": "km2", "delta_pct": "%", "area_base_km2": "km2", "delta_base_km2": "km2"}


def _layers(cfg: Config) -> dict[str, ProtectedLayerConfig]:
    if cfg.protected is None or not cfg.protected.layers():
        raise InputError("config: no 'protected' section with a 'redline' or 'protected' layer; add one "
                         "(see config/config.yaml)")
    return cfg.protected.layers()


def read_year_layers(cfg: Config, name: str, lc: ProtectedLayerConfig) -> dict[int, gpd.GeoDataFrame]:
    """The polygons of one layer for every year of the run (carried forward where configured)."""
    out = {}
    for src in resolve_sources(lc, cfg.years, name=name):
        gdf, _ = read_layer(src.path, layer=lc.layer, id_field=lc.id_field, type_field=lc.type_field,
                            encoding=lc.encoding, name=f"{name} layer ({src.year})")
        out[src.year] = gdf
    return out


def area_tables(cfg: Config, level: str) -> list[Path]:
    """Write ``protected_area`` and ``protected_change`` of one level."""
    regions = load_regions(cfg, level)
    areas, changes = [], []
    for name, lc in _layers(cfg).items():
        by_year = read_year_layers(cfg, name, lc)
        types = None
        if lc.type_field:
            types = sorted({t for g in by_year.values() for t in g["type"].dropna().astype(str)})
        rows = pd.concat([protected_area(regions, g, layer_name=name, year=y, types=types)
                          for y, g in sorted(by_year.items())], ignore_index=True)
        areas.append(rows)
        changes.append(protected_change(rows, tolerance_km2=lc.tolerance_km2, baseline_year=lc.baseline_year))
    sources = {n: {"path": lc.path, "tolerance_km2": lc.tolerance_km2} for n, lc in _layers(cfg).items()}
    written = publish_table(cfg, level, pd.concat(areas, ignore_index=True), "protected_area", units=UNITS,
                            extra={"layers": sources})
    written += publish_table(cfg, level, pd.concat(changes, ignore_index=True), "protected_change", units=UNITS,
                             extra={"layers": sources})
    return written


def change_geopackage(cfg: Config, out: Path) -> Path:
    """Added/removed parts and per-id status of every layer for each pair of consecutive years."""
    layers: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    sliver = cfg.protected.sliver_m2 if cfg.protected else 1.0
    for name, lc in _layers(cfg).items():
        notes += carried_notes(resolve_sources(lc, cfg.years, name=name), name)
        by_year = read_year_layers(cfg, name, lc)
        for y0, y1 in zip(cfg.years[:-1], cfg.years[1:]):
            layers[f"{name}_{y0}_{y1}"] = change_layers(by_year[y0], by_year[y1], year_prev=y0, year=y1,
                                                        sliver_m2=sliver)
            layers[f"{name}_{y0}_{y1}_status"] = change_status(by_year[y0], by_year[y1], year_prev=y0, year=y1,
                                                               sliver_m2=sliver)
    if not layers:
        raise InputError("config: change layers need at least two years in 'years'")
    for note in notes:
        print(f"gep: note: {note}")
    return write_change_gpkg(out, layers)


def _pieces(regions: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The dissolved layer cut by region borders: one zone per region (the part of the layer inside it)."""
    merged = shapely.union_all(dissolve(np.asarray(to_crs(layer, regions.crs).geometry.values)))
    geoms = shapely.intersection(np.asarray(regions.geometry.values), merged)
    keep = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 0)
    return gpd.GeoDataFrame({"region_code": regions["region_code"].to_numpy()[keep]}, geometry=geoms[keep],
                            crs=regions.crs)


def landcover_account(cfg: Config, level: str, year: int, out: Path, *, threads: int | None = None) -> pd.DataFrame:
    """Interim crosstab of land cover inside each layer per region for one year (cm²)."""
    scheme = load_scheme(cfg.landcover.scheme)
    regions = load_regions(cfg, level)
    raster = open_landcover(cfg, year)
    parts = []
    with scheduler(cfg.compute.scheduler, cfg.compute.workers or threads), progress(f"red line {level} {year}"):
        for name, lc in _layers(cfg).items():
            layer = read_year_layers(cfg, name, lc)[year]
            pieces = _pieces(regions, layer)
            if len(pieces):
                tab = crosstab_table(raster, pieces, scheme.codes).drop(columns="terrain_code")
                tab.insert(1, "layer", name)
                parts.append(tab)
    tab = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["region_code", "layer", "lc_code", "area_cm2"])
    tab.insert(1, "year", year)
    write_single(tab, out)
    return tab


def transition_account(cfg: Config, level: str, y0: int, y1: int, out: Path, *,
                       threads: int | None = None) -> pd.DataFrame:
    """Interim transitions y0 → y1 inside each layer (as drawn in y1) per region (cm²)."""
    scheme = load_scheme(cfg.landcover.scheme)
    regions = load_regions(cfg, level)
    prev, curr = open_landcover(cfg, y0), open_landcover(cfg, y1)
    parts = []
    with scheduler(cfg.compute.scheduler, cfg.compute.workers or threads), \
            progress(f"red-line transitions {level} {y0}→{y1}"):
        for name, lc in _layers(cfg).items():
            pieces = _pieces(regions, read_year_layers(cfg, name, lc)[y1])
            if len(pieces):
                tab = transition_table(prev, curr, pieces, scheme.codes)
                tab.insert(1, "layer", name)
                parts.append(tab)
    tab = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["region_code", "layer", "lc_from", "lc_to", "area_cm2"])
    tab.insert(1, "year_from", y0)
    tab.insert(2, "year_to", y1)
    write_single(tab, out)
    return tab


def landcover_tables(cfg: Config, level: str) -> list[Path]:
    """Publish ``redline_landcover`` and ``redline_transition`` of one level from the interim tables."""
    scheme = load_scheme(cfg.landcover.scheme)
    names = region_frame(load_regions(cfg, level))
    info = pd.DataFrame([(str(c.code), c.name_zh, c.name_en, c.category) for c in scheme.classes],
                        columns=["lc_code", "lc_name_zh", "lc_name_en", "category"])
    comp = pd.concat([read_table(redline_path(cfg, level, y)) for y in cfg.years], ignore_index=True)
    comp["lc_code"] = comp["lc_code"].astype(str)
    comp = comp[~comp["lc_code"].isin([UNKNOWN])]
    total = comp.groupby(["region_code", "year", "layer"])["area_cm2"].transform("sum")
    comp["share_pct"] = np.where(total > 0, comp["area_cm2"] / total * 100, 0.0)
    comp["area_km2"] = comp["area_cm2"] / CM2_PER_KM2
    comp = comp.merge(info, on="lc_code", how="left").merge(names, on="region_code", how="left")
    nodata = comp["lc_code"] == NODATA
    comp.loc[nodata, ["lc_name_zh", "lc_name_en", "category"]] = ["无数据", "No data", "nodata"]
    cols = ["region_code", "region_name", "year", "layer", "lc_code", "lc_name_zh", "lc_name_en", "category",
            "area_km2", "share_pct", "area_cm2"]
    comp = comp[cols].sort_values(["region_code", "year", "layer", "lc_code"], kind="stable")
    written = publish_table(cfg, level, comp.reset_index(drop=True), "redline_landcover",
                            units={"area_km2": "km2", "share_pct": "% of the layer inside the region",
                                   "area_cm2": "cm2 (exact integer)"})
    pairs = list(zip(cfg.years[:-1], cfg.years[1:]))
    if pairs:
        tr = pd.concat([read_table(redline_transition_path(cfg, level, a, b)) for a, b in pairs],
                       ignore_index=True)
        tr["area_km2"] = tr["area_cm2"] / CM2_PER_KM2
        tr = tr.merge(names, on="region_code", how="left")
        cols = ["region_code", "region_name", "layer", "year_from", "year_to", "lc_from", "lc_to", "area_km2",
                "area_cm2"]
        tr = tr[cols].sort_values(["region_code", "layer", "year_from", "lc_from", "lc_to"], kind="stable")
        written += publish_table(cfg, level, tr.reset_index(drop=True), "redline_transition",
                                 units={"area_km2": "km2", "area_cm2": "cm2 (exact integer)"})
    return written
