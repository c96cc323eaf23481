"""The top-level GEP run: :func:`run_gep` (see the package docstring for inputs and outputs)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from gep.accounting.classes import load_scheme
from gep.core.errors import InputError
from gep.vector.geodesy import polygon_area_m2
from gep.raster.grid import Grid, open_lazy
from gep.accounting.landcover import LandcoverRaster
from gep.vector.regions import to_crs
from gep.io.tables import write_table
from gep.raster.zonal import Zones, zonal_sums
from gep.indicators.gep import services as sv
from gep.indicators.gep.accounts import SERVICE_UNITS, SUMMARY_UNITS, apply_prices, required_years, summarise
from gep.indicators.gep.carbon_stock import UNITS as CARBON_UNITS
from gep.indicators.gep.carbon_stock import carbon_stock
from gep.config.gep import (DENSITY_SERVICES, TIER2_RASTER_SERVICES, GepConfig, RasterInput, parameter_fields, priced,
                     service_raster_names)
from gep.hydrology.ls_factor import LS_METHOD, compute_ls
from gep.indicators.gep.params import (
    Deflator,
    PriceTable,
    check_codes,
    code_set,
    load_carbon_pools,
    load_deflator,
    load_ecosystem_map,
    load_equivalent_factors,
    load_prices,
    load_runoff,
    load_usle_cp,
    read_param_file,
    scalar,
)
from gep.raster.resample import constant_on_grid, warp_to_grid
from gep.indicators.gep.statistics import METHOD as STAT_METHOD
from gep.indicators.gep.statistics import read_statistics
from gep.indicators.gep.tier1 import METHOD as T1_METHOD
from gep.indicators.gep.tier1 import QUANTITY_UNIT as T1_UNIT
from gep.indicators.gep.tier1 import tier1_quantities
from gep.indicators.gep.year_sums import YearSums, read_year_sums, regulator_layer, sums_table

log = logging.getLogger("gep.indicators.gep")

ROW_COLUMNS = ["region_code", "region_name", "year", "service", "service_zh", "category", "tier", "quantity",
               "quantity_unit", "base_price", "price_year", "price_unit", "given_value_yuan", "method", "source"]

METHODS = {
    "water_conservation": "Q = (P − P·α(class) − ET)·A, mm·m² × 1e-3 → m³ (water balance, α: Gong et al. 2017); "
                          "valued at reservoir storage cost",
    "soil_retention": "A_c = R·K·LS·(1 − C·P) = RKLS − USLE (InVEST SDR avoided erosion), t/hm² × 1e-4/m² → t; "
                      + LS_METHOD + "; valued as avoided dredging (λ/ρ) + N and P",
    "carbon_sequestration": "CO₂ = NPP × NEP/NPP × 44/12, g/m² × 1e-6 → t; valued at carbon price × 12/44",
    "oxygen_release": "O₂ = CO₂ × 32/44, g/m² × 1e-6 → t; valued at oxygen price",
    "climate_regulation": "E = ET × ρ_w × λ_v / 3.6 / COP × share (vegetation transpiration + water-surface "
                          "evaporation), kWh; valued at electricity price",
}

#: raster inputs each Tier-2 service needs
NEEDS = {
    "water_conservation": ("precipitation", "et"),
    "soil_retention": ("erosivity", "erodibility"),
    "carbon_sequestration": ("npp",),
    "oxygen_release": ("npp",),
    "climate_regulation": ("et",),
}


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame(columns=ROW_COLUMNS)


def _as_xr(data: da.Array, grid: Grid, name: str, units: str) -> xr.DataArray:
    t = grid.transform
    h, w = grid.shape
    coords = {"y": t.f + t.e * (np.arange(h) + 0.5), "x": t.c + t.a * (np.arange(w) + 0.5)}
    arr = xr.DataArray(data, coords=coords, dims=("y", "x"), name=name, attrs={"units": units})
    arr = arr.rio.write_crs(grid.crs).rio.write_transform(t)
    return arr.rio.write_nodata(np.nan, encoded=False)


def _describe(inp: RasterInput | None) -> str:
    """A raster input as cited in the ``source`` column: its file name (the full path and checksum are in the
    run's provenance), so that the same inputs give the same table wherever the project lives."""
    if inp is None:
        return "-"
    return Path(inp.path).name if inp.path is not None else f"constant {inp.value:g}"


class _Inputs:
    """Raster inputs of one year on one land-cover grid (lazy, cached by name)."""

    def __init__(self, cfg: GepConfig, year: int, grid: Grid, chunks, ls_path: Path | None):
        self.cfg, self.year, self.grid, self.chunks, self.ls_path = cfg, year, grid, chunks, ls_path
        self._cache: dict[str, da.Array] = {}

    def _get_input(self, inp: RasterInput) -> da.Array:
        if inp.value is not None:
            return constant_on_grid(inp.value * inp.scale + inp.offset, self.grid, self.chunks)
        return warp_to_grid(inp.path_for(self.year), self.grid, self.chunks, resampling=inp.resampling,
                            kind=inp.kind, output="density", scale=inp.scale, offset=inp.offset, nodata=inp.nodata,
                            band=inp.band)

    def get(self, name: str) -> da.Array:
        if name not in self._cache:
            if name == "ls":
                self._cache[name] = warp_to_grid(self.ls_path, self.grid, self.chunks, resampling="bilinear")
            else:
                inp = getattr(self.cfg.rasters, name)
                if name == "evaporation" and inp is None:
                    return self.get("et")
                self._cache[name] = self._get_input(inp)
        return self._cache[name]


def preflight(cfg: GepConfig, years: list[int], dem_path, *, rasters: bool = True) -> list[str]:
    """Every missing input for the selected services, as one-line problems (without ``rasters``, not the raster
    files: tables built from stored sums do not read them)."""
    problems = []
    wanted = set(cfg.services)
    for service in TIER2_RASTER_SERVICES:
        if service not in wanted:
            continue
        for name in NEEDS[service]:
            inp = getattr(cfg.rasters, name)
            if inp is None:
                problems.append(f"gep.rasters.{name}: not set but needed by service '{service}'; give a raster "
                                f"path (with {{year}}) or a constant, or remove '{service}' from gep.services")
                continue
            if inp.path is not None and rasters:
                for y in years:
                    p = inp.path_for(y)
                    if not p.is_file():
                        problems.append(f"gep.rasters.{name}: {p} (year {y}) does not exist; check the path "
                                        f"template")
    if "soil_retention" in wanted and cfg.ls.path is None and dem_path is None and cfg.dem is None:
        problems.append("gep.dem: not set but needed by service 'soil_retention' (LS factor); give a DEM or a "
                        "precomputed LS raster (gep.ls.path), or remove 'soil_retention' from gep.services")
    if "statistics" in wanted and cfg.statistics is None:
        problems.append("gep.statistics: not set but service 'statistics' is selected; write a template with "
                        "`gep gep-template stats.csv`, fill it in and set its path, or remove 'statistics'")
    if priced(wanted) and cfg.deflator is None:
        problems.append("gep.deflator: not set; give a deflator table (year → index) for current/constant prices "
                        "(src/gep/data/parameters/deflator_demo.yaml holds invented DEMO values only)")
    for name, reg in cfg.tier1.regulators.items():
        if reg.table is not None and not Path(reg.table).is_file():
            problems.append(f"gep.tier1.regulators.{name}.table: {reg.table} does not exist; check the path")
    return problems


def _regulator_table(cfg: GepConfig, regions: pd.DataFrame, years: list[int]) -> dict[str, pd.DataFrame]:
    """Tier-1 regulators given as constants or tables (raster ones are filled in the raster loop)."""
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


def _price_carbon_per_co2(prices: PriceTable, co2_per_c: float) -> tuple[float, str]:
    value, unit = prices.get("carbon", "carbon_sequestration")
    u = unit.replace("₂", "2").lower()
    if "co2" in u:
        return value, "元/t CO₂"
    return value / co2_per_c, f"元/t CO₂ (= {value:g} {unit} × 12/44)"


def _raster_work(cfg: GepConfig) -> tuple[list[str], dict]:
    """The selected Tier-2 raster services (in TIER2_RASTER_SERVICES order) and Tier-1 regulators given as
    rasters ({name: RegulatorInput}): what a year's rasters are computed and summed for."""
    wanted = set(cfg.services)
    services = [s for s in TIER2_RASTER_SERVICES if s in wanted]
    regs = {k: r for k, r in cfg.tier1.regulators.items() if r.raster is not None} if "tier1" in wanted else {}
    return services, regs


def run_gep(cfg: GepConfig, *, years: Iterable[int], landcover_area: pd.DataFrame, regions: gpd.GeoDataFrame,
            landcover_path_for_year: Callable[[int], str | Path], dem_path: str | Path | None = None,
            out_dir: str | Path, scheme: str = "clcd", landcover_nodata: int | None = None,
            scheduler=None, write: bool = True, writer: Callable = write_table, raster_dir: str | Path | None = None,
            rasters_written: bool = False,
            sums_paths: dict[int, str | Path] | None = None) -> dict[str, pd.DataFrame]:
    """Compute the GEP accounts of one region level; see :mod:`gep.indicators.gep` for the full contract.

    Returns ``{"gep_services", "gep_summary", "carbon_stock"}`` DataFrames (carbon_stock empty when not
    selected) and, when ``write``, writes them with ``writer`` (default :func:`gep.io.tables.write_table`; the
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
    raster_dir = Path(raster_dir) if raster_dir is not None else out_dir / "rasters"
    dem_path = dem_path if dem_path is not None else cfg.dem
    wanted = set(cfg.services)
    problems = preflight(cfg, years, dem_path, rasters=sums_paths is None)
    if problems:
        raise InputError.many(problems)
    sch = load_scheme(scheme)
    scheme_codes = [int(c) for c in sch.codes]
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
    lc_codes_present = set(pd.to_numeric(lca.loc[lca["area_km2"] > 0, "lc_code"]).astype(int))

    names = pd.DataFrame({"region_code": regions["region_code"].astype(str).to_numpy(),
                          "region_name": regions["region_name"].astype(str).to_numpy()})
    land_area = pd.DataFrame({"region_code": names["region_code"],
                              "land_area_km2": polygon_area_m2(np.asarray(regions.geometry.values),
                                                               regions.crs) / 1e6})
    name_of = dict(zip(names["region_code"], names["region_name"]))

    # ---- parameters (only those the selected services need) and prices
    valued = priced(wanted)
    prices = load_prices(cfg.parameters.prices) if valued else None
    deflator: Deflator | None = load_deflator(cfg.deflator) if valued else None
    constant_year = cfg.constant_price_year or (prices.base_year if prices else years[0])
    factors = eco_map = None
    if "tier1" in wanted:
        factors = load_equivalent_factors(cfg.parameters.equivalent_factors)
        eco_map = load_ecosystem_map(cfg.parameters.ecosystem_map, scheme_codes=scheme_codes,
                                     overrides=cfg.tier1.class_types)
    if deflator is not None:
        # fail before any raster work when a price year has no deflator
        need = set(years) | {constant_year, prices.base_year}
        if factors is not None:
            need.add(factors.e_year)
        deflator.require(need, "needed for current/constant prices: accounting years, price years and the "
                               "constant-price year")

    rows: list[pd.DataFrame] = []
    regulators = _regulator_table(cfg, names, years) if "tier1" in wanted else {}
    raster_services, raster_regs = _raster_work(cfg)

    # ---- Tier 2 raster services
    if raster_services or raster_regs:
        rows.append(_tier2(cfg, years, lca, regions, names, landcover_path_for_year, dem_path, raster_dir,
                           raster_services, raster_regs, regulators, scheme_codes, prices, landcover_nodata,
                           scheduler, write, rasters_written, sums_paths))

    # ---- Tier 1 from land-cover areas
    if "tier1" in wanted:
        reg_frame = None
        if regulators:
            for t in regulators.values():
                reg_frame = t if reg_frame is None else reg_frame.merge(t, on=["region_code", "year"], how="outer")
        q = tier1_quantities(lca, factors, eco_map, reg_frame)
        if len(q):
            q["tier"] = 1
            q["quantity_unit"] = T1_UNIT
            q["base_price"] = factors.e_value
            q["price_year"] = factors.e_year
            q["price_unit"] = f"元/(当量·hm²) (E = {factors.e_value:g} {factors.e_unit} of {factors.e_year})"
            q["given_value_yuan"] = np.nan
            q["method"] = T1_METHOD + (f"; regulators: {', '.join(sorted(regulators))}" if regulators else "")
            q["source"] = f"{factors.file.cite()}; {eco_map.file.cite()}"
            rows.append(q[ROW_COLUMNS])

    # ---- statistics
    if "statistics" in wanted:
        st = read_statistics(cfg.statistics, region_codes=names["region_code"], years=years,
                             services=cfg.statistics_services)
        if len(st):
            st["region_name"] = st["region_code"].map(name_of)
            st["tier"] = 2
            st["base_price"] = np.nan
            st["price_year"] = np.nan
            st["price_unit"] = ""
            st["given_value_yuan"] = st.pop("value_yuan")
            st["method"] = STAT_METHOD
            rows.append(st[ROW_COLUMNS])

    all_rows = pd.concat([r for r in rows if len(r)], ignore_index=True) if any(len(r) for r in rows) \
        else _empty_rows()
    all_rows["year"] = all_rows["year"].astype(int)
    all_rows["tier"] = all_rows["tier"].astype(int)
    for col in ("quantity", "base_price", "price_year", "given_value_yuan"):
        all_rows[col] = pd.to_numeric(all_rows[col], errors="coerce").astype(float)

    result: dict[str, pd.DataFrame] = {}
    if valued:
        deflator.require(required_years(all_rows, constant_year), "price conversion")
        services_df = apply_prices(all_rows, deflator, constant_year)
        summary = summarise(services_df, land_area, tier=cfg.gep_tier, region_names=names, years=years,
                            rule=cfg.verdict.rule, min_change_pct=cfg.verdict.min_change_pct,
                            constant_year=constant_year)
    else:
        services_df = pd.DataFrame(columns=[c for c in ROW_COLUMNS])
        summary = pd.DataFrame()
    result["gep_services"] = services_df
    result["gep_summary"] = summary

    if "carbon_stock" in wanted:
        pools = load_carbon_pools(cfg.parameters.carbon_pools, scheme_codes=scheme_codes)
        check_codes(pools.file, lc_codes_present, pools.values["soil"], "carbon pools")
        result["carbon_stock"] = carbon_stock(lca, pools)
    else:
        result["carbon_stock"] = pd.DataFrame()

    if write:
        extra = _provenance(cfg, prices, deflator, constant_year)
        if valued:
            writer(result["gep_services"], out_dir, "gep_services", units=SERVICE_UNITS, extra=extra)
            writer(result["gep_summary"], out_dir, "gep_summary", units=SUMMARY_UNITS, extra=extra)
        if len(result["carbon_stock"]):
            writer(result["carbon_stock"], out_dir, "carbon_stock", units=CARBON_UNITS,
                        extra={"carbon_pools": cfg.parameters.carbon_pools,
                               "status": "P: illustrative carbon densities, not official"})
    return result


def _provenance(cfg: GepConfig, prices, deflator, constant_year) -> dict:
    """Parameter files and their status, written into every table's metadata."""
    extra = {"parameters": cfg.parameters.model_dump(), "gep_tier": cfg.gep_tier,
             "constant_price_year": constant_year, "verdict": cfg.verdict.model_dump(),
             "notice": "coefficients marked V2 or P are not official; see each parameter file's status and source"}
    if prices is not None:
        extra["prices"] = {"file": str(prices.file.path), "base_year": prices.base_year,
                           "status": prices.file.status, "source": prices.file.source, "version": prices.version}
    if deflator is not None:
        extra["deflator"] = {"file": str(deflator.path), "status": deflator.status, "source": deflator.source}
    return extra


def service_raster_path(raster_dir: str | Path, service: str, year: int) -> Path:
    return Path(raster_dir) / f"{service}_{year}.tif"


class _ServiceParams:
    """The parameter files of the selected raster services, read once."""

    def __init__(self, cfg: GepConfig, services: list[str], scheme_codes):
        p = cfg.parameters
        reads = set(parameter_fields(services, prices=False))  # the one list of which service reads what
        self.runoff = load_runoff(p.runoff, scheme_codes=scheme_codes) if "runoff" in reads else None
        self.usle = load_usle_cp(p.usle_cp, scheme_codes=scheme_codes) if "usle_cp" in reads else None
        self.soil = read_param_file(p.soil_valuation) if "soil_valuation" in reads else None
        self.carbon = read_param_file(p.carbon_oxygen) if "carbon_oxygen" in reads else None
        self.climate = read_param_file(p.climate) if "climate" in reads else None
        self.known = np.asarray(scheme_codes, dtype=np.int64)

    @property
    def o2_per_co2(self) -> float:
        return scalar(self.carbon, "o2_per_co2", minimum=0.0)


def _densities(cfg: GepConfig, lc: LandcoverRaster, inputs: "_Inputs", sp: _ServiceParams,
               build: set[str]) -> dict[str, da.Array]:
    """Lazy per-cell density of each service in ``build`` (keys of :data:`DENSITY_SERVICES`; the CO₂ density
    ``carbon_sequestration`` is also the basis of oxygen_release), on the land-cover grid."""
    nodata = lc.nodata
    dens: dict[str, da.Array] = {}
    if "water_conservation" in build:
        codes, alpha = sp.runoff.lut("alpha")
        dens["water_conservation"] = sv.water_conservation(
            lc.data, inputs.get("precipitation"), inputs.get("et"), codes, alpha, lc_nodata=nodata,
            clip_negative=cfg.clip_negative_water)
    if "soil_retention" in build:
        codes, c = sp.usle.lut("c")
        _, pv = sp.usle.lut("p")
        _, inc = sp.usle.lut("include")
        dens["soil_retention"] = sv.soil_retention(lc.data, inputs.get("erosivity"), inputs.get("erodibility"),
                                                   inputs.get("ls"), codes, c, pv, inc, lc_nodata=nodata)
    if "carbon_sequestration" in build:
        inc_codes, _ = code_set(sp.carbon, "classes")
        dens["carbon_sequestration"] = sv.carbon_sequestration(
            lc.data, inputs.get("npp"), scalar(sp.carbon, "nep_npp_ratio", minimum=0.0, maximum=1.0),
            scalar(sp.carbon, "co2_per_c", minimum=0.0), inc_codes, sp.known, lc_nodata=nodata)
    if "climate_regulation" in build:
        cl = sp.climate
        per_mm = sv.kwh_per_mm(scalar(cl, "latent_heat", minimum=0.0), scalar(cl, "water_density", minimum=0.0),
                               scalar(cl, "mj_per_kwh", minimum=1e-9), scalar(cl, "cop", minimum=1e-9),
                               scalar(cl, "cooling_share", minimum=0.0, maximum=1.0))
        veg_codes, veg_share = code_set(cl, "vegetation")
        wat_codes, wat_share = code_set(cl, "water")
        dens["climate_regulation"] = sv.climate_regulation(
            lc.data, inputs.get("et"), inputs.get("evaporation"), per_mm, veg_codes, veg_share, wat_codes,
            wat_share, sp.known, lc_nodata=nodata)
    return dens


def _density_build(services: list[str]) -> set[str]:
    """Which densities the selected services need (oxygen_release needs the CO₂ one)."""
    wanted = set(services)
    build = wanted & set(DENSITY_SERVICES)
    if "oxygen_release" in wanted:
        build.add("carbon_sequestration")
    return build


def _write_year(raster_dir: Path, year: int, grid: Grid, dens: dict[str, da.Array], services: list[str],
                o2_per_co2: float | None, chunk: int) -> dict[str, da.Array]:
    """Write the service rasters of one year (COG, see :func:`gep.raster.cog.write_cog`) and return the densities
    read back from the files (totals then come from exactly what was written, in one compute each)."""
    from gep.raster.cog import write_cog

    out = dict(dens)
    for service in DENSITY_SERVICES:
        if service not in services:
            continue  # the CO₂ density of an oxygen-only selection stays in memory
        zh, _, raster_unit, _ = sv.SERVICES[service]
        target = service_raster_path(raster_dir, service, year)
        write_cog(_as_xr(dens[service], grid, service, f"{raster_unit}/a"), target, None,
                  units=f"{raster_unit} per year ({zh})")
        out[service] = open_lazy(target, chunk).data
    if "oxygen_release" in services:
        # the O₂ raster is the CO₂ raster × 32/44
        write_cog(_as_xr(out["carbon_sequestration"] * np.float32(o2_per_co2), grid, "oxygen_release",
                         "g O₂/m²/a"), service_raster_path(raster_dir, "oxygen_release", year), None,
                  units="g O₂/m² per year (释氧)")
    return out


def _open_year(raster_dir: Path, year: int, services: list[str], chunk: int, grid: Grid) -> dict[str, da.Array]:
    """The densities of one year from service rasters written before (by :func:`write_service_rasters`)."""
    out = {}
    for service in DENSITY_SERVICES:
        if service not in services:
            continue
        path = service_raster_path(raster_dir, service, year)
        if not path.is_file():
            raise InputError(f"{path}: service raster missing; run `gep gep-rasters` for {year} first (the "
                             f"workflow's gep_rasters rule)")
        data = open_lazy(path, chunk)
        if data.shape != grid.shape:
            raise InputError(f"{path}: {data.shape[1]} × {data.shape[0]} cells, but the land cover of {year} has "
                             f"{grid.shape[1]} × {grid.shape[0]}; rerun `gep gep-rasters` for {year}")
        out[service] = data.data
    return out


def ls_raster(cfg: GepConfig, dem_path, target: Path) -> Path:
    """The LS raster soil_retention reads: ``gep.ls.path`` when given, else computed from the DEM into
    ``target``."""
    if cfg.ls.path is not None:
        ls_path = Path(cfg.ls.path)
        if not ls_path.is_file():
            raise InputError(f"gep.ls.path: {ls_path} does not exist; check the path")
        return ls_path
    log.info("LS factor from %s", dem_path)
    summary = compute_ls(dem_path, target, l_max=cfg.ls.l_max, area_form=cfg.ls.area_form, z_scale=cfg.ls.z_scale)
    log.info("LS factor: %s", summary)
    return target


def write_service_rasters(cfg: GepConfig, year: int, *, landcover_path: str | Path, raster_dir: str | Path,
                          ls_path: str | Path | None = None, dem_path: str | Path | None = None,
                          scheme: str = "clcd", landcover_nodata: int | None = None) -> list[Path]:
    """Write the service rasters of one year (:func:`service_raster_names`) into ``raster_dir``, for any number of
    region levels to aggregate later (``run_gep(..., rasters_written=True)``).

    soil_retention reads ``ls_path`` (an LS raster on the DEM grid, e.g. from a ``compute_ls`` run shared by
    every year), else ``gep.ls.path``, else an LS computed from ``dem_path`` into ``raster_dir/ls_factor.tif``.
    Returns the written paths.
    """
    services, _ = _raster_work(cfg)
    names = service_raster_names(cfg)
    if not names:
        return []
    problems = preflight(cfg, [year], dem_path if ls_path is None else None)
    if problems:
        raise InputError.many(problems)
    raster_dir = Path(raster_dir)
    sp = _ServiceParams(cfg, services, [int(c) for c in load_scheme(scheme).codes])
    if "soil_retention" in services and ls_path is None:
        ls_path = ls_raster(cfg, dem_path if dem_path is not None else cfg.dem, raster_dir / "ls_factor.tif")
    lc = LandcoverRaster.open(landcover_path, chunk=cfg.chunk, nodata=landcover_nodata)
    inputs = _Inputs(cfg, year, lc.grid, lc.data.chunks, Path(ls_path) if ls_path is not None else None)
    dens = _densities(cfg, lc, inputs, sp, _density_build(services))
    _write_year(raster_dir, year, lc.grid, dens, services, sp.o2_per_co2 if sp.carbon else None, cfg.chunk)
    return [service_raster_path(raster_dir, s, year) for s in names]


def sum_layers(services: Iterable[str], raster_regulators: Iterable[str] = ()) -> list[str]:
    """The layers of a year's sums table (:mod:`.year_sums`) for the selected services: each density raster
    they need (the CO₂ one also for oxygen_release), then each Tier-1 regulator raster."""
    build = _density_build(list(services))
    return [s for s in DENSITY_SERVICES if s in build] + [regulator_layer(n) for n in raster_regulators]


def _year_sums(cfg: GepConfig, year: int, levels: dict[str, gpd.GeoDataFrame], *, landcover_path, raster_dir: Path,
               raster_services: list[str], raster_regs: dict, sp: "_ServiceParams", ls_path: Path | None,
               landcover_nodata, scheduler, read_rasters: bool, write_rasters: bool,
               zones_cache: dict | None = None) -> dict[str, pd.DataFrame]:
    """The raster work of one year: its densities (read from the service rasters with ``read_rasters``, else
    computed, and written first with ``write_rasters``) and regulator rasters summed over the regions of each
    level in ``levels``; a sums table (:func:`.year_sums.sums_table`) per level."""
    lc = LandcoverRaster.open(landcover_path, chunk=cfg.chunk, nodata=landcover_nodata)
    grid = lc.grid
    inputs = _Inputs(cfg, year, grid, lc.data.chunks, ls_path)
    build = _density_build(raster_services)
    if read_rasters:
        dens = _open_year(raster_dir, year, raster_services, cfg.chunk, grid)
        dens.update(_densities(cfg, lc, inputs, sp, build - set(dens)))  # an oxygen-only selection's CO₂
    else:
        dens = _densities(cfg, lc, inputs, sp, build)
        if write_rasters:
            dens = _write_year(raster_dir, year, grid, dens, raster_services,
                               sp.o2_per_co2 if sp.carbon else None, cfg.chunk)
    layers = {s: dens[s] for s in DENSITY_SERVICES if s in build}
    layers.update({regulator_layer(n): inputs._get_input(reg.raster) for n, reg in raster_regs.items()})
    zones_cache = {} if zones_cache is None else zones_cache
    zone_sets = {}
    for level, regions in levels.items():
        key = (level, tuple(grid.transform)[:6], grid.shape, grid.crs.to_wkt())
        if key not in zones_cache:
            zones_cache[key] = Zones.prepare(np.asarray(to_crs(regions, grid.crs).geometry.values), grid)
        zone_sets[level] = zones_cache[key]
    # one pass for every level and layer: each block of each raster is read (or computed) once
    sums = zonal_sums(layers, grid, zone_sets, scheduler=scheduler)
    return {level: sums_table(regions["region_code"].astype(str), {name: sums[level, name] for name in layers})
            for level, regions in levels.items()}


def write_year_sums(cfg: GepConfig, year: int, *, levels: dict[str, gpd.GeoDataFrame], landcover_path,
                    raster_dir: str | Path, targets: dict[str, Path], scheme: str = "clcd",
                    landcover_nodata: int | None = None, ls_path: str | Path | None = None,
                    dem_path: str | Path | None = None, scheduler=None) -> list[Path]:
    """Sum one year's service rasters (written before by :func:`write_service_rasters`) and Tier-1 regulator
    rasters over the regions of every level in ``levels`` (``{level: regions}``), and write each level's sums
    table (:mod:`.year_sums`) to ``targets[level]`` (Parquet, atomically). ``run_gep(..., sums_paths=…)`` then
    builds that level's tables without reading a raster."""
    from gep.io.tables import write_single

    raster_services, raster_regs = _raster_work(cfg)
    problems = preflight(cfg, [year], dem_path if ls_path is None else None)
    if problems:
        raise InputError.many(problems)
    sp = _ServiceParams(cfg, raster_services, [int(c) for c in load_scheme(scheme).codes])
    written = bool(service_raster_names(cfg))
    if "soil_retention" in raster_services and not written and ls_path is None:
        raise InputError("gep.write_rasters is off, so there is no soil retention raster to sum: the GEP tables "
                         "stage (gep gep-tables) computes and sums the services itself; or give ls_path")
    sums = _year_sums(cfg, year, levels, landcover_path=landcover_path, raster_dir=Path(raster_dir),
                      raster_services=raster_services, raster_regs=raster_regs, sp=sp,
                      ls_path=Path(ls_path) if ls_path is not None else None, landcover_nodata=landcover_nodata,
                      scheduler=scheduler, read_rasters=written, write_rasters=False)
    return [write_single(sums[level], targets[level]) for level in levels]


def _tier2(cfg: GepConfig, years, lca, regions, names, landcover_path_for_year, dem_path, raster_dir: Path,
           raster_services, raster_regs, regulators, scheme_codes, prices: PriceTable | None, landcover_nodata,
           scheduler, write, rasters_written: bool, sums_paths: dict | None) -> pd.DataFrame:
    """Raster services (and raster Tier-1 regulators) for every year: rows with physical quantities, from the
    stored sums tables (``sums_paths``) or from the rasters."""
    sp = _ServiceParams(cfg, raster_services, scheme_codes)
    codes = names["region_code"]
    layers = sum_layers(raster_services, raster_regs)
    if sums_paths is not None:
        missing = [y for y in years if y not in sums_paths]
        if missing:
            raise InputError(f"GEP sums: none given for year(s) {', '.join(map(str, missing))}; run `gep gep-sums` "
                             f"for them first (the workflow's gep_sums rule)")
        sums = {y: read_year_sums(sums_paths[y], codes, layers) for y in years}
        return _tier2_rows(cfg, years, lca, names, sums, raster_services, raster_regs, regulators, prices, sp, dem_path)
    ls_path = None
    scratch = None
    if "soil_retention" in raster_services and not (rasters_written and cfg.write_rasters):
        # the LS raster is read lazily during the whole year loop; without outputs it lives in a temp dir
        scratch = None if write else tempfile.TemporaryDirectory(prefix="gep-ls-")
        ls_path = ls_raster(cfg, dem_path, (raster_dir if scratch is None else Path(scratch.name)) / "ls_factor.tif")
    try:
        zones_cache: dict = {}
        sums = {}
        for year in years:
            table = _year_sums(cfg, year, {"": regions}, landcover_path=landcover_path_for_year(year),
                               raster_dir=raster_dir, raster_services=raster_services, raster_regs=raster_regs,
                               sp=sp, ls_path=ls_path, landcover_nodata=landcover_nodata, scheduler=scheduler,
                               read_rasters=write and cfg.write_rasters and rasters_written,
                               write_rasters=write and cfg.write_rasters, zones_cache=zones_cache)[""]
            sums[year] = YearSums(table, codes, layers, f"GEP sums of {year}")
    finally:
        if scratch is not None:
            scratch.cleanup()
    return _tier2_rows(cfg, years, lca, names, sums, raster_services, raster_regs, regulators, prices, sp, dem_path)


def _tier2_rows(cfg: GepConfig, years, lca, names, sums: dict[int, YearSums], raster_services, raster_regs,
                regulators, prices: PriceTable | None, sp: "_ServiceParams", dem_path) -> pd.DataFrame:
    """The Tier-2 rows (physical quantities, prices, sources) of every year from the year's sums, and the
    regulator ratios into ``regulators``; InputError when the inputs miss part of a region's land cover."""
    lc_area = lca.groupby(["region_code", "year"])["area_km2"].sum() * 1e6  # classified area, m²
    out_rows = []
    coverage_problems = []
    for year in years:
        ys = sums[year]

        def emit(service: str, layer: str | None, *, quantity=None, valid=None, base_price, price_unit,
                 source, method: str | None = None, year=year, ys=ys):
            zh, unit, raster_unit, factor = sv.SERVICES[service]
            if layer is not None:
                total, valid = ys.get(layer)
                quantity = total * factor
            for i, rc in enumerate(names["region_code"]):
                need = lc_area.get((rc, year), 0.0)
                if need > 0 and valid[i] < need * cfg.min_coverage_pct / 100.0:
                    coverage_problems.append(
                        f"{service} {year}: inputs cover {100 * valid[i] / need:.2f}% of region {rc}'s land cover "
                        f"(< {cfg.min_coverage_pct:g}%); use rasters that cover every region (or lower "
                        f"gep.min_coverage_pct)")
            out_rows.append(pd.DataFrame({
                "region_code": names["region_code"], "region_name": names["region_name"], "year": year,
                "service": service, "service_zh": zh, "category": "regulating", "tier": 2,
                "quantity": quantity, "quantity_unit": unit, "base_price": base_price,
                "price_year": prices.base_year if prices else np.nan, "price_unit": price_unit,
                "given_value_yuan": np.nan, "method": method or METHODS[service], "source": source}))
            return quantity, valid

        if "water_conservation" in raster_services:
            price, unit = prices.get("water_storage", "water_conservation")
            emit("water_conservation", "water_conservation", base_price=price, price_unit=unit,
                 source=f"{sp.runoff.file.cite()}; {prices.file.cite()}; P: {_describe(cfg.rasters.precipitation)}; "
                        f"ET: {_describe(cfg.rasters.et)}")

        if "soil_retention" in raster_services:
            soil_pf = sp.soil
            lam = scalar(soil_pf, "sediment_fraction", minimum=0.0, maximum=1.0)
            rho = scalar(soil_pf, "bulk_density", minimum=1e-9)
            cn = scalar(soil_pf, "soil_n_fraction", minimum=0.0, maximum=1.0)
            cp = scalar(soil_pf, "soil_p_fraction", minimum=0.0, maximum=1.0)
            dredge, _ = prices.get("dredging", "soil_retention")
            pn, _ = prices.get("nitrogen", "soil_retention")
            pp, _ = prices.get("phosphorus", "soil_retention")
            price = lam / rho * dredge + cn * pn + cp * pp
            ls_note = (f"; LS raster given ({cfg.ls.path})" if cfg.ls.path else
                       f"; l_max {cfg.ls.l_max:g}, upslope area form '{cfg.ls.area_form}'")
            emit("soil_retention", "soil_retention", base_price=price,
                 method=METHODS["soil_retention"] + ls_note,
                 price_unit=f"元/t (= λ/ρ × dredging + c_N × p_N + c_P × p_P = {lam:g}/{rho:g} × {dredge:g} + "
                            f"{cn:g} × {pn:g} + {cp:g} × {pp:g})",
                 source=f"{sp.usle.file.cite()}; {soil_pf.cite()}; {prices.file.cite()}; "
                        f"R: {_describe(cfg.rasters.erosivity)}; K: {_describe(cfg.rasters.erodibility)}; "
                        f"LS: {Path(cfg.ls.path or dem_path).name}")

        if {"carbon_sequestration", "oxygen_release"} & set(raster_services):
            co_pf = sp.carbon
            co2_per_c = scalar(co_pf, "co2_per_c", minimum=0.0)
            src = f"{co_pf.cite()}; {prices.file.cite()}; NPP: {_describe(cfg.rasters.npp)}"
            if "carbon_sequestration" in raster_services:
                price, unit = _price_carbon_per_co2(prices, co2_per_c)
                q, valid = emit("carbon_sequestration", "carbon_sequestration", base_price=price,
                                price_unit=unit, source=src)
            else:
                total, valid = ys.get("carbon_sequestration")
                q = total * sv.SERVICES["carbon_sequestration"][3]
            if "oxygen_release" in raster_services:
                price, unit = prices.get("oxygen", "oxygen_release")
                # O₂ totals follow exactly from the CO₂ totals (the O₂ raster is the CO₂ raster × 32/44)
                emit("oxygen_release", None, quantity=q * sp.o2_per_co2, valid=valid, base_price=price,
                     price_unit=unit, source=src)

        if "climate_regulation" in raster_services:
            price, unit = prices.get("electricity", "climate_regulation")
            emit("climate_regulation", "climate_regulation", base_price=price, price_unit=unit,
                 source=f"{sp.climate.cite()}; {prices.file.cite()}; ET: {_describe(cfg.rasters.et)}; "
                        f"evaporation: {_describe(cfg.rasters.evaporation or cfg.rasters.et)}")

        for name, reg in raster_regs.items():
            total, covered = ys.get(regulator_layer(name))
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = total / covered / reg.reference_mean
            t = pd.DataFrame({"region_code": names["region_code"], "year": year, name: ratio})
            regulators[name] = t if name not in regulators else pd.concat([regulators[name], t], ignore_index=True)

    if coverage_problems:
        raise InputError.many(coverage_problems)
    if not out_rows:
        return _empty_rows()
    return pd.concat(out_rows, ignore_index=True)[ROW_COLUMNS]
