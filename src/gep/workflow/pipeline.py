"""The workflow's stages as functions of the validated config; each Snakemake rule calls one through
``gep stage NAME``. Where each reads and writes is :mod:`gep.io.run_paths`."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from gep.accounting.classes import load_scheme
from gep.core.compute import progress, scheduler
from gep.config import Config
from gep.raster.grid import open_lazy
from gep.raster.kernels import warm_up
from gep.accounting.landcover import (UNKNOWN, LandcoverRaster, check_conservation, crosstab_table,
                                      require_mapped, extent_account,
                        landcover_area, merge_parts, region_area, region_areas, transition_table, unknown_codes,
                        unknown_codes_error, unknown_codes_note)
from gep.vector.regions import read_regions, region_frame
from gep.io.publish import guard
from gep.accounting.inputs import load_regions, open_landcover  # noqa: F401
from gep.io.publish import publish_table
from gep.io.run_paths import (crosstab_path, gep_ls_path, gep_raster_dir, gep_sums_path, protected_change_path,
                              scorecard_dir, tables_dir, transition_path)
from gep.io.tables import read_table, write_single, write_table

#: terrain class codes 0 (no DEM) .. 6, see gep.indicators.coverage.terrain
TERRAIN_CODES = 7

UNITS_LANDCOVER = {"area_km2": "km2", "area_cm2": "cm2 (exact integer)", "year": "calendar year"}
UNITS_REGION = {"polygon_area_km2": "km2 (ellipsoidal)", "valid_km2": "km2", "nodata_km2": "km2",
                "outside_raster_km2": "km2", "area_check_pct": "%"}


def account(cfg: Config, level: str, year: int, out: Path, *, terrain_path: Path | None = None,
            threads: int | None = None, part: tuple[int, int] | None = None) -> pd.DataFrame:
    """Crosstab of one level × year (with terrain strata when a terrain raster is given), checked and written.

    With ``part = (index, count)`` only that tile group is accounted and written (no area check yet: that runs
    on the merged table, see :func:`merge_account`).
    """
    warm_up()
    scheme = load_scheme(cfg.landcover.scheme)
    regions = load_regions(cfg, level)
    raster = open_landcover(cfg, year)
    strata = codes = None
    if terrain_path is not None:
        strata = open_lazy(terrain_path, cfg.compute.chunk_size).data
        codes = np.arange(TERRAIN_CODES)
    with scheduler(cfg.compute.scheduler, cfg.compute.workers or threads), \
            progress(f"accounting {level} {year}" + (f" part {part[0] + 1}/{part[1]}" if part else "")):
        tab = crosstab_table(raster, regions, scheme.codes, strata=strata, strata_codes=codes, part=part)
        if (tab["lc_code"] == UNKNOWN).any():
            if cfg.landcover.unknown_codes == "error":
                raise unknown_codes_error(raster, scheme.name, unknown_codes(raster, scheme.codes))
            # 'nodata': the rows stay labelled 'unknown' (counted as nodata by every table) so that region_area
            # reports their area (unknown_codes_km2) and the report says so
            print(f"gep: warning: {raster.path}: {unknown_codes_note(tab)}", file=sys.stderr)
    if part is None:
        check_conservation(tab, region_areas(regions, raster.grid), cfg.checks.area_tolerance_pct, str(raster.path))
        require_mapped(tab, str(raster.path), level, year)
    tab.insert(1, "year", year)
    write_single(tab, out)
    return tab


def merge_account(cfg: Config, level: str, year: int, parts: list[Path], out: Path) -> pd.DataFrame:
    """Merge the tile groups' partial crosstabs of one level × year exactly, check areas, and write."""
    tab = merge_parts([read_table(p).drop(columns="year") for p in parts])
    raster = open_landcover(cfg, year)
    check_conservation(tab, region_areas(load_regions(cfg, level), raster.grid), cfg.checks.area_tolerance_pct,
                       f"{raster.path} ({len(parts)} tile groups)")
    require_mapped(tab, str(raster.path), level, year)
    tab.insert(1, "year", year)
    write_single(tab, out)
    return tab


