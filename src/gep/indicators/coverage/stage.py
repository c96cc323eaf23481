"""Indicator 7 stages: the terrain raster on the land-cover grid and the 林草覆盖率 tables of one level.

Tables (``tables/LEVEL/``): ``terrain_area`` (region × year × terrain class × land-cover class, km²),
``region_terrain_type`` (shares of 平原/丘陵/山地 and the rule that decided the type), ``forest_grass_coverage``
(coverage, target, 达标, gap), ``coverage_by_terrain`` and ``coverage_trend``. All come from the same crosstab
pass as ``landcover_area`` (terrain is a stratum of it), never from a second read of the rasters.

With ``landcover.survey`` the area table comes from the land survey's polygons instead (docs/methods.md §2.7):
:func:`survey_account` accounts each year's layer over each level's regions with the terrain raster's exact
shares, and the numerator is the survey's named one (§2.8), carried in the tables as weights per row and
named in column ``numerator``. The survey's reports are published beside them: ``survey_issues`` (polygons
whose area departs from TBMJ, TBDLMJ mismatches, repairs, overlaps, 可调整 codes), ``survey_regions`` (gaps
and overlaps per region), ``survey_totals`` (the layer's own class sums) and ``survey_summary``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from gep.accounting.classes import load_scheme
from gep.config import Config
from gep.indicators.coverage.index import (coverage_by_terrain, coverage_trend, forest_grass_coverage, read_overrides,
                                          region_terrain_type, terrain_notes)
from gep.core.errors import InputError
from gep.accounting.landcover import CM2_PER_KM2, NODATA, UNKNOWN
from gep.accounting.inputs import load_regions
from gep.io.publish import publish_table
from gep.io.run_paths import SURVEY_KINDS, crosstab_path, relief_areas_path, survey_path, terrain_path
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


def relief_areas(cfg: Config, levels: list[str], *, threads: int | None = None) -> dict[str, pd.DataFrame]:
    """Region × relief-class areas on the DEM's own grid (integer cm², docs/methods.md §2.3) of each level, in one
    pass over the DEM; written to :func:`gep.io.run_paths.relief_areas_path`. They decide the region terrain
    type whatever the land cover's resolution."""
    from gep.core.compute import progress, scheduler
    from gep.indicators.coverage.terrain import relief_class_areas_by_level
    from gep.io.tables import write_single

    if cfg.terrain is None:
        raise InputError("config: no 'terrain' section; add terrain.dem_path to compute terrain classes")
    regions = {level: load_regions(cfg, level) for level in levels}
    with scheduler(cfg.compute.scheduler, cfg.compute.workers or threads), \
            progress(f"relief classes on the DEM grid ({', '.join(levels)})"):
        tables = relief_class_areas_by_level(cfg.terrain.dem_path, regions, cfg.terrain)
    for level, tab in tables.items():
        write_single(tab, relief_areas_path(cfg, level))
    return tables


def terrain_area(cfg: Config, level: str) -> pd.DataFrame:
    """Tidy region × year × terrain class × land-cover class areas (km²) from the interim crosstabs (or, with
    ``landcover.survey``, from the survey's tables: :func:`survey_terrain_area`)."""
    if cfg.landcover.survey is not None:
        return survey_terrain_area(cfg, level)
    scheme = load_scheme(cfg.landcover.scheme)
    category = {str(c.code): c.category for c in scheme.classes}
    rows = [read_table(crosstab_path(cfg, level, y)) for y in cfg.years]
    tab = pd.concat(rows, ignore_index=True)
    # codes not in the scheme (landcover.unknown_codes: nodata) count as nodata: in the denominator, never 林草
    tab.loc[tab["lc_code"] == UNKNOWN, "lc_code"] = NODATA
    keys = ["region_code", "year", "terrain_code", "lc_code"]
    tab = tab.groupby(keys, as_index=False, sort=False)["area_cm2"].sum()
    tab["category"] = tab["lc_code"].map(category).fillna(NODATA)
    tab["area_km2"] = tab["area_cm2"] / CM2_PER_KM2
    tab = tab.merge(region_frame(load_regions(cfg, level)), on="region_code", how="left")
    cols = ["region_code", "region_name", "year", "terrain_code", "lc_code", "category", "area_km2", "area_cm2"]
    return tab[cols].sort_values(["region_code", "year", "terrain_code", "lc_code"], kind="stable") \
        .reset_index(drop=True)


