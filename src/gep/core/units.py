"""Conversion constants and unit strings used across gep, each defined once.

Areas are summed as integer cm² (exact for any chunking) and published in km²; money is computed in 元 and
published in 万元 (indicator 10: 万元/km²) or read in 元/万元/亿元; carbon quantities and prices state their
mass basis (t C, t CO₂, t O₂) and are restated between bases here only. Divide by a ``X_PER_Y`` constant to go from X to Y (``area_cm2 / CM2_PER_KM2`` is km²), multiply to
go back.
"""

from __future__ import annotations

# --- area -------------------------------------------------------------------------------------------------
CM2_PER_M2 = 10_000                     # 1 m² = 100 cm × 100 cm (integer: area sums are kept in cm²)
M2_PER_HM2 = 10_000                     # 1 hm² (公顷, ha) = 100 m × 100 m
HM2_PER_KM2 = 100                       # 1 km² = 100 hm²
M2_PER_KM2 = 1_000_000                  # 1 km² = 1000 m × 1000 m
CM2_PER_KM2 = CM2_PER_M2 * M2_PER_KM2   # 10¹⁰ (exact in int64 and in float64)

# --- money (Chinese counting units) ------------------------------------------------------------------------
YUAN_PER_WAN = 10_000                   # 1 万元 = 10⁴ 元
YUAN_PER_YI = 100_000_000               # 1 亿元 = 10⁸ 元
#: 元 per unit of each money unit a table may use.
MONEY_UNITS = {"元": 1, "万元": YUAN_PER_WAN, "亿元": YUAN_PER_YI}

# --- mass, volume, carbon ---------------------------------------------------------------------------------
G_PER_T = 1_000_000                     # 1 t = 10⁶ g (g/m² × m² / G_PER_T = t)
M3_PER_MM_M2 = 1e-3                     # 1 mm of water over 1 m² = 10⁻³ m³
MOLAR_MASS_C = 12.0                     # g/mol (the 12/44 convention of carbon accounting)
MOLAR_MASS_CO2 = 44.0                   # g/mol
MOLAR_MASS_O2 = 32.0                    # g/mol
CO2_PER_C = MOLAR_MASS_CO2 / MOLAR_MASS_C   # t CO₂ per t C = 44/12
O2_PER_CO2 = MOLAR_MASS_O2 / MOLAR_MASS_CO2  # t O₂ released per t CO₂ fixed = 32/44

#: the bases a carbon quantity or price is stated on, by the mass (g) of each per mole of carbon fixed: t C,
#: t CO₂, and the t O₂ released with it (one O₂ per CO₂ fixed). docs/methods.md §4.2.4
CARBON_BASES = {"C": MOLAR_MASS_C, "CO2": MOLAR_MASS_CO2, "O2": MOLAR_MASS_O2}


def carbon_basis(text: str) -> str:
    """The basis a text names: 'C', 'CO2' or 'O2' ('CO₂', 'co2', 't CO₂', '元/t C' all work); ValueError when it
    names none of them or is ambiguous."""
    t = str(text).replace("₂", "2").replace(" ", "").upper()
    t = t.rsplit("/", 1)[-1]                  # '元/tCO2' → 'tCO2'
    t = t[1:] if t.startswith("T") and t[1:] in CARBON_BASES else t   # 'tCO2' → 'CO2'
    if t not in CARBON_BASES:
        raise ValueError(f"'{text}' names no carbon basis; use one of {', '.join(CARBON_BASES)}")
    return t


def tonnes_on_basis(tonnes: float, from_basis: str, to_basis: str) -> float:
    """A carbon quantity restated on another basis: t C → t CO₂ is × 44/12, t CO₂ → t O₂ is × 32/44."""
    return tonnes * CARBON_BASES[carbon_basis(to_basis)] / CARBON_BASES[carbon_basis(from_basis)]


def price_on_basis(price: float, price_basis: str, quantity_basis: str) -> float:
    """A price per t of ``price_basis`` restated per t of ``quantity_basis`` (the inverse of
    :func:`tonnes_on_basis`): 380 元/t C is 380 × 12/44 = 103.64 元/t CO₂."""
    return price * CARBON_BASES[carbon_basis(price_basis)] / CARBON_BASES[carbon_basis(quantity_basis)]

# --- unit strings the tables print ------------------------------------------------------------------------
KM2 = "km²"
PERCENT = "%"
WAN_YUAN_PER_KM2 = "万元/km²"           # indicator 10

__all__ = [
    "CARBON_BASES", "CM2_PER_KM2", "CM2_PER_M2", "CO2_PER_C", "G_PER_T", "HM2_PER_KM2", "KM2", "M2_PER_HM2",
    "M2_PER_KM2", "MOLAR_MASS_C", "MOLAR_MASS_CO2", "MOLAR_MASS_O2", "MONEY_UNITS", "M3_PER_MM_M2", "O2_PER_CO2",
    "PERCENT", "WAN_YUAN_PER_KM2", "YUAN_PER_WAN", "YUAN_PER_YI", "carbon_basis", "price_on_basis",
    "tonnes_on_basis",
]
