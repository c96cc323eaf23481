#!/usr/bin/env python3
"""Benchmark the Tier-2 GEP services (gep.indicators.gep) chunked on a large synthetic land-cover grid.

What it does (not a test; run by hand):

1. reuses (or generates, through ``bench_crosstab.ensure_data``) a SIZE × SIZE uint8 CLCD-like land cover
   (EPSG:4326, 0.00027° ≈ 30 m cells, 512-cell tiles) and ~300 regions that tile it;
2. generates, once, synthetic inputs on *other* grids: precipitation, ET and NPP on a 0.01° lon/lat grid,
   rainfall erosivity R on a 1 km Albers equal-area grid (a different CRS, so the lazy WarpedVRT path really
   reprojects), soil erodibility K on a 0.0083° grid, and a DEM at 3× the land-cover cell size (≈ 90 m; a
   SIZE/3 × SIZE/3 grid, 6,667² cells at the default size) or, with ``--dem-cells N``, an N × N DEM over the
   same extent;
3. runs each stage in a fresh subprocess and reports wall time, CPU time and peak RSS (``os.wait4``):
   ``ls`` (D8 flow accumulation + LS, tile by tile with ``--ls-tile`` cells a side on ``--ls-workers``
   threads: memory bounded by the tile and the workers, not the DEM), then ``water_conservation``,
   ``soil_retention``, ``carbon_sequestration`` (O₂ follows from it), ``climate_regulation``: each reads the
   land cover lazily, resamples its inputs block by block onto the land-cover grid, computes the per-cell
   density (the service's registry formulas, :mod:`gep.indicators.gep.services`) and sums it per region with
   ``gep.raster.zonal.zonal_sums`` (as ``run_gep`` does, through its :class:`~gep.indicators.gep.run.YearJob`);
   with ``--cog`` it also writes the service COG first (and sums the written file, as ``run_gep`` does).

Results are printed and written to benchmarks/out/bench_services.json. Examples::

    python benchmarks/bench_services.py                      # 20,000² land cover, 300 regions
    python benchmarks/bench_services.py --size 4000 --regions 60 --cog
    python benchmarks/bench_services.py --only ls water_conservation
    python benchmarks/bench_services.py --only ls --dem-cells 20000   # a 20,000² DEM (400 M cells)
    python benchmarks/bench_services.py --only ls --ls-workers 1      # LS tiles on one thread
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
OUT = HERE / "out"
STAGES = ("ls", "water_conservation", "soil_retention", "carbon_sequestration", "climate_regulation")
ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"


# ---------------------------------------------------------------------------------------------------------
# synthetic inputs


def _write(path: Path, arr: np.ndarray, transform, crs, nodata=-9999.0) -> None:
    import rasterio

    with rasterio.open(path, "w", driver="GTiff", height=arr.shape[0], width=arr.shape[1], count=1,
                       dtype=arr.dtype.name, crs=crs, transform=transform, nodata=nodata, tiled=True,
                       blockxsize=256, blockysize=256, compress="deflate", BIGTIFF="IF_SAFER") as dst:
        dst.write(arr, 1)


def input_paths(size: int) -> dict:
    """Cached input files for a land cover of ``size`` cells (the DEM file name carries its generator version)."""
    paths = {k: DATA / f"svc_{k}_{size}.tif" for k in ("precip", "et", "npp", "erosivity", "erodibility")}
    paths["dem"] = DATA / f"svc_dem_v2_{size}.tif"
    return paths


def ensure_inputs(lc_path: Path, size: int) -> dict:
    """Climate, soil and DEM rasters over the land cover's extent (cached in benchmarks/data/)."""
    import rasterio
    from affine import Affine
    from pyproj import Transformer
    from scipy import ndimage

    with rasterio.open(lc_path) as src:
        left, bottom, right, top = src.bounds
        res = src.res[0]
    paths = input_paths(size)
    if all(p.exists() for p in paths.values()):
        return paths
    rng = np.random.default_rng(7)
    # 0.01° lon/lat grid with a margin of 2 cells
    c = 0.01
    w = int(np.ceil((right - left) / c)) + 4
    h = int(np.ceil((top - bottom) / c)) + 4
    t = Affine(c, 0, left - 2 * c, 0, -c, top + 2 * c)
    smooth = ndimage.gaussian_filter(rng.normal(size=(h, w)), 6)
    smooth /= smooth.std()
    _write(paths["precip"], (1400 + 150 * smooth).astype(np.float32), t, "EPSG:4326")
    _write(paths["et"], (750 + 60 * smooth + 20 * rng.normal(size=(h, w))).astype(np.float32), t, "EPSG:4326")
    _write(paths["npp"], np.clip(600 + 120 * smooth, 100, None).astype(np.float32), t, "EPSG:4326")
    # R on a 1 km Albers grid (another CRS)
    tr = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    xs, ys = tr.transform([left, right, left, right], [bottom, bottom, top, top])
    x0, x1, y0, y1 = min(xs) - 5000, max(xs) + 5000, min(ys) - 5000, max(ys) + 5000
    nx, ny = int((x1 - x0) / 1000) + 1, int((y1 - y0) / 1000) + 1
    r = ndimage.gaussian_filter(rng.normal(size=(ny, nx)), 5)
    _write(paths["erosivity"], (4000 + 800 * r / r.std()).astype(np.float32), Affine(1000, 0, x0, 0, -1000, y1),
           ALBERS)
    kc = 0.0083
    kw, kh = int(np.ceil((right - left) / kc)) + 4, int(np.ceil((top - bottom) / kc)) + 4
    k = ndimage.gaussian_filter(rng.normal(size=(kh, kw)), 3)
    _write(paths["erodibility"], np.clip(0.03 + 0.008 * k / k.std(), 0.005, None).astype(np.float32),
           Affine(kc, 0, left - 2 * kc, 0, -kc, top + 2 * kc), "EPSG:4326")
    # DEM at 3× the land-cover cell size
    dn = int(np.ceil(size / 3))
    write_dem(paths["dem"], dn, left, top, 3 * res, rng)
    return paths


