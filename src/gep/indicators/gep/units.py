"""Units of GEP quantities and prices, in one place (docs/methods.md §4.8).

A unit is a base unit with an optional Chinese count prefix: 万 (10⁴) or 亿 (10⁸), e.g. ``亿m³``, ``万t``,
``万hm²``, ``亿元``. Each base unit belongs to a dimension (mass, volume, energy, area, money, visits, head)
and converts to that dimension's base (t, m³, kWh, m², 元, 人次, 头). A price unit is ``MONEY/UNIT``
(``元/t``, ``万元/hm²``).

The *basis* says what a quantity or price is counted as (t of CO₂ or t of C, m³ of reservoir storage, …).
Two bases convert only when the conversion is physical: carbon, 1 t C = 44/12 t CO₂. Any other pair of
different bases is an error, never a silent match.
"""

from __future__ import annotations

from dataclasses import dataclass

from gep.core.errors import InputError
from gep.core.units import CO2_PER_C, G_PER_T, M2_PER_HM2, M2_PER_KM2, YUAN_PER_WAN, YUAN_PER_YI

#: count prefixes written before a unit (the same factors as 万元 and 亿元)
PREFIXES = {"万": float(YUAN_PER_WAN), "亿": float(YUAN_PER_YI)}

#: base unit → (dimension, factor to the dimension's base unit)
BASE_UNITS: dict[str, tuple[str, float]] = {
    "t": ("mass", 1.0), "kg": ("mass", 1e-3), "g": ("mass", 1.0 / G_PER_T),
    "m³": ("volume", 1.0), "m3": ("volume", 1.0),
    "kWh": ("energy", 1.0), "kW·h": ("energy", 1.0), "kw·h": ("energy", 1.0), "kwh": ("energy", 1.0),
    "m²": ("area", 1.0), "m2": ("area", 1.0), "hm²": ("area", M2_PER_HM2), "hm2": ("area", M2_PER_HM2),
    "ha": ("area", M2_PER_HM2), "km²": ("area", M2_PER_KM2), "km2": ("area", M2_PER_KM2),
    "元": ("money", 1.0),
    "人次": ("visits", 1.0),
    "头": ("head", 1.0),
}

#: dimension → its base unit (the unit every quantity is carried in after conversion)
DIMENSION_BASE = {"mass": "t", "volume": "m³", "energy": "kWh", "area": "m²", "money": "元", "visits": "人次",
                  "head": "头"}

_BASIS_ALIASES = {"co2": "CO₂", "co₂": "CO₂", "c": "C", "carbon": "C", "o2": "O₂", "o₂": "O₂"}


@dataclass(frozen=True)
class Unit:
    """A parsed unit: its text, dimension and factor to the dimension's base unit."""

    text: str
    dimension: str
    factor: float

    @property
    def base(self) -> str:
        return DIMENSION_BASE[self.dimension]


def known_units() -> str:
    """The base units, for error messages."""
    return "t, kg, g, m³, kWh, m², hm², ha, km², 元, 人次, 头"


def parse_unit(text: str) -> Unit | None:
    """The unit ``text`` names (``亿m³`` → volume × 10⁸), or None when it is not one."""
    s = str(text).strip().replace(" ", "")
    if s in BASE_UNITS:
        dim, f = BASE_UNITS[s]
        return Unit(s, dim, f)
    if s[:1] in PREFIXES and s[1:] in BASE_UNITS:
        dim, f = BASE_UNITS[s[1:]]
        return Unit(s, dim, f * PREFIXES[s[0]])
    return None


def unit(text: str, where: str) -> Unit:
    """:func:`parse_unit` or a one-line InputError naming ``where`` and the units gep knows."""
    u = parse_unit(text)
    if u is None:
        raise InputError(f"{where}: unit '{text}' is not known; use one of {known_units()} "
                         f"(optionally with 万 or 亿 before it, e.g. 亿m³)")
    return u


def price_unit(text: str, where: str) -> tuple[float, Unit]:
    """A price unit ``MONEY/UNIT`` → (yuan per money unit, the quantity unit it is per)."""
    s = str(text).strip().replace(" ", "")
    if s.count("/") != 1:
        raise InputError(f"{where}: price unit '{text}' is not MONEY/UNIT; write it like 元/t or 元/m³")
    money, per = s.split("/")
    m = unit(money, where)
    if m.dimension != "money":
        raise InputError(f"{where}: price unit '{text}' does not start with 元, 万元 or 亿元; write it like 元/t")
    q = unit(per, where)
    if q.dimension == "money":
        raise InputError(f"{where}: price unit '{text}' is money per money; give the quantity it is per (元/t)")
    return m.factor, q


def normal_basis(basis: str) -> str:
    """A basis with the usual spellings of CO₂, C and O₂ made one (``CO2`` → ``CO₂``)."""
    b = str(basis or "").strip()
    return _BASIS_ALIASES.get(b.lower(), b)


def basis_factor(from_basis: str, to_basis: str) -> float | None:
    """Factor turning a quantity counted as ``from_basis`` into one counted as ``to_basis`` (t C → t CO₂:
    44/12); 1 for the same basis; None when the two do not convert."""
    a, b = normal_basis(from_basis), normal_basis(to_basis)
    if a == b:
        return 1.0
    if (a, b) == ("C", "CO₂"):
        return CO2_PER_C
    if (a, b) == ("CO₂", "C"):
        return 1.0 / CO2_PER_C
    return None