def transition(cfg: Config, level: str, year_from: int, year_to: int, out: Path, *,
               threads: int | None = None) -> pd.DataFrame:
    """Land-cover transitions of one level between two years, written as an interim table."""
    scheme = load_scheme(cfg.landcover.scheme)
    regions = load_regions(cfg, level)
    prev, curr = open_landcover(cfg, year_from), open_landcover(cfg, year_to)
    with scheduler(cfg.compute.scheduler, cfg.compute.workers or threads), \
            progress(f"transitions {level} {year_from}→{year_to}"):
        tab = transition_table(prev, curr, regions, scheme.codes)
    tab.insert(1, "year_from", year_from)
    tab.insert(2, "year_to", year_to)
    write_single(tab, out)
    return tab


def tables(cfg: Config, level: str, out_dir: Path | None = None) -> list[Path]:
    """Build the published land-cover tables of one level from the interim tables of all years."""
    scheme = load_scheme(cfg.landcover.scheme)
    regions = load_regions(cfg, level)
    names = region_frame(regions)
    out_dir = out_dir or tables_dir(cfg, level)
    lc_rows, region_rows = [], []
    for year in cfg.years:
        tab = read_table(crosstab_path(cfg, level, year))
        raster_grid = open_landcover(cfg, year).grid
        lc_rows.append(landcover_area(tab, names, scheme, year))
        region_rows.append(region_area(tab, region_areas(regions, raster_grid), names, year))
    written = []
    extra = {"class_scheme": scheme.name, "class_scheme_source": scheme.source, "level": level}
    written += publish_table(cfg, level, pd.concat(lc_rows, ignore_index=True), "landcover_area",
                             units=UNITS_LANDCOVER, extra=extra, out_dir=out_dir)
    written += publish_table(cfg, level, pd.concat(region_rows, ignore_index=True), "region_area",
                             units=UNITS_REGION, extra=extra, out_dir=out_dir)
    change, extent = [], []
    for y0, y1 in zip(cfg.years[:-1], cfg.years[1:]):
        t = read_table(transition_path(cfg, level, y0, y1))
        extent.append(extent_account(t, names, y0, y1))
        t = t.merge(names, on="region_code", how="left")
        t["area_km2"] = t["area_cm2"] / 1e10
        change.append(t[["region_code", "region_name", "year_from", "year_to", "lc_from", "lc_to", "area_km2",
                         "area_cm2"]])
    if change:
        units = {"area_km2": "km2", "area_cm2": "cm2 (exact integer)"}
        written += publish_table(cfg, level, pd.concat(change, ignore_index=True), "landcover_change",
                                 units=units, extra=extra, out_dir=out_dir)
        written += publish_table(cfg, level, pd.concat(extent, ignore_index=True), "extent_account",
                                 units={c: "km2" for c in ("opening_km2", "additions_km2", "reductions_km2",
                                                           "net_change_km2", "closing_km2")},
                                 extra=extra, out_dir=out_dir)
    return written


def gep_dem(cfg: Config):
    """The DEM of the LS factor: ``gep.dem``, else the terrain DEM."""
    return cfg.gep.dem or (cfg.terrain.dem_path if cfg.terrain else None)


def _require_gep(cfg: Config) -> None:
    from gep.core.errors import InputError

    if cfg.gep is None:
        raise InputError("config: no 'gep' section; add one to compute GEP (see config/config.yaml)")


def gep_ls(cfg: Config) -> Path | None:
    """The LS factor for soil_retention, from the DEM, once for every year and level (:func:`gep_ls_path`)."""
    from gep.indicators.gep.run import ls_raster

    _require_gep(cfg)
    target = gep_ls_path(cfg)
    if target is not None:
        ls_raster(cfg.gep, gep_dem(cfg), target)
    return target


def gep_rasters(cfg: Config, year: int, *, threads: int | None = None) -> list[Path]:
    """The GEP service rasters of one year, shared by every region level (gep_tables reads them)."""
    from gep.indicators.gep.run import write_service_rasters

    _require_gep(cfg)
    scheme = load_scheme(cfg.landcover.scheme)
    ls = gep_ls_path(cfg)
    with scheduler(cfg.compute.scheduler, cfg.compute.workers or threads), progress(f"GEP rasters {year}"):
        return write_service_rasters(
            cfg.gep, year, landcover_path=cfg.landcover_path(year), raster_dir=gep_raster_dir(cfg),
            ls_path=ls if ls is not None and ls.is_file() else None, dem_path=gep_dem(cfg),
            scheme=cfg.landcover.scheme,
            landcover_nodata=cfg.landcover.nodata if cfg.landcover.nodata is not None else scheme.nodata)


