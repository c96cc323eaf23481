"""The files a config names, by what reads them: the workflow's rules declare them as inputs (so editing one
redoes exactly the jobs that read it) and provenance records their checksums.

Files given by built-in name (``clcd``, ``national``, ``prices_dolkar2017``) resolve to ``src/gep/data/…``
(:mod:`gep.core.resources`), relative to the folder the run starts in when they lie inside it, so an edit
there counts like an edit of the user's own file. A name that resolves to nothing is left out; the job that
reads it reports it (one line, exit 2). Paths are listed whether they exist or not: a file another rule writes
(the demo data) must be an input from the first run on.

Land-cover rasters, region layers and the terrain DEM are wired by the rules themselves (rules/common.smk).
Light: imports no geo library (the workflow calls these while Snakemake parses it).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gep.config import Config
from gep.config import gep_services as catalogue
from gep.config.gep import TIER2_RASTER_SERVICES, Rasters, parameter_fields, priced, service_raster_names
from gep.core.errors import InputError
from gep.core.resources import resolve

# how each kind of reference file is found (the readers, gep.accounting.classes.scheme_file,
# gep.indicators.coverage.index.standard_file, gep.scorecard.standard.standard_file and
# gep.indicators.gep.params.parameter_file, resolve them the same way)
_SCHEME = dict(kind="classes", what="class scheme")
_COVERAGE = dict(kind="standards", what="coverage standard", prefix="coverage_")
_LIANSHAN = dict(kind="standards", what="两山指数 standard", prefix="lianshan_")
_PARAMETER = dict(kind="parameters", what="parameter", suffixes=(".yaml", ".yml", ".csv"))

#: the climate and soil rasters of the GEP services (gep.rasters.NAME)
GEP_RASTERS = tuple(Rasters.model_fields)


def named(ref: str, **how) -> list[str]:
    """The file a name-or-path config value stands for; [] for an unknown built-in name."""
    try:
        path = resolve(ref, **how)
    except InputError:
        return [ref] if Path(ref).suffix else []
    try:  # a built-in file of this checkout, relative to the folder the run starts in (usually the checkout)
        return [str(path.resolve().relative_to(Path.cwd().resolve()))] if path.is_absolute() else [str(path)]
    except ValueError:
        return [str(path)]


def _templates(template: str | None, years: Iterable[int | str]) -> list[str]:
    if template is None:
        return []
    return sorted({template.format(year=y) for y in years})


def scheme_files(cfg: Config) -> list[str]:
    """The land-cover class scheme (every job that reads class codes)."""
    return named(cfg.landcover.scheme, **_SCHEME)


def coverage_files(cfg: Config) -> list[str]:
    """What the 林草覆盖率 tables read besides the crosstabs: the standard, the precipitation raster of the arid
    rule and the terrain-type overrides; with landcover.survey the survey's class scheme."""
    if cfg.terrain is None:
        return []
    extra = [str(p) for p in (cfg.terrain.precip_path, cfg.terrain.overrides_path) if p is not None]
    return named(cfg.coverage.standard, **_COVERAGE) + extra + survey_scheme_files(cfg)


def survey_scheme_files(cfg: Config) -> list[str]:
    """The class scheme of the land-survey layer (landcover.survey.scheme), if the config names a survey."""
    return named(cfg.landcover.survey.scheme, **_SCHEME) if cfg.landcover.survey else []


def scorecard_files(cfg: Config) -> list[str]:
    """The 两山指数 standard, the coverage standard(s) it takes indicator 7's targets from, and the filled
    department template."""
    standard = named(cfg.scorecard.standard, **_LIANSHAN)
    coverage = [f for ref in _coverage_standards_named(standard) for f in named(ref, **_COVERAGE)]
    return standard + sorted(set(coverage)) + cfg.scorecard.templates()


def _coverage_standards_named(files: list[str]) -> list[str]:
    """The ``coverage_standard`` values of a 两山指数 list's indicators (it stores no targets of its own for
    indicator 7). An unreadable list names none: the scorecard job reports it."""
    import yaml

    refs = []
    for file in files:
        try:
            data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        entries = data.get("indicators", []) if isinstance(data, dict) else []
        refs += [str(e["coverage_standard"]) for e in entries if isinstance(e, dict) and e.get("coverage_standard")]
    return refs


