"""GEP profiles: a standard's items, prices and parameters as data (docs/methods.md §4.8).

A profile is a YAML file (built-in: ``src/gep/data/profiles/NAME.yaml``; or a path to the user's own):

.. code-block:: yaml

    name: garze2010
    title: …
    status: V            # of the profile as a whole
    source: …
    items:
      water_conservation: {name_zh: 水源涵养, category: regulating, quantity_unit: m³,
                           basis: reservoir storage, price: water_storage, method: …}
      agriculture: {name_zh: 农业产品, category: material, quantity_unit: 元, valuation: given, method: …}
      sand_fixation: {…, quantity_unit: t, basis: sand fixed, price: sand_control,
                      convert: {per: [sand_bulk_density, sand_cover_depth], unit: m², basis: sand-covered land}}
    prices:
      water_storage: {value: 7.06, unit: 元/m³, basis: reservoir storage, price_year: 2010, region: 甘孜州,
                      source: …, status: V}
      carbon: [{…, price_year: 2010}, {…, price_year: 2020}]     # one record per price year
    parameters:
      sand_bulk_density: {value: 1.28, unit: t/m³, source: …, status: V}

An item is valued either with its price (``valuation: price``, the default: quantity × price) or is a value
already (``valuation: given``: yearbook output values, tourism; its quantity unit is 元, 万元 or 亿元).
``convert`` turns the quantity into what the price is per: × every ``times`` parameter, ÷ every ``per``
parameter, giving ``unit`` counted as ``basis``. ``optional: true`` marks an item a standard lets out.

A record whose value is empty (``value: null``) is a blank to fill (the provincial template): it needs its
unit and basis so the filler knows what is asked; valuing an item with a blank price is an error. A filled
price needs value, unit, basis, price_year, source and status; status is one of V, V2, P, DEMO
(docs/methods.md, preface). Every problem is a one-line InputError naming the file, the key and the value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from gep.core.errors import InputError
from gep.core.settings import read_yaml
from gep.core.resources import available, resolve
from gep.indicators.gep.units import basis_factor, normal_basis, price_unit, unit

#: category key → Chinese name (GB/T 46869-2025 and the 481号 norm: 物质产品 + 调节服务 + 文化服务)
CATEGORIES = {"material": "物质产品", "regulating": "调节服务", "cultural": "文化服务"}
#: other words accepted for a category (the run's statistics table says "provisioning" for 物质产品)
CATEGORY_ALIASES = {"provisioning": "material", "物质产品": "material", "物质供给": "material",
                    "调节服务": "regulating", "文化服务": "cultural"}
#: status marks (docs/methods.md preface), strongest first
STATUSES = ("V", "V2", "P", "DEMO")
#: marks that may not go into a published total unflagged
PROVISIONAL = ("P", "DEMO")
VALUATIONS = ("price", "given")


def category_key(text: Any) -> str | None:
    """The category key of ``text`` (a key, an alias or the Chinese name), or None when it is none."""
    s = str(text or "").strip()
    if s in CATEGORIES:
        return s
    return CATEGORY_ALIASES.get(s, CATEGORY_ALIASES.get(s.lower()))


def weakest(statuses) -> str:
    """The weakest of some status marks (V > V2 > P > DEMO); '' when none."""
    marks = [s for s in statuses if s in STATUSES]
    return max(marks, key=STATUSES.index) if marks else ""


@dataclass(frozen=True)
class PriceRecord:
    """One unit price: value (None = blank to fill) in ``unit`` (元/t …), per ``basis``, of ``price_year``."""

    key: str
    value: float | None
    unit: str
    basis: str
    price_year: int | None
    region: str
    source: str
    status: str
    note: str = ""


@dataclass(frozen=True)
class Parameter:
    """A coefficient an item's conversion uses (e.g. sand bulk density, t/m³)."""

    key: str
    value: float | None
    unit: str
    source: str
    status: str
    note: str = ""


@dataclass(frozen=True)
class Conversion:
    """Quantity → what the price is per: × Π times ÷ Π per, giving ``unit`` counted as ``basis``."""

    times: tuple[str, ...]
    per: tuple[str, ...]
    unit: str
    basis: str


@dataclass(frozen=True)
class Item:
    """One line of the account."""

    key: str
    name_zh: str
    category: str
    quantity_unit: str
    basis: str
    valuation: str
    price: str | None
    group: str
    method: str
    optional: bool = False
    convert: Conversion | None = None