def gep_sums(cfg: Config, levels: list[str], year: int, *, threads: int | None = None) -> list[Path]:
    """The sums of one year's GEP service rasters (and Tier-1 regulator rasters) over the regions of every level
    in ``levels``: the only raster work of the GEP tables, once per year (adding a year sums that year alone)."""
    from gep.indicators.gep.run import write_year_sums

    _require_gep(cfg)
    scheme = load_scheme(cfg.landcover.scheme)
    ls = gep_ls_path(cfg)
    with scheduler(cfg.compute.scheduler, cfg.compute.workers or threads), progress(f"GEP sums {year}"):
        return write_year_sums(
            cfg.gep, year, levels={level: load_regions(cfg, level) for level in levels},
            landcover_path=cfg.landcover_path(year), raster_dir=gep_raster_dir(cfg),
            targets={level: gep_sums_path(cfg, level, year) for level in levels}, scheme=cfg.landcover.scheme,
            landcover_nodata=cfg.landcover.nodata if cfg.landcover.nodata is not None else scheme.nodata,
            ls_path=ls if ls is not None and ls.is_file() else None, dem_path=gep_dem(cfg))


def gep_tables(cfg: Config, level: str, *, threads: int | None = None) -> list[Path]:
    """Indicator 10: GEP accounts of one level (gep.indicators.gep), written through :func:`publish_table`. When the
    run writes service rasters (:func:`gep_rasters`) the tables come from their stored sums (:func:`gep_sums`)
    and read no raster; otherwise the services are computed and summed here."""
    from gep.indicators.gep import run_gep
    from gep.config.gep import service_raster_names

    _require_gep(cfg)
    out_dir = tables_dir(cfg, level)
    written: list[Path] = []

    def writer(df, target_dir, name, *, units, extra=None):
        written.extend(publish_table(cfg, level, df, name, units=units, extra=extra, out_dir=Path(target_dir)))

    scheme = load_scheme(cfg.landcover.scheme)
    stored = bool(service_raster_names(cfg.gep))
    with scheduler(cfg.compute.scheduler, cfg.compute.workers or threads), progress(f"GEP {level}"):
        run_gep(cfg.gep, years=cfg.years, landcover_area=read_table(out_dir / "landcover_area.parquet"),
                regions=load_regions(cfg, level), landcover_path_for_year=cfg.landcover_path, dem_path=gep_dem(cfg),
                out_dir=out_dir, scheme=cfg.landcover.scheme,
                landcover_nodata=cfg.landcover.nodata if cfg.landcover.nodata is not None else scheme.nodata,
                writer=writer, raster_dir=gep_raster_dir(cfg), rasters_written=stored,
                sums_paths={y: gep_sums_path(cfg, level, y) for y in cfg.years} if stored else None)
    _note_superseded_rasters(out_dir / "rasters", gep_raster_dir(cfg))
    return written


def _note_superseded_rasters(old: Path, new: Path) -> None:
    """Point at GEP rasters an older gep wrote per level (tables/LEVEL/rasters/); they now live once in
    ``new`` for every level and nothing reads the old copies (up to 1 GB per raster at province scale)."""
    files = sorted(old.glob("*.tif")) if old.is_dir() else []
    if files:
        size = sum(f.stat().st_size for f in files) / 2**30
        print(f"gep: note: {old} holds {len(files)} GEP raster file(s) ({size:.1f} GiB) from an older gep; they "
              f"are now in {new} for every level, so delete the old folder to free the space (rm -r '{old}')")


def scorecard(cfg: Config, level: str, *, provenance: Path | None = None, threads: int | None = None) -> list[Path]:
    """The 两山指数 deliverables of one level: lianshan_index table, workbook, GeoPackage, maps, HTML report
    (maps and charts drawn on ``threads`` processes)."""
    from gep.scorecard import build_outputs

    change = protected_change_path(cfg)
    template = cfg.scorecard.template_for(level)
    # one template may hold every level's rows: the other levels' codes are theirs, not unknown regions
    others = ([c for other in cfg.regions if other != level for c in load_regions(cfg, other)["region_code"]]
              if template and not isinstance(cfg.scorecard.template, dict) else [])
    return build_outputs(tables_dir(cfg, level), scorecard_dir(cfg, level), regions=load_regions(cfg, level),
                         years=cfg.years, standard=cfg.scorecard.standard, other_levels=others,
                         template=Path(template) if template else None,
                         provenance=provenance, change_gpkg=change if change.exists() else None,
                         title=cfg.scorecard.title or f"{cfg.name}（{level}）", workers=threads)
