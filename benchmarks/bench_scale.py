"""Scaling benchmark: peak memory and throughput of `gep crosstab` against raster size and worker count.

Sizes (cells per side): 5,000 and 20,000 as single GeoTIFFs; larger multiples of 20,000 (40,000, 80,000) as a
VRT mosaic of 20,000² tiles, k × k of them (the way national products are distributed; 80,000² is 6.4 × 10⁹
cells, two thirds of a national 30 m raster). Regions: 300 per raster extent, generated like bench_crosstab.
For each size: wall time, CPU time, throughput (cells/s) and peak RSS of `gep crosstab` in a fresh process
(medians of ``--repeat`` runs, default 3); at 20,000² and above also 1, 2 (``--workers``: any list, e.g. 1 2 4 8 16)
workers (parallel efficiency).
exactextract runs once per size (about a minute at 40,000²) for the throughput ratio. The marginal throughput
between sizes (extra cells / extra time) leaves out each tool's fixed start-up.

    python benchmarks/bench_scale.py [--sizes 5000 20000 40000] [--repeat 3] [--workers 1 2] [--skip-exactextract]
    python benchmarks/bench_scale.py --sizes 512 1024 --tile 512 --regions 4 --repeat 1   # tiny (the tests)

Targets (issue 'Scale'): peak RSS grows < 20% from the smallest to the largest size; ≥ 70% parallel efficiency.
Machines here are noisy: the script prints the load average; compare ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_crosstab as bc  # noqa: E402  (shared data generators and the measured-subprocess runner)

DATA = bc.DATA  # data/ and out/ under $GEP_BENCH_DIR, else under benchmarks/
OUT = bc.OUT
TILE = 20000  # sizes above this are VRT mosaics of TILE² GeoTIFFs (--tile)
NREGIONS = 300


def mosaic(tile: Path, size: int, out: Path, k: int = 2) -> Path:
    """A VRT placing ``tile`` (size² cells) k × k times: a (k·size)² raster with the tile's georeferencing
    extended east and south."""
    import rasterio

    with rasterio.open(tile) as src:
        t = src.transform
        bx, by = src.block_shapes[0][1], src.block_shapes[0][0]
    sources = []
    for i in range(k):
        for j in range(k):
            sources.append(f"""    <SimpleSource>
      <SourceFilename relativeToVRT="0">{tile}</SourceFilename>
      <SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="{size}" ySize="{size}"/>
      <DstRect xOff="{j * size}" yOff="{i * size}" xSize="{size}" ySize="{size}"/>
    </SimpleSource>""")
    xml = f"""<VRTDataset rasterXSize="{k * size}" rasterYSize="{k * size}">
  <SRS>EPSG:4326</SRS>
  <GeoTransform>{t.c}, {t.a}, 0, {t.f}, 0, {t.e}</GeoTransform>
  <VRTRasterBand dataType="Byte" band="1" blockXSize="{bx}" blockYSize="{by}">
    <NoDataValue>0</NoDataValue>
{chr(10).join(sources)}
  </VRTRasterBand>
