"""水源涵养 water conservation (docs/methods.md §4.2.1): Q = P − P·α(class) − ET, mm/a per cell; × 10⁻³ → m³/a."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gep.config.gep_services import spec
from gep.indicators.gep.params import ClassTable, load_runoff
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


def load(ctx: ParamContext) -> WaterParams:
    runoff = load_runoff(ctx.ref("runoff"), scheme_codes=ctx.scheme_codes)
    codes, alpha = runoff.lut("alpha")
    return WaterParams(runoff, codes, alpha, ctx.cfg.clip_negative_water)


def density(block: Block, p: WaterParams) -> np.ndarray:
    """mm/a per cell from P and ET (mm/a)."""
    return water_conservation_mm(block.lc, block["precipitation"], block["et"], p.codes, p.alpha,
                                 clip_negative=p.clip_negative)


def price(v: Valuing) -> Price:
    """Reservoir storage cost, 元/m³ (docs/methods.md §4.5)."""
    return Price(*v.prices.get("water_storage", "water_conservation"))


def method(v: Valuing) -> str:
    return ("Q = (P − P·α(class) − ET)·A, mm·m² × 1e-3 → m³ (water balance, α: Gong et al. 2017); valued at "
            "reservoir storage cost")


def source(v: Valuing) -> str:
    r = v.cfg.rasters
    return (f"{v.params.runoff.file.cite()}; {v.prices.file.cite()}; P: {describe(r.precipitation)}; "
            f"ET: {describe(r.et)}")


SERVICE = Service(spec("water_conservation"), load=load, density=density, price=price, method=method,
                  source=source)
