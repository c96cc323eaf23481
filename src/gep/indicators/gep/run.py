"""The top-level GEP run: :func:`run_gep` (see the package docstring for inputs and outputs).

One path for the Tier-2 services of the registry (:mod:`.services.registry`): every year has a sums table
(:mod:`.year_sums`), read from the gep_sums stage's file or computed here from the year's densities (read from
the service rasters written before, or computed and written, or computed in memory: :class:`YearJob`), and the
table rows of every selected service are formed from the sums (:func:`_raster_rows`).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from gep.accounting.classes import load_scheme
from gep.accounting.landcover import LandcoverRaster
from gep.config.gep import GepConfig, RasterInput, RegulatorInput, priced, service_raster_names
from gep.core.errors import InputError
from gep.hydrology.ls_factor import LsMethod, compute_ls
from gep.indicators.gep.accounts import SERVICE_UNITS, SUMMARY_UNITS, apply_prices, required_years, summarise
from gep.indicators.gep.carbon_stock import UNITS as CARBON_UNITS
from gep.indicators.gep.carbon_stock import carbon_stock
from gep.indicators.gep.change import CHANGE_UNITS, gep_change
from gep.indicators.gep.params import (
    Deflator,
    check_codes,
    load_carbon_pools,
    load_deflator,
    load_ecosystem_map,
    load_equivalent_factors,
)
from gep.indicators.gep.profile_prices import (PriceBook, demo_source, load_book, price_problems, row_status,
                                               status_mark)
from gep.indicators.gep.profiles import PROVISIONAL, weakest
from gep.indicators.gep.services.base import Block, ParamContext, Service, Valuing
from gep.indicators.gep.services import registry
from gep.indicators.gep.services.area import AreaContext, area_frame, table_problems
from gep.indicators.gep.services.registry import area_services, density_services, profile_items, selected
from gep.indicators.gep.statistics import METHOD as STAT_METHOD
from gep.indicators.gep.statistics import read_statistics
from gep.indicators.gep.valuation import DEDUCTION, TOTAL_LINES, read_region_deductions
from gep.indicators.gep.tier1 import METHOD as T1_METHOD
from gep.indicators.gep.tier1 import OUTSIDE_GEP as T1_OUTSIDE_GEP
from gep.indicators.gep.tier1 import OUTSIDE_GEP_NOTE as T1_OUTSIDE_GEP_NOTE
from gep.indicators.gep.tier1 import QUANTITY_UNIT as T1_UNIT
from gep.indicators.gep.tier1 import tier1_quantities
from gep.indicators.gep.year_sums import YearSums, read_year_sums, regulator_layer, sums_table
from gep.io.tables import write_table
from gep.raster.grid import Grid, open_lazy
from gep.raster.resample import constant_on_grid, warp_to_grid
from gep.raster.zonal import Zones, zonal_sums
from gep.vector.geodesy import polygon_area_m2
from gep.vector.regions import to_crs

log = logging.getLogger("gep.indicators.gep")

ROW_COLUMNS = ["region_code", "region_name", "year", "service", "service_zh", "category", "tier", "quantity",
               "quantity_unit", "base_price", "price_year", "price_unit", "given_value_yuan", "method", "source",
               "price_record", "status"]


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame(columns=ROW_COLUMNS)


def _as_xr(data: da.Array, grid: Grid, name: str, units: str) -> xr.DataArray:
    t = grid.transform
    h, w = grid.shape
    coords = {"y": t.f + t.e * (np.arange(h) + 0.5), "x": t.c + t.a * (np.arange(w) + 0.5)}
    arr = xr.DataArray(data, coords=coords, dims=("y", "x"), name=name, attrs={"units": units})
    arr = arr.rio.write_crs(grid.crs).rio.write_transform(t)
    return arr.rio.write_nodata(np.nan, encoded=False)


class _Inputs:
    """Raster inputs of one year on one land-cover grid (lazy; ``ls`` is the LS factor).

    Each raster is opened and resampled once per year however many services (or Tier-1 regulators) read it:
    the arrays are memoised by what defines them (the year's path, resampling, kind, scale, offset, nodata, band,
    valid_range, count_above), so et and an evaporation given as the same file are one array, read once."""

    def __init__(self, cfg: GepConfig, year: int, grid: Grid, chunks, ls_path: Path | None):
        self.cfg, self.year, self.grid, self.chunks, self.ls_path = cfg, year, grid, chunks, ls_path
        self._read: dict[tuple, da.Array] = {}

    def _get_input(self, inp: RasterInput, name: str | None = None) -> da.Array:
        """Input ``inp`` (named ``name`` in gep.rasters or gep.tier1.regulators) for the year: the year's raster,
        or at fixed climate the mean of the climate years' rasters (:meth:`_climate_mean`)."""
        if inp.value is not None:
            return constant_on_grid(inp.value * inp.scale + inp.offset, self.grid, self.chunks)
        options = dict(resampling=inp.resampling, kind=inp.kind, scale=inp.scale, offset=inp.offset,
                       nodata=inp.nodata, band=inp.band, valid_range=inp.valid_range, count_above=inp.count_above)
        if name is not None and self.cfg.fixed(name, inp):
            return self._climate_mean(inp, options)
        return self._warped(inp.path_for(self.year), options)

    def _climate_mean(self, inp: RasterInput, options: dict[str, Any]) -> da.Array:
        """Cell-by-cell mean of the input over ``gep.fixed_climate``'s years, in the input's unit (docs/methods.md
        §4.6). A cell that is nodata in any climate year is nodata (NaN): a mean of fewer years would mix
        periods from cell to cell. Each year's raster is read through the memoised :meth:`_warped`."""
        years = self.cfg.fixed_climate.climate_years
        key = ("climate mean", inp.path, tuple(years), *sorted(options.items()))
        if key not in self._read:
            # summed in float64 (many years of float32 lose digits), kept float32 like every input
            total = self._warped(inp.path_for(years[0]), options).astype(np.float64)
            for y in years[1:]:
                total = total + self._warped(inp.path_for(y), options)  # NaN in any year stays NaN
            self._read[key] = (total / len(years)).astype(np.float32)
        return self._read[key]

    def _warped(self, path, options: dict[str, Any]) -> da.Array:
        key = (str(Path(path).resolve()), *sorted(options.items()))
        if key not in self._read:
            self._read[key] = warp_to_grid(path, self.grid, self.chunks, output="density", **options)
        return self._read[key]

    def given(self, name: str) -> bool:
        """Whether input ``name`` can be read: the LS factor, a configured raster or constant, or evaporation
        (which falls back to et)."""
        return name in ("ls", "evaporation") or getattr(self.cfg.rasters, name) is not None

    def get(self, name: str) -> da.Array:
        if name == "ls":
            return self._warped(self.ls_path, {"resampling": "bilinear"})
        inp = getattr(self.cfg.rasters, name)
        if name == "evaporation" and inp is None:
            return self.get("et")
        return self._get_input(inp, name)


