"""Prices, constant prices, GEP per region and year, and the 稳定提高 verdict of indicator 10.

Prices. A priced row has a unit price of its *price year* (the price table's ``base_year``, or the year of
E for Tier 1). With the deflator index D (year → index, any base):

- current prices of accounting year Y:   unit_price(Y) = price × D(Y) / D(price year)
- constant prices of year B:             unit_price_B  = price × D(B) / D(price year)

Statistics rows arrive as values in current prices of their own year Y: constant value = value × D(B)/D(Y).
B is ``GepConfig.constant_price_year`` (default: the price table's base year). Every year used must be in
the deflator table, else InputError. Deflating with one general index is our proposal [P] (docs/methods.md §4).

GEP(region, year) = Σ value_yuan of the rows of the chosen tier (Tier 1: the equivalent-factor services
without the supporting ones; Tier 2: the biophysical regulating services + the statistics rows). When Tier 1
is run, ESV(region, year) = Σ value_yuan of all 11 equivalent-factor services (current prices), reported beside
GEP (docs/methods.md §4.1). Indicator 10 = GEP / land area, in
万元/km² (1 万元 = 10⁴ 元). The verdict compares the constant-price GEP per km² across years [P]:

- ``previous``: a year is 达标 when its change against the previous accounted year, rounded, is > 0 and
  ≥ ``min_change_pct`` (:func:`gep.indicators.judgement.improved`: an unchanged value is no improvement);
- ``monotone``: a year is 达标 when every step from the first accounted year up to it passes that test.

The first accounted year has no comparison: verdict 无数据, change_pct empty.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from gep.indicators.gep.params import Deflator
from gep.indicators.gep.tier1 import OUTSIDE_GEP
from gep.indicators.gep.profiles import PROVISIONAL
from gep.indicators.judgement import MET, NO_DATA, NOT_COMPUTED, NOT_MET, improved

YUAN_PER_WAN = 1e4  # 1 万元 = 10,000 元

SERVICE_COLUMNS = ["region_code", "region_name", "year", "service", "tier", "quantity", "quantity_unit",
                   "unit_price", "price_unit", "value_yuan", "method", "source", "service_zh", "category",
                   "value_constant_yuan", "constant_price_year", "price_record", "status"]

SERVICE_UNITS = {"quantity": "see quantity_unit", "unit_price": "yuan per quantity_unit, current prices of year",
                 "value_yuan": "yuan, current prices of year", "value_constant_yuan": "yuan, constant prices of "
                 "constant_price_year", "year": "calendar year",
                 "price_record": "every price record used: value, unit, price year, region, status",
                 "status": "weakest mark (V > V2 > P > DEMO) of the prices, parameter files, tables and deflator used"}

SUMMARY_COLUMNS = ["region_code", "region_name", "year", "gep_yuan", "gep_constant_yuan", "land_area_km2",
                   "gep_per_km2_wan_yuan", "change_pct", "verdict", "gep_constant_per_km2_wan_yuan",
                   "constant_price_year", "gep_scope", "verdict_rule", "esv_yuan", "esv_per_km2_wan_yuan",
                   "provisional", "profile"]

SUMMARY_UNITS = {"gep_yuan": "yuan, current prices", "gep_constant_yuan": "yuan, constant prices",
                 "land_area_km2": "km2 (ellipsoidal area of the region polygon)",
                 "gep_per_km2_wan_yuan": "10^4 yuan per km2, current prices",
                 "gep_constant_per_km2_wan_yuan": "10^4 yuan per km2, constant prices",
                 "change_pct": "% change of constant-price GEP per km2 vs the previous accounted year",
                 "esv_yuan": "yuan, current prices: ESV 生态系统服务价值, all 11 Tier-1 services (supporting included)",
                 "esv_per_km2_wan_yuan": "10^4 yuan per km2, current prices: ESV 生态系统服务价值 (Tier 1)",

                 "provisional": "services of the GEP whose status is P or DEMO",
                 "profile": "GEP profile (or price table) that priced the services"}

VERDICT_OK, VERDICT_FAIL, VERDICT_NONE, VERDICT_NOT_COMPUTED = MET, NOT_MET, NO_DATA, NOT_COMPUTED


def required_years(rows: pd.DataFrame, constant_year: int) -> set[int]:
    """Every year whose deflator the pricing needs: accounting years, price years, the constant-price year."""
    years = {int(y) for y in rows["year"].unique()}
    years |= {int(y) for y in rows["price_year"].dropna().unique()}
    years.add(int(constant_year))
    return years


def apply_prices(rows: pd.DataFrame, deflator: Deflator, constant_year: int) -> pd.DataFrame:
    """Turn service rows into the ``gep_services`` table (current and constant prices).

    ``rows`` columns: region_code, region_name, year, service, service_zh, category, tier, quantity,
    quantity_unit, base_price (yuan per unit in prices of price_year; NaN for statistics), price_year,
    price_unit, given_value_yuan (statistics: current-price value; NaN otherwise), method, source.
    """
    deflator.require(required_years(rows, constant_year),
                     "needed for current/constant prices: accounting years, price years and the constant-price year")
    out = rows.copy()
    for col in ("price_record", "status"):
        if col not in out.columns:
            out[col] = ""
    idx = deflator.index
    d_year = out["year"].map(lambda y: idx[int(y)]).astype(float)
    d_const = float(idx[int(constant_year)])
    priced = out["base_price"].notna()
    d_price = out["price_year"].where(priced).map(lambda y: idx[int(y)] if pd.notna(y) else np.nan).astype(float)
    unit_current = out["base_price"] * d_year / d_price
    out["unit_price"] = np.where(priced, unit_current, np.nan)
    out["value_yuan"] = np.where(priced, out["quantity"] * unit_current, out["given_value_yuan"])
    out["value_constant_yuan"] = np.where(priced, out["quantity"] * out["base_price"] * d_const / d_price,
                                          out["given_value_yuan"] * d_const / d_year)
    # statistics rows with a quantity: implied unit price (value / quantity), for information
    implied = (~priced) & out["quantity"].notna() & (out["quantity"] > 0)
    out.loc[implied, "unit_price"] = out.loc[implied, "value_yuan"] / out.loc[implied, "quantity"]
    out.loc[implied, "price_unit"] = "元/" + out.loc[implied, "quantity_unit"].astype(str) + " (implied)"
    out["constant_price_year"] = int(constant_year)
    out = out.sort_values(["region_code", "year", "tier", "category", "service"], kind="stable")
    return out[SERVICE_COLUMNS].reset_index(drop=True)


def verdicts(change_pct: pd.Series, first: pd.Series, rule: Literal["previous", "monotone"],
             min_change_pct: float, region: pd.Series) -> list[str]:
    """Verdict per row (rows sorted by region, year); see the module docstring."""
    out = []
    ok_so_far: dict = {}
    for ch, is_first, reg in zip(change_pct, first, region):
        if is_first:
            out.append(VERDICT_NONE)
            ok_so_far[reg] = True
            continue
        if pd.isna(ch):
            out.append(VERDICT_NOT_COMPUTED)
            ok_so_far[reg] = False
            continue
        step_ok = improved(ch, min_change_pct)  # rounded change > 0 and ≥ min_change_pct (docs/methods.md §5)
        if rule == "monotone":
            ok_so_far[reg] = ok_so_far.get(reg, True) and step_ok
            out.append(VERDICT_OK if ok_so_far[reg] else VERDICT_FAIL)
        else:
            out.append(VERDICT_OK if step_ok else VERDICT_FAIL)
    return out


def summarise(services: pd.DataFrame, land_area: pd.DataFrame, *, tier: int, region_names: pd.DataFrame,
              years, rule: Literal["previous", "monotone"] = "previous", min_change_pct: float = 0.0,
              constant_year: int, climate: str | None = None, profile: str = "",
              not_accounted: str = "") -> pd.DataFrame:
    """``gep_summary``: GEP per region × year in current and constant prices, per km², change and verdict, and
    the Tier-1 ESV (all 11 equivalent-factor services, current prices; NaN when Tier 1 was not run).

    ``land_area`` has region_code, land_area_km2; ``region_names`` has region_code, region_name. Every region
    × year gets a row (GEP NaN and verdict 暂未核算 where no service row exists). ``climate``: the fixed-climate
    note (``GepConfig.climate_note``), appended to gep_scope and verdict_rule when the weather inputs were held
    at their mean (docs/methods.md §4.6).
    """
    sel = gep_rows(services, tier)
    scope = "+".join(sorted(sel["category"].dropna().unique())) or "none"
    g = sel.groupby(["region_code", "year"], as_index=False)[["value_yuan", "value_constant_yuan"]].sum(min_count=1)
    g = g.rename(columns={"value_yuan": "gep_yuan", "value_constant_yuan": "gep_constant_yuan"})
    esv = services[services["tier"] == 1].groupby(["region_code", "year"], as_index=False)["value_yuan"].sum(
        min_count=1).rename(columns={"value_yuan": "esv_yuan"})
    grid = region_names[["region_code", "region_name"]].drop_duplicates("region_code").merge(
        pd.DataFrame({"year": sorted(int(y) for y in years)}), how="cross")
    out = grid.merge(g, on=["region_code", "year"], how="left").merge(land_area, on="region_code", how="left")
    out = out.merge(esv, on=["region_code", "year"], how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["gep_per_km2_wan_yuan"] = out["gep_yuan"] / out["land_area_km2"] / YUAN_PER_WAN
        out["gep_constant_per_km2_wan_yuan"] = out["gep_constant_yuan"] / out["land_area_km2"] / YUAN_PER_WAN
        out["esv_per_km2_wan_yuan"] = out["esv_yuan"] / out["land_area_km2"] / YUAN_PER_WAN
    out = out.sort_values(["region_code", "year"], kind="stable").reset_index(drop=True)
    prev = out.groupby("region_code")["gep_constant_per_km2_wan_yuan"].shift(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["change_pct"] = np.where(prev.abs() > 0,
                                     (out["gep_constant_per_km2_wan_yuan"] - prev) / prev.abs() * 100.0, np.nan)
    first = out.groupby("region_code").cumcount() == 0
    out["verdict"] = verdicts(out["change_pct"], first, rule, min_change_pct, out["region_code"])
    missing = out["gep_constant_yuan"].isna()
    out.loc[missing, "verdict"] = VERDICT_NOT_COMPUTED
    out["constant_price_year"] = int(constant_year)
    climate_part = f"; {climate}" if climate else ""
    not_part = f"; not accounted: {not_accounted}" if not_accounted else ""
    out["gep_scope"] = f"{TIER_LABELS[tier]}: {scope}{not_part}{climate_part}"
    out["verdict_rule"] = f"{rule}, change > 0 and ≥ {min_change_pct:g}% (constant prices){climate_part}"
    out["provisional"] = _provisional(sel, out)
    out["profile"] = profile
    return out[SUMMARY_COLUMNS]


#: how ``gep_scope`` names the tier GEP sums (Tier 1 is an ESV without its supporting services)
TIER_LABELS = {1: "tier 1 (equivalent factors, ESV without supporting services)", 2: "tier 2"}


def gep_rows(services: pd.DataFrame, tier: int) -> pd.DataFrame:
    """The ``gep_services`` rows GEP sums for ``tier``: Tier 1 without its supporting services (:data:`OUTSIDE_GEP`,
    counted in the ESV only), Tier 2 all of them."""
    sel = services[services["tier"] == tier]
    return sel[~sel["category"].isin(OUTSIDE_GEP)] if tier == 1 else sel


def _provisional(rows: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """Per summary row: the services of its GEP whose status is P or DEMO, ", "-joined ('' when none)."""
    if "status" not in rows.columns:
        return [""] * len(summary)
    flagged = rows[rows["status"].isin(PROVISIONAL)]
    names = flagged.groupby(["region_code", "year"])["service"].agg(lambda s: ", ".join(dict.fromkeys(s)))
    return [names.get((rc, y), "") for rc, y in zip(summary["region_code"], summary["year"])]
