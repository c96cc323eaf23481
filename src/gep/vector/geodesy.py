"""Ellipsoidal areas (docs/methods.md §1): the area of polygons on the CRS's own ellipsoid.

Polygon edges are straight lines in the CRS they are stored in (that is how a raster of the same CRS sees
them); they are densified in that CRS before the area is taken, so a long edge along a parallel is measured
as a parallel, not as a geodesic chord. Areas are planar areas in the ellipsoid's cylindrical equal-area
projection, which equal ellipsoidal areas exactly (agreement with pyproj.Geod on densified rings ~1e-9).
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer

from gep.core.errors import InputError

#: Densification step for geographic CRS (degrees) and projected CRS (metres) before geodesic areas.
DENSIFY_DEG = 0.0005
DENSIFY_M = 50.0


def geod_for(crs: CRS) -> Geod:
    """The Geod on ``crs``'s ellipsoid (CGCS2000 → its own ellipsoid, WGS84 → WGS84)."""
    geod = crs.get_geod()
    if geod is None:
        raise InputError(f"CRS '{crs.name}' has no ellipsoid; give the data a geographic or projected CRS")
    return geod


def _authalic_xy(lon: np.ndarray, lat: np.ndarray, ellipsoid) -> tuple[np.ndarray, np.ndarray]:
    """Cylindrical equal-area coordinates (m) on ``ellipsoid``: planar area there is ellipsoidal area."""
    from gep.raster.cellarea import _q

    a = ellipsoid.semi_major_metre
    b = ellipsoid.semi_minor_metre
    e = np.sqrt(max(0.0, 1 - (b * b) / (a * a)))
    return a * np.radians(lon), a * _q(np.radians(lat), e) / 2


#: Polygon parts per batch are chosen to hold at most this many vertices (before densification): the transient
#: arrays grow with the densified vertices, so memory stays bounded whatever the size of the region layer
#: (figures in benchmarks/README.md).
BATCH_VERTICES = 250_000


def polygon_area_m2(geoms, crs: CRS | str | int) -> np.ndarray:
    """Ellipsoidal area (m²) of each polygon/multipolygon in ``geoms`` (array-like of shapely geometries).

    Holes are subtracted; non-polygonal parts count zero. ``crs`` is the geometries' CRS. Each ring is
    densified as a line in its own CRS (densifying polygons would let GEOS "repair" rounding artefacts), taken
    to lon/lat on the CRS's ellipsoid, then to the cylindrical equal-area projection of that ellipsoid, where
    the planar area of a ring equals its ellipsoidal area. Vectorised over batches of polygon parts of about
    :data:`BATCH_VERTICES` vertices (no Python loop over polygons); the result does not depend on the batches.
    """
    crs = CRS.from_user_input(crs)
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=np.float64)
    if len(geoms) == 0:
        return out
    geod_for(crs)  # clear error for a CRS without ellipsoid
    parts, owner = shapely.get_parts(geoms, return_index=True)
    poly = np.isin(shapely.get_type_id(parts), (3,))  # Polygon parts only (collections were flattened)
    parts, owner = parts[poly], owner[poly]
    if len(parts) == 0:
        return out
    to_lonlat = None if crs.is_geographic else Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    batch = np.cumsum(shapely.get_num_coordinates(parts)) // BATCH_VERTICES
    for b in np.unique(batch):
        sel = batch == b
        # in part order, each ring's vertices in order: the same sums as one pass over all parts
        _add_part_areas(out, parts[sel], owner[sel], crs, to_lonlat)
    return out


def _add_part_areas(out: np.ndarray, parts: np.ndarray, owner: np.ndarray, crs: CRS, to_lonlat) -> None:
    """Add the signed ring areas (exterior +, holes −) of polygon ``parts`` to ``out[owner]``."""
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    first = np.r_[True, ring_part[1:] != ring_part[:-1]]  # the exterior is each part's first ring
    # rings are lines to GEOS: densifying them never triggers a polygon "repair"
    lines = shapely.segmentize(rings, DENSIFY_DEG if crs.is_geographic else DENSIFY_M)
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    del lines
    x, y = coords[:, 0], coords[:, 1]
    if to_lonlat is not None:
        x, y = to_lonlat.transform(x, y)
    ex, ey = _authalic_xy(np.asarray(x), np.asarray(y), crs.ellipsoid)
    del coords, x, y
    # shoelace per ring, in equal-area metres, relative to the ring's first vertex: products of coordinates of
    # ~1e7 m would otherwise round to ~0.01 m² (1/128 m²) per polygon
    start = np.r_[0, np.flatnonzero(idx[1:] != idx[:-1]) + 1]
    ref = np.repeat(start, np.diff(np.r_[start, len(idx)]))
    ex, ey = ex - ex[ref], ey - ey[ref]
    same = idx[1:] == idx[:-1]
    cross = (ex[:-1] * ey[1:] - ex[1:] * ey[:-1])[same]
    ring_area = np.abs(np.bincount(idx[:-1][same], weights=cross, minlength=len(rings))) / 2
    signed = np.where(first, ring_area, -ring_area)
    np.add.at(out, owner[ring_part], signed)


def lonlat_box_area_m2(lon0: float, lat0: float, lon1: float, lat1: float, crs: CRS | str | int = 4326) -> float:
    """Exact area (m²) of the box between two meridians and two parallels on ``crs``'s ellipsoid."""
    from gep.raster.cellarea import band_area_m2

    crs = CRS.from_user_input(crs)
    return float(band_area_m2(np.array([lat0]), np.array([lat1]), crs.ellipsoid)[0] * abs(lon1 - lon0) / 360.0)