# ---------------------------------------------------------------------------------------------------------
# what a run computes from rasters


@dataclass(frozen=True)
class Selection:
    """The raster work of a config: its selected registry services (kind raster or derived, registry order)
    and its Tier-1 regulators given as rasters."""

    services: tuple[Service, ...]
    regulators: dict[str, RegulatorInput]

    @classmethod
    def of(cls, cfg: GepConfig) -> Selection:
        wanted = set(cfg.services)
        regs = {k: r for k, r in cfg.tier1.regulators.items() if r.raster is not None} if "tier1" in wanted else {}
        # services of kind 'area' need no raster work (their rows: _area_rows)
        return cls(tuple(s for s in selected(cfg.services) if s.spec.kind != "area"), regs)

    @property
    def densities(self) -> tuple[Service, ...]:
        """The raster services whose density is computed or read (a derived service's base too)."""
        return density_services(self.services)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.services]

    @property
    def layers(self) -> list[str]:
        """The layers of a year's sums table: each density, then each regulator raster."""
        return [s.name for s in self.densities] + [regulator_layer(n) for n in self.regulators]

    def needs_ls(self, mode: str = "memory") -> bool:
        """Whether a density computed in ``mode`` reads the LS factor (in mode ``read`` the selected services'
        densities come from their rasters)."""
        wanted = set(self.names)
        return any(s.spec.needs_ls and not (mode == "read" and s.name in wanted) for s in self.densities)

    def params(self, cfg: GepConfig, scheme_codes, ctx: ParamContext | None = None) -> dict[str, Any]:
        """The parameters of each selected service and density (each service's ``load``), every parameter
        file read once (``ctx`` keeps which files each service read)."""
        ctx = ctx if ctx is not None else ParamContext(cfg, np.asarray(scheme_codes, dtype=np.int64))
        return {s.name: ctx.load(s) for s in dict.fromkeys(self.services + self.densities)}

    def __bool__(self) -> bool:
        return bool(self.services or self.regulators)


# ---------------------------------------------------------------------------------------------------------
# checks before any work


def preflight(cfg: GepConfig, years: list[int], dem_path, *, rasters: bool = True) -> list[str]:
    """Every missing input for the selected services, as one-line problems (without ``rasters``, not the raster
    files: tables built from stored sums do not read them)."""
    problems = []
    wanted = set(cfg.services)
    for service in selected(cfg.services):
        name_s = service.name
        for name in service.spec.inputs + service.spec.optional_inputs:
            inp = getattr(cfg.rasters, name)
            if inp is None and name in service.spec.optional_inputs:
                continue
            if inp is None:
                problems.append(f"gep.rasters.{name}: not set but needed by service '{name_s}'; give a raster "
                                f"path (with {{year}}) or a constant, or remove '{name_s}' from gep.services")
                continue
            if inp.path is not None and rasters:
                problems += _missing_files(cfg, f"gep.rasters.{name}", name, inp, years)
    for service in selected(cfg.services):
        if service.spec.needs_ls and cfg.ls.path is None and dem_path is None and cfg.dem is None:
            problems.append(f"gep.dem: not set but needed by service '{service.name}' (LS factor); give a DEM or a "
                            f"precomputed LS raster (gep.ls.path), or remove '{service.name}' from gep.services")
    problems += table_problems(cfg, area_services(selected(cfg.services)))
    if "statistics" in wanted and cfg.statistics is None:
        problems.append("gep.statistics: not set but service 'statistics' is selected; write a template with "
                        "`gep gep-template stats.csv`, fill it in and set its path, or remove 'statistics'")
    if priced(wanted) and cfg.deflator is None:
        problems.append("gep.deflator: not set; give a deflator table (year → index) for current/constant prices "
                        "(the built-in deflator_demo holds invented DEMO values only)")
    for name, reg in cfg.tier1.regulators.items():
        if reg.table is not None and not Path(reg.table).is_file():
            problems.append(f"gep.tier1.regulators.{name}.table: {reg.table} does not exist; check the path")
        if reg.raster is not None and reg.raster.path is not None and rasters and "tier1" in wanted:
            problems += _missing_files(cfg, f"gep.tier1.regulators.{name}.raster", name, reg.raster, years)
    return list(dict.fromkeys(problems))  # an input several services read is reported once


