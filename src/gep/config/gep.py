"""The ``gep:`` section of the run config (indicator 10 and the GEP accounts), as a pydantic v2 model.

Raster inputs may be given as a path template (``data/precip_{year}.tif``), a constant (``erodibility:
0.03``) or a mapping with ``path``/``value`` and ``scale``, ``offset`` (raw × scale + offset = the unit the
service expects), ``kind`` (intensity or amount per cell), ``resampling`` and ``nodata``. Parameter files
are built-in names (``src/gep/data/parameters/NAME.yaml``) or paths. See :class:`GepConfig` for every field.

The service names, the parameter tables (with their default files) and which services are computed from
rasters come from the service catalogue :mod:`gep.config.gep_services`, where each service is declared once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from gep.config import gep_services as catalogue
from gep.config.gep_services import BUILTIN_NAMES, DEFAULT_NAMES

#: the built-in services (the default of ``gep.services``); every registered one is in the catalogue
#: (:mod:`gep.config.gep_services`)
SERVICE_NAMES = BUILTIN_NAMES
ServiceName = str  # a name of the service catalogue (checked by GepConfig)
#: service → (name_zh, category, {quantity unit: factor to the first (base) unit})
STAT_SERVICES: dict[str, tuple[str, str, dict[str, float]]] = {
    "agriculture": ("农业产品", "provisioning", {"t": 1.0, "万t": 1e4}),
    "forestry": ("林业产品", "provisioning", {"m³": 1.0, "万m³": 1e4, "t": 1.0, "万t": 1e4}),
    "animal_husbandry": ("畜牧业产品", "provisioning", {"t": 1.0, "万t": 1e4, "头": 1.0, "万头": 1e4}),
    "fishery": ("渔业产品", "provisioning", {"t": 1.0, "万t": 1e4}),
    "water_supply": ("水资源供给", "provisioning", {"m³": 1.0, "万m³": 1e4, "亿m³": 1e8}),
    "hydropower": ("水电", "provisioning", {"kWh": 1.0, "万kWh": 1e4, "亿kWh": 1e8}),
    "tourism": ("休闲旅游", "cultural", {"人次": 1.0, "万人次": 1e4}),
}


class _Kinds(Sequence):
    """The names of the registered services of some kinds, in catalogue order, read when used (a service
    registered later is in it)."""

    def __init__(self, *kinds: str):
        self._kinds = kinds

    def _names(self) -> tuple[str, ...]:
        return tuple(s.name for s in catalogue.specs() if s.kind in self._kinds)

    def __getitem__(self, i):
        return self._names()[i]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name) -> bool:
        return name in self._names()

    def __repr__(self) -> str:
        return repr(self._names())


#: the services computed from rasters (a per-cell density, or a multiple of another one)
TIER2_RASTER_SERVICES = _Kinds("raster", "derived")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RasterInput(_Model):
    """A raster (path template with optional ``{year}``) or a constant, in the unit the service expects."""

    path: str | None = Field(None, description="raster path; '{year}' is replaced by the accounting year")
    value: float | None = Field(None, description="a constant used everywhere instead of a raster")
    scale: float = Field(1.0, description="multiply raw values by this (e.g. MOD17 NPP 0.1 kg C → g C: use "
                                          "the product's scale × 1000)")
    offset: float = Field(0.0, description="then add this")
    kind: Literal["intensity", "amount"] = Field(
        "intensity", description="intensity: per unit area or a state (mm, g C/m², R, K); amount: per cell "
                                 "(divided by the cell's ellipsoidal area before resampling so totals are kept; "
                                 "the service then sees amount per m², e.g. m³/m² = m: use scale 1000 for mm)")
    resampling: Literal["bilinear", "nearest", "cubic", "average"] = Field(
        "bilinear", description="onto the land-cover grid; bilinear suits continuous fields (default nearest "
                                "when valid_range is given)")
    nodata: float | None = Field(None, description="nodata value when the file declares none (or to override)")
    valid_range: tuple[float, float] | None = Field(
        None, description="[min, max] of valid raw values (before scale and offset); every value outside is "
                          "nodata, e.g. [0, 32700] for MOD17/MOD16, whose fill codes are 32761-32767")
    basis: Literal["C", "dry_matter"] | None = Field(
        None, description="npp only: what the values are a mass of, C (g C/m²/a, the default) or dry_matter "
                          "(g dry matter/m²/a, turned into carbon with the carbon_oxygen table's carbon fraction)")
    band: int = Field(1, ge=1, description="band to read")
    count_above: float | None = Field(
        None, description="cooling_days only: read every band (e.g. one daily maximum temperature per band, °C "
                          "after scale and offset) and count the bands above this, e.g. 26 °C; resampled nearest "
                          "unless resampling is given")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, (str, Path)):
            return {"path": str(data)}
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return {"value": float(data)}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> RasterInput:
        if (self.path is None) == (self.value is None):
            raise ValueError("give exactly one of 'path' (a raster) or 'value' (a constant)")
        if self.valid_range is not None:
            lo, hi = self.valid_range
            if lo > hi:
                raise ValueError(f"valid_range [{lo:g}, {hi:g}]: min is above max; give [min, max]")
            if self.value is not None and not lo <= self.value <= hi:
                raise ValueError(f"value {self.value:g} is outside valid_range [{lo:g}, {hi:g}]")
        if self.count_above is not None and self.value is not None:
            raise ValueError("count_above counts the bands of a raster; give a path, or the number of days as value")
        masked = self.valid_range is not None or self.count_above is not None
        if masked and "resampling" not in self.model_fields_set:
            # flag codes must not be blended into their neighbours, day counts stay whole (docs/methods.md §4.2.6)
            self.resampling = "nearest"
        return self

    def path_for(self, year: int) -> Path | None:
        return None if self.path is None else Path(self.path.format(year=year))


class Rasters(_Model):
    """Climate and soil inputs of the Tier-2 services (any grid and CRS; resampled onto the land cover)."""

    precipitation: RasterInput | None = Field(None, description="annual precipitation P, mm/a (水源涵养)")
    et: RasterInput | None = Field(None, description="annual actual evapotranspiration ET, mm/a (水源涵养, 气候调节)")
    evaporation: RasterInput | None = Field(
        None, description="open-water evaporation, mm/a, for water classes in 气候调节 (default: et)")
    npp: RasterInput | None = Field(None, description="net primary production, g C m⁻² a⁻¹ (or g dry matter with "
                                                      "basis: dry_matter) (固碳, 释氧)")
    erosivity: RasterInput | None = Field(None, description="rainfall erosivity R, MJ·mm/(hm²·h·a) (土壤保持)")
    erodibility: RasterInput | None = Field(None, description="soil erodibility K, t·hm²·h/(hm²·MJ·mm) (土壤保持)")
    transpiration: RasterInput | None = Field(
        None, description="annual transpiration, mm/a, for vegetation in 气候调节 (default: et × the climate "
                          "table's transpiration share of the class)")
    transpiration_cooling: RasterInput | None = Field(
        None, description="transpiration on cooling days only, mm/a, for 气候调节 (default: annual transpiration "
                          "× cooling days / 365)")
    cooling_days: RasterInput | None = Field(
        None, description="days a year air-conditioning runs, d, for 气候调节: a constant, a raster of days, or a "
                          "multi-band daily maximum temperature raster with count_above (default: the climate "
                          "table's cooling_days)")

    # RWEQ factors of 防风固沙 (docs/methods.md §4.2.11)
    wind_factor: RasterInput | None = Field(None, description="RWEQ weather factor WF, kg/m (防风固沙)")
    erodible_fraction: RasterInput | None = Field(None, description="RWEQ soil erodible fraction EF, 0–1 (防风固沙)")
    crust_factor: RasterInput | None = Field(None, description="RWEQ soil crust factor SCF, 0–1 (防风固沙)")
    roughness_factor: RasterInput | None = Field(None, description="RWEQ surface roughness factor K', 0–1 "
                                                                   "(防风固沙)")
    vegetation_cover: RasterInput | None = Field(None, description="fractional vegetation cover FVC, % (0–100), "
                                                                   "for the RWEQ vegetation factor C (防风固沙)")

    @model_validator(mode="after")
    def _fields_for_one_input(self) -> Rasters:
        for key, owner in (("basis", "npp"), ("count_above", "cooling_days")):
            bad = [n for n in type(self).model_fields if n != owner and getattr(self, n) is not None
                   and getattr(getattr(self, n), key) is not None]
            if bad:
                raise ValueError(f"{', '.join(bad)}: '{key}' applies to {owner} only; remove it")
        return self


#: the raster inputs that follow the year's weather: the default of ``gep.fixed_climate.inputs``. NPP, land cover
#: and the soil and surface factors are left out: they carry the ecological change the verdict is to see
#: (docs/methods.md §4.6)
WEATHER_INPUTS = ("precipitation", "et", "evaporation", "transpiration", "transpiration_cooling", "cooling_days",
                  "erosivity", "wind_factor")


class FixedClimate(_Model):
    """Hold the weather-driven inputs at their mean over some climate years, so that a wet or hot year is not read
    as ecological gain in the 稳定提高 verdict (docs/methods.md §4.6). Give ``years`` or a ``from``/``to`` range."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    years: list[int] | None = Field(None, description="the climate years, e.g. [2015, 2016, 2017]")
    from_: int | None = Field(None, alias="from", description="first climate year of a range (with 'to')")
    to: int | None = Field(None, description="last climate year of a range (with 'from'), included")
    inputs: list[str] = Field(
        default_factory=lambda: list(WEATHER_INPUTS),
        description=f"the gep.rasters inputs held at their mean (default: {', '.join(WEATHER_INPUTS)}); a Tier-1 "
                    f"regulator raster of the same name follows")

    @model_validator(mode="after")
    def _one_period(self) -> FixedClimate:
        ranged = self.from_ is not None or self.to is not None
        if (self.years is not None) == ranged:
            raise ValueError("give the climate years either as 'years' (a list) or as 'from' and 'to'")
        if ranged and (self.from_ is None or self.to is None or self.from_ > self.to):
            raise ValueError(f"from {self.from_} to {self.to}: give both, the first year not after the last")
        if self.years is not None and (not self.years or len(set(self.years)) != len(self.years)):
            raise ValueError(f"years {self.years}: list each climate year once (at least one)")
        bad = [n for n in self.inputs if n not in Rasters.model_fields]
        if bad:
            raise ValueError(f"inputs {', '.join(bad)}: not a gep.rasters input; use some of "
                             f"{', '.join(Rasters.model_fields)}")
        return self

    @property
    def climate_years(self) -> list[int]:
        """The climate years, in order."""
        return sorted(self.years) if self.years is not None else list(range(self.from_, self.to + 1))

    def span(self) -> str:
        """The climate years as written in the tables: '2015–2020' for a run of 3 or more, else listed."""
        ys = self.climate_years
        if len(ys) > 2 and ys == list(range(ys[0], ys[-1] + 1)):
            return f"{ys[0]}–{ys[-1]}"
        return ", ".join(map(str, ys))


