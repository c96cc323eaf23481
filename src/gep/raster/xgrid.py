"""Checks of an xarray raster before gep computes on it: one band, north-up, with a CRS."""

from __future__ import annotations

import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine
from pyproj import CRS

from gep.core.errors import InputError


def as_2d(da: xr.DataArray, what: str) -> xr.DataArray:
    """``da`` as a (y, x) array; InputError naming ``what`` when it has several bands or other dimensions."""
    if "band" in da.dims:
        if da.sizes["band"] != 1:
            raise InputError(f"{what} has {da.sizes['band']} bands; give a single-band raster")
        da = da.isel(band=0, drop=True)
    if da.ndim != 2:
        raise InputError(f"{what} has dimensions {da.dims}; expected (y, x)")
    return da


def grid_of(da: xr.DataArray, what: str) -> tuple[Affine, CRS]:
    """``(transform, CRS)`` of ``da``; InputError naming ``what`` when it has no CRS or a rotated grid."""
    crs = da.rio.crs
    if crs is None:
        raise InputError(f"{what} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4490) and rerun")
    transform = da.rio.transform(recalc=True)
    if transform.b != 0 or transform.d != 0:
        raise InputError(f"{what} has a rotated geotransform; warp it to a north-up grid first (gdalwarp)")
    return transform, CRS.from_user_input(crs)
