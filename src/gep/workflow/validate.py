"""Up-front validation of every input a config names, before any computation.

All problems are collected and reported together (one line each: file, key, value, what to do); nothing is
written when there is a problem. ``gep validate CONFIG`` checks everything at once (:func:`validate_inputs`),
or one year's inputs (:func:`validate_year`).

The workflow checks only what every computing job reads, in parts, so that adding a year checks (and redoes)
only that year: the run's shared inputs once (class scheme, regions against the first year's grid, DEM;
:func:`check_shared`) and each year's land cover in a job of its own (:func:`check_year`). What one stage
alone reads (a standard, price or parameter table, a red-line layer, a climate raster) is an input of that
stage's rule: Snakemake reports a missing one before any work, and the stage reports a bad one (one line,
exit 2). So a new price table redoes the GEP tables, not the checks that every job waits for.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
import shapely

from gep.core.atomic import write_text
from gep.accounting.classes import ClassScheme, load_scheme
from gep.config import Config
from gep.core.errors import InputError
from gep.io.publish import frozen_problems
from gep.vector.geodesy import polygon_area_m2
from gep.raster.grid import Grid
from gep.indicators.coverage.index import load_standard, read_overrides
from gep.accounting.landcover import LandcoverRaster, code_histogram
from gep.vector.regions import overlaps, read_regions, to_crs


def _landcover(cfg: Config, scheme: ClassScheme | None, problems: list[str], report: dict,
               years: list[int]) -> dict[int, LandcoverRaster]:
    """Open the land cover of ``years`` and of the run's first year, whose grid every year must share."""
    rasters: dict[int, LandcoverRaster] = {}
    if not years:
        return rasters
    for year in sorted({cfg.years[0], *years}):
        try:
            rasters[year] = LandcoverRaster.open(cfg.landcover_path(year), chunk=cfg.compute.chunk_size,
                                                 nodata=cfg.landcover.nodata, crs=cfg.landcover.crs,
                                                 scheme_nodata=scheme.nodata if scheme else None)
        except InputError as err:
            problems.extend(f"landcover.path (year {year}): {line}" for line in err.lines())
    grids = {y: r.grid for y, r in rasters.items()}
    if grids:
        first_year = min(grids)
        for year, grid in grids.items():
            if year in years and not grid.same_as(grids[first_year]):
                problems.append(f"{rasters[year].path}: grid differs from {rasters[first_year].path} (shape, "
                                f"transform or CRS); resample all years onto one grid (nearest neighbour for classes)")
    rasters = {y: r for y, r in rasters.items() if y in years}
    for year, r in rasters.items():
        if r.nodata is None:
            report.setdefault("warnings", []).append(
                f"{r.path}: no nodata value declared; every cell is taken as a class code "
                f"(set 'landcover.nodata' if the raster has one)")
    return rasters


def _codes(cfg: Config, scheme: ClassScheme, rasters: dict[int, LandcoverRaster], problems: list[str],
           report: dict) -> set[int]:
    """Scan every year's codes; returns the known codes present in any year."""
    known = set(int(c) for c in scheme.codes)
    present: set[int] = set()
    for year, r in rasters.items():
        try:
            hist = code_histogram(r.blocks)
        except rasterio.errors.RasterioIOError as err:
            problems.append(f"{r.path}: pixels cannot be read ({str(err).splitlines()[0]}); the file is damaged "
                            f"or truncated: replace it")
            continue
        nodata = r.nodata
        valid = sum(n for v, n in hist.items() if v != nodata)
        report.setdefault("landcover", {})[str(year)] = {
            "path": str(r.path), "pixels": int(sum(hist.values())), "valid_pixels": int(valid)}
        if valid == 0:
            problems.append(f"{r.path}: every cell is nodata ({nodata}); check the file or 'landcover.nodata'")
        present |= {int(v) for v, n in hist.items() if v in known and v != nodata and n > 0}
        unknown = {v: n for v, n in hist.items() if v not in known and v != nodata}
        if unknown and cfg.landcover.unknown_codes == "error":
            listed = ", ".join(f"{v} ({n} pixels)" for v, n in list(unknown.items())[:20])
            problems.append(f"{r.path}: codes not in class scheme '{scheme.name}': {listed}; add them to the "
                            f"scheme, fix the raster, or set 'landcover.unknown_codes: nodata'")
    return present


