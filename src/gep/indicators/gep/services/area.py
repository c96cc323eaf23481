"""Services computed from land-cover areas and region tables, without a raster (kind ``area``).

Flood regulation, air and water purification and pest control (docs/methods.md §4.2.7–§4.2.10) need only the
area of each land-cover class per region and year, which the run already has (the ``landcover_area`` table),
and region tables the user gives under ``gep.tables`` (water bodies, emissions, discharges). Their ``parts``
function returns, for one year, one :class:`Part` per priced part (lakes, reservoirs, marshes; SO₂, NOₓ, dust;
…): a quantity per region and the price key that values it. Each part is one row of the GEP table, named
``SERVICE:PART`` (``flood_regulation:lakes``).

Region tables and region levels. A table row names a region by its code. At one region level a row is placed
in the region whose code it is, or in the region that contains it when codes follow the Chinese administrative
code hierarchy (12-digit codes: province 2, prefecture 4, county 6, township 9 significant digits, the rest
zeros; a township code 430124100000 lies in county 430124000000). So one table can serve every level: a
water body listed with its township code counts in its township and in its county; emissions listed per
county are used at county level, and township rows, when given, at township level (at county level they are
summed only where the county has no row of its own). A code that is neither a region of the level nor inside
or above one is an error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gep.config.gep import GepConfig
from gep.core.errors import InputError
from gep.io.tables import read_user_csv
from gep.indicators.gep.profile_prices import PriceBook, demo_source, row_status
from gep.indicators.gep.profiles import weakest
from gep.indicators.gep.services.base import Service, Valuing

M2_PER_HM2 = 1e4      # 1 hm² = 10,000 m²
HM2_PER_KM2 = 100.0   # 1 km² = 100 hm²
KG_PER_T = 1e3

#: significant widths of the Chinese administrative codes (GB/T 2260 and the statistical division codes)
_WIDTHS = (2, 4, 6, 9, 12)


def code_stem(code: str) -> str:
    """The significant digits of an administrative code (``430124000000`` → ``430124``); other codes as given."""
    if code.isdigit() and len(code) in (6, 9, 12):
        for w in _WIDTHS:
            if w <= len(code) and set(code[w:]) <= {"0"}:
                return code[:w]
    return code


class RegionIndex:
    """Places the region codes of a table among the regions of one level (see the module docstring)."""

    def __init__(self, codes: Iterable[str]):
        self.codes = [str(c) for c in codes]
        self._exact = {c: i for i, c in enumerate(self.codes)}
        self._stems = [code_stem(c) for c in self.codes]

    def place(self, code: str) -> tuple[str, int | None]:
        """``("exact", i)``, ``("within", i)`` (inside region i), ``("coarser", None)`` (contains regions of the
        level) or ``("unknown", None)``."""
        if code in self._exact:
            return "exact", self._exact[code]
        stem = code_stem(code)
        if stem != code or code.isdigit():
            for i, s in enumerate(self._stems):
                if len(stem) > len(s) and stem.startswith(s):
                    return "within", i
            if any(len(s) > len(stem) and s.startswith(stem) for s in self._stems):
                return "coarser", None
        return "unknown", None


# ---------------------------------------------------------------------------------------------------------
# reading region tables


def read_csv(path: str | Path, required: Iterable[str], what: str) -> pd.DataFrame:
    """A region table as text cells (UTF-8 CSV); InputError naming the file when missing or unreadable."""
    return read_user_csv(path, what=f"{what} table", required=required, absent_fix="check gep.tables",
                         columns_fix=f"a {what} table has the columns {', '.join(required)} (docs/methods.md §4.2)")


def number(text: Any, where: str, column: str, problems: list[str], *, required: bool,
           minimum: float = 0.0) -> float | None:
    """A number ≥ ``minimum`` from a cell; None (with a problem line when ``required`` or malformed)."""
    s = str(text).strip()
    if s == "":
        if required:
            problems.append(f"{where}: {column} is empty; fill it in")
        return None
    try:
        v = float(s)
    except ValueError:
        problems.append(f"{where}: {column} '{s}' is not a number; give a number")
        return None
    if not math.isfinite(v):
        problems.append(f"{where}: {column} '{s}' is not a finite number; give a number")
        return None
    if v < minimum:
        problems.append(f"{where}: {column} {v:g} is negative; give a value ≥ {minimum:g}")
        return None
    return v


def place_row(index: RegionIndex, code: str, where: str, problems: list[str]) -> tuple[str, int | None]:
    """Where a row's region code lies; a problem line for an empty or unknown code."""
    if code == "":
        problems.append(f"{where}: region_code is empty; give the region's code")
        return "unknown", None
    how, i = index.place(code)
    if how == "unknown":
        problems.append(f"{where}: region_code '{code}' is not a region of this level nor inside one; fix the "
                        f"code (codes are text: keep leading zeros)")
    return how, i


# ---------------------------------------------------------------------------------------------------------
# what a service's parts function works with, and what it returns


