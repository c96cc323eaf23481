"""Synthetic land-survey layers (地类图斑, DLTB) for the demo county, the tests and the benchmark.

Polygons are the cells of a jittered grid in a CGCS2000 Gauss-Krüger CRS: neighbouring cells share their
(jittered) corners, so they tile the extent with no gap and no overlap. Each carries the survey's fields:
DLBM (class code), TBMJ (its ellipsoidal area, m², 2 decimals), TKMJ and KCDLBM (田坎 deducted from cropland on
slopes: TKMJ = TBMJ × TKXS), TBDLMJ = TBMJ − TKMJ and ZLDWDM (19-digit village code). Everything follows from
the seed.

``gep demo-data`` writes the demo county's layers, ``survey_{year}.gpkg`` (layer DLTB) for each demo year, next
to the raster demo (:func:`write_demo_surveys`); config/demo_survey.yaml runs the workflow on them.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gep.core.errors import InputError
from gep.io.qgis_styles import outline_style, write_layer_styles
from gep.vector.geodesy import polygon_area_m2
from gep.vector.regions import to_crs

#: CGCS2000 / 3-degree Gauss-Kruger zone 37 (central meridian 111°E, false easting with the zone number): the
#: zone of the demo county (112.0–112.36°E), written the way survey files are usually delivered
DEMO_CRS = "EPSG:4525"

# (code, probability) in the west (mountains) and the east (plains) of an extent; mixed linearly in between
_WEST = {"0301": .46, "0302": .08, "0305": .12, "0307": .06, "0404": .06, "0103": .06, "0201": .03, "0702": .02,
         "1104": .02, "1006": .02, "1207": .02, "0304": .01, "0402": .01, "0401": .01, "1101": .02}
_EAST = {"0101": .30, "0102": .10, "0103": .10, "0301": .10, "0305": .02, "0307": .02, "0404": .06, "0403": .02,
         "0201": .04, "0202": .02, "0702": .07, "0701": .04, "1004": .03, "1006": .02, "1104": .04, "1101": .02}
_CROPLAND = ("0101", "0102", "0103")
_TKXS = np.array([0.0, 0.02, 0.05, 0.08, 0.12])  # 田坎 coefficients by slope class


def jittered_cells(bounds: tuple[float, float, float, float], nx: int, ny: int, rng: np.random.Generator,
                   jitter: float = 0.3) -> np.ndarray:
    """nx × ny quadrilaterals tiling ``bounds`` (x0, y0, x1, y1), corners jittered by up to ``jitter`` of a
    cell (the outer boundary stays straight), row-major from the south-west."""
    x0, y0, x1, y1 = bounds
    dx, dy = (x1 - x0) / nx, (y1 - y0) / ny
    gx, gy = np.meshgrid(x0 + dx * np.arange(nx + 1), y0 + dy * np.arange(ny + 1))
    jx = rng.uniform(-jitter, jitter, gx.shape) * dx
    jy = rng.uniform(-jitter, jitter, gy.shape) * dy
    jx[:, [0, -1]] = 0.0
    jy[[0, -1], :] = 0.0
    gx, gy = gx + jx, gy + jy
    # corners of cell (i, j): (j,i) (j,i+1) (j+1,i+1) (j+1,i), counter-clockwise, closed
    jj, ii = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    cj = np.stack([jj, jj, jj + 1, jj + 1, jj], axis=-1).reshape(-1, 5)
    ci = np.stack([ii, ii + 1, ii + 1, ii, ii], axis=-1).reshape(-1, 5)
    coords = np.stack([gx[cj, ci], gy[cj, ci]], axis=-1)
    return shapely.polygons(coords)


def survey_fields(geoms: np.ndarray, crs, rng: np.random.Generator, village: np.ndarray | None = None,
                  ) -> gpd.GeoDataFrame:
    """Survey attributes for polygons ``geoms``: classes drawn by position (west: forest, east: cropland),
    TBMJ = ellipsoidal area, 田坎 deductions on cropland. ``village`` gives each polygon's 19-digit ZLDWDM."""
    n = len(geoms)
    cx = shapely.get_x(shapely.centroid(geoms))
    lo, hi = (cx.min(), cx.max()) if n else (0.0, 1.0)
    east = (cx - lo) / max(hi - lo, 1e-9)
    codes = sorted(set(_WEST) | set(_EAST))
    pw = np.array([_WEST.get(c, 0.0) for c in codes])
    pe = np.array([_EAST.get(c, 0.0) for c in codes])
    p = (1 - east)[:, None] * (pw / pw.sum()) + east[:, None] * (pe / pe.sum())
    pick = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    dlbm = np.asarray(codes, dtype=object)[np.minimum(pick, len(codes) - 1)]
    tbmj = np.round(polygon_area_m2(geoms, crs), 2)
    crop = np.isin(dlbm, _CROPLAND)
    tkxs = np.where(crop, _TKXS[rng.integers(0, len(_TKXS), n)], 0.0)
    tkmj = np.round(tbmj * tkxs, 2)
    if village is None:
        village = np.array([f"430181{100 + i % 20:03d}{200 + i % 7:03d}0000000" for i in range(n)], dtype=object)
    return gpd.GeoDataFrame({
        "DLBM": dlbm,
        "TBMJ": tbmj,
        "KCDLBM": np.where(tkmj > 0, "1203", ""),
        "TKXS": tkxs,
        "TKMJ": tkmj,
        "TBDLMJ": np.round(tbmj - tkmj, 2),
        "ZLDWDM": village,
    }, geometry=geoms, crs=crs)


