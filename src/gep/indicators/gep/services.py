"""Tier-2 regulating services as chunked raster math on the land-cover grid (METHODS.md §4.2).

Every service is a per-cell *density* (a quantity per unit area) computed block by block from the land-cover
codes and input rasters already on the land-cover grid (:mod:`gep.raster.resample`); region totals are
``gep.raster.zonal.zonal_sums`` (Σ density × exact covered ellipsoidal area, :mod:`.year_sums`) times a unit conversion:

================================  =====================================  ===========  =====================
service                           per-cell density                       raster unit  region total
================================  =====================================  ===========  =====================
water_conservation  水源涵养       Q = P − P·α(class) − ET                mm/a         × 10⁻³ → m³/a
soil_retention      土壤保持       A_c = R·K·LS·(1 − C·P)                 t/hm²/a      × 10⁻⁴ → t/a
carbon_sequestration 固碳          CO₂ = NPP × NEP/NPP × 44/12            g CO₂/m²/a   × 10⁻⁶ → t CO₂/a
oxygen_release      释氧           O₂ = CO₂ × 32/44                       g O₂/m²/a    × 10⁻⁶ → t O₂/a
climate_regulation  气候调节       E = ET·λ_v/3.6/COP × share × cooling   kWh/m²/a     × 1 → kWh/a
================================  =====================================  ===========  =====================

(1 mm over 1 m² is 10⁻³ m³; 1 t/hm² over 1 m² is 10⁻⁴ t; 1 g/m² over 1 m² is 10⁻⁶ t.)

Classes a parameter file leaves out (``alpha_pct: null``, ``include: false``, codes not listed for carbon or
climate) contribute 0 whatever the inputs there; land-cover nodata, codes without a parameter row and input
nodata give NaN, which ``zonal_sum`` leaves out of both the sum and the covered area (so coverage can be
checked).
"""

from __future__ import annotations

import dask.array as da
import numpy as np

#: service key → (name_zh, quantity unit, raster unit, factor from Σ density·m² to the quantity unit)
SERVICES = {
    "water_conservation": ("水源涵养", "m³", "mm", 1e-3),
    "soil_retention": ("土壤保持", "t", "t/hm²", 1e-4),
    "carbon_sequestration": ("固碳", "t CO₂", "g CO₂/m²", 1e-6),
    "oxygen_release": ("释氧", "t O₂", "g O₂/m²", 1e-6),
    "climate_regulation": ("气候调节", "kWh", "kWh/m²", 1.0),
}

#: unit conversions, spelled out (tests check them against hand arithmetic)
MM_M2_TO_M3 = 1e-3          # 1 mm of water over 1 m² = 0.001 m³
T_PER_HM2_M2_TO_T = 1e-4    # 1 t/hm² over 1 m² = 1e-4 t (1 hm² = 10,000 m²)
G_M2_TO_T = 1e-6            # 1 g/m² over 1 m² = 1e-6 t


