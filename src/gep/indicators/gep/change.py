"""``gep_change``: the change of constant-price GEP between accounted years, item by item (docs/methods.md §4.9).

A reviewer who sees indicator 10 rise or fall asks which items moved it. For every region and every accounted
year Y whose previous year Y′ (the year before it in ``gep_summary``) also has GEP, and for every service of the
chosen tier:

    change (元)          = value_constant_yuan(Y) − value_constant_yuan(Y′)
    change per km² (万元) = change / land_area_km2 / 10⁴
    share (%)            = change / total change × 100      (empty when the total change rounds to 0.00 元)

A service with rows in one of the two years only counts 0 in the other. One ``total`` row per region and year
holds the sum of the items: it equals gep_constant_yuan(Y) − gep_constant_yuan(Y′) of ``gep_summary`` and,
per km², gep_constant_per_km2_wan_yuan(Y) − (Y′). Constant prices, so the change is one of quantities, not of
prices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gep.indicators.gep.accounts import YUAN_PER_WAN, gep_rows

#: ``service`` of the row holding the sum of the items of a region and year.
TOTAL = "total"
TOTAL_ZH = "合计（GEP）"

CHANGE_COLUMNS = ["region_code", "region_name", "year", "year_prev", "tier", "service", "service_zh", "category",
                  "value_constant_yuan", "value_constant_prev_yuan", "change_constant_yuan",
                  "change_per_km2_wan_yuan", "share_of_change_pct", "constant_price_year"]

CHANGE_UNITS = {"year": "calendar year", "year_prev": "calendar year",
                "value_constant_yuan": "yuan, constant prices of constant_price_year",
                "value_constant_prev_yuan": "yuan, constant prices of constant_price_year",
                "change_constant_yuan": "yuan, constant prices (year − year_prev)",
                "change_per_km2_wan_yuan": "10^4 yuan per km2, constant prices (year − year_prev)",
                "share_of_change_pct": "% of the region's total change (empty when the total change is 0)"}

# a total change below a fen (0.01 元) is no change: float noise must not give a share of ±10¹⁶ %
_ZERO_YUAN_DECIMALS = 2


def _item_values(services: pd.DataFrame, tier: int) -> pd.DataFrame:
    """Constant-price value per region × year × service that GEP sums for ``tier`` (the rows of
    :func:`gep.indicators.gep.accounts.gep_rows`: Tier 1 without its supporting services; rows of one service
    summed, NaN skipped, as :func:`gep.indicators.gep.accounts.summarise` does)."""
    sel = gep_rows(services[services["tier"].astype(int) == int(tier)], int(tier))
    keys = ["region_code", "year", "service"]
    values = sel.groupby(keys, as_index=False)["value_constant_yuan"].sum()
    labels = sel.drop_duplicates("service")[["service", "service_zh", "category"]]
    return values.merge(labels, on="service", how="left")


def _year_pairs(summary: pd.DataFrame) -> pd.DataFrame:
    """(region_code, year, year_prev, land_area_km2) for every year whose previous year in ``summary`` has GEP too
    (the pairs behind ``change_pct``)."""
    s = summary.sort_values(["region_code", "year"], kind="stable")
    prev_year = s.groupby("region_code")["year"].shift(1)
    prev_gep = s.groupby("region_code")["gep_constant_yuan"].shift(1)
    ok = prev_year.notna() & prev_gep.notna() & s["gep_constant_yuan"].notna()
    pairs = s.loc[ok, ["region_code", "region_name", "year", "land_area_km2", "constant_price_year"]].copy()
    pairs["year_prev"] = prev_year[ok].astype(int)
    return pairs


def gep_change(services: pd.DataFrame, summary: pd.DataFrame, *, tier: int) -> pd.DataFrame:
    """The ``gep_change`` table (see the module docstring) from ``gep_services`` and ``gep_summary``.

    ``services``: region_code, year, service, service_zh, category, tier, value_constant_yuan (元, constant
    prices). ``summary``: region_code, region_name, year, gep_constant_yuan, land_area_km2 (km²),
    constant_price_year. ``tier``: the tier whose items GEP sums (``GepConfig.gep_tier``). Rows sorted by region,
    year, category, service, with each region-year's ``total`` row last.
    """
    pairs = _year_pairs(summary)
    if pairs.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    items = _item_values(services, tier)
    now = items
    before = items[["region_code", "year", "service", "value_constant_yuan"]].rename(
        columns={"year": "year_prev", "value_constant_yuan": "value_constant_prev_yuan"})
    # every service of either year of a pair; the year it is absent from counts 0
    on_now = pairs.merge(now, on=["region_code", "year"], how="inner")
    on_before = pairs.merge(before, on=["region_code", "year_prev"], how="inner")
    keys = ["region_code", "year", "service"]
    rows = pd.concat([on_now[keys], on_before[keys]]).drop_duplicates()
    rows = rows.merge(pairs, on=["region_code", "year"], how="left")
    rows = rows.merge(now, on=keys, how="left").merge(before, on=["region_code", "year_prev", "service"], how="left")
    rows = _fill_labels(rows, items)
    rows[["value_constant_yuan", "value_constant_prev_yuan"]] = \
        rows[["value_constant_yuan", "value_constant_prev_yuan"]].fillna(0.0)
    rows["change_constant_yuan"] = rows["value_constant_yuan"] - rows["value_constant_prev_yuan"]
    rows["tier"] = int(tier)
    totals = _totals(rows)
    out = pd.concat([rows.assign(_last=0), totals.assign(_last=1)], ignore_index=True)
    out["change_per_km2_wan_yuan"] = out["change_constant_yuan"] / out["land_area_km2"] / YUAN_PER_WAN
    total_of = totals.set_index(["region_code", "year"])["change_constant_yuan"]
    whole = pd.Series(list(zip(out["region_code"], out["year"]))).map(total_of).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_of_change_pct"] = np.where(np.round(whole, _ZERO_YUAN_DECIMALS) != 0,
                                              out["change_constant_yuan"].to_numpy(dtype=float) / whole * 100.0,
                                              np.nan)
    out = out.sort_values(["region_code", "year", "_last", "category", "service"], kind="stable")
    out["year"] = out["year"].astype(int)
    return out[CHANGE_COLUMNS].reset_index(drop=True)


def _fill_labels(rows: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Chinese name and category of services present in the previous year only (the merge left them empty)."""
    labels = items.drop_duplicates("service").set_index("service")
    for col in ("service_zh", "category"):
        rows[col] = rows[col].fillna(rows["service"].map(labels[col]))
    return rows


def _totals(rows: pd.DataFrame) -> pd.DataFrame:
    """One ``total`` row per region and year: the sums of its items."""
    keys = ["region_code", "region_name", "year", "year_prev", "land_area_km2", "constant_price_year", "tier"]
    t = rows.groupby(keys, as_index=False, dropna=False)[
        ["value_constant_yuan", "value_constant_prev_yuan", "change_constant_yuan"]].sum()
    t["service"], t["service_zh"], t["category"] = TOTAL, TOTAL_ZH, ""
    return t


__all__ = ["CHANGE_COLUMNS", "CHANGE_UNITS", "TOTAL", "TOTAL_ZH", "gep_change"]
