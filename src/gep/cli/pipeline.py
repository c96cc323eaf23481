"""The run's config and results, for people: ``gep run``, ``gep validate``, ``gep publish``, ``gep where`` and
``gep config-schema``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _config_module():
    """gep.config, imported when a command runs (keeps ``gep --help`` and other commands fast)."""
    from gep import config

    return config


def _load(path):
    """The validated run configuration of ``path`` (see :func:`gep.config.load`)."""
    return _config_module().load(path)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the whole workflow for a config (Snakemake, quietly) and print a summary",
                       description="Run the workflow (workflow/Snakefile) for CONFIG with this environment's "
                                   "Snakemake. Shows progress, gep's messages and warnings (everything else goes to "
                                   "OUTPUT_DIR/logs/workflow.log) and ends with where the deliverables are, the "
                                   "indicators per status word per level and every warning; a failed run ends with "
                                   "gep's own error line.")
    p.add_argument("config", type=Path)
    p.add_argument("--cores", type=int, default=2, help="CPU cores the jobs may use together (default 2)")
    p.add_argument("--snakefile", type=Path, help="the workflow (default: workflow/Snakefile)")
    p.add_argument("--snakemake-args", default="", metavar="ARGS",
                   help="further Snakemake options, quoted as one argument ('--profile profiles/slurm')")
    p.set_defaults(func=run_workflow)

    p = sub.add_parser("validate", help="check a config and every input it names (files, CRS, grids, codes, regions)",
                       description="Check the config file against the schema, then every input it names: all "
                                   "problems at once, one line each. Nothing is written unless --report is given.")
    p.add_argument("config", type=Path)
    p.add_argument("--report", type=Path, help="write the validation report (JSON) here")
    p.add_argument("--no-scan", action="store_true", help="skip the pass over the rasters that checks class codes")
    part = p.add_mutually_exclusive_group()
    part.add_argument("--year", type=int, help="check only this year's land cover, protected areas and GEP rasters")
    part.add_argument("--config-only", action="store_true", help="check the config file alone (no input is opened)")
    p.set_defaults(func=run_validate)
    # the former name of `gep validate --config-only`, kept for scripts (not listed)
    p = sub.add_parser("validate-config")
    p.add_argument("config", type=Path)
    p.set_defaults(func=run_validate_config)

    p = sub.add_parser("publish", help="freeze a year's results (read-only copy with checksums)")
    p.add_argument("config", type=Path)
    p.add_argument("year", type=int)
    p.add_argument("--republish", action="store_true", help="replace an earlier published copy of YEAR")
    p.set_defaults(func=run_publish)

    p = sub.add_parser("where", help="print where a run's tables and reports are (--data: the built-in class "
                                     "schemes, parameter tables and standards)")
    p.add_argument("config", type=Path, nargs="?")
    p.add_argument("--data", action="store_true", help="print the folder of the built-in reference data")
    p.set_defaults(func=run_where)

    p = sub.add_parser("config-schema", help="print the JSON schema of the config (or write it with --out)")
    p.add_argument("--out", type=Path)
    p.set_defaults(func=run_schema)


def run_validate_config(args) -> int:
    cfg = _load(args.config)
    print(f"{args.config}: ok ({len(cfg.years)} years, levels {', '.join(cfg.regions)})")
    return 0


def run_validate(args) -> int:
    if args.config_only:
        return run_validate_config(args)
    from gep.workflow.validate import validate_inputs, validate_year, write_report

    cfg = _load(args.config)
    if args.year is not None:
        report = validate_year(cfg, args.year, scan_codes=not args.no_scan)
    else:
        report = validate_inputs(cfg, scan_codes=not args.no_scan)
    for warning in report.get("warnings", []):
        print(f"gep validate: warning: {warning}")
    if args.report:
        write_report(report, args.report)
    what = f"inputs of {args.year}" if args.year is not None else "all inputs"
    print(f"gep validate: {args.config}: {what} ok")
    return 0


def run_publish(args) -> int:
    from gep.io.publish import publish

    cfg = _load(args.config)
    target = publish(cfg.out, cfg.as_dict(), args.year, republish=args.republish)
    print(f"gep publish: {args.year} frozen in {target}")
    return 0


def run_where(args) -> int:
    if args.data or args.config is None:
        from gep.core.resources import DATA_DIR

        print(f"gep: built-in reference data (classes/, parameters/, standards/) are in {DATA_DIR}")
        if args.config is None:
            return 0
    from gep.workflow.summary import summary_lines

    print("\n".join(summary_lines(_load(args.config))))
    return 0


def run_workflow(args) -> int:
    import shlex

    from gep.core.errors import InputError
    from gep.workflow import summary

    cfg = _load(args.config)  # a bad config is one line here, before Snakemake starts
    if args.cores < 1:
        raise InputError(f"--cores {args.cores}: give a whole number ≥ 1")
    snakefile = summary.snakefile_for(args.snakefile)
    command = summary.snakemake_command(args.config, snakefile=snakefile, cores=args.cores,
                                        extra=shlex.split(args.snakemake_args))
    log = cfg.out / "logs" / summary.WORKFLOW_LOG
    rc, errors, snake_errors = summary.run_workflow(command, log, echo=lambda line: print(line, flush=True))
    if rc != 0:
        for line in summary.failure_lines(errors, snake_errors, log):
            print(line, file=sys.stderr)
        return 2 if errors and all(": internal error:" not in e for e in errors) else 1
    print("\n".join(summary.summary_lines(cfg)))
    return 0


def run_schema(args) -> int:
    text = _config_module().schema_text()
    if args.out:
        from gep.core.atomic import write_text

        write_text(args.out, text)
    else:
        print(text, end="")
    return 0
