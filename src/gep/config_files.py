"""The files a run's config names, by the workflow stage that reads them.

The rules declare these files as inputs, so editing one redoes exactly the stages it feeds: a new price table
redoes the GEP tables (not the service rasters, nor any land-cover accounting); a new runoff table redoes the
service rasters too; a new class scheme redoes everything. ``provenance.json`` records their checksums.

Files given by built-in name (``clcd``, ``national``, ``prices_dolkar2017``) resolve to ``config/…`` in the
checkout, so an edit there counts like an edit of the user's own file. A name that resolves to nothing is
left out here; the stage that reads it reports it (one line, exit 2). Paths are listed whether they exist
or not: a file another rule writes (the demo data) must be an input from the first run on.

Land-cover rasters, region layers, the terrain DEM and the protected-area layers are wired by the rules
themselves (rules/common.smk); everything else a stage reads because the config names it is listed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from .config import Config
from .errors import InputError

Stage = Literal["validate_inputs", "coverage_tables", "gep_rasters", "gep_tables", "scorecard"]
STAGES: tuple[str, ...] = ("validate_inputs", "coverage_tables", "gep_rasters", "gep_tables", "scorecard")

#: the climate and soil rasters of the GEP services (gep.rasters.NAME)
GEP_RASTERS = ("precipitation", "et", "evaporation", "npp", "erosivity", "erodibility")


def _named(resolver: Callable[[str], Path], ref: str) -> list[str]:
    """The file a name-or-path config value stands for; [] for an unknown built-in name."""
    try:
        path = resolver(ref)
    except InputError:
        return [ref] if Path(ref).suffix else []
    try:  # a built-in file of this checkout, relative to the folder the run starts in (usually the checkout)
        return [str(path.resolve().relative_to(Path.cwd().resolve()))] if path.is_absolute() else [str(path)]
    except ValueError:
        return [str(path)]


def _templates(template: str | None, years: Iterable[int]) -> list[str]:
    if template is None:
        return []
    return sorted({template.format(year=y) for y in years})


def gep_raster_files(cfg: Config, years: Iterable[int]) -> list[str]:
    """The climate/soil rasters (gep.rasters) of ``years``; constants have none."""
    files: list[str] = []
    for name in GEP_RASTERS:
        spec = getattr(cfg.gep.rasters, name)
        files += _templates(spec.path if spec is not None else None, years)
    return files


def _gep_parameters(cfg: Config, services: Iterable[str], *, prices: bool) -> list[str]:
    from .valuation.config import parameter_fields
    from .valuation.params import parameter_file

    files: list[str] = []
    for field in parameter_fields(list(services), prices=prices):
        files += _named(parameter_file, getattr(cfg.gep.parameters, field))
    return files


def stage_files(cfg: Config, stage: Stage, years: Iterable[int] | None = None) -> list[str]:
    """The files ``stage`` reads because the config names them (sorted, unique), for ``years`` (default: all).

    - validate_inputs: the class scheme (every stage reads it, and every stage waits for this one);
    - coverage_tables: the 林草覆盖率 standard;
    - gep_rasters: the climate/soil rasters of the year, the parameter tables of the raster services and a
      precomputed LS raster (gep.ls.path);
    - gep_tables: those of every year, plus prices, the deflator, Tier-1 and carbon-stock tables,
      statistics, regulator tables and rasters, and the DEM of the LS factor;
    - scorecard: the 两山指数 standard and the department template.
    """
    years = sorted(set(cfg.years if years is None else years))
    files: list[str] = []
    if stage == "validate_inputs":
        from .classes import scheme_file

        files += _named(scheme_file, cfg.landcover.scheme)
    elif stage == "coverage_tables":
        from .coverage_index import standard_file

        if cfg.terrain is not None:
            files += _named(standard_file, cfg.coverage.standard)
    elif stage == "scorecard":
        from .scorecard.standard import standard_file

        files += _named(standard_file, cfg.scorecard.standard)
        files += [cfg.scorecard.template] if cfg.scorecard.template else []
    elif stage in ("gep_rasters", "gep_tables"):
        if cfg.gep is None:
            return []
        from .valuation.config import TIER2_RASTER_SERVICES

        g = cfg.gep
        raster_services = [s for s in g.services if s in TIER2_RASTER_SERVICES]
        files += gep_raster_files(cfg, years)
        files += [g.ls.path] if g.ls.path and "soil_retention" in g.services else []
        if stage == "gep_rasters":
            files += _gep_parameters(cfg, raster_services, prices=False)
        else:
            files += _gep_parameters(cfg, g.services, prices=True)
            from .valuation.config import priced

            files += [g.dem] if g.dem else []
            files += [g.statistics] if g.statistics and "statistics" in g.services else []
            files += [g.deflator] if g.deflator and priced(g.services) else []
            for reg in g.tier1.regulators.values() if "tier1" in g.services else ():
                files += [reg.table] if reg.table else []
                files += _templates(reg.raster.path, years) if reg.raster is not None else []
    else:
        raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    return sorted(set(files))


def all_files(cfg: Config) -> list[str]:
    """Every file :func:`stage_files` lists for any stage (for provenance)."""
    return sorted({f for stage in STAGES for f in stage_files(cfg, stage)})
