"""Small helpers for tests: write tiny GeoTIFFs and GeoPackages into a tmp_path."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine


def write_tif(path: str | Path, array: np.ndarray, transform: Affine, crs=None, *, nodata=None,
              tiled: bool = False, blocksize: int = 16) -> Path:
    """Write a 2-D array as a one-band GeoTIFF (``crs=None`` writes a file without CRS)."""
    path = Path(path)
    array = np.asarray(array)
    profile = dict(driver="GTiff", height=array.shape[0], width=array.shape[1], count=1, dtype=array.dtype.name,
                   transform=transform)
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    if tiled:
        profile.update(tiled=True, blockxsize=blocksize, blockysize=blocksize)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path


def write_gpkg(path: str | Path, columns: dict, geoms, crs) -> Path:
    """Write polygons with attribute ``columns`` (name -> list) as a GeoPackage (``crs=None``: no CRS)."""
    path = Path(path)
    gdf = gpd.GeoDataFrame(dict(columns), geometry=list(geoms), crs=crs)
    gdf.to_file(path, driver="GPKG", engine="pyogrio")
    return path
