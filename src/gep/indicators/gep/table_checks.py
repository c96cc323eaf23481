"""Every table the GEP stage would read, checked before any work (``gep validate`` and the workflow's first job).

The GEP stage reads its parameter, price, deflator and statistics tables only after the land cover has been
accounted, minutes into a run. :func:`table_problems` loads the same tables with the same loaders, for the
services the config selects, and returns every problem as one line, so that a table the run would reject stops
the run in seconds (docs/methods.md §4.5, §4.6).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gep.config.gep import GepConfig, priced
from gep.core.errors import InputError
from gep.indicators.gep.params import (check_codes, load_carbon_pools, load_deflator, load_ecosystem_map,
                                       load_equivalent_factors, load_prices)
from gep.indicators.gep.run import Selection
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
    prices = deflator = factors = None
    if priced(wanted):
        prices = _attempt(problems, "gep.parameters.prices", lambda: load_prices(cfg.parameters.prices))
        if cfg.deflator is not None:
            deflator = _attempt(problems, "gep.deflator", lambda: load_deflator(cfg.deflator))
    if "tier1" in wanted:
        factors = _attempt(problems, "gep.parameters.equivalent_factors",
                           lambda: load_equivalent_factors(cfg.parameters.equivalent_factors))
        _attempt(problems, "gep.parameters.ecosystem_map",
                 lambda: load_ecosystem_map(cfg.parameters.ecosystem_map, scheme_codes=codes,
                                            overrides=cfg.tier1.class_types))
    sel = Selection.of(cfg)
    if sel:
        _attempt(problems, "gep.parameters", lambda: sel.params(cfg, codes))
    if "carbon_stock" in wanted:
        pools = _attempt(problems, "gep.parameters.carbon_pools",
                         lambda: load_carbon_pools(cfg.parameters.carbon_pools, scheme_codes=codes))
        if pools is not None and present_codes is not None:
            _attempt(problems, "gep.parameters.carbon_pools",
                     lambda: check_codes(pools.file, set(present_codes), pools.values["soil"], "carbon pools"))
    if "statistics" in wanted and cfg.statistics is not None:
        _attempt(problems, "gep.statistics",
                 lambda: read_statistics(cfg.statistics, region_codes=region_codes, years=years or None,
                                         services=cfg.statistics_services))
    if deflator is not None and prices is not None and years:
        # the run converts every accounting year, the price year and the constant-price year
        need = set(years) | {cfg.constant_price_year or prices.base_year, prices.base_year}
        if factors is not None:
            need.add(factors.e_year)
        _attempt(problems, "gep.deflator", lambda: deflator.require(
            need, "needed for current/constant prices: accounting years, price years and the constant-price year"))
    return problems
