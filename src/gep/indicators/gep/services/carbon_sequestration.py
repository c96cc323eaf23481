"""固碳 carbon sequestration (docs/methods.md §4.2.4): CO₂ = NPP × NEP/NPP × 44/12, g CO₂/m²/a per cell for the
listed classes; × 10⁻⁶ → t CO₂/a. Valued at the carbon price per t CO₂ (a price per t C × 12/44)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gep.config.gep_services import spec
from gep.indicators.gep.params import ParamFile, PriceTable, code_set, scalar
from gep.indicators.gep.services.base import (Block, ParamContext, Price, Service, Valuing, class_lookup,
                                              describe)


def carbon_co2_g_m2(lc, npp_gc_m2, nep_npp_ratio, co2_per_c, include_codes, known_codes):
    """CO₂ = NPP × NEP/NPP × 44/12 (g CO₂/m²/a) for included classes, 0 for other known classes."""
    known = class_lookup(lc, known_codes, np.zeros(len(known_codes)))
    inc = np.isin(np.asarray(lc), np.asarray(include_codes))
    co2 = np.asarray(npp_gc_m2, dtype=np.float64) * nep_npp_ratio * co2_per_c
    return np.where(inc, co2, known)


@dataclass(frozen=True)
class CarbonParams:
    """The carbon_oxygen file and the numbers read from it, and the scheme's codes (known classes)."""

    file: ParamFile
    known: np.ndarray          # every class code of the scheme (0 where not included)
    include_codes: list[int]   # classes counted
    nep_npp_ratio: float       # NEP/NPP, 1
    co2_per_c: float           # t CO₂ per t C (44/12)

    @property
    def o2_per_co2(self) -> float:
        return scalar(self.file, "o2_per_co2", minimum=0.0)


def load(ctx: ParamContext) -> CarbonParams:
    pf = ctx.file("carbon_oxygen")
    return CarbonParams(pf, np.asarray(ctx.scheme_codes, dtype=np.int64), code_set(pf, "classes")[0],
                        scalar(pf, "nep_npp_ratio", minimum=0.0, maximum=1.0), scalar(pf, "co2_per_c", minimum=0.0))


def density(block: Block, p: CarbonParams) -> np.ndarray:
    """g CO₂/m²/a per cell from NPP (g C/m²/a)."""
    return carbon_co2_g_m2(block.lc, block["npp"], p.nep_npp_ratio, p.co2_per_c, p.include_codes, p.known)


def price_per_co2(prices: PriceTable, co2_per_c: float) -> Price:
    """The carbon price per t CO₂: as given when its unit says CO₂, else a price per t C × 12/44."""
    value, unit = prices.get("carbon", "carbon_sequestration")
    u = unit.replace("₂", "2").lower()
    if "co2" in u:
        return Price(value, "元/t CO₂")
    return Price(value / co2_per_c, f"元/t CO₂ (= {value:g} {unit} × 12/44)")


def price(v: Valuing) -> Price:
    return price_per_co2(v.prices, v.params.co2_per_c)


def method(v: Valuing) -> str:
    return "CO₂ = NPP × NEP/NPP × 44/12, g/m² × 1e-6 → t; valued at carbon price × 12/44"


def source(v: Valuing) -> str:
    return f"{v.params.file.cite()}; {v.prices.file.cite()}; NPP: {describe(v.cfg.rasters.npp)}"


SERVICE = Service(spec("carbon_sequestration"), load=load, density=density, price=price, method=method,
                  source=source)
