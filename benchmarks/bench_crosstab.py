#!/usr/bin/env python3
"""Benchmark ``gep crosstab`` against exactextract on a synthetic CLCD-like raster and wiggly regions.

What it does (see benchmarks/README.md):

1. generates, once, a SIZE × SIZE uint8 land-cover GeoTIFF (EPSG:4326, 0.00027° ≈ 30 m cells, origin 110°E
   30°N, 512×512 DEFLATE tiles, CLCD codes 1–9, nodata 0 in a few small discs) written strip by strip, and
   a GeoPackage of about N regions that tile the raster exactly (a Voronoi edge network, densified every
   2 cells and displaced by one smooth deterministic field, then polygonised: neighbours share every vertex);
2. times, in the same run and each in a fresh subprocess (peak RSS and CPU from ``os.wait4``):
   ``gep crosstab … --classes clcd`` and ``exactextract.exact_extract(…, ["unique", "frac", "count"])``
   with ``coverage_weight=area_spherical_m2``;
3. checks accuracy: gep's per-region total area vs the geodesic polygon area
   (``gep.vector.geodesy.polygon_area_m2``), and gep's per-region class fractions vs exactextract's ``frac``;
4. prints a table and writes it to benchmarks/out/bench_crosstab.json.

Generated data lives in benchmarks/data/ and outputs in benchmarks/out/ (both git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# Generated data go to data/ and results to out/ under $GEP_BENCH_DIR when it is set (the tests use a temporary
# folder), else under benchmarks/.
WORK = Path(os.environ.get("GEP_BENCH_DIR") or HERE)
DATA = WORK / "data"
OUT = WORK / "out"

CELL_DEG = 0.00027
ORIGIN = (110.0, 30.0)  # (lon, lat) of the top-left corner
TILE = 512
SEED = 20240601
# CLCD codes 1–9 with rough relative frequencies for a hilly central-China landscape
CLASS_CODES = np.arange(1, 10, dtype=np.uint8)
CLASS_FREQ = np.array([0.30, 0.38, 0.04, 0.09, 0.05, 0.005, 0.015, 0.08, 0.04])


# ---------------------------------------------------------------------------------------------------------
# synthetic land cover
# ---------------------------------------------------------------------------------------------------------

def _lattice_field(lat: np.ndarray, spacing: float, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a coarse random lattice (node every ``spacing`` cells) at rows × cols."""
    ri = rows / spacing
    i0 = np.floor(ri).astype(np.int64)
    tr = (ri - i0).astype(np.float32)[:, None]
    a = lat[i0] * (1 - tr) + lat[i0 + 1] * tr  # (len(rows), lattice cols)
    ci = cols / spacing
    j0 = np.floor(ci).astype(np.int64)
    tc = (ci - j0).astype(np.float32)[None, :]
    return a[:, j0] * (1 - tc) + a[:, j0 + 1] * tc


