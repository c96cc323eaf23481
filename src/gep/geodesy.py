"""Ellipsoidal areas (METHODS.md §5): the area of polygons on the CRS's own ellipsoid.

Polygon edges are straight lines in the CRS they are stored in (that is how a raster of the same CRS sees
them); they are densified in that CRS before the geodesic area is taken, so a long edge along a parallel
is measured as a parallel, not as a geodesic chord.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer

from .errors import InputError

#: Densification step for geographic CRS (degrees) and projected CRS (metres) before geodesic areas.
DENSIFY_DEG = 0.0005
DENSIFY_M = 50.0


def geod_for(crs: CRS) -> Geod:
    """The Geod on ``crs``'s ellipsoid (CGCS2000 → its own ellipsoid, WGS84 → WGS84)."""
    geod = crs.get_geod()
    if geod is None:
        raise InputError(f"CRS '{crs.name}' has no ellipsoid; give the data a geographic or projected CRS")
    return geod


def polygon_area_m2(geoms, crs: CRS | str | int) -> np.ndarray:
    """Ellipsoidal area (m²) of each polygon/multipolygon in ``geoms`` (array-like of shapely geometries).

    Holes are subtracted; non-polygonal parts (lines, points) count zero. ``crs`` is the geometries' CRS.
    """
    crs = CRS.from_user_input(crs)
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=np.float64)
    if len(geoms) == 0:
        return out
    geod = geod_for(crs)
    step = DENSIFY_DEG if crs.is_geographic else DENSIFY_M
    dense = shapely.segmentize(geoms, step)
    if not crs.is_geographic:
        to_geo = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
        dense = shapely.transform(dense, lambda xy: np.column_stack(to_geo.transform(xy[:, 0], xy[:, 1])))
    for i, g in enumerate(dense):
        if g is None or g.is_empty:
            continue
        polys = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
        if g.geom_type == "GeometryCollection":
            polys = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        total = 0.0
        for p in polys:
            area, _ = geod.geometry_area_perimeter(p)
            total += abs(area) if p.geom_type == "Polygon" and not p.interiors else _polygon_area(geod, p)
        out[i] = total
    return out


def _polygon_area(geod: Geod, poly) -> float:
    """Area of a polygon with holes: |exterior| − Σ|holes| (independent of ring orientation)."""
    if poly.geom_type == "MultiPolygon":
        return sum(_polygon_area(geod, p) for p in poly.geoms)
    ext = abs(geod.polygon_area_perimeter(*poly.exterior.xy)[0])
    holes = sum(abs(geod.polygon_area_perimeter(*r.xy)[0]) for r in poly.interiors)
    return ext - holes


def lonlat_box_area_m2(lon0: float, lat0: float, lon1: float, lat1: float, crs: CRS | str | int = 4326) -> float:
    """Exact area (m²) of the box between two meridians and two parallels on ``crs``'s ellipsoid."""
    from .cellarea import band_area_m2

    crs = CRS.from_user_input(crs)
    return float(band_area_m2(np.array([lat0]), np.array([lat1]), crs.ellipsoid)[0] * abs(lon1 - lon0) / 360.0)
