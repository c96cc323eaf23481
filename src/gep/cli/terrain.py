"""``gep terrain``: terrain-class raster (relief classes 1–6, 0 = no DEM) on the land-cover grid, as a COG."""

from __future__ import annotations

import argparse
import time

from gep.core.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "terrain",
        help="relief classes from a DEM, on the land-cover grid (Cloud-Optimized GeoTIFF)",
        description=(
            "Compute relief (max - min elevation in a square window given in metres) at the DEM's own "
            "resolution, classify it (1 平原 <30 m, 2 丘陵 30-200, 3 小起伏山地 200-500, 4 中起伏山地 500-1000, "
            "5 大起伏山地 1000-2500, 6 极大起伏山地 >=2500; 0 = no DEM) and write the classes on the land-cover "
            "grid (nearest neighbour) as a COG. See docs/methods.md §2."
        ),
    )
    p.add_argument("dem", metavar="DEM", help="DEM raster (any CRS and resolution; metres of elevation)")
    p.add_argument("--like", required=True, metavar="LANDCOVER.tif", help="land-cover raster whose grid to use")
    p.add_argument("--out", required=True, metavar="TERRAIN.tif", help="output terrain-class COG")
    p.add_argument("--window-m", type=float, default=None, metavar="M",
                   help="side of the relief window in metres (default 4583 ≈ √21 km²)")
    p.add_argument("--config", default=None, metavar="YAML", help="terrain settings (gep.indicators.coverage.terrain.TerrainConfig)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gep.indicators.coverage.terrain import TERRAIN_BAND_BLOCKS, TERRAIN_CLASSES, load_terrain_config, terrain_on_grid, write_cog

    if args.window_m is not None and not args.window_m > 0:
        raise InputError(f"--window-m {args.window_m:g}: must be a positive number of metres")
    cfg = load_terrain_config(args.config, window_m=args.window_m)
    t0 = time.perf_counter()
    classes = terrain_on_grid(args.dem, args.like, cfg)
    write_cog(classes, args.out, TERRAIN_CLASSES, band_blocks=TERRAIN_BAND_BLOCKS)
    print(f"gep terrain: wrote {args.out} ({classes.shape[0]}×{classes.shape[1]} cells, "
          f"window {cfg.window_m:g} m) in {time.perf_counter() - t0:.1f} s")
    return 0
