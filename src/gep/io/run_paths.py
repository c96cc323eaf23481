"""Every path of a run folder (``output_dir``), in one place: the workflow's rules (rules/common.smk) and the
library's stages both call these, so a file is named once.

Layout::

    checks/inputs.json                        input checks of the run (class scheme, regions, DEM)
    checks/inputs_YEAR.json                   input checks of one year (its land cover)
    interim/LEVEL/crosstab_YEAR.parquet       integer cm² per region × terrain × class
    interim/LEVEL/parts/crosstab_YEAR_PART.parquet   one tile group's partial crosstab (compute.tile_groups > 1)
    interim/LEVEL/survey_YEAR_KIND.parquet    the land survey's region × terrain × class table and its reports
    interim/LEVEL/relief_areas.parquet        integer cm² per region × relief class on the DEM's own grid
    interim/LEVEL/transition_Y0_Y1.parquet    integer cm² per region × class(Y0) × class(Y1)
    interim/LEVEL/redline_YEAR.parquet        land cover inside the red line
    interim/LEVEL/redline_transition_Y0_Y1.parquet
    interim/LEVEL/gep_sums_YEAR.parquet       sums of the year's GEP rasters per region
    tables/LEVEL/NAME.csv|parquet|meta.json   the published tables
    rasters/terrain_classes.tif               terrain classes on the land-cover grid
    rasters/gep/SERVICE_YEAR.tif              GEP service rasters (one set for every level), ls_factor.tif
    maps/protected_change.gpkg                added/removed red-line and protected-area parts
    scorecard/LEVEL/…                         the 两山指数 deliverables
    provenance.json                           config, input checksums, versions, commit
    logs/JOB.log, benchmarks/JOB.tsv          one per workflow job
    published/YEAR/                           frozen copies (gep publish)

A ``year``, ``level`` or ``part`` may be given as a Snakemake wildcard (``"{year}"``): the rules build their
patterns from the same functions.
"""

from __future__ import annotations

from pathlib import Path

from gep.config import Config

Key = int | str

#: the deliverables of the scorecard stage, per level
SCORECARD_FILES = ("lianshan_index.csv", "lianshan_index.xlsx", "tables.xlsx", "indicators.gpkg", "report/index.html")


def interim_dir(cfg: Config, level: Key) -> Path:
    return cfg.out / "interim" / str(level)


def tables_dir(cfg: Config, level: Key) -> Path:
    return cfg.out / "tables" / str(level)


def table_path(cfg: Config, level: Key, name: str) -> Path:
    """A published table (CSV; its Parquet copy and ``.meta.json`` are written beside it)."""
    return tables_dir(cfg, level) / f"{name}.csv"


def checks_path(cfg: Config, year: Key | None = None) -> Path:
    """The input-check report of the run (``year`` None) or of one year."""
    return cfg.out / "checks" / ("inputs.json" if year is None else f"inputs_{year}.json")


def crosstab_path(cfg: Config, level: Key, year: Key) -> Path:
    return interim_dir(cfg, level) / f"crosstab_{year}.parquet"


def crosstab_part_path(cfg: Config, level: Key, year: Key, part: Key) -> Path:
    return interim_dir(cfg, level) / "parts" / f"crosstab_{year}_{part}.parquet"


#: what the survey stage writes per level and year (landcover.survey, indicator 7): the region × terrain × class
#: table and the survey's reports (gep.accounting.survey.SurveyResult)
SURVEY_KINDS = ("table", "issues", "regions", "totals", "summary")


def survey_path(cfg: Config, level: Key, year: Key, kind: str) -> Path:
    """One of the land-survey accounting's interim tables of one level × year (``kind`` in SURVEY_KINDS)."""
    return interim_dir(cfg, level) / f"survey_{year}_{kind}.parquet"


def relief_areas_path(cfg: Config, level: Key) -> Path:
    """Region × relief class areas on the DEM's own grid (integer cm²), from which the region terrain type is
    decided (indicator 7, docs/methods.md §2.3)."""
    return interim_dir(cfg, level) / "relief_areas.parquet"


def transition_path(cfg: Config, level: Key, year_from: Key, year_to: Key) -> Path:
    return interim_dir(cfg, level) / f"transition_{year_from}_{year_to}.parquet"


def redline_path(cfg: Config, level: Key, year: Key) -> Path:
    return interim_dir(cfg, level) / f"redline_{year}.parquet"


def redline_transition_path(cfg: Config, level: Key, year_from: Key, year_to: Key) -> Path:
    return interim_dir(cfg, level) / f"redline_transition_{year_from}_{year_to}.parquet"


def terrain_path(cfg: Config) -> Path:
    """Terrain classes on the land-cover grid (indicator 7), a stratum of every land-cover crosstab."""
    return cfg.out / "rasters" / "terrain_classes.tif"


def gep_raster_dir(cfg: Config) -> Path:
    """Where the GEP service rasters (``SERVICE_YEAR.tif``) and the LS factor go: one set for every level."""
    return cfg.out / "rasters" / "gep"


def gep_raster_path(cfg: Config, name: str, year: Key) -> Path:
    return gep_raster_dir(cfg) / f"{name}_{year}.tif"


def gep_ls_path(cfg: Config) -> Path | None:
    """The LS raster the workflow computes once (rule gep_ls), or None when soil_retention is not selected or
    ``gep.ls.path`` gives one."""
    if cfg.gep is None or "soil_retention" not in cfg.gep.services or cfg.gep.ls.path is not None:
        return None
    return gep_raster_dir(cfg) / "ls_factor.tif"


def gep_sums_path(cfg: Config, level: Key, year: Key) -> Path:
    """Where the sums of one year's GEP rasters over one level's regions go."""
    return interim_dir(cfg, level) / f"gep_sums_{year}.parquet"


def protected_change_path(cfg: Config) -> Path:
    return cfg.out / "maps" / "protected_change.gpkg"


def scorecard_dir(cfg: Config, level: Key) -> Path:
    return cfg.out / "scorecard" / str(level)


def scorecard_paths(cfg: Config, level: Key) -> list[Path]:
    return [scorecard_dir(cfg, level) / name for name in SCORECARD_FILES]


def report_path(cfg: Config, level: Key) -> Path:
    return scorecard_dir(cfg, level) / "report" / "index.html"


def provenance_path(cfg: Config) -> Path:
    return cfg.out / "provenance.json"


def log_path(cfg: Config, job: str) -> Path:
    """The log of one workflow job (``job``: the rule name and its wildcards, e.g. ``account_2020``)."""
    return cfg.out / "logs" / f"{job}.log"


def benchmark_path(cfg: Config, job: str) -> Path:
    return cfg.out / "benchmarks" / f"{job}.tsv"


def published_dir(cfg: Config, year: Key) -> Path:
    return cfg.out / "published" / str(year)