@dataclass(frozen=True)
class Profile:
    """A GEP standard as data: its items, prices (key → records by price year) and parameters."""

    name: str
    path: Path
    title: str
    status: str
    source: str
    items: dict[str, Item]
    prices: dict[str, tuple[PriceRecord, ...]]
    parameters: dict[str, Parameter] = field(default_factory=dict)

    def cite(self) -> str:
        return f"{self.path.name} [{self.status}]"

    def price_for(self, key: str, year: int) -> PriceRecord:
        """The record of price ``key`` used for accounting year ``year``: the record of that year; else the
        latest earlier one; else the earliest (docs/methods.md §4.8). A blank record is an error."""
        records = [r for r in self.prices[key] if r.value is not None]
        if not records:
            raise InputError(f"{self.path}: prices.{key}: value is empty; fill in value, price_year, source and "
                             f"status (this profile is a template to fill)")
        exact = [r for r in records if r.price_year == year]
        earlier = sorted((r for r in records if r.price_year < year), key=lambda r: r.price_year)
        return exact[0] if exact else earlier[-1] if earlier else min(records, key=lambda r: r.price_year)


def profile_file(ref: str | Path) -> Path:
    """The file of a profile given as a built-in name (``src/gep/data/profiles/NAME.yaml``) or a path."""
    return resolve(ref, "profiles", "GEP profile", layout="src/gep/data/profiles/national_default.yaml")


def builtin_profiles() -> list[str]:
    return available("profiles")


def _text(entry: Mapping, key: str) -> str:
    v = entry.get(key)
    return "" if v is None else str(v).strip()


