"""Indicator 9 (生态保护红线面积、自然保护地面积), vector part (docs/methods.md §3.1 and §1.2).

What is computed:

- :func:`read_layer`: a red-line or protected-area layer from any vector file GDAL reads, with ids, an
  optional type, and invalid geometries repaired (reported).
- :func:`protected_area`: per region and year, the ellipsoidal area (km²) of the layer inside the region,
  overlapping polygons counted once, plus an ``__outside__`` row for area outside every region; optionally
  per protected-area type (国家公园 / 自然保护区 / 自然公园).
- :func:`protected_change`: year-on-year and against-baseline change and the "不减少" verdict.
- :func:`change_layers` / :func:`change_status`: where the layer grew or shrank between two years, and which
  polygon ids were added, removed, reshaped or left unchanged; :func:`write_change_gpkg` writes them.
- :class:`ProtectedConfig` and :func:`resolve_paths`: the workflow's config section and per-year files.

Areas are ellipsoidal (``gep.vector.geodesy.polygon_area_m2``) on the ellipsoid of the CRS the overlay is done in
(the regions' CRS for :func:`protected_area`, the earlier year's CRS for :func:`change_layers`).

Everything is vectorised with shapely 2: candidate pairs come from ``STRtree.query`` and overlays run on
arrays of pairs. The only Python loops run over groups of overlapping polygons (a union per group) and over
"rounds" of differences (at most as many as the largest number of partners of one polygon), never over
polygon pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gep.config.protected import ProtectedConfig, ProtectedLayerConfig  # noqa: F401
from gep.core.atomic import atomic_path
from gep.core.errors import ConservationError, InputError
from gep.core.units import M2_PER_KM2
from gep.io.qgis_styles import change_styles, write_layer_styles
from gep.indicators.judgement import BASELINE, BEFORE_BASELINE, DECREASED, NOT_DECREASED, not_decreased
from gep.raster.crs_sanity import check_extent
from gep.vector.read import id_text, open_layer
from gep.vector.repair import polygonal as _polygonal, repair_polygons as _repair
from gep.vector.geodesy import polygon_area_m2

#: region_code of the row holding area outside every region.
OUTSIDE = "__outside__"
OUTSIDE_NAME = "区域外"
#: ``type`` value of the rows that count the whole layer.
ALL = "all"
#: Types of 自然保护地 in the 2019 classification (指导意见): listed first, in this order, when present.
PROTECTED_TYPES = ("国家公园", "自然保护区", "自然公园")
# Verdicts of :func:`protected_change` (不减少 / 减少 / 基准年 / 基准年前) and the comparison that decides them
# live in gep.indicators.judgement: the change in km² is rounded to judgement.DECIMALS (6: 1 m²) before it
# is compared with −tolerance, so float noise (1.1 − 0.1 = 1.0000000000000002) cannot flip a verdict.
_INTERIORS_MEET = "T********"  # DE-9IM: the interiors share area (touching along an edge does not)

AREA_COLUMNS = ["region_code", "region_name", "year", "layer", "type", "area_km2", "share_of_region_pct"]
AREA_UNITS = {"area_km2": "km2 (ellipsoidal)", "share_of_region_pct": "% of the region's ellipsoidal area"}
CHANGE_UNITS = {
    "area_km2": "km2", "area_prev_km2": "km2", "delta_km2": "km2", "delta_pct": "%",
    "area_base_km2": "km2", "delta_base_km2": "km2",
}


# ---------------------------------------------------------------------------------------------- geometry


def _explode(geoms: np.ndarray) -> np.ndarray:
    """Polygon parts of an array of polygonal geometries (empty parts dropped)."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    parts = shapely.get_parts(geoms)
    tids = shapely.get_type_id(parts)
    if not np.all(tids == 3):  # overlays can leave collections with lines; keep areas only
        parts = _polygonal(parts)
        parts = parts[~shapely.is_missing(parts)]
        parts = shapely.get_parts(parts)
    return parts[~shapely.is_empty(parts)]


def _area_m2(geoms, crs) -> np.ndarray:
    """Ellipsoidal area (m²) of each geometry (rings densified as lines, so GEOS never "repairs" them)."""
    return polygon_area_m2(np.asarray(geoms, dtype=object), CRS.from_user_input(crs))


