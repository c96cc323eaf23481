# Shared wiring, no rules: the resolved config every rule reads, paths of the run, and the functions that list
# each stage's inputs and outputs (kept here so that rules/*.smk hold rules only).

# The resolved config every stage reads, written while the workflow is parsed when its content changes. Rules
# take it as ancient: what tells Snakemake which results to redo is each stage's settings file (the part of the
# config its results depend on, gep.workflow.config_files), rewritten only when that part changes.
RUN_CONFIG = f"{OUT}/run/config.json"
sync_resolved_config(CFG, RUN_CONFIG)
SETTINGS = sync_stage_settings(CFG)
CHECKED = f"{OUT}/checks/inputs.json"


def checked(*years):
    """The run's input checks and those of ``years`` (default: every year)."""
    return [CHECKED] + [f"{OUT}/checks/inputs_{y}.json" for y in (years or YEARS)]


# stages that handle every region level in one process (one start-up, one read of each raster per job)
LEVEL_ARGS = " ".join(shlex.quote(level) for level in LEVELS)
# terrain classes on the land-cover grid (indicator 7), a stratum of every land-cover crosstab
TERRAIN = f"{OUT}/rasters/terrain_classes.tif"
# compute.tile_groups > 1: each raster is accounted as several jobs (bands of block rows) merged exactly
TILE_GROUPS = CFG.compute.tile_groups
PROTECTED = CFG.protected.layers() if CFG.protected else {}
GEP_RASTERS = str(gep_raster_dir(CFG))
GEP_RASTER_NAMES = service_raster_names(CFG.gep) if CFG.gep else []
GEP_LS = str(gep_ls_path(CFG)) if gep_ls_path(CFG) else None
GEP_DEM = gep_dem(CFG) if CFG.gep else None


def landcover_path(year):
    return CFG.landcover.path.format(year=year)


def region_paths():
    return [rc.path for rc in CFG.regions.values()]


def coverage_outputs():
    if not CFG.terrain:
        return []
    names = ["terrain_area", "region_terrain_type", "forest_grass_coverage", "coverage_by_terrain",
             "coverage_trend"]
    return expand(f"{OUT}/tables/{{level}}/{{name}}.csv", level=LEVELS, name=names) + [TERRAIN]


def gep_outputs():
    if not CFG.gep:
        return []
    names = ["gep_services", "gep_summary"] + (["carbon_stock"] if "carbon_stock" in CFG.gep.services else [])
    return expand(f"{OUT}/tables/{{level}}/{{name}}.csv", level=LEVELS, name=names)


def landcover_tables():
    names = ["landcover_area", "region_area"] + (["landcover_change", "extent_account"] if PAIRS else [])
    return expand(f"{OUT}/tables/{{level}}/{{name}}.csv", level=LEVELS, name=names)


def protected_outputs():
    if not PROTECTED:
        return []
    names = ["protected_area", "protected_change", "redline_landcover"] + (["redline_transition"] if PAIRS else [])
    out = expand(f"{OUT}/tables/{{level}}/{{name}}.csv", level=LEVELS, name=names)
    return out + ([f"{OUT}/maps/protected_change.gpkg"] if PAIRS else [])


def scorecard_outputs():
    names = ["lianshan_index.csv", "lianshan_index.xlsx", "indicators.gpkg", "report/index.html"]
    return expand(f"{OUT}/scorecard/{{level}}/{{name}}", level=LEVELS, name=names)


def all_tables():
    """Every published table of the run (CSV; Parquet and .meta.json sidecars are written beside them)."""
    return landcover_tables() + coverage_outputs() + protected_outputs() + gep_outputs()