def _missing_files(cfg: GepConfig, where: str, name: str, inp: RasterInput, years: list[int]) -> list[str]:
    """One line per file of input ``name`` that ``years`` read and that does not exist: the years' own files, or
    at fixed climate the climate years' (docs/methods.md §4.6)."""
    fixed = cfg.fixed(name, inp)
    out = []
    for y in cfg.raster_years(name, inp, years):
        p = inp.path_for(y)
        if p.is_file():
            continue
        if fixed:
            out.append(f"{where}: {p} (climate year {y} of gep.fixed_climate) does not exist; provide it or "
                       f"leave {y} out of gep.fixed_climate")
        else:
            out.append(f"{where}: {p} (year {y}) does not exist; check the path template")
    return out


def _check(cfg: GepConfig, years: list[int], dem_path, *, rasters: bool = True) -> None:
    problems = preflight(cfg, years, dem_path, rasters=rasters)
    if problems:
        raise InputError.many(problems)


# ---------------------------------------------------------------------------------------------------------
# one year's rasters: densities, service rasters, sums


def service_raster_path(raster_dir: str | Path, service: str, year: int) -> Path:
    return Path(raster_dir) / f"{service}_{year}.tif"


@dataclass
class YearJob:
    """One year's raster work on its land-cover grid. ``mode``: ``read`` the densities from the service
    rasters written before (:func:`write_service_rasters`), ``write`` them (computed) and read them back, or
    keep them in ``memory``."""

    cfg: GepConfig
    year: int
    sel: Selection
    params: dict[str, Any]
    lc: LandcoverRaster
    inputs: _Inputs
    raster_dir: Path
    mode: Literal["read", "write", "memory"]

    @classmethod
    def open(cls, cfg: GepConfig, year: int, sel: Selection, params: dict[str, Any], *, landcover_path,
             landcover_nodata, ls_path: Path | None, raster_dir: Path, mode: str) -> YearJob:
        lc = LandcoverRaster.open(landcover_path, chunk=cfg.chunk, nodata=landcover_nodata)
        return cls(cfg, year, sel, params, lc, _Inputs(cfg, year, lc.grid, lc.data.chunks, ls_path), raster_dir,
                   mode)

    @property
    def grid(self) -> Grid:
        return self.lc.grid

    def path(self, service: str) -> Path:
        return service_raster_path(self.raster_dir, service, self.year)


def _density(job: YearJob, service: Service) -> da.Array:
    """Lazy per-cell density of a raster service (``spec.raster_unit`` per year, float32) on the land-cover
    grid: its ``density`` applied block by block to the land cover and its named inputs; NaN on land-cover
    nodata. Optional inputs that are not configured are left out of the block (the service uses its default)."""
    names = [n for n in service.reads if n in service.spec.inputs or job.inputs.given(n)]
    lc = job.lc.data
    arrays = [job.inputs.get(n).rechunk(lc.chunks) for n in names]
    params = job.params[service.name]

    def run(lc_block, *blocks):
        return service.density(Block(lc_block, dict(zip(names, blocks))), params).astype(np.float32)

    out = da.map_blocks(run, lc, *arrays, dtype=np.float32, meta=np.array((), dtype=np.float32))
    if job.lc.nodata is None:
        return out
    return da.where(lc == job.lc.nodata, np.float32(np.nan), out)


def _open_density(job: YearJob, service: str) -> da.Array:
    """A density read from the service raster written before (by :func:`write_service_rasters`)."""
    path = job.path(service)
    if not path.is_file():
        raise InputError(f"{path}: service raster missing; run `gep stage gep-rasters` for {job.year} first (the "
                         f"workflow's gep_rasters rule)")
    data = open_lazy(path, job.cfg.chunk)
    if data.shape != job.grid.shape:
        raise InputError(f"{path}: {data.shape[1]} × {data.shape[0]} cells, but the land cover of {job.year} has "
                         f"{job.grid.shape[1]} × {job.grid.shape[0]}; rerun `gep stage gep-rasters` for {job.year}")
    return data.data


def _write_raster(job: YearJob, service: Service, data: da.Array) -> None:
    """One service raster (COG, see :func:`gep.raster.cog.write_cog`) in the service's raster unit per year."""
    from gep.raster.cog import write_cog

    spec = service.spec
    write_cog(_as_xr(data, job.grid, spec.name, f"{spec.raster_unit}/a"), job.path(spec.name), None,
              units=f"{spec.raster_unit} per year ({spec.name_zh})")


def _densities(job: YearJob) -> dict[str, da.Array]:
    """The densities of the year (a selected one read from its raster in mode ``read``; the base of a derived
    service that is not selected is always computed) and, in mode ``write``, every selected service's raster
    written first; after writing, a density is read back from its file (totals then come from exactly what was
    written)."""
    wanted = set(job.sel.names)
    dens: dict[str, da.Array] = {}
    for s in job.sel.densities:
        read = job.mode == "read" and s.name in wanted
        dens[s.name] = _open_density(job, s.name) if read else _density(job, s)
    if job.mode != "write":
        return dens
    for s in job.sel.densities:
        if s.name in wanted:  # the base density of a derived-only selection stays in memory
            _write_raster(job, s, dens[s.name])
            dens[s.name] = open_lazy(job.path(s.name), job.cfg.chunk).data
    for s in job.sel.services:
        if s.spec.kind == "derived":
            # e.g. the O₂ raster is the CO₂ raster × 32/44 (docs/methods.md §4.2.4)
            _write_raster(job, s, dens[s.spec.derived_from] * np.float32(s.derive(job.params[s.name])))
    return dens


