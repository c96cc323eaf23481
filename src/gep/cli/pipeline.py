"""Workflow stages (called by the Snakemake rules) and config helpers."""

from __future__ import annotations

import argparse
from pathlib import Path



def _config_module():
    """gep.config, imported when a command runs (keeps ``gep --help`` and other commands fast)."""
    from gep import config

    return config


def _load(path):
    """The validated run configuration of ``path`` (see :func:`gep.config.load`)."""
    return _config_module().load(path)


def _pipeline():
    """gep.workflow.pipeline, imported when a command runs."""
    from gep.workflow import pipeline

    return pipeline


def _threads() -> int:
    """The job's threads: GEP_THREADS (the rule's ``threads``), else every CPU."""
    from gep.core.workers import worker_count

    return worker_count()


def register(sub: argparse._SubParsersAction) -> None:
    register_validate(sub)
    register_publish(sub)
    register_protected(sub)
    register_coverage(sub)
    register_gep(sub)
    register_scorecard(sub)
    p = sub.add_parser("validate-config", help="check a config file against the schema (nothing is written)")
    p.add_argument("config", type=Path)
    p.set_defaults(func=run_validate_config)

    p = sub.add_parser("config-schema", help="print the JSON schema of the config (or write it with --out)")
    p.add_argument("--out", type=Path)
    p.set_defaults(func=run_schema)

    p = sub.add_parser("where", help="print where a run's tables are")
    p.add_argument("config", type=Path)
    p.set_defaults(func=run_where)

    p = sub.add_parser("account", help="workflow stage: land-cover crosstab of region levels for one year")
    p.add_argument("config", type=Path)
    p.add_argument("--level", required=True, nargs="+", help="one or more region levels")
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--terrain", type=Path, help="terrain-class raster on the land-cover grid (strata)")
    p.add_argument("--part", type=int, nargs=2, metavar=("INDEX", "COUNT"),
                   help="account only tile group INDEX (0-based) of COUNT bands of block rows")
    p.add_argument("--out", required=True, help="output table; with several levels a template with {level}")
    p.set_defaults(func=run_account)

    p = sub.add_parser("merge-account", help="workflow stage: merge the tile groups' partial crosstabs exactly")
    p.add_argument("config", type=Path)
    p.add_argument("--level", required=True)
    p.add_argument("--year", required=True, type=int)
    p.add_argument("parts", nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=run_merge_account)

    p = sub.add_parser("transition", help="workflow stage: land-cover transitions between two years")
    p.add_argument("config", type=Path)
    p.add_argument("--level", required=True, nargs="+", help="one or more region levels")
    p.add_argument("--years", required=True, type=int, nargs=2, metavar=("FROM", "TO"))
    p.add_argument("--out", required=True, help="output table; with several levels a template with {level}")
    p.set_defaults(func=run_transition)

    p = sub.add_parser("tables", help="workflow stage: publish the land-cover tables of one level")
    p.add_argument("config", type=Path)
    p.add_argument("--level", required=True, nargs="+", help="one or more region levels")
    p.add_argument("--out-dir", type=Path)
    p.set_defaults(func=run_tables)


def register_protected(sub) -> None:
    p = sub.add_parser("protected-tables", help="workflow stage: red-line/protected-area tables of one level")
    p.add_argument("config", type=Path)
    p.add_argument("--level", required=True, nargs="+", help="one or more region levels")
    p.set_defaults(func=run_protected_tables)

    p = sub.add_parser("protected-changes", help="workflow stage: GeoPackage of added/removed red-line parts")
    p.add_argument("config", type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=run_protected_changes)

    p = sub.add_parser("redline-account", help="workflow stage: land cover inside the red line, levels × year")
    p.add_argument("config", type=Path)
    p.add_argument("--level", required=True, nargs="+", help="one or more region levels")
    p.add_argument("--year", type=int)
    p.add_argument("--years", type=int, nargs=2, metavar=("FROM", "TO"), help="transitions between two years")
    p.add_argument("--out", required=True, help="output table; with several levels a template with {level}")
    p.set_defaults(func=run_redline_account)


def run_protected_tables(args) -> int:
    from gep.indicators.protected import stage as pt

    cfg = _load(args.config)
    for level in _levels(cfg, args.level):
        pt.area_tables(cfg, level)
        pt.landcover_tables(cfg, level, _pipeline().interim_dir(cfg, level))
    return 0