class _ParametersBase(BaseModel):
    """Parameter files (built-in names under src/gep/data/parameters/ or paths to the user's own files)."""

    # the built-in tables are fields (below); a registered service's own table is an extra key, checked here
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False})

    @model_validator(mode="before")
    @classmethod
    def _registered_defaults(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        extra = {p.field: p.default for p in catalogue.parameter_tables() if p.field not in cls.model_fields}
        return {**extra, **data}

    @model_validator(mode="after")
    def _registered_only(self) -> _ParametersBase:
        tables = {p.field for p in catalogue.parameter_tables()}
        for key, value in (self.model_extra or {}).items():
            if key not in tables:
                raise ValueError(f"'{key}' is not the parameter table of any service; use one of "
                                 f"{', '.join(sorted(tables))}")
            if not isinstance(value, str):
                raise ValueError(f"{key}: '{value}' is not a file name or path; give a built-in name or a path")
        return self


#: one field per parameter table of the built-in services, with the default file each declares
Parameters = create_model(
    "Parameters", __base__=_ParametersBase, __module__=__name__,
    **{p.field: (str, Field(p.default, description=p.description)) for p in catalogue.parameter_tables()})
Parameters.__doc__ = _ParametersBase.__doc__


class RegulatorInput(_Model):
    """A Tier-1 regulator (local / national ratio): a constant, a table, or a raster with a reference mean."""

    value: float | None = Field(None, gt=0, description="one ratio for every region and year")
    table: str | None = Field(None, description="CSV with columns region_code, year, ratio")
    raster: RasterInput | None = Field(None, description="raster of the quantity (e.g. NPP); its area-weighted "
                                                         "mean per region is divided by reference_mean")
    reference_mean: float | None = Field(None, gt=0, description="national mean of the raster's quantity")

    @model_validator(mode="after")
    def _one(self) -> RegulatorInput:
        given = [x is not None for x in (self.value, self.table, self.raster)]
        if sum(given) != 1:
            raise ValueError("give exactly one of value, table or raster")
        if self.raster is not None and self.reference_mean is None:
            raise ValueError("a raster regulator needs reference_mean (the national mean of the same quantity)")
        return self


class Tier1Config(_Model):
    """Options of the equivalent-factor method."""

    class_types: dict[int, dict[str, float]] = Field(
        default_factory=dict, description="override the class → ecosystem type map, e.g. {1: {水田: 1.0}} or "
                                          "{1: {旱地: 0.6, 水田: 0.4}}, {2: {阔叶林: 1.0}}")
    regulators: dict[Literal["npp", "precipitation", "soil_conservation"], RegulatorInput] = Field(
        default_factory=dict, description="optional local/national ratios (Xie 2015); absent = 1")


#: ``gep.ls.preset``: the LS settings each preset fixes (docs/methods.md §4.2.5). ``gep`` is the default;
#: ``invest`` reproduces InVEST SDR 3.20's avoided erosion with D8 routing (streams carry no soil retention).
LS_PRESETS: dict[str, dict[str, Any]] = {
    "gep": {"area_form": "sqrt", "x_form": "slope", "s_form": "mccool", "fill_pits": True, "exclude_streams": False},
    "invest": {"area_form": "sqrt", "x_form": "slope", "s_form": "mccool", "fill_pits": True, "exclude_streams": True},
}


class LSConfig(_Model):
    """LS factor from the DEM (soil retention; docs/methods.md §4.2.5). A ``preset`` fixes the method fields it
    names (:data:`LS_PRESETS`); ``gep`` leaves each of them to be changed one by one."""

    path: str | None = Field(None, description="a precomputed LS raster to use instead of computing one")
    preset: Literal["gep", "invest"] = Field("gep", description="gep (default: InVEST ≥ 3.14's LS, pits filled) "
                                                                "or invest (also no soil retention on stream "
                                                                "cells, as InVEST SDR 3.20 with D8)")
    l_max: float = Field(122.0, gt=0, description="cap on L (InVEST SDR default 122)")
    area_form: Literal["sqrt", "area"] = Field("sqrt", description="√ of the upslope area (InVEST ≥ 3.14, "
                                                                   "default) or the area itself (before 3.14)")
    x_form: Literal["slope", "aspect"] = Field("slope", description="x = |sin θ| + |cos θ| of the slope angle "
                                                                    "(InVEST ≥ 3.14, default) or of the aspect")
    s_form: Literal["mccool", "liu"] = Field("mccool", description="S: McCool 1987 (default) or Liu et al. 1994 "
                                                                   "(21.91 sin θ − 0.96 from 10°)")
    fill_pits: bool = Field(True, description="fill the DEM's depressions before routing (Priority-Flood+ε)")
    exclude_streams: bool = Field(False, description="no soil retention (LS 0) on stream cells")
    threshold_flow_accumulation: int = Field(1000, ge=1, description="cells draining more than this many cells "
                                                                     "are streams (InVEST default 1000)")
    z_scale: float = Field(1.0, gt=0, description="DEM elevation unit → metres")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or data.get("preset", "gep") != "invest":
            return data
        fixed = LS_PRESETS["invest"]
        clash = {k: data[k] for k in fixed if k in data and data[k] != fixed[k]}
        if clash:
            k, v = next(iter(clash.items()))
            raise ValueError(f"gep.ls.{k}: {v!r} contradicts preset 'invest' ({k}: {fixed[k]!r}); remove {k} or "
                             "the preset")
        return {**data, **fixed}


class VerdictConfig(_Model):
    """The 稳定提高 rule, applied to constant-price GEP per km² [P]."""

    rule: Literal["previous", "monotone"] = Field("previous", description="vs previous year, or monotone over "
                                                                          "the period so far")
    min_change_pct: float = Field(0.0, description="a step counts as 提高 when its change (rounded to 6 decimals) "
                                                   "is > 0 and ≥ this (%); an unchanged value never counts")


class GepConfig(_Model):
    """Configuration of the GEP accounts (indicator 10). Every default is documented; none is official."""

    services: list[ServiceName] = Field(
        default_factory=lambda: list(DEFAULT_NAMES),
        description=f"what to compute: {', '.join(SERVICE_NAMES)} (default: {', '.join(DEFAULT_NAMES)})",
        json_schema_extra={"items": {"enum": list(SERVICE_NAMES), "type": "string"}})
    gep_tier: Literal[1, 2] = Field(2, description="which tier the GEP sum uses: 1 = equivalent factors; 2 = "
                                                   "biophysical regulating services + statistics")
    rasters: Rasters = Field(default_factory=Rasters)
    dem: str | None = Field(None, description="DEM for the LS factor (m; any CRS)")
    ls: LSConfig = Field(default_factory=LSConfig)
    parameters: Parameters = Field(default_factory=Parameters)
    tier1: Tier1Config = Field(default_factory=Tier1Config)
    statistics: str | None = Field(None, description="CSV of provisioning/cultural values (gep gep-template)")
    tables: dict[str, str] = Field(
        default_factory=dict, description="region tables (CSV) of the services that read them: water_bodies "
                                          "(洪水调蓄), emissions (空气净化), discharges (水质净化)")
    statistics_services: list[str] = Field(
        default_factory=lambda: ["agriculture", "forestry", "animal_husbandry", "fishery", "water_supply",
                                 "hydropower", "tourism"],
        description="statistics services every region × year must have")
    deflator: str | None = Field(None, description="deflator table (YAML or CSV year,index); required. "
                                                   "the built-in deflator_demo is a DEMO only")
    constant_price_year: int | None = Field(None, description="year of constant prices (default: the price "
                                                              "table's base year, or with a profile the "
                                                              "earliest price year of its records)")
    profile: str | None = Field(None, description="GEP profile (built-in name, e.g. national_default, or a path) "
                                                  "whose price records value every priced service; null: the "
                                                  "price table parameters.prices (docs/methods.md §4.8)")
    deductions: str | None = Field(None, description="CSV of ecosystem products from outside the region "
                                                     "(region_code, year, item, value, value_unit 元/万元/亿元, "
                                                     "source), deducted from GEP (GB/T 46869-2025)")
    verdict: VerdictConfig = Field(default_factory=VerdictConfig)
    clip_negative_water: bool = Field(False, description="set negative water conservation (ET > P − R) to 0")
    min_coverage_pct: float = Field(99.0, ge=0, le=100, description="min. share of a region's land cover that "
                                                                    "every service raster must cover")
    write_rasters: bool = Field(True, description="write a COG of each service's physical quantity per year")
    chunk: int = Field(2048, ge=64, description="Dask block side in cells (rounded to the land cover's tiles)")
    fixed_climate: FixedClimate | None = Field(
        None, description="hold the weather-driven inputs at their mean over climate years ({years: [...]} or "
                          "{from: Y1, to: Y2}) so the trend and verdict show ecological change, not weather; the "
                          "values are then not the years' actual GEP")

    @field_validator("services")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("services repeat; list each once")
        bad = [s for s in v if s not in catalogue.names()]
        if bad:
            raise ValueError(f"unknown service(s) {', '.join(bad)}; use {', '.join(catalogue.names())}")
        return v

    @field_validator("tables")
    @classmethod
    def _table_names(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if k not in catalogue.table_names()]
        if bad:
            raise ValueError(f"unknown table(s) {', '.join(bad)}; use {', '.join(catalogue.table_names())}")
        return v

    @field_validator("statistics_services")
    @classmethod
    def _stat_names(cls, v: list[str]) -> list[str]:

        bad = [s for s in v if s not in STAT_SERVICES]
        if bad:
            raise ValueError(f"unknown statistics service(s) {', '.join(bad)}; use {', '.join(STAT_SERVICES)}")
        return v


    def fixed(self, name: str, inp: RasterInput | None) -> bool:
        """Whether input ``name`` (a gep.rasters name, or a Tier-1 regulator's) is read at fixed climate:
        ``fixed_climate`` lists it and it is a raster per year (a constant or a single file is the same every
        year already)."""
        fc = self.fixed_climate
        return (fc is not None and name in fc.inputs and inp is not None and inp.path is not None
                and inp.path_for(0) != inp.path_for(1))

    def raster_years(self, name: str, inp: RasterInput | None, years: Iterable[int]) -> list[int]:
        """The years whose file of input ``name`` accounting ``years`` read: the climate years when it is fixed,
        else ``years``."""
        return self.fixed_climate.climate_years if self.fixed(name, inp) else sorted({int(y) for y in years})

    def climate_note(self) -> str | None:
        """'fixed climate: mean of <inputs> over <years>' for the tables (gep_scope, verdict_rule, provenance);
        None when no input is held fixed."""
        if self.fixed_climate is None:
            return None
        held = [n for n in self.fixed_climate.inputs if self.fixed(n, getattr(self.rasters, n))]
        if "tier1" in self.services:
            held += [f"tier1 {n} ratio" for n, r in self.tier1.regulators.items() if self.fixed(n, r.raster)]
        if not held:
            return None
        return f"fixed climate: mean of {', '.join(held)} over {self.fixed_climate.span()}"


def load_gep_config(source: str | Path | Mapping[str, Any] | None = None, where: str = "gep") -> GepConfig:
    """A :class:`GepConfig` from a mapping (the ``gep:`` section), a YAML file (whole file or its ``gep:``
    key) or defaults; every validation problem is reported at once (InputError, one line each)."""
    from gep.core.settings import load_model

    return load_model(GepConfig, source, where, "see gep.config.gep.GepConfig", section="gep")


#: the services whose per-cell density is written as a raster of its own and summed (a 'derived' service,
#: e.g. oxygen_release, is written from its base raster and summed through it)
DENSITY_SERVICES = _Kinds("raster")


def service_raster_names(cfg: GepConfig) -> list[str]:
    """The service rasters one year gets (``SERVICE_YEAR.tif``), in the order they are written (the density
    rasters, then the derived ones); empty when ``write_rasters`` is off."""
    if not cfg.write_rasters:
        return []
    wanted = set(cfg.services)
    return [s for kind in ("raster", "derived") for s in _Kinds(kind) if s in wanted]


def priced(services) -> bool:
    """Whether any of ``services`` is valued in yuan (all but carbon_stock are)."""
    return any(catalogue.spec(s).priced for s in set(services))


def parameter_fields(services, *, prices: bool = True) -> list[str]:
    """The :class:`Parameters` fields ``services`` read (in field order), with ``prices`` when one is priced."""
    wanted = {f for s in services for f in catalogue.spec(s).parameter_fields}
    if prices and priced(services):
        wanted.add("prices")
    return [p.field for p in catalogue.parameter_tables() if p.field in wanted]


#: the :class:`GepConfig` fields the service rasters (and the LS factor) depend on; the others (tier1, gep_tier,
#: statistics, statistics_services, deflator, constant_price_year, verdict, profile, deductions) only value and
#: report them, so changing one redoes the GEP tables, not the rasters
RASTER_SETTINGS = ("services", "rasters", "dem", "ls", "parameters", "clip_negative_water", "min_coverage_pct",
                   "write_rasters", "chunk", "fixed_climate")
