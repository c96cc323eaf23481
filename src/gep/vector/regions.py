"""Region boundaries (county, township…): reading, checking and bringing them onto a raster's CRS.

A region table always has the columns ``region_code`` (text, leading zeros kept), ``region_name`` and
``geometry``. Every problem found is reported together, one line each, naming the file and field.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from gep.core.errors import InputError
from gep.vector.webmap import to_wgs84


def _read_vector(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if not path.exists():
        raise InputError(f"{path}: file does not exist; check the path in the config")
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as err:  # noqa: BLE001 - GDAL raises various types for unreadable files
        raise InputError(f"{path}: cannot be read as a vector file ({str(err).splitlines()[0]}); "
                         f"check the file") from None
    if layer is not None and layer not in layers:
        raise InputError(f"{path}: layer '{layer}' not found; available layers: {', '.join(layers)}")
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as err:  # noqa: BLE001
        raise InputError(f"{path}: cannot be read ({str(err).splitlines()[0]}); check the file") from None


def read_regions(path: str | Path, id_field: str, name_field: str | None = None, *, layer: str | None = None,
                 crs: str | None = None, coord_system: str = "standard", key: str = "regions") -> tuple[
                     gpd.GeoDataFrame, dict]:
    """Read region polygons and check them; returns (regions, report).

    ``report`` counts repaired geometries. Raises :class:`InputError` listing every problem: missing id
    field (with the fields available), empty or duplicate ids, empty layer, no CRS, non-polygon features.
    """
    path = Path(path)
    gdf = _read_vector(path, layer)
    problems: list[str] = []
    where = f"{path}"
    if len(gdf) == 0:
        raise InputError(f"{where}: layer is empty; give a file with region polygons ({key})")
    if gdf.crs is None:
        if crs is None:
            problems.append(f"{where}: no CRS; set '{key}.crs' in the config (e.g. EPSG:4490) or fix the file")
        else:
            gdf = gdf.set_crs(crs)
    fields = [c for c in gdf.columns if c != gdf.geometry.name]
    for field, what in ((id_field, "id_field"), (name_field, "name_field")):
        if field is not None and field not in gdf.columns:
            problems.append(f"{where}: {what} '{field}' not found; available fields: {', '.join(fields)} "
                            f"(set '{key}.{what}')")
    if problems:
        raise InputError.many(problems)
    raw = gdf[id_field]
    codes = raw.map(_code_text)
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
    invalid = ~shapely.is_valid(np.asarray(out.geometry.values))
    report = {"features": len(out), "repaired": int(invalid.sum())}
    if invalid.any():
        fixed = shapely.make_valid(np.asarray(out.geometry.values)[invalid])
        out.loc[invalid, "geometry"] = _polygonal(fixed)
    out = out.sort_values("region_code", kind="stable").reset_index(drop=True)
    return out, report


def _code_text(value) -> str | None:
    """Region code as text; integral floats (from formats without text fields) lose their '.0'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of repaired geometries (make_valid can return collections)."""
    out = []
    for g in geoms:
        parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        out.append(shapely.union_all(parts) if parts else shapely.Polygon())
    return np.asarray(out, dtype=object)


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
