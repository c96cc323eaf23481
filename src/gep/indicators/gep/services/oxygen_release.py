"""释氧 oxygen release (docs/methods.md §4.2.4): O₂ = CO₂ × 32/44, a fixed multiple of carbon sequestration.

Its raster is the CO₂ raster × 32/44 and its totals are the CO₂ totals × 32/44 exactly (the ratio comes from
:func:`gep.core.units.tonnes_on_basis`). Valued at the oxygen price per t O₂, restated from the basis its record
states where that is not O₂.
"""

from __future__ import annotations

from gep.config.gep_services import spec
from gep.core.units import price_on_basis
from gep.indicators.gep.services import carbon_sequestration as carbon
from gep.indicators.gep.services.base import Price, Service, Valuing


def derive(p: carbon.CarbonParams) -> float:
    """t O₂ per t CO₂ (32/44)."""
    return p.o2_per_co2


def price(v: Valuing) -> Price:
    value, unit = v.prices.get("oxygen", "oxygen_release")
    basis = carbon.price_basis(v.prices, "oxygen")
    if basis == "O2":
        return Price(value, "元/t O₂")
    return Price(price_on_basis(value, basis, "O2"), f"元/t O₂ (= {value:g} {unit} restated per t O₂)")


def method(v: Valuing) -> str:
    return "O₂ = CO₂ × 32/44, g/m² × 1e-6 → t O₂; valued at the oxygen price per t O₂"


SERVICE = Service(spec("oxygen_release"), load=carbon.load, derive=derive, price=price, method=method,
                  source=carbon.source)
