"""Conversion constants and unit strings used across gep, each defined once.

Areas are summed as integer cm² (exact for any chunking) and published in km²; money is computed in 元 and
published in 万元 (indicator 10: 万元/km²) or read in 元/万元/亿元; carbon is counted in t C and valued as
t CO₂. Divide by a ``X_PER_Y`` constant to go from X to Y (``area_cm2 / CM2_PER_KM2`` is km²), multiply to
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

# --- unit strings the tables print ------------------------------------------------------------------------
KM2 = "km²"
PERCENT = "%"
WAN_YUAN_PER_KM2 = "万元/km²"           # indicator 10

__all__ = [
    "CM2_PER_KM2", "CM2_PER_M2", "CO2_PER_C", "G_PER_T", "HM2_PER_KM2", "KM2", "M2_PER_HM2", "M2_PER_KM2",
    "MOLAR_MASS_C", "MOLAR_MASS_CO2", "MOLAR_MASS_O2", "MONEY_UNITS", "M3_PER_MM_M2", "O2_PER_CO2", "PERCENT",
    "WAN_YUAN_PER_KM2", "YUAN_PER_WAN", "YUAN_PER_YI",
]
