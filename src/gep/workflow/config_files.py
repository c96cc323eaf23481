"""The files and settings of a run's config, by the workflow stage whose results depend on them.

**Settings.** Each stage gets ``run/settings/STAGE.json``: the resolved config less what its results do not
depend on (:func:`stage_settings`), rewritten only when that part changes. The rules take it as an input and
read the whole config (``run/config.json``) as ``ancient``. So a run moved to a cluster (``compute``) or
allowed to republish redoes nothing; a new name or title redoes the scorecard; a GEP valuation setting
(prices year, verdict) the GEP tables, not the service rasters nor the land-cover accounting.

Every computing stage also waits for the input checks and is redone when they run again. So the checks come
in parts: the run's own inputs (validate_inputs: regions, DEM, standards, price tables; not the years) and
each year's (validate_year: its land cover, protected areas, GEP rasters), and a stage waits for the parts of
its own years only. Adding a year then checks and accounts that year alone, and redoes only the tables that
span every year. The checks' settings hold only what every stage reads (:data:`_GATE`), so a new standard or
price table does not redo the land-cover accounting either. (``ancient()`` cannot cut that link: Snakemake 9
then skips the own checks of every job downstream of a job that runs.)

**Files.** The rules declare these files as inputs, so editing one redoes exactly the stages it feeds: a new
price table redoes the GEP tables (not the service rasters, nor any land-cover accounting); a new runoff
table redoes the service rasters too; a new class scheme redoes everything. ``provenance.json`` records
their checksums.

Files given by built-in name (``clcd``, ``national``, ``prices_dolkar2017``) resolve to ``config/…`` in the
checkout, so an edit there counts like an edit of the user's own file. A name that resolves to nothing is
left out here; the stage that reads it reports it (one line, exit 2). Paths are listed whether they exist
or not: a file another rule writes (the demo data) must be an input from the first run on.

Land-cover rasters, region layers and the terrain DEM are wired by the rules themselves (rules/*.smk); the
protected-area files of a year (:func:`protected_sources`) and everything else a stage reads because the
config names it are listed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from gep.config import Config
from gep.core.errors import InputError

STAGES: tuple[str, ...] = (
    "validate_inputs", "validate_year", "account", "merge_account", "transition", "landcover_tables",
    "terrain_grid", "coverage_tables", "redline_account", "redline_transition", "protected_tables",
    "protected_changes", "gep_ls", "gep_rasters", "gep_sums", "gep_tables", "scorecard", "provenance")

#: settings that change how a run computes, or what it is called, never a number
HOW = ("name", "republish", "demo", "compute", "scorecard.title")
#: stages of one year or one pair of years: adding a year to the run does not change them
_ONE_YEAR = ("years",)
#: what the input checks' settings leave out: every computing job waits for them and is redone when they run
#: again, so they depend only on what every stage reads (land cover, regions, checks, the DEM). They also check
#: GEP, protected-area and coverage inputs up front; after a change to those alone, the stages that read them
#: are redone (their own settings and files) and report a bad input themselves.
_GATE = ("protected", "coverage", "gep", "scorecard") + tuple(
    f"terrain.{k}" for k in ("thresholds_m", "mountain_share_pct", "hill_mountain_share_pct", "arid_precip_mm",
                             "type_year", "precip_path", "overrides_path"))
_LANDCOVER_ONLY = _ONE_YEAR + ("terrain", "coverage", "protected", "gep", "scorecard")
_NO_GEP_RASTER = ("regions", "checks", "coverage", "protected", "scorecard")
#: what each stage's results do not depend on, besides HOW (a section or SECTION.KEY); :func:`_keep` brings
#: back keys inside a dropped section
_NOT_READ: dict[str, tuple[str, ...]] = {
    # the run's own checks do not depend on the years, and one year's only on that year's land cover
    "validate_inputs": _ONE_YEAR + _GATE,
    "validate_year": _ONE_YEAR + _GATE + ("regions", "checks", "terrain"),
    "landcover_tables": _LANDCOVER_ONLY[1:],
    "coverage_tables": ("protected", "gep", "scorecard"),
    # one year's (or pair's) red line reads that year's files, which the rule lists (protected_sources)
    **{s: _ONE_YEAR + ("terrain", "coverage", "gep", "scorecard")
       for s in ("redline_account", "redline_transition")},
    **{s: ("terrain", "coverage", "gep", "scorecard") for s in ("protected_tables", "protected_changes")},
    "account": _LANDCOVER_ONLY,
    "merge_account": _LANDCOVER_ONLY,
    "transition": _LANDCOVER_ONLY,
    # the grid reads the DEM, window, thresholds and chunk; the rest of `terrain` types regions (coverage_tables)
    "terrain_grid": _ONE_YEAR + ("regions", "checks", "coverage", "protected", "gep", "scorecard")
    + tuple(f"terrain.{k}" for k in ("mountain_share_pct", "hill_mountain_share_pct", "arid_precip_mm", "type_year",
                                     "precip_path", "overrides_path", "dem_min_coverage_pct")),
    "gep_ls": _ONE_YEAR + _NO_GEP_RASTER + ("landcover", "terrain", "gep"),
    "gep_rasters": _ONE_YEAR + _NO_GEP_RASTER + ("terrain", "gep"),
    # one year's sums read its rasters (their settings) and the regions; not prices, verdict or statistics
    "gep_sums": _ONE_YEAR + ("checks", "coverage", "protected", "scorecard", "terrain", "gep"),
    "gep_tables": ("protected", "coverage", "scorecard", "terrain"),
}

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


def protected_sources(cfg: Config, years: Iterable[int] | None = None) -> list[str]:
    """The red-line and protected-area files of ``years`` (default: all), as gep.indicators.protected.areas.resolve_sources
    picks them: each year's own file or, with carry_forward, the latest earlier year's that exists (the first
    year's is listed even before it exists: the demo data is written by a rule)."""
    if cfg.protected is None:
        return []
    wanted = set(cfg.years if years is None else years)
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


def _gep_parameters(cfg: Config, services: Iterable[str], *, prices: bool) -> list[str]:
    from gep.config.gep import parameter_fields
    from gep.indicators.gep.params import parameter_file

    files: list[str] = []
    for field in parameter_fields(list(services), prices=prices):
        files += _named(parameter_file, getattr(cfg.gep.parameters, field))
    return files


def stage_files(cfg: Config, stage: str, years: Iterable[int] | None = None) -> list[str]:
    """The files ``stage`` reads because the config names them (sorted, unique), for ``years`` (default: all).

    - every stage that reads land-cover classes (all but terrain_grid and gep_ls): the class scheme;
    - coverage_tables: the 林草覆盖率 standard, the precipitation raster and the terrain-type overrides;
    - gep_rasters: the climate/soil rasters of the year, the parameter tables of the raster services and a
      precomputed LS raster (gep.ls.path);
    - gep_sums: those of gep_rasters (an oxygen-only selection computes its CO₂ density again) and the
      Tier-1 regulator rasters of the year;
    - gep_tables: those of every year (none when the run writes service rasters: the tables then come from
      the stored sums), plus prices, the deflator, Tier-1 and carbon-stock tables, statistics, regulator
      tables and (without stored sums) regulator rasters and the DEM of the LS factor;
    - scorecard: the 两山指数 standard and the department template.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    years = sorted(set(cfg.years if years is None else years))
    files: list[str] = []
    if stage not in ("terrain_grid", "gep_ls"):
        from gep.accounting.classes import scheme_file

        files += _named(scheme_file, cfg.landcover.scheme)
    if stage == "coverage_tables" and cfg.terrain is not None:
        from gep.indicators.coverage.index import standard_file

        files += _named(standard_file, cfg.coverage.standard)
        files += [str(p) for p in (cfg.terrain.precip_path, cfg.terrain.overrides_path) if p is not None]
    elif stage == "scorecard":
        from gep.scorecard.standard import standard_file

        files += _named(standard_file, cfg.scorecard.standard)
        files += [cfg.scorecard.template] if cfg.scorecard.template else []
    elif stage in ("gep_rasters", "gep_sums", "gep_tables") and cfg.gep is not None:
        from gep.config.gep import TIER2_RASTER_SERVICES, priced, service_raster_names

        g = cfg.gep
        raster_services = [s for s in g.services if s in TIER2_RASTER_SERVICES]
        # with service rasters written, the tables come from the stored sums and read no raster
        rasters = stage != "gep_tables" or not service_raster_names(g)
        if rasters:
            files += gep_raster_files(cfg, years)
            files += [g.ls.path] if g.ls.path and "soil_retention" in g.services else []
        if stage != "gep_tables":
            files += _gep_parameters(cfg, raster_services, prices=False)
        else:
            files += _gep_parameters(cfg, g.services, prices=True)
            files += [g.dem] if g.dem and rasters else []
            files += [g.statistics] if g.statistics and "statistics" in g.services else []
            files += _named(_param_file, g.deflator) if g.deflator and priced(g.services) else []
        for reg in g.tier1.regulators.values() if "tier1" in g.services and stage != "gep_rasters" else ():
            files += [reg.table] if reg.table and stage == "gep_tables" else []
            files += _templates(reg.raster.path, years) if reg.raster is not None and rasters else []
    return sorted(set(files))


def all_files(cfg: Config) -> list[str]:
    """Every file :func:`stage_files` lists for any stage (for provenance)."""
    return sorted({f for stage in STAGES for f in stage_files(cfg, stage)})


def _keep(stage: str) -> tuple[str, ...]:
    """Dotted keys brought back inside a section :data:`_NOT_READ` drops (the LS factor's DEM falls back to
    terrain.dem_path)."""
    from gep.config.gep import RASTER_SETTINGS

    return {"gep_ls": ("terrain.dem_path", "gep.services", "gep.dem", "gep.ls"),
            "gep_rasters": ("terrain.dem_path",) + tuple(f"gep.{k}" for k in RASTER_SETTINGS),
            "gep_sums": ("terrain.dem_path", "gep.tier1") + tuple(f"gep.{k}" for k in RASTER_SETTINGS),
            "gep_tables": ("terrain.dem_path",)}.get(stage, ())


def stage_settings(cfg: Config, stage: str) -> dict:
    """The part of the resolved config ``stage``'s results depend on: all of it less :data:`HOW` (the scorecard
    and the provenance record keep the run's name and title) and less what the stage never reads."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    full = cfg.as_dict()
    drop = set(HOW) - ({"name", "scorecard.title"} if stage in ("scorecard", "provenance") else set())
    drop |= set(_NOT_READ.get(stage, ()))
    keep = set(_keep(stage))
    out: dict = {}
    for key, value in full.items():
        inner = {k for k in drop | keep if k.startswith(key + ".")}
        if key in drop:
            kept = {k.split(".", 1)[1] for k in keep if k.startswith(key + ".")}
            if kept and isinstance(value, dict):
                out[key] = {k: v for k, v in value.items() if k in kept}
        elif inner and isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if f"{key}.{k}" not in drop}
        else:
            out[key] = value
    return out


def settings_path(out_dir: str | Path, stage: str) -> Path:
    return Path(out_dir) / "run" / "settings" / f"{stage}.json"


def sync_stage_settings(cfg: Config) -> dict[str, str]:
    """Write every stage's settings file where its content changed (an unchanged file keeps its timestamp,
    so nothing depending on it is redone); the paths by stage."""
    import json

    from gep.core.atomic import write_text_if_changed

    paths = {}
    for stage in STAGES:
        path = settings_path(cfg.output_dir, stage)
        write_text_if_changed(path, json.dumps(stage_settings(cfg, stage), ensure_ascii=False, indent=2,
                                               sort_keys=True) + "\n")
        paths[stage] = str(path)
    return paths


def _param_file(ref: str) -> Path:
    from gep.indicators.gep.params import parameter_file

    return parameter_file(ref)
