"""The account engine: value quantity records with a profile's prices and sum them (docs/methods.md §4.8).

For each quantity record (item, quantity, unit, basis) of accounting year Y:

1. the quantity is brought to the base unit of its dimension (亿m³ → m³, 万t → t, 万hm² → m², …;
   :mod:`gep.indicators.gep.units`), and to the item's basis (t C → t CO₂ × 44/12);
2. an item with ``convert`` is turned into what its price is per (× ``times`` parameters, ÷ ``per``
   parameters: sand fixed t ÷ (ρ t/m³ · h m) → m² of sand-covered land);
3. the price record of the item for year Y is chosen (:meth:`Profile.price_for`) and brought to prices of Y
   with the deflator, D(Y)/D(price year), when its year is not Y;
4. value (元) = priced quantity × yuan per base unit × deflator factor; an item with ``valuation: given``
   is a value already (current prices of Y).

Totals: material, regulating, cultural (by the items' categories); GEP = material + regulating + cultural −
the value of ecosystem products from outside the region (GB/T 46869-2025; an optional deduction table).
Every row keeps its quantity, unit, basis, price, price year, region, sources and status, so that a
reviewer can redo each multiplication; the account flags any row resting on a P or DEMO record.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gep.core.errors import InputError
from gep.io.tables import read_user_csv
from gep.core.units import YUAN_PER_YI
from gep.indicators.gep.params import Deflator
from gep.indicators.gep.profiles import CATEGORIES, PROVISIONAL, Item, Profile, weakest
from gep.indicators.gep.units import basis_factor, normal_basis, parse_unit, price_unit, unit

ROW_COLUMNS = ["item", "name_zh", "category", "group", "quantity", "quantity_unit", "basis", "priced_quantity",
               "priced_unit", "priced_basis", "conversion", "price_key", "price", "price_unit", "price_basis",
               "price_year", "price_region", "deflator_factor", "unit_price_yuan", "value_yuan", "value_yi_yuan",
               "status", "quantity_source", "price_source"]

ROW_UNITS = {"quantity": "quantity_unit", "priced_quantity": "priced_unit (the unit the price is per)",
             "price": "price_unit, prices of price_year", "deflator_factor": "D(year) / D(price_year)",
             "unit_price_yuan": "yuan per priced_unit, prices of the accounting year",
             "value_yuan": "yuan, prices of the accounting year", "value_yi_yuan": "10^8 yuan"}

TOTAL_COLUMNS = ["line", "name_zh", "value_yuan", "value_yi_yuan", "items", "note"]

DEDUCTION = "deduction"
#: the lines of the totals table, in order
TOTAL_LINES = {**CATEGORIES, DEDUCTION: "区外生态产品 (扣除)", "gep": "生态产品总值 GEP"}


@dataclass(frozen=True)
class QuantityRecord:
    """One physical quantity (or a value, for items valued as given) of an item."""

    item: str
    quantity: float
    unit: str
    basis: str = ""
    source: str = ""
    where: str = ""


@dataclass(frozen=True)
class Deduction:
    """Value of ecosystem products that come from outside the region (GB/T 46869-2025), current prices."""

    item: str
    value_yuan: float
    source: str = ""


@dataclass(frozen=True)
class Account:
    """A valued account: one row per item (+ deductions), totals, and what it rests on."""

    profile: Profile
    year: int
    rows: pd.DataFrame
    totals: pd.DataFrame
    provisional: tuple[str, ...]
    missing: tuple[str, ...]

    def total(self, line: str) -> float:
        """Total of one line (material, regulating, cultural, deduction, gep), yuan."""
        return float(self.totals.loc[self.totals["line"] == line, "value_yuan"].iloc[0])

    def warnings(self) -> list[str]:
        """One line per thing a reader of the totals must know."""
        out = []
        if self.provisional:
            out.append(f"the totals include P or DEMO records (not official numbers): {', '.join(self.provisional)}")
        if self.missing:
            out.append(f"no quantity for item(s) {', '.join(self.missing)} of profile {self.profile.name}: "
                       f"the totals leave them out")
        return out


# ---------------------------------------------------------------------------------------------------------
# reading tables


def _read_csv(path: Path, what: str, required: Sequence[str]) -> pd.DataFrame:
    return read_user_csv(path, what=what, required=required, absent_fix="check the path",
                         columns_fix=f"{what} needs {', '.join(required)}")


def _number(text: str, where: str, name: str, problems: list[str]) -> float | None:
    s = str(text).strip().replace(",", "")
    try:
        v = float(s)
    except ValueError:
        problems.append(f"{where}: {name} '{text}' is not a number; give a number")
        return None
    if not math.isfinite(v) or v < 0:
        problems.append(f"{where}: {name} {s} is not a number ≥ 0; quantities and values are ≥ 0")
        return None
    return v


def _rows_of_year(df: pd.DataFrame, path: Path, year: int | None) -> tuple[pd.DataFrame, int | None]:
    """Rows of ``year`` (or of the table's one year when ``year`` is None) when there is a year column."""
    if "year" not in df.columns:
        return df, year
    years = sorted({y.strip() for y in df["year"] if y.strip()})
    bad = [y for y in years if not y.isdigit()]
    if bad:
        raise InputError(f"{path}: year '{bad[0]}' is not a year; write years like 2010")
    if year is None:
        if len(years) != 1:
            raise InputError(f"{path}: rows of several years ({', '.join(years)}); choose one (--year)")
        year = int(years[0])
    keep = df["year"].str.strip().isin(["", str(year)])
    if not keep.any():
        raise InputError(f"{path}: no row of year {year} (years: {', '.join(years) or 'none'}); fix --year")
    return df[keep], year


def read_quantities(path: str | Path, *, year: int | None = None) -> tuple[list[QuantityRecord], int | None]:
    """Read a quantities CSV (columns item, quantity, unit; optional basis, year, source; others ignored).

    With a ``year`` column only the rows of ``year`` are read (``year`` None: the table's only year).
    Returns the records and the year. Unreadable numbers and empty cells raise one InputError listing each
    line; whether items and units fit a profile is checked by :func:`value_account`.
    """
    path = Path(path)
    df = _read_csv(path, "quantities table", ["item", "quantity", "unit"])
    df, year = _rows_of_year(df, path, year)
    problems: list[str] = []
    out = []
    for i, row in df.iterrows():
        where = f"{path}: line {i + 2}"
        item = str(row["item"]).strip()
        if item == "":
            problems.append(f"{where}: item is empty; give the item key of the profile")
            continue
        q = _number(row["quantity"], where, f"quantity of {item}", problems)
        if q is None:
            continue
        out.append(QuantityRecord(item, q, str(row["unit"]).strip(), str(row.get("basis", "")).strip(),
                                  str(row.get("source", "")).strip() or path.name, where))
    if problems:
        raise InputError.many(problems)
    return out, year


def _deduction_yuan(row: pd.Series, where: str, problems: list[str]) -> float | None:
    """A deduction row's value in yuan (value × the factor of value_unit 元/万元/亿元), or None with a problem."""
    v = _number(row["value"], where, "value", problems)
    u = parse_unit(row["value_unit"])
    if u is None or u.dimension != "money":
        problems.append(f"{where}: value_unit '{row['value_unit']}' is not 元, 万元 or 亿元; give the value in one "
                        f"of them")
        return None
    return None if v is None else v * u.factor


def read_deductions(path: str | Path, *, year: int | None = None) -> list[Deduction]:
    """Read the table of products from outside the region (columns item, value, value_unit 元/万元/亿元;
    optional year, source), values in current prices of the accounting year."""
    path = Path(path)
    df = _read_csv(path, "deduction table", ["item", "value", "value_unit"])
    df, _ = _rows_of_year(df, path, year)
    problems: list[str] = []
    out = []
    for i, row in df.iterrows():
        yuan = _deduction_yuan(row, f"{path}: line {i + 2}", problems)
        if yuan is not None:
            out.append(Deduction(str(row["item"]).strip() or "区外生态产品", yuan,
                                 str(row.get("source", "")).strip() or path.name))
    if problems:
        raise InputError.many(problems)
    return out


#: columns of the run's deduction table (gep.deductions) and of what :func:`read_region_deductions` returns
DEDUCTION_COLUMNS = ["region_code", "year", "item", "value", "value_unit", "source"]


def read_region_deductions(path: str | Path, *, region_codes: Iterable[str],
                           years: Iterable[int]) -> pd.DataFrame:
    """The raster run's deduction table (``gep.deductions``; docs/methods.md §4.8): one row per region × year ×
    item with value_yuan (current prices of the year) and source.

    Rows of regions of another level (a code inside or above one of ``region_codes``, by the administrative
    code hierarchy) are left for that level. Every problem is one line naming the file, the CSV line and the
    value: unknown region code, a year that is not an accounting year, a negative or non-numeric value, an
    unknown value unit, a repeated (region, year, item), a missing source.
    """
    from gep.indicators.gep.services.area import RegionIndex

    path = Path(path)
    df = _read_csv(path, "deduction table", DEDUCTION_COLUMNS)
    index = RegionIndex(region_codes)
    want = {int(y) for y in years}
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    out = []
    for i, row in df.iterrows():
        where = f"{path}: line {i + 2}"
        code, year, item = (str(row[c]).strip() for c in ("region_code", "year", "item"))
        how, _ = index.place(code)
        if how == "unknown":
            problems.append(f"{where}: region_code '{code}' is not a region of the run; fix the code (codes are "
                            f"text: keep leading zeros)")
            continue
        if not year.isdigit() or int(year) not in want:
            problems.append(f"{where}: year '{year}' is not an accounting year ({', '.join(map(str, sorted(want)))})"
                            f"; fix the year or drop the row")
            continue
        if item == "":
            problems.append(f"{where}: item is empty; say what product comes from outside the region")
            continue
        key = (code, int(year), item)
        if key in seen:
            problems.append(f"{where}: duplicate row for {code} {year} {item} (also line {seen[key]}); keep one")
            continue
        seen[key] = i + 2
        if str(row["source"]).strip() == "":
            problems.append(f"{where}: source of {code} {year} {item} is empty; say where the value comes from")
            continue
        yuan = _deduction_yuan(row, where, problems)
        if yuan is not None and how == "exact":
            out.append({"region_code": code, "year": int(year), "item": item, "value_yuan": yuan,
                        "source": str(row["source"]).strip()})
    if problems:
        raise InputError.many(problems)
    return pd.DataFrame(out, columns=["region_code", "year", "item", "value_yuan", "source"])


# ---------------------------------------------------------------------------------------------------------
# valuing


def _given_row(item: Item, rec: QuantityRecord, problems: list[str]) -> dict | None:
    u = parse_unit(rec.unit)
    if u is None or u.dimension != "money":
        problems.append(f"{rec.where}: unit '{rec.unit}' of {item.key} is not 元, 万元 or 亿元; the item is a "
                        f"value (valuation: given)")
        return None
    value = rec.quantity * u.factor
    return {"quantity": rec.quantity, "quantity_unit": rec.unit, "value_yuan": value, "status": "",
            "conversion": "value as given (current prices)", "quantity_source": rec.source}


def _priced_row(profile: Profile, item: Item, rec: QuantityRecord, year: int, deflator: Deflator | None,
                problems: list[str]) -> dict | None:
    u = parse_unit(rec.unit)
    want = unit(item.quantity_unit, f"{profile.path}: items.{item.key}.quantity_unit")
    if u is None or u.dimension != want.dimension:
        problems.append(f"{rec.where}: unit '{rec.unit}' of {item.key} is not a unit of {want.dimension} "
                        f"({want.base}, 万{want.base}, 亿{want.base}); give the quantity in such a unit")
        return None
    basis = normal_basis(rec.basis) or item.basis
    b = basis_factor(basis, item.basis)
    if b is None:
        problems.append(f"{rec.where}: basis '{rec.basis}' of {item.key} does not convert to the item's basis "
                        f"'{item.basis}'; give the quantity as {item.basis}")
        return None
    steps = [f"{rec.unit} → {u.base} × {u.factor:g}"] if u.factor != 1 else []
    if b != 1.0:
        steps.append(f"{basis} → {item.basis} × {b:.6g}")
    q = rec.quantity * u.factor * b
    priced_unit, priced_basis = u.base, item.basis
    statuses = []
    if item.convert is not None:
        for key, op in [(k, "×") for k in item.convert.times] + [(k, "÷") for k in item.convert.per]:
            p = profile.parameters[key]
            if p.value is None:
                raise InputError(f"{profile.path}: parameters.{key}: value is empty (needed by {item.key}); fill "
                                 f"in value, source and status")
            q = q * p.value if op == "×" else q / p.value
            steps.append(f"{op} {key} {p.value:g} {p.unit}")
            statuses.append(p.status)
        cu = unit(item.convert.unit, f"{profile.path}: items.{item.key}.convert.unit")
        priced_unit, priced_basis = cu.base, item.convert.basis
        q = q * cu.factor
    price = profile.price_for(item.price, year)
    where = f"{profile.path}: prices.{item.price}"
    pb = basis_factor(priced_basis, price.basis)
    if pb != 1.0:
        steps.append(f"{priced_basis} → {price.basis} × {pb:.6g}")
        q *= pb
    if price.price_year == year:
        d = 1.0
    elif deflator is None:
        raise InputError(f"{where}: price of {price.price_year} for an account of {year}; give a deflator table "
                         f"(--deflator) or a price record of {year}")
    else:
        d = deflator.factor(price.price_year, year)
    money, per = price_unit(price.unit, f"{where}.unit")
    q = q / per.factor  # in the unit the price is per (hm², not m², for 元/hm²)
    if per.factor != 1:
        steps.append(f"{priced_unit} → {per.text} ÷ {per.factor:g}")
    yuan = price.value * money * d
    statuses.append(price.status)
    return {"quantity": rec.quantity, "quantity_unit": rec.unit, "basis": basis, "priced_quantity": q,
            "priced_unit": per.text, "priced_basis": price.basis, "conversion": "; ".join(steps),
            "price_key": item.price, "price": price.value, "price_unit": price.unit, "price_basis": price.basis,
            "price_year": price.price_year, "price_region": price.region, "deflator_factor": d,
            "unit_price_yuan": yuan, "value_yuan": q * yuan, "status": weakest(statuses),
            "quantity_source": rec.source, "price_source": price.source}


def value_account(profile: Profile, quantities: Iterable[QuantityRecord], year: int, *,
                  deflator: Deflator | None = None, deductions: Iterable[Deduction] = ()) -> Account:
    """Value ``quantities`` of accounting year ``year`` with ``profile``; see the module docstring.

    Unknown items, duplicate items, units or bases that do not fit an item are all reported in one
    InputError (one line each); a blank price, a price of another year without a deflator, or a deflator
    without that year are InputErrors too.
    """
    problems: list[str] = []
    rows = []
    seen: dict[str, str] = {}
    for rec in quantities:
        item = profile.items.get(rec.item)
        if item is None:
            problems.append(f"{rec.where}: item '{rec.item}' is not in profile {profile.name} ({profile.path}); "
                            f"use one of {', '.join(profile.items)}")
            continue
        if rec.item in seen:
            problems.append(f"{rec.where}: item '{rec.item}' appears twice (also {seen[rec.item]}); give one row "
                            f"per item")
            continue
        seen[rec.item] = rec.where
        row = (_given_row(item, rec, problems) if item.valuation == "given"
               else _priced_row(profile, item, rec, year, deflator, problems))
        if row is not None:
            rows.append({"item": item.key, "name_zh": item.name_zh, "category": item.category,
                         "group": item.group, **row})
    if problems:
        raise InputError.many(problems)
    for d in deductions:
        rows.append({"item": d.item, "name_zh": TOTAL_LINES[DEDUCTION], "category": DEDUCTION, "group": DEDUCTION,
                     "value_yuan": -d.value_yuan, "quantity_source": d.source,
                     "conversion": "GB/T 46869-2025: products from outside the region are deducted"})
    table = pd.DataFrame(rows, columns=ROW_COLUMNS)
    table["value_yi_yuan"] = table["value_yuan"] / YUAN_PER_YI
    provisional = tuple(table.loc[table["status"].isin(PROVISIONAL), "item"])
    missing = tuple(k for k, it in profile.items.items() if k not in seen and not it.optional)
    return Account(profile, int(year), table, _totals(table, provisional, missing), provisional, missing)


def _totals(rows: pd.DataFrame, provisional: Sequence[str], missing: Sequence[str]) -> pd.DataFrame:
    out = []
    for line, zh in TOTAL_LINES.items():
        sel = rows if line == "gep" else rows[rows["category"] == line]
        value = float(sel["value_yuan"].sum())
        notes = []
        if line == "gep":
            notes.append("material + regulating + cultural − deduction")
            if provisional:
                notes.append(f"includes P/DEMO records: {', '.join(provisional)}")
            if missing:
                notes.append(f"incomplete: no quantity for {', '.join(missing)}")
        else:
            prov = [k for k in provisional if k in set(sel["item"])]
            if prov:
                notes.append(f"includes P/DEMO records: {', '.join(prov)}")
        out.append({"line": line, "name_zh": zh, "value_yuan": value, "value_yi_yuan": value / YUAN_PER_YI,
                    "items": len(sel), "note": "; ".join(notes)})
    return pd.DataFrame(out, columns=TOTAL_COLUMNS)