def protected_sources(cfg: Config, years: Iterable[int | str] | None = None) -> list[str]:
    """The red-line and protected-area files of ``years`` (default: all), as
    gep.indicators.protected.areas.resolve_sources picks them: each year's own file or, with carry_forward, the
    latest earlier year's that exists (the first year's is listed even before it exists: the demo data is
    written by a rule)."""
    if cfg.protected is None:
        return []
    wanted = {int(y) for y in (cfg.years if years is None else years)}
    files = set()
    for lc in cfg.protected.layers().values():
        last = None
        for y in cfg.years:
            path = lc.path.format(year=y)
            if not lc.carry_forward or last is None or path.startswith("/vsi") or Path(path).exists():
                last = path
            if y in wanted:
                files.add(last)
    return sorted(files)


def gep_raster_inputs(cfg: Config, years: Iterable[int | str]) -> list[str]:
    """The climate/soil rasters (gep.rasters) of ``years`` (constants have none; an input held at fixed climate:
    its climate years' files) and a precomputed LS raster."""
    if cfg.gep is None:
        return []
    files: list[str] = []
    for name in GEP_RASTERS:
        spec = getattr(cfg.gep.rasters, name)
        files += _templates(spec.path if spec is not None else None, cfg.gep.raster_years(name, spec, years))
    files += [cfg.gep.ls.path] if cfg.gep.ls.path and "soil_retention" in cfg.gep.services else []
    return files


def gep_parameter_files(cfg: Config, services: Iterable[str] | None = None, *, prices: bool) -> list[str]:
    """The parameter tables ``services`` read (default: every selected service), with the price table when
    ``prices``."""
    if cfg.gep is None:
        return []
    files: list[str] = []
    for field in parameter_fields(list(cfg.gep.services if services is None else services), prices=prices):
        files += named(getattr(cfg.gep.parameters, field), **_PARAMETER)
    return files


def gep_regulator_rasters(cfg: Config, years: Iterable[int | str]) -> list[str]:
    """The Tier-1 regulator rasters of ``years`` (held at fixed climate: the climate years')."""
    if cfg.gep is None or "tier1" not in cfg.gep.services:
        return []
    return [f for name, reg in cfg.gep.tier1.regulators.items() if reg.raster is not None
            for f in _templates(reg.raster.path, cfg.gep.raster_years(name, reg.raster, years))]


def gep_service_files(cfg: Config, years: Iterable[int | str]) -> list[str]:
    """What one year's service rasters (and their sums) read: the year's climate/soil rasters and the physical
    parameter tables of the raster services, never prices."""
    if cfg.gep is None:
        return []
    raster_services = [s for s in cfg.gep.services if s in TIER2_RASTER_SERVICES]
    return gep_raster_inputs(cfg, years) + gep_parameter_files(cfg, raster_services, prices=False)


def gep_table_files(cfg: Config) -> list[str]:
    """What the GEP tables read besides the land-cover tables and the stored sums: every parameter table with
    prices, the profile, the deflator, statistics, deductions and Tier-1 regulator tables; without stored sums
    (gep.write_rasters off) also every year's rasters and the DEM of the LS factor."""
    g = cfg.gep
    if g is None:
        return []
    files = gep_parameter_files(cfg, prices=True)
    files += [g.statistics] if g.statistics and "statistics" in g.services else []
    files += [g.tables[t] for s in g.services for t in catalogue.spec(s).tables if t in g.tables]  # region tables
    files += named(g.deflator, **_PARAMETER) if g.deflator and priced(g.services) else []
    files += named(g.profile, kind="profiles", what="GEP profile", suffixes=(".yaml", ".yml")) if g.profile else []
    files += [g.deductions] if g.deductions and priced(g.services) else []
    files += [reg.table for reg in g.tier1.regulators.values() if reg.table] if "tier1" in g.services else []
    if not service_raster_names(g):
        files += gep_raster_inputs(cfg, cfg.years) + gep_regulator_rasters(cfg, cfg.years)
        files += [g.dem] if g.dem else []
    return files


def config_files(cfg: Config) -> list[str]:
    """Every file the config names for any job (sorted, unique): reference files, rasters and layers."""
    files = scheme_files(cfg) + coverage_files(cfg) + scorecard_files(cfg) + protected_sources(cfg)
    files += gep_service_files(cfg, cfg.years) + gep_table_files(cfg) + gep_regulator_rasters(cfg, cfg.years)
    return sorted(set(files))