def write_dem(path: Path, dn: int, left: float, top: float, dres: float, rng, scale: float = 1.0) -> None:
    """A dn × dn synthetic DEM (EPSG:4326, ``dres``° cells), written in 512-row strips.

    ``scale``: cells of this DEM per cell of the default (≈ 90 m) one; the landscape is the same (regional
    slope and hill spacing in metres), only sampled finer.
    """
    import rasterio as rio
    from affine import Affine
    from rasterio.windows import Window
    from scipy import ndimage

    spacing = 200 * scale
    hills_lat = rng.normal(size=(int(dn / spacing) + 3, int(dn / spacing) + 3))
    profile = {"driver": "GTiff", "height": dn, "width": dn, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
               "transform": Affine(dres, 0, left, 0, -dres, top), "nodata": -9999.0, "tiled": True,
               "blockxsize": 512, "blockysize": 512, "compress": "deflate", "BIGTIFF": "IF_SAFER"}
    with rio.open(path, "w", **profile) as dst:
        for r0 in range(0, dn, 512):
            r1 = min(dn, r0 + 512)
            yy, xx = np.mgrid[r0:r1, 0:dn].astype(np.float64)
            hills = ndimage.map_coordinates(hills_lat, [yy / spacing, xx / spacing], order=3, mode="nearest")
            # ~1 % regional slope (at 90 m cells), hills of ±150 m every 200 cells and 5 cm noise: long flow
            # paths with some closed depressions, i.e. an unfilled but realistic DEM
            z = 3000 - (1.0 * xx + 0.6 * yy) / scale + 150 * hills + 0.05 * rng.normal(size=yy.shape)
            dst.write(z.astype(np.float32), 1, window=Window(0, r0, dn, r1 - r0))


def dem_path(size: int, dem_cells: int | None) -> Path:
    """The DEM the ``ls`` stage reads: the default one of :func:`input_paths`, or an N × N one."""
    return input_paths(size)["dem"] if not dem_cells else DATA / f"svc_dem_v3_{size}_n{dem_cells}.tif"


