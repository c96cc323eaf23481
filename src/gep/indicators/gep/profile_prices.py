"""The prices of the raster run and what each row rests on (docs/methods.md §4.5, §4.8).

A run prices its services either with a price table (``gep.parameters.prices``, one base year) or with a GEP
profile (``gep.profile``): for accounting year Y each price key a service asks for is the profile's record
``price_for(key, Y)``, brought to prices of Y with the deflator (value × D(Y)/D(record's price year)).
:class:`PriceBook` holds either; :meth:`PriceBook.for_year` gives the object a service's ``price`` reads
(``get(key, who) -> (value, unit)``, ``basis(key)``, ``file``, ``base_year``), which also keeps every record it
handed out, so the row can say what it rests on (``price_record``) and how far that is verified (``status``).

Status marks (docs/methods.md, preface): V > V2 > P > DEMO. Parameter files and deflators write their status as
text ("mixed: V for …; P for …"); :func:`status_mark` reads the weakest mark in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gep.core.errors import InputError
from gep.indicators.gep.params import Deflator, ParamFile, PriceTable
from gep.indicators.gep.profiles import Profile, weakest

_MARK = re.compile(r"(?<![A-Za-z0-9])(V2|V|P|DEMO)(?![A-Za-z0-9])")


def status_mark(text: str | None) -> str:
    """The weakest status mark (V > V2 > P > DEMO) written in a status text; '' when it names none."""
    return weakest(_MARK.findall(str(text or "")))


def demo_source(text) -> bool:
    """Whether a table row's ``source`` marks it as invented demo data (it starts with "DEMO")."""
    return str(text or "").strip().upper().startswith("DEMO")


@dataclass(frozen=True)
class PriceUse:
    """One price record a row used: its value and unit as recorded, its price year, region and status."""

    key: str
    value: float
    unit: str
    price_year: int
    region: str
    status: str

    def text(self) -> str:
        """``dredging 15.58 元/m³ of 2010, 甘孜州, P``."""
        parts = [f"{self.key} {self.value:g} {self.unit} of {self.price_year}", self.region, self.status]
        return ", ".join(p for p in parts if p)


@dataclass
class YearPrices:
    """The prices of one accounting year as a service's ``price`` reads them; keeps the records it gave out.

    ``base_year``: the year the values returned by :meth:`get` are in (the price table's base year, or the
    accounting year with a profile); ``deflated``: whether a value of another price year was brought here."""

    file: ParamFile
    base_year: int
    _lookup: object
    used: dict[str, PriceUse] = field(default_factory=dict)
    deflated: bool = False

    def get(self, key: str, needed_by: str) -> tuple[float, str]:
        """(value in yuan of ``base_year`` per unit, unit) of price ``key``; InputError naming it when absent."""
        value, unit, use, deflated = self._lookup(key, needed_by)
        self.used[key] = use
        self.deflated = self.deflated or deflated
        return value, unit

    def basis(self, key: str) -> str | None:
        return self._lookup.basis(key)

    def record_text(self) -> str:
        """Every record used, ``; ``-joined (the ``price_record`` column)."""
        return "; ".join(u.text() for u in self.used.values())

    def statuses(self) -> list[str]:
        return [u.status for u in self.used.values()]


class _TableLookup:
    """A price table's entries: prices of its base year (the deflator brings them to accounting year ``year``
    in :func:`~.accounts.apply_prices`); their status is the table file's."""

    def __init__(self, table: PriceTable, year: int):
        self.table, self.year = table, int(year)
        self.status = status_mark(table.file.status)

    def __call__(self, key: str, needed_by: str):
        value, unit = self.table.get(key, needed_by)
        use = PriceUse(key, value, unit, self.table.base_year, "", self.status)
        return value, unit, use, self.year != self.table.base_year

    def basis(self, key: str) -> str | None:
        return self.table.basis(key)


class _ProfileLookup:
    """A profile's records for accounting year ``year``, each brought to prices of ``year``."""

    def __init__(self, profile: Profile, year: int, deflator: Deflator):
        self.profile, self.year, self.deflator = profile, int(year), deflator

    def __call__(self, key: str, needed_by: str):
        rec = record_for(self.profile, key, self.year, needed_by)
        factor = 1.0 if rec.price_year == self.year else self.deflator.factor(rec.price_year, self.year)
        use = PriceUse(key, rec.value, rec.unit, rec.price_year, rec.region, rec.status)
        return rec.value * factor, rec.unit, use, rec.price_year != self.year

    def basis(self, key: str) -> str | None:
        return record_basis(self.profile, key)


def record_for(profile: Profile, key: str, year: int, needed_by: str):
    """The profile's record of price ``key`` for accounting year ``year`` (:meth:`Profile.price_for`);
    InputError naming the profile and the key when it has none or only a blank one."""
    if key not in profile.prices:
        raise InputError(f"{profile.path}: price '{key}' is missing (needed by {needed_by}); add a record "
                         f"'{key}: {{value, unit, basis, price_year, region, source, status}}' under 'prices'")
    return profile.price_for(key, year)


def record_basis(profile: Profile, key: str) -> str | None:
    """The basis of price ``key`` (all records of one price share it; profiles.py checks that at load)."""
    recs = profile.prices.get(key)
    return recs[0].basis if recs else None