</VRTDataset>
"""
    out.write_text(xml, encoding="utf-8")
    return out


def regions_for(size: int, nregions: int) -> Path:
    path = DATA / f"regions_{size}_{nregions}.gpkg"
    if not path.exists():
        bc.make_regions(path, size, nregions)
    return path


def raster_for(size: int, tile: int = TILE, nregions: int = NREGIONS) -> Path:
    """The land cover of ``size``² cells: a GeoTIFF up to ``tile``, above it a VRT mosaic of ``tile``² GeoTIFFs."""
    if size > tile:
        if size % tile:
            raise SystemExit(f"--sizes {size}: sizes above {tile:,} are mosaics of {tile:,}² tiles; use a multiple")
        first, _ = bc.ensure_data(tile, nregions)
        return mosaic(first, tile, DATA / f"landcover_{size}.vrt", k=size // tile)
    raster, _ = bc.ensure_data(size, nregions)
    return raster


def run(size: int, workers: int, tag: str, repeat: int = 1, tile: int = TILE, nregions: int = NREGIONS) -> dict:
    """``repeat`` measured runs of gep crosstab; the median wall time, CPU time and peak RSS (and their range)."""
    raster = raster_for(size, tile, nregions)
    regions = regions_for(size, nregions)
    out = OUT / f"scale_{tag}.parquet"
    runs = [bc.run_measured(bc.gep_cmd(raster, regions, out, workers), OUT / f"scale_{tag}.log")
            for _ in range(repeat)]
    res = {key: statistics.median(r[key] for r in runs) for key in ("wall_s", "cpu_s", "max_rss_mib")}
    res.update(rss_range_mib=[min(r["max_rss_mib"] for r in runs), max(r["max_rss_mib"] for r in runs)],
               wall_range_s=[min(r["wall_s"] for r in runs), max(r["wall_s"] for r in runs)],
               size=size, cells=size * size, workers=workers, cells_per_s=size * size / res["wall_s"], runs=runs)
    return res


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 40000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; medians are reported")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts for the scaling table at 20,000² and above (e.g. 1 2 4 8 16 on a "
                             "larger machine); the size sweep runs with 2")
    parser.add_argument("--skip-exactextract", action="store_true")
    parser.add_argument("--regions", type=int, default=NREGIONS, help=f"regions per extent (default {NREGIONS})")
    parser.add_argument("--tile", type=int, default=TILE,
                        help=f"sizes above this are VRT mosaics of tile² GeoTIFFs (default {TILE}); the scaling "
                             "table runs at this size and above")
    args = parser.parse_args(argv)
    if args.tile < bc.TILE or min(args.sizes) < bc.TILE:
        parser.error(f"--tile and --sizes must be ≥ {bc.TILE}")
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; medians of {args.repeat} runs")
    rows = []
    for size in args.sizes:
        r = run(size, 2, f"{size}_w2", args.repeat, args.tile, args.regions)
        rows.append(r)
        print(f"{size:>6}² cells, 2 workers: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
              f"{r['cells_per_s'] / 1e6:.0f} M cells/s, peak RSS {r['max_rss_mib']:.0f} MiB "
              f"({r['rss_range_mib'][0]:.0f}–{r['rss_range_mib'][1]:.0f})")
    result: dict = {"runs": rows}
    if len(rows) > 1:
        growth = rows[-1]["max_rss_mib"] / rows[0]["max_rss_mib"] - 1
        result["rss_growth_pct"] = 100 * growth
        print(f"peak RSS growth {args.sizes[0]}² → {args.sizes[-1]}²: {100 * growth:+.1f}% (target < 20%)")
    for size in [s for s in args.sizes if s >= args.tile]:
        scaling(size, sorted(set(args.workers) | {1}), rows, result, args.repeat, args.tile, args.regions)
    if not args.skip_exactextract:
        for size in args.sizes:
            raster, regions = raster_for(size, args.tile, args.regions), regions_for(size, args.regions)
            cmd = [sys.executable, "-c", bc.EXACTEXTRACT_SCRIPT, str(raster), str(regions),
                   str(OUT / f"scale_ee_{size}.parquet")]
            ee = bc.run_measured(cmd, OUT / f"scale_ee_{size}.log")
            if ee["rc"] != 0:
                print(f"{size}²: exactextract failed (rc {ee['rc']}), see {OUT / f'scale_ee_{size}.log'}")
                continue
            g = next(r for r in rows if r["size"] == size and r["workers"] == 2)
            result[f"exactextract_{size}"] = ee
            print(f"{size:>6}²: exactextract {ee['wall_s']:.1f} s, {size * size / ee['wall_s'] / 1e6:.0f} M cells/s, "
                  f"peak RSS {ee['max_rss_mib']:.0f} MiB vs gep {g['wall_s']:.1f} s → throughput "
                  f"{ee['wall_s'] / g['wall_s']:.1f}× exactextract's")
    marginal(args.sizes, rows, result)
    (OUT / "bench_scale.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


def scaling(size: int, workers: list[int], rows: list[dict], result: dict, repeat: int, tile: int = TILE,
            nregions: int = NREGIONS) -> None:
    """Wall time and throughput of ``size`` against the number of workers; parallel efficiency T₁ / (n · Tₙ)
    of the whole command (start-up included)."""
    by_n = {}
    for n in workers:
        r = next((r for r in rows if r["size"] == size and r["workers"] == n), None)
        if r is None:
            r = run(size, n, f"{size}_w{n}", repeat, tile, nregions)
            rows.append(r)
        by_n[n] = r
    t1 = by_n[1]["wall_s"]
    print(f"{size}²: workers, wall, throughput, speed-up, parallel efficiency (target ≥ 70%)")
    for n, r in by_n.items():
        eff = t1 / (n * r["wall_s"])
        result[f"parallel_efficiency_{n}_{size}"] = eff
        print(f"  {n:>3}  {r['wall_s']:6.1f} s  {r['cells_per_s'] / 1e6:6.0f} M cells/s  {t1 / r['wall_s']:5.2f}×  "
              f"{100 * eff:4.0f}%")


def marginal(sizes: list[int], rows: list[dict], result: dict) -> None:
    """Marginal throughput between consecutive sizes: extra cells / extra wall time. The fixed start-up of each
    tool (imports, reading the regions) cancels out, so this is the rate that matters for national rasters."""
    for small, large in zip(sizes, sizes[1:]):
        extra = large * large - small * small
        g0, g1 = (next(r for r in rows if r["size"] == s and r["workers"] == 2) for s in (small, large))
        gep_rate = extra / (g1["wall_s"] - g0["wall_s"])
        result[f"marginal_gep_{small}_{large}"] = gep_rate
        line = f"{small}² → {large}²: marginal throughput gep {gep_rate / 1e6:.0f} M cells/s"
        e0, e1 = result.get(f"exactextract_{small}"), result.get(f"exactextract_{large}")
        if e0 and e1:
            rate = extra / (e1["wall_s"] - e0["wall_s"])
            result[f"marginal_exactextract_{small}_{large}"] = rate
            line += f", exactextract {rate / 1e6:.0f} M cells/s ({gep_rate / rate:.0f}×)"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