@dataclass
class AreaContext:
    """One region level's land-cover areas and region tables, for the ``parts`` of the area services."""

    cfg: GepConfig
    region_codes: list[str]         # the level's regions, in table order
    lca: pd.DataFrame               # landcover_area rows: region_code (str), year (int), lc_code, area_km2
    _cache: dict = field(default_factory=dict)

    @property
    def index(self) -> RegionIndex:
        if "_index" not in self._cache:
            self._cache["_index"] = RegionIndex(self.region_codes)
        return self._cache["_index"]

    def class_area_hm2(self, codes: Iterable[int], year: int) -> np.ndarray:
        """Area (hm²) of the land-cover classes ``codes`` per region in ``year``, in region order."""
        lca = self.lca
        code = pd.to_numeric(lca["lc_code"], errors="coerce")  # the 'nodata' rows are no class
        t = lca[(lca["year"] == int(year)) & code.isin([int(c) for c in codes])]
        km2 = t.groupby("region_code")["area_km2"].sum().reindex(self.region_codes, fill_value=0.0)
        return km2.to_numpy(dtype=np.float64) * HM2_PER_KM2

    def table_path(self, name: str) -> Path:
        path = self.cfg.tables.get(name)
        if path is None:
            raise InputError(f"gep.tables.{name}: not set; give the {name} table (CSV)")
        return Path(path)

    def table(self, name: str, reader):
        """``reader(path, index)`` of the region table ``name``, read once per run."""
        if name not in self._cache:
            self._cache[name] = reader(self.table_path(name), self.index)
        return self._cache[name]


@dataclass(frozen=True)
class Part:
    """One priced part of an area service for one year: quantity per region (region order) in ``unit``,
    valued at price ``price_key``; ``method`` says how (one text, or one per region)."""

    key: str
    name_zh: str
    quantity: np.ndarray
    unit: str
    price_key: str
    method: str | list[str]


def demo_rows(ctx: AreaContext, table: str, year: int) -> np.ndarray:
    """Per region of the level (bool): whether a row of region table ``table`` placed in it (of ``year``, when
    the table has a year column) says in its ``source`` that it is invented demo data (starts with "DEMO")."""
    key = f"_demo:{table}"
    if key not in ctx._cache:
        df = read_user_csv(ctx.table_path(table), what=f"{table} table", required=["region_code"],
                           absent_fix="check gep.tables", columns_fix="give a region_code column")
        marks = []
        if "source" in df.columns:
            for _, row in df[df["source"].map(demo_source)].iterrows():
                how, i = ctx.index.place(str(row["region_code"]).strip())
                if i is not None:
                    marks.append((i, str(row.get("year", "")).strip()))
        ctx._cache[key] = marks
    out = np.zeros(len(ctx.region_codes), dtype=bool)
    for i, y in ctx._cache[key]:
        if y in ("", str(int(year))):
            out[i] = True
    return out


def area_rows(services: Iterable[Service], params: dict[str, Any], ctx: AreaContext, years: Iterable[int],
              region_names: Iterable[str], book: PriceBook | None,
              param_status: dict[str, list[str]] | None = None) -> list[dict]:
    """The GEP table rows (as column lists, one dict per part and year) of the area services: quantity, unit
    price of the price year (the price table's base year, or the accounting year with a profile), how both
    were formed, the price records used and the row's status (the weakest of those records, the service's
    parameter files ``param_status[name]``, the deflator when it changed the price, and DEMO where a region
    table row the service reads is marked DEMO in its source)."""
    out = []
    names = list(region_names)
    years = [int(y) for y in years]
    for service in services:
        spec = service.spec
        p = params[service.name]
        source = service.source(Valuing(ctx.cfg, p, book.for_year(years[0]) if book is not None else None))
        files = (param_status or {}).get(service.name, [])
        for year in years:
            demo = np.zeros(len(ctx.region_codes), dtype=bool)
            for table in spec.tables:
                demo |= demo_rows(ctx, table, year)
            for part in service.parts(ctx, p, year):
                label = f"{spec.name}:{part.key}"
                yp = book.for_year(year) if (book is not None and spec.priced) else None
                value, unit = yp.get(part.price_key, label) if yp is not None else (np.nan, "")
                status = row_status(yp, book.deflator if book is not None else None, files)
                out.append({
                    "region_code": ctx.region_codes, "region_name": names, "year": year, "service": label,
                    "service_zh": f"{spec.name_zh}（{part.name_zh}）", "category": spec.category, "tier": 2,
                    "quantity": part.quantity, "quantity_unit": part.unit, "base_price": value,
                    "price_year": yp.base_year if yp is not None else np.nan,
                    "price_unit": f"{unit} ({part.price_key})" if unit else "", "given_value_yuan": np.nan,
                    "method": part.method, "source": source,
                    "price_record": yp.record_text() if yp is not None else "",
                    "status": [weakest([status, "DEMO" if d else ""]) for d in demo]})
    return out


def area_frame(services, params, ctx: AreaContext, years, region_names, book, columns,
               param_status=None) -> pd.DataFrame:
    """:func:`area_rows` as one DataFrame with ``columns``."""
    rows = area_rows(services, params, ctx, years, region_names, book, param_status)
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.concat([pd.DataFrame(r) for r in rows], ignore_index=True)[columns]


def table_problems(cfg: GepConfig, services: Iterable[Service]) -> list[str]:
    """The region tables the selected area services need but ``gep.tables`` lacks or names wrongly."""
    out = []
    for s in services:
        for name in s.spec.tables:
            path = cfg.tables.get(name)
            if path is None:
                out.append(f"gep.tables.{name}: not set but needed by service '{s.name}'; give the CSV (see "
                           f"docs/methods.md §4.2) or remove '{s.name}' from gep.services")
            elif not Path(path).is_file():
                out.append(f"gep.tables.{name}: {path} does not exist; check the path")
    return out


__all__ = ["AreaContext", "Part", "RegionIndex", "area_frame", "area_rows", "code_stem", "demo_rows", "number",
           "place_row",
           "read_csv", "table_problems"]