def ensure_dem(lc_path: Path, size: int, dem_cells: int) -> Path:
    """An N × N DEM over the land cover's extent (cached in benchmarks/data/)."""
    import rasterio

    path = dem_path(size, dem_cells)
    if not path.exists():
        with rasterio.open(lc_path) as src:
            left, _bottom, right, top = src.bounds
        tmp = path.with_suffix(".part.tif")
        write_dem(tmp, dem_cells, left, top, (right - left) / dem_cells, np.random.default_rng(11),
                  scale=dem_cells / np.ceil(size / 3))
        tmp.replace(path)
    return path


# ---------------------------------------------------------------------------------------------------------
# one stage, in a child process


def run_stage(stage: str, lc_path: Path, regions_path: Path, inputs: dict, chunk: int, cog: bool,
              ls_tile: int = 2048, ls_workers: int | None = None) -> dict:
    """One stage as ``run_gep`` runs it: the registry service's density on the land-cover grid (inputs
    resampled block by block), with ``cog`` written as the service raster and read back, summed per region."""
    import dask
    import geopandas as gpd

    from gep.config.gep import load_gep_config
    from gep.hydrology.ls_factor import compute_ls
    from gep.indicators.gep.run import Selection, YearJob, sum_year

    t0 = time.perf_counter()
    ls_path = DATA / f"svc_ls_v2_{lc_path.stem}.tif"
    if stage == "ls":
        summary = compute_ls(inputs["dem"], inputs.get("ls_out", ls_path), tile=ls_tile, workers=ls_workers)
        return {"stage": stage, "seconds": time.perf_counter() - t0, "ls_workers": ls_workers, **summary}
    if not ls_path.exists() and stage == "soil_retention":
        compute_ls(inputs["dem"], ls_path, tile=ls_tile, workers=ls_workers)
    dask.config.set(scheduler="threads")
    cfg = load_gep_config({
        "services": [stage], "chunk": chunk, "ls": {"path": str(ls_path)},
        "rasters": {"precipitation": str(inputs["precip"]), "et": str(inputs["et"]), "npp": str(inputs["npp"]),
                    "erosivity": str(inputs["erosivity"]), "erodibility": str(inputs["erodibility"])}})
    sel = Selection.of(cfg)
    params = sel.params(cfg, list(range(1, 10)))
    job = YearJob.open(cfg, 2020, sel, params, landcover_path=lc_path, landcover_nodata=None,
                       ls_path=ls_path if stage == "soil_retention" else None, raster_dir=OUT,
                       mode="write" if cog else "memory")
    regions = gpd.read_file(regions_path, engine="pyogrio").rename(columns={"code": "region_code"})
    t_prep = time.perf_counter() - t0
    t1 = time.perf_counter()
    table = sum_year(job, {"": regions})[""]
    t_sum = time.perf_counter() - t1
    spec = sel.services[0].spec
    g, ch = job.grid, job.lc.data.chunks
    return {"stage": stage, "seconds": time.perf_counter() - t0, "prepare_s": t_prep,
            "cog_s": None, "compute_and_zonal_s": t_sum,  # with --cog the COG is written within this
            "quantity_total": float(np.nansum(table["sum"])) * spec.to_quantity, "unit": spec.quantity_unit,
            "valid_km2": float(table["covered_m2"].sum() / 1e6), "regions": len(regions),
            "cells": int(g.shape[0] * g.shape[1]), "chunk": [int(ch[0][0]), int(ch[1][0])]}


