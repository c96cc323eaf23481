"""What every Tier-2 GEP service is made of (:class:`Service`) and the named objects its functions take.

A service module (``water_conservation.py``, …) declares one :class:`Service`: the light spec of the service
catalogue (:mod:`gep.config.gep_services`: names, category, raster inputs, parameter tables, units) and its
formulas:

- ``load(ctx: ParamContext) -> P``: read its parameter files once per run into a small object ``P``;
- ``density(block: Block, p: P) -> ndarray``: the per-cell quantity (``spec.raster_unit`` per year) of one
  block of the land cover, from the named inputs on the same cells (kind ``raster``);
- ``derive(p: P) -> float``: the factor on its base service (kind ``derived``; O₂ = CO₂ × 32/44);
- ``parts(ctx: AreaContext, p: P, year: int) -> list[Part]``: the quantities per region of one year, one
  :class:`~.area.Part` per priced part (kind ``area``, :mod:`.area`);
- ``price(v: Valuing) -> Price``: the unit price (yuan per ``spec.quantity_unit`` in prices of
  ``v.prices.base_year``: the price table's base year, or the accounting year with a profile) and how it was
  formed;
- ``method(v: Valuing) -> str`` and ``source(v: Valuing) -> str``: what the ``method`` and ``source`` columns
  of the GEP table say.

Region totals are Σ density × covered ellipsoidal area (m²) × ``spec.to_quantity`` (docs/methods.md §4.2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gep.config.gep import GepConfig, RasterInput
from gep.config.gep_services import ServiceSpec
from gep.indicators.gep.params import ParamFile, read_param_file

#: unit conversions, spelled out (tests check them against hand arithmetic)
MM_M2_TO_M3 = 1e-3          # 1 mm of water over 1 m² = 0.001 m³
T_PER_HM2_M2_TO_T = 1e-4    # 1 t/hm² over 1 m² = 1e-4 t (1 hm² = 10,000 m²)
G_M2_TO_T = 1e-6            # 1 g/m² over 1 m² = 1e-6 t


def class_lookup(lc: np.ndarray, codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Value of each cell's class (float64); NaN for codes that are not in ``codes`` (nodata, unknown)."""
    lc = np.asarray(lc)
    codes = np.asarray(codes, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if lc.dtype.kind in "iu" and lc.dtype.itemsize == 1:
        # 256-entry table: one gather per cell
        table = np.full(256, np.nan)
        lo = 0 if lc.dtype.kind == "u" else -128
        ok = (codes >= lo) & (codes < lo + 256)
        table[codes[ok] - lo] = values[ok]
        return table[lc.astype(np.int16) - lo] if lo else table[lc]
    order = np.argsort(codes)
    sc, sv = codes[order], values[order]
    flat = lc.astype(np.int64)
    pos = np.clip(np.searchsorted(sc, flat), 0, max(len(sc) - 1, 0))
    if len(sc) == 0:
        return np.full(lc.shape, np.nan)
    return np.where(sc[pos] == flat, sv[pos], np.nan)


@dataclass(frozen=True)
class Block:
    """One block of the land cover (class codes) and of a service's inputs on the same cells, by name
    (fields of ``gep.rasters``, plus ``ls`` for the LS factor)."""

    lc: np.ndarray
    inputs: Mapping[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.inputs[name]


@dataclass
class ParamContext:
    """Where a service reads its parameters: the config's parameter tables and the class scheme's codes."""

    cfg: GepConfig
    scheme_codes: np.ndarray
    _files: dict = field(default_factory=dict)
    _reads: dict = field(default_factory=dict)      # service name → the tables its load read
    _loading: str | None = None

    def ref(self, table: str) -> str:
        """The built-in name or path configured for parameter table ``table`` (a field of gep.parameters)."""
        if self._loading is not None:
            self._reads.setdefault(self._loading, []).append(table)
        return getattr(self.cfg.parameters, table)

    def file(self, table: str) -> ParamFile:
        """The parameter file of ``table``, read once per run."""
        ref = self.ref(table)
        if table not in self._files:
            self._files[table] = read_param_file(ref)
        return self._files[table]

    def load(self, service: Service) -> Any:
        """``service.load(self)``, keeping which parameter tables it read (for :meth:`statuses`)."""
        self._loading = service.name
        try:
            return service.load(self)
        finally:
            self._loading = None

    def statuses(self, name: str) -> list[str]:
        """The ``status`` texts of the parameter files service ``name``'s load read."""
        saved, self._loading = self._loading, None
        try:
            return [self.file(t).status for t in dict.fromkeys(self._reads.get(name, []))]
        finally:
            self._loading = saved


@dataclass(frozen=True)
class Valuing:
    """What a service's price, method and source are formed from."""

    cfg: GepConfig
    params: Any                 # the service's loaded parameters (its ``load`` result)
    prices: Any                 # one year's prices (gep.indicators.gep.profile_prices.YearPrices): get, basis
    dem_path: str | Path | None = None


@dataclass(frozen=True)
class Price:
    """A unit price in yuan per quantity unit, of the price table's base year, and how it was formed."""

    value: float
    unit: str


def describe(inp: RasterInput | None) -> str:
    """A raster input as cited in the ``source`` column: its file name (the full path and checksum are in the
    run's provenance), so that the same inputs give the same table wherever the project lives."""
    if inp is None:
        return "-"
    return Path(inp.path).name if inp.path is not None else f"constant {inp.value:g}"


@dataclass(frozen=True)
class Service:
    """A Tier-2 GEP service: its catalogue spec and its formulas (see the module docstring)."""

    spec: ServiceSpec
    load: Callable[[ParamContext], Any]
    price: Callable[[Valuing], Price]
    method: Callable[[Valuing], str]
    source: Callable[[Valuing], str]
    density: Callable[[Block, Any], np.ndarray] | None = None
    derive: Callable[[Any], float] | None = None
    parts: Callable[..., list] | None = None

    def __post_init__(self):
        if self.spec.kind == "raster" and self.density is None:
            raise ValueError(f"service {self.spec.name}: a raster service needs a density function")
        if self.spec.kind == "derived" and self.derive is None:
            raise ValueError(f"service {self.spec.name}: a derived service needs a derive function")
        if self.spec.kind == "area" and self.parts is None:
            raise ValueError(f"service {self.spec.name}: an area service needs a parts function")
        if self.spec.kind == "table":
            raise ValueError(f"service {self.spec.name}: table services are computed by the runner, not registered "
                             f"with formulas")

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def reads(self) -> tuple[str, ...]:
        """Every input name its density reads: the required and optional raster inputs and ``ls``."""
        return self.spec.inputs + self.spec.optional_inputs + (("ls",) if self.spec.needs_ls else ())
