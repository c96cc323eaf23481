"""Land-survey polygons → region × terrain × class: ``gep.accounting.survey`` against the route a user would
otherwise take (geopandas overlay with the regions, then exactextract for the terrain shares).

Builds, in a work folder: a survey layer (``--polygons`` jittered cells of ~200 m with DLBM, TBMJ, TKMJ,
TBDLMJ; GeoPackage, EPSG:4525), ``--regions`` Voronoi regions with densified edges, and a ``--size``² uint8
terrain-class GeoTIFF (classes 1–6, tiled, deflate) over the same extent. Then runs each route in its own
process (so each peak RSS is its own) and compares the tables.

- gep: ``survey_crosstab`` (survey areas apportioned in integer cm², exact terrain fractions, chunks of
  polygons).
- route: ``geopandas.overlay(survey, regions)``; each part takes TBDLMJ (and TKMJ for 1203) × its planar
  area share of the polygon; ``exactextract`` ``unique`` + ``frac`` of the terrain raster per part.

Run by hand (not part of the test suite)::

    python benchmarks/bench_survey.py --polygons 10000 --size 2000        # seconds
    python benchmarks/bench_survey.py                                    # 1,000,000 polygons, 20,000²
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CELL_M = 200.0  # survey polygon side
X0, Y0 = 37_520_000.0, 3_050_000.0  # EPSG:4525, zone 37, ~111.2°E 27.6°N


def _bounds(polygons: int) -> tuple[tuple[float, float, float, float], int]:
    side = int(np.ceil(np.sqrt(polygons)))
    return (X0, Y0, X0 + side * CELL_M, Y0 + side * CELL_M), side


def prepare(work: Path, polygons: int, size: int, nregions: int, seed: int) -> dict:
    import geopandas as gpd
    import rasterio
    import shapely
    from rasterio.transform import from_bounds

    from gep.accounting.survey_demo import DEMO_CRS, synthetic_survey

    work.mkdir(parents=True, exist_ok=True)
    bounds, side = _bounds(polygons)
    t = time.perf_counter()
    survey = synthetic_survey(bounds, side, side, seed=seed)
    survey.to_file(work / "survey.gpkg", layer="DLTB", engine="pyogrio")
    t_survey = time.perf_counter() - t
    rng = np.random.default_rng(seed + 1)
    x0, y0, x1, y1 = bounds
    pts = shapely.multipoints(np.column_stack([rng.uniform(x0, x1, nregions), rng.uniform(y0, y1, nregions)]))
    box = shapely.box(*bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box))
    cells = shapely.segmentize(shapely.intersection(cells, box), 100.0)  # ~100 m vertices, as digitised borders
    regions = gpd.GeoDataFrame({"region_code": [f"{i:06d}" for i in range(len(cells))]}, geometry=cells, crs=DEMO_CRS)
    regions.to_file(work / "regions.gpkg", layer="regions", engine="pyogrio")
    res = (x1 - x0) / size
    transform = from_bounds(x0, y0, x1, y1, size, size)
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="uint8", crs=DEMO_CRS, nodata=255,
                   transform=transform, tiled=True, blockxsize=512, blockysize=512, compress="deflate")
    with rasterio.open(work / "terrain.tif", "w", **profile) as dst:
        for r0 in range(0, size, 2048):
            h = min(2048, size - r0)
            y = (y1 - (r0 + np.arange(h) + 0.5) * res)[:, None]
            x = (x0 + (np.arange(size) + 0.5) * res)[None, :]
            f = np.sin(x / 7300.0) + np.cos(y / 5100.0) + 0.5 * np.sin((x + y) / 1900.0)
            cls = (1 + np.floor((f + 2.5) / 5.0 * 6)).clip(1, 6).astype(np.uint8)
            dst.write(cls, 1, window=rasterio.windows.Window(0, r0, size, h))
    return {"polygons": len(survey), "regions": len(regions), "size": size, "res_m": res, "survey_s": t_survey}


def run_gep(work: Path, chunk: int) -> dict:
    import geopandas as gpd

    from gep.accounting.survey import SurveyOptions, TerrainClasses, survey_crosstab

    t = time.perf_counter()
    regions = gpd.read_file(work / "regions.gpkg", engine="pyogrio")
    res = survey_crosstab(work / "survey.gpkg", regions, TerrainClasses.open(work / "terrain.tif"),
                          options=SurveyOptions(chunk_polygons=chunk))
    wall = time.perf_counter() - t
    res.table.to_parquet(work / "gep.parquet")
    return {"wall_s": wall, "counts": {k: v for k, v in res.counts.items()}}


def run_route(work: Path) -> dict:
    import geopandas as gpd
    import pandas as pd
    from exactextract import exact_extract

    t = time.perf_counter()
    survey = gpd.read_file(work / "survey.gpkg", layer="DLTB", engine="pyogrio")
    regions = gpd.read_file(work / "regions.gpkg", engine="pyogrio")
    survey["pid"] = np.arange(len(survey))
    survey["whole_area"] = survey.geometry.area
    t0 = time.perf_counter()
    parts = gpd.overlay(survey, regions, how="intersection", keep_geom_type=True)
    t_overlay = time.perf_counter() - t0
    parts["share"] = parts.geometry.area / parts["whole_area"]
    parts["part_id"] = np.arange(len(parts))
    t0 = time.perf_counter()
    ex = exact_extract(str(work / "terrain.tif"), parts[["part_id", "geometry"]], ["unique", "frac"],
                       include_cols=["part_id"], output="pandas")
    t_extract = time.perf_counter() - t0
    ex = ex.explode(["unique", "frac"])
    ex = ex.merge(parts[["part_id", "region_code", "DLBM", "TBDLMJ", "TKMJ", "share"]], on="part_id")
    ex["frac"] = ex["frac"].astype(float)
    ex["terrain_code"] = ex["unique"].astype(int)
    counted = pd.DataFrame({"region_code": ex.region_code, "terrain_code": ex.terrain_code, "dlbm": ex.DLBM,
                            "area_m2": ex.TBDLMJ * ex.share * ex.frac})
    deducted = pd.DataFrame({"region_code": ex.region_code, "terrain_code": ex.terrain_code, "dlbm": "1203",
                             "area_m2": ex.TKMJ * ex.share * ex.frac})
    keys = ["region_code", "terrain_code", "dlbm"]
    tab = pd.concat([counted, deducted]).groupby(keys, as_index=False)["area_m2"].sum()
    wall = time.perf_counter() - t
    tab.to_parquet(work / "route.parquet")
    return {"wall_s": wall, "overlay_s": t_overlay, "exactextract_s": t_extract, "parts": len(parts)}


def compare(work: Path) -> dict:
    import geopandas as gpd
    import pandas as pd

    g = pd.read_parquet(work / "gep.parquet").groupby(["region_code", "terrain_code", "dlbm"])["area_m2"].sum()
    r = pd.read_parquet(work / "route.parquet").groupby(["region_code", "terrain_code", "dlbm"])["area_m2"].sum()
    both = pd.concat([g.rename("gep"), r.rename("route")], axis=1).fillna(0.0)
    both = both[(both.gep > 0) | (both.route > 0.01)]
    diff = (both.gep - both.route).abs()
    survey = gpd.read_file(work / "survey.gpkg", layer="DLTB", engine="pyogrio", read_geometry=False)
    cm2 = lambda v: np.rint(np.asarray(v, dtype=float) * 1e4).astype(np.int64)  # noqa: E731
    exact = int(cm2(survey.TBDLMJ).sum() + cm2(survey.TKMJ).sum())
    gep_total = int(pd.read_parquet(work / "gep.parquet")["area_cm2"].sum())
    return {"rows": len(both), "max_abs_diff_m2": float(diff.max()),
            "max_rel_diff": float((diff / both.max(axis=1)).max()),
            "total_gep_m2": float(both.gep.sum()), "total_route_m2": float(both.route.sum()),
            "survey_total_m2": exact / 1e4, "gep_total_minus_survey_cm2": gep_total - exact}


def _stage(args) -> None:
    work = Path(args.work)
    if args.stage == "prepare":
        out = prepare(work, args.polygons, args.size, args.regions, args.seed)
    elif args.stage == "gep":
        out = run_gep(work, args.chunk)
    elif args.stage == "route":
        out = run_route(work)
    else:
        out = compare(work)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out, default=float))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--polygons", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=20_000, help="terrain raster side (cells)")
    ap.add_argument("--regions", type=int, default=300)
    ap.add_argument("--chunk", type=int, default=50_000, help="polygons per chunk (gep)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=None, help="work folder (default: /tmp/bench_survey_<polygons>_<size>)")
    ap.add_argument("--only", choices=["gep", "route"], default=None, help="run one route only")
    ap.add_argument("--stage", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.work = args.work or f"/tmp/bench_survey_{args.polygons}_{args.size}"
    if args.stage:
        _stage(args)
        return
    base = [sys.executable, __file__, "--polygons", str(args.polygons), "--size", str(args.size), "--regions",
            str(args.regions), "--chunk", str(args.chunk), "--seed", str(args.seed), "--work", args.work]
    stages = ["prepare"] if not (Path(args.work) / "terrain.tif").exists() else []
    stages += ["gep", "route"] if args.only is None else [args.only]
    stages += ["compare"] if args.only is None else []
    print(f"bench_survey: {args.polygons:,} polygons, {args.size:,}² terrain, {args.regions} regions, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    for stage in stages:
        out = subprocess.run(base + ["--stage", stage], check=True, capture_output=True, text=True).stdout
        print(f"{stage}: {out.strip().splitlines()[-1]}  (load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
