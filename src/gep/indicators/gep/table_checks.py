"""Every table the GEP stage would read, checked before any work (``gep validate`` and the workflow's first job).

The GEP stage reads its parameter, price, deflator and statistics tables only after the land cover has been
accounted, minutes into a run. :func:`table_problems` loads the same tables with the same loaders, for the
services the config selects, and returns every problem as one line, so that a table the run would reject stops
the run in seconds (docs/methods.md §4.5, §4.6).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from gep.config.gep import GepConfig, priced
from gep.core.errors import InputError
from gep.indicators.gep.params import (check_codes, load_carbon_pools, load_deflator, load_ecosystem_map,
                                       load_equivalent_factors)
from gep.indicators.gep.profile_prices import load_book, price_problems
from gep.indicators.gep.run import Selection
from gep.indicators.gep.services.base import ParamContext
from gep.indicators.gep.services.registry import area_services, selected
from gep.indicators.gep.valuation import read_region_deductions
from gep.indicators.gep.statistics import read_statistics


def _attempt(problems: list[str], label: str, load: Callable[[], Any]) -> Any:
    """``load()``, or None with its problems (prefixed with the config key) added to ``problems``."""
    try:
        return load()
    except InputError as err:
        problems.extend(f"{label}: {line}" for line in err.lines())
        return None


def table_problems(cfg: GepConfig, *, scheme_codes: Iterable[int], years: Iterable[int],
                   present_codes: Iterable[int] | None = None,
                   region_codes: Iterable[str] | None = None) -> list[str]:
    """The problems of every table the selected services read (empty list: all load as the run loads them).

    ``scheme_codes``: the land-cover scheme's codes; ``present_codes``: the codes found in the land cover (the
    carbon-pool table must cover them; None skips that check); ``region_codes``: the codes of every region
    level (the statistics table must have their rows; None skips that check).
    """
    problems: list[str] = []
    wanted = set(cfg.services)
    years = sorted({int(y) for y in years})
    codes = [int(c) for c in scheme_codes]
    book = deflator = factors = None
    if priced(wanted):
        if cfg.deflator is not None:
            deflator = _attempt(problems, "gep.deflator", lambda: load_deflator(cfg.deflator))
        label = "gep.profile" if cfg.profile is not None else "gep.parameters.prices"
        book = _attempt(problems, label, lambda: load_book(cfg, deflator))
    if "tier1" in wanted:
        factors = _attempt(problems, "gep.parameters.equivalent_factors",
                           lambda: load_equivalent_factors(cfg.parameters.equivalent_factors))
        _attempt(problems, "gep.parameters.ecosystem_map",
                 lambda: load_ecosystem_map(cfg.parameters.ecosystem_map, scheme_codes=codes,
                                            overrides=cfg.tier1.class_types))
    sel = Selection.of(cfg)
    areas = area_services(selected(cfg.services))
    ctx = ParamContext(cfg, np.asarray(codes, dtype=np.int64))
    params = _attempt(problems, "gep.parameters",
                      lambda: {**sel.params(cfg, codes, ctx), **{s.name: ctx.load(s) for s in areas}}) or {}
    if "carbon_stock" in wanted:
        pools = _attempt(problems, "gep.parameters.carbon_pools",
                         lambda: load_carbon_pools(cfg.parameters.carbon_pools, scheme_codes=codes))
        if pools is not None and present_codes is not None:
            _attempt(problems, "gep.parameters.carbon_pools",
                     lambda: check_codes(pools.file, set(present_codes), pools.values["soil"], "carbon pools"))
    if "statistics" in wanted and cfg.statistics is not None and _readable_now(cfg.statistics, region_codes):
        _attempt(problems, "gep.statistics",
                 lambda: read_statistics(cfg.statistics, region_codes=region_codes, years=years or None,
                                         services=cfg.statistics_services))
    if book is not None and years:
        # every price the selected services ask for, and (with a deflator) every year the run converts
        constant = cfg.constant_price_year or _attempt(problems, label, book.default_constant_year)
        if deflator is None:
            book = replace(book, deflator=None)
        if constant is not None:
            prices_lines, deflator_lines = price_problems(cfg, book, sel.services + areas, params, years, constant)
            problems.extend(f"{label}: {line}" for line in prices_lines)
            problems.extend(f"gep.deflator: {line}" for line in deflator_lines)
        if deflator is not None and factors is not None:
            _attempt(problems, "gep.deflator", lambda: deflator.require(
                [factors.e_year], "needed for the Tier-1 value of one equivalent"))
    if cfg.deductions is not None and priced(wanted) and years and region_codes is not None:
        _attempt(problems, "gep.deductions",
                 lambda: read_region_deductions(cfg.deductions, region_codes=region_codes, years=years))
    return problems


def _readable_now(path, region_codes) -> bool:
    """Whether to read a region table now: always when the regions are known; without them (the regions and
    tables are still to be made by a job of this run, as the demo's data) only when the file is there."""
    return region_codes is not None or Path(path).exists()
