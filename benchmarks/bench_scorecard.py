"""Scorecard stage at province scale: time and peak memory of ``build_outputs`` for N regions.

A province has hundreds to a couple of thousand townships; the scorecard stage draws a trend chart per region,
writes the workbook and the GeoPackage and embeds every figure in the HTML report. This script builds a finished
run's tables for N square regions over three years (values drawn at random, every judgement outcome present),
runs the stage in a fresh process and prints its wall time, CPU time, peak RSS, the size of the report and the
time of each part (index table, workbook, GeoPackage, the figures — drawn meanwhile in worker processes —
and the report).

    python benchmarks/bench_scorecard.py [--regions 300] [--workers 1 2] [--repeat 1]

Each ``--workers`` value is one run of the stage with that many chart processes (``GEP_THREADS``).
Machines here are noisy: compare the figures of one invocation.
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

import bench_crosstab as bc  # noqa: E402  (the measured-subprocess runner)

DATA = bc.DATA  # data/ and out/ under $GEP_BENCH_DIR, else under benchmarks/
OUT = bc.OUT
YEARS = [2019, 2020, 2021]

# Runs inside the measured process: the stage, with the time of each part (wrapped functions) as JSON on stdout.
STAGE_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
import geopandas as gpd
from gep.scorecard import build as b
parts = {}
def timed(mod, name, key):
    f = getattr(mod, name)
    def w(*a, **k):
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            parts[key] = parts.get(key, 0.0) + time.perf_counter() - t
    setattr(mod, name, w)
from gep.scorecard import report  # (the figure functions run in worker processes: not wrapped)
timed(b, "lianshan_index", "index table")
timed(b, "write_workbook", "workbook")
timed(b, "write_indicators_gpkg", "geopackage")
timed(b, "_figure_jobs", "figure jobs")
import contextlib
_drawing = b.drawing
@contextlib.contextmanager
def drawing(jobs, workers):  # figures drawn in worker processes while the workbook is written
    t = time.perf_counter()
    with _drawing(jobs, workers) as results:
        def wait():
            t1 = time.perf_counter()
            try:
                return results()
            finally:
                parts["waiting for the figures"] = time.perf_counter() - t1
        yield wait
    parts["figures (from start to last)"] = time.perf_counter() - t
b.drawing = drawing
timed(report, "embedded_font_css", "report font subset")
timed(report, "write_report", "report")
run, out = sys.argv[1], sys.argv[2]
regions = gpd.read_file(f"{run}/regions.gpkg")
t1 = time.perf_counter()
written = b.build_outputs(f"{run}/tables", out, regions=regions, years=[2019, 2020, 2021], standard="national")
parts["total (after imports)"] = time.perf_counter() - t1
parts["imports + regions"] = t1 - t0
print(json.dumps({"parts": parts, "files": len(written)}))
"""


