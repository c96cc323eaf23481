"""Builders for ``test_bad_inputs.py``: one small, valid input set and its config, and ways to break it.

The valid set (everything in EPSG:4490, CGCS2000 lon/lat):

- land cover ``lc_2019.tif`` / ``lc_2020.tif``: 20 × 30 cells of 0.01°, uint8 CLCD codes 1..9, nodata 0
  (declared in the file) in a few cells; extent lon 110.00–110.30, lat 29.80–30.00;
- regions ``townships.gpkg`` (layer ``townships``): two touching boxes with 12-digit text codes and names;
- DEM ``dem.tif``: float32 elevation over a slightly larger extent (0.01° cells);
- red line ``redline_2019.gpkg`` / ``redline_2020.gpkg`` (layer ``redline``, field ``id``).

:func:`build_valid_set` writes them into a folder; :func:`valid_config` gives the matching config dict
(absolute paths, output under ``results/`` of the same folder).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import shapely
import yaml
from affine import Affine
from helpers_raster import write_gpkg, write_tif

CRS = "EPSG:4490"
YEARS = (2019, 2020)
SHAPE = (20, 30)
RES = 0.01
WEST, NORTH = 110.0, 30.0
T = Affine(RES, 0, WEST, 0, -RES, NORTH)
BOUNDS = (WEST, NORTH - SHAPE[0] * RES, WEST + SHAPE[1] * RES, NORTH)  # 110.0, 29.8, 110.3, 30.0
CODES = ["430102000001", "430102000002"]
NAMES = ["甲镇", "乙镇"]
LEVEL = "township"


def region_boxes() -> list:
    """Two touching boxes well inside the raster (a margin of two cells on every side)."""
    return [shapely.box(110.02, 29.82, 110.14, 29.98), shapely.box(110.14, 29.82, 110.28, 29.98)]


def landcover_array(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    arr = rng.integers(1, 10, SHAPE).astype(np.uint8)
    arr[0, :5] = 0   # a few nodata cells
    return arr


def write_landcover(folder: Path, year: int, array: np.ndarray | None = None, *, transform: Affine = T,
                    crs=CRS, nodata=0) -> Path:
    arr = landcover_array(year) if array is None else array
    return write_tif(folder / f"lc_{year}.tif", arr, transform, crs, nodata=nodata)


def write_regions(folder: Path, geoms=None, codes=None, names=None, *, crs=CRS, name: str = "townships.gpkg",
                  id_column: str = "code") -> Path:
    geoms = region_boxes() if geoms is None else geoms
    codes = CODES if codes is None else codes
    names = NAMES[: len(codes)] if names is None else names
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)  # files without CRS on purpose
        return write_gpkg(folder / name, {id_column: list(codes), "name": list(names)}, geoms, crs)


def write_dem(folder: Path, *, bounds=(109.95, 29.75, 110.35, 30.05), crs=CRS, name: str = "dem.tif") -> Path:
    w, s, e, n = bounds
    cols, rows = round((e - w) / RES), round((n - s) / RES)
    yy, xx = np.mgrid[0:rows, 0:cols]
    dem = (200.0 + 15.0 * xx + 9.0 * yy + 40.0 * np.sin(xx / 3.0)).astype(np.float32)
    return write_tif(folder / name, dem, Affine(RES, 0, w, 0, -RES, n), crs, nodata=-9999.0)


def write_redline(folder: Path, year: int, *, geoms=None, ids=None, crs=CRS, id_column: str = "id") -> Path:
    geoms = [shapely.box(110.05, 29.85, 110.20, 29.95)] if geoms is None else geoms
    ids = [f"HX{year}01"] if ids is None else ids
    path = folder / f"redline_{year}.gpkg"
    import geopandas as gpd

    gdf = gpd.GeoDataFrame({id_column: list(ids)}, geometry=list(geoms), crs=crs)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        gdf.to_file(path, driver="GPKG", layer="redline", engine="pyogrio")
    return path


def build_valid_set(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for year in YEARS:
        write_landcover(folder, year)
        write_redline(folder, year)
    write_regions(folder)
    write_dem(folder)
    return folder


def valid_config(folder: Path) -> dict:
    """The config of the valid set in ``folder`` (absolute paths), as plain YAML-able data."""
    f = str(folder)
    return {
        "name": "bad-input tests",
        "output_dir": f"{f}/results",
        "years": list(YEARS),
        "landcover": {"path": f"{f}/lc_{{year}}.tif", "scheme": "clcd", "unknown_codes": "error"},
        "regions": {LEVEL: {"path": f"{f}/townships.gpkg", "layer": "townships", "id_field": "code",
                            "name_field": "name"}},
        "terrain": {"dem_path": f"{f}/dem.tif", "window_m": 4583},
        "coverage": {"standard": "national", "denominator": "region"},
        "protected": {"redline": {"path": f"{f}/redline_{{year}}.gpkg", "layer": "redline", "id_field": "id"}},
        "compute": {"chunk_size": 64, "scheduler": "threads"},
        "checks": {"area_tolerance_pct": 0.1, "min_coverage_pct": 99.0},
    }


def write_config(folder: Path, cfg: dict, name: str = "config.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def snapshot(folder: Path) -> set[str]:
    """Every file and folder below ``folder`` (relative paths), to prove that nothing was written."""
    out = set()
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            out.add(os.path.relpath(os.path.join(root, name), folder))
    return out
