"""Tier-2 GEP services, one module each, collected by :mod:`.registry` (docs/methods.md §4.2).

================================  =====================================  ===========  =====================
service                           per-cell density                       raster unit  region total
================================  =====================================  ===========  =====================
water_conservation  水源涵养       Q = P − P·α(class) − ET                mm/a         × 10⁻³ → m³/a
soil_retention      土壤保持       A_c = R·K·LS·(1 − C·P)                 t/hm²/a      × 10⁻⁴ → t/a
carbon_sequestration 固碳          CO₂ = NPP_C × NEP/NPP × 44/12          g CO₂/m²/a   × 10⁻⁶ → t CO₂/a
oxygen_release      释氧           O₂ = CO₂ × 32/44                       g O₂/m²/a    × 10⁻⁶ → t O₂/a
climate_regulation  气候调节       T·d/365·λ/3.6/r; E·d/365·(λ/3.6 + γ)   kWh/m²/a     × 1 → kWh/a
sand_fixation       防风固沙       RWEQ S_L(C = 1) − S_L(C)               kg/m²/a      × 10⁻³ → t/a
================================  =====================================  ===========  =====================

Services of kind ``area`` (:mod:`.area`) need no raster: flood_regulation 洪水调蓄, air_purification 空气净化,
water_purification 水质净化 and pest_control 病虫害控制 are computed per region from the land-cover class areas
and the region tables of ``gep.tables``, one row per part (docs/methods.md §4.2.7–§4.2.10).

(1 mm over 1 m² is 10⁻³ m³; 1 t/hm² over 1 m² is 10⁻⁴ t; 1 g/m² over 1 m² is 10⁻⁶ t.)

Classes a parameter file leaves out (``alpha_pct: null``, ``include: false``, codes not listed for carbon or
climate) contribute 0 whatever the inputs there; land-cover nodata, codes without a parameter row and input
nodata give NaN, which ``zonal_sum`` leaves out of both the sum and the covered area (so coverage can be
checked).

To add a service: write one module declaring ``SERVICE = Service(ServiceSpec(...), load=…, density=…,
price=…, method=…, source=…)`` (see :mod:`.base` and :mod:`.water_conservation`) and call
:func:`register` with it (or list it in :data:`.registry.BUILTIN_MODULES` and its spec in
:data:`gep.config.gep_services.BUILTIN` for a built-in one).
"""

from __future__ import annotations

from types import MappingProxyType

from gep.indicators.gep.services.base import (G_M2_TO_T, MM_M2_TO_M3, T_PER_HM2_M2_TO_T, Block, ParamContext,
                                              Price, Service, Valuing, class_lookup)
from gep.indicators.gep.services.carbon_sequestration import carbon_co2_g_m2
from gep.indicators.gep.services.climate_regulation import (cooling_fraction, heat_kwh_per_mm, vegetation_kwh_m2,
                                                            water_kwh_m2)
from gep.indicators.gep.services.registry import register, selected, services, unregister
from gep.indicators.gep.services.soil_retention import soil_retention_t_hm2
from gep.indicators.gep.services.water_conservation import water_conservation_mm



def _table() -> dict[str, tuple[str, str, str, float]]:
    return {s.name: (s.spec.name_zh, s.spec.quantity_unit, s.spec.raster_unit, s.spec.to_quantity)
            for s in services()}


#: service → (name_zh, quantity unit, raster unit, factor from Σ density·m² to the quantity unit): a view of
#: the built-in services' specs (:mod:`gep.config.gep_services`)
SERVICES = MappingProxyType(_table())

__all__ = ["G_M2_TO_T", "MM_M2_TO_M3", "SERVICES", "T_PER_HM2_M2_TO_T", "Block", "ParamContext", "Price", "Service",
           "Valuing", "carbon_co2_g_m2", "class_lookup", "cooling_fraction", "heat_kwh_per_mm", "register",
           "selected", "services", "soil_retention_t_hm2", "unregister", "vegetation_kwh_m2", "water_conservation_mm",
           "water_kwh_m2"]
