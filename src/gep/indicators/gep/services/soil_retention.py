"""土壤保持 soil retention (docs/methods.md §4.2.2): A_c = R·K·LS·(1 − C·P), t/hm²/a per cell; × 10⁻⁴ → t/a.

Valued as avoided dredging plus avoided N and P loss: price (元/t) = λ/ρ × p_dredging + c_N × p_N + c_P × p_P.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gep.config.gep_services import spec
from gep.hydrology.ls_factor import LsMethod
from gep.indicators.gep.params import ClassTable, ParamFile, load_usle_cp, scalar
from gep.indicators.gep.services.base import (Block, ParamContext, Price, Service, Valuing, class_lookup,
                                              describe)


def soil_retention_t_hm2(lc, r, k, ls, cp_codes, c_values, p_values, include_values):
    """A_c = R·K·LS·(1 − C·P) (t/hm²/a) per cell = InVEST's avoided erosion RKLS − USLE; 0 where excluded."""
    c = class_lookup(lc, cp_codes, c_values)
    p = class_lookup(lc, cp_codes, p_values)
    inc = class_lookup(lc, cp_codes, include_values)
    rkls = np.asarray(r, dtype=np.float64) * np.asarray(k, dtype=np.float64) * np.asarray(ls, dtype=np.float64)
    out = rkls * (1.0 - c * p)
    return np.where(inc == 0, 0.0, out)  # inc NaN (unknown code) → out stays NaN via c, p


@dataclass(frozen=True)
class SoilParams:
    """USLE C, P and include by class, and the valuation file (λ, ρ, c_N, c_P)."""

    usle: ClassTable
    valuation: ParamFile
    codes: np.ndarray
    c: np.ndarray
    p: np.ndarray
    include: np.ndarray


def load(ctx: ParamContext) -> SoilParams:
    usle = load_usle_cp(ctx.ref("usle_cp"), scheme_codes=ctx.scheme_codes)
    codes, c = usle.lut("c")
    _, p = usle.lut("p")
    _, inc = usle.lut("include")
    return SoilParams(usle, ctx.file("soil_valuation"), codes, c, p, inc)


def density(block: Block, p: SoilParams) -> np.ndarray:
    """t/hm²/a per cell from R, K and LS."""
    return soil_retention_t_hm2(block.lc, block["erosivity"], block["erodibility"], block["ls"], p.codes, p.c,
                                p.p, p.include)


def price(v: Valuing) -> Price:
    """λ/ρ × dredging + c_N × p_N + c_P × p_P, 元/t retained (docs/methods.md §4.2.2)."""
    pf = v.params.valuation
    lam = scalar(pf, "sediment_fraction", minimum=0.0, maximum=1.0)
    rho = scalar(pf, "bulk_density", minimum=1e-9)
    cn = scalar(pf, "soil_n_fraction", minimum=0.0, maximum=1.0)
    cp = scalar(pf, "soil_p_fraction", minimum=0.0, maximum=1.0)
    dredge, _ = v.prices.get("dredging", "soil_retention")
    pn, _ = v.prices.get("nitrogen", "soil_retention")
    pp, _ = v.prices.get("phosphorus", "soil_retention")
    return Price(lam / rho * dredge + cn * pn + cp * pp,
                 f"元/t (= λ/ρ × dredging + c_N × p_N + c_P × p_P = {lam:g}/{rho:g} × {dredge:g} + "
                 f"{cn:g} × {pn:g} + {cp:g} × {pp:g})")


def method(v: Valuing) -> str:
    ls = v.cfg.ls
    how = (f"LS raster given ({ls.path}) in place of gep's Desmet & Govers 1996 LS" if ls.path else
           f"{LsMethod.from_settings(ls).describe()} (gep.ls preset '{ls.preset}')")
    return ("A_c = R·K·LS·(1 − C·P) = RKLS − USLE (InVEST SDR avoided erosion), t/hm² × 1e-4/m² → t; "
            + how + "; valued as avoided dredging (λ/ρ) + N and P")


def source(v: Valuing) -> str:
    r = v.cfg.rasters
    return (f"{v.params.usle.file.cite()}; {v.params.valuation.cite()}; {v.prices.file.cite()}; "
            f"R: {describe(r.erosivity)}; K: {describe(r.erodibility)}; "
            f"LS: {Path(v.cfg.ls.path or v.dem_path).name}")


SERVICE = Service(spec("soil_retention"), load=load, density=density, price=price, method=method, source=source)