def run_measured(cmd: list[str], log: Path) -> dict:
    """Run ``cmd`` in a fresh process (output to files, so no pipe can fill up); time, CPU and peak RSS."""
    out_path = log.with_suffix(".out")
    with open(out_path, "w") as fo, open(log, "w") as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    res = {"rc": rc, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "max_rss_mib": ru.ru_maxrss / 1024}
    stdout = out_path.read_text()
    if rc == 0 and stdout.strip():
        res.update(json.loads(stdout.strip().splitlines()[-1]))
    else:
        res["stderr"] = log.read_text()[-2000:]
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=20000, help="land-cover side in cells (default 20000)")
    ap.add_argument("--regions", type=int, default=300, help="number of regions (default 300)")
    ap.add_argument("--chunk", type=int, default=2048, help="dask block side (default 2048)")
    ap.add_argument("--cog", action="store_true", help="also write each service's COG (as run_gep does)")
    ap.add_argument("--only", nargs="+", choices=STAGES, help="run only these stages")
    ap.add_argument("--dem-cells", type=int, help="ls stage: use an N × N DEM over the same extent (generated once)")
    ap.add_argument("--ls-tile", type=int, default=2048, help="ls stage: tile side in cells (default 2048)")
    ap.add_argument("--ls-workers", type=int, help="ls stage: threads computing tiles (default: GEP_THREADS, else "
                    "the number of CPUs)")
    ap.add_argument("--stage", help=argparse.SUPPRESS)  # child mode
    ap.add_argument("--lc", help=argparse.SUPPRESS)
    ap.add_argument("--regions-path", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.stage:
        inputs = input_paths(args.size)
        if args.dem_cells:  # another DEM: its LS goes to benchmarks/out, not to the cached LS of the size
            inputs["dem"] = dem_path(args.size, args.dem_cells)
            inputs["ls_out"] = OUT / f"ls_{inputs['dem'].stem}.tif"
        res = run_stage(args.stage, Path(args.lc), Path(args.regions_path), inputs, args.chunk, args.cog,
                        args.ls_tile, args.ls_workers)
        print(json.dumps(res))
        return 0
    sys.path.insert(0, str(HERE))
    from bench_crosstab import ensure_data

    OUT.mkdir(parents=True, exist_ok=True)
    lc_path, regions_path = ensure_data(args.size, args.regions)
    t0 = time.perf_counter()
    ensure_inputs(lc_path, args.size)
    if args.dem_cells:
        ensure_dem(lc_path, args.size, args.dem_cells)
    print(f"inputs ready ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    results = []
    for stage in args.only or STAGES:
        cmd = [sys.executable, __file__, "--stage", stage, "--lc", str(lc_path), "--regions-path", str(regions_path),
               "--size", str(args.size), "--chunk", str(args.chunk), "--ls-tile", str(args.ls_tile)] \
            + (["--cog"] if args.cog else []) + (["--dem-cells", str(args.dem_cells)] if args.dem_cells else []) \
            + (["--ls-workers", str(args.ls_workers)] if args.ls_workers else [])
        load = os.getloadavg()
        res = run_measured(cmd, OUT / f"bench_services_{stage}.log")
        res["stage"] = stage
        res["load_before"] = load
        res["load_after"] = os.getloadavg()
        print(f"{stage}: load average (1, 5, 15 min) before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after "
              f"{res['load_after'][0]:.2f} {res['load_after'][1]:.2f} {res['load_after'][2]:.2f}")
        results.append(res)
        extra = (f"cog {res['cog_s']:.0f} s, " if res.get("cog_s") else "")
        if res["rc"] == 0:
            print(f"{stage:22s} wall {res['wall_s']:7.1f} s  cpu {res['cpu_s']:7.1f} s  peak RSS "
                  f"{res['max_rss_mib']:7.0f} MiB  {extra}"
                  + (f"total {res['quantity_total']:.4g} {res['unit']}" if "quantity_total" in res else
                     f"DEM {res.get('cells')} cells (tile {res.get('tile')}, workers {res.get('ls_workers')}), "
                     f"mean LS "
                     f"{res.get('ls_mean', float('nan')):.3f}, largest contributing area "
                     f"{res.get('max_contributing_km2', float('nan')):.0f} km²"))
        else:
            print(f"{stage}: failed (rc {res['rc']}): {res.get('stderr')}")
    report = {"size": args.size, "regions": args.regions, "chunk": args.chunk, "cog": args.cog,
              "dem_cells": args.dem_cells, "ls_tile": args.ls_tile, "ls_workers": args.ls_workers,
              "cpus": os.cpu_count(), "python": platform.python_version(), "results": results}
    (OUT / "bench_services.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    return 0 if all(r["rc"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
