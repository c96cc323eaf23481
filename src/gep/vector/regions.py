"""Region boundaries (county, township…): reading, checking and bringing them onto a raster's CRS.

A region table always has the columns ``region_code`` (text, leading zeros kept), ``region_name`` and
``geometry``. Every problem found is reported together, one line each, naming the file and field.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gep.core.errors import InputError
from gep.raster.crs_sanity import check_extent
from gep.vector.read import id_text, open_layer
from gep.vector.repair import repair_polygons
from gep.vector.webmap import to_wgs84


def read_regions(path: str | Path, id_field: str, name_field: str | None = None, *, layer: str | None = None,
                 crs: str | None = None, coord_system: str = "standard", key: str = "regions",
                 encoding: str | None = None) -> tuple[gpd.GeoDataFrame, dict]:
    """Read region polygons and check them; returns (regions, report).

    ``report`` counts repaired geometries and the area (in the file's CRS units², planar) their repair changed.
    Raises :class:`InputError` listing every problem: missing id
    field (with the fields available), empty or duplicate ids, empty layer, no CRS, non-polygon features.
    """
    path = Path(path)
    gdf, _ = open_layer(path, layer=layer, where=str(path), encoding=encoding)
    problems: list[str] = []
    where = f"{path}"
    if len(gdf) == 0:
        raise InputError(f"{where}: layer is empty; give a file with region polygons ({key})")
    if gdf.crs is None:
        if crs is None:
            problems.append(f"{where}: no CRS; set '{key}.crs' in the config (e.g. EPSG:4490) or fix the file")
        else:
            gdf = gdf.set_crs(crs)
    if gdf.crs is not None:
        check_extent(tuple(gdf.total_bounds), gdf.crs, where)
    fields = [c for c in gdf.columns if c != gdf.geometry.name]
    for field, what in ((id_field, "id_field"), (name_field, "name_field")):
        if field is not None and field not in gdf.columns:
            problems.append(f"{where}: {what} '{field}' not found; available fields: {', '.join(fields)} "
                            f"(set '{key}.{what}')")
    if problems:
        raise InputError.many(problems)
    raw = gdf[id_field]
    codes = pd.Series(id_text(raw), index=raw.index)
    empty = codes.isna() | (codes == "")
    if empty.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(empty.to_numpy())[:10])
        problems.append(f"{where}: field '{id_field}' is empty in feature(s) {rows}; every region needs a code")
    dup = codes[~empty & codes.duplicated(keep=False)]
    if len(dup):
        problems.append(f"{where}: field '{id_field}' has duplicate codes {', '.join(sorted(set(dup))[:10])}; "
                        f"codes must be unique (dissolve the parts of one region first)")
    geom = gdf.geometry.values
    missing = shapely.is_missing(np.asarray(geom)) | shapely.is_empty(np.asarray(geom))
    if missing.any():
        problems.append(f"{where}: {int(missing.sum())} feature(s) have no geometry; remove or fix them")
    kinds = set(gdf.geometry.geom_type.dropna())
    if kinds - {"Polygon", "MultiPolygon"}:
        problems.append(f"{where}: geometries must be polygons, found {', '.join(sorted(kinds))}")
    if problems:
        raise InputError.many(problems)
    names = gdf[name_field].astype(str) if name_field else codes
    out = gpd.GeoDataFrame({"region_code": codes.astype(str).to_numpy(), "region_name": names.to_numpy()},
                           geometry=np.asarray(geom), crs=gdf.crs)
    if coord_system != "standard":
        out = _remove_webmap_offset(out, coord_system, where)
    before = np.asarray(out.geometry.values)
    fixed, repaired = repair_polygons(before)
    report = {"features": len(out), "repaired": int(repaired.sum()),
              "repaired_area_change": float(np.abs(shapely.area(fixed[repaired]) - shapely.area(before[repaired])
                                                   ).sum()) if repaired.any() else 0.0}
    if repaired.any():
        if shapely.is_missing(fixed).any():
            bad = ", ".join(codes[shapely.is_missing(fixed)].astype(str).tolist()[:10])
            raise InputError(f"{where}: region(s) {bad} have no polygon area left after repairing their "
                             "geometry; fix them in a GIS")
        out["geometry"] = fixed
    out = out.sort_values("region_code", kind="stable").reset_index(drop=True)
    return out, report


def _remove_webmap_offset(gdf: gpd.GeoDataFrame, system: str, where: str) -> gpd.GeoDataFrame:
    crs = CRS.from_user_input(gdf.crs)
    if not crs.is_geographic:
        raise InputError(f"{where}: coord_system '{system}' needs lon/lat coordinates, but the CRS is "
                         f"{crs.name}; give the file in lon/lat")
    fixed = shapely.transform(np.asarray(gdf.geometry.values), lambda xy: to_wgs84(xy, system))
    return gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=fixed, crs="EPSG:4326")


def overlaps(regions: gpd.GeoDataFrame, tolerance: float = 1e-6) -> list[tuple[str, str, float]]:
    """Pairs of regions that overlap by more than ``tolerance`` of the smaller one's area (planar, in CRS units).

    Regions that form a clean polygonal coverage (GEOS's coverage validator finds no edge of one polygon
    inside another and every shared edge matched) cannot overlap, so only the pairs in which a polygon has
    such an invalid edge are intersected, which is much quicker for a clean layer than intersecting every pair
    of neighbours (figures in benchmarks/README.md).
    """
    geoms = np.asarray(regions.geometry.values)
    suspect = ~shapely.is_empty(shapely.coverage_invalid_edges(geoms))
    if not suspect.any():
        return []
    tree = shapely.STRtree(geoms)
    sus_idx = np.flatnonzero(suspect)
    q, other = tree.query(geoms[sus_idx], predicate="intersects")
    left, right = np.minimum(sus_idx[q], other), np.maximum(sus_idx[q], other)
    pairs = np.unique(np.stack([left, right], axis=1)[left < right], axis=0)
    if len(pairs) == 0:
        return []
    left, right = pairs[:, 0], pairs[:, 1]
    inter = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    bad = inter > tolerance * smaller
    codes = regions["region_code"].to_numpy()
    return [(codes[a], codes[b], float(x / s)) for a, b, x, s in zip(left[bad], right[bad], inter[bad], smaller[bad])]


def to_crs(regions: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """Regions in ``crs``; edges are densified first so that long straight edges stay straight in the source CRS."""
    src = CRS.from_user_input(regions.crs)
    dst = CRS.from_user_input(crs)
    if src == dst:
        return regions
    step = 0.001 if src.is_geographic else 100.0
    dense = regions.copy()
    dense["geometry"] = shapely.segmentize(np.asarray(regions.geometry.values), step)
    return dense.to_crs(dst)


def region_frame(regions: gpd.GeoDataFrame) -> pd.DataFrame:
    """The non-spatial columns of a region table."""
    return pd.DataFrame({"region_code": regions["region_code"], "region_name": regions["region_name"]})