@dataclass(frozen=True)
class PriceBook:
    """The run's prices: a price table or a profile (with the deflator that brings its records to each year)."""

    table: PriceTable | None = None
    profile: Profile | None = None
    deflator: Deflator | None = None

    @property
    def name(self) -> str:
        """The profile's or the price table's name (the ``profile`` column of gep_summary)."""
        return self.profile.name if self.profile is not None else self.table.file.name

    @property
    def file(self) -> ParamFile:
        if self.profile is not None:
            p = self.profile
            return ParamFile(p.name, Path(p.path), p.status, p.source, {})
        return self.table.file

    def for_year(self, year: int) -> YearPrices:
        """What a service's ``price`` reads for accounting year ``year`` (a fresh record of what it used)."""
        if self.profile is not None:
            return YearPrices(self.file, int(year), _ProfileLookup(self.profile, year, self.deflator))
        return YearPrices(self.file, self.table.base_year, _TableLookup(self.table, year))

    def default_constant_year(self) -> int:
        """The constant-price year when none is configured: the price table's base year, or the earliest price
        year of the profile's filled records (2010 for the built-in profiles)."""
        if self.profile is None:
            return self.table.base_year
        years = [r.price_year for recs in self.profile.prices.values() for r in recs if r.value is not None]
        if not years:
            raise InputError(f"{self.profile.path}: no price has a value; fill in the prices (this profile is a "
                             f"template to fill)")
        return min(years)

    def price_years(self, keys: Iterable[str], years: Iterable[int]) -> set[int]:
        """The price years of the records used for ``keys`` in ``years`` (the deflator must have them)."""
        if self.profile is None:
            return {self.table.base_year}
        return {record_for(self.profile, k, y, "the run").price_year for k in keys for y in years}

    def provenance(self) -> dict:
        """What the tables' metadata say about the prices."""
        f = self.file
        kind = "profile" if self.profile is not None else "price table"
        out = {"kind": kind, "name": self.name, "file": str(f.path), "status": f.status, "source": f.source}
        if self.table is not None:
            out.update(base_year=self.table.base_year, version=self.table.version)
        return out


def row_status(prices: YearPrices | None, deflator: Deflator | None, others: Iterable[str] = ()) -> str:
    """The weakest of the price records a row used, the marks in ``others`` (parameter files, tables) and the
    deflator's status when it changed the row's value."""
    marks = list(prices.statuses()) if prices is not None else []
    marks += [status_mark(o) for o in others]
    if prices is not None and deflator is not None and prices.used and prices.deflated:
        marks.append(status_mark(deflator.status))
    return weakest(marks)


def _part_price_keys(params) -> list[str]:
    """The price keys an area service's parameters name for its parts (pollutants, pest-control parts): its
    ``price`` function asks only for the first, the run for every one. An optional part (tp) is priced only
    when its table has rows, so its price is asked for then (still before any raster work)."""
    keys = []
    for attr in ("pollutants", "parts"):
        for part in getattr(params, attr, ()) or ():
            if isinstance(getattr(part, "price", None), str) and not getattr(part, "optional", False):
                keys.append(part.price)
    return keys


def price_problems(cfg, book: PriceBook, services, params: dict, years: Iterable[int],
                   constant_year: int) -> tuple[list[str], list[str]]:
    """Every problem the run's prices would stop on, found before any raster work, one line each: (the price
    keys a selected service asks for that the profile or price table lacks or leaves blank; the record price
    years, accounting years or the constant-price year that the deflator lacks)."""
    from gep.indicators.gep.services.base import Valuing

    years = sorted({int(y) for y in years})
    problems: list[str] = []
    keys: dict[str, str] = {}
    for s in services:
        if not s.spec.priced or s.name not in params:
            continue
        for k in _part_price_keys(params[s.name]):
            keys.setdefault(k, s.name)
        for y in years[:1]:
            yp = YearPrices(book.file, y, _Probe(book, y))
            try:
                s.price(Valuing(cfg, params[s.name], yp))
            except InputError as err:
                problems.extend(err.lines())
            for k in yp.used:
                keys.setdefault(k, s.name)
    price_years: set[int] = set()
    for k, who in keys.items():
        try:
            price_years |= book.price_years([k], years)
            if book.profile is None:
                book.table.get(k, who)
        except InputError as err:
            problems.extend(err.lines())
    deflator_lines: list[str] = []
    if book.deflator is not None:
        try:
            book.deflator.require(set(years) | price_years | {int(constant_year)},
                                  "needed for current/constant prices: accounting years, price years and the "
                                  "constant-price year")
        except InputError as err:
            deflator_lines = err.lines()
    return list(dict.fromkeys(problems)), deflator_lines


class _Probe:
    """A lookup that finds which keys a service's ``price`` asks for without a deflator: a profile record's
    value as recorded (a missing or blank record raises as in the run)."""

    def __init__(self, book: PriceBook, year: int):
        self.book, self.year = book, year

    def __call__(self, key: str, needed_by: str):
        if self.book.profile is None:
            value, unit = self.book.table.get(key, needed_by)
        else:
            rec = record_for(self.book.profile, key, self.year, needed_by)
            value, unit = rec.value, rec.unit
        return value, unit, PriceUse(key, value, unit, self.year, "", ""), False

    def basis(self, key: str) -> str | None:
        if self.book.profile is None:
            return self.book.table.basis(key)
        return record_basis(self.book.profile, key)


def load_book(cfg, deflator: Deflator | None) -> PriceBook:
    """The run's prices: the profile ``gep.profile`` when set, else the price table ``gep.parameters.prices``."""
    from gep.indicators.gep.params import load_prices
    from gep.indicators.gep.profiles import load_profile

    if cfg.profile is not None:
        return PriceBook(profile=load_profile(cfg.profile), deflator=deflator)
    return PriceBook(table=load_prices(cfg.parameters.prices), deflator=deflator)
