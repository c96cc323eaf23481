"""Does a layer's coordinates fit its declared CRS? Checked when a raster or vector layer is opened, before any
heavy work: metres labelled as degrees (a Gauss-Krüger file declared EPSG:4490) would otherwise make gep
densify rings that span hundreds of thousands of "degrees" until memory runs out.
"""

from __future__ import annotations

import math

from pyproj import CRS, Transformer

from gep.core.errors import InputError

# how far (degrees) a projected layer may reach beyond its CRS's area of use: counties straddle the edge of a
# 3-degree Gauss-Krüger zone, and some bureaus keep a whole province in one zone
MARGIN_DEG = 6.0


def _fmt(v: float) -> str:
    return f"{v:,.6g}"


def check_extent(bounds: tuple[float, float, float, float], crs, where: str) -> None:
    """Raise one InputError line when ``bounds`` (minx, miny, maxx, maxy in ``crs`` units) cannot be
    coordinates of ``crs``: outside ±180°/±90° for a geographic CRS (metres, or latitude and longitude
    swapped), or far outside a projected CRS's area of use (a wrong zone or false easting)."""
    if not all(math.isfinite(b) for b in bounds):
        return  # an empty layer: nothing to check
    crs = CRS.from_user_input(crs)
    minx, miny, maxx, maxy = bounds
    looks = f"x from {_fmt(minx)} to {_fmt(maxx)}, y from {_fmt(miny)} to {_fmt(maxy)}"
    if crs.is_geographic:
        if max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90:
            return
        if max(abs(minx), abs(maxx)) <= 90 and max(abs(miny), abs(maxy)) <= 180:
            raise InputError(f"{where}: coordinates ({looks}) look like latitude and longitude swapped for "
                             f"{crs.name}, which lists longitude first here; swap the axes of the file")
        raise InputError(f"{where}: coordinates ({looks}) look like metres, but the declared CRS {crs.name} is "
                         "in degrees; declare the file's real CRS (e.g. a CGCS2000 Gauss-Krüger zone, EPSG:4513-4554)")
    area = crs.area_of_use
    if area is None:
        return
    to_lonlat = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    try:
        lon0, lat0, lon1, lat1 = to_lonlat.transform_bounds(minx, miny, maxx, maxy, densify_pts=5)
    except Exception:  # noqa: BLE001 - PROJ refuses points outside the projection's domain
        lon0 = lat0 = lon1 = lat1 = math.inf
    inside = (all(math.isfinite(v) for v in (lon0, lat0, lon1, lat1))
              and lon0 <= area.east + MARGIN_DEG and lon1 >= area.west - MARGIN_DEG
              and lat0 <= area.north + MARGIN_DEG and lat1 >= area.south - MARGIN_DEG)
    if not inside:
        raise InputError(f"{where}: coordinates ({looks}) lie outside the area where {crs.name} is used "
                         f"(longitude {area.west:g} to {area.east:g}, latitude {area.south:g} to {area.north:g}); "
                         "the CRS is probably wrong (another Gauss-Krüger zone, or a zone number missing from or "
                         "added to the x coordinates): declare the file's real CRS")
