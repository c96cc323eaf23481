"""防风固沙 sand fixation (docs/methods.md §4.2.11): RWEQ potential − actual wind erosion (Fryrear et al.),
kg/m²/a per cell; × 10⁻³ → t/a. For profiles of arid and semi-arid regions only (off by default).

    S_L = 2z/s² · Q_max · e^(−(z/s)²)                      (kg/m²; z field length, m)
    Q_max = 109.8 · (WF·EF·SCF·K'·C)                        (kg/m)
    s = 150.71 · (WF·EF·SCF·K'·C)^−0.3711                  (m)
    C = e^(−0.0438·FVC)  (FVC in %); potential erosion: C = 1

Sand fixed = S_L(potential) − S_L(actual), set to 0 where the vegetation would add erosion (the RWEQ curve is
not monotone for large factor products). Valued as the sand-covered land it spares: Q/(ρ·h) m² × sand-control
cost per m² (ρ 1.28 t/m³, h 0.1 m in the drafting group's account), i.e. cost/(ρ·h) per t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gep.config.gep_services import spec
from gep.indicators.gep.params import ParamFile, code_set, scalar
from gep.indicators.gep.services.base import (Block, ParamContext, Price, Service, Valuing, class_lookup,
                                              describe)


def rweq_loss_kg_m2(x, z_m: float, q_coef: float = 109.8, s_coef: float = 150.71, s_exp: float = -0.3711):
    """S_L (kg/m²) for the factor product x = WF·EF·SCF·K'·C (kg/m); 0 where x ≤ 0."""
    x = np.asarray(x, dtype=np.float64)
    pos = x > 0
    xs = np.where(pos, x, 1.0)
    q = q_coef * xs
    s = s_coef * np.power(xs, s_exp)
    out = 2.0 * z_m / s**2 * q * np.exp(-((z_m / s) ** 2))
    return np.where(pos, out, np.where(np.isnan(x), np.nan, 0.0))


def sand_fixation_kg_m2(lc, wf, ef, scf, k, fvc_pct, *, z_m, c_coef, include_codes, known_codes,
                        q_coef=109.8, s_coef=150.71, s_exp=-0.3711):
    """Potential − actual RWEQ loss (kg/m²/a), ≥ 0, on the included classes; 0 on other known classes."""
    known = class_lookup(lc, known_codes, np.zeros(len(known_codes)))
    base = (np.asarray(wf, dtype=np.float64) * np.asarray(ef, dtype=np.float64) * np.asarray(scf, dtype=np.float64)
            * np.asarray(k, dtype=np.float64))
    c = np.exp(-c_coef * np.asarray(fvc_pct, dtype=np.float64))
    fixed = (rweq_loss_kg_m2(base, z_m, q_coef, s_coef, s_exp)
             - rweq_loss_kg_m2(base * c, z_m, q_coef, s_coef, s_exp))
    fixed = np.where(fixed < 0, 0.0, fixed)  # NaN stays NaN
    inc = np.isin(np.asarray(lc), np.asarray(include_codes))
    return np.where(inc, fixed, known)


@dataclass(frozen=True)
class SandParams:
    file: ParamFile
    known: np.ndarray
    include_codes: list[int]
    z_m: float
    c_coef: float
    q_coef: float
    s_coef: float
    s_exp: float
    rho_t_m3: float
    depth_m: float


def load(ctx: ParamContext) -> SandParams:
    pf = ctx.file("sand")
    return SandParams(pf, np.asarray(ctx.scheme_codes, dtype=np.int64), code_set(pf, "classes")[0],
                      scalar(pf, "field_length_m", minimum=1e-9), scalar(pf, "c_coefficient", minimum=0.0),
                      scalar(pf, "qmax_coefficient", minimum=0.0), scalar(pf, "s_coefficient", minimum=1e-9),
                      scalar(pf, "s_exponent"), scalar(pf, "sand_bulk_density", minimum=1e-9),
                      scalar(pf, "sand_cover_depth", minimum=1e-9))


def density(block: Block, p: SandParams) -> np.ndarray:
    """kg/m²/a per cell from WF (kg/m), EF, SCF, K' (0–1) and FVC (%)."""
    return sand_fixation_kg_m2(block.lc, block["wind_factor"], block["erodible_fraction"], block["crust_factor"],
                               block["roughness_factor"], block["vegetation_cover"], z_m=p.z_m, c_coef=p.c_coef,
                               include_codes=p.include_codes, known_codes=p.known, q_coef=p.q_coef,
                               s_coef=p.s_coef, s_exp=p.s_exp)


def price(v: Valuing) -> Price:
    """Sand-control cost per m² ÷ (ρ·h): 元 per t of sand fixed (docs/methods.md §4.2.11)."""
    p = v.params
    cost, unit = v.prices.get("sand_control", "sand_fixation")
    return Price(cost / (p.rho_t_m3 * p.depth_m),
                 f"元/t (= {cost:g} {unit} ÷ ({p.rho_t_m3:g} t/m³ × {p.depth_m:g} m))")


def method(v: Valuing) -> str:
    p = v.params
    return (f"RWEQ S_L(C=1) − S_L(C=e^(−{p.c_coef:g}·FVC)), S_L = 2z/s²·Q_max·e^(−(z/s)²), z = {p.z_m:g} m, "
            f"kg/m² × 1e-3 → t; valued as Q/(ρ·h) m² × sand-control cost")


def source(v: Valuing) -> str:
    r = v.cfg.rasters
    return (f"{v.params.file.cite()}; {v.prices.file.cite()}; WF: {describe(r.wind_factor)}; "
            f"EF: {describe(r.erodible_fraction)}; SCF: {describe(r.crust_factor)}; "
            f"K': {describe(r.roughness_factor)}; FVC: {describe(r.vegetation_cover)}")


SERVICE = Service(spec("sand_fixation"), load=load, density=density, price=price, method=method, source=source)
