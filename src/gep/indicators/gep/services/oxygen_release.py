"""释氧 oxygen release (docs/methods.md §4.2.4): O₂ = CO₂ × 32/44, a fixed multiple of carbon sequestration.

Its raster is the CO₂ raster × o2_per_co2 and its totals are the CO₂ totals × o2_per_co2 exactly. Valued at
the oxygen price (元/t O₂).
"""

from __future__ import annotations

from gep.config.gep_services import spec
from gep.indicators.gep.services import carbon_sequestration as carbon
from gep.indicators.gep.services.base import Price, Service, Valuing


def derive(p: carbon.CarbonParams) -> float:
    """t O₂ per t CO₂ (32/44)."""
    return p.o2_per_co2


def price(v: Valuing) -> Price:
    return Price(*v.prices.get("oxygen", "oxygen_release"))


def method(v: Valuing) -> str:
    return "O₂ = CO₂ × 32/44, g/m² × 1e-6 → t; valued at oxygen price"


SERVICE = Service(spec("oxygen_release"), load=carbon.load, derive=derive, price=price, method=method,
                  source=carbon.source)
