"""固碳 carbon sequestration (docs/methods.md §4.2.4): CO₂ = NPP_C × NEP/NPP × 44/12, g CO₂/m²/a per cell for the
listed classes; × 10⁻⁶ → t CO₂/a. NPP_C is the NPP raster in g C, or in g dry matter × the carbon fraction when
``gep.rasters.npp.basis`` is ``dry_matter``. The quantity's basis is CO₂; the carbon price is restated on it from
the basis its record states (``basis:``, else the basis its unit names), in one place
(:func:`gep.core.units.price_on_basis`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gep.config.gep_services import spec
from gep.core.errors import InputError
from gep.core.units import carbon_basis, price_on_basis, tonnes_on_basis
from gep.indicators.gep.params import ParamFile, PriceTable, code_set, scalar
from gep.indicators.gep.services.base import (Block, ParamContext, Price, Service, Valuing, class_lookup,
                                              describe)

#: the basis of the carbon-sequestration quantity (its quantity_unit is t CO₂)
QUANTITY_BASIS = "CO2"


def carbon_co2_g_m2(lc, npp_gc_m2, nep_npp_ratio, include_codes, known_codes):
    """CO₂ = NPP (g C/m²/a) × NEP/NPP × 44/12 (g CO₂/m²/a) for included classes, 0 for other known classes."""
    known = class_lookup(lc, known_codes, np.zeros(len(known_codes)))
    inc = np.isin(np.asarray(lc), np.asarray(include_codes))
    co2 = tonnes_on_basis(np.asarray(npp_gc_m2, dtype=np.float64) * nep_npp_ratio, "C", QUANTITY_BASIS)
    return np.where(inc, co2, known)


@dataclass(frozen=True)
class CarbonParams:
    """The carbon_oxygen file and the numbers read from it, and the scheme's codes (known classes)."""

    file: ParamFile
    known: np.ndarray          # every class code of the scheme (0 where not included)
    include_codes: list[int]   # classes counted
    nep_npp_ratio: float       # NEP/NPP, 1
    npp_to_carbon: float       # g C per unit of the NPP raster's mass: 1 (basis C) or the dry-matter fraction
    npp_basis: str             # 'C' or 'dry_matter'

    @property
    def o2_per_co2(self) -> float:
        """t O₂ released per t CO₂ fixed (32/44)."""
        return tonnes_on_basis(1.0, QUANTITY_BASIS, "O2")


def load(ctx: ParamContext) -> CarbonParams:
    pf = ctx.file("carbon_oxygen")
    npp = ctx.cfg.rasters.npp
    basis = (npp.basis if npp is not None else None) or "C"
    to_c = scalar(pf, "carbon_fraction_dry_matter", minimum=0.0, maximum=1.0) if basis == "dry_matter" else 1.0
    return CarbonParams(pf, np.asarray(ctx.scheme_codes, dtype=np.int64), code_set(pf, "classes")[0],
                        scalar(pf, "nep_npp_ratio", minimum=0.0, maximum=1.0), to_c, basis)


def density(block: Block, p: CarbonParams) -> np.ndarray:
    """g CO₂/m²/a per cell from NPP (g C/m²/a, or g dry matter/m²/a × the carbon fraction)."""
    npp_c = np.asarray(block["npp"], dtype=np.float64) * p.npp_to_carbon
    return carbon_co2_g_m2(block.lc, npp_c, p.nep_npp_ratio, p.include_codes, p.known)


def price_basis(prices: PriceTable, key: str) -> str:
    """The mass basis of price ``key``: its ``basis:`` (which its unit must not contradict), else the basis its
    unit names (元/t C, 元/t CO₂, 元/t O₂); InputError naming the file and key otherwise."""
    _, unit = prices.get(key, key)
    where = f"{prices.file.path}: prices.{key}"
    try:
        from_unit = carbon_basis(unit)
    except ValueError:
        from_unit = None
    stated = prices.basis(key)
    if stated is None:
        if from_unit is None:
            raise InputError(f"{where}: unit '{unit}' does not say per t of what; add 'basis: CO2' (or C, O2)")
        return from_unit
    try:
        basis = carbon_basis(stated)
    except ValueError as err:
        raise InputError(f"{where}: basis {err}") from None
    if from_unit is not None and from_unit != basis:
        raise InputError(f"{where}: unit '{unit}' and basis '{stated}' disagree; make them name the same basis")
    return basis


def price_per_co2(prices: PriceTable) -> Price:
    """The carbon price per t CO₂, restated from the basis of its record (380 元/t C → 380 × 12/44 元/t CO₂)."""
    value, unit = prices.get("carbon", "carbon_sequestration")
    basis = price_basis(prices, "carbon")
    if basis == QUANTITY_BASIS:
        return Price(value, "元/t CO₂")
    return Price(price_on_basis(value, basis, QUANTITY_BASIS),
                 f"元/t CO₂ (= {value:g} {unit} restated per t CO₂)")


def price(v: Valuing) -> Price:
    return price_per_co2(v.prices)


def method(v: Valuing) -> str:
    npp = ("NPP (g dry matter) × carbon fraction " + f"{v.params.npp_to_carbon:g}"
           if v.params.npp_basis == "dry_matter" else "NPP (g C)")
    return (f"CO₂ = {npp} × NEP/NPP × 44/12, g/m² × 1e-6 → t CO₂; valued at the carbon price per t CO₂")


def source(v: Valuing) -> str:
    return f"{v.params.file.cite()}; {v.prices.file.cite()}; NPP: {describe(v.cfg.rasters.npp)}"


SERVICE = Service(spec("carbon_sequestration"), load=load, density=density, price=price, method=method,
                  source=source)