def sum_year(job: YearJob, levels: dict[str, gpd.GeoDataFrame], scheduler=None,
             zones_cache: dict | None = None) -> dict[str, pd.DataFrame]:
    """The year's densities and regulator rasters summed over the regions of every level in ``levels`` in one
    pass (each block of each raster read or computed once); a sums table (:func:`.year_sums.sums_table`) per
    level."""
    zones_cache = {} if zones_cache is None else zones_cache
    layers = _densities(job)
    layers.update({regulator_layer(n): job.inputs._get_input(reg.raster, n) for n, reg in job.sel.regulators.items()})
    grid = job.grid
    zone_sets = {}
    for level, regions in levels.items():
        key = (level, tuple(grid.transform)[:6], grid.shape, grid.crs.to_wkt())
        if key not in zones_cache:
            zones_cache[key] = Zones.prepare(np.asarray(to_crs(regions, grid.crs).geometry.values), grid)
        zone_sets[level] = zones_cache[key]
    sums = zonal_sums(layers, grid, zone_sets, scheduler=scheduler)
    return {level: sums_table(regions["region_code"].astype(str), {name: sums[level, name] for name in layers})
            for level, regions in levels.items()}


def sum_layers(services: Iterable[str], raster_regulators: Iterable[str] = ()) -> list[str]:
    """The layers of a year's sums table (:mod:`.year_sums`) for the selected services: each density raster
    they need (the CO₂ one also for oxygen_release), then each Tier-1 regulator raster."""
    return [s.name for s in density_services(selected(services))] + [regulator_layer(n) for n in raster_regulators]


def ls_raster(cfg: GepConfig, dem_path, target: Path) -> Path:
    """The LS raster soil_retention reads: ``gep.ls.path`` when given, else computed from the DEM into
    ``target``."""
    if cfg.ls.path is not None:
        ls_path = Path(cfg.ls.path)
        if not ls_path.is_file():
            raise InputError(f"gep.ls.path: {ls_path} does not exist; check the path")
        return ls_path
    log.info("LS factor from %s", dem_path)
    summary = compute_ls(dem_path, target, LsMethod.from_settings(cfg.ls), z_scale=cfg.ls.z_scale)
    log.info("LS factor: %s", summary)
    return target


def write_service_rasters(cfg: GepConfig, year: int, *, landcover_path: str | Path, raster_dir: str | Path,
                          ls_path: str | Path | None = None, dem_path: str | Path | None = None,
                          scheme: str = "clcd", landcover_nodata: int | None = None) -> list[Path]:
    """Write the service rasters of one year (:func:`service_raster_names`) into ``raster_dir``, for any number of
    region levels to aggregate later (``run_gep(..., rasters_written=True)``).

    A service reading the LS factor (soil_retention) reads ``ls_path`` (an LS raster on the DEM grid, e.g. from
    a ``compute_ls`` run shared by every year), else ``gep.ls.path``, else an LS computed from ``dem_path`` into
    ``raster_dir/ls_factor.tif``. Returns the written paths.
    """
    names = service_raster_names(cfg)
    if not names:
        return []
    _check(cfg, [year], dem_path if ls_path is None else None)
    raster_dir = Path(raster_dir)
    sel = Selection(Selection.of(cfg).services, {})
    params = sel.params(cfg, [int(c) for c in load_scheme(scheme).codes])
    if sel.needs_ls() and ls_path is None:
        ls_path = ls_raster(cfg, dem_path if dem_path is not None else cfg.dem, raster_dir / "ls_factor.tif")
    job = YearJob.open(cfg, year, sel, params, landcover_path=landcover_path, landcover_nodata=landcover_nodata,
                       ls_path=Path(ls_path) if ls_path is not None else None, raster_dir=raster_dir, mode="write")
    _densities(job)
    return [service_raster_path(raster_dir, s, year) for s in names]


def write_year_sums(cfg: GepConfig, year: int, *, levels: dict[str, gpd.GeoDataFrame], landcover_path,
                    raster_dir: str | Path, targets: dict[str, Path], scheme: str = "clcd",
                    landcover_nodata: int | None = None, ls_path: str | Path | None = None,
                    dem_path: str | Path | None = None, scheduler=None) -> list[Path]:
    """Sum one year's service rasters (written before by :func:`write_service_rasters`) and Tier-1 regulator
    rasters over the regions of every level in ``levels`` (``{level: regions}``), and write each level's sums
    table (:mod:`.year_sums`) to ``targets[level]`` (Parquet, atomically). ``run_gep(..., sums_paths=…)`` then
    builds that level's tables without reading a raster."""
    from gep.io.tables import write_single

    sel = Selection.of(cfg)
    _check(cfg, [year], dem_path if ls_path is None else None)
    params = sel.params(cfg, [int(c) for c in load_scheme(scheme).codes])
    written = bool(service_raster_names(cfg))
    for s in sel.densities:
        if s.spec.needs_ls and not written and ls_path is None:
            raise InputError(f"gep.write_rasters is off, so there is no {s.name.replace('_', ' ')} raster to sum: "
                             f"the GEP tables stage (gep stage gep-tables) computes and sums the services itself; or give "
                             f"ls_path")
    job = YearJob.open(cfg, year, sel, params, landcover_path=landcover_path, landcover_nodata=landcover_nodata,
                       ls_path=Path(ls_path) if ls_path is not None else None, raster_dir=Path(raster_dir),
                       mode="read" if written else "memory")
    sums = sum_year(job, levels, scheduler, {})
    return [write_single(sums[level], targets[level]) for level in levels]


# ---------------------------------------------------------------------------------------------------------
# one region level's accounts


