"""Byte-identical tables whatever runs the dask graph: threads, processes, a LocalCluster, or a real
`dask scheduler` with two `dask worker` processes on 127.0.0.1 — and whatever the chunk size; for the crosstab
here, for every stage of the workflow in test_schedulers_workflow.py."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import numpy as np
import pytest
import yaml
import rasterio
import shapely
from rasterio.transform import from_origin

GEP = [sys.executable, "-m", "gep.cli.main"]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sched")
    rng = np.random.default_rng(3)
    arr = rng.integers(1, 10, (300, 400)).astype(np.uint8)
    arr[50:60, 50:70] = 0
    with rasterio.open(folder / "lc.tif", "w", driver="GTiff", height=300, width=400, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=from_origin(110.0, 30.0, 0.0005, 0.0005), nodata=0, tiled=True,
                       blockxsize=64, blockysize=64) as dst:
        dst.write(arr, 1)
    seeds = shapely.MultiPoint(rng.uniform([110.0, 29.85], [110.2, 30.0], (12, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=shapely.box(109, 29, 111, 31)))
    area = shapely.box(110.01, 29.86, 110.19, 29.99)
    geoms = [shapely.intersection(c, area) for c in cells]
    gpd.GeoDataFrame({"code": [f"{i:03d}" for i in range(len(geoms))]}, geometry=geoms,
                     crs="EPSG:4326").to_file(folder / "regions.gpkg")
    return folder


def _crosstab(folder: Path, out: str, *extra: str) -> bytes:
    target = folder / out
    res = subprocess.run(GEP + ["crosstab", str(folder / "lc.tif"), str(folder / "regions.gpkg"), "--id-field",
                                "code", "--classes", "clcd", "--out", str(target), *extra],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return target.read_bytes()


def test_identical_across_chunks_and_local_schedulers(inputs):
    reference = _crosstab(inputs, "threads.csv", "--scheduler", "threads", "--chunk", "4096")
    for name, extra in [("chunk64.csv", ["--chunk", "64"]), ("chunk128.csv", ["--chunk", "128"]),
                        ("sync.csv", ["--scheduler", "synchronous"]),
                        ("processes.csv", ["--scheduler", "processes", "--workers", "2", "--chunk", "64"]),
                        ("cluster.csv", ["--scheduler", "local-cluster", "--workers", "2", "--chunk", "64"])]:
        assert _crosstab(inputs, name, *extra) == reference, name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _dask_cluster(workers: int = 2) -> Iterator[str]:
    """A real `dask scheduler` and ``workers`` `dask worker` processes (one thread each) on 127.0.0.1: its
    address. The workers import gep from this environment (PYTHONPATH is passed on)."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        for _ in range(workers):
            procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1",
                                           "--no-dashboard", "--memory-limit", "1GB"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
            assert len(client.scheduler_info()["workers"]) == workers
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_identical_on_a_real_dask_cluster(inputs):
    with _dask_cluster() as address:
        reference = _crosstab(inputs, "ref.csv", "--chunk", "64")
        assert _crosstab(inputs, "dist.csv", "--scheduler", address, "--chunk", "64") == reference


