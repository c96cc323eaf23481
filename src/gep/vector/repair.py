"""Repairing polygon geometries: 2-D, valid, polygonal, with a count of what was repaired and how much area
that changed (reported, never silent)."""

from __future__ import annotations

import numpy as np
import shapely

_POLY_TYPE_IDS = (3, 6)  # shapely type ids of Polygon and MultiPolygon


def _flatten_polygons(geom) -> list:
    """Polygon parts of any geometry, descending into collections (make_valid may nest them)."""
    if geom is None or geom.is_empty:
        return []
    tid = shapely.get_type_id(geom)
    if tid == 3:
        return [geom]
    if tid in (6, 7):
        out = []
        for part in shapely.get_parts(geom):
            out.extend(_flatten_polygons(part))
        return out
    return []


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (None where nothing polygonal is left)."""
    out = np.array(geoms, dtype=object, copy=True)
    tids = shapely.get_type_id(out)
    # Only collections, lines and points reach the loop: make_valid's output and stray non-areal features.
    for i in np.flatnonzero(~np.isin(tids, _POLY_TYPE_IDS)):
        polys = _flatten_polygons(out[i])
        # union, not multipolygons(): members of a collection may overlap each other
        out[i] = None if not polys else polys[0] if len(polys) == 1 else shapely.union_all(polys)
    empty = shapely.is_missing(out) | shapely.is_empty(out)
    out[empty] = None
    return out


def repair_polygons(geoms) -> tuple[np.ndarray, np.ndarray]:
    """2-D, valid, polygonal geometries; returns (geoms, repaired mask). Unusable geometries become None."""
    geoms = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = np.where(present, shapely.force_2d(geoms), None)
    invalid = present & ~shapely.is_valid(geoms)
    if invalid.any():
        # "structure" treats rings as area boundaries (union of shells minus holes), which is what a GIS
        # polygon means; "linework" would turn a self-overlapping ring into an even-odd patchwork.
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    return polygonal(geoms), invalid


