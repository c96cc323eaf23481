"""Parameter files of the GEP accounts: every coefficient and price, each with ``status:`` and ``source:``.

Files live in ``src/gep/data/parameters/NAME.yaml`` (built-in, referred to by NAME) or anywhere (referred to by
path); a user's file always replaces ours. Status marks (docs/methods.md, preface): **V** seen in the primary or an
authoritative source, **V2** seen only through citing papers, **P** our proposal — nothing V2/P is official.

Loaders check the layout and every number, and raise :class:`gep.core.errors.InputError` with one line naming the
file, the key and the value, and what to do.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gep.core.errors import InputError
from gep.core.settings import read_yaml
from gep.core.resources import resolve


@dataclass(frozen=True)
class ParamFile:
    """A parsed parameter file: its path, top-level ``status`` and ``source``, and the whole mapping."""

    name: str
    path: Path
    status: str
    source: str
    data: dict

    def cite(self) -> str:
        """Short provenance used in output ``source`` columns: ``file.yaml [status]``."""
        return f"{self.path.name} [{self.status}]"


def parameter_file(ref: str | Path) -> Path:
    """The file of a parameter table given as a built-in name (``src/gep/data/parameters/NAME.yaml``) or a path
    (YAML, or CSV for tables that allow it)."""
    return resolve(ref, "parameters", "parameter", suffixes=(".yaml", ".yml", ".csv"))


def read_param_file(ref: str | Path, *, require_status: bool = True) -> ParamFile:
    """Read a YAML parameter file; it must be a mapping with ``status`` and ``source``."""
    path = parameter_file(ref)
    data = read_yaml(path, "parameter file")
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of keys; see the built-in tables (gep where --data) for the layout")
    if require_status:
        missing = [k for k in ("status", "source") if not str(data.get(k) or "").strip()]
        if missing:
            raise InputError(f"{path}: key '{missing[0]}' is missing or empty; every parameter file must say "
                             f"where its numbers come from (source:) and how far they are verified (status:)")
    return ParamFile(str(data.get("name", path.stem)), path, str(data.get("status", "")),
                     str(data.get("source", "")).strip(), data)


def _number(value: Any, where: str, *, allow_null: bool = False, minimum: float | None = None,
            maximum: float | None = None) -> float | None:
    """A finite float from a YAML value (or an entry ``{value: x}``); None only when ``allow_null``."""
    if isinstance(value, Mapping) and "value" in value:
        value = value["value"]
    if value is None:
        if allow_null:
            return None
        raise InputError(f"{where}: value is empty; give a number")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: '{value}' is not a number; give a number")
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"{where}: {value} is not a finite number; give a finite number")
    if minimum is not None and v < minimum:
        raise InputError(f"{where}: {v:g} is below {minimum:g}; give a value ≥ {minimum:g}")
    if maximum is not None and v > maximum:
        raise InputError(f"{where}: {v:g} is above {maximum:g}; give a value ≤ {maximum:g}")
    return v


def _code(key: Any, where: str) -> int:
    if isinstance(key, bool):
        raise InputError(f"{where}: class code '{key}' is not an integer")
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.strip().lstrip("-").isdigit():
        return int(key.strip())
    raise InputError(f"{where}: class code '{key}' is not an integer; use the land-cover codes as keys")


def _classes(pf: ParamFile, scheme_codes: Iterable[int] | None) -> dict[int, Any]:
    raw = pf.data.get("classes")
    if not isinstance(raw, Mapping) or not raw:
        raise InputError(f"{pf.path}: needs a non-empty 'classes' mapping of land-cover code → values")
    out = {_code(k, f"{pf.path}: classes"): v for k, v in raw.items()}
    if scheme_codes is not None:
        missing = sorted({int(c) for c in scheme_codes} - set(out))
        if missing:
            raise InputError(f"{pf.path}: no row for land-cover code(s) {', '.join(map(str, missing))} of the "
                             f"class scheme; add a row for each (use null/include: false to leave one out)")
    return out


def check_codes(pf: ParamFile, codes: Iterable[int], table: Mapping[int, Any], what: str) -> None:
    """Raise when land-cover codes found in the data have no row in a parameter file."""
    missing = sorted({int(c) for c in codes} - set(table))
    if missing:
        raise InputError(f"{pf.path}: {what}: land-cover code(s) {', '.join(map(str, missing))} have no row; "
                         f"add them to the file (or fix the land-cover class scheme)")


# ---------------------------------------------------------------------------------------------------------
# Tier 1: equivalent factors and the land-cover → ecosystem-type map


@dataclass(frozen=True)
class T1Service:
    key: str
    name_zh: str
    category: str
    regulator: str | None


@dataclass(frozen=True)
class EquivalentFactors:
    """Xie-2015-style factor table: ``factors[type]`` is an array (n_services,) or None for an empty row."""

    file: ParamFile
    services: tuple[T1Service, ...]
    factors: dict[str, np.ndarray | None]
    e_value: float
    e_year: int
    e_unit: str
    e_status: str


REGULATORS = ("npp", "precipitation", "soil_conservation")


def load_equivalent_factors(ref: str | Path = "xie2015_equivalent_factors") -> EquivalentFactors:
    """Load the equivalent-factor table (dimensionless factors per hm², value E of one equivalent, 元/hm²)."""
    pf = read_param_file(ref)
    p = pf.path
    se = pf.data.get("standard_equivalent")
    if not isinstance(se, Mapping):
        raise InputError(f"{p}: key 'standard_equivalent' is missing; give {{value: 元/hm², year: YYYY}}")
    e_value = _number(se.get("value"), f"{p}: standard_equivalent.value", minimum=0.0)
    year = se.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        raise InputError(f"{p}: standard_equivalent.year '{year}' is not a year; give the price year (e.g. 2010)")
    raw_services = pf.data.get("services")
    if not isinstance(raw_services, list) or not raw_services:
        raise InputError(f"{p}: key 'services' must list the services in the column order of 'factors'")
    services = []
    for i, s in enumerate(raw_services):
        if not isinstance(s, Mapping) or "key" not in s:
            raise InputError(f"{p}: services[{i}] needs at least 'key', 'name_zh', 'category'")
        reg = s.get("regulator")
        if reg is not None and reg not in REGULATORS:
            raise InputError(f"{p}: services[{i}].regulator '{reg}' is not one of {', '.join(REGULATORS)}")
        services.append(T1Service(str(s["key"]), str(s.get("name_zh", s["key"])),
                                  str(s.get("category", "")), reg))
    raw = pf.data.get("factors")
    if not isinstance(raw, Mapping) or not raw:
        raise InputError(f"{p}: key 'factors' must map ecosystem types to lists of {len(services)} numbers")
    factors: dict[str, np.ndarray | None] = {}
    for name, row in raw.items():
        if row is None:
            factors[str(name)] = None
            continue
        if not isinstance(row, list) or len(row) != len(services):
            raise InputError(f"{p}: factors.{name} must be a list of {len(services)} numbers (one per service) "
                             f"or null for a row not yet filled in")
        factors[str(name)] = np.array([_number(v, f"{p}: factors.{name}[{j}]") for j, v in enumerate(row)])
    return EquivalentFactors(pf, tuple(services), factors, float(e_value), int(year),
                             str(se.get("unit", "元/hm²")), str(se.get("status", pf.status)))


@dataclass(frozen=True)
class EcosystemMap:
    """Land-cover code → {ecosystem type: area share}; an empty dict means value 0 (e.g. built-up land)."""

    file: ParamFile
    classes: dict[int, dict[str, float]]


def _shares(value: Any, where: str) -> dict[str, float]:
    if isinstance(value, Mapping) and "types" in value:
        value = value["types"]
    if value is None:
        return {}
    if isinstance(value, str):
        return {value: 1.0}
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: expected {{type: share, …}}, got '{value}'")
    shares = {str(k): _number(v, f"{where}.{k}", minimum=0.0) for k, v in value.items()}
    total = sum(shares.values())
    if shares and abs(total - 1.0) > 1e-9:
        raise InputError(f"{where}: area shares add up to {total:g}, not 1; fix the shares")
    return shares


def load_ecosystem_map(ref: str | Path = "ecosystem_map_clcd", *, scheme_codes: Iterable[int] | None = None,
                       overrides: Mapping[Any, Any] | None = None) -> EcosystemMap:
    """Load a land-cover → ecosystem-type map; ``overrides`` (code → {type: share}) replace single classes."""
    pf = read_param_file(ref)
    classes = {c: _shares(v, f"{pf.path}: classes.{c}") for c, v in _classes(pf, scheme_codes).items()}
    for key, value in (overrides or {}).items():
        code = _code(key, "gep.tier1.class_types")
        classes[code] = _shares(value, f"gep.tier1.class_types.{code}")
    return EcosystemMap(pf, classes)


# ---------------------------------------------------------------------------------------------------------
# Tier 2 class tables


@dataclass(frozen=True)
class ClassTable:
    """Per-class numbers of one parameter file: ``values[field][code]`` (NaN where a class is not counted)."""

    file: ParamFile
    values: dict[str, dict[int, float]]

    def lut(self, name: str, fill: float = np.nan) -> tuple[np.ndarray, np.ndarray]:
        """(sorted codes, values) of one field for vectorised lookups."""
        codes = np.array(sorted(self.values[name]), dtype=np.int64)
        vals = np.array([self.values[name][int(c)] for c in codes], dtype=np.float64)
        return codes, np.where(np.isnan(vals), fill, vals)


def load_runoff(ref: str | Path = "runoff_coefficients_clcd", *,
                scheme_codes: Iterable[int] | None = None) -> ClassTable:
    """Runoff coefficient α (fraction 0–1) per class; NaN (``alpha_pct: null``) = class not counted."""
    pf = read_param_file(ref)
    alpha = {}
    for code, row in _classes(pf, scheme_codes).items():
        where = f"{pf.path}: classes.{code}.alpha_pct"
        v = row.get("alpha_pct") if isinstance(row, Mapping) else row
        pct = _number(v, where, allow_null=True, minimum=0.0, maximum=100.0)
        alpha[code] = np.nan if pct is None else pct / 100.0
    return ClassTable(pf, {"alpha": alpha})


def load_usle_cp(ref: str | Path = "usle_cp_clcd", *, scheme_codes: Iterable[int] | None = None) -> ClassTable:
    """USLE C and P per class (0–1) and ``include`` (1/0): classes without soil contribute no retention."""
    pf = read_param_file(ref)
    c, p, inc = {}, {}, {}
    for code, row in _classes(pf, scheme_codes).items():
        if not isinstance(row, Mapping):
            raise InputError(f"{pf.path}: classes.{code} must be {{c: …, p: …, include: true/false}}")
        include = row.get("include", True)
        if not isinstance(include, bool):
            raise InputError(f"{pf.path}: classes.{code}.include '{include}' must be true or false")
        c[code] = _number(row.get("c"), f"{pf.path}: classes.{code}.c", minimum=0.0, maximum=1.0)
        p[code] = _number(row.get("p"), f"{pf.path}: classes.{code}.p", minimum=0.0, maximum=1.0)
        inc[code] = 1.0 if include else 0.0
    return ClassTable(pf, {"c": c, "p": p, "include": inc})


POOLS = ("above", "below", "soil", "dead")


def load_carbon_pools(ref: str | Path = "carbon_pools_clcd", *,
                      scheme_codes: Iterable[int] | None = None) -> ClassTable:
    """Carbon density per class in the pools above/below/soil/dead, t C/ha."""
    pf = read_param_file(ref)
    vals: dict[str, dict[int, float]] = {k: {} for k in POOLS}
    for code, row in _classes(pf, scheme_codes).items():
        if not isinstance(row, Mapping):
            raise InputError(f"{pf.path}: classes.{code} must be {{above: …, below: …, soil: …, dead: …}} (t C/ha)")
        for pool in POOLS:
            vals[pool][code] = _number(row.get(pool), f"{pf.path}: classes.{code}.{pool}", minimum=0.0)
    return ClassTable(pf, vals)


def scalar(pf: ParamFile, key: str, *, minimum: float | None = None, maximum: float | None = None) -> float:
    """A number stored as ``key: x`` or ``key: {value: x, …}`` in a parameter file."""
    if key not in pf.data:
        raise InputError(f"{pf.path}: key '{key}' is missing; add it (see the built-in file of the same kind)")
    return float(_number(pf.data[key], f"{pf.path}: {key}", minimum=minimum, maximum=maximum))


def code_set(pf: ParamFile, key: str) -> tuple[list[int], float]:
    """``key: {codes: [...], share: x}`` → (codes, share) (share defaults to 1)."""
    entry = pf.data.get(key)
    if not isinstance(entry, Mapping) or not isinstance(entry.get("codes"), list):
        raise InputError(f"{pf.path}: key '{key}' must be {{codes: [land-cover codes], share: 0–1}}")
    codes = [_code(c, f"{pf.path}: {key}.codes") for c in entry["codes"]]
    share = _number(entry.get("share", 1.0), f"{pf.path}: {key}.share", minimum=0.0, maximum=1.0)
    return codes, float(share)


# ---------------------------------------------------------------------------------------------------------
# prices and deflators


@dataclass(frozen=True)
class PriceTable:
    """Unit prices in yuan of ``base_year``: ``prices[key] = (value, unit)``; ``bases[key]`` the mass basis an
    entry states with ``basis:`` (e.g. CO2 for a carbon price per t CO₂), where it states one."""

    file: ParamFile
    base_year: int
    prices: dict[str, tuple[float, str]]
    version: str = ""
    bases: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, needed_by: str) -> tuple[float, str]:
        if key not in self.prices:
            raise InputError(f"{self.file.path}: price '{key}' is missing (needed by {needed_by}); add "
                             f"'{key}: {{value: …, unit: …}}' under 'prices'")
        return self.prices[key]

    def basis(self, key: str) -> str | None:
        """The ``basis:`` of price ``key`` as written, or None."""
        return self.bases.get(key)


def load_prices(ref: str | Path = "prices_dolkar2017") -> PriceTable:
    """Load a versioned price table (``base_year``, ``prices: {key: {value, unit}}``)."""
    pf = read_param_file(ref)
    year = pf.data.get("base_year")
    if isinstance(year, bool) or not isinstance(year, int):
        raise InputError(f"{pf.path}: base_year '{year}' is not a year; give the year the prices are of")
    raw = pf.data.get("prices")
    if not isinstance(raw, Mapping) or not raw:
        raise InputError(f"{pf.path}: key 'prices' must map price keys to {{value: …, unit: …}}")
    prices, bases = {}, {}
    for key, entry in raw.items():
        unit = str(entry.get("unit", "")) if isinstance(entry, Mapping) else ""
        prices[str(key)] = (float(_number(entry, f"{pf.path}: prices.{key}", minimum=0.0)), unit)
        if isinstance(entry, Mapping) and entry.get("basis") is not None:
            bases[str(key)] = str(entry["basis"])
    return PriceTable(pf, int(year), prices, str(pf.data.get("version", "")), bases)


@dataclass(frozen=True)
class Deflator:
    """Price index by year (any base); ``factor(a, b)`` turns yuan of year a into yuan of year b."""

    path: Path
    status: str
    source: str
    index: dict[int, float] = field(default_factory=dict)

    def require(self, years: Iterable[int], why: str) -> None:
        missing = sorted({int(y) for y in years} - set(self.index))
        if missing:
            raise InputError(f"{self.path}: no deflator for year(s) {', '.join(map(str, missing))} ({why}); "
                             f"add those years to the deflator table")

    def factor(self, from_year: int, to_year: int) -> float:
        self.require([from_year, to_year], "price conversion")
        return self.index[int(to_year)] / self.index[int(from_year)]


def load_deflator(ref: str | Path) -> Deflator:
    """Deflator table: YAML ``index: {year: value}`` (with status/source) or CSV with columns year,index."""
    path = parameter_file(ref)
    if path.suffix.lower() == ".csv":
        index: dict[int, float] = {}
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not {"year", "index"} <= set(reader.fieldnames):
                raise InputError(f"{path}: a deflator CSV needs the columns year,index")
            for i, row in enumerate(reader, start=2):
                try:
                    y, v = int(row["year"]), float(row["index"])
                except (TypeError, ValueError):
                    raise InputError(f"{path}: line {i}: year '{row['year']}' / index '{row['index']}' are not "
                                     f"numbers; fix the line") from None
                if not (math.isfinite(v) and v > 0):
                    raise InputError(f"{path}: line {i}: index {v:g} must be a positive number")
                if y in index:
                    raise InputError(f"{path}: year {y} appears twice; give one index per year")
                index[y] = v
        status = "user table"
        source = str(path)
    else:
        pf = read_param_file(path)
        raw = pf.data.get("index")
        if not isinstance(raw, Mapping) or not raw:
            raise InputError(f"{path}: key 'index' must map years to price-index values")
        index = {}
        for y, v in raw.items():
            year = _code(y, f"{path}: index")
            index[year] = float(_number(v, f"{path}: index.{year}", minimum=1e-12))
        status, source = pf.status, pf.source
    if not index:
        raise InputError(f"{path}: the deflator table is empty; give one index per year")
    return Deflator(path, status, source, dict(sorted(index.items())))