# --- the land survey's polygons (landcover.survey) -------------------------------------------------------------

SURVEY_UNITS = {"area_km2": "km2", "area_m2": "m2", "area_cm2": "cm2 (exact integer)", "survey_m2": "m2",
                "geometry_m2": "m2 (ellipsoidal)", "overlap_m2": "m2 (ellipsoidal)", "region_area_m2": "m2 (ellipsoidal)",
                "polygon_area_m2": "m2 (ellipsoidal)", "counted_m2": "m2", "uncovered_m2": "m2 (ellipsoidal)",
                "outside_regions_m2": "m2", "unplaced_m2": "m2"}


def survey_account(cfg: Config, level: str, year: int, *, threads: int | None = None) -> dict[str, pd.DataFrame]:
    """Account ``year``'s survey layer over the regions of ``level`` (terrain shares from the run's terrain
    raster) and write the table and reports (:data:`gep.io.run_paths.SURVEY_KINDS`)."""
    from gep.accounting.survey import TerrainClasses, fields_of, options_of, survey_crosstab, survey_problems
    from gep.core.compute import progress, scheduler
    from gep.io.tables import write_single

    survey = cfg.landcover.survey
    if survey is None:
        raise InputError("config: no 'landcover.survey' section; name the survey layer to account it")
    problems = survey_problems(survey, {y: cfg.survey_path(y) for y in {cfg.years[0], year}})
    if problems:
        raise InputError.many(problems)
    terrain = TerrainClasses.open(terrain_path(cfg), chunk=cfg.compute.chunk_size)
    with scheduler(cfg.compute.scheduler, cfg.compute.workers or threads), \
            progress(f"survey {level} {year}"):
        res = survey_crosstab(cfg.survey_path(year), load_regions(cfg, level), terrain, layer=survey.layer,
                              fields=fields_of(survey), options=options_of(survey))
    frames = {"table": res.table, "issues": res.issues, "regions": res.regions, "totals": res.survey_totals,
              "summary": pd.DataFrame([res.counts])}
    for kind in SURVEY_KINDS:
        frame = frames[kind].copy()
        frame.insert(0, "year", year)
        frames[kind] = frame
        write_single(frame, survey_path(cfg, level, year, kind))
    return frames


def _survey_frames(cfg: Config, level: str, kind: str) -> pd.DataFrame:
    return pd.concat([read_table(survey_path(cfg, level, y, kind)) for y in cfg.years], ignore_index=True)


