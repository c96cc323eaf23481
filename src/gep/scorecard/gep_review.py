"""Indicator 10 as a reviewer needs it (docs/methods.md §5.4): scope, the items of the latest year summed over
the level's regions, which items rest on provisional (P) or demonstration (DEMO) values, and which items moved
the change against the previous accounted year.

Inputs are the published tables ``gep_summary``, ``gep_services`` and ``gep_change``; each may be missing, and
the columns ``gep_services.status`` / ``gep_summary.provisional`` / ``gep_summary.profile`` may be absent (tables
of an older gep): a row's status then comes from its ``source`` (``[DEMO]`` or ``DEMO`` → DEMO, ``[P]`` → P).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gep.indicators.gep.accounts import YUAN_PER_WAN
from gep.indicators.gep.change import TOTAL

#: Data statuses from the weakest to the strongest (docs/methods.md §4.8); P and DEMO are never official.
STATUS_ORDER = ("DEMO", "P", "V2", "V")
FLAGGED = ("DEMO", "P")
WARNING_HEAD = "注意：以下项目使用了暂定（P）或演示（DEMO）参数/价格，数值不可作为正式发布数据："
#: Items of the latest year's change listed by name (the largest changes); the rest form one 其他 row.
TOP_CHANGES = 5
TOTAL_ZH = "合计"
VARIES = "各区域不同"

ITEM_COLUMNS = ["service", "service_zh", "category", "quantity", "quantity_unit", "unit_price", "price_unit",
                "price_year", "value_wan_yuan", "value_constant_wan_yuan", "status", "source"]
#: Chinese headers of the per-item table (report and workbook).
ITEM_HEADERS = ["服务", "中文名", "类别", "功能量（合计）", "功能量单位", "单价", "单价单位", "单价年份（当年价）",
                "价值量（当年价，万元）", "价值量（可比价，万元）", "数据状态", "来源"]
CHANGE_COLUMNS = ["service", "service_zh", "category", "value_prev_wan_yuan", "value_wan_yuan",
                  "change_wan_yuan", "share_of_change_pct"]
CHANGE_HEADERS = ["服务", "中文名", "类别", "上一年价值量（可比价，万元）", "本年价值量（可比价，万元）",
                  "变化（可比价，万元）", "占总变化比例（%）"]
CATEGORY_ZH = {"provisioning": "物质产品", "material": "物质产品", "regulating": "调节服务", "cultural": "文化服务"}


@dataclass
class GepReview:
    """What the report and the workbook show of indicator 10 for one region level."""

    year: int | None                       # the latest year with item rows
    scope: list[str]                       # gep_summary.gep_scope values
    profiles: list[str]                    # gep_summary.profile values (empty: not recorded)
    warning: str | None                    # the P/DEMO warning, None when nothing rests on P or DEMO
    items: pd.DataFrame                    # ITEM_COLUMNS, last row the total; empty without gep_services
    n_regions: int                         # regions summed in ``items``
    change: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHANGE_COLUMNS))
    change_year_prev: int | None = None
    n_change_regions: int = 0              # regions with a change in ``year`` (both years accounted)
    change_per_km2_wan_yuan: float = float("nan")  # the level's total change / their land area


def row_status(services: pd.DataFrame) -> pd.Series:
    """Each row's data status: the ``status`` column where given, else read from ``source``."""
    src = services["source"].fillna("").astype(str) if "source" in services.columns else \
        pd.Series("", index=services.index)
    from_source = np.where(src.str.contains("DEMO", regex=False), "DEMO",
                           np.where(src.str.contains("[P]", regex=False), "P", ""))
    fallback = pd.Series(from_source, index=services.index)
    if "status" not in services.columns:
        return fallback
    given = services["status"].astype("string").str.strip().fillna("")
    return given.where(given != "", fallback).astype(str)


def weakest(statuses) -> str:
    """The weakest status among ``statuses`` (DEMO < P < V2 < V; '' when none is known)."""
    found = {str(s) for s in statuses if isinstance(s, str) and s}
    return next((s for s in STATUS_ORDER if s in found), next(iter(sorted(found)), ""))


def _provisional(summary: pd.DataFrame | None) -> set[str]:
    """Services named in ``gep_summary.provisional`` (", "-joined per row; empty when none)."""
    if summary is None or "provisional" not in summary.columns:
        return set()
    out: set[str] = set()
    for text in summary["provisional"].dropna().astype(str):
        out |= {s.strip() for s in text.split(",") if s.strip()}
    return out


