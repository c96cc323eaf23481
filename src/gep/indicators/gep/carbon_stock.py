"""Carbon storage by land-cover class (InVEST Carbon-like; docs/methods.md §4.3), per region and year.

    storage(region, year, pool) = Σ_class area_ha(class) × density(class, pool)      (t C)

with four pools (above-ground, below-ground, soil, dead organic matter; t C/ha per class) from a parameter
file (``src/gep/data/parameters/carbon_pools_clcd.yaml``, status P: illustrative values). Areas come from the
published ``landcover_area`` table, i.e. exact ellipsoidal areas of the land-cover cells inside each region;
the same per-class engine as InVEST Carbon, so it is an exact check of the area accounting. The change is
against the previous accounted year of the same region (NaN for the first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gep.core.errors import InputError
from gep.indicators.gep.params import POOLS, ClassTable

KM2_TO_HA = 100.0  # 1 km² = 100 ha

UNITS = {"area_km2": "km2 (ellipsoidal)", **{f"c_{p}_t": "t C" for p in POOLS}, "c_total_t": "t C",
         "c_total_t_per_ha": "t C/ha", "change_t": "t C (vs previous accounted year)",
         "change_co2_t": "t CO2 equivalent (change × 44/12)", "change_pct": "%"}


def carbon_stock(landcover_area: pd.DataFrame, pools: ClassTable, co2_per_c: float = 44.0 / 12.0) -> pd.DataFrame:
    """Carbon storage (t C) per region × year in each pool and in total, and its change between years.

    Raises InputError naming the parameter file and every land-cover code with area but no row.
    """
    lca = landcover_area.copy()
    lca["lc_code"] = pd.to_numeric(lca["lc_code"], errors="coerce").astype("Int64")
    present = lca.loc[(lca["area_km2"] > 0) & lca["lc_code"].notna(), "lc_code"].unique()
    missing = sorted(int(c) for c in present if int(c) not in pools.values["soil"])
    if missing:
        raise InputError(f"{pools.file.path}: land-cover code(s) {', '.join(map(str, missing))} have area but no "
                         f"carbon-density row; add them (t C/ha for above, below, soil, dead)")
    lca = lca[lca["lc_code"].notna()].copy()
    area_ha = lca["area_km2"].to_numpy(dtype=np.float64) * KM2_TO_HA
    codes = lca["lc_code"].astype(np.int64).to_numpy()
    for pool in POOLS:
        dens = np.array([pools.values[pool].get(int(c), 0.0) for c in codes])
        lca[f"c_{pool}_t"] = area_ha * dens
    keys = ["region_code", "region_name", "year"]
    cols = ["area_km2"] + [f"c_{p}_t" for p in POOLS]
    out = lca.groupby(keys, as_index=False, sort=True)[cols].sum()
    out["c_total_t"] = out[[f"c_{p}_t" for p in POOLS]].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["c_total_t_per_ha"] = np.where(out["area_km2"] > 0, out["c_total_t"] / (out["area_km2"] * KM2_TO_HA),
                                           np.nan)
    out = out.sort_values(["region_code", "year"], kind="stable").reset_index(drop=True)
    prev = out.groupby("region_code")["c_total_t"].shift(1)
    out["change_t"] = out["c_total_t"] - prev
    out["change_co2_t"] = out["change_t"] * co2_per_c
    with np.errstate(invalid="ignore", divide="ignore"):
        out["change_pct"] = np.where(prev > 0, out["change_t"] / prev * 100.0, np.nan)
    return out
