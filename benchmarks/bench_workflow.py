#!/usr/bin/env python3
"""Whole-workflow benchmark: the Snakemake workflow on a province-like synthetic data set at several sizes.

What it does (not a test; run by hand):

1. builds, once per SIZE (cached in benchmarks/data/workflow_SIZE/), the inputs of a two-year run:
   - land cover 2019 = ``landcover_SIZE.tif`` of bench_crosstab (uint8 CLCD codes, 0.00027° cells, EPSG:4326);
     land cover 2020 = the same with ~4 % of the cells changed (class c → c mod 9 + 1 in a lattice of patches),
     written in 512-row strips; above 20,000² both are VRT mosaics of k × k 20,000² tiles;
   - townships = the 300 regions of bench_crosstab that tile the raster; counties = those townships dissolved
     into 12 groups (nearest of 12 seeds), so both levels tile the raster;
   - red line and protected areas of both years: a few hundred discs (2020: some dropped, some added);
   - the DEM, precipitation, ET, NPP, erosivity (Albers) and erodibility of bench_services;
2. writes a run configuration (two levels, two years, every indicator, chunk 2048) and runs
   ``snakemake --cores CORES`` on it in a fresh output folder (benchmarks/out/workflow_SIZE/), timed as a whole;
3. reads the Snakemake benchmark file of every job (wall s, peak RSS) and prints, per rule, the summed wall
   time, the largest peak RSS of its jobs and the ``mem_mb`` the rule declares, for every size side by side;
4. with ``--add-year`` (sizes up to 20,000²), the yearly update: adds 2021 (the 2020 land cover changed
   again the same way, the 2020 red line and protected areas) to the finished run, runs the workflow again in
   the same output folder, and prints its wall time and the jobs it ran.

If peak memory depends on chunks and workers rather than on the raster, each rule's peak RSS stays about the
same from the smallest to the largest size while its wall time grows with the cells.

    python benchmarks/bench_workflow.py                       # 5,000² and 20,000²
    python benchmarks/bench_workflow.py --sizes 4000 --cores 2
    python benchmarks/bench_workflow.py --sizes 5000 --add-year
    python benchmarks/bench_workflow.py --sizes 600 --regions 6 --counties 2   # tiny (the tests)
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_crosstab as bc  # noqa: E402
import bench_scale as bs_scale  # noqa: E402
import bench_services as bs  # noqa: E402

DATA = bc.DATA  # data/ and out/ under $GEP_BENCH_DIR, else under benchmarks/
OUT = bc.OUT
bs.DATA, bs.OUT = DATA, OUT  # the service inputs go to the same folders

SNAKEFILE = ROOT / "workflow" / "Snakefile"
YEARS = (2019, 2020)
NREGIONS = 300
NCOUNTIES = 12
STRIP = 512


# ---------------------------------------------------------------------------------------------------------
# inputs


def _changed_landcover(src_path: Path, dst_path: Path) -> None:
    """The 2020 land cover: ``src`` with the cells of a lattice of 60 × 60-cell patches (one in 25) moved to the
    next class (c → c mod 9 + 1; nodata 0 stays), written in strips."""
    import rasterio
    from rasterio.windows import Window

    tmp = dst_path.with_suffix(".part.tif")
    with rasterio.open(src_path) as src:
        profile = src.profile
        with rasterio.open(tmp, "w", **profile) as dst:
            for r0 in range(0, src.height, STRIP):
                h = min(STRIP, src.height - r0)
                a = src.read(1, window=Window(0, r0, src.width, h))
                rows = (np.arange(r0, r0 + h) // 60)[:, None]
                cols = (np.arange(src.width) // 60)[None, :]
                patch = ((rows * 7 + cols * 3) % 25 == 0) & (a > 0)
                a[patch] = a[patch] % 9 + 1
                dst.write(a, 1, window=Window(0, r0, src.width, h))
    tmp.replace(dst_path)


def _counties(townships: Path, out: Path, ncounties: int = NCOUNTIES) -> None:
    """Dissolve the townships into ``ncounties`` groups (nearest of as many seeds to each township's centroid)."""
    import geopandas as gpd

    t = gpd.read_file(townships, layer="regions")
    c = t.geometry.representative_point()
    xy = np.column_stack([c.x, c.y])
    seeds = xy[np.random.default_rng(3).choice(len(xy), ncounties, replace=False)]
    group = np.argmin(((xy[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2), axis=1)
    t["county"] = [f"4301{g:02d}" for g in group]
    counties = t.dissolve(by="county", as_index=False)[["county", "geometry"]]
    counties = counties.rename(columns={"county": "code"})
    counties["name"] = [f"县{i + 1:02d}" for i in range(len(counties))]
    tmp = out.with_suffix(".part.gpkg")
    counties[["code", "name", "geometry"]].to_file(tmp, layer="counties", driver="GPKG")
    tmp.replace(out)


def _discs(bounds, n: int, rng, rmin: float, rmax: float):
    import shapely

    x0, y0, x1, y1 = bounds
    x = rng.uniform(x0, x1, n)
    y = rng.uniform(y0, y1, n)
    return shapely.buffer(shapely.points(x, y), rng.uniform(rmin, rmax, n), quad_segs=16)


def _protected_layers(raster: Path, folder: Path) -> None:
    """Red line and protected areas of both years: discs of 0.3–3 km over the raster (2020: a tenth of the
    discs dropped, as many new ones added)."""
    import geopandas as gpd
    import rasterio

    with rasterio.open(raster) as src:
        bounds = tuple(src.bounds)
    span = bounds[2] - bounds[0]
    rng = np.random.default_rng(5)
    n_red, n_pa = max(20, int(400 * span / 5.4)), max(10, int(120 * span / 5.4))
    red = _discs(bounds, n_red, rng, 0.003, 0.03)
    pa = _discs(bounds, n_pa, rng, 0.005, 0.04)
    types = rng.choice(["国家公园", "自然保护区", "自然公园"], n_pa)
    for year in YEARS:
        keep_red = np.ones(n_red, bool) if year == YEARS[0] else rng.random(n_red) > 0.1
        keep_pa = np.ones(n_pa, bool) if year == YEARS[0] else rng.random(n_pa) > 0.1
        extra_red = [] if year == YEARS[0] else list(_discs(bounds, n_red // 10, rng, 0.003, 0.03))
        geoms = list(red[keep_red]) + extra_red
        layers = {
            "redline": gpd.GeoDataFrame({"id": [f"R{i:05d}" for i in range(len(geoms))]}, geometry=geoms,
                                        crs=4326),
            "protected": gpd.GeoDataFrame({"id": [f"P{i:05d}" for i in np.flatnonzero(keep_pa)],
                                           "type": types[keep_pa]}, geometry=list(pa[keep_pa]), crs=4326),
        }
        for layer, gdf in layers.items():
            path = folder / f"{layer}_{year}.gpkg"
            tmp = path.with_suffix(".part.gpkg")
            gdf.to_file(tmp, layer=layer, driver="GPKG")
            tmp.replace(path)


def ensure_inputs(size: int, nregions: int = NREGIONS, ncounties: int = NCOUNTIES) -> dict:
    """Every input of the run for ``size`` (cached); returns the paths the configuration needs.

    Above 20,000² both land covers are VRT mosaics of k × k 20,000² tiles (as in bench_scale.py), the way
    national products come; the regions are generated over the whole extent."""
    folder = DATA / (f"workflow_{size}" if (nregions, ncounties) == (NREGIONS, NCOUNTIES)
                     else f"workflow_{size}_{nregions}_{ncounties}")
    folder.mkdir(parents=True, exist_ok=True)
    if size > 20000:
        tile = bs_scale.raster_for(20000, nregions=nregions)
        changed = ensure_inputs(20000, nregions, ncounties)["folder"] / f"landcover_{YEARS[1]}.tif"
        raster = bs_scale.raster_for(size, nregions=nregions)
        townships = bs_scale.regions_for(size, nregions)
        lc = {YEARS[0]: folder / f"landcover_{YEARS[0]}.vrt", YEARS[1]: folder / f"landcover_{YEARS[1]}.vrt"}
        bs_scale.mosaic(tile, 20000, lc[YEARS[0]], k=size // 20000)
        bs_scale.mosaic(changed, 20000, lc[YEARS[1]], k=size // 20000)
    else:
        raster, townships = bc.ensure_data(size, nregions)
        lc = {YEARS[0]: folder / f"landcover_{YEARS[0]}.tif", YEARS[1]: folder / f"landcover_{YEARS[1]}.tif"}
        if not lc[YEARS[0]].exists():
            lc[YEARS[0]].symlink_to(raster.resolve())
        if not lc[YEARS[1]].exists():
            print(f"generating {lc[YEARS[1]]} …", file=sys.stderr)
            _changed_landcover(raster, lc[YEARS[1]])
    svc = bs.ensure_inputs(raster, size)
    counties = folder / "counties.gpkg"
    if not counties.exists():
        _counties(townships, counties, ncounties)
    if not (folder / f"protected_{YEARS[1]}.gpkg").exists():
        _protected_layers(raster, folder)
    return {"folder": folder, "townships": townships, "counties": counties, "landcover": lc[YEARS[0]], **svc}


def write_config(size: int, paths: dict, out_dir: Path, chunk: int, years=YEARS, name: str = "config") -> Path:
    """The run configuration (YAML) for ``size``; every indicator, both levels, ``years``."""
    import yaml

    folder = paths["folder"]
    cfg = {
        "name": f"bench {size}²",
        "output_dir": str(out_dir),
        "years": list(years),
        "landcover": {"path": str(folder / ("landcover_{year}" + paths["landcover"].suffix)), "scheme": "clcd"},
        "regions": {
            "county": {"path": str(paths["counties"]), "layer": "counties", "id_field": "code",
                       "name_field": "name"},
            "township": {"path": str(paths["townships"]), "layer": "regions", "id_field": "code",
                         "name_field": "name"},
        },
        "terrain": {"dem_path": str(paths["dem"]), "window_m": 4583, "precip_path": str(paths["precip"])},
        "coverage": {"standard": "national", "denominator": "region"},
        "protected": {
            "redline": {"path": str(folder / "redline_{year}.gpkg"), "layer": "redline", "id_field": "id"},
            "protected": {"path": str(folder / "protected_{year}.gpkg"), "layer": "protected", "id_field": "id",
                          "type_field": "type"},
        },
        "gep": {
            # no tier1: the synthetic land cover has snow/ice (CLCD 6), whose equivalent-factor row gep
            # ships empty (docs/methods.md §1)
            "services": ["water_conservation", "soil_retention", "carbon_sequestration",
                         "oxygen_release", "climate_regulation", "carbon_stock"],
            "gep_tier": 2,
            "rasters": {"precipitation": str(paths["precip"]), "et": str(paths["et"]), "npp": str(paths["npp"]),
                        "erosivity": str(paths["erosivity"]), "erodibility": str(paths["erodibility"])},
            "dem": str(paths["dem"]),
            "deflator": "deflator_demo",  # shipped with gep (gep/data/parameters)
        },
        "compute": {"chunk_size": chunk, "scheduler": "threads"},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def add_year(size: int, paths: dict, out_dir: Path, chunk: int, cores: int) -> dict:
    """The yearly update on a finished run: a third year, run in the same output folder; wall time and the
    jobs that ran with their wall times (s; their Snakemake benchmark files are the ones written after the
    start)."""
    import shutil

    if size > 20000:
        raise SystemExit("--add-year: sizes up to 20,000² (larger land covers are VRT mosaics)")
    folder, new = paths["folder"], YEARS[-1] + 1
    if not (folder / f"landcover_{new}.tif").exists():
        _changed_landcover(folder / f"landcover_{YEARS[-1]}.tif", folder / f"landcover_{new}.tif")
    for layer in ("redline", "protected"):
        if not (folder / f"{layer}_{new}.gpkg").exists():
            shutil.copy(folder / f"{layer}_{YEARS[-1]}.gpkg", folder / f"{layer}_{new}.gpkg")
    cfg = write_config(size, paths, out_dir, chunk, years=(*YEARS, new), name="config_add_year")
    snakemake = Path(sys.executable).parent / "snakemake"
    start = time.time()
    t0 = time.perf_counter()
    with (OUT / f"{out_dir.name}_add_year.log").open("w", encoding="utf-8") as f:
        rc = subprocess.run([str(snakemake), "--snakefile", str(SNAKEFILE), "--configfile", str(cfg),
                             "--cores", str(cores), "--quiet", "rules"], cwd=out_dir.parent, stdout=f,
                            stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"snakemake failed (exit {rc}); see {f.name}")
    jobs = {}
    for tsv in sorted((out_dir / "benchmarks").glob("*.tsv")):
        if tsv.stat().st_mtime >= start:
            with tsv.open(encoding="utf-8") as f:
                jobs[tsv.stem] = float(next(csv.DictReader(f, delimiter="\t"))["s"])
    return {"year": new, "wall_s": wall, "jobs": jobs}


# ---------------------------------------------------------------------------------------------------------
# run and read the per-job benchmark files


def declared_memory() -> dict[str, int]:
    """``mem_mb`` each rule declares in rules/*.smk (rule name → MB)."""
    declared = {}
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        rule = None
        for line in smk.read_text(encoding="utf-8").splitlines():
            m = re.match(r"\s*rule (\w+):", line)
            if m:
                rule = m.group(1)
            m = re.match(r"\s*mem_mb=(\d+)", line)
            if m and rule:
                declared[rule] = int(m.group(1))
    return declared


def rule_of(job_file: str, rules: list[str]) -> str:
    """The rule a benchmark file belongs to: the longest rule name its stem starts with."""
    stem = Path(job_file).stem
    hits = [r for r in rules if stem == r or stem.startswith(r + "_")]
    return max(hits, key=len) if hits else stem


def per_rule(bench_dir: Path, rules: list[str]) -> dict[str, dict]:
    """Per rule: jobs, summed wall time (s), largest peak RSS (MiB) and summed CPU time (s) of its jobs."""
    out: dict[str, dict] = {}
    for tsv in sorted(bench_dir.glob("*.tsv")):
        with tsv.open(encoding="utf-8") as f:
            row = next(csv.DictReader(f, delimiter="\t"))
        r = out.setdefault(rule_of(tsv.name, rules), {"jobs": 0, "wall_s": 0.0, "max_rss_mib": 0.0, "cpu_s": 0.0})
        r["jobs"] += 1
        r["wall_s"] += float(row["s"])
        rss = row.get("max_rss", "NA")
        r["max_rss_mib"] = max(r["max_rss_mib"], float(rss) if rss not in ("NA", "-") else 0.0)
        cpu = row.get("cpu_time", "NA")
        r["cpu_s"] += float(cpu) if cpu not in ("NA", "-") else 0.0
    return out


def run_workflow(cfg: Path, out_dir: Path, cores: int) -> dict:
    import shutil

    if out_dir.exists():
        shutil.rmtree(out_dir)  # a fresh run: the workflow never overwrites published results
    snakemake = Path(sys.executable).parent / "snakemake"
    cmd = [str(snakemake), "--snakefile", str(SNAKEFILE), "--configfile", str(cfg), "--cores", str(cores),
           "--quiet", "rules"]
    log = OUT / f"{out_dir.name}.log"
    t0 = time.perf_counter()
    with log.open("w", encoding="utf-8") as f:  # Snakemake's own records (.snakemake/) go beside the results
        rc = subprocess.run(cmd, cwd=out_dir.parent, stdout=f, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"snakemake failed (exit {rc}); see {log}")
    return {"wall_s": wall, "log": str(log)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000], help="land-cover sides in cells")
    ap.add_argument("--cores", type=int, default=2, help="snakemake --cores (default 2)")
    ap.add_argument("--chunk", type=int, default=2048, help="compute.chunk_size (default 2048)")
    ap.add_argument("--add-year", action="store_true", help="then add a third year and time the update")
    ap.add_argument("--regions", type=int, default=NREGIONS, help=f"townships (default {NREGIONS})")
    ap.add_argument("--counties", type=int, default=NCOUNTIES, help=f"counties (default {NCOUNTIES})")
    args = ap.parse_args(argv)
    if not 1 <= args.counties <= args.regions:
        ap.error("--counties must be between 1 and --regions")
    OUT.mkdir(parents=True, exist_ok=True)
    declared = declared_memory()
    rules = list(declared) + ["all"]
    results = {}
    for size in args.sizes:
        paths = ensure_inputs(size, args.regions, args.counties)
        out_dir = OUT / f"workflow_{size}"
        cfg = write_config(size, paths, out_dir, args.chunk)
        print(f"{size}²: running the workflow ({cfg}) …", file=sys.stderr)
        run = run_workflow(cfg, out_dir, args.cores)
        results[size] = {"run": run, "rules": per_rule(out_dir / "benchmarks", rules)}
        print(f"{size}²: {run['wall_s']:.0f} s", file=sys.stderr)
        if args.add_year:
            results[size]["add_year"] = add_year(size, paths, out_dir, args.chunk, args.cores)

    sizes = args.sizes
    head = "| rule | jobs | mem_mb | " + " | ".join(f"{s:,}²: wall s, peak RSS MiB" for s in sizes) + " |"
    print(head)
    print("|" + "---|" * (3 + len(sizes)))
    names = sorted({r for res in results.values() for r in res["rules"]},
                   key=lambda r: -max(res["rules"].get(r, {}).get("wall_s", 0) for res in results.values()))
    for name in names:
        cells = []
        for s in sizes:
            r = results[s]["rules"].get(name)
            cells.append(f"{r['wall_s']:.1f} s, {r['max_rss_mib']:.0f}" if r else "—")
        jobs = max(res["rules"].get(name, {}).get("jobs", 0) for res in results.values())
        print(f"| {name} | {jobs} | {declared.get(name, '—')} | " + " | ".join(cells) + " |")
    print("| whole run (snakemake) | | | "
          + " | ".join(f"{results[s]['run']['wall_s']:.0f} s" for s in sizes) + " |")
    for s in sizes:
        worst = max(results[s]["rules"].items(), key=lambda kv: kv[1]["max_rss_mib"])
        over = [n for n, r in results[s]["rules"].items() if n in declared and r["max_rss_mib"] > declared[n]]
        print(f"{s:,}²: largest job peak RSS {worst[1]['max_rss_mib']:.0f} MiB ({worst[0]}); "
              f"rules over their mem_mb: {', '.join(over) or 'none'}")
    for s in sizes:
        if "add_year" in results[s]:
            up = results[s]["add_year"]
            print(f"{s:,}²: adding {up['year']} to the finished run took {up['wall_s']:.0f} s (the two-year run "
                  f"{results[s]['run']['wall_s']:.0f} s); jobs run (wall s): "
                  + ", ".join(f"{job} {secs:.1f}" for job, secs in up["jobs"].items()))
    (OUT / "bench_workflow.json").write_text(json.dumps({"sizes": sizes, "cores": args.cores, "results": results,
                                                         "declared_mem_mb": declared, "versions": bc.versions()},
                                                        indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
