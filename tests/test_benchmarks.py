"""Every benchmark script runs once at a tiny size, so none of them can rot unnoticed; each writes its data and
results under a temporary folder ($GEP_BENCH_DIR), never into the repository. Where a run gives a figure that
can be computed another way (an area, a count of cells, the regions in a report), the test checks it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from pyproj import CRS, Geod

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"


def run_bench(script: str, args: list[str], tmp_path: Path, copy: bool = False) -> str:
    """Run ``benchmarks/SCRIPT ARGS`` in ``tmp_path`` with $GEP_BENCH_DIR there; its stdout.

    ``copy``: run a copy of the benchmark scripts placed in ``tmp_path/benchmarks``, without $GEP_BENCH_DIR
    (for a script that keeps its data beside itself)."""
    folder = BENCH
    env = {**os.environ, "GEP_BENCH_DIR": str(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    if copy:
        folder = tmp_path / "benchmarks"
        folder.mkdir()
        for f in BENCH.glob("*.py"):
            shutil.copy(f, folder / f.name)
        del env["GEP_BENCH_DIR"]
    res = subprocess.run([sys.executable, str(folder / script), *args], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, f"{script} exited {res.returncode}\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    return res.stdout


def geodesic_areas_m2(path: Path, id_field: str) -> pd.Series:
    """Independent of gep: the polygons' areas on their CRS's ellipsoid (pyproj.Geod, edges densified)."""
    gdf = gpd.read_file(path)
    geod = CRS(gdf.crs).get_geod()
    return pd.Series([abs(geod.geometry_area_perimeter(shapely.segmentize(g, 0.0005))[0]) for g in gdf.geometry],
                     index=gdf[id_field].astype(str))


@pytest.fixture(autouse=True)
def repository_untouched():
    before = {p.name for p in BENCH.iterdir()}
    yield
    assert {p.name for p in BENCH.iterdir()} <= before, "a benchmark wrote into benchmarks/"


@pytest.mark.slow
def test_bench_crosstab(tmp_path):
    run_bench("bench_crosstab.py", ["--size", "512", "--regions", "4", "--gep-workers", "1"], tmp_path)
    res = json.loads((tmp_path / "out" / "bench_crosstab.json").read_text(encoding="utf-8"))
    acc = res["accuracy"]
    assert res["best"]["gep"]["rc"] == 0 and res["best"]["exactextract"]["rc"] == 0
    assert acc["regions"] >= 2 and acc["gep_regions_missing"] == 0
    assert acc["total_vs_geodesic_max_rel_pct"] < 1e-4
    assert acc["frac_max_abs_diff"] < 1e-4  # against exactextract, another implementation
    # the raster is square in degrees and the regions tile it: their areas add up to the raster's
    table = pd.read_parquet(tmp_path / "out" / "gep.parquet")
    side = 512 * 0.00027
    frame = shapely.segmentize(shapely.box(110, 30 - side, 110 + side, 30), 0.0005)
    expected = abs(Geod(ellps="WGS84").geometry_area_perimeter(frame)[0])
    assert table["area_m2"].sum() == pytest.approx(expected, rel=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["random", "tiles"])
def test_bench_protected(tmp_path, mode):
    out = run_bench("bench_protected.py", ["--n", "400", "--nx", "3", "--ny", "2", "--size", "0.1", "--mode", mode,
                                           "--types"], tmp_path)
    m = re.search(r"inside ([\d.]+) km², outside ([\d.]+) km², (\d+) rows", out)
    assert m, out
    inside, outside = float(m.group(1)), float(m.group(2))
    if mode == "tiles":  # 20 × 20 tiles fill the square 100–100.2°E, 25–25.2°N, inside the 3 × 2 regions
        square = shapely.segmentize(shapely.box(100, 25, 100.2, 25.2), 0.0005)
        expected = abs(CRS("EPSG:4490").get_geod().geometry_area_perimeter(square)[0]) / 1e6
        assert inside == pytest.approx(expected, abs=0.051) and outside == 0.0
    else:  # 400 discs of radius 0.003–0.015°, 5 % of the extent outside the regions
        assert inside > 0 and outside > 0


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hist", "grid"])
def test_bench_relief(tmp_path, mode):
    out = run_bench("bench_relief.py", ["--size", "600", "--window-m", "900", "--chunk", "256", "--workers", "1",
                                        "--mode", mode], tmp_path)
    if mode == "hist":
        counts = dict(map(int, kv.split(":")) for kv in re.search(r"class cells (.*)", out).group(1).split(", "))
        assert sum(counts.values()) == 600 * 600  # every cell has a class or the nodata class
    else:
        with rasterio.open(tmp_path / "out" / "terrain_600_grid.tif") as src:
            classes = src.read(1)
            assert src.shape == (600, 600)
        assert 0 < len(np.unique(classes)) <= 7


@pytest.mark.slow
def test_bench_scale(tmp_path):
    run_bench("bench_scale.py", ["--sizes", "512", "1024", "--tile", "512", "--regions", "4", "--repeat", "1",
                                 "--workers", "1", "2"], tmp_path)
    res = json.loads((tmp_path / "out" / "bench_scale.json").read_text(encoding="utf-8"))
    # every size with 2 workers; at the tile size and above also with 1 (the scaling table)
    assert {(r["size"], r["workers"]) for r in res["runs"]} == {(512, 1), (512, 2), (1024, 1), (1024, 2)}
    assert "exactextract_1024" in res and "parallel_efficiency_2_1024" in res
    # the 1024² land cover is a VRT mosaic of 2 × 2 tiles, its regions drawn over the whole extent
    assert (tmp_path / "data" / "landcover_1024.vrt").is_file()
    table = pd.read_parquet(tmp_path / "out" / "scale_1024_w2.parquet")
    total = table.groupby(table["region_id"].astype(str))["area_m2"].sum()
    expected = geodesic_areas_m2(tmp_path / "data" / "regions_1024_4.gpkg", "code")
    np.testing.assert_allclose(total.reindex(expected.index), expected, rtol=1e-6)


@pytest.mark.slow
def test_bench_scorecard(tmp_path):
    run_bench("bench_scorecard.py", ["--regions", "4", "--workers", "1", "2"], tmp_path)
    res = json.loads((tmp_path / "out" / "bench_scorecard_4.json").read_text(encoding="utf-8"))
    assert [r["workers"] for r in res] == [1, 2]
    for w in (1, 2):
        report = (tmp_path / "out" / f"scorecard_4_w{w}" / "report" / "index.html").read_text(encoding="utf-8")
        for k in range(1, 5):
            assert f"示范{k}镇" in report


@pytest.mark.slow
def test_bench_services(tmp_path):
    # run from a copy: this script keeps its data beside itself
    run_bench("bench_services.py", ["--size", "600", "--regions", "4", "--chunk", "256"], tmp_path, copy=True)
    res = json.loads((tmp_path / "benchmarks" / "out" / "bench_services.json").read_text(encoding="utf-8"))
    stages = {r["stage"]: r for r in res["results"]}
    assert set(stages) >= {"ls", "water_conservation", "soil_retention", "carbon_sequestration",
                           "climate_regulation"}
    assert all(r["rc"] == 0 for r in stages.values())
    for name, r in stages.items():
        if name != "ls":
            assert np.isfinite(r["quantity_total"]) and r["quantity_total"] > 0, r


@pytest.mark.slow
def test_bench_workflow(tmp_path):
    run_bench("bench_workflow.py", ["--sizes", "600", "--regions", "6", "--counties", "2", "--cores", "2"], tmp_path)
    res = json.loads((tmp_path / "out" / "bench_workflow.json").read_text(encoding="utf-8"))
    rules = res["results"]["600"]["rules"]
    assert rules and all(r["wall_s"] > 0 for r in rules.values())
    # the counties are the townships dissolved: both levels hold the same land-cover area every year
    tables = tmp_path / "out" / "workflow_600" / "tables"
    county = pd.read_csv(tables / "county" / "landcover_area.csv").groupby("year")["area_cm2"].sum()
    towns = pd.read_csv(tables / "township" / "landcover_area.csv").groupby("year")["area_cm2"].sum()
    assert list(county.index) == [2019, 2020]
    np.testing.assert_allclose(county, towns, rtol=1e-9)
