"""Throughput of ``gep.indicators.protected.areas.protected_area`` (indicator 9): many small polygons over many regions.

Builds a grid of region cells in EPSG:4490 (default 20 × 15 = 300 cells of 0.5°) and N random polygons
(default 100,000), then prints the wall time of ``protected_area`` and the peak RSS of the process.

Modes:
- ``random``: irregular discs (radius 0.003–0.015°, about 33 vertices) at random places; they overlap
  each other and cross region borders, so the dissolve and the border overlay both work.
- ``tiles``: a tessellation of adjacent squares (shared edges, no overlaps), as red-line layers digitised
  from land parcels often are; checks that touching polygons do not merge into one huge polygon.

Run by hand (not part of the test suite)::

    python benchmarks/bench_protected.py [--n 100000] [--mode random|tiles] [--types]
    python benchmarks/bench_protected.py --n 400 --nx 3 --ny 2 --size 0.1   # tiny (the tests)
"""

from __future__ import annotations

import argparse
import resource
import time

import geopandas as gpd
import numpy as np
import shapely

from gep.indicators.protected.areas import OUTSIDE, protected_area


def make_regions(nx: int, ny: int, size: float, lon0: float = 100.0, lat0: float = 25.0) -> gpd.GeoDataFrame:
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
    ix, iy = ix.ravel(), iy.ravel()
    # Densified borders (every 0.001°) so regions have realistic vertex counts (≈ 2000 per region).
    geoms = shapely.segmentize(shapely.box(lon0 + ix * size, lat0 + iy * size,
                                           lon0 + (ix + 1) * size, lat0 + (iy + 1) * size), 0.001)
    codes = [f"{i:06d}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"region_code": codes, "region_name": codes}, geometry=geoms, crs=4490)


def make_layer(n: int, mode: str, bounds: tuple[float, float, float, float], seed: int, types: bool):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    if mode == "random":
        # a 5 % margin outside the regions exercises the "__outside__" row
        mx, my = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
        x = rng.uniform(x0 - mx, x1 + mx, n)
        y = rng.uniform(y0 - my, y1 + my, n)
        r = rng.uniform(0.003, 0.015, n)
        geoms = shapely.buffer(shapely.points(x, y), r, quad_segs=8)
    elif mode == "tiles":
        side = int(np.ceil(np.sqrt(n)))
        step = min(x1 - x0, y1 - y0) / side
        ix, iy = np.divmod(np.arange(n), side)
        geoms = shapely.box(x0 + ix * step, y0 + iy * step, x0 + (ix + 1) * step, y0 + (iy + 1) * step)
    else:
        raise SystemExit(f"unknown mode {mode}")
    cols = {}
    if types:
        cols["type"] = rng.choice(["国家公园", "自然保护区", "自然公园"], n)
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=4490)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="number of polygons")
    ap.add_argument("--nx", type=int, default=20)
    ap.add_argument("--ny", type=int, default=15)
    ap.add_argument("--size", type=float, default=0.5, help="region cell size (degrees)")
    ap.add_argument("--mode", default="random", choices=["random", "tiles"])
    ap.add_argument("--types", action="store_true", help="add a type column (three types, all + per type)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    regions = make_regions(args.nx, args.ny, args.size)
    bounds = tuple(regions.total_bounds)
    layer = make_layer(args.n, args.mode, bounds, args.seed, args.types)
    nverts = int(shapely.get_num_coordinates(np.asarray(layer.geometry.array)).sum())
    print(f"{len(regions)} regions, {len(layer)} polygons ({nverts} vertices), mode={args.mode}, "
          f"types={args.types}")

    t0, c0 = time.perf_counter(), time.process_time()
    df = protected_area(regions, layer, layer_name="redline", year=2020)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    all_ = df[df["type"] == "all"]
    inside = all_.loc[all_.region_code != OUTSIDE, "area_km2"].sum()
    outside = all_.loc[all_.region_code == OUTSIDE, "area_km2"].sum()
    # CPU time is what to compare on a shared machine: wall time there includes waiting for a core.
    print(f"protected_area: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak_mib:.0f} MiB; "
          f"inside {inside:.1f} km², outside {outside:.1f} km², {len(df)} rows")


if __name__ == "__main__":
    main()