def _regions(cfg: Config, grid: Grid | None, problems: list[str], report: dict) -> dict:
    """Read and check every region level; returns the levels that could be read."""
    levels = {}
    for level, rc in cfg.regions.items():
        try:
            regions, rep = read_regions(rc.path, rc.id_field, rc.name_field, layer=rc.layer, crs=rc.crs,
                                        coord_system=rc.coord_system, key=f"regions.{level}", encoding=rc.encoding)
        except InputError as err:
            problems.extend(err.lines())
            continue
        levels[level] = regions
        entry = {"path": rc.path, "features": rep["features"], "repaired_geometries": rep["repaired"]}
        report.setdefault("regions", {})[level] = entry
        bad = overlaps(regions)
        if bad:
            listed = ", ".join(f"{a}/{b} ({share:.2%})" for a, b, share in bad[:5])
            problems.append(f"{rc.path}: regions overlap: {listed}; regions of one level must not overlap "
                            f"(put other levels in their own entry under 'regions')")
        if grid is None:
            continue
        geoms = np.asarray(to_crs(regions, grid.crs).geometry.values)
        total = polygon_area_m2(geoms, grid.crs)
        inside = polygon_area_m2(shapely.intersection(geoms, shapely.box(*grid.bounds)), grid.crs)
        share = np.divide(inside, total, out=np.zeros_like(total), where=total > 0) * 100
        entry["min_coverage_pct"] = float(share.min()) if len(share) else 100.0
        low = share < cfg.checks.min_coverage_pct
        if low.any():
            codes = regions["region_code"].to_numpy()[low]
            listed = ", ".join(f"{c} ({s:.1f}%)" for c, s in zip(codes[:10], share[low][:10]))
            problems.append(f"{rc.path}: region(s) not covered by the land cover: {listed}; check the CRS of both "
                            f"files (swapped lat/lon?), or lower 'checks.min_coverage_pct' "
                            f"({cfg.checks.min_coverage_pct}%)")
    return levels


def _terrain(cfg: Config, levels: dict, problems: list[str], report: dict, *, stages: bool = True) -> None:
    if stages:
        try:
            load_standard(cfg.coverage.standard)
        except InputError as err:
            problems.append(f"coverage.standard: {err}")
    if cfg.terrain is None:
        return
    from gep.indicators.coverage.terrain import dem_coverage, open_dem, window_cells

    _dem_fill(cfg.terrain.dem_path, problems)
    try:
        for level, regions in levels.items():
            cov = dem_coverage(cfg.terrain.dem_path, regions, min_pct=cfg.terrain.dem_min_coverage_pct)
            report.setdefault("dem", {})[level] = {"min_covered_pct": float(cov["dem_covered_pct"].min())}
        window_cells(open_dem(cfg.terrain.dem_path, cfg.terrain.chunk), cfg.terrain.window_m)
    except InputError as err:
        problems.extend(f"terrain.dem_path: {line}" for line in err.lines())
    except rasterio.errors.RasterioIOError as err:
        problems.append(f"terrain.dem_path: {cfg.terrain.dem_path}: cannot be read as a raster "
                        f"({str(err).splitlines()[0]}); check the file")
    if cfg.terrain.overrides_path and stages:
        try:
            overrides = read_overrides(cfg.terrain.overrides_path)
            known = set().union(*(set(r["region_code"]) for r in levels.values())) if levels else set()
            unknown = sorted(set(overrides["region_code"]) - known)
            if levels and unknown:
                problems.append(f"terrain.overrides_path: {cfg.terrain.overrides_path}: region code(s) "
                                f"{', '.join(unknown[:10])} are in no region level; fix the codes or remove the rows")
        except InputError as err:
            problems.extend(f"terrain.overrides_path: {line}" for line in err.lines())


