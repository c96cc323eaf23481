"""Opening a run's inputs as the accounting reads them: one level's regions, one year's land cover."""

from __future__ import annotations

from gep.accounting.classes import load_scheme
from gep.accounting.landcover import LandcoverRaster
from gep.config import Config
from gep.vector.regions import read_regions


def load_regions(cfg: Config, level: str):
    rc = cfg.regions[level]
    regions, _ = read_regions(rc.path, rc.id_field, rc.name_field, layer=rc.layer, crs=rc.crs,
                              coord_system=rc.coord_system, key=f"regions.{level}", encoding=rc.encoding)
    return regions


def open_landcover(cfg: Config, year: int) -> LandcoverRaster:
    return LandcoverRaster.open(cfg.landcover_path(year), chunk=cfg.compute.chunk_size,
                                nodata=cfg.landcover.nodata, crs=cfg.landcover.crs,
                                scheme_nodata=load_scheme(cfg.landcover.scheme).nodata)
