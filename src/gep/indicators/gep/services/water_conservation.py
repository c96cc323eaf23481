"""水源涵养 water conservation (docs/methods.md §4.2.1): Q = P − P·α(class) − ET, mm/a per cell; × 10⁻³ → m³/a.

Summed over the classes the runoff table's ``counted`` list names (default: every class with an α), as the
drafting group sums every ecosystem type; other classes contribute 0."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gep.config.gep_services import spec
from gep.core.errors import InputError
from gep.indicators.gep.params import ClassTable, code_set, load_runoff
from gep.indicators.gep.services.base import (Block, ParamContext, Price, Service, Valuing, class_lookup,
                                              describe)


def water_conservation_mm(lc, precip_mm, et_mm, alpha_codes, alpha_values, *, clip_negative: bool = False):
    """Q = P − P·α − ET (mm/a) per cell; 0 where the class's α is NaN (not counted); NaN on nodata."""
    alpha = class_lookup(lc, alpha_codes, alpha_values)
    known = class_lookup(lc, alpha_codes, np.zeros(len(alpha_codes)))  # 0 for known codes, NaN otherwise
    p = np.asarray(precip_mm, dtype=np.float64)
    et = np.asarray(et_mm, dtype=np.float64)
    q = p - p * alpha - et
    if clip_negative:
        q = np.maximum(q, 0.0)  # NaN stays NaN
    return np.where(np.isnan(alpha), known, q)


@dataclass(frozen=True)
class WaterParams:
    """Runoff coefficients α (fraction) by class and whether negative Q is set to 0."""

    runoff: ClassTable
    codes: np.ndarray
    alpha: np.ndarray
    clip_negative: bool


def counted_alpha(runoff: ClassTable) -> tuple[np.ndarray, np.ndarray]:
    """(codes, α) with α NaN (not counted) for every class outside the file's ``counted`` list; without the list
    every class with an α counts. InputError for a counted class without α."""
    codes, alpha = runoff.lut("alpha")
    pf = runoff.file
    if "counted" not in pf.data:
        return codes, alpha
    counted, _ = code_set(pf, "counted")
    missing = [c for c in counted if c not in runoff.values["alpha"] or np.isnan(runoff.values["alpha"][c])]
    if missing:
        raise InputError(f"{pf.path}: counted: class(es) {', '.join(map(str, missing))} have no alpha_pct; give "
                         f"each a runoff coefficient or remove it from 'counted'")
    return codes, np.where(np.isin(codes, counted), alpha, np.nan)


def load(ctx: ParamContext) -> WaterParams:
    runoff = load_runoff(ctx.ref("runoff"), scheme_codes=ctx.scheme_codes)
    codes, alpha = counted_alpha(runoff)
    return WaterParams(runoff, codes, alpha, ctx.cfg.clip_negative_water)


def density(block: Block, p: WaterParams) -> np.ndarray:
    """mm/a per cell from P and ET (mm/a)."""
    return water_conservation_mm(block.lc, block["precipitation"], block["et"], p.codes, p.alpha,
                                 clip_negative=p.clip_negative)


def price(v: Valuing) -> Price:
    """Reservoir storage cost, 元/m³ (docs/methods.md §4.5)."""
    return Price(*v.prices.get("water_storage", "water_conservation"))


def method(v: Valuing) -> str:
    counted = ", ".join(str(int(c)) for c, a in zip(v.params.codes, v.params.alpha) if not np.isnan(a))
    return (f"Q = (P − P·α(class) − ET)·A over classes {counted}, mm·m² × 1e-3 → m³ (water balance, α: Gong et al. "
            f"2017 and gep estimates); valued at reservoir storage cost")


def source(v: Valuing) -> str:
    r = v.cfg.rasters
    return (f"{v.params.runoff.file.cite()}; {v.prices.file.cite()}; P: {describe(r.precipitation)}; "
            f"ET: {describe(r.et)}")


SERVICE = Service(spec("water_conservation"), load=load, density=density, price=price, method=method,
                  source=source)
