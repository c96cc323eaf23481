"""气候调节 climate regulation (docs/methods.md §4.2.3): the air-conditioning electricity that evaporation
replaces, kWh/m²/a per cell: ET × share (vegetation classes) or E_w × share (water classes) × kWh per mm;
× 1 → kWh/a. Valued at the electricity price."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gep.config.gep_services import spec
from gep.indicators.gep.params import ParamFile, code_set, scalar
from gep.indicators.gep.services.base import (Block, ParamContext, Price, Service, Valuing, class_lookup,
                                              describe)


def kwh_per_mm(latent_heat_mj_kg: float, water_density: float, mj_per_kwh: float, cop: float,
               cooling_share: float) -> float:
    """kWh of air-conditioning electricity per mm of water evaporated over 1 m².

    1 mm over 1 m² = 10⁻³ m³ = 10⁻³ × ρ_w kg; heat = that × λ_v (MJ); electricity = heat / 3.6 / COP.
    """
    return 1e-3 * water_density * latent_heat_mj_kg / mj_per_kwh / cop * cooling_share


def climate_kwh_m2(lc, et_mm, evap_mm, kwh_per_mm, veg_codes, veg_share, water_codes, water_share, known_codes):
    """Cooling energy (kWh/m²/a): ET·share (vegetation) or evaporation·share (water) × kWh per mm."""
    known = class_lookup(lc, known_codes, np.zeros(len(known_codes)))
    lc = np.asarray(lc)
    veg = np.isin(lc, np.asarray(veg_codes))
    wat = np.isin(lc, np.asarray(water_codes))
    et = np.asarray(et_mm, dtype=np.float64)
    ev = np.asarray(evap_mm, dtype=np.float64)
    out = np.where(veg, et * veg_share * kwh_per_mm, known)
    return np.where(wat, ev * water_share * kwh_per_mm, out)


@dataclass(frozen=True)
class ClimateParams:
    """The climate_regulation file: kWh per mm, vegetation and water classes with their shares."""

    file: ParamFile
    kwh_per_mm: float
    veg_codes: list[int]
    veg_share: float
    water_codes: list[int]
    water_share: float
    known: np.ndarray


def load(ctx: ParamContext) -> ClimateParams:
    cl = ctx.file("climate")
    per_mm = kwh_per_mm(scalar(cl, "latent_heat", minimum=0.0), scalar(cl, "water_density", minimum=0.0),
                        scalar(cl, "mj_per_kwh", minimum=1e-9), scalar(cl, "cop", minimum=1e-9),
                        scalar(cl, "cooling_share", minimum=0.0, maximum=1.0))
    veg_codes, veg_share = code_set(cl, "vegetation")
    wat_codes, wat_share = code_set(cl, "water")
    return ClimateParams(cl, per_mm, veg_codes, veg_share, wat_codes, wat_share,
                         np.asarray(ctx.scheme_codes, dtype=np.int64))


def density(block: Block, p: ClimateParams) -> np.ndarray:
    """kWh/m²/a per cell from ET and open-water evaporation (mm/a; evaporation defaults to ET)."""
    return climate_kwh_m2(block.lc, block["et"], block["evaporation"], p.kwh_per_mm, p.veg_codes, p.veg_share,
                          p.water_codes, p.water_share, p.known)


def price(v: Valuing) -> Price:
    return Price(*v.prices.get("electricity", "climate_regulation"))


def method(v: Valuing) -> str:
    return ("E = ET × ρ_w × λ_v / 3.6 / COP × share (vegetation transpiration + water-surface evaporation), kWh; "
            "valued at electricity price")


def source(v: Valuing) -> str:
    r = v.cfg.rasters
    return (f"{v.params.file.cite()}; {v.prices.file.cite()}; ET: {describe(r.et)}; "
            f"evaporation: {describe(r.evaporation or r.et)}")


SERVICE = Service(spec("climate_regulation"), load=load, density=density, price=price, method=method,
                  source=source)