def _groups(labels: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Indices grouped by label: (indices of singleton labels, list of index arrays of the other labels)."""
    counts = np.bincount(labels)
    single = counts[labels] == 1
    multi = np.flatnonzero(~single)
    order = multi[np.argsort(labels[multi], kind="stable")]
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return np.flatnonzero(single), (np.split(order, cuts) if len(order) else [])


def dissolve(geoms, *, merge_touching: bool = False) -> np.ndarray:
    """Polygons covering the union of ``geoms`` whose interiors are pairwise disjoint.

    Polygons whose interiors overlap are unioned (connected components of the overlap graph, found with an
    STRtree), so overlaps count once; polygons that only touch stay separate unless ``merge_touching``.
    Keeping touching polygons apart matters: a red line digitised as a tessellation would otherwise become
    one province-sized polygon, and every overlay with it would be slow. Σ area of the result = area of
    the union, exactly, since shared edges have no area.
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    n = len(geoms)
    if n == 0:
        return np.empty(0, dtype=object)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if not merge_touching and len(a):
        meet = shapely.relate_pattern(geoms[a], geoms[b], _INTERIORS_MEET)
        a, b = a[meet], b[meet]
    if len(a) == 0:
        return _explode(geoms)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    single, groups = _groups(labels)
    # One union per group of overlapping polygons (a loop over groups, not over pairs).
    unions = [shapely.union_all(geoms[g]) for g in groups]
    return _explode(np.concatenate([geoms[single], np.array(unions, dtype=object)]))


def _subtract_each(a: np.ndarray, cutters: np.ndarray, pa: np.ndarray, pc: np.ndarray) -> np.ndarray:
    """``a[i]`` minus the union of ``cutters[k]`` over pairs (pa[k] == i, pc[k]), vectorised in rounds.

    Round r subtracts the r-th partner of every polygon at once, so the loop runs max-partners times.
    """
    out = np.array(a, dtype=object, copy=True)
    if len(pa) == 0:
        return out
    order = np.lexsort((pc, pa))
    pa, pc = pa[order], pc[order]
    first = np.r_[0, np.flatnonzero(np.diff(pa)) + 1]
    rank = np.arange(len(pa)) - np.repeat(first, np.diff(np.r_[first, len(pa)]))
    for r in range(int(rank.max()) + 1):
        sel = rank == r
        out[pa[sel]] = shapely.difference(out[pa[sel]], cutters[pc[sel]])
    return out


def _interior_pairs(tree_geoms: np.ndarray, query_geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(query index, tree index) pairs whose interiors share area."""
    if len(tree_geoms) == 0 or len(query_geoms) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    tree = shapely.STRtree(tree_geoms)
    q, t = tree.query(query_geoms, predicate="intersects")
    meet = shapely.relate_pattern(query_geoms[q], tree_geoms[t], _INTERIORS_MEET)
    return q[meet], t[meet]


# ---------------------------------------------------------------------------------------------- reading


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    id_field: str | None = None,
    type_field: str | None = None,
    name: str = "layer",
    extra_fields: Sequence[str] = (),
    encoding: str | None = None,
) -> tuple[gpd.GeoDataFrame, dict]:
    """Read a polygon layer (any format GDAL reads, through :func:`gep.vector.read.open_layer`) for indicator 9.

    Returns ``(gdf, report)``. ``gdf`` has columns ``id`` (str: the ``id_field`` value, or the 1-based
    feature number when no id field is given), ``type`` (str, only with ``type_field``; missing types are
    NaN and count only in the "all" total), the ``extra_fields`` unchanged, and ``geometry``: 2-D, valid,
    polygonal, in the file's CRS. Invalid geometries are repaired with ``shapely.make_valid`` and only
    their polygonal parts kept; features left with no area (null, empty, lines, points) are dropped.
    ``report`` counts features read, repaired, dropped, duplicate ids and untyped features.
    ``name`` labels the layer in error messages ("red-line layer").
    """
    src = str(path)
    where = f"{name} file '{src}'"
    gdf, layer_name = open_layer(src, layer=layer, where=where, encoding=encoding)
    lname = f" layer '{layer}'" if layer else ""
    if len(gdf) == 0:
        raise InputError(f"{where}{lname} has no features; check that it is the right file and layer")
    if gdf.crs is None:
        raise InputError(f"{where}{lname} has no coordinate reference system; add one (e.g. a .prj file, or "
                         "assign EPSG:4490 for CGCS2000 data) and try again")
    check_extent(tuple(gdf.total_bounds), gdf.crs, f"{where}{lname}")
    fields = [c for c in gdf.columns if c != gdf.geometry.name]
    for role, field in [("id_field", id_field), ("type_field", type_field)] + [
        ("extra field", f) for f in extra_fields
    ]:
        if field is not None and field not in fields:
            raise InputError(f"{where}{lname} has no field '{field}' ({role}); available fields: "
                             f"{', '.join(map(str, fields)) or '(none)'}")

    n = len(gdf)
    if id_field is not None:
        missing = gdf[id_field].isna() | (gdf[id_field].astype(str).str.strip() == "")
        if missing.any():
            raise InputError(f"{where}: {int(missing.sum())} feature(s) have no value in id field '{id_field}' "
                             f"(first at feature {int(np.flatnonzero(missing.to_numpy())[0]) + 1}); fill them "
                             "or choose another id_field")
        ids = id_text(gdf[id_field])
    else:
        ids = np.array([str(i) for i in range(1, n + 1)], dtype=object)

    geoms, repaired = _repair(np.asarray(gdf.geometry.array, dtype=object))
    keep = ~shapely.is_missing(geoms)
    if not keep.any():
        raise InputError(f"{where}{lname}: no feature has a polygon area (null, empty, line or point "
                         "geometries only); give a polygon layer")
    data = {"id": ids}
    untyped = 0
    if type_field is not None:
        t = gdf[type_field].astype("string").str.strip()
        t = t.mask(t == "")
        untyped = int(t[keep].isna().sum())
        data["type"] = t.astype(object).where(t.notna(), np.nan).to_numpy()
    for f in extra_fields:
        data[f] = gdf[f].to_numpy()
    out = gpd.GeoDataFrame(data, geometry=geoms, crs=gdf.crs)
    out = out.loc[keep].reset_index(drop=True)
    dropped_ids = [str(i) for i in ids[~keep][:5]]
    report = {
        "name": name,
        "file": src,
        "layer": layer_name,
        "crs": out.crs.to_string(),
        "features": n,
        "kept": int(keep.sum()),
        "repaired": int(repaired.sum()),
        "dropped": int((~keep).sum()),
        "dropped_ids": dropped_ids,
        "duplicate_ids": int(pd.Series(out["id"]).duplicated().sum()),
        "untyped": untyped,
    }
    return out, report


# ---------------------------------------------------------------------------------------------- areas


@dataclass(frozen=True)
class _Split:
    region_m2: np.ndarray  # area of the dissolved layer inside each region
    outside_m2: float  # area outside every region
    total_m2: float  # area of the dissolved layer


def _split_by_regions(rgeoms: np.ndarray, geoms: np.ndarray, crs: CRS) -> _Split:
    """Dissolve ``geoms`` and measure how much of it lies in each region and outside all of them."""
    nreg = len(rgeoms)
    pieces = dissolve(geoms)
    npc = len(pieces)
    if npc == 0:
        return _Split(np.zeros(nreg), 0.0, 0.0)
    piece_m2 = _area_m2(pieces, crs)
    tree = shapely.STRtree(pieces)
    ri, pi = tree.query(rgeoms, predicate="intersects")
    ci, cp = tree.query(rgeoms, predicate="contains_properly")
    # A piece strictly inside a region is counted whole; only pieces on a border go through an overlay.
    inside = np.isin(ri.astype(np.int64) * npc + pi, ci.astype(np.int64) * npc + cp)
    pair_m2 = np.zeros(len(ri))
    pair_m2[inside] = piece_m2[pi[inside]]
    border = ~inside
    inter = shapely.intersection(rgeoms[ri[border]], pieces[pi[border]])
    pair_m2[border] = _area_m2(inter, crs)
    region_m2 = np.bincount(ri, weights=pair_m2, minlength=nreg)

    # Outside area is measured geometrically (piece minus its parts inside regions), not as a remainder,
    # so that Σ regions + outside = total is a real check (it fails when regions overlap).
    touched = np.zeros(npc, dtype=bool)
    touched[pi] = True
    whole_inside = np.zeros(npc, dtype=bool)
    whole_inside[pi[inside]] = True
    outside_m2 = float(piece_m2[~touched].sum())
    bp = pi[border]
    sel = ~whole_inside[bp]
    if sel.any():
        cut = np.flatnonzero(sel)
        rest = _subtract_each(pieces, inter, bp[cut], cut)
        ids = np.unique(bp[cut])
        outside_m2 += float(_area_m2(rest[ids], crs).sum())
    return _Split(region_m2, outside_m2, float(piece_m2.sum()))


def _overlapping_regions(rgeoms: np.ndarray, codes: np.ndarray, limit: int = 3) -> list[str]:
    """Up to ``limit`` 'A/B' pairs of regions whose interiors overlap."""
    a, b = _interior_pairs(rgeoms, rgeoms)
    keep = a < b
    return [f"{codes[i]}/{codes[j]}" for i, j in zip(a[keep][:limit], b[keep][:limit])]


def _check_frame(gdf, what: str, columns: Sequence[str]) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)}; available: {', '.join(map(str, gdf.columns))}")
    if gdf.crs is None:
        raise InputError(f"{what} has no coordinate reference system; set one before computing areas")


def _type_order(present: Sequence[str]) -> list[str]:
    known = [t for t in PROTECTED_TYPES if t in present]
    return known + sorted(t for t in present if t not in PROTECTED_TYPES)


def protected_area(
    regions: gpd.GeoDataFrame,
    layer: gpd.GeoDataFrame,
    *,
    layer_name: str,
    year: int,
    types: Sequence[str] | None = None,
    overlap_tolerance_m2: float = 1.0,
) -> pd.DataFrame:
    """Ellipsoidal area (km²) of ``layer`` inside each region, overlapping polygons counted once.

    ``regions``: columns ``region_code`` (str), ``region_name``, geometry, any CRS. ``layer``: polygons in
    any CRS (reprojected to the regions' CRS; areas are on that CRS's ellipsoid), optional ``type`` column.
    The layer is dissolved (overlaps count once), split by region borders, and measured per region;
    ``share_of_region_pct`` = area / the region's own ellipsoidal area × 100. An extra row with
    region_code ``"__outside__"`` holds the area outside every region (its share is NaN).

    Rows with ``type == "all"`` count the whole layer (including untyped features). When ``layer`` has a
    ``type`` column there are also rows per type, each type dissolved on its own: a place that is both a
    自然保护区 and a 自然公园 counts once in "all" but in both types, so types may sum to more than "all".
    ``types`` lists the types to report (zero rows for a type absent this year keep year-on-year tables
    complete); by default, the types present.

    Columns: region_code, region_name, year, layer, type, area_km2, share_of_region_pct.
    Raises InputError when regions overlap so much that protected area inside the overlap (more than
    ``overlap_tolerance_m2``) would be counted in two regions.
    """
    _check_frame(regions, "regions", ["region_code", "region_name"])
    _check_frame(layer, f"{layer_name} layer", [])
    codes = regions["region_code"].astype(str).to_numpy()
    dup = pd.Series(codes).duplicated()
    if dup.any():
        raise InputError(f"regions: region_code '{codes[dup.to_numpy()][0]}' appears more than once; "
                         "region codes must be unique (merge the parts or fix the id field)")
    if any(c == OUTSIDE for c in codes):
        raise InputError(f"regions: region_code '{OUTSIDE}' is reserved for area outside every region; rename it")
    crs = CRS.from_user_input(regions.crs)
    if not CRS.from_user_input(layer.crs).equals(crs):
        layer = layer.to_crs(crs)
    rgeoms, _ = _repair(np.asarray(regions.geometry.array, dtype=object))
    rgeoms = np.where(shapely.is_missing(rgeoms), shapely.Polygon(), rgeoms)
    shapely.prepare(rgeoms)
    region_m2 = _area_m2(rgeoms, crs)
    lgeoms, _ = _repair(np.asarray(layer.geometry.array, dtype=object))

    subsets: list[tuple[str, np.ndarray]] = [(ALL, np.ones(len(layer), dtype=bool))]
    if "type" in layer.columns:
        tcol = layer["type"].astype("string").str.strip()
        present = sorted(set(tcol.dropna()) - {""})
        wanted = list(types) if types is not None else _type_order(present)
        for t in wanted:
            subsets.append((t, (tcol == t).fillna(False).to_numpy(dtype=bool)))
    elif types:
        raise InputError(f"{layer_name} layer has no 'type' column but types {list(types)} were asked for; "
                         "set type_field for this layer")

    names = regions["region_name"].to_numpy()
    frames = []
    for t, mask in subsets:
        s = _split_by_regions(rgeoms, lgeoms[mask], crs)
        excess = float(s.region_m2.sum()) + s.outside_m2 - s.total_m2
        tol = overlap_tolerance_m2 + 1e-9 * s.total_m2
        if excess > tol:
            pairs = _overlapping_regions(rgeoms, codes)
            if pairs:
                raise InputError(
                    f"regions overlap ({', '.join(pairs)}): {excess / M2_PER_KM2:.6f} km² of the {layer_name} "
                    f"layer ({t}) would be counted in two regions; fix the region boundaries so they do not overlap")
        if abs(excess) > tol:
            raise ConservationError(
                f"{layer_name} ({t}, {year}): Σ regions + outside − total = {excess:.3f} m² (bug in the overlay)")
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(region_m2 > 0, s.region_m2 / region_m2 * 100.0, np.nan)
        frames.append(pd.DataFrame({
            "region_code": np.append(codes, OUTSIDE),
            "region_name": np.append(names, OUTSIDE_NAME),
            "year": int(year),
            "layer": layer_name,
            "type": t,
            "area_km2": np.append(s.region_m2, s.outside_m2) / M2_PER_KM2,
            "share_of_region_pct": np.append(share, np.nan),
        }))
    out = pd.concat(frames, ignore_index=True)
    # Stable order for byte-identical files: type as listed ("all" first), regions by code, outside last.
    out["_t"] = out["type"].map({t: i for i, (t, _) in enumerate(subsets)})
    out["_o"] = out["region_code"] == OUTSIDE
    out = out.sort_values(["_t", "_o", "region_code"], kind="stable").drop(columns=["_t", "_o"])
    return out.reset_index(drop=True)[AREA_COLUMNS]


# ---------------------------------------------------------------------------------------------- change


def protected_change(
    areas: pd.DataFrame,
    *,
    tolerance_km2: float = 0.0,
    baseline_year: int | None = None,
) -> pd.DataFrame:
    """Change of area per region × layer × type across years, and the "不减少" verdict (km² and %).

    For each row: ``area_prev_km2`` (the previous year present in the table for the same region, layer and
    type), ``delta_km2`` = area − previous, ``delta_pct`` = delta / previous × 100 (NaN when previous is 0),
    ``area_base_km2`` (the baseline year's area: ``baseline_year``, or the first year in the table),
    ``delta_base_km2``; ``verdict``: "不减少" when area ≥ previous − tolerance and area ≥ baseline − tolerance,
    else "减少" (:func:`gep.indicators.judgement.not_decreased`: the change rounded to 6 decimals of a km²);
    the baseline year is "基准年" and years before it "基准年前" (not judged). Exactly at the tolerance
    counts as "不减少".

    A region × type missing in a year for which the layer has rows counts as 0 km² (``filled`` is True):
    a type that vanished must show as a decrease, not as a gap.
    """
    need = ["region_code", "region_name", "year", "layer", "type", "area_km2"]
    missing = [c for c in need if c not in areas.columns]
    if missing:
        raise InputError(f"area table: missing column(s) {', '.join(missing)}; give the output of protected_area")
    if not (tolerance_km2 >= 0):
        raise InputError(f"tolerance_km2 = {tolerance_km2}: must be ≥ 0 (km² of decrease still judged 不减少)")
    df = areas[need].copy()
    df["region_code"] = df["region_code"].astype(str)
    df["year"] = df["year"].astype(int)
    key = ["region_code", "layer", "type"]
    dup = df.duplicated(key + ["year"])
    if dup.any():
        r = df[dup].iloc[0]
        raise InputError(f"area table: more than one row for region {r.region_code}, layer {r.layer}, type "
                         f"{r.type}, year {r.year}; give one row per region × layer × type × year")

    # Complete the grid per layer: every region × type present in any year of that layer, every year.
    filled = []
    for lay, sub in df.groupby("layer", sort=False):
        years = np.sort(sub["year"].unique())
        combos = sub[["region_code", "type"]].drop_duplicates()
        grid = combos.merge(pd.DataFrame({"year": years}), how="cross")
        grid["layer"] = lay
        grid = grid.merge(sub, on=["region_code", "type", "year", "layer"], how="left", indicator=True)
        grid["filled"] = grid.pop("_merge") == "left_only"
        names = sub.drop_duplicates("region_code").set_index("region_code")["region_name"]
        grid["region_name"] = grid["region_code"].map(names)
        grid["area_km2"] = grid["area_km2"].fillna(0.0)
        filled.append(grid)
    df = pd.concat(filled, ignore_index=True) if filled else df.assign(filled=False)

    if baseline_year is not None:
        have = df.loc[df["year"] == int(baseline_year), "layer"].unique()
        lacking = sorted(set(df["layer"]) - set(have))
        if lacking:
            raise InputError(f"baseline_year {baseline_year}: no areas for that year in layer(s) "
                             f"{', '.join(map(str, lacking))}; add that year or change baseline_year")

    df = df.sort_values(key + ["year"], kind="stable").reset_index(drop=True)
    g = df.groupby(key, sort=False)
    df["year_prev"] = g["year"].shift(1).astype("Int64")
    df["area_prev_km2"] = g["area_km2"].shift(1)
    df["delta_km2"] = df["area_km2"] - df["area_prev_km2"]
    with np.errstate(divide="ignore", invalid="ignore"):
        df["delta_pct"] = np.where(df["area_prev_km2"] > 0, df["delta_km2"] / df["area_prev_km2"] * 100.0, np.nan)
    if baseline_year is None:
        df["year_base"] = g["year"].transform("min")
    else:
        df["year_base"] = int(baseline_year)
    base = df.loc[df["year"] == df["year_base"], key + ["area_km2"]].rename(columns={"area_km2": "area_base_km2"})
    df = df.merge(base, on=key, how="left")
    df["delta_base_km2"] = df["area_km2"] - df["area_base_km2"]

    tol = float(tolerance_km2)
    ok_prev = df["area_prev_km2"].isna().to_numpy() | not_decreased(df["area_km2"], df["area_prev_km2"], tol)
    ok_base = not_decreased(df["area_km2"], df["area_base_km2"], tol)
    verdict = np.where(ok_prev & ok_base, NOT_DECREASED, DECREASED).astype(object)
    verdict[(df["year"] == df["year_base"]).to_numpy()] = BASELINE
    verdict[(df["year"] < df["year_base"]).to_numpy()] = BEFORE_BASELINE
    df["verdict"] = verdict
    df.loc[df["year"] < df["year_base"], ["area_base_km2", "delta_base_km2"]] = np.nan
    cols = ["region_code", "region_name", "layer", "type", "year", "area_km2", "year_prev", "area_prev_km2",
            "delta_km2", "delta_pct", "year_base", "area_base_km2", "delta_base_km2", "verdict", "filled"]
    out = df[cols].copy()
    out["_o"] = out["region_code"] == OUTSIDE
    out = out.sort_values(["layer", "type", "_o", "region_code", "year"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)


def _natural_key(s: str):
    return (0, int(s), "") if s.isdigit() else (1, 0, s)


def _join_ids(ids: Sequence[str]) -> str:
    return ",".join(sorted(set(ids), key=_natural_key))


def _prepared_pair(prev: gpd.GeoDataFrame, curr: gpd.GeoDataFrame) -> tuple[CRS, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    _check_frame(prev, "earlier layer", [])
    _check_frame(curr, "later layer", [])
    crs = CRS.from_user_input(prev.crs)
    if not CRS.from_user_input(curr.crs).equals(crs):
        curr = curr.to_crs(crs)
    return crs, prev, curr


def _ids_of(gdf: gpd.GeoDataFrame) -> np.ndarray:
    if "id" in gdf.columns:
        return gdf["id"].astype(str).to_numpy(dtype=object)
    return np.array([str(i) for i in range(1, len(gdf) + 1)], dtype=object)


def change_layers(
    prev: gpd.GeoDataFrame,
    curr: gpd.GeoDataFrame,
    *,
    year_prev: int,
    year: int,
    sliver_m2: float = 1.0,
) -> gpd.GeoDataFrame:
    """Where the layer grew or shrank from ``year_prev`` to ``year``, as polygons in ``prev``'s CRS.

    Each layer is dissolved; ``added`` = union(curr) − union(prev), ``removed`` = union(prev) − union(curr),
    split into parts (touching parts merged). Parts smaller than ``sliver_m2`` (m², ellipsoidal) are dropped:
    they are digitising noise where the same boundary was redrawn. Columns: change ("added"/"removed"),
    year_from, year_to, area_km2 (ellipsoidal), ids (comma-joined, naturally sorted ids of the source
    polygons whose interior overlaps the part: ``curr`` ids for added, ``prev`` ids for removed; the ``id``
    column, or 1-based feature numbers), geometry.
    """
    crs, prev, curr = _prepared_pair(prev, curr)
    src = {}
    for tag, gdf in (("prev", prev), ("curr", curr)):
        g, _ = _repair(np.asarray(gdf.geometry.array, dtype=object))
        ok = ~shapely.is_missing(g)
        src[tag] = (g[ok], _ids_of(gdf)[ok])
    d = {tag: dissolve(g) for tag, (g, _) in src.items()}
    frames = []
    for change, a, b, ids_from in (("added", "curr", "prev", "curr"), ("removed", "prev", "curr", "prev")):
        qa, tb = _interior_pairs(d[b], d[a])
        rest = _subtract_each(d[a], d[b], qa, tb)
        parts = dissolve(_explode(rest), merge_touching=True)
        area = _area_m2(parts, crs)
        keep = area >= sliver_m2
        parts, area = parts[keep], area[keep]
        sg, sid = src[ids_from]
        q, t = _interior_pairs(sg, parts)
        joined = pd.Series(sid[t]).groupby(q).agg(lambda s: _join_ids(list(s)))
        ids = np.array([joined.get(i, "") for i in range(len(parts))], dtype=object)
        frames.append(gpd.GeoDataFrame({
            "change": change, "year_from": int(year_prev), "year_to": int(year),
            "area_km2": area / M2_PER_KM2, "ids": ids,
        }, geometry=parts, crs=crs))
    out = pd.concat(frames, ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=crs)
    if len(out):
        c = shapely.centroid(np.asarray(out.geometry.array, dtype=object))
        out["_x"], out["_y"] = shapely.get_x(c), shapely.get_y(c)
        out = out.sort_values(["change", "ids", "_x", "_y"], kind="stable").drop(columns=["_x", "_y"])
    return out.reset_index(drop=True)


def _union_by_id(geoms: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One geometry per id (features sharing an id are unioned: multi-part polygons stored as rows)."""
    codes, uniq = pd.factorize(pd.Series(ids), sort=False)
    single, groups = _groups(codes)
    out = np.empty(len(uniq), dtype=object)
    out[codes[single]] = geoms[single]
    for g in groups:  # loop over duplicated ids only
        out[codes[g[0]]] = shapely.union_all(geoms[g])
    return np.asarray(uniq, dtype=object), out


def change_status(
    prev: gpd.GeoDataFrame,
    curr: gpd.GeoDataFrame,
    *,
    year_prev: int,
    year: int,
    sliver_m2: float = 1.0,
) -> pd.DataFrame:
    """Per-id status between two years: "added", "removed", "reshaped" or "unchanged".

    Ids come from the ``id`` column (1-based feature numbers otherwise); features sharing an id are one
    polygon. An id in both years is "reshaped" when the area of the symmetric difference of its two
    geometries exceeds ``sliver_m2`` (m², ellipsoidal), else "unchanged". Columns: id, status, year_from,
    year_to, area_prev_km2, area_km2, changed_km2 (area of the symmetric difference).
    """
    crs, prev, curr = _prepared_pair(prev, curr)
    per = {}
    for tag, gdf in (("prev", prev), ("curr", curr)):
        g, _ = _repair(np.asarray(gdf.geometry.array, dtype=object))
        ids = _ids_of(gdf)
        ok = ~shapely.is_missing(g)
        u, geo = _union_by_id(g[ok], ids[ok])
        per[tag] = pd.DataFrame({"id": u, f"geom_{tag}": geo, f"area_{tag}": _area_m2(geo, crs)})
    df = per["prev"].merge(per["curr"], on="id", how="outer")
    both = df["geom_prev"].notna() & df["geom_curr"].notna()
    changed = np.full(len(df), np.nan)
    if both.any():
        sd = shapely.symmetric_difference(df.loc[both, "geom_prev"].to_numpy(), df.loc[both, "geom_curr"].to_numpy())
        changed[both.to_numpy()] = _area_m2(sd, crs)
    only_prev = df["geom_curr"].isna().to_numpy()
    only_curr = df["geom_prev"].isna().to_numpy()
    changed[only_prev] = df["area_prev"].to_numpy()[only_prev]
    changed[only_curr] = df["area_curr"].to_numpy()[only_curr]
    status = np.where(only_prev, "removed", np.where(only_curr, "added",
                      np.where(changed > sliver_m2, "reshaped", "unchanged")))
    out = pd.DataFrame({
        "id": df["id"].astype(str), "status": status, "year_from": int(year_prev), "year_to": int(year),
        "area_prev_km2": df["area_prev"] / M2_PER_KM2, "area_km2": df["area_curr"] / M2_PER_KM2,
        "changed_km2": changed / M2_PER_KM2,
    })
    out["_k"] = out["id"].map(_natural_key)
    return out.sort_values("_k", kind="stable").drop(columns="_k").reset_index(drop=True)


def write_change_gpkg(path: str | Path, layers: Mapping[str, pd.DataFrame]) -> Path:
    """Write several layers (GeoDataFrames, or plain DataFrames as attribute tables) into one GeoPackage.

    The whole file is written under a temporary name beside ``path`` and renamed at the end, so a reader
    never sees a half-written package and a failed run leaves the old file in place. Layers of added/removed
    parts (a ``change`` column, see :func:`change_layers`) get a default QGIS style (``layer_styles``).
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise InputError(f"{path}: change layers are written as a GeoPackage; use a .gpkg file name")
    if not layers:
        raise InputError(f"{path}: no layers to write")
    with atomic_path(path) as tmp:
        for name, df in layers.items():
            kw = {}
            if isinstance(df, gpd.GeoDataFrame):
                # Parts may mix Polygon and MultiPolygon; one declared type keeps GIS tools happy.
                kw = {"promote_to_multi": True} if len(df) else {"geometry_type": "MultiPolygon"}
            pyogrio.write_dataframe(df, tmp, layer=name, driver="GPKG", **kw)
        write_layer_styles(tmp, change_styles(layers))
    return path


@dataclass(frozen=True)
class SourceYear:
    """The file used for one year; ``from_year`` differs from ``year`` when carried forward."""

    year: int
    path: Path
    from_year: int

    @property
    def carried(self) -> bool:
        return self.from_year != self.year


def _exists(p: Path) -> bool:
    return str(p).startswith("/vsi") or p.exists()


def resolve_sources(
    cfg: ProtectedLayerConfig, years: Sequence[int], *, base_dir: str | Path | None = None, name: str = "layer"
) -> list[SourceYear]:
    """The file for each year (sorted), applying ``carry_forward`` from the latest earlier year's file."""
    base = Path(base_dir) if base_dir is not None else None
    out: list[SourceYear] = []
    missing: list[str] = []
    last: SourceYear | None = None
    for y in sorted({int(y) for y in years}):
        p = Path(cfg.path.format(year=y))
        if base is not None and not p.is_absolute() and not str(p).startswith("/vsi"):
            p = base / p
        if _exists(p):
            last = SourceYear(y, p, y)
            out.append(last)
        elif cfg.carry_forward and last is not None:
            out.append(SourceYear(y, last.path, last.from_year))
        elif cfg.carry_forward:
            missing.append(f"{name}: file '{p}' for {y} does not exist and there is no earlier year to carry "
                           "forward from; add the file or start the years later")
        else:
            missing.append(f"{name}: file '{p}' for {y} does not exist; add it, or set carry_forward: true to "
                           "reuse the previous year's file")
    if missing:
        raise InputError.many(missing)
    return out


def resolve_paths(
    cfg: ProtectedLayerConfig, years: Sequence[int], *, base_dir: str | Path | None = None, name: str = "layer"
) -> dict[int, Path]:
    """``{year: file}`` for ``years``; InputError naming every missing file (and the carry_forward switch).

    With ``carry_forward`` a year without a file gets the previous year's file; use
    :func:`resolve_sources` (or :func:`carried_notes`) to report which years were carried.
    """
    return {s.year: s.path for s in resolve_sources(cfg, years, base_dir=base_dir, name=name)}


def carried_notes(sources: Sequence[SourceYear], name: str = "layer") -> list[str]:
    """One line per carried-forward year, for the run report."""
    return [f"{name}: no file for {s.year}; carried forward {s.path} (year {s.from_year})" for s in sources if s.carried]