def flagged_items(summary: pd.DataFrame | None, services: pd.DataFrame | None) -> list[str]:
    """'中文名 service（status）' for every service resting on P or DEMO values, sorted by service key."""
    flagged: dict[str, str] = {name: "P/DEMO" for name in _provisional(summary)}
    names: dict[str, str] = {}
    if services is not None and len(services):
        st = row_status(services)
        for service, g in st[st.isin(FLAGGED)].groupby(services["service"].astype(str)):
            flagged[service] = weakest(g)
        names = dict(zip(services["service"].astype(str), services.get("service_zh", services["service"]).astype(str)))
    return [f"{names[s]} {s}（{flagged[s]}）" if s in names and names[s] != s else f"{s}（{flagged[s]}）"
            for s in sorted(flagged)]


def warning_text(summary: pd.DataFrame | None, services: pd.DataFrame | None) -> str | None:
    """The Chinese warning naming the items that rest on P or DEMO values, or None."""
    items = flagged_items(summary, services)
    return WARNING_HEAD + "、".join(items) if items else None


def _tier(summary: pd.DataFrame | None, services: pd.DataFrame) -> int | None:
    """The tier GEP sums: from ``gep_scope`` ('tier 2: …'), else the only tier present, else None (all rows)."""
    if summary is not None and "gep_scope" in summary.columns:
        for scope in summary["gep_scope"].dropna().astype(str):
            m = re.match(r"\s*tier\s*(\d+)", scope)
            if m:
                return int(m.group(1))
    tiers = services["tier"].dropna().unique() if "tier" in services.columns else []
    return int(tiers[0]) if len(tiers) == 1 else None


def _one(values: pd.Series):
    """The value shared by every row, or None when the rows differ (or all are empty)."""
    v = values.dropna().unique()
    return v[0] if len(v) == 1 and values.notna().all() else None


def _item_row(service: str, g: pd.DataFrame, status: pd.Series, year: int) -> dict:
    """One item of the level: quantities summed only when every row has one, in one unit."""
    unit = _one(g["quantity_unit"].astype("string").replace("", pd.NA)) if "quantity_unit" in g else None
    same_unit = unit is not None and g["quantity"].notna().all()
    price = _one(g["unit_price"]) if "unit_price" in g else None
    price_unit = _one(g["price_unit"].astype("string").replace("", pd.NA)) if "price_unit" in g else None
    priced = "unit_price" in g and g["unit_price"].notna().any()
    sources = sorted({str(s) for s in g.get("source", pd.Series(dtype=str)).dropna() if str(s)})
    # the price's own record (value, year, region, source) where the table keeps it: the reviewer's next question
    records = sorted({str(s) for s in g.get("price_record", pd.Series(dtype=str)).dropna() if str(s)})
    sources += [f"价格记录：{r}" for r in records]
    category = str(g["category"].iloc[0]) if "category" in g else ""
    return {"service": service, "service_zh": str(g["service_zh"].iloc[0]) if "service_zh" in g else service,
            "category": CATEGORY_ZH.get(category, category),
            "quantity": float(g["quantity"].sum()) if same_unit else np.nan,
            "quantity_unit": str(unit) if unit is not None else (VARIES if g["quantity"].notna().any() else ""),
            "unit_price": float(price) if price is not None else np.nan,
            "price_unit": str(price_unit) if price_unit is not None else (VARIES if priced else ""),
            "price_year": year if priced else None,
            "value_wan_yuan": g["value_yuan"].sum(min_count=1) / YUAN_PER_WAN,
            "value_constant_wan_yuan": g["value_constant_yuan"].sum(min_count=1) / YUAN_PER_WAN
            if "value_constant_yuan" in g else np.nan,
            "status": weakest(status.loc[g.index]), "source": "；".join(sources)}


def level_items(services: pd.DataFrame, summary: pd.DataFrame | None, year: int) -> pd.DataFrame:
    """The items of ``year`` summed over the level's regions (ITEM_COLUMNS), sorted by category and service,
    with a last 合计 row. Only the rows of the tier GEP sums (see :func:`_tier`)."""
    rows = services[services["year"].astype(int) == int(year)]
    tier = _tier(summary, services)
    if tier is not None:
        rows = rows[rows["tier"].astype(int) == tier]
    status = row_status(rows)
    rows = rows.sort_values(["category", "service"], kind="stable")
    out = [_item_row(str(s), g, status, int(year)) for s, g in rows.groupby("service", sort=False)]
    total = {c: None for c in ITEM_COLUMNS}
    total.update(service=TOTAL, service_zh=TOTAL_ZH,
                 value_wan_yuan=rows["value_yuan"].sum(min_count=1) / YUAN_PER_WAN,
                 value_constant_wan_yuan=rows["value_constant_yuan"].sum(min_count=1) / YUAN_PER_WAN,
                 status=weakest(status))
    return pd.DataFrame(out + [total], columns=ITEM_COLUMNS)


