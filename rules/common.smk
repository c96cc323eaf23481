# Shared wiring, no rules: paths of the run (gep.io.run_paths), the files each job reads because the config
# names them (gep.config.files), the config values each job uses (gep.workflow.rules.settings, a rule's
# params) and the lists of outputs (kept here so that rules/*.smk hold rules only).
import shlex

from gep.config import files as config_files
from gep.config.gep import RASTER_SETTINGS, TIER2_RASTER_SERVICES, parameter_fields, service_raster_names
from gep.io import run_paths
from gep.workflow.rules import all_settings, settings

# Every job reads its settings from the run's config file (CONFIG_FILE, named in the shell commands as a
# variable, so that running from a copy of the config elsewhere redoes nothing). What a job's results depend on
# is the part of the config in its params: an edit of the file redoes exactly the jobs whose params changed.
CHECKED = str(run_paths.checks_path(CFG))
TERRAIN = str(run_paths.terrain_path(CFG))
# compute.tile_groups > 1: each raster is accounted as several jobs (bands of block rows) merged exactly
TILE_GROUPS = CFG.compute.tile_groups
PROTECTED = CFG.protected.layers() if CFG.protected else {}
GEP_RASTER_NAMES = service_raster_names(CFG.gep) if CFG.gep else []
GEP_LS = str(run_paths.gep_ls_path(CFG)) if run_paths.gep_ls_path(CFG) else None
GEP_DEM = (CFG.gep.dem or (CFG.terrain.dem_path if CFG.terrain else None)) if CFG.gep else None
# stages that handle every region level in one process (one start-up, one read of each raster per job)
LEVEL_ARGS = " ".join(shlex.quote(level) for level in LEVELS)
# the options of every `gep stage` job: its threads and its log
JOB = "--threads {threads} --log {log:q}"


def uses(*keys):
    """A rule's params: the config values under ``keys`` (JSON; given as a function, so that Snakemake does not
    read the ``{year}`` of a path template as a wildcard)."""
    text = settings(CFG, *keys)
    return lambda w: text


def uses_all():
    text = all_settings(CFG)
    return lambda w: text


def path(p):
    """A run path (gep.io.run_paths) as Snakemake takes it."""
    return str(p)


def log(job):
    return path(run_paths.log_path(CFG, job))


def benchmark(job):
    return path(run_paths.benchmark_path(CFG, job))


def checked(*years):
    """The run's input checks and those of ``years`` (default: every year)."""
    return [CHECKED] + [path(run_paths.checks_path(CFG, y)) for y in (years or YEARS)]


def landcover_path(year):
    return CFG.landcover.path.format(year=year)


def region_paths():
    return [rc.path for rc in CFG.regions.values()]


def tables(*names, levels=None):
    return [path(run_paths.table_path(CFG, level, name)) for level in (levels or LEVELS) for name in names]


def survey_path(year):
    """The land-survey layer of ``year`` (landcover.survey), from which indicator 7 is computed."""
    return CFG.landcover.survey.path.format(year=year)


def coverage_inputs():
    """The interim tables the 林草覆盖率 tables are made from: the survey's, or the raster crosstabs."""
    if CFG.landcover.survey:
        return [path(run_paths.survey_path(CFG, level, y, kind)) for level in LEVELS for y in YEARS
                for kind in run_paths.SURVEY_KINDS]
    return [path(run_paths.crosstab_path(CFG, level, y)) for level in LEVELS for y in YEARS]


def coverage_tables():
    if not CFG.terrain:
        return []
    survey = ["survey_issues", "survey_regions", "survey_totals", "survey_summary"] if CFG.landcover.survey else []
    return tables("terrain_area", "region_terrain_type", "forest_grass_coverage", "coverage_by_terrain",
                  "coverage_trend", *survey)


def gep_table_names():
    if not CFG.gep:
        return []
    carbon = ["carbon_stock"] if "carbon_stock" in CFG.gep.services else []
    return ["gep_services", "gep_summary", "gep_change"] + carbon


def landcover_tables():
    return tables("landcover_area", "region_area", *(["landcover_change", "extent_account"] if PAIRS else []))


def protected_tables():
    if not PROTECTED:
        return []
    return tables("protected_area", "protected_change", "redline_landcover",
                  *(["redline_transition"] if PAIRS else []))


def protected_maps():
    return [path(run_paths.protected_change_path(CFG))] if PROTECTED and PAIRS else []


def scorecard_outputs():
    return [path(p) for level in LEVELS for p in run_paths.scorecard_paths(CFG, level)]


def all_tables():
    """Every published table of the run (CSV; Parquet and .meta.json sidecars are written beside them), the
    terrain classes and the red-line change map."""
    return (landcover_tables() + coverage_tables() + ([TERRAIN] if CFG.terrain else []) + protected_tables()
            + protected_maps() + tables(*gep_table_names()))


def gep_raster_settings():
    """What one year's GEP service rasters depend on: the services, their inputs and physical parameters."""
    raster_services = [s for s in CFG.gep.services if s in TIER2_RASTER_SERVICES] if CFG.gep else []
    # gep.config.gep.RASTER_SETTINGS, with only the parameter tables the raster services read (never prices)
    keys = [f"gep.{k}" for k in RASTER_SETTINGS if k != "parameters"]
    keys += [f"gep.parameters.{f}" for f in parameter_fields(raster_services, prices=False)]
    return keys + ["landcover", "terrain.dem_path"]