def _value(raw: Any, where: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(float(raw)):
        raise InputError(f"{where}: '{raw}' is not a number; give a number (or leave it empty to fill later)")
    if raw < 0:
        raise InputError(f"{where}: {raw:g} is negative; prices and parameters are ≥ 0")
    return float(raw)


def _status(entry: Mapping, where: str, filled: bool) -> str:
    s = _text(entry, "status")
    if s == "" and not filled:
        return ""
    if s not in STATUSES:
        raise InputError(f"{where}.status: '{s}' is not one of {', '.join(STATUSES)}; mark how far the number "
                         f"is verified (docs/methods.md, status marks)")
    return s


def _price(key: str, entry: Any, where: str) -> PriceRecord:
    if not isinstance(entry, Mapping):
        raise InputError(f"{where}: expected {{value, unit, basis, price_year, region, source, status}}, "
                         f"got '{entry}'")
    value = _value(entry.get("value"), f"{where}.value")
    filled = value is not None
    for k in ("unit", "basis"):
        if _text(entry, k) == "":
            raise InputError(f"{where}: {k} is missing; every price says its unit (元/t) and its basis (what one "
                             f"unit is counted as, e.g. CO₂ or C for carbon)")
    price_unit(_text(entry, "unit"), f"{where}.unit")
    year = entry.get("price_year")
    if filled and (isinstance(year, bool) or not isinstance(year, int)):
        raise InputError(f"{where}.price_year: '{year}' is not a year; give the year the price is of (e.g. 2010)")
    if filled and _text(entry, "source") == "":
        raise InputError(f"{where}.source: empty; say where the price comes from")
    return PriceRecord(key, value, _text(entry, "unit"), normal_basis(_text(entry, "basis")),
                       int(year) if isinstance(year, int) and not isinstance(year, bool) else None,
                       _text(entry, "region"), _text(entry, "source"), _status(entry, where, filled),
                       _text(entry, "note"))


def _prices(raw: Any, path: Path) -> dict[str, tuple[PriceRecord, ...]]:
    if not isinstance(raw, Mapping) or not raw:
        raise InputError(f"{path}: key 'prices' must map price keys to records {{value, unit, basis, price_year, "
                         f"region, source, status}}")
    out = {}
    for key, entry in raw.items():
        entries = entry if isinstance(entry, list) else [entry]
        recs = tuple(_price(str(key), e, f"{path}: prices.{key}" + (f"[{i}]" if isinstance(entry, list) else ""))
                     for i, e in enumerate(entries))
        years = [r.price_year for r in recs if r.price_year is not None]
        if len(years) != len(set(years)):
            raise InputError(f"{path}: prices.{key}: price_year repeats; give one record per price year")
        units = {(r.unit, r.basis) for r in recs}
        if len(units) > 1:
            raise InputError(f"{path}: prices.{key}: records differ in unit or basis ({sorted(units)}); give all "
                             f"years of one price in one unit and basis")
        out[str(key)] = recs
    return out


def _parameters(raw: Any, path: Path) -> dict[str, Parameter]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InputError(f"{path}: key 'parameters' must map keys to {{value, unit, source, status}}")
    out = {}
    for key, entry in raw.items():
        where = f"{path}: parameters.{key}"
        if not isinstance(entry, Mapping):
            raise InputError(f"{where}: expected {{value, unit, source, status}}, got '{entry}'")
        value = _value(entry.get("value"), f"{where}.value")
        if _text(entry, "unit") == "":
            raise InputError(f"{where}: unit is missing; say the parameter's unit (e.g. t/m³, m, 1)")
        if value is not None and _text(entry, "source") == "":
            raise InputError(f"{where}.source: empty; say where the parameter comes from")
        out[str(key)] = Parameter(str(key), value, _text(entry, "unit"), _text(entry, "source"),
                                  _status(entry, where, value is not None), _text(entry, "note"))
    return out


def _conversion(raw: Any, where: str, parameters: Mapping[str, Parameter]) -> Conversion | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: expected {{times: [parameters], per: [parameters], unit: …, basis: …}}")
    lists = {}
    for k in ("times", "per"):
        v = raw.get(k) or []
        if not isinstance(v, list):
            raise InputError(f"{where}.{k}: '{v}' is not a list of parameter keys")
        for p in v:
            if str(p) not in parameters:
                raise InputError(f"{where}.{k}: parameter '{p}' is not under 'parameters'; add it or fix the key")
        lists[k] = tuple(str(p) for p in v)
    if _text(raw, "unit") == "" or _text(raw, "basis") == "":
        raise InputError(f"{where}: give the unit and basis the conversion yields (what the price is per)")
    unit(_text(raw, "unit"), f"{where}.unit")
    return Conversion(lists["times"], lists["per"], _text(raw, "unit"), normal_basis(_text(raw, "basis")))


def _item(key: str, entry: Any, path: Path, prices: Mapping[str, tuple[PriceRecord, ...]],
          parameters: Mapping[str, Parameter]) -> Item:
    where = f"{path}: items.{key}"
    if not isinstance(entry, Mapping):
        raise InputError(f"{where}: expected {{name_zh, category, quantity_unit, basis, price, method}}")
    cat = category_key(entry.get("category"))
    if cat is None:
        raise InputError(f"{where}.category: '{entry.get('category')}' is not one of {', '.join(CATEGORIES)}; "
                         f"give the item's category")
    valuation = _text(entry, "valuation") or "price"
    if valuation not in VALUATIONS:
        raise InputError(f"{where}.valuation: '{valuation}' is not one of {', '.join(VALUATIONS)}")
    q_unit = unit(_text(entry, "quantity_unit"), f"{where}.quantity_unit")
    conv = _conversion(entry.get("convert"), f"{where}.convert", parameters)
    price = _text(entry, "price") or None
    basis = normal_basis(_text(entry, "basis"))
    if valuation == "given":
        if q_unit.dimension != "money":
            raise InputError(f"{where}.quantity_unit: '{q_unit.text}' is not 元, 万元 or 亿元; an item with "
                             f"valuation: given is a value")
        if price is not None or conv is not None:
            raise InputError(f"{where}: an item with valuation: given takes no price or convert; remove them")
    else:
        if price is None:
            raise InputError(f"{where}: no price; name its record under 'prices' (price: KEY), or write "
                             f"valuation: given for an item whose quantity is a value")
        if price not in prices:
            raise InputError(f"{where}.price: '{price}' is not under 'prices'; add the price record or fix the key")
        if basis == "":
            raise InputError(f"{where}.basis: missing; say what the quantity is counted as (e.g. CO₂)")
        rec = prices[price][0]
        priced_unit = unit(conv.unit, f"{where}.convert.unit") if conv else q_unit
        priced_basis = conv.basis if conv else basis
        _, per = price_unit(rec.unit, f"{path}: prices.{price}.unit")
        if per.dimension != priced_unit.dimension:
            raise InputError(f"{where}: quantity in {priced_unit.text} but price '{price}' is per {per.text}; "
                             f"give a price per {priced_unit.base} or a convert step")
        if basis_factor(priced_basis, rec.basis) is None:
            raise InputError(f"{where}: basis '{priced_basis}' but price '{price}' is per '{rec.basis}'; make "
                             f"them the same (only C and CO₂ convert)")
    return Item(key, _text(entry, "name_zh") or key, cat, q_unit.text, basis, valuation, price,
                _text(entry, "group") or key, _text(entry, "method"), bool(entry.get("optional", False)), conv)


def load_profile(ref: str | Path) -> Profile:
    """Read and check a profile (built-in name or path); every problem is a one-line InputError."""
    path = profile_file(ref)
    data = read_yaml(path, "GEP profile")
    if not isinstance(data, Mapping):
        raise InputError(f"{path}: expected a mapping with name, status, source, items, prices")
    for k in ("status", "source"):
        if _text(data, k) == "":
            raise InputError(f"{path}: key '{k}' is missing or empty; a profile says where it comes from "
                             f"(source:) and how far it is verified (status:)")
    prices = _prices(data.get("prices"), path)
    parameters = _parameters(data.get("parameters"), path)
    raw_items = data.get("items")
    if not isinstance(raw_items, Mapping) or not raw_items:
        raise InputError(f"{path}: key 'items' must map item keys to {{name_zh, category, quantity_unit, basis, "
                         f"price, method}}")
    items = {str(k): _item(str(k), v, path, prices, parameters) for k, v in raw_items.items()}
    return Profile(_text(data, "name") or path.stem, path, _text(data, "title"), _text(data, "status"),
                   _text(data, "source"), items, prices, parameters)

