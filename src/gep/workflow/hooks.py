"""What the workflow checks before its first job (the Snakefile's ``onstart``; docs/methods.md §8.1).

Each stage reads its own tables (parameters, prices, deflator, statistics, the department template) only when
it runs, which can be minutes or hours into a run. :func:`start_checks` reads them all first, as the stages
will, together with the checksums of published years, so that a bad table stops the run before any job.
Rasters are not read here: the workflow's input-check jobs scan them.
"""

from __future__ import annotations

from pathlib import Path

from gep.accounting.classes import load_scheme
from gep.accounting.inputs import load_regions
from gep.config import Config
from gep.core.errors import InputError
from gep.io.publish import frozen_problems
from gep.workflow.validate import stage_table_problems


def start_checks(cfg: Config) -> None:
    """InputError listing every problem of the later stages' tables and of published years' frozen files."""
    problems: list[str] = []
    try:
        scheme = load_scheme(cfg.landcover.scheme)
    except InputError as err:
        raise InputError.many([f"landcover.scheme: {line}" for line in err.lines()]) from None
    levels = {}
    for level, rc in cfg.regions.items():
        if not Path(rc.path).exists():  # made by a job of this run (the demo's data), or Snakemake says so
            continue
        try:
            levels[level] = load_regions(cfg, level)
        except InputError as err:
            problems.extend(err.lines())
    problems += stage_table_problems(cfg, scheme, levels=levels if len(levels) == len(cfg.regions) else None)
    problems += frozen_problems(cfg.out, skip_years=cfg.republish or ())
    if problems:
        raise InputError.many(problems)