def synthetic_survey(bounds, nx: int, ny: int, *, seed: int = 0, crs: str = DEMO_CRS) -> gpd.GeoDataFrame:
    """A survey layer of nx × ny jittered cells over ``bounds`` (metres in ``crs``)."""
    rng = np.random.default_rng(seed)
    return survey_fields(jittered_cells(bounds, nx, ny, rng), crs, rng)


def demo_survey(townships: gpd.GeoDataFrame, *, seed: int = 2019, cell_m: float = 250.0,
                code_field: str = "code") -> gpd.GeoDataFrame:
    """A survey layer for the demo county: jittered ~``cell_m`` cells cut at the township boundaries (as the
    survey cuts its polygons at village boundaries), ZLDWDM = township code + village digits, in EPSG:4525."""
    towns = to_crs(townships, DEMO_CRS)  # densified as the accounting does, so the cuts match its regions
    x0, y0, x1, y1 = (float(v) for v in towns.total_bounds)
    nx, ny = int(np.ceil((x1 - x0) / cell_m)), int(np.ceil((y1 - y0) / cell_m))
    rng = np.random.default_rng(seed)
    cells = jittered_cells((x0, y0, x0 + nx * cell_m, y0 + ny * cell_m), nx, ny, rng)
    tgeoms = np.asarray(towns.geometry.values)
    tree = shapely.STRtree(cells)
    t_idx, c_idx = tree.query(tgeoms, predicate="intersects")
    parts = shapely.intersection(cells[c_idx], tgeoms[t_idx])
    parts = np.array([_polygonal(g) for g in parts], dtype=object)
    keep = ~shapely.is_missing(parts) & (shapely.area(parts) > 1.0)
    parts, t_idx, c_idx = parts[keep], t_idx[keep], c_idx[keep]
    order = np.lexsort((c_idx, t_idx))
    parts, t_idx, c_idx = parts[order], t_idx[order], c_idx[order]
    town_code = towns[code_field].astype(str).to_numpy()
    # ZLDWDM: the township's first 9 digits, a 3-digit village number (bands of ~40 cells), then 7 zeros
    village = np.array([f"{town_code[t][:9]}{1 + (c // 40) % 99:03d}0000000" for t, c in zip(t_idx, c_idx)],
                       dtype=object)
    return survey_fields(parts, DEMO_CRS, rng, village)


#: classes planted with forest between consecutive demo years (退耕还林 on dry land, grassland, orchards) and the
#: share of their polygons that changes each year
_AFFORESTED = ("0103", "0404", "0201")
_AFFORESTED_SHARE = 0.05


