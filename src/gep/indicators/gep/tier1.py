"""Tier 1: the equivalent-factor method (Xie Gaodi et al. 2015; docs/methods.md §4.1), from land-cover areas.

For every region × year × service s::

    quantity(s) = Σ_class Σ_type area_hm²(class) × share(class → type) × factor(type, s) × regulator(s)
    value(s)    = quantity(s) × E(year)

``quantity`` is in standard-equivalent hectares (当量·hm²); E is the value of one standard equivalent
(元/hm², 3406.50 for 2010 in the shipped file [V2]), brought to the accounting year's prices by the deflator
(:mod:`gep.indicators.gep.accounts`). Regulators are the local/national ratios of NPP, precipitation and soil
conservation (1 when not configured) of each region and year.

The sum of all 11 services is an ecosystem service value (ESV, 生态系统服务价值), not GEP: it includes the
supporting services (:data:`OUTSIDE_GEP`), which GEP leaves out; Tier 1 standing in for GEP counts the others only.

Inputs are the published ``landcover_area`` table (region_code, region_name, year, lc_code, area_km2):
areas are already exact ellipsoidal areas, so Tier 1 needs no raster pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gep.core.errors import InputError
from gep.indicators.gep.params import EcosystemMap, EquivalentFactors

KM2_TO_HM2 = 100.0  # 1 km² = 100 hm²
QUANTITY_UNIT = "当量·hm² (standard-equivalent hectares)"
METHOD = "Tier 1 equivalent factors (Xie et al. 2015): Σ area_hm² × factor × regulator × E"
#: factor-table categories that GEP leaves out: supporting services are counted in the ecosystem service value
#: (ESV) of the equivalent-factor method, but GEP omits them to avoid double counting (docs/methods.md §4.1)
OUTSIDE_GEP = ("supporting",)
OUTSIDE_GEP_NOTE = "supporting service: counted in the ESV (esv_yuan), outside GEP (double counting)"


def type_areas(landcover_area: pd.DataFrame, eco_map: EcosystemMap) -> pd.DataFrame:
    """Area (hm²) per region × year × ecosystem type from land-cover class areas and the class → type map.

    Raises InputError naming every land-cover code with area that the map does not list.
    """
    lca = landcover_area.copy()
    lca["lc_code"] = pd.to_numeric(lca["lc_code"], errors="coerce")
    bad = lca["lc_code"].isna()
    if bad.any():
        raise InputError(f"landcover_area: lc_code values {sorted(set(landcover_area.loc[bad, 'lc_code']))[:10]} "
                         f"are not class codes; pass the published landcover_area table (no nodata rows)")
    lca["lc_code"] = lca["lc_code"].astype(np.int64)
    present = lca.loc[lca["area_km2"] > 0, "lc_code"].unique()
    missing = sorted(int(c) for c in present if int(c) not in eco_map.classes)
    if missing:
        raise InputError(f"{eco_map.file.path}: land-cover code(s) {', '.join(map(str, missing))} have area but "
                         f"no ecosystem type; add them to the map (types: {{}} for value 0)")
    rows = []
    for code, shares in eco_map.classes.items():
        for typ, share in shares.items():
            rows.append((code, typ, share))
    link = pd.DataFrame(rows, columns=["lc_code", "eco_type", "share"])
    merged = lca.merge(link, on="lc_code", how="inner")
    merged["area_hm2"] = merged["area_km2"] * KM2_TO_HM2 * merged["share"]
    keys = ["region_code", "region_name", "year", "eco_type"]
    out = merged.groupby(keys, as_index=False, sort=True)["area_hm2"].sum()
    return out


def tier1_quantities(landcover_area: pd.DataFrame, factors: EquivalentFactors, eco_map: EcosystemMap,
                     regulators: pd.DataFrame | None = None) -> pd.DataFrame:
    """Standard-equivalent hectares per region × year × service (the 11 services of the factor file).

    ``regulators`` (optional) has columns region_code, year and any of npp, precipitation, soil_conservation
    (ratios, dimensionless); missing ratios are 1. Raises InputError when a class with area maps to a type
    that is not in the factor file or whose row is empty (null), naming the row and the file to fill in.
    """
    areas = type_areas(landcover_area, eco_map)
    used = areas.loc[areas["area_hm2"] > 0, "eco_type"].unique()
    unknown = sorted(t for t in used if t not in factors.factors)
    if unknown:
        raise InputError(f"{eco_map.file.path}: ecosystem type(s) {', '.join(unknown)} are not rows of "
                         f"{factors.file.path}; use one of {', '.join(factors.factors)}")
    empty = sorted(t for t in used if factors.factors[t] is None)
    if empty:
        classes = sorted({c for c, s in eco_map.classes.items() for t in s if t in empty})
        raise InputError(f"{factors.file.path}: row(s) {', '.join(empty)} are empty but land-cover code(s) "
                         f"{', '.join(map(str, classes))} map to them with non-zero area; fill in the row(s) in "
                         f"{factors.file.path} (or your copy of it), or map the class elsewhere in "
                         f"{eco_map.file.path} / gep.tier1.class_types")
    keys = ["region_code", "region_name", "year"]
    nserv = len(factors.services)
    if areas.empty:
        return pd.DataFrame(columns=keys + ["service", "service_zh", "category", "quantity"])
    fmat = np.vstack([factors.factors[t] if factors.factors.get(t) is not None else np.zeros(nserv)
                      for t in areas["eco_type"]])
    weighted = fmat * areas["area_hm2"].to_numpy()[:, None]
    wide = pd.concat([areas[keys].reset_index(drop=True),
                      pd.DataFrame(weighted, columns=[s.key for s in factors.services])], axis=1)
    per_region = wide.groupby(keys, as_index=False, sort=True).sum(numeric_only=True)
    # land-cover rows present with zero mapped area (e.g. only built-up land) still give rows of 0
    base = landcover_area[keys].drop_duplicates()
    per_region = base.merge(per_region, on=keys, how="left").fillna({s.key: 0.0 for s in factors.services})
    long = per_region.melt(id_vars=keys, var_name="service", value_name="quantity")
    info = pd.DataFrame([(s.key, s.name_zh, s.category, s.regulator) for s in factors.services],
                        columns=["service", "service_zh", "category", "regulator"])
    long = long.merge(info, on="service", how="left")
    long["ratio"] = 1.0
    if regulators is not None and len(regulators):
        reg = regulators.copy()
        reg["year"] = reg["year"].astype(int)
        for name in ("npp", "precipitation", "soil_conservation"):
            if name not in reg.columns:
                continue
            r = reg[["region_code", "year", name]].rename(columns={name: "_r"})
            m = long.merge(r, on=["region_code", "year"], how="left")
            use = (m["regulator"] == name) & m["_r"].notna()
            long.loc[use.to_numpy(), "ratio"] = m.loc[use, "_r"].to_numpy()
    long["quantity"] = long["quantity"].astype(float) * long["ratio"]
    order = {s.key: i for i, s in enumerate(factors.services)}
    long["_o"] = long["service"].map(order)
    long = long.sort_values(keys + ["_o"], kind="stable").drop(columns=["_o", "regulator"])
    return long.reset_index(drop=True)