def survey_terrain_area(cfg: Config, level: str) -> pd.DataFrame:
    """The ``terrain_area`` table from the survey's tables, with each row's counted share in the numerator
    (``forest_weight``, ``grass_weight``: docs/methods.md §2.8) and the numerator's name. A region's area that
    no polygon covers beyond ``gap_tolerance`` (``survey_regions.flagged``) is a nodata row (terrain code 0):
    it stays in the denominator, as unmapped raster cells do."""
    from gep.accounting.survey_classes import numerator
    from gep.raster.cellarea import to_cm2

    survey = cfg.landcover.survey
    num = numerator(survey.numerator, survey.designated_shrub_share)
    scheme = load_scheme(survey.scheme)
    category = {str(c.code): c.category for c in scheme.classes}
    tab = _survey_frames(cfg, level, "table")
    tab["lc_code"] = tab["lc_code"].astype(str)
    tab = tab.groupby(["region_code", "year", "terrain_code", "lc_code"], as_index=False)["area_cm2"].sum()
    regions = _survey_frames(cfg, level, "regions")
    gaps = regions[regions["flagged"].astype(bool) & (regions["uncovered_m2"] > 0)]
    if len(gaps):
        tab = pd.concat([tab, pd.DataFrame({
            "region_code": gaps["region_code"].astype(str), "year": gaps["year"], "terrain_code": 0,
            "lc_code": NODATA, "area_cm2": to_cm2(gaps["uncovered_m2"].to_numpy())})],
            ignore_index=True)
    tab["region_code"] = tab["region_code"].astype(str)
    tab["category"] = tab["lc_code"].map(category).fillna(NODATA)
    code = pd.to_numeric(tab["lc_code"], errors="coerce").fillna(-1).astype(np.int64)
    tab["forest_weight"] = code.map(num.forest).fillna(0.0).astype(np.float64)
    tab["grass_weight"] = code.map(num.grass).fillna(0.0).astype(np.float64)
    tab["numerator"] = num.label
    tab["area_km2"] = tab["area_cm2"] / CM2_PER_KM2
    tab = tab.merge(region_frame(load_regions(cfg, level)), on="region_code", how="left")
    cols = ["region_code", "region_name", "year", "terrain_code", "lc_code", "category", "area_km2", "area_cm2",
            "forest_weight", "grass_weight", "numerator"]
    return tab[cols].sort_values(["region_code", "year", "terrain_code", "lc_code"], kind="stable") \
        .reset_index(drop=True)


def survey_reports(cfg: Config, level: str) -> dict[str, pd.DataFrame]:
    """The survey's reports of every year, as published: issues, regions (with names), totals and summary."""
    names = region_frame(load_regions(cfg, level))
    regions = _survey_frames(cfg, level, "regions")
    regions["region_code"] = regions["region_code"].astype(str)
    regions = regions.merge(names, on="region_code", how="left")
    regions = regions[["year", "region_code", "region_name"] + [c for c in regions.columns
                                                               if c not in ("year", "region_code", "region_name")]]
    return {"survey_issues": _survey_frames(cfg, level, "issues"), "survey_regions": regions,
            "survey_totals": _survey_frames(cfg, level, "totals"),
            "survey_summary": _survey_frames(cfg, level, "summary")}


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
    relief = read_table(relief_areas_path(cfg, level))
    types = region_terrain_type(ta.drop(columns="area_cm2"), cfg.terrain, _precip_mean(cfg, level), overrides,
                                relief_areas=relief)
    for note in terrain_notes(types):  # into the job's log too
        print(f"gep: warning: {level}: {note}", file=sys.stderr)
    fgc = forest_grass_coverage(ta.drop(columns="area_cm2"), types, cfg.coverage.standard, cfg.coverage,
                                min_mapped_pct=cfg.checks.min_coverage_pct)
    extra = {"standard": cfg.coverage.standard, "denominator": cfg.coverage.denominator,
             "window_m": cfg.terrain.window_m, "thresholds_m": list(cfg.terrain.thresholds_m),
             "terrain_shares": "relief classes on the DEM's own grid (docs/methods.md §2.3)",
             "borderline_margin_pp": cfg.terrain.borderline_margin_pp}
    if cfg.landcover.survey is not None:
        extra["landcover"] = "survey"
        extra["numerator"] = str(ta["numerator"].iloc[0]) if len(ta) else None
    written = publish_table(cfg, level, ta, "terrain_area", units=UNITS, extra=extra)
    written += publish_table(cfg, level, types, "region_terrain_type", units={"precip_mm": "mm"}, extra=extra)
    written += publish_table(cfg, level, fgc, "forest_grass_coverage", units=UNITS, extra=extra)
    written += publish_table(cfg, level, coverage_by_terrain(ta.drop(columns="area_cm2"), cfg.coverage),
                             "coverage_by_terrain", units=UNITS, extra=extra)
    written += publish_table(cfg, level, coverage_trend(fgc), "coverage_trend",
                             units={"coverage_pct": "%"}, extra=extra)
    if cfg.landcover.survey is not None:
        for name, frame in survey_reports(cfg, level).items():
            written += publish_table(cfg, level, frame, name, units=SURVEY_UNITS, extra=extra)
    return written