@dataclass(frozen=True)
class Level:
    """One region level of a run: its regions, their land-cover areas and the years accounted."""

    cfg: GepConfig
    years: list[int]
    regions: gpd.GeoDataFrame
    names: pd.DataFrame            # region_code, region_name (str), in the regions' order
    lca: pd.DataFrame              # landcover_area rows of the years
    scheme_codes: list[int]
    prices: PriceBook | None
    dem_path: str | Path | None
    param_status: dict[str, list[str]] = field(default_factory=dict)   # service → its parameter files' status


@dataclass(frozen=True)
class SumsSource:
    """Where a level's raster work gets its sums: the stored sums tables (``sums_paths``), else the rasters of
    each year (read when written before, else computed and, with ``write``, written)."""

    landcover_path_for_year: Callable[[int], str | Path]
    raster_dir: Path
    landcover_nodata: int | None = None
    scheduler: Any = None
    write: bool = True
    rasters_written: bool = False
    sums_paths: dict[int, str | Path] | None = None


def _year_sums(level: Level, sel: Selection, params: dict[str, Any], src: SumsSource) -> dict[int, YearSums]:
    """Every year's sums: from the stored tables, or computed from the year's rasters."""
    codes = level.names["region_code"]
    years, cfg = level.years, level.cfg
    if src.sums_paths is not None:
        missing = [y for y in years if y not in src.sums_paths]
        if missing:
            raise InputError(f"GEP sums: none given for year(s) {', '.join(map(str, missing))}; run `gep stage gep-sums` "
                             f"for them first (the workflow's gep_sums rule)")
        return {y: read_year_sums(src.sums_paths[y], codes, sel.layers) for y in years}
    stored = src.write and cfg.write_rasters
    mode = ("read" if src.rasters_written else "write") if stored else "memory"
    ls_path = scratch = None
    if sel.needs_ls(mode):
        # the LS raster is read lazily during the whole year loop; without outputs it lives in a temp dir
        scratch = None if src.write else tempfile.TemporaryDirectory(prefix="gep-ls-")
        folder = src.raster_dir if scratch is None else Path(scratch.name)
        ls_path = ls_raster(cfg, level.dem_path, folder / "ls_factor.tif")
    try:
        zones_cache: dict = {}
        out = {}
        for year in years:
            job = YearJob.open(cfg, year, sel, params, landcover_path=src.landcover_path_for_year(year),
                               landcover_nodata=src.landcover_nodata, ls_path=ls_path, raster_dir=src.raster_dir,
                               mode=mode)
            table = sum_year(job, {"": level.regions}, src.scheduler, zones_cache)[""]
            out[year] = YearSums(table, codes, sel.layers, f"GEP sums of {year}")
        return out
    finally:
        if scratch is not None:
            scratch.cleanup()