def class_lookup(lc: np.ndarray, codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Value of each cell's class (float64); NaN for codes that are not in ``codes`` (nodata, unknown)."""
    lc = np.asarray(lc)
    codes = np.asarray(codes, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if lc.dtype.kind in "iu" and lc.dtype.itemsize == 1:
        # 256-entry table: one gather per cell
        table = np.full(256, np.nan)
        lo = 0 if lc.dtype.kind == "u" else -128
        ok = (codes >= lo) & (codes < lo + 256)
        table[codes[ok] - lo] = values[ok]
        return table[lc.astype(np.int16) - lo] if lo else table[lc]
    order = np.argsort(codes)
    sc, sv = codes[order], values[order]
    flat = lc.astype(np.int64)
    pos = np.clip(np.searchsorted(sc, flat), 0, max(len(sc) - 1, 0))
    if len(sc) == 0:
        return np.full(lc.shape, np.nan)
    return np.where(sc[pos] == flat, sv[pos], np.nan)


# ---------------------------------------------------------------------------------------------------------
# per-block kernels (plain numpy; also the reference for tests)


def water_conservation_mm(lc, precip_mm, et_mm, alpha_codes, alpha_values, *, clip_negative: bool = False):
    """Q = P − P·α − ET (mm/a) per cell; 0 where the class's α is NaN (not counted); NaN on nodata."""
    alpha = class_lookup(lc, alpha_codes, alpha_values)
    known = class_lookup(lc, alpha_codes, np.zeros(len(alpha_codes)))  # 0 for known codes, NaN otherwise
    p = np.asarray(precip_mm, dtype=np.float64)
    et = np.asarray(et_mm, dtype=np.float64)
    q = p - p * alpha - et
    if clip_negative:
        q = np.maximum(q, 0.0)  # NaN stays NaN
    return np.where(np.isnan(alpha), known, q)


def soil_retention_t_hm2(lc, r, k, ls, cp_codes, c_values, p_values, include_values):
    """A_c = R·K·LS·(1 − C·P) (t/hm²/a) per cell = InVEST's avoided erosion RKLS − USLE; 0 where excluded."""
    c = class_lookup(lc, cp_codes, c_values)
    p = class_lookup(lc, cp_codes, p_values)
    inc = class_lookup(lc, cp_codes, include_values)
    rkls = np.asarray(r, dtype=np.float64) * np.asarray(k, dtype=np.float64) * np.asarray(ls, dtype=np.float64)
    out = rkls * (1.0 - c * p)
    return np.where(inc == 0, 0.0, out)  # inc NaN (unknown code) → out stays NaN via c, p


def carbon_co2_g_m2(lc, npp_gc_m2, nep_npp_ratio, co2_per_c, include_codes, known_codes):
    """CO₂ = NPP × NEP/NPP × 44/12 (g CO₂/m²/a) for included classes, 0 for other known classes."""
    known = class_lookup(lc, known_codes, np.zeros(len(known_codes)))
    inc = np.isin(np.asarray(lc), np.asarray(include_codes))
    co2 = np.asarray(npp_gc_m2, dtype=np.float64) * nep_npp_ratio * co2_per_c
    return np.where(inc, co2, known)


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


def kwh_per_mm(latent_heat_mj_kg: float, water_density: float, mj_per_kwh: float, cop: float,
               cooling_share: float) -> float:
    """kWh of air-conditioning electricity per mm of water evaporated over 1 m².

    1 mm over 1 m² = 10⁻³ m³ = 10⁻³ × ρ_w kg; heat = that × λ_v (MJ); electricity = heat / 3.6 / COP.
    """
    return 1e-3 * water_density * latent_heat_mj_kg / mj_per_kwh / cop * cooling_share


# ---------------------------------------------------------------------------------------------------------
# lazy versions on the land-cover grid


def _blockwise(func, lc: da.Array, *arrays: da.Array, **kwargs) -> da.Array:
    """Apply a kernel block by block to the land cover and inputs aligned with it (float32 result)."""
    arrays = [a.rechunk(lc.chunks) for a in arrays]

    def run(lc_block, *blocks):
        return func(lc_block, *blocks, **kwargs).astype(np.float32)

    return da.map_blocks(run, lc, *arrays, dtype=np.float32, meta=np.array((), dtype=np.float32))


def _mask_lc_nodata(values: da.Array, lc: da.Array, nodata) -> da.Array:
    if nodata is None:
        return values
    return da.where(lc == nodata, np.float32(np.nan), values)


def water_conservation(lc: da.Array, precip: da.Array, et: da.Array, alpha_codes, alpha_values, *,
                       lc_nodata=None, clip_negative: bool = False) -> da.Array:
    """Lazy Q (mm/a) on the land-cover grid; see :func:`water_conservation_mm`."""
    out = _blockwise(water_conservation_mm, lc, precip, et, alpha_codes=alpha_codes, alpha_values=alpha_values,
                     clip_negative=clip_negative)
    return _mask_lc_nodata(out, lc, lc_nodata)


def soil_retention(lc: da.Array, r: da.Array, k: da.Array, ls: da.Array, cp_codes, c_values, p_values,
                   include_values, *, lc_nodata=None) -> da.Array:
    """Lazy A_c (t/hm²/a); see :func:`soil_retention_t_hm2`."""
    out = _blockwise(soil_retention_t_hm2, lc, r, k, ls, cp_codes=cp_codes, c_values=c_values,
                     p_values=p_values, include_values=include_values)
    return _mask_lc_nodata(out, lc, lc_nodata)


def carbon_sequestration(lc: da.Array, npp: da.Array, nep_npp_ratio: float, co2_per_c: float, include_codes,
                         known_codes, *, lc_nodata=None) -> da.Array:
    """Lazy CO₂ fixed (g CO₂/m²/a); see :func:`carbon_co2_g_m2`."""
    out = _blockwise(carbon_co2_g_m2, lc, npp, nep_npp_ratio=nep_npp_ratio, co2_per_c=co2_per_c,
                     include_codes=include_codes, known_codes=known_codes)
    return _mask_lc_nodata(out, lc, lc_nodata)


def climate_regulation(lc: da.Array, et: da.Array, evap: da.Array, per_mm: float, veg_codes, veg_share,
                       water_codes, water_share, known_codes, *, lc_nodata=None) -> da.Array:
    """Lazy cooling energy (kWh/m²/a); see :func:`climate_kwh_m2`."""
    out = _blockwise(climate_kwh_m2, lc, et, evap, kwh_per_mm=per_mm, veg_codes=veg_codes, veg_share=veg_share,
                     water_codes=water_codes, water_share=water_share, known_codes=known_codes)
    return _mask_lc_nodata(out, lc, lc_nodata)
