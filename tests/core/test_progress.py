"""Progress of long computations (gep.core.compute.progress): lines of tasks done/total, rate and ETA in a job's
log at a modest rate, and the lines `gep run` shows."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import dask
import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
import yaml
from rasterio.transform import from_origin

from gep.core import compute
from gep.core.compute import Meter, progress, scheduler

GEP = [sys.executable, "-m", "gep.cli.main"]
LINE = re.compile(r"^gep: progress: (?P<label>.+): (?P<done>\d+)/(?P<total>\d+) tasks \((?P<pct>\d+)%\)"
                  r"(, (?P<rate>[\d.e+-]+) tasks/s, ETA (?P<eta>\d+ s|\d+ min \d\d s|\d+ h \d\d min|unknown)"
                  r"| in (?P<took>\d+ s|\d+ min \d\d s))$")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_meter_is_quiet_then_reports_every_interval_or_tenth():
    clock, out = Clock(), io.StringIO()
    meter = Meter("GEP rasters 2020", 100, stream=out, interval=10.0, live=False, clock=clock)
    for t, done in [(1, 5), (9.9, 20)]:  # the first 10 s: nothing (short work stays quiet)
        clock.now = t
        meter.update(done)
    assert out.getvalue() == ""
    clock.now = 10.0
    meter.update(25)  # 25 tasks in 10 s: 2.5/s, 75 left: 30 s
    clock.now = 12.0
    meter.update(27)  # 2 s later, same tenth: nothing
    clock.now = 13.0
    meter.update(30)  # a new tenth (30 %): a line; 30 in 13 s = 2.31/s, 70 left = 30.3 s
    clock.now = 23.5
    meter.update(31)  # 10.5 s after the last line: a line; 31/23.5 = 1.32/s, 69 left = 52.3 s
    clock.now = 200.0
    meter.update(100)
    meter.finish()
    assert out.getvalue().splitlines() == [
        "gep: progress: GEP rasters 2020: 25/100 tasks (25%), 2.5 tasks/s, ETA 30 s",
        "gep: progress: GEP rasters 2020: 30/100 tasks (30%), 2.31 tasks/s, ETA 30 s",
        "gep: progress: GEP rasters 2020: 31/100 tasks (31%), 1.32 tasks/s, ETA 52 s",
        "gep: progress: GEP rasters 2020: 100/100 tasks (100%) in 3 min 20 s",
    ]
    assert all(LINE.match(line) for line in out.getvalue().splitlines())


def test_short_work_prints_nothing_and_long_work_says_hours():
    clock, out = Clock(), io.StringIO()
    quick = Meter("quick", 10, stream=out, interval=10.0, live=False, clock=clock)
    for i in range(10):
        clock.now = i * 0.5
        quick.advance()
    quick.finish()
    assert out.getvalue() == ""
    clock.now = 0.0
    slow = Meter("province", 1000, stream=out, interval=10.0, live=False, clock=clock)
    clock.now = 40.0
    slow.update(10)  # 0.25 tasks/s: 990 left = 3960 s = 1 h 06 min
    assert out.getvalue() == "gep: progress: province: 10/1000 tasks (1%), 0.25 tasks/s, ETA 1 h 06 min\n"


def test_on_a_terminal_one_line_is_updated_in_place():
    clock, out = Clock(), io.StringIO()
    meter = Meter("terrain classes", 4, stream=out, interval=1.0, live=True, clock=clock)
    for t in (1.0, 2.0, 3.0):
        clock.now = t
        meter.advance()
    clock.now = 4.0
    meter.advance()
    meter.finish()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("4/4 tasks (100%) in 4 s\n")
    assert text.split("\r\x1b[K")[1:] == ["gep: progress: terrain classes: 1/4 tasks (25%), 1 tasks/s, ETA 3 s",
                                          "gep: progress: terrain classes: 2/4 tasks (50%), 1 tasks/s, ETA 2 s",
                                          "gep: progress: terrain classes: 3/4 tasks (75%), 1 tasks/s, ETA 1 s",
                                          "gep: progress: terrain classes: 4/4 tasks (100%) in 4 s\n"]


def test_a_job_log_gets_whole_lines_even_from_a_terminal(tmp_path):
    """`gep stage … --log FILE` run in a terminal: its stderr also writes the log, so lines, not updates in place."""
    from gep.cli.main import _Tee

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    with open(tmp_path / "job.log", "w", encoding="utf-8") as log:
        assert Meter("x", 1, stream=Terminal()).live or os.environ.get("CI")
        assert not Meter("x", 1, stream=_Tee(Terminal(), log)).live


def test_bad_interval_is_a_clear_error(monkeypatch):
    from gep.core.errors import InputError

    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(compute.INTERVAL_VAR, bad)
        with pytest.raises(InputError, match=f"GEP_PROGRESS_INTERVAL={bad}: not a number of seconds"):
            Meter("x", 1, stream=io.StringIO(), live=False)
        with pytest.raises(InputError, match="GEP_PROGRESS_INTERVAL"), progress("never runs"):
            raise AssertionError("the block ran")


@pytest.mark.parametrize("name", ["threads", "processes", "synchronous"])
def test_dask_computations_report_every_task(name, monkeypatch, capsys):
    """Each dask.compute in the block is one piece of work: its tasks counted by a dask callback."""
    monkeypatch.setenv(compute.INTERVAL_VAR, "0")
    x = da.ones((64, 64), chunks=16)  # 16 blocks
    with scheduler(name, 2), progress("sum"):
        assert int((x + 1).sum().compute()) == 2 * 64 * 64
        assert int(x.sum().compute()) == 64 * 64
    lines = capsys.readouterr().err.splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    finals = [m for m in parsed if m["took"]]
    assert len(finals) == 2 and all(m["done"] == m["total"] for m in finals)
    # graph sizes as dask counts them: tasks of the first compute then the second's
    totals = [int(m["total"]) for m in finals]
    assert all(t >= 16 for t in totals)
    for m in parsed:
        assert int(m["done"]) <= int(m["total"]) and m["label"] == "sum"


def _tiny_run(folder: Path, scheduler_name: str) -> Path:
    rng = np.random.default_rng(5)
    arr = rng.integers(1, 10, (256, 320)).astype(np.uint8)
    with rasterio.open(folder / "lc_2019.tif", "w", driver="GTiff", height=256, width=320, count=1, dtype="uint8",
                       crs="EPSG:4490", transform=from_origin(112.0, 28.1, 0.0005, 0.0005), nodata=0, tiled=True,
                       blockxsize=64, blockysize=64) as dst:
        dst.write(arr, 1)
    halves = [shapely.box(112.01, 27.98, 112.08, 28.09), shapely.box(112.08, 27.98, 112.15, 28.09)]
    gpd.GeoDataFrame({"code": ["01", "02"]}, geometry=halves, crs="EPSG:4490").to_file(folder / "r.gpkg")
    cfg = {"name": "progress", "output_dir": str(folder / "results"), "years": [2019],
           "landcover": {"path": str(folder / "lc_{year}.tif")},
           "regions": {"town": {"path": str(folder / "r.gpkg"), "id_field": "code"}},
           "compute": {"chunk_size": 64, "scheduler": scheduler_name}}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["threads", "processes", pytest.param("local-cluster", marks=pytest.mark.slow)])
def test_a_stage_writes_progress_into_its_log(tmp_path, name):
    """`gep stage account` on a 256×320 land cover in 64-cell blocks (20 blocks), with a forced tiny interval:
    its log holds progress lines with done/total, rate and ETA, ending at total."""
    config = _tiny_run(tmp_path, name)
    log = tmp_path / "results" / "logs" / "account_2019.log"
    res = subprocess.run(GEP + ["stage", "account", str(config), "--level", "town", "--year", "2019", "--threads",
                                "2", "--log", str(log)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, compute.INTERVAL_VAR: "0"})
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("gep: progress:")]
    parsed = [LINE.match(line) for line in lines]
    assert lines and all(parsed), lines
    assert {m["label"] for m in parsed} == {"accounting town 2019"}
    assert any(m["eta"] for m in parsed), lines
    assert parsed[-1]["took"] and parsed[-1]["done"] == parsed[-1]["total"]
    done = [int(m["done"]) for m in parsed]
    assert done == sorted(done)
    if name != "local-cluster":  # a dask graph of the 20 blocks (and the tasks that combine them)
        assert int(parsed[-1]["total"]) >= 20
    assert "gep: progress:" in res.stderr  # and on the console (Snakemake's output, which `gep run` filters)


def test_gep_run_shows_progress_lines(tmp_path):
    from gep.workflow.summary import run_workflow

    script = ("print('Building DAG of jobs...'); print('gep: progress: GEP rasters 2020: 3/10 tasks (30%), "
              "1.5 tasks/s, ETA 5 s'); print('1 of 5 steps (20%) done')")
    shown: list[str] = []
    rc, errors, _ = run_workflow([sys.executable, "-c", script], tmp_path / "workflow.log", echo=shown.append)
    assert rc == 0 and not errors
    assert shown == ["gep: progress: GEP rasters 2020: 3/10 tasks (30%), 1.5 tasks/s, ETA 5 s",
                     "1 of 5 steps (20%) done"]
    assert "Building DAG" in (tmp_path / "workflow.log").read_text(encoding="utf-8")
