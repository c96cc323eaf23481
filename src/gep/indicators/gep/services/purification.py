"""What air and water purification share (docs/methods.md §4.2.8, §4.2.9): per pollutant and region,

    quantity (t/a) = min(Σ_class capacity (kg/hm²/a) × area (hm²) / 1000,  the region's load (t/a))

where the load is the emissions (air) or discharges (water) of the region and year from a table with the
columns region_code, year, pollutant, amount_t. Each pollutant is one part (row), valued at its treatment
cost per t. A pollutant marked ``optional`` in the parameter file is counted only where the table has rows of
it (TP); every other pollutant needs a row per region and year (0 where there is none).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gep.core.errors import InputError
from gep.indicators.gep.params import ParamFile, _code, _number
from gep.indicators.gep.services.area import KG_PER_T, AreaContext, Part, RegionIndex, number, place_row, read_csv
from gep.indicators.gep.services.base import ParamContext

COLUMNS = ("region_code", "year", "pollutant", "amount_t")


@dataclass(frozen=True)
class Pollutant:
    key: str
    name_zh: str
    price: str
    optional: bool
    codes: list[int]
    capacity_kg_hm2: list[float]
    status: str


@dataclass(frozen=True)
class PurificationParams:
    file: ParamFile
    pollutants: tuple[Pollutant, ...]


def load_pollutants(ctx: ParamContext, table: str) -> PurificationParams:
    """The pollutants of parameter table ``table``: name, price key, and capacity per hm² by class (each
    pollutant block says its unit, basis, status and source)."""
    pf = ctx.file(table)
    raw = pf.data.get("pollutants")
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"{pf.path}: key 'pollutants' must map pollutant keys to {{name_zh, price, unit, status, "
                         f"source, capacity: {{class code: kg/hm²/a}}}}")
    out = []
    for key, entry in raw.items():
        where = f"{pf.path}: pollutants.{key}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: must be a mapping with name_zh, price, unit, status, source, capacity")
        for k in ("price", "unit", "status", "source"):
            if not str(entry.get(k) or "").strip():
                raise InputError(f"{where}: '{k}' is missing or empty; every coefficient states its price key, "
                                 f"unit, status and source")
        if str(entry["unit"]).strip() != "kg/hm²/a":
            raise InputError(f"{where}: unit '{entry['unit']}' is not kg/hm²/a; give the capacity in kg per hm² "
                             f"per year")
        cap = entry.get("capacity")
        if not isinstance(cap, dict):
            raise InputError(f"{where}: 'capacity' must map land-cover codes to kg/hm²/a")
        codes = [_code(c, f"{where}.capacity") for c in cap]
        vals = [float(_number(v, f"{where}.capacity.{c}", minimum=0.0)) for c, v in cap.items()]
        out.append(Pollutant(str(key), str(entry.get("name_zh", key)), str(entry["price"]),
                             bool(entry.get("optional", False)), codes, vals, str(entry["status"])))
    return PurificationParams(pf, tuple(out))


@dataclass(frozen=True)
class Loads:
    """A checked emissions/discharges table: t/a per (pollutant, year), per region of the level."""

    path: Path
    amounts: dict[tuple[str, int], np.ndarray]   # NaN where a region has no row
    pollutants: set[str]                         # pollutants with any row


def read_loads(path: Path, index: RegionIndex, pollutants: list[str], what: str) -> Loads:
    """Read and check an emissions or discharges table (see the module docstring); every problem (unknown
    region code or pollutant, negative or missing amount, duplicate row) one line naming file, line and value."""
    df = read_csv(path, COLUMNS, what)
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    n = len(index.codes)
    exact: dict[tuple[str, int], np.ndarray] = {}
    within: dict[tuple[str, int], np.ndarray] = {}
    present = set()
    for i, row in df.iterrows():
        line = i + 2
        where = f"{path}: line {line}"
        code = str(row["region_code"]).strip()
        pol = str(row["pollutant"]).strip().lower()
        try:
            year = int(str(row["year"]).strip())
        except ValueError:
            problems.append(f"{where}: year '{row['year']}' is not a year")
            continue
        key = (code, year, pol)
        if key in seen:
            problems.append(f"{where}: duplicate row for {code} {year} {pol} (also line {seen[key]}); keep one")
            continue
        seen[key] = line
        how, region = place_row(index, code, where, problems)
        if pol not in pollutants:
            problems.append(f"{where}: pollutant '{row['pollutant']}' is not one of {', '.join(pollutants)}")
            continue
        amount = number(row["amount_t"], where, "amount_t", problems, required=True)
        if amount is None or region is None:
            continue
        present.add(pol)
        target = exact if how == "exact" else within
        arr = target.setdefault((pol, year), np.full(n, np.nan))
        arr[region] = amount if np.isnan(arr[region]) else arr[region] + amount
    if problems:
        raise InputError.many(problems)
    amounts = {}
    for k in set(exact) | set(within):
        e = exact.get(k, np.full(n, np.nan))
        amounts[k] = np.where(np.isnan(e), within.get(k, np.full(n, np.nan)), e)
    return Loads(path, amounts, present)


def purification_parts(ctx: AreaContext, p: PurificationParams, year: int, table: str, load_word: str) -> list[Part]:
    """One part per pollutant: min(capacity, load) per region (t/a)."""
    keys = [q.key for q in p.pollutants]
    loads = ctx.table(table, lambda path, index: read_loads(path, index, keys, table))
    out, missing = [], []
    for q in p.pollutants:
        if q.optional and q.key not in loads.pollutants:
            continue
        cap_t = sum((ctx.class_area_hm2([c], year) * v / KG_PER_T for c, v in zip(q.codes, q.capacity_kg_hm2)),
                    np.zeros(len(ctx.region_codes)))
        load = loads.amounts.get((q.key, year), np.full(len(ctx.region_codes), np.nan))
        for rc, x in zip(ctx.region_codes, load):
            if np.isnan(x):
                missing.append(f"{loads.path}: no {q.key} row for region {rc} year {year}; add one (amount_t 0 "
                               f"where there is none)")
        qty = np.minimum(cap_t, load)
        method = [f"min(capacity {c:.6g} t = Σ kg/hm² × hm² of classes {', '.join(map(str, q.codes))} [{q.status}], "
                  f"{load_word} {x:.6g} t) → {'capacity' if c < x else load_word}; × treatment cost"
                  for c, x in zip(cap_t, load)]
        out.append(Part(q.key, q.name_zh, qty, "t", q.price, method))
    if missing:
        raise InputError.many(missing)
    return out


__all__ = ["COLUMNS", "Loads", "Pollutant", "PurificationParams", "load_pollutants", "purification_parts",
           "read_loads"]