class LandcoverModel:
    """Deterministic class of every cell (r, c): domain-warped random patches at two scales, plus nodata discs.

    Every quantity is a function of global cell indices (the speckle of the strip's first row), so the raster
    is produced strip by strip without ever holding the whole array.
    """

    def __init__(self, size: int, seed: int = SEED):
        rng = np.random.default_rng(seed)
        self.size = size
        self.seed = seed
        self.speckle = 0.06  # share of cells replaced by a random class
        self.warp_sp = (1024.0, 256.0, 48.0)
        self.warp_amp = (180.0, 60.0, 7.0)
        self.warp = [tuple(rng.standard_normal((size // int(sp) + 3, size // int(sp) + 3)).astype(np.float32)
                           for _ in range(2)) for sp in self.warp_sp]
        self.big = 150  # cells per large patch
        self.small = 22  # cells per small patch
        p = CLASS_FREQ / CLASS_FREQ.sum()
        self.offset = 5 * sum(self.warp_amp) + self.big  # keeps warped coordinates positive (|warp| < 5σ)
        reach = size + 2 * self.offset  # largest warped coordinate, offset included
        nb = int(reach // self.big) + 2
        ns = int(reach // self.small) + 2
        self.big_cls = rng.choice(CLASS_CODES, size=(nb, nb), p=p)
        self.small_cls = rng.choice(CLASS_CODES, size=(ns, ns), p=p)
        self.small_on = rng.random((ns, ns)) < 0.22
        n_holes = max(3, size // 3000)
        self.holes = np.column_stack([rng.uniform(0.05, 0.95, n_holes) * size, rng.uniform(0.05, 0.95, n_holes) * size,
                                      rng.uniform(8, 60, n_holes)])  # row, col, radius (cells)

    def strip(self, r0: int, r1: int) -> np.ndarray:
        rows = np.arange(r0, r1, dtype=np.float64) + 0.5
        cols = np.arange(self.size, dtype=np.float64) + 0.5
        wy = np.zeros((r1 - r0, self.size), dtype=np.float32)
        wx = np.zeros_like(wy)
        for (ly, lx), sp, amp in zip(self.warp, self.warp_sp, self.warp_amp):
            wy += amp * _lattice_field(ly, sp, rows, cols)
            wx += amp * _lattice_field(lx, sp, rows, cols)
        rr = rows[:, None].astype(np.float32) + wy + self.offset
        cc = cols[None, :].astype(np.float32) + wx + self.offset
        del wx, wy
        bi = np.clip((rr // self.big).astype(np.int64), 0, self.big_cls.shape[0] - 1)
        bj = np.clip((cc // self.big).astype(np.int64), 0, self.big_cls.shape[1] - 1)
        out = self.big_cls[bi, bj]
        del bi, bj
        si = np.clip((rr // self.small).astype(np.int64), 0, self.small_cls.shape[0] - 1)
        sj = np.clip((cc // self.small).astype(np.int64), 0, self.small_cls.shape[1] - 1)
        on = self.small_on[si, sj]
        out[on] = self.small_cls[si, sj][on]
        del si, sj, on
        # classification speckle: isolated cells of another class, as in real 30 m products
        rng = np.random.default_rng([self.seed, r0])
        speck = rng.random(out.shape, dtype=np.float32) < self.speckle
        out[speck] = rng.choice(CLASS_CODES, size=int(speck.sum()), p=CLASS_FREQ / CLASS_FREQ.sum())
        for hr, hc, rad in self.holes:
            if hr + rad < r0 or hr - rad > r1:
                continue
            c_lo, c_hi = max(0, int(hc - rad) - 1), min(self.size, int(hc + rad) + 2)
            sub = (rows[:, None] - hr) ** 2 + (cols[None, c_lo:c_hi] - hc) ** 2 < rad ** 2
            out[:, c_lo:c_hi][sub] = 0
        return out


def make_raster(path: Path, size: int) -> None:
    import rasterio
    from rasterio.transform import from_origin

    model = LandcoverModel(size)
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="uint8", nodata=0, crs="EPSG:4326",
                   transform=from_origin(ORIGIN[0], ORIGIN[1], CELL_DEG, CELL_DEG), tiled=True, blockxsize=TILE,
                   blockysize=TILE, compress="deflate", BIGTIFF="IF_SAFER", NUM_THREADS="ALL_CPUS")
    tmp = path.with_name(path.name + ".part")
    t0 = time.perf_counter()
    tty = sys.stderr.isatty()
    shown = 0
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, size, TILE):
            r1 = min(size, r0 + TILE)
            dst.write(model.strip(r0, r1), 1, window=((r0, r1), (0, size)))
            done = r1 / size
            if tty:
                print(f"\r  raster {done:6.1%}  ({time.perf_counter() - t0:4.0f} s)", end="", file=sys.stderr,
                      flush=True)
            elif done >= shown + 0.25 or r1 == size:
                shown = done
                print(f"  raster {done:6.1%}  ({time.perf_counter() - t0:4.0f} s)", file=sys.stderr, flush=True)
    if tty:
        print(file=sys.stderr)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------------------
# synthetic regions
# ---------------------------------------------------------------------------------------------------------

def _displacement(x: np.ndarray, y: np.ndarray, size: int, nregions: int, rng_phase: np.ndarray):
    """Smooth displacement (in cells) of pixel coordinates (x, y); Lipschitz < 1 so the map is injective.

    Tapers to zero at the raster border so the outer boundary stays on the raster's edge.
    """
    side = size / np.sqrt(nregions)  # typical region side, cells
    lam1 = side / 2.5
    k1 = 2 * np.pi / lam1
    a1 = 0.04 * lam1  # |∇| ≤ 2π·0.04 ≈ 0.25
    lam2 = 40.0
    k2 = 2 * np.pi / lam2
    a2 = 0.03 * lam2  # |∇| ≤ 0.19
    p = rng_phase
    dx = a1 * np.sin(k1 * y + p[0]) + a2 * np.sin(k2 * (0.8 * y + 0.6 * x) + p[1])
    dy = a1 * np.sin(k1 * x + p[2]) + a2 * np.sin(k2 * (0.6 * y - 0.8 * x) + p[3])
    ramp = side / 3
    dist = np.clip(np.minimum.reduce([x, size - x, y, size - y]), 0, None)
    t = np.clip(dist / ramp, 0, 1)
    taper = t * t * (3 - 2 * t)
    return dx * taper, dy * taper


def make_regions(path: Path, size: int, nregions: int) -> None:
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(SEED + nregions)
    # seeds in pixel coordinates; work in pixels, convert to degrees at the end
    seeds = rng.uniform(0, size, (nregions, 2))
    frame = shapely.box(0, 0, size, size)
    edges = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, only_edges=True)
    network = shapely.union_all([shapely.intersection(edges, frame), frame.boundary])  # noded line network
    lines = shapely.get_parts(shapely.line_merge(network))
    lines = shapely.segmentize(lines, 2.0)  # a vertex every 2 cells: ~county-boundary detail
    phase = rng.uniform(0, 2 * np.pi, 4)

    def move(xy):
        dx, dy = _displacement(xy[:, 0], xy[:, 1], size, nregions, phase)
        x = np.clip(xy[:, 0] + dx, 0, size)
        y = np.clip(xy[:, 1] + dy, 0, size)
        return np.column_stack([ORIGIN[0] + x * CELL_DEG, ORIGIN[1] - y * CELL_DEG])

    lines = shapely.transform(lines, move)  # same vertex → same displaced vertex: shared borders stay shared
    polys = np.asarray(shapely.get_parts(shapely.polygonize(lines)))
    if not shapely.is_valid(polys).all():
        raise RuntimeError("generated regions are not all valid polygons; change --regions or the seed")
    total = shapely.area(polys).sum()
    extent = (size * CELL_DEG) ** 2
    if abs(total - extent) > 1e-9 * extent:
        raise RuntimeError(f"generated regions cover {total} deg² instead of {extent} deg² (gaps or overlaps)")
    # codes in a row-major order of the centroids (like admin codes, spatially coherent), 12 digits
    cen = shapely.centroid(polys)
    band = np.floor((ORIGIN[1] - shapely.get_y(cen)) / (size * CELL_DEG / max(1, round(np.sqrt(len(polys))))))
    order = np.lexsort((shapely.get_x(cen), band))
    polys = polys[order]
    codes = [f"{430100000000 + 1000 * (i + 1):012d}" for i in range(len(polys))]
    gdf = gpd.GeoDataFrame({"code": codes, "name": [f"区域 {i + 1}" for i in range(len(polys))]},
                           geometry=polys, crs="EPSG:4326")
    tmp = path.with_name(path.name + ".part.gpkg")
    tmp.unlink(missing_ok=True)
    gdf.to_file(tmp, driver="GPKG", engine="pyogrio", layer="regions")
    os.replace(tmp, path)


def _raster_ok(path: Path, size: int) -> bool:
    if not path.exists():
        return False
    try:
        import rasterio

        with rasterio.open(path) as src:
            return src.shape == (size, size) and src.dtypes[0] == "uint8"
    except Exception:  # noqa: BLE001 - unreadable cache: regenerate
        return False


def ensure_data(size: int, nregions: int, force: bool = False) -> tuple[Path, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    raster = DATA / f"landcover_{size}.tif"
    regions = DATA / f"regions_{size}_{nregions}.gpkg"
    if force or not _raster_ok(raster, size):
        print(f"generating {raster} ({size}×{size} cells, written in {TILE}-row strips) …", file=sys.stderr)
        t0 = time.perf_counter()
        make_raster(raster, size)
        print(f"  done in {time.perf_counter() - t0:.0f} s, {raster.stat().st_size / 2**20:.0f} MiB", file=sys.stderr)
    else:
        print(f"using cached {raster}", file=sys.stderr)
    if force or not regions.exists():
        print(f"generating {regions} ({nregions} Voronoi regions with wiggly shared borders) …", file=sys.stderr)
        t0 = time.perf_counter()
        make_regions(regions, size, nregions)
        print(f"  done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    else:
        print(f"using cached {regions}", file=sys.stderr)
    return raster, regions


# ---------------------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------------------

EXACTEXTRACT_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
import geopandas as gpd
import pandas as pd
from exactextract import exact_extract
raster, regions, out = sys.argv[1:4]
gdf = gpd.read_file(regions, engine="pyogrio")  # exactextract 0.3 without GDAL/fiona bindings takes a GeoDataFrame
t1 = time.perf_counter()
w = "coverage_weight=area_spherical_m2"
df = exact_extract(raster, gdf, [f"unique({w})", f"frac({w})", f"count({w})"], weights=None, output="pandas",
                   include_cols=["code"], strategy="feature-sequential")
t2 = time.perf_counter()
rows = []
for code, uniq, frac, count in zip(df["code"], df["unique"], df["frac"], df["count"]):
    for u, f in zip(list(uniq), list(frac)):
        rows.append((str(code), str(int(u)), float(f), float(count)))
pd.DataFrame(rows, columns=["code", "lc_code", "frac", "count"]).to_parquet(out, index=False)
print(json.dumps({"read_s": t1 - t0, "exact_extract_s": t2 - t1, "total_s": time.perf_counter() - t0}))
"""


def run_measured(cmd: list[str], log: Path, env: dict | None = None) -> dict:
    """Run ``cmd`` in a fresh process; wall time, CPU time and peak RSS of that process (os.wait4: CPU time
    includes the child processes it waited for; peak RSS is the largest single process's)."""
    with open(log, "w") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"cmd": cmd, "rc": proc.returncode, "wall_s": wall, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
            "cpu_s": ru.ru_utime + ru.ru_stime, "max_rss_mib": ru.ru_maxrss / 1024, "log": str(log)}


def gep_cmd(raster: Path, regions: Path, out: Path, workers: int | None, *, classes: bool = True) -> list[str]:
    """``gep crosstab``; without ``classes`` the way a user first types it (codes found in the raster)."""
    exe = shutil.which("gep", path=str(Path(sys.executable).parent)) or shutil.which("gep")
    base = [exe] if exe else [sys.executable, "-m", "gep.cli.main"]
    cmd = base + ["crosstab", str(raster), str(regions), "--id-field", "code", "--out", str(out)]
    if classes:
        cmd[-2:-2] = ["--classes", "clcd"]
    if workers:
        cmd += ["--workers", str(workers)]
    return cmd


# ---------------------------------------------------------------------------------------------------------
# accuracy
# ---------------------------------------------------------------------------------------------------------

def accuracy(regions_path: Path, gep_out: Path, ee_out: Path | None) -> dict:
    import geopandas as gpd
    import pandas as pd

    from gep.vector.geodesy import polygon_area_m2

    gdf = gpd.read_file(regions_path, engine="pyogrio")
    poly = pd.Series(polygon_area_m2(np.asarray(gdf.geometry.values), gdf.crs), index=gdf["code"].astype(str))
    tab = pd.read_parquet(gep_out)
    tab["region_id"] = tab["region_id"].astype(str)
    total = tab.groupby("region_id")["area_m2"].sum().reindex(poly.index).fillna(0.0)
    rel = (total - poly).abs() / poly * 100
    res: dict = {
        "regions": int(len(poly)),
        "gep_regions_missing": int((~poly.index.isin(tab["region_id"])).sum()),
        "total_vs_geodesic_max_rel_pct": float(rel.max()),
        "total_vs_geodesic_median_rel_pct": float(rel.median()),
        "total_vs_geodesic_worst_region": str(rel.idxmax()),
        "sum_all_regions_rel_pct": float((total.sum() - poly.sum()) / poly.sum() * 100),
    }
    if ee_out is not None and ee_out.exists():
        ee = pd.read_parquet(ee_out)
        valid = tab[~tab["lc_code"].isin(["nodata", "unknown"])].copy()
        valid["frac"] = valid["area_m2"] / valid.groupby("region_id")["area_m2"].transform("sum")
        g = valid.set_index(["region_id", "lc_code"])["frac"].rename("gep")
        e = ee.set_index(["code", "lc_code"])["frac"].rename("exactextract")
        e.index = e.index.set_names(["region_id", "lc_code"])
        both = pd.concat([g, e], axis=1).fillna(0.0)
        diff = (both["gep"] - both["exactextract"]).abs()
        res.update({
            "frac_max_abs_diff": float(diff.max()),
            "frac_median_abs_diff": float(diff.median()),
            "frac_pairs": int(len(both)),
            "frac_worst": list(map(str, diff.idxmax())),
        })
        # exactextract's coverage × spherical-area "count" (valid cells only) vs gep's valid area
        cnt = ee.groupby("code")["count"].first()
        gvalid = valid.groupby("region_id")["area_m2"].sum().reindex(cnt.index)
        res["ee_spherical_vs_gep_valid_area_median_rel_pct"] = float(((cnt - gvalid) / gvalid * 100).median())
    return res


# ---------------------------------------------------------------------------------------------------------

def versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("gep", "numpy", "dask", "rasterio", "shapely", "pyproj", "exactextract"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=20000, help="raster side in cells (default 20000)")
    ap.add_argument("--regions", type=int, default=300, help="number of regions (default 300)")
    ap.add_argument("--skip-exactextract", action="store_true", help="time gep only")
    ap.add_argument("--gep-workers", type=int, default=2,
                    help="gep --workers (threads scheduler; default 2; 0 = gep's default, all cores)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each tool, alternating; the best is reported")
    ap.add_argument("--regenerate", action="store_true", help="regenerate the cached data")
    ap.add_argument("--without-classes", action="store_true",
                    help="also time gep crosstab without --classes (codes found in the raster)")
    ap.add_argument("--json", type=Path, default=OUT / "bench_crosstab.json", help="result file")
    args = ap.parse_args(argv)
    if args.size < TILE or args.regions < 2:
        ap.error("--size must be ≥ 512 and --regions ≥ 2")

    raster, regions = ensure_data(args.size, args.regions, args.regenerate)
    OUT.mkdir(parents=True, exist_ok=True)
    gep_out = OUT / "gep.parquet"
    ee_out = OUT / "exactextract.parquet"

    do_ee = not args.skip_exactextract
    if do_ee:
        try:
            import exactextract  # noqa: F401
        except ImportError:
            print("exactextract is not installed (pip install '.[bench]'); timing gep only", file=sys.stderr)
            do_ee = False

    load_before = os.getloadavg()
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        print(f"note: load average is {load_before[0]:.1f} on {os.cpu_count()} CPUs; other work competes for the "
              f"CPU, so compare the ratios (and CPU seconds) rather than absolute wall times", file=sys.stderr)
    tools = {"gep": gep_cmd(raster, regions, gep_out, args.gep_workers)}
    if args.without_classes:
        tools["gep_no_classes"] = gep_cmd(raster, regions, OUT / "gep_no_classes.parquet", args.gep_workers,
                                          classes=False)
    if do_ee:
        tools["exactextract"] = [sys.executable, "-c", EXACTEXTRACT_SCRIPT, str(raster), str(regions), str(ee_out)]
    runs: dict[str, list[dict]] = {name: [] for name in tools}
    for k in range(args.repeat):
        names = list(tools) if k % 2 == 0 else list(tools)[::-1]  # alternate the order between repeats
        for name in names:
            print(f"run {k + 1}/{args.repeat}: {name} …", file=sys.stderr, flush=True)
            r = run_measured(tools[name], OUT / f"{name}.log")
            r["loadavg_after"] = os.getloadavg()[0]
            print(f"  {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, {r['max_rss_mib']:.0f} MiB peak RSS",
                  file=sys.stderr)
            if r["rc"] != 0:
                print(f"{name} failed (exit {r['rc']}); command: {' '.join(tools[name][:2])} …; last lines of "
                      f"{r['log']}:\n" + Path(r["log"]).read_text()[-3000:], file=sys.stderr)
                return 1
            if name == "exactextract":
                try:
                    r["inner"] = json.loads(Path(r["log"]).read_text().strip().splitlines()[-1])
                except (ValueError, IndexError):
                    r["inner"] = None
            runs[name].append(r)
    load_after = os.getloadavg()

    print("accuracy …", file=sys.stderr, flush=True)
    acc = accuracy(regions, gep_out, ee_out if do_ee else None)

    best = {name: min(rs, key=lambda r: r["wall_s"]) for name, rs in runs.items() if rs}
    for r in runs.get("exactextract", []):
        r["cmd"] = r["cmd"][:2] + ["<EXACTEXTRACT_SCRIPT>"] + r["cmd"][3:]
    import geopandas as gpd
    import shapely

    gdf = gpd.read_file(regions, engine="pyogrio")
    result = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": load_after},
        "versions": versions(),
        "data": {"raster": str(raster), "size": args.size, "cells": args.size ** 2, "cell_deg": CELL_DEG,
                 "regions_file": str(regions), "regions": int(len(gdf)),
                 "region_vertices": int(shapely.get_num_coordinates(np.asarray(gdf.geometry.values)).sum())},
        "gep_workers": args.gep_workers or os.cpu_count(),
        "exactextract_script": EXACTEXTRACT_SCRIPT if do_ee else None,
        "repeat": args.repeat,
        "best": best,
        "all_runs": runs,
        "accuracy": acc,
    }
    if "exactextract" in best:
        result["ratio_wall_exactextract_over_gep"] = best["exactextract"]["wall_s"] / best["gep"]["wall_s"]
        result["ratio_cpu_exactextract_over_gep"] = best["exactextract"]["cpu_s"] / best["gep"]["cpu_s"]
        # per repeat (the two runs of one repeat are back to back, so they saw similar load)
        result["ratio_wall_per_repeat"] = [e["wall_s"] / g["wall_s"] for g, e in zip(runs["gep"], runs["exactextract"])]
    if "gep_no_classes" in runs:
        # same repeat, back to back: the cost of finding the codes, and the speed-up over exactextract without
        # --classes (the median of the repeats: the issue's figure)
        per = [n["wall_s"] / g["wall_s"] for g, n in zip(runs["gep"], runs["gep_no_classes"])]
        result["ratio_wall_no_classes_over_classes_per_repeat"] = per
        result["ratio_wall_no_classes_over_classes_median"] = float(np.median(per))
        if "exactextract" in runs:
            ee = [e["wall_s"] / n["wall_s"] for n, e in zip(runs["gep_no_classes"], runs["exactextract"])]
            result["ratio_wall_exactextract_over_gep_no_classes_median"] = float(np.median(ee))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    d = result["data"]
    print(f"\ngep crosstab vs exactextract — {d['size']}×{d['size']} cells ({d['cells'] / 1e6:.0f} M), "
          f"{d['regions']} regions, {d['region_vertices']:,} vertices, {os.cpu_count()} CPUs, "
          f"load {load_before[0]:.1f}→{load_after[0]:.1f}")
    print(f"{'tool':<14}{'wall s':>9}{'CPU s':>9}{'peak RSS MiB':>14}")
    for name, r in best.items():
        print(f"{name:<14}{r['wall_s']:>9.1f}{r['cpu_s']:>9.1f}{r['max_rss_mib']:>14.0f}")
    inner = best.get("exactextract", {}).get("inner")
    if inner:
        print(f"  (exactextract: {inner['exact_extract_s']:.1f} s inside exact_extract(), the rest is start-up, "
              f"reading the regions and writing its table)")
    if "exactextract" in best:
        per = ", ".join(f"{x:.2f}" for x in result["ratio_wall_per_repeat"])
        print(f"ratio exactextract/gep: wall {result['ratio_wall_exactextract_over_gep']:.2f}× (best of each; per "
              f"repeat {per}), CPU {result['ratio_cpu_exactextract_over_gep']:.2f}×")
    if "ratio_wall_no_classes_over_classes_median" in result:
        line = (f"gep without/with --classes: wall {result['ratio_wall_no_classes_over_classes_median']:.2f}× "
                f"(median of {args.repeat} repeats)")
        if "ratio_wall_exactextract_over_gep_no_classes_median" in result:
            line += (f"; exactextract/gep without --classes: "
                     f"{result['ratio_wall_exactextract_over_gep_no_classes_median']:.2f}×")
        print(line)
    print(f"gep total vs geodesic polygon area: max {acc['total_vs_geodesic_max_rel_pct']:.2e} %, "
          f"median {acc['total_vs_geodesic_median_rel_pct']:.2e} %")
    if "frac_max_abs_diff" in acc:
        print(f"class fractions gep vs exactextract: max |Δ| {acc['frac_max_abs_diff']:.2e}, "
              f"median {acc['frac_median_abs_diff']:.2e} ({acc['frac_pairs']} region×class pairs)")
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