def level_change(change: pd.DataFrame, year: int, *, top: int = TOP_CHANGES) -> pd.DataFrame:
    """The level's change of ``year`` by item (CHANGE_COLUMNS, 万元 at constant prices): the ``top`` largest
    changes (by size), one 其他 row for the rest, a last 合计 row; shares of the level's total change."""
    rows = change[change["year"].astype(int) == int(year)]
    items = rows[rows["service"] != TOTAL]
    g = items.groupby("service", sort=True).agg(
        service_zh=("service_zh", "first"), category=("category", "first"),
        value_prev_wan_yuan=("value_constant_prev_yuan", "sum"), value_wan_yuan=("value_constant_yuan", "sum"),
        change_wan_yuan=("change_constant_yuan", "sum")).reset_index()
    g[["value_prev_wan_yuan", "value_wan_yuan", "change_wan_yuan"]] /= YUAN_PER_WAN
    g["category"] = g["category"].map(lambda c: CATEGORY_ZH.get(str(c), str(c)))
    g = g.iloc[np.argsort(-g["change_wan_yuan"].abs().to_numpy(), kind="stable")]
    head, rest = g.iloc[:top], g.iloc[top:]
    parts = [head]
    if len(rest):
        parts.append(pd.DataFrame([{"service": "other", "service_zh": f"其他 {len(rest)} 项", "category": "",
                                    **{c: rest[c].sum() for c in ("value_prev_wan_yuan", "value_wan_yuan",
                                                                  "change_wan_yuan")}}]))
    total = {"service": TOTAL, "service_zh": TOTAL_ZH, "category": "",
             **{c: g[c].sum() for c in ("value_prev_wan_yuan", "value_wan_yuan", "change_wan_yuan")}}
    out = pd.concat(parts + [pd.DataFrame([total])], ignore_index=True)
    whole = total["change_wan_yuan"]
    # a level total that rounds to 0.00 元 has no shares (as in gep_change, docs/methods.md §4.9)
    out["share_of_change_pct"] = out["change_wan_yuan"] / whole * 100.0 if round(whole * YUAN_PER_WAN, 2) else np.nan
    return out[CHANGE_COLUMNS].reset_index(drop=True)


def _values(summary: pd.DataFrame | None, column: str) -> list[str]:
    if summary is None or column not in summary.columns:
        return []
    return sorted({str(v) for v in summary[column].dropna() if str(v).strip()})


def gep_review(summary: pd.DataFrame | None, services: pd.DataFrame | None,
               change: pd.DataFrame | None) -> GepReview | None:
    """Everything the report and the workbook show of indicator 10 beyond the scorecard row; None when the level
    has neither ``gep_summary`` nor ``gep_services``."""
    if summary is None and services is None:
        return None
    warning = warning_text(summary, services)
    has_items = services is not None and len(services) and "value_yuan" in services.columns
    year = int(services["year"].astype(int).max()) if has_items else None
    items = level_items(services, summary, year) if has_items else pd.DataFrame(columns=ITEM_COLUMNS)
    n_regions = int(services.loc[services["year"].astype(int) == year, "region_code"].nunique()) if has_items else 0
    review = GepReview(year, _values(summary, "gep_scope"), _values(summary, "profile"), warning, items, n_regions)
    if change is not None and year is not None and (change["year"].astype(int) == year).any():
        rows = change[change["year"].astype(int) == year]
        review.change = level_change(change, year)
        review.change_year_prev = int(rows["year_prev"].astype(int).max())
        regions = rows["region_code"].astype(str).unique()
        review.n_change_regions = len(regions)
        if summary is not None and "land_area_km2" in summary.columns:
            s = summary[(summary["year"].astype(int) == year) & summary["region_code"].astype(str).isin(regions)]
            area = float(s["land_area_km2"].sum())
            if area > 0:
                review.change_per_km2_wan_yuan = review.change["change_wan_yuan"].iloc[-1] / area
    return review


__all__ = ["CHANGE_HEADERS", "FLAGGED", "GepReview", "ITEM_HEADERS", "WARNING_HEAD", "flagged_items", "gep_review",
           "level_change", "level_items", "row_status", "warning_text", "weakest"]
