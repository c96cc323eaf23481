"""Byte-identical tables whatever runs the dask graph: threads, processes, a LocalCluster, or a real
`dask scheduler` with two `dask worker` processes on 127.0.0.1 — and whatever the chunk size."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
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


def test_identical_on_a_real_dask_cluster(inputs):
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
        for _ in range(2):
            procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1",
                                           "--no-dashboard", "--memory-limit", "1GB"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=60)
            assert len(client.scheduler_info()["workers"]) == 2
        reference = _crosstab(inputs, "ref.csv", "--chunk", "64")
        assert _crosstab(inputs, "dist.csv", "--scheduler", address, "--chunk", "64") == reference
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


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
