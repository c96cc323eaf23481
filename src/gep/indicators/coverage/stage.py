"""Indicator 7 stages: the terrain raster on the land-cover grid and the 林草覆盖率 tables of one level.

Tables (``tables/LEVEL/``): ``terrain_area`` (region × year × terrain class × land-cover class, km²),
``region_terrain_type`` (shares of 平原/丘陵/山地 and the rule that decided the type), ``forest_grass_coverage``
(coverage, target, 达标, gap), ``coverage_by_terrain`` and ``coverage_trend``. All come from the same crosstab
pass as ``landcover_area`` (terrain is a stratum of it), never from a second read of the rasters.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gep.accounting.classes import load_scheme
from gep.config import Config
from gep.indicators.coverage.index import (coverage_by_terrain, coverage_trend, forest_grass_coverage, read_overrides,
                             region_terrain_type)
from gep.core.errors import InputError
from gep.accounting.landcover import CM2_PER_KM2, NODATA, UNKNOWN
from gep.accounting.inputs import load_regions
from gep.io.publish import publish_table
from gep.io.run_paths import crosstab_path
from gep.vector.regions import region_frame
from gep.io.tables import read_table

UNITS = {"area_km2": "km2", "land_area_km2": "km2", "forest_km2": "km2", "grass_km2": "km2",
         "nodata_km2": "km2", "coverage_pct": "%", "target_pct": "%", "gap_pct": "percentage points",
         "gap_km2": "km2"}


def write_terrain(cfg: Config, out: Path) -> Path:
    """Terrain classes (0 no DEM, 1 平原 … 6 极大起伏山地) on the land-cover grid, as a COG."""
    from gep.indicators.coverage.terrain import TERRAIN_BAND_BLOCKS, TERRAIN_CLASSES, terrain_on_grid, write_cog

    if cfg.terrain is None:
        raise InputError("config: no 'terrain' section; add terrain.dem_path to compute terrain classes")
    classes = terrain_on_grid(cfg.terrain.dem_path, str(cfg.landcover_path(cfg.years[0])), cfg.terrain)
    write_cog(classes, out, TERRAIN_CLASSES, band_blocks=TERRAIN_BAND_BLOCKS)
    return out


def terrain_area(cfg: Config, level: str) -> pd.DataFrame:
    """Tidy region × year × terrain class × land-cover class areas (km²) from the interim crosstabs."""
    scheme = load_scheme(cfg.landcover.scheme)
    category = {str(c.code): c.category for c in scheme.classes}
    rows = [read_table(crosstab_path(cfg, level, y)) for y in cfg.years]
    tab = pd.concat(rows, ignore_index=True)
    tab = tab[tab["lc_code"] != UNKNOWN].copy()
    tab["category"] = tab["lc_code"].map(category).fillna(NODATA)
    tab["area_km2"] = tab["area_cm2"] / CM2_PER_KM2
    tab = tab.merge(region_frame(load_regions(cfg, level)), on="region_code", how="left")
    cols = ["region_code", "region_name", "year", "terrain_code", "lc_code", "category", "area_km2", "area_cm2"]
    return tab[cols].sort_values(["region_code", "year", "terrain_code", "lc_code"], kind="stable") \
        .reset_index(drop=True)


def _precip_mean(cfg: Config, level: str) -> pd.Series | None:
    """Mean annual precipitation (mm) per region from the configured raster, area-weighted and exact at edges."""
    if cfg.terrain is None or cfg.terrain.precip_path is None:
        return None
    import rasterio

    from gep.raster.grid import grid_of, open_lazy
    from gep.vector.regions import to_crs
    from gep.raster.zonal import Zones, zonal_sum

    regions = load_regions(cfg, level)
    path = Path(cfg.terrain.precip_path)
    grid = grid_of(path)
    with rasterio.open(path) as src:
        nodata = src.nodata
    zones = Zones.prepare(np.asarray(to_crs(regions, grid.crs).geometry.values), grid)
    sums = zonal_sum(open_lazy(path, cfg.compute.chunk_size).data, grid, zones, nodata=nodata)
    mean = np.divide(sums[:, 0], sums[:, 1], out=np.full(len(sums), np.nan), where=sums[:, 1] > 0)
    return pd.Series(mean, index=regions["region_code"].to_numpy(), name="precip_mm")


def coverage_tables(cfg: Config, level: str) -> list[Path]:
    """Publish the indicator-7 tables of one level."""
    if cfg.terrain is None:
        raise InputError("config: no 'terrain' section; 林草覆盖率 by terrain needs terrain.dem_path")
    ta = terrain_area(cfg, level)
    overrides = None
    if cfg.terrain.overrides_path:  # one table may list regions of several levels: keep this level's rows
        overrides = read_overrides(cfg.terrain.overrides_path)
        overrides = overrides[overrides["region_code"].isin(set(ta["region_code"]))]
    types = region_terrain_type(ta.drop(columns="area_cm2"), cfg.terrain, _precip_mean(cfg, level), overrides)
    fgc = forest_grass_coverage(ta.drop(columns="area_cm2"), types, cfg.coverage.standard, cfg.coverage)
    extra = {"standard": cfg.coverage.standard, "denominator": cfg.coverage.denominator,
             "window_m": cfg.terrain.window_m, "thresholds_m": list(cfg.terrain.thresholds_m)}
    written = publish_table(cfg, level, ta, "terrain_area", units=UNITS, extra=extra)
    written += publish_table(cfg, level, types, "region_terrain_type", units={"precip_mm": "mm"}, extra=extra)
    written += publish_table(cfg, level, fgc, "forest_grass_coverage", units=UNITS, extra=extra)
    written += publish_table(cfg, level, coverage_by_terrain(ta.drop(columns="area_cm2"), cfg.coverage),
                             "coverage_by_terrain", units=UNITS, extra=extra)
    written += publish_table(cfg, level, coverage_trend(fgc), "coverage_trend",
                             units={"coverage_pct": "%"}, extra=extra)
    return written
