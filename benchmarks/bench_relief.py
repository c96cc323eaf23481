"""Benchmark (not a test): relief and terrain classes on a large float32 DEM GeoTIFF.

    python benchmarks/bench_relief.py [--size 20000] [--window-m 4500] [--chunk 1024] [--mode hist|cog|grid]
    python benchmarks/bench_relief.py --size 600 --window-m 900 --chunk 256   # tiny (the tests)

Generates ``benchmarks/data/dem_SIZE.tif`` once (git-ignored; 30 m UTM cells, tiled 512, DEFLATE with the
floating-point predictor), in a child process and in bands of 512 rows so the full array is never held.
Then, in this process, computes relief (window ``--window-m``, 4,500 m = 151 cells by default) and the
terrain classes lazily with Dask and, by ``--mode``: ``hist`` reduces them to a class histogram (relief cost
alone); ``cog`` writes the class COG at the DEM's resolution to ``benchmarks/out/``; ``grid`` does what
``gep terrain DEM --like DEM`` does (nearest-neighbour regrid onto a grid, here the DEM's own, then the COG).
Prints wall time and peak RSS (resource.getrusage, this process only). GDAL's block cache (GDAL_CACHEMAX,
by default 5 % of physical RAM) counts in the RSS: set it to compare runs across machines.
"""

from __future__ import annotations

import argparse
import os
import resource
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
RES = 30.0
ORIGIN = (300000.0, 3500000.0)  # UTM 49N


def surface(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Analytic terrain (m): broad ranges + ridges + a plain, float32; deterministic in (row, col)."""
    y = rows[:, None].astype(np.float64) * RES
    x = cols[None, :].astype(np.float64) * RES
    z = (800.0 * (1 + np.sin(x / 47000.0) * np.cos(y / 61000.0))
         + 900.0 * np.sin(x / 5300.0 + y / 7100.0) ** 2
         + 40.0 * np.sin(x / 900.0) * np.sin(y / 1300.0))
    z *= np.clip((x - 60000.0) / 80000.0, 0.02, 1.0)  # a plain on the west side
    return z.astype(np.float32)


def generate(path: Path, size: int) -> None:
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.tif")
    profile = dict(driver="GTiff", height=size, width=size, count=1, dtype="float32", crs="EPSG:32649",
                   transform=Affine(RES, 0, ORIGIN[0], 0, -RES, ORIGIN[1]), nodata=-9999.0, tiled=True,
                   blockxsize=512, blockysize=512, compress="deflate", predictor=3, zlevel=1, BIGTIFF="YES",
                   num_threads="ALL_CPUS")
    cols = np.arange(size)
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, size, 512):
            rows = np.arange(r0, min(size, r0 + 512))
            band = surface(rows, cols)
            if r0 == 0:
                band[:40, :40] = -9999.0  # a little nodata
            dst.write(band, 1, window=Window(0, r0, size, len(rows)))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=20000)
    ap.add_argument("--window-m", type=float, default=4500.0)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--mode", choices=("hist", "cog", "grid"), default="hist")
    ap.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    path = DATA / f"dem_{args.size}.tif"
    if args.generate:
        generate(path, args.size)
        return 0
    if not path.exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate", "--size", str(args.size)], check=True)
        print(f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")

    import dask
    import dask.array as da

    from gep.indicators.coverage.terrain import TerrainConfig, classify_relief, open_dem, relief, terrain_on_grid, window_cells, write_cog

    dask.config.set(scheduler="threads", num_workers=args.workers)
    dem = open_dem(path, chunk=args.chunk)
    ny, nx = window_cells(dem, args.window_m)
    t0 = time.perf_counter()
    classes = classify_relief(relief(dem, args.window_m))
    if args.mode == "grid":
        classes = terrain_on_grid(path, path, TerrainConfig(window_m=args.window_m, chunk=args.chunk))
    if args.mode in ("cog", "grid"):
        out = OUT / f"terrain_{args.size}_{args.mode}.tif"
        out.parent.mkdir(parents=True, exist_ok=True)
        write_cog(classes, out)
        what = f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)"
    else:
        counts = da.bincount(classes.data.ravel(), minlength=7).compute()
        what = "class cells " + ", ".join(f"{k}:{int(v)}" for k, v in enumerate(counts))
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    cells = args.size * args.size
    print(f"[{args.mode}] relief+classes {args.size}×{args.size} float32, "
          f"window {args.window_m:g} m = {ny}×{nx} cells, "
          f"chunk {args.chunk}, {args.workers} threads: {wall:.1f} s wall ({cells / wall / 1e6:.1f} Mcells/s), "
          f"peak RSS {peak_mb:.0f} MiB (full array would be {cells * 4 / 2**20:.0f} MiB; "
          f"GDAL_CACHEMAX={os.environ.get('GDAL_CACHEMAX', 'default')}, load avg {os.getloadavg()[0]:.1f})")
    print(what)
    return 0


if __name__ == "__main__":
    sys.exit(main())