def test_unreachable_scheduler_is_a_clear_error(inputs):
    port = _free_port()
    res = subprocess.run(GEP + ["crosstab", str(inputs / "lc.tif"), str(inputs / "regions.gpkg"), "--id-field",
                                "code", "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(inputs / "x.csv")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "cannot reach the dask scheduler" in res.stderr and "Traceback" not in res.stderr
    assert not (inputs / "x.csv").exists()


def test_worker_count_comes_from_the_argument_then_gep_threads(monkeypatch):
    from gep.core.errors import InputError
    from gep.core.workers import worker_count

    monkeypatch.setenv("GEP_THREADS", "3")
    assert worker_count(5) == 5 and worker_count() == 3
    monkeypatch.setenv("GEP_THREADS", "0")
    assert worker_count() == (os.cpu_count() or 1)
    monkeypatch.delenv("GEP_THREADS")
    assert worker_count() == (os.cpu_count() or 1)
    for bad in ("two", "-1", "1.5"):
        monkeypatch.setenv("GEP_THREADS", bad)
        with pytest.raises(InputError, match=f"GEP_THREADS={bad}: not a number of threads"):
            worker_count()


def test_bad_gep_threads_is_a_clear_error(inputs):
    res = subprocess.run(GEP + ["crosstab", str(inputs / "lc.tif"), str(inputs / "regions.gpkg"), "--id-field",
                                "code", "--out", str(inputs / "y.csv")],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "GEP_THREADS": "all"})
    assert res.returncode == 2, res.stderr
    assert "GEP_THREADS=all: not a number of threads" in res.stderr and "Traceback" not in res.stderr
    assert not (inputs / "y.csv").exists()


def test_a_workflow_step_takes_its_threads_and_log_as_arguments(tmp_path, capsys, monkeypatch):
    """The rules run `gep stage NAME … --threads N --log FILE` (no shell pipe, no environment prefix: the same
    command line on Windows): the step's workers are N, and everything it prints is also in FILE."""
    from gep.cli import main as cli
    from gep.core.workers import worker_count

    monkeypatch.delenv("GEP_THREADS", raising=False)
    seen = {}

    def step(args):
        seen["workers"] = worker_count()
        print("step says hello")
        raise cli.InputError("a bad input, named")

    parser = cli.build_parser()
    args = parser.parse_args(["stage", "landcover-tables", str(tmp_path / "c.yaml"), "--level", "town",
                              "--threads", "3", "--log", str(tmp_path / "logs" / "job.log")])
    monkeypatch.setattr(cli, "build_parser", lambda: type("P", (), {"parse_args": lambda self, argv: args})())
    args.func = step
    assert cli.main([]) == 2
    assert seen["workers"] == 3 and "GEP_THREADS" not in os.environ  # set for the step only
    log = (tmp_path / "logs" / "job.log").read_text(encoding="utf-8").splitlines()
    assert log == ["step says hello", "gep stage landcover-tables: error: a bad input, named"]
    captured = capsys.readouterr()
    assert "step says hello" in captured.out and "a bad input, named" in captured.err


def test_bad_threads_argument_is_a_clear_error(tmp_path):
    res = subprocess.run(GEP + ["stage", "gep-tables", str(tmp_path / "c.yaml"), "--level", "town",
                                "--threads", "-2", "--log", str(tmp_path / "job.log")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.splitlines() == ["gep stage gep-tables: error: --threads -2: give a whole number ≥ 0 "
                                       "(0: every CPU)"]
    assert not (tmp_path / "job.log").exists()


# ---------------------------------------------------------------------------------------------------------------
# every stage of the workflow

REPO = Path(__file__).resolve().parents[2]
#: What is not compared between the runs, and why: the run's record of when it ran and where it wrote
#: (provenance.json: creation time, the output folder's paths, the config file's path), the job logs and
#: benchmarks (times), Snakemake's and gep's bookkeeping (.snakemake, .gep). Everything else is: the published
#: tables (CSV, Parquet, .meta.json), the interim tables, the input checks and the rasters (terrain classes, LS
#: factor, GEP service rasters). The scorecard is left out of these runs: it runs no dask graph (it reads the
#: tables compared here) and is the slowest job.
NOT_COMPARED = ("provenance.json", "logs", "benchmarks", ".snakemake", ".gep")


def _tiny_demo(folder: Path) -> Path:
    """The demo county's inputs at a 200 × 240 land cover (every 5th cell of the demo's 1000 × 1200; DEM,
    climate and vector layers as generated): every stage runs in seconds."""
    from gep import demo

    full = folder / "full"
    demo.generate(full)
    data = folder / "data"
    data.mkdir()
    for p in full.iterdir():
        if p.suffix in (".gpkg", ".tif", ".csv") and not p.name.startswith("landcover_"):
            p.rename(data / p.name)
    for year in (2019, 2020):
        with rasterio.open(full / f"landcover_{year}.tif") as src:
            profile, t, cmap = src.profile, src.transform, src.colormap(1)
            arr = src.read(1)[2::5, 2::5]
        profile.update(height=arr.shape[0], width=arr.shape[1], tiled=True, blockxsize=64, blockysize=64,
                       transform=from_origin(t.c, t.f, t.a * 5, -t.e * 5))
        with rasterio.open(data / f"landcover_{year}.tif", "w", **profile) as dst:
            dst.write(arr, 1)
            dst.write_colormap(1, cmap)
    return data


def _workflow_config(folder: Path, data: Path, scheduler: str) -> Path:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg.pop("demo")
    cfg = yaml.safe_load(yaml.safe_dump(cfg, allow_unicode=True).replace("resources/demo", str(data)))
    name = scheduler.split(":")[0]
    cfg.update(years=[2019, 2020], output_dir=str(folder / f"results_{name}"),
               # 64-cell blocks: a dozen blocks per raster, so every scheduler gets several tasks per stage
               compute={"chunk_size": 64, "scheduler": scheduler, "workers": 2})
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def _outputs(out: Path) -> dict[str, bytes]:
    files = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out)
        if p.is_file() and not (set(rel.parts) & set(NOT_COMPARED)):
            files[str(rel)] = p.read_bytes()
    return files


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("GEP_TEST_ALL_SCHEDULERS"),
                    reason="four whole workflow runs (threads, processes, local-cluster, tcp://): run with "
                           "GEP_TEST_ALL_SCHEDULERS=1 (make test-schedulers)")
def test_every_stage_identical_on_every_scheduler(tmp_path):
    """The workflow (land cover 2 years × 2 region levels, terrain from the DEM, red line and protected areas,
    GEP Tier 1 and six Tier-2 services) run with compute.scheduler threads, processes, local-cluster and an
    existing tcp:// scheduler: every table and raster it writes is byte-identical."""
    data = _tiny_demo(tmp_path)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    results: dict[str, dict[str, bytes]] = {}
    wall: dict[str, float] = {}
    with _dask_cluster() as address:
        for scheduler in ("threads", "processes", "local-cluster", address):
            config = _workflow_config(tmp_path, data, scheduler)
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile",
                                  str(REPO / "workflow" / "Snakefile"), "--configfile", str(config), "--cores", "2",
                                  "--quiet", "rules", "--omit-from", "scorecard"],
                                 cwd=REPO, env=env, capture_output=True, text=True)
            wall[scheduler] = time.perf_counter() - t0
            assert res.returncode == 0, f"{scheduler}: {res.stderr[-3000:]}"
            results[scheduler] = _outputs(tmp_path / f"results_{scheduler.split(':')[0]}")
    print("wall time per run: " + ", ".join(f"{k} {v:.0f} s" for k, v in wall.items()))
    reference = results.pop("threads")
    tables = [k for k in reference if k.startswith("tables/")]
    # every stage wrote its tables: land cover, terrain/coverage, red line, GEP, at both levels
    for level in ("county", "township"):
        for name in ("landcover_area", "extent_account", "terrain_area", "forest_grass_coverage",
                     "protected_change", "redline_transition", "gep_services", "gep_summary", "carbon_stock"):
            assert f"tables/{level}/{name}.csv" in tables and f"tables/{level}/{name}.parquet" in tables
    assert "rasters/terrain_classes.tif" in reference and "rasters/gep/soil_retention_2020.tif" in reference
    for scheduler, files in results.items():
        assert sorted(files) == sorted(reference), scheduler
        differ = [k for k in reference if files[k] != reference[k]]
        assert not differ, f"{scheduler}: {differ}"