def demo_surveys(townships: gpd.GeoDataFrame, years, *, seed: int = 2019, cell_m: float = 250.0,
                 code_field: str = "code") -> dict[int, gpd.GeoDataFrame]:
    """The demo county's survey layer for each of ``years``: the first year's is :func:`demo_survey`; in each
    later year the same polygons, with ``_AFFORESTED_SHARE`` of the dry-land, grassland and orchard polygons
    turned into 0301 乔木林地 (their 田坎 deduction dropped), so 林草覆盖率 rises from year to year."""
    years = sorted(int(y) for y in years)
    layer = demo_survey(townships, seed=seed, cell_m=cell_m, code_field=code_field)
    rng = np.random.default_rng([seed, 1])
    out = {years[0]: layer}
    for year in years[1:]:
        layer = layer.copy()
        candidates = np.flatnonzero(layer["DLBM"].isin(_AFFORESTED).to_numpy())
        pick = candidates[rng.random(len(candidates)) < _AFFORESTED_SHARE]
        cols = [layer.columns.get_loc(c) for c in ("DLBM", "KCDLBM", "TKXS", "TKMJ")]
        layer.iloc[pick, cols] = ["0301", "", 0.0, 0.0]
        layer["TBDLMJ"] = np.round(layer["TBMJ"] - layer["TKMJ"], 2)
        out[year] = layer
    return out


def write_layer(gdf: gpd.GeoDataFrame, out: str | Path) -> Path:
    """Write a survey layer to GeoPackage ``out`` (layer DLTB) atomically."""
    out = Path(out)
    tmp = out.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    gdf.to_file(tmp, layer="DLTB", driver="GPKG", engine="pyogrio")
    write_layer_styles(tmp, [outline_style("DLTB", label_field=None, colour="237,248,233,255", width=0.1,
                                           description="survey parcels (gep demo)")])
    tmp.replace(out)
    return out


def _polygonal(geom):
    polys = [g for g in shapely.get_parts(geom) if shapely.get_type_id(g) == 3 and g.area > 0]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def survey_paths(outdir: str | Path) -> dict[int, Path]:
    """The demo county's survey layers by year (written by :func:`write_demo_surveys`)."""
    from gep.demo import YEARS

    return {y: Path(outdir) / f"survey_{y}.gpkg" for y in YEARS}


def write_demo_surveys(outdir: str | Path, *, seed: int = 2019) -> dict[int, Path]:
    """Write the demo county's survey layers (``survey_{year}.gpkg``, layer DLTB) into ``outdir``, where
    ``gep.demo.generate`` wrote the townships, and list them in its ``demo_manifest.json``."""
    import json

    from gep.core.atomic import write_text
    from gep.demo import LAYERS, YEARS, paths

    p = paths(outdir)
    if not Path(p["townships"]).exists():
        raise InputError(f"{p['townships']}: the demo townships are missing; run 'gep demo-data {outdir}' first")
    towns = gpd.read_file(p["townships"], layer=LAYERS["townships"], engine="pyogrio")
    out = survey_paths(outdir)
    for year, layer in demo_surveys(towns, YEARS, seed=seed).items():
        write_layer(layer, out[year])
    if Path(p["manifest"]).exists():
        manifest = json.loads(Path(p["manifest"]).read_text(encoding="utf-8"))
        files = [f for f in manifest.get("files", []) if f.get("role") != "survey"]
        files += [{"path": path.name, "role": "survey", "year": year, "units": "m2 (TBMJ, TKMJ, TBDLMJ)",
                   "layer": "DLTB", "crs": DEMO_CRS} for year, path in out.items()]
        manifest["files"] = files
        write_text(p["manifest"], json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return out


def write_demo_survey(outdir: str | Path, *, seed: int = 2019) -> Path:
    """Write ``survey.gpkg`` (layer DLTB) next to the demo data in ``outdir`` (run ``gep demo`` first)."""
    from gep.demo import LAYERS, paths

    town_path = paths(outdir)["townships"]
    if not Path(town_path).exists():
        raise InputError(f"{town_path}: the demo townships are missing; run 'gep demo {outdir}' first")
    towns = gpd.read_file(town_path, layer=LAYERS["townships"], engine="pyogrio")
    return write_layer(demo_survey(towns, seed=seed), Path(outdir) / "survey.gpkg")
