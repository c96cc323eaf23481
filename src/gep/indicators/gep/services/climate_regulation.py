"""气候调节 climate regulation (docs/methods.md §4.2.3), by the drafting group's method: the electricity that
air-conditioners and humidifiers would use to do what evaporation does on the days air-conditioning runs,
kWh/m²/a per cell; × 1 → kWh/a. Valued at the electricity price.

- vegetation (forest, shrub, grass): E_pt = T_cool × h / r, where T_cool is the transpiration on cooling days
  (mm), h = 10⁻³ × ρ_w × λ / 3.6 the heat of evaporating 1 mm over 1 m² in kWh, r the energy-efficiency ratio;
- water surfaces: E_we = E_cool × (h + 10⁻³ × γ), γ the humidifier's kWh per m³ evaporated; **not** ÷ r.

T_cool is the ``transpiration_cooling`` raster when given, else the annual transpiration × d/365 (spread evenly
over the year [P]); annual transpiration is the ``transpiration`` raster when given, else ET × the transpiration
share of the class's type. E_cool = open-water evaporation (default: ET) × d/365. d (cooling days) is the
``cooling_days`` input (a constant or a raster) when given, else the parameter file's ``cooling_days``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gep.config.gep_services import spec
from gep.core.errors import InputError
from gep.core.units import M3_PER_MM_M2
from gep.indicators.gep.params import ParamFile, code_set, scalar
from gep.indicators.gep.services.base import (Block, ParamContext, Price, Service, Valuing, class_lookup,
                                              describe)

DAYS_PER_YEAR = 365.0   # annual amounts are spread over 365 days (docs/methods.md §4.2.3)


def heat_kwh_per_mm(latent_heat_mj_kg: float, water_density: float, mj_per_kwh: float) -> float:
    """kWh of heat taken up by evaporating 1 mm of water over 1 m²: 10⁻³ m³ × ρ_w kg/m³ × λ MJ/kg / 3.6."""
    return M3_PER_MM_M2 * water_density * latent_heat_mj_kg / mj_per_kwh


def cooling_fraction(cooling_days) -> np.ndarray:
    """The share of an annual amount that falls on the cooling days, d/365 [P]; NaN where d is not a day count
    of one year (below 0 or above 366)."""
    d = np.asarray(cooling_days, dtype=np.float64)
    return np.where((d >= 0) & (d <= 366), d / DAYS_PER_YEAR, np.nan)


def vegetation_kwh_m2(transpiration_cooling_mm, heat_per_mm: float, cop: float) -> np.ndarray:
    """E_pt per m² (kWh): transpiration on cooling days × heat per mm ÷ the energy-efficiency ratio r."""
    return np.asarray(transpiration_cooling_mm, dtype=np.float64) * heat_per_mm / cop


def water_kwh_m2(evaporation_cooling_mm, heat_per_mm: float, humidifier_kwh_m3: float) -> np.ndarray:
    """E_we per m² (kWh): evaporation on cooling days × (heat per mm + the humidifier's kWh per mm), not ÷ r."""
    return np.asarray(evaporation_cooling_mm, dtype=np.float64) * (heat_per_mm + M3_PER_MM_M2 * humidifier_kwh_m3)


@dataclass(frozen=True)
class ClimateParams:
    """The climate_regulation file: heat per mm, r, γ, default cooling days, the vegetation classes with their
    transpiration shares, the water classes, and every class code of the scheme (known classes)."""

    file: ParamFile
    heat_per_mm: float          # kWh per mm over 1 m²
    cop: float                  # r, 1
    humidifier_kwh_m3: float    # γ, kWh/m³
    cooling_days: float         # d when gep.rasters.cooling_days is not given
    veg_codes: np.ndarray
    veg_share: np.ndarray       # transpiration / ET of each vegetation class
    water_codes: np.ndarray
    known: np.ndarray


def _vegetation(cl: ParamFile) -> tuple[np.ndarray, np.ndarray]:
    """(codes, transpiration share) of the vegetation classes: ``vegetation.classes`` maps a code to a type of
    ``transpiration_share``."""
    veg = cl.data.get("vegetation")
    classes = veg.get("classes") if isinstance(veg, Mapping) else None
    if not isinstance(classes, Mapping) or not classes:
        raise InputError(f"{cl.path}: key 'vegetation' must be {{classes: {{land-cover code: forest | shrub | grass}}}}"
                         f" (the layout changed: transpiration shares are now per type under 'transpiration_share')")
    shares = cl.data.get("transpiration_share")
    if not isinstance(shares, Mapping):
        raise InputError(f"{cl.path}: key 'transpiration_share' is missing; give {{forest: {{value: …}}, shrub: …, "
                         f"grass: …}} (transpiration / ET by type)")
    codes, values = [], []
    for code, kind in classes.items():
        if kind not in shares:
            raise InputError(f"{cl.path}: vegetation.classes.{code}: type '{kind}' has no entry under "
                             f"'transpiration_share'; add it or use one of {', '.join(map(str, shares))}")
        codes.append(int(code))
        values.append(_share(cl, shares[kind], f"transpiration_share.{kind}"))
    return np.asarray(codes, dtype=np.int64), np.asarray(values)


def _share(cl: ParamFile, entry, where: str) -> float:
    """A share 0–1 stored as ``x`` or ``{value: x, …}`` at ``where`` in the file."""
    value = entry.get("value") if isinstance(entry, Mapping) else entry
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise InputError(f"{cl.path}: {where}: '{value}' is not a share between 0 and 1; give one")
    return float(value)


def load(ctx: ParamContext) -> ClimateParams:
    cl = ctx.file("climate")
    if "cooling_share" in cl.data:
        raise InputError(f"{cl.path}: key 'cooling_share' is no longer used; remove it and give 'cooling_days' "
                         f"(days a year air-conditioning runs) instead (docs/methods.md §4.2.3)")
    veg_codes, veg_share = _vegetation(cl)
    water_codes, _ = code_set(cl, "water")
    return ClimateParams(
        cl, heat_kwh_per_mm(scalar(cl, "latent_heat", minimum=0.0), scalar(cl, "water_density", minimum=0.0),
                            scalar(cl, "mj_per_kwh", minimum=1e-9)),
        scalar(cl, "cop", minimum=1e-9), scalar(cl, "humidifier_kwh_per_m3", minimum=0.0),
        scalar(cl, "cooling_days", minimum=0.0, maximum=366.0), veg_codes, veg_share,
        np.asarray(water_codes, dtype=np.int64), np.asarray(ctx.scheme_codes, dtype=np.int64))


def density(block: Block, p: ClimateParams) -> np.ndarray:
    """kWh/m²/a per cell: E_pt on vegetation classes, E_we on water classes, 0 on other known classes, NaN on
    unknown codes and missing inputs."""
    lc = np.asarray(block.lc)
    inputs = block.inputs
    frac = cooling_fraction(inputs["cooling_days"] if "cooling_days" in inputs else p.cooling_days)
    if "transpiration_cooling" in inputs:
        t_cool = np.asarray(inputs["transpiration_cooling"], dtype=np.float64)
    else:
        annual = (np.asarray(inputs["transpiration"], dtype=np.float64) if "transpiration" in inputs else
                  np.asarray(block["et"], dtype=np.float64) * class_lookup(lc, p.veg_codes, p.veg_share))
        t_cool = annual * frac
    e_cool = np.asarray(inputs["evaporation"] if "evaporation" in inputs else block["et"], dtype=np.float64) * frac
    out = class_lookup(lc, p.known, np.zeros(len(p.known)))
    out = np.where(np.isin(lc, p.veg_codes), vegetation_kwh_m2(t_cool, p.heat_per_mm, p.cop), out)
    return np.where(np.isin(lc, p.water_codes), water_kwh_m2(e_cool, p.heat_per_mm, p.humidifier_kwh_m3), out)


def price(v: Valuing) -> Price:
    return Price(*v.prices.get("electricity", "climate_regulation"))


def method(v: Valuing) -> str:
    r = v.cfg.rasters
    days = (f"cooling days {describe(r.cooling_days)}" if r.cooling_days is not None else
            f"cooling days {v.params.cooling_days:g} (parameter file)")
    veg = ("transpiration on cooling days given" if r.transpiration_cooling is not None else
           ("transpiration" if r.transpiration is not None else "ET × transpiration share") + " × d/365")
    return (f"vegetation E_pt = T_cool·ρ_w·λ/3.6/r ({veg}); water E_we = E·d/365·(ρ_w·λ/3.6 + γ), not ÷ r; "
            f"{days}; kWh valued at electricity price")


def source(v: Valuing) -> str:
    r = v.cfg.rasters
    extra = "".join(f"; {name}: {describe(getattr(r, name))}" for name in
                    ("transpiration", "transpiration_cooling", "cooling_days") if getattr(r, name) is not None)
    return (f"{v.params.file.cite()}; {v.prices.file.cite()}; ET: {describe(r.et)}; "
            f"evaporation: {describe(r.evaporation or r.et)}{extra}")


SERVICE = Service(spec("climate_regulation"), load=load, density=density, price=price, method=method,
                  source=source)