#: lower than any land surface (the Dead Sea shore is about −430 m): such values are fill, not terrain
LOWEST_ELEVATION_M = -500.0
#: cells read (decimated, nearest) to look for undeclared fill values
DEM_SAMPLE_SIDE = 2048


def _dem_fill(path, problems: list[str]) -> None:
    """A DEM without a declared nodata value whose cells hold fill values (e.g. −9999, −32768): those cells would
    become terrain (a cliff of 10 km) and flip relief classes. Read decimated (at most 2048² cells)."""
    try:
        with rasterio.open(path) as src:
            if src.nodata is not None:
                return
            scale = max(1, -(-max(src.height, src.width) // DEM_SAMPLE_SIDE))
            z = src.read(1, out_shape=(max(1, src.height // scale), max(1, src.width // scale)))
    except rasterio.errors.RasterioIOError:
        return  # reported by the DEM's own checks
    low = z[np.isfinite(z) & (z < LOWEST_ELEVATION_M)] if z.dtype.kind == "f" else z[z < LOWEST_ELEVATION_M]
    if low.size:
        fill = float(np.min(low))
        problems.append(f"terrain.dem_path: {path}: {low.size} of {z.size} sampled cells hold {fill:g} (below "
                        f"{LOWEST_ELEVATION_M:g} m) and the file declares no nodata value, so they would be read as "
                        f"elevation; declare the fill value (gdal_edit.py -a_nodata {fill:g} '{path}')")


def _lonlat(bounds, crs) -> tuple[float, float, float, float] | None:
    """``bounds`` in ``crs`` as longitude/latitude bounds (None when they cannot be transformed)."""
    from pyproj import CRS, Transformer

    try:
        crs = CRS.from_user_input(crs)
        t = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
        out = t.transform_bounds(*bounds, densify_pts=11)
    except Exception:  # noqa: BLE001 - a CRS PROJ cannot use: the layer's own checks say so
        return None
    return out if all(np.isfinite(out)) else None


def _cover_share(inner, outer) -> float:
    """Share (0–1) of box ``inner`` that box ``outer`` covers (lon/lat boxes; 1 for an empty inner box)."""
    w = max(0.0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    h = max(0.0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return 1.0 if area <= 0 else w * h / area


def _extents(cfg: Config, levels: dict, problems: list[str]) -> None:
    """Every other input against the regions (checked against the land cover already): a GEP raster must cover
    their extent, a red-line or protected-area layer must reach into it. A layer of another place (or with a
    wrong CRS that still looks plausible) would otherwise give zeros without a word."""
    boxes = [_lonlat(tuple(r.total_bounds), r.crs) for r in levels.values() if len(r)]
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return
    reg = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    shown = f"lon {reg[0]:.4f}–{reg[2]:.4f}, lat {reg[1]:.4f}–{reg[3]:.4f}"
    if cfg.gep is not None:
        for name in type(cfg.gep.rasters).model_fields:
            inp = getattr(cfg.gep.rasters, name)
            path = inp.path_for(cfg.gep.raster_years(name, inp, cfg.years)[0]) if inp is not None else None
            if path is None or not path.is_file():
                continue
            try:
                with rasterio.open(path) as src:
                    box = _lonlat(tuple(src.bounds), src.crs) if src.crs is not None else None
            except rasterio.errors.RasterioIOError:
                continue  # the GEP stage's own checks report a file that does not open
            if box is not None and _cover_share(reg, box) < cfg.checks.min_coverage_pct / 100:
                problems.append(f"gep.rasters.{name}: {path} covers {100 * _cover_share(reg, box):.1f}% of the "
                                f"regions' extent ({shown}); use a raster that covers every region (or check its "
                                f"CRS)")
    if cfg.protected is not None:
        from gep.vector.read import open_layer_bounds

        for key, lc in cfg.protected.layers().items():
            for year in cfg.years:
                path = Path(lc.path.format(year=year))
                if not path.exists():
                    continue
                found = open_layer_bounds(path, lc.layer)
                box = _lonlat(found[0], found[1]) if found is not None else None
                if box is not None and _cover_share(reg, box) == 0 and _cover_share(box, reg) == 0:
                    problems.append(f"protected.{key}: {path} lies outside every region ({shown}); check that the "
                                    f"layer shows this place and that its CRS is right")
                break  # one year's file shows where the layer is


def _output(cfg: Config, problems: list[str]) -> None:
    """The output folder: a folder (or one that can be made) that this user can write."""
    import os

    out = cfg.out
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is a file" if probe == out else f"lies under {probe}, which is a file"
        problems.append(f"output_dir: {out} {where}, not a folder; set 'output_dir' to a folder (it is made if "
                        f"missing)")
    elif probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        problems.append(f"output_dir: {probe} is not writable for you; make it writable or set 'output_dir' to a "
                        f"folder you can write")


def _protected(cfg: Config, problems: list[str], report: dict, years: list[int]) -> None:
    if cfg.protected is None:
        return
    from gep.indicators.protected.areas import read_layer, resolve_sources

    for name, lc in cfg.protected.layers().items():
        try:  # the years before them too: a year without a file carries an earlier year's forward
            sources = resolve_sources(lc, [y for y in cfg.years if y <= max(years)], name=f"protected.{name}")
            for src in {s.path: s for s in sources if s.year in years}.values():
                _, rep = read_layer(src.path, layer=lc.layer, id_field=lc.id_field, type_field=lc.type_field,
                                    encoding=lc.encoding, name=f"protected.{name} ({src.year})")
                report.setdefault("protected", {}).setdefault(name, {})[str(src.year)] = {
                    k: v for k, v in rep.items() if isinstance(v, (int, str))}
        except InputError as err:
            problems.extend(err.lines())


def _survey(cfg: Config, problems: list[str], years: list[int]) -> None:
    """The land-survey layers of ``years`` (and the first year's, whose CRS every year shares)."""
    if cfg.landcover.survey is None:
        return
    from gep.accounting.survey import survey_problems

    if cfg.terrain is None:
        problems.append("landcover.survey: indicator 7 from the survey needs the 'terrain' section (terrain.dem_path); "
                        "add it or remove landcover.survey")
    problems.extend(survey_problems(cfg.landcover.survey, {y: cfg.survey_path(y) for y in {cfg.years[0], *years}}))


def _gep(cfg: Config, problems: list[str], years: list[int]) -> None:
    """Inputs of the GEP section: the climate rasters of ``years`` (its tables: :func:`stage_table_problems`)."""
    if cfg.gep is None:
        return
    from gep.indicators.gep.run import preflight

    dem = cfg.gep.dem or (cfg.terrain.dem_path if cfg.terrain else None)
    problems.extend(preflight(cfg.gep, years, dem))


def stage_table_problems(cfg: Config, scheme: ClassScheme, *, levels: dict | None = None,
                         present: set[int] | None = None) -> list[str]:
    """What the GEP and scorecard stages would reject in their tables (parameter, price, deflator, statistics
    tables; the department template), as one line each. ``levels``: the region layers read (their codes are
    checked against the statistics table and the template; None skips those checks); ``present``: the class
    codes found in the land cover. Cheap (no raster is read): the workflow runs it before its first job."""
    problems: list[str] = []
    codes = None if levels is None else [c for r in levels.values() for c in r["region_code"]]
    if cfg.gep is not None:
        from gep.indicators.gep.table_checks import table_problems

        problems += table_problems(cfg.gep, scheme_codes=[int(c) for c in scheme.codes], years=cfg.years,
                                   present_codes=present, region_codes=codes)
    problems += _template_problems(cfg, levels)
    return problems


def _template_problems(cfg: Config, levels: dict | None) -> list[str]:
    """The department template(s): one for every level (its rows may belong to any level) or one per level."""
    from gep.scorecard.standard import load_lianshan_standard
    from gep.scorecard.template import read_template

    if not cfg.scorecard.templates() or levels is None:
        return []
    try:
        std = load_lianshan_standard(cfg.scorecard.standard)
    except InputError as err:
        return [f"scorecard.standard: {line}" for line in err.lines()]
    problems = []
    for level in cfg.regions:
        path = cfg.scorecard.template_for(level)
        if path is None or level not in levels:
            continue
        others = ([c for lv, r in levels.items() if lv != level for c in r["region_code"]]
                  if not isinstance(cfg.scorecard.template, dict) else [])
        try:
            read_template(path, std, cfg.years, levels[level], other_levels=others)
        except InputError as err:
            problems.extend(f"scorecard.template ({level}): {line}" for line in err.lines())
        if not isinstance(cfg.scorecard.template, dict):
            break  # one file for every level: read once (its rows' codes were checked against every level)
    return problems


def validate_inputs(cfg: Config, *, scan_codes: bool = True) -> dict:
    """Check every input of ``cfg``; return a report, or raise :class:`InputError` listing all problems."""
    return _validate(cfg, cfg.years, run=True, scan_codes=scan_codes)


def validate_run(cfg: Config) -> dict:
    """Check the inputs that do not change with the year: class scheme, regions (against the first year's
    grid), DEM, standards, terrain-type overrides, price and deflator tables."""
    return _validate(cfg, [], run=True, scan_codes=False)


def validate_year(cfg: Config, year: int, *, scan_codes: bool = True) -> dict:
    """Check one year's inputs: its land cover (readable, on the first year's grid, only known class codes),
    its protected-area layers and its GEP rasters."""
    if year not in cfg.years:
        raise InputError(f"year {year}: not in the config's years ({', '.join(map(str, cfg.years))}); add it "
                         f"to 'years' or pick one of them")
    return _validate(cfg, [year], run=False, scan_codes=scan_codes)


def check_shared(cfg: Config) -> dict:
    """The workflow's check of what every computing job reads and does not change with the year: the class
    scheme, the regions (against the first year's grid) and the DEM."""
    return _validate(cfg, [], run=True, scan_codes=False, stages=False)


def check_year(cfg: Config, year: int) -> dict:
    """The workflow's check of one year's land cover: readable, on the first year's grid, only known codes."""
    if year not in cfg.years:
        raise InputError(f"year {year}: not in the config's years ({', '.join(map(str, cfg.years))}); add it "
                         f"to 'years' or pick one of them")
    return _validate(cfg, [year], run=False, scan_codes=True, stages=False)


def _validate(cfg: Config, years: list[int], *, run: bool, scan_codes: bool, stages: bool = True) -> dict:
    problems: list[str] = []
    report: dict = {"years": years} if years else {}
    scheme = None
    try:
        scheme = load_scheme(cfg.landcover.scheme)
    except InputError as err:
        problems.append(f"landcover.scheme: {err}")
    rasters = _landcover(cfg, scheme, problems, report, years)
    present = None
    if scan_codes and rasters and scheme is not None:
        present = _codes(cfg, scheme, rasters, problems, report)
    levels = None
    if run:
        grid = next(iter(rasters.values())).grid if rasters else _first_grid(cfg)
        levels = _regions(cfg, grid, problems, report)
        _terrain(cfg, levels, problems, report, stages=stages)
    if years and stages:
        _protected(cfg, problems, report, years)
        _survey(cfg, problems, years)
    if stages:
        _gep(cfg, problems, years)
        if run and scheme is not None:  # every table the later stages read, as they read them
            problems += stage_table_problems(cfg, scheme, levels=levels,
                                             present=present if set(years) == set(cfg.years) else None)
    if run:
        _output(cfg, problems)
        if levels:
            _extents(cfg, levels, problems)
    if run:  # published years whose frozen files were edited or deleted (gep.io.publish)
        problems += frozen_problems(cfg.out, skip_years=cfg.republish or ())
    if problems:
        raise InputError.many(problems)
    return report


def _first_grid(cfg: Config) -> Grid | None:
    """The grid of the first year's land cover, which every year shares (None when it does not open: that
    year's own check says why)."""
    try:
        return LandcoverRaster.open(cfg.landcover_path(cfg.years[0]), chunk=cfg.compute.chunk_size,
                                    crs=cfg.landcover.crs).grid
    except InputError:
        return None


def write_report(report: dict, path: Path) -> None:
    write_text(path, json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