def run_protected_changes(args) -> int:
    from gep.indicators.protected import stage as pt

    pt.change_geopackage(_load(args.config), args.out)
    return 0


def run_redline_account(args) -> int:
    from gep.indicators.protected import stage as pt

    cfg = _load(args.config)
    if not (args.years or args.year):
        from gep.core.errors import InputError

        raise InputError("redline-account: give --year YEAR or --years FROM TO")
    for level, out in _outputs(cfg, args.level, args.out):
        if args.years:
            pt.transition_account(cfg, level, args.years[0], args.years[1], out, threads=_threads())
        else:
            pt.landcover_account(cfg, level, args.year, out, threads=_threads())
    return 0


def register_coverage(sub) -> None:
    p = sub.add_parser("terrain-grid", help="workflow stage: terrain classes on the land-cover grid (COG)")
    p.add_argument("config", type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=run_terrain_grid)

    p = sub.add_parser("coverage-tables", help="workflow stage: 林草覆盖率 tables of one level (indicator 7)")
    p.add_argument("config", type=Path)
    p.add_argument("--level", required=True, nargs="+", help="one or more region levels")
    p.set_defaults(func=run_coverage_tables)


def run_terrain_grid(args) -> int:
    from gep.indicators.coverage.stage import write_terrain

    write_terrain(_load(args.config), args.out)
    return 0


def run_coverage_tables(args) -> int:
    from gep.indicators.coverage.stage import coverage_tables

    cfg = _load(args.config)
    for level in _levels(cfg, args.level):
        coverage_tables(cfg, level)
    return 0


def register_gep(sub) -> None:
    p = sub.add_parser("gep-tables", help="workflow stage: GEP accounts of one level (indicator 10)")
    p.add_argument("config", type=Path)
    p.add_argument("--level", required=True, nargs="+", help="one or more region levels")
    p.set_defaults(func=run_gep_tables)

    p = sub.add_parser("gep-sums", help="workflow stage: sums of one year's GEP rasters over the regions of levels")
    p.add_argument("config", type=Path)
    p.add_argument("--level", required=True, nargs="+", help="one or more region levels")
    p.add_argument("--year", required=True, type=int)
    p.set_defaults(func=run_gep_sums)

    p = sub.add_parser("gep-ls", help="workflow stage: LS factor from the DEM for soil retention (once per run)")
    p.add_argument("config", type=Path)
    p.set_defaults(func=run_gep_ls)

    p = sub.add_parser("gep-rasters", help="workflow stage: GEP service rasters of one year (for every level)")
    p.add_argument("config", type=Path)
    p.add_argument("--year", required=True, type=int)
    p.set_defaults(func=run_gep_rasters)


def run_gep_tables(args) -> int:
    cfg = _load(args.config)
    for level in _levels(cfg, args.level):
        _pipeline().gep_tables(cfg, level, threads=_threads())
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


def _year(cfg, year: int) -> int:
    if year not in cfg.years:
        from gep.core.errors import InputError

        raise InputError(f"--year {year}: not one of the config's years ({', '.join(map(str, cfg.years))})")
    return year


def register_scorecard(sub) -> None:
    p = sub.add_parser("scorecard-stage", help="workflow stage: 两山指数 workbook, GeoPackage, maps and report")
    p.add_argument("config", type=Path)
    p.add_argument("--level", required=True, nargs="+", help="one or more region levels")
    p.add_argument("--provenance", type=Path)
    p.set_defaults(func=run_scorecard_stage)


def run_scorecard_stage(args) -> int:
    cfg = _load(args.config)
    for level in _levels(cfg, args.level):
        _pipeline().scorecard(cfg, level, provenance=args.provenance, threads=_threads())
    return 0


def _levels(cfg, levels: list[str]) -> list[str]:
    return [_level(cfg, level) for level in levels]


def _level(cfg, level: str) -> str:
    if level not in cfg.regions:
        from gep.core.errors import InputError

        raise InputError(f"--level {level}: no such region level; the config has {', '.join(cfg.regions)}")
    return level


def run_validate_config(args) -> int:
    cfg = _load(args.config)
    print(f"{args.config}: ok ({len(cfg.years)} years, levels {', '.join(cfg.regions)})")
    return 0


def run_schema(args) -> int:
    text = _config_module().schema_text()
    if args.out:
        from gep.core.atomic import write_text

        write_text(args.out, text)
    else:
        print(text, end="")
    return 0


