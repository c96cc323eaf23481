"""Every path of a run folder, in one place: the workflow's rules and the library's stages both call these."""

from __future__ import annotations

from pathlib import Path

from gep.config import Config


def interim_dir(cfg: Config, level: str) -> Path:
    return cfg.out / "interim" / level


def tables_dir(cfg: Config, level: str) -> Path:
    return cfg.out / "tables" / level


def gep_raster_dir(cfg: Config) -> Path:
    """Where the GEP service rasters (``SERVICE_YEAR.tif``) and the LS factor go: one set for every level."""
    return cfg.out / "rasters" / "gep"


def gep_ls_path(cfg: Config) -> Path | None:
    """The LS raster the workflow computes once (rule gep_ls), or None when soil_retention is not selected or
    ``gep.ls.path`` gives one."""
    if cfg.gep is None or "soil_retention" not in cfg.gep.services or cfg.gep.ls.path is not None:
        return None
    return gep_raster_dir(cfg) / "ls_factor.tif"


def gep_sums_path(cfg: Config, level: str, year: int) -> Path:
    """Where the sums of one year's GEP rasters over one level's regions go (:func:`gep_sums`)."""
    return interim_dir(cfg, level) / f"gep_sums_{year}.parquet"
