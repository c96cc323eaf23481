"""``gep stage NAME CONFIG …``: the workflow's own steps, one per Snakemake rule (rules/*.smk call them).

People run the whole workflow (``snakemake``, ``make demo``) or the standalone commands of ``gep --help``;
these steps read the run's config file and write where :mod:`gep.io.run_paths` says. Every step takes
``--threads N`` (the rule's threads: the workers it starts), ``--mem-mb MB`` (the rule's memory, which bounds
the processes the scorecard starts) and ``--log FILE`` (everything it prints goes there too).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gep.core.errors import InputError


def _load(path):
    from gep import config

    return config.load(path)


def _pipeline():
    from gep.workflow import pipeline

    return pipeline


def _paths():
    from gep.io import run_paths

    return run_paths


def _threads() -> int:
    """The job's threads: ``--threads`` (the rule's ``threads``), else every CPU."""
    from gep.core.workers import worker_count

    return worker_count()


def _job_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--threads", type=int, metavar="N", help="workers this step may start (default: every CPU)")
    common.add_argument("--mem-mb", type=int, metavar="MB", help="memory this step may use (bounds its processes)")
    common.add_argument("--log", type=Path, metavar="FILE", help="also write everything the step prints here")
    return common


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser(
        "stage", help="one step of the workflow (run by the Snakemake rules; see rules/*.smk)",
        description="The workflow's own steps, one per Snakemake rule. Run the workflow with snakemake (see the "
                    "README); these are listed for debugging a single job.")
    steps = group.add_subparsers(dest="stage", metavar="STEP")
    steps.required = True
    common = _job_options()

    def step(name: str, func, help: str, *, levels: bool = False, year: bool = False) -> argparse.ArgumentParser:
        p = steps.add_parser(name, help=help, parents=[common], description=help)
        p.add_argument("config", type=Path, help="the run's config file")
        if levels:
            p.add_argument("--level", required=True, nargs="+", help="one or more region levels")
        if year:
            p.add_argument("--year", required=True, type=int)
        p.set_defaults(func=func)
        return p

    p = step("validate", run_validate, "check the inputs every job reads (class scheme, regions, DEM; or one year's "
             "land cover)")
    part = p.add_mutually_exclusive_group(required=True)
    part.add_argument("--year", type=int, help="check this year's land cover")
    part.add_argument("--shared", action="store_true", help="check the class scheme, regions and DEM")
    p.add_argument("--report", required=True, type=Path, help="write the check report (JSON) here")

    p = step("account", run_account, "land-cover crosstab of region levels for one year", levels=True, year=True)
    p.add_argument("--terrain", action="store_true", help="with the terrain classes as strata")
    p.add_argument("--part", type=int, nargs=2, metavar=("INDEX", "COUNT"),
                   help="account only tile group INDEX (0-based) of COUNT bands of block rows")

    step("merge-account", run_merge_account, "merge the tile groups' partial crosstabs exactly", levels=True,
         year=True)

    p = step("transition", run_transition, "land-cover transitions between two years", levels=True)
    p.add_argument("--years", required=True, type=int, nargs=2, metavar=("FROM", "TO"))

    step("landcover-tables", run_landcover_tables, "publish the land-cover tables", levels=True)
    step("terrain-grid", run_terrain_grid, "terrain classes on the land-cover grid (COG)")
    step("terrain-areas", run_terrain_areas, "region × relief-class areas on the DEM's own grid (the region "
         "terrain type of indicator 7)", levels=True)
    step("survey-account", run_survey_account, "land-survey polygons of one year over region levels, with terrain "
         "shares (indicator 7 with landcover.survey)", levels=True, year=True)
    step("coverage-tables", run_coverage_tables, "林草覆盖率 tables (indicator 7)", levels=True)

    p = step("redline-account", run_redline_account, "land cover inside the red line, levels × year or pair",
             levels=True)
    p.add_argument("--year", type=int)
    p.add_argument("--years", type=int, nargs=2, metavar=("FROM", "TO"), help="transitions between two years")
    step("protected-tables", run_protected_tables, "red-line/protected-area tables (indicator 9)", levels=True)
    step("protected-changes", run_protected_changes, "GeoPackage of added/removed red-line parts")

    step("gep-ls", run_gep_ls, "LS factor from the DEM for soil retention (once per run)")
    step("gep-rasters", run_gep_rasters, "GEP service rasters of one year (for every level)", year=True)
    step("gep-sums", run_gep_sums, "sums of one year's GEP rasters over the regions of levels", levels=True,
         year=True)
    step("gep-tables", run_gep_tables, "GEP accounts (indicator 10)", levels=True)

    p = step("scorecard", run_scorecard, "两山指数 workbook, GeoPackage, maps and report", levels=True)
    p = step("provenance", run_provenance, "provenance.json: config, input checksums, versions, commit")
    p.add_argument("outputs", nargs="*", help="output files to checksum")


def _year(cfg, year: int) -> int:
    if year not in cfg.years:
        raise InputError(f"--year {year}: not one of the config's years ({', '.join(map(str, cfg.years))})")
    return year


def _levels(cfg, levels: list[str]) -> list[str]:
    return [_level(cfg, level) for level in levels]


def _level(cfg, level: str) -> str:
    if level not in cfg.regions:
        raise InputError(f"--level {level}: no such region level; the config has {', '.join(cfg.regions)}")
    return level


def run_validate(args) -> int:
    from gep.workflow.validate import check_shared, check_year, write_report

    cfg = _load(args.config)
    report = check_year(cfg, args.year) if args.year is not None else check_shared(cfg)
    for warning in report.get("warnings", []):
        print(f"gep validate: warning: {warning}")
    write_report(report, args.report)
    what = f"land cover of {args.year}" if args.year is not None else "shared inputs"
    print(f"gep validate: {args.config}: {what} ok")
    return 0


def run_account(args) -> int:
    cfg = _load(args.config)
    part = tuple(args.part) if args.part else None
    if part and not 0 <= part[0] < part[1]:
        raise InputError(f"--part {part[0]} {part[1]}: INDEX must be in 0..COUNT-1")
    paths = _paths()
    terrain = paths.terrain_path(cfg) if args.terrain else None
    year = _year(cfg, args.year)
    for level in _levels(cfg, args.level):
        out = (paths.crosstab_part_path(cfg, level, year, part[0]) if part else paths.crosstab_path(cfg, level, year))
        _pipeline().account(cfg, level, year, out, terrain_path=terrain, threads=_threads(), part=part)
    return 0


def run_merge_account(args) -> int:
    cfg = _load(args.config)
    paths = _paths()
    year = _year(cfg, args.year)
    groups = cfg.compute.tile_groups
    for level in _levels(cfg, args.level):
        parts = [paths.crosstab_part_path(cfg, level, year, i) for i in range(groups)]
        _pipeline().merge_account(cfg, level, year, parts, paths.crosstab_path(cfg, level, year))
    return 0


def run_transition(args) -> int:
    cfg = _load(args.config)
    y0, y1 = (_year(cfg, y) for y in args.years)
    for level in _levels(cfg, args.level):
        _pipeline().transition(cfg, level, y0, y1, _paths().transition_path(cfg, level, y0, y1), threads=_threads())
    return 0


def run_landcover_tables(args) -> int:
    cfg = _load(args.config)
    for level in _levels(cfg, args.level):
        _pipeline().tables(cfg, level)
    return 0


def run_terrain_grid(args) -> int:
    from gep.indicators.coverage.stage import write_terrain

    from gep.core.compute import progress, scheduler

    cfg = _load(args.config)
    # on the run's scheduler like every raster stage (compute.scheduler), with progress in the job's log
    with scheduler(cfg.compute.scheduler, cfg.compute.workers or _threads()), progress("terrain classes"):
        write_terrain(cfg, _paths().terrain_path(cfg))
    return 0


def run_terrain_areas(args) -> int:
    from gep.indicators.coverage.stage import relief_areas

    cfg = _load(args.config)
    relief_areas(cfg, _levels(cfg, args.level), threads=_threads())
    return 0


def run_survey_account(args) -> int:
    from gep.indicators.coverage.stage import survey_account

    cfg = _load(args.config)
    year = _year(cfg, args.year)
    for level in _levels(cfg, args.level):
        survey_account(cfg, level, year, threads=_threads())
    return 0


def run_coverage_tables(args) -> int:
    from gep.indicators.coverage.stage import coverage_tables

    cfg = _load(args.config)
    for level in _levels(cfg, args.level):
        coverage_tables(cfg, level)
    return 0


def run_redline_account(args) -> int:
    from gep.indicators.protected import stage as pt

    cfg = _load(args.config)
    if not (args.years or args.year):
        raise InputError("redline-account: give --year YEAR or --years FROM TO")
    paths = _paths()
    for level in _levels(cfg, args.level):
        if args.years:
            y0, y1 = (_year(cfg, y) for y in args.years)
            pt.transition_account(cfg, level, y0, y1, paths.redline_transition_path(cfg, level, y0, y1),
                                  threads=_threads())
        else:
            year = _year(cfg, args.year)
            pt.landcover_account(cfg, level, year, paths.redline_path(cfg, level, year), threads=_threads())
    return 0


def run_protected_tables(args) -> int:
    from gep.indicators.protected import stage as pt

    cfg = _load(args.config)
    for level in _levels(cfg, args.level):
        pt.area_tables(cfg, level)
        pt.landcover_tables(cfg, level)
    return 0


def run_protected_changes(args) -> int:
    from gep.indicators.protected import stage as pt

    cfg = _load(args.config)
    pt.change_geopackage(cfg, _paths().protected_change_path(cfg))
    return 0


def run_gep_ls(args) -> int:
    _pipeline().gep_ls(_load(args.config))
    return 0


def run_gep_rasters(args) -> int:
    cfg = _load(args.config)
    _pipeline().gep_rasters(cfg, _year(cfg, args.year), threads=_threads())
    return 0


def run_gep_sums(args) -> int:
    cfg = _load(args.config)
    _pipeline().gep_sums(cfg, _levels(cfg, args.level), _year(cfg, args.year), threads=_threads())
    return 0


def run_gep_tables(args) -> int:
    cfg = _load(args.config)
    for level in _levels(cfg, args.level):
        _pipeline().gep_tables(cfg, level, threads=_threads())
    return 0


def run_scorecard(args) -> int:
    cfg = _load(args.config)
    provenance = _paths().provenance_path(cfg)
    for level in _levels(cfg, args.level):
        _pipeline().scorecard(cfg, level, provenance=provenance if provenance.is_file() else None,
                              threads=_threads())
    return 0


def run_provenance(args) -> int:
    from gep.io import provenance

    cfg = _load(args.config)
    provenance.write(cfg.as_dict(), _paths().provenance_path(cfg), outputs=args.outputs)
    return 0