def make_run(n: int, root: Path) -> Path:
    """A finished run's tables for ``n`` 0.05° square regions (CGCS2000) over YEARS; cached in ``root``."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from shapely.geometry import box

    from gep.io.tables import write_table

    if (root / "done").is_file():
        return root
    rng = np.random.default_rng(20261122 + n)
    side = int(np.ceil(np.sqrt(n)))
    codes = [f"{430100000000 + 1000 * (k + 1):012d}" for k in range(n)]
    names = [f"示范{k + 1}镇" for k in range(n)]
    geoms = [box(110 + 0.05 * (k % side), 30 - 0.05 * (k // side + 1), 110 + 0.05 * (k % side + 1),
                 30 - 0.05 * (k // side)) for k in range(n)]
    regions = gpd.GeoDataFrame({"region_code": codes, "region_name": names}, geometry=geoms, crs=4490)
    terrain = rng.choice([("平原区", 18.0), ("丘陵区", 40.0), ("山区", 60.0)], n)
    cov, pa, pc, gep = [], [], [], []
    for k, (code, name) in enumerate(zip(codes, names)):
        ttype, target = str(terrain[k][0]), float(terrain[k][1])
        c0 = float(np.clip(target + rng.normal(0, 8), 1, 95))
        red0 = float(rng.uniform(0, 20))
        g0 = float(rng.uniform(300, 3000))
        red_prev = g_prev = None
        for j, y in enumerate(YEARS):
            c = float(np.clip(c0 + rng.normal(0.5, 1.5) * j, 0, 100))
            land = 27.0
            gap = 0.0 if c > target else target - c
            cov.append({"region_code": code, "region_name": name, "year": y, "terrain_type": ttype,
                        "terrain_rule": "share", "region_area_km2": land + 0.5, "water_km2": 0.5,
                        "land_area_km2": land, "forest_km2": c * land / 100 * 0.8, "grass_km2": c * land / 100 * 0.2,
                        "nodata_km2": 0.0, "coverage_pct": c, "target_pct": target, "comparison": ">",
                        "meets_target": c > target, "gap_pct": gap, "gap_km2": gap * land / 100,
                        "standard": "national"})
            red = red0 if j == 0 else max(0.0, red_prev + float(rng.choice([0.0, 0.0, 0.3, -0.2])))
            pa.append({"region_code": code, "region_name": name, "year": y, "layer": "redline", "type": "all",
                       "area_km2": red, "share_of_region_pct": red / land * 100})
            pc.append({"region_code": code, "region_name": name, "layer": "redline", "type": "all", "year": y,
                       "area_km2": red, "year_prev": YEARS[j - 1] if j else None,
                       "area_prev_km2": red_prev if j else float("nan"),
                       "delta_km2": red - red_prev if j else float("nan"),
                       "delta_pct": (red - red_prev) / red_prev * 100 if j and red_prev else float("nan"),
                       "year_base": YEARS[0], "area_base_km2": red0, "delta_base_km2": red - red0,
                       "verdict": "基准年" if j == 0 else ("不减少" if red >= red_prev and red >= red0 else "减少")})
            g = g0 * (1 + float(rng.normal(0.02, 0.04))) ** j
            ch = (g - g_prev) / g_prev * 100 if j else float("nan")
            gep.append({"region_code": code, "region_name": name, "year": y, "gep_yuan": g * 1e4 * land,
                        "gep_constant_yuan": g * 1e4 * land, "land_area_km2": land, "gep_per_km2_wan_yuan": g,
                        "change_pct": ch, "verdict": "无数据" if j == 0 else ("达标" if ch >= 0 else "不达标")})
            red_prev, g_prev = red, g
    tables = root / "tables"
    write_table(pd.DataFrame(cov), tables, "forest_grass_coverage", units={"coverage_pct": "%"})
    write_table(pd.DataFrame(pa), tables, "protected_area")
    write_table(pd.DataFrame(pc), tables, "protected_change")
    write_table(pd.DataFrame(gep), tables, "gep_summary")
    regions.to_file(root / "regions.gpkg", driver="GPKG", engine="pyogrio")
    (root / "done").write_text("ok")
    return root


def run_stage(run: Path, workers: int, tag: str) -> dict:
    out = OUT / f"scorecard_{tag}"
    env = {**os.environ, "GEP_THREADS": str(workers)}
    log = OUT / f"scorecard_{tag}.log"
    r = bc.run_measured([sys.executable, "-c", STAGE_SCRIPT, str(run), str(out)], log, env=env)
    if r["rc"] != 0:
        raise SystemExit(f"scorecard stage failed (exit {r['rc']}); see {log}")
    last = [line for line in Path(log).read_text(encoding="utf-8").splitlines() if line.startswith("{")][-1]
    r.update(json.loads(last), workers=workers,
             report_mib=(out / "report" / "index.html").stat().st_size / 2**20)
    return r


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=300, help="number of regions (default 300)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="chart processes per run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per worker count; medians are reported")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    run = make_run(args.regions, DATA / f"scorecard_run_{args.regions}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {args.regions} regions, "
          f"years {YEARS[0]}–{YEARS[-1]}")
    results = []
    for w in args.workers:
        runs = [run_stage(run, w, f"{args.regions}_w{w}") for _ in range(args.repeat)]
        r = {"workers": w, "runs": runs}
        for key in ("wall_s", "cpu_s", "max_rss_mib", "report_mib"):
            r[key] = statistics.median(x[key] for x in runs)
        results.append(r)
        parts = runs[len(runs) // 2]["parts"]
        print(f"{w} worker(s): {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, peak RSS {r['max_rss_mib']:.0f} MiB, "
              f"report {r['report_mib']:.1f} MiB")
        for key, value in parts.items():
            print(f"    {key:34s} {value:7.2f} s")
    if len(results) > 1:
        base = results[0]
        for r in results[1:]:
            print(f"{base['workers']} → {r['workers']} workers: {base['wall_s'] / r['wall_s']:.2f}× faster "
                  f"(efficiency {100 * base['wall_s'] * base['workers'] / (r['wall_s'] * r['workers']):.0f} %)")
    (OUT / f"bench_scorecard_{args.regions}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