def run_where(args) -> int:
    cfg = _load(args.config)
    print(f"gep: results of '{cfg.name}' are in {cfg.out.resolve()}")
    for level in cfg.regions:
        print(f"  {level} tables:  {_pipeline().tables_dir(cfg, level).resolve()}")
        report = cfg.out / "scorecard" / level / "report" / "index.html"
        if report.exists():
            print(f"  {level} report:  {report.resolve()}")
    return 0


def run_account(args) -> int:
    cfg = _load(args.config)
    part = tuple(args.part) if args.part else None
    if part and not 0 <= part[0] < part[1]:
        from gep.core.errors import InputError

        raise InputError(f"--part {part[0]} {part[1]}: INDEX must be in 0..COUNT-1")
    for level, out in _outputs(cfg, args.level, args.out):
        _pipeline().account(cfg, level, args.year, out, terrain_path=args.terrain, threads=_threads(), part=part)
    return 0


def _outputs(cfg, levels: list[str], out: str) -> list[tuple[str, Path]]:
    """(level, output path) for each level; ``out`` must hold {level} when there are several."""
    if len(levels) > 1 and "{level}" not in out:
        from gep.core.errors import InputError

        raise InputError(f"--out {out}: with several levels the output must be a template containing {{level}}")
    return [(_level(cfg, level), Path(out.replace("{level}", level))) for level in levels]


def run_merge_account(args) -> int:
    cfg = _load(args.config)
    _pipeline().merge_account(cfg, _level(cfg, args.level), args.year, args.parts, args.out)
    return 0


def run_transition(args) -> int:
    cfg = _load(args.config)
    for level, out in _outputs(cfg, args.level, args.out):
        _pipeline().transition(cfg, level, args.years[0], args.years[1], out, threads=_threads())
    return 0


def run_tables(args) -> int:
    cfg = _load(args.config)
    levels = _levels(cfg, args.level)
    if args.out_dir and len(levels) > 1:
        from gep.core.errors import InputError

        raise InputError("--out-dir works with one --level only")
    for level in levels:
        _pipeline().tables(cfg, level, args.out_dir)
    return 0


def run_validate(args) -> int:
    from gep.workflow.validate import validate_inputs, validate_run, validate_year, write_report

    cfg = _load(args.config)
    if args.year is not None:
        report = validate_year(cfg, args.year, scan_codes=not args.no_scan)
    elif args.run_only:
        report = validate_run(cfg)
    else:
        report = validate_inputs(cfg, scan_codes=not args.no_scan)
    for warning in report.get("warnings", []):
        print(f"gep validate: warning: {warning}")
    if args.report:
        write_report(report, args.report)
    what = f"inputs of {args.year}" if args.year is not None else "run inputs" if args.run_only else "all inputs"
    print(f"gep validate: {args.config}: {what} ok")
    return 0


def register_validate(sub) -> None:
    p = sub.add_parser("validate", help="check every input the config names (files, CRS, grids, codes, regions)")
    p.add_argument("config", type=Path)
    p.add_argument("--report", type=Path, help="write the validation report (JSON) here")
    p.add_argument("--no-scan", action="store_true", help="skip the pass over the rasters that checks class codes")
    part = p.add_mutually_exclusive_group()
    part.add_argument("--year", type=int, help="check only this year's land cover, protected areas and GEP rasters")
    part.add_argument("--run-only", action="store_true",
                      help="check only what does not change with the year (regions, DEM, standards, price tables)")
    p.set_defaults(func=run_validate)


def run_publish(args) -> int:
    from gep.io.publish import publish

    cfg = _load(args.config)
    target = publish(cfg.out, cfg.as_dict(), args.year, republish=args.republish)
    print(f"gep publish: {args.year} frozen in {target}")
    return 0


def run_provenance(args) -> int:
    from gep.io import provenance

    cfg = _load(args.config)
    provenance.write(cfg.as_dict(), args.out, outputs=args.outputs)
    return 0


def register_publish(sub) -> None:
    p = sub.add_parser("publish", help="freeze a year's results (read-only copy with checksums)")
    p.add_argument("config", type=Path)
    p.add_argument("year", type=int)
    p.add_argument("--republish", action="store_true", help="replace an earlier published copy of YEAR")
    p.set_defaults(func=run_publish)
    p = sub.add_parser("provenance", help="write provenance.json: config, input checksums, versions, commit")
    p.add_argument("config", type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("outputs", nargs="*", help="output files to checksum")
    p.set_defaults(func=run_provenance)