def _service_quantity(service: Service, ys: YearSums, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(quantity in ``spec.quantity_unit``, covered m²) per region: Σ density·m² × ``to_quantity``; a derived
    service's is its base's quantity × its factor (O₂ = CO₂ × 32/44, docs/methods.md §4.2.4)."""
    spec = service.spec
    if spec.kind == "derived":
        base = registry.get(spec.derived_from)
        total, valid = ys.get(base.name)
        return total * base.spec.to_quantity * service.derive(params[service.name]), valid
    total, valid = ys.get(spec.name)
    return total * spec.to_quantity, valid


def _coverage_problems(level: Level, service: str, year: int, valid: np.ndarray) -> list[str]:
    """A region whose inputs cover less than ``min_coverage_pct`` of its classified land cover."""
    cfg = level.cfg
    lc_area = level.lca[level.lca["year"] == year].groupby("region_code")["area_km2"].sum() * 1e6  # m²
    out = []
    for i, rc in enumerate(level.names["region_code"]):
        need = lc_area.get(rc, 0.0)
        if need > 0 and valid[i] < need * cfg.min_coverage_pct / 100.0:
            out.append(f"{service} {year}: inputs cover {100 * valid[i] / need:.2f}% of region {rc}'s land cover "
                       f"(< {cfg.min_coverage_pct:g}%); use rasters that cover every region (or lower "
                       f"gep.min_coverage_pct)")
    return out


def _service_rows(level: Level, service: Service, params: dict[str, Any], year: int,
                  quantity: np.ndarray) -> pd.DataFrame:
    """The rows of one service and year: quantity, unit price (of the price year: the price table's base year,
    or the accounting year with a profile), method, source, the price records used and the row's status."""
    spec = service.spec
    prices = level.prices.for_year(year) if level.prices is not None else None
    v = Valuing(level.cfg, params[service.name], prices, level.dem_path)
    price = service.price(v) if spec.priced else None
    files = level.param_status.get(service.name, []) + level.param_status.get(spec.derived_from or "", [])
    return pd.DataFrame({
        "region_code": level.names["region_code"], "region_name": level.names["region_name"], "year": year,
        "service": spec.name, "service_zh": spec.name_zh, "category": spec.category, "tier": 2,
        "quantity": quantity, "quantity_unit": spec.quantity_unit,
        "base_price": price.value if price else np.nan, "price_year": prices.base_year if prices else np.nan,
        "price_unit": price.unit if price else "", "given_value_yuan": np.nan, "method": service.method(v),
        "source": service.source(v), "price_record": prices.record_text() if price else "",
        "status": row_status(prices if price else None, level.prices.deflator if level.prices else None, files)})


def _raster_rows(level: Level, sel: Selection, params: dict[str, Any], sums: dict[int, YearSums],
                 regulators: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The Tier-2 rows of every selected service and year from the year's sums, and the raster regulators'
    ratios (area-weighted mean / reference mean) into ``regulators``; InputError when the inputs miss part of
    a region's land cover."""
    rows, problems = [], []
    for year in level.years:
        ys = sums[year]
        for service in sel.services:
            quantity, valid = _service_quantity(service, ys, params)
            problems += _coverage_problems(level, service.name, year, valid)
            rows.append(_service_rows(level, service, params, year, quantity))
        for name, reg in sel.regulators.items():
            total, covered = ys.get(regulator_layer(name))
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = total / covered / reg.reference_mean
            t = pd.DataFrame({"region_code": level.names["region_code"], "year": year, name: ratio})
            regulators[name] = t if name not in regulators else pd.concat([regulators[name], t], ignore_index=True)
    if problems:
        raise InputError.many(problems)
    return pd.concat(rows, ignore_index=True)[ROW_COLUMNS] if rows else _empty_rows()


def _area_rows(level: Level, params: dict[str, Any]) -> pd.DataFrame:
    """The rows of the selected services computed from land-cover areas and region tables (kind 'area':
    flood regulation, air and water purification, pest control; docs/methods.md §4.2.7–§4.2.10)."""
    services = area_services(selected(level.cfg.services))
    if not services:
        return _empty_rows()
    area = AreaContext(level.cfg, list(level.names["region_code"]), level.lca)
    return area_frame(services, params, area, level.years, level.names["region_name"], level.prices, ROW_COLUMNS,
                      level.param_status)


def _regulator_table(cfg: GepConfig, regions: pd.DataFrame, years: list[int]) -> dict[str, pd.DataFrame]:
    """Tier-1 regulators given as constants or tables (raster ones are filled in from the sums)."""
    out = {}
    for name, reg in cfg.tier1.regulators.items():
        if reg.value is not None:
            grid = regions[["region_code"]].merge(pd.DataFrame({"year": years}), how="cross")
            grid[name] = reg.value
            out[name] = grid
        elif reg.table is not None:
            t = pd.read_csv(reg.table, dtype={"region_code": str})
            if not {"region_code", "year", "ratio"} <= set(t.columns):
                raise InputError(f"{reg.table}: a regulator table needs the columns region_code, year, ratio")
            bad = t["ratio"].isna() | (pd.to_numeric(t["ratio"], errors="coerce") <= 0)
            if bad.any():
                raise InputError(f"{reg.table}: ratio must be a positive number (line {int(np.flatnonzero(bad)[0]) + 2})")
            t = t.rename(columns={"ratio": name})[["region_code", "year", name]]
            t["year"] = t["year"].astype(int)
            out[name] = t
    return out


def _tier1_rows(level: Level, factors, eco_map, regulators: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Tier-1 rows from land-cover areas (docs/methods.md §4.1), with the regulators of every kind."""
    reg_frame = None
    for t in regulators.values():
        reg_frame = t if reg_frame is None else reg_frame.merge(t, on=["region_code", "year"], how="outer")
    q = tier1_quantities(level.lca, factors, eco_map, reg_frame)
    if not len(q):
        return q
    q["tier"] = 1
    q["quantity_unit"] = T1_UNIT
    q["base_price"] = factors.e_value
    q["price_year"] = factors.e_year
    q["price_unit"] = f"元/(当量·hm²) (E = {factors.e_value:g} {factors.e_unit} of {factors.e_year})"
    q["given_value_yuan"] = np.nan
    method = T1_METHOD + (f"; regulators: {', '.join(sorted(regulators))}" if regulators else "")
    # every service stays in gep_services (the ESV); the supporting ones say they are outside GEP (§4.1)
    q["method"] = np.where(q["category"].isin(T1_OUTSIDE_GEP), f"{method}; {T1_OUTSIDE_GEP_NOTE}", method)
    q["source"] = f"{factors.file.cite()}; {eco_map.file.cite()}"
    q["price_record"] = f"E {factors.e_value:g} {factors.e_unit} of {factors.e_year}, {factors.e_status}"
    deflated = level.prices.deflator.status if level.prices is not None else ""
    files = [factors.e_status, factors.file.status, eco_map.file.status]
    q["status"] = [weakest([status_mark(t) for t in files + ([deflated] if int(y) != factors.e_year else [])])
                   for y in q["year"]]
    return q[ROW_COLUMNS]


def _statistics_rows(level: Level) -> pd.DataFrame:
    """Provisioning and cultural rows from the statistics CSV (docs/methods.md §4.4): values, no price."""
    cfg = level.cfg
    st = read_statistics(cfg.statistics, region_codes=level.names["region_code"], years=level.years,
                         services=cfg.statistics_services)
    if not len(st):
        return st
    st["region_name"] = st["region_code"].map(dict(zip(level.names["region_code"], level.names["region_name"])))
    st["tier"] = 2
    st["base_price"] = np.nan
    st["price_year"] = np.nan
    st["price_unit"] = ""
    st["given_value_yuan"] = st.pop("value_yuan")
    st["method"] = STAT_METHOD
    st["price_record"] = ""
    st["status"] = np.where(st["source"].map(demo_source), "DEMO", "")  # the table has no status column
    return st[ROW_COLUMNS]


def _deduction_rows(level: Level) -> pd.DataFrame:
    """Ecosystem products from outside the region (GB/T 46869-2025; ``gep.deductions``): category
    ``deduction``, negative values in current prices of the year, in the tier whose GEP is published, so that
    GEP = material + regulating + cultural − deduction (docs/methods.md §4.8)."""
    cfg = level.cfg
    d = read_region_deductions(cfg.deductions, region_codes=level.names["region_code"], years=level.years)
    if not len(d):
        return _empty_rows()
    names = dict(zip(level.names["region_code"], level.names["region_name"]))
    return pd.DataFrame({
        "region_code": d["region_code"], "region_name": d["region_code"].map(names), "year": d["year"],
        "service": "deduction:" + d["item"], "service_zh": TOTAL_LINES[DEDUCTION], "category": DEDUCTION,
        "tier": cfg.gep_tier, "quantity": np.nan, "quantity_unit": "", "base_price": np.nan, "price_year": np.nan,
        "price_unit": "", "given_value_yuan": -d["value_yuan"],
        "method": "GB/T 46869-2025: products from outside the region are deducted", "source": d["source"],
        "price_record": "", "status": np.where(d["source"].map(demo_source), "DEMO", "")})[ROW_COLUMNS]


def _all_rows(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [r for r in parts if len(r)]
    rows = pd.concat(parts, ignore_index=True) if parts else _empty_rows()
    rows["year"] = rows["year"].astype(int)
    rows["tier"] = rows["tier"].astype(int)
    for col in ("quantity", "base_price", "price_year", "given_value_yuan"):
        rows[col] = pd.to_numeric(rows[col], errors="coerce").astype(float)
    return rows


def _level(cfg: GepConfig, years: list[int], landcover_area: pd.DataFrame, regions: gpd.GeoDataFrame,
           scheme: str, dem_path) -> Level:
    """The checked inputs of one region level."""
    for col in ("region_code", "region_name", "year", "lc_code", "area_km2"):
        if col not in landcover_area.columns:
            raise InputError(f"landcover_area: column '{col}' missing; pass the published landcover_area table")
    lca = landcover_area[landcover_area["year"].astype(int).isin(years)].copy()
    lca["year"] = lca["year"].astype(int)
    no_rows = sorted(set(years) - set(lca["year"]))
    if no_rows:
        raise InputError(f"landcover_area: no rows for year(s) {', '.join(map(str, no_rows))}; account the land "
                         f"cover of every GEP year first (or drop those years)")
    missing_cols = [c for c in ("region_code", "region_name") if c not in regions.columns]
    if missing_cols or regions.crs is None:
        raise InputError(f"regions: need columns region_code, region_name and a CRS (missing: "
                         f"{', '.join(missing_cols) or 'CRS'}); read them with gep.vector.regions.read_regions")
    lca["region_code"] = lca["region_code"].astype(str)
    names = pd.DataFrame({"region_code": regions["region_code"].astype(str).to_numpy(),
                          "region_name": regions["region_name"].astype(str).to_numpy()})
    return Level(cfg, years, regions, names, lca, [int(c) for c in load_scheme(scheme).codes], None, dem_path)


def run_gep(cfg: GepConfig, *, years: Iterable[int], landcover_area: pd.DataFrame, regions: gpd.GeoDataFrame,
            landcover_path_for_year: Callable[[int], str | Path], dem_path: str | Path | None = None,
            out_dir: str | Path, scheme: str = "clcd", landcover_nodata: int | None = None,
            scheduler=None, write: bool = True, writer: Callable = write_table, raster_dir: str | Path | None = None,
            rasters_written: bool = False,
            sums_paths: dict[int, str | Path] | None = None) -> dict[str, pd.DataFrame]:
    """Compute the GEP accounts of one region level; see :mod:`gep.indicators.gep` for the full contract.

    Returns ``{"gep_services", "gep_summary", "gep_change", "carbon_stock"}`` DataFrames (carbon_stock empty
    when not selected) and, when ``write``, writes them with ``writer`` (default :func:`gep.io.tables.write_table`; the
    workflow passes one that refuses to change published years) into ``out_dir`` plus the
    service rasters into ``raster_dir/SERVICE_YEAR.tif`` (COG; default ``out_dir/rasters``) and the LS factor
    on the DEM grid. With ``rasters_written`` the service rasters are already in ``raster_dir``
    (:func:`write_service_rasters`, run once per year for every region level) and are only read. With
    ``sums_paths`` (``{year: path}``) the rasters' sums over this level's regions are already stored
    (:func:`write_year_sums`) and no raster is read at all.
    """
    years = sorted({int(y) for y in years})
    if not years:
        raise InputError("run_gep: no years given; list the accounting years")
    out_dir = Path(out_dir)
    dem_path = dem_path if dem_path is not None else cfg.dem
    wanted = set(cfg.services)
    _check(cfg, years, dem_path, rasters=sums_paths is None)

    # ---- parameters (only those the selected services need) and prices
    level = _level(cfg, years, landcover_area, regions, scheme, dem_path)
    valued = priced(wanted)
    deflator: Deflator | None = load_deflator(cfg.deflator) if valued else None
    book = load_book(cfg, deflator) if valued else None
    level = replace(level, prices=book)
    constant_year = cfg.constant_price_year or (book.default_constant_year() if book else years[0])
    factors = eco_map = None
    if "tier1" in wanted:
        factors = load_equivalent_factors(cfg.parameters.equivalent_factors)
        eco_map = load_ecosystem_map(cfg.parameters.ecosystem_map, scheme_codes=level.scheme_codes,
                                     overrides=cfg.tier1.class_types)
    if deflator is not None:
        # fail before any raster work when a price year has no deflator
        need = set(years) | {constant_year} | book.price_years([], years)
        if factors is not None:
            need.add(factors.e_year)
        deflator.require(need, "needed for current/constant prices: accounting years, price years and the "
                               "constant-price year")

    # ---- parameters of every selected service (keeping which files each read) and every price they ask for
    sel = Selection.of(cfg)
    ctx = ParamContext(cfg, np.asarray(level.scheme_codes, dtype=np.int64))
    params = sel.params(cfg, level.scheme_codes, ctx) if sel else {}
    areas = area_services(selected(cfg.services))
    params.update({s.name: ctx.load(s) for s in areas})
    level = replace(level, param_status={name: ctx.statuses(name) for name in params})
    if book is not None:
        prices_lines, deflator_lines = price_problems(cfg, book, sel.services + areas, params, years, constant_year)
        problems = prices_lines + deflator_lines
        if problems:
            raise InputError.many(problems)

    # ---- rows: Tier-2 services of the registry (from the year sums), Tier 1, statistics
    rows: list[pd.DataFrame] = []
    regulators = _regulator_table(cfg, level.names, years) if "tier1" in wanted else {}
    area_rows = _area_rows(level, params)  # before any raster work: their tables are checked first
    if sel:
        src = SumsSource(landcover_path_for_year, Path(raster_dir) if raster_dir is not None else out_dir / "rasters",
                      landcover_nodata, scheduler, write, rasters_written, sums_paths)
        rows.append(_raster_rows(level, sel, params, _year_sums(level, sel, params, src), regulators))
    rows.append(area_rows)
    if "tier1" in wanted:
        rows.append(_tier1_rows(level, factors, eco_map, regulators))
    if "statistics" in wanted:
        rows.append(_statistics_rows(level))
    if cfg.deductions is not None and valued:
        rows.append(_deduction_rows(level))
    all_rows = _all_rows(rows)

    # ---- prices, summary, carbon stock
    result: dict[str, pd.DataFrame] = {}
    if valued:
        deflator.require(required_years(all_rows, constant_year), "price conversion")
        services_df = apply_prices(all_rows, deflator, constant_year)
        land_area = pd.DataFrame({"region_code": level.names["region_code"],
                                  "land_area_km2": polygon_area_m2(np.asarray(regions.geometry.values),
                                                                   regions.crs) / 1e6})
        summary = summarise(services_df, land_area, tier=cfg.gep_tier, region_names=level.names, years=years,
                            rule=cfg.verdict.rule, min_change_pct=cfg.verdict.min_change_pct,
                            constant_year=constant_year, climate=cfg.climate_note(),
                            profile=book.name, not_accounted=_not_accounted(book, services_df, cfg.gep_tier))
        _warn_provisional(services_df, cfg.gep_tier)
    else:
        services_df = pd.DataFrame(columns=[c for c in ROW_COLUMNS])
        summary = pd.DataFrame()
    result["gep_services"] = services_df
    result["gep_summary"] = summary
    # which items moved constant-price GEP between years (docs/methods.md §4.9)
    result["gep_change"] = gep_change(services_df, summary, tier=cfg.gep_tier) if valued else pd.DataFrame()
    result["carbon_stock"] = _carbon_stock(level) if "carbon_stock" in wanted else pd.DataFrame()

    if write:
        extra = _provenance(cfg, book, deflator, constant_year)
        if cfg.climate_note():
            extra["fixed_climate"] = cfg.climate_note()  # the tables' values are not the years' actual GEP
        if valued:
            writer(result["gep_services"], out_dir, "gep_services", units=SERVICE_UNITS, extra=extra)
            writer(result["gep_summary"], out_dir, "gep_summary", units=SUMMARY_UNITS, extra=extra)
            writer(result["gep_change"], out_dir, "gep_change", units=CHANGE_UNITS, extra=extra)
        if len(result["carbon_stock"]):
            writer(result["carbon_stock"], out_dir, "carbon_stock", units=CARBON_UNITS,
                   extra={"carbon_pools": cfg.parameters.carbon_pools,
                          "status": "P: illustrative carbon densities, not official"})
    return result


def _carbon_stock(level: Level) -> pd.DataFrame:
    """Carbon stock per region and year from land-cover areas (docs/methods.md §4.3)."""
    lca = level.lca
    present = set(pd.to_numeric(lca.loc[lca["area_km2"] > 0, "lc_code"]).astype(int))
    pools = load_carbon_pools(level.cfg.parameters.carbon_pools, scheme_codes=level.scheme_codes)
    check_codes(pools.file, present, pools.values["soil"], "carbon pools")
    return carbon_stock(lca, pools)


def _not_accounted(book: PriceBook, services: pd.DataFrame, tier: int) -> str:
    """The profile's items that no row of the summed tier covers (:func:`registry.profile_items`), optional ones
    marked; '' without a profile."""
    if book.profile is None:
        return ""
    covered = {i for s in services.loc[services["tier"] == tier, "service"].unique() for i in profile_items(s)}
    items = book.profile.items.values()
    return ", ".join(f"{it.key}{' (optional)' if it.optional else ''}" for it in items if it.key not in covered)


def _warn_provisional(services: pd.DataFrame, tier: int) -> None:
    """One warning line for the level when a published GEP rests on P or DEMO values, naming the rows' services
    and their status."""
    sel = services[(services["tier"] == tier) & services["status"].isin(PROVISIONAL)]
    named = sorted({f"{s} ({st})" for s, st in zip(sel["service"], sel["status"])})
    if named:
        log.warning("GEP of %d region(s) rests on P or DEMO values (not official numbers): %s",
                    services["region_code"].nunique(), ", ".join(named))


def _provenance(cfg: GepConfig, prices, deflator, constant_year) -> dict:
    """Parameter files and their status, written into every table's metadata."""
    extra = {"parameters": cfg.parameters.model_dump(), "gep_tier": cfg.gep_tier,
             "constant_price_year": constant_year, "verdict": cfg.verdict.model_dump(),
             "notice": "coefficients marked V2 or P are not official; see each parameter file's status and source"}
    if prices is not None:
        extra["prices"] = prices.provenance()
    if deflator is not None:
        extra["deflator"] = {"file": str(deflator.path), "status": deflator.status, "source": deflator.source}
    return extra
