"""A run killed with SIGKILL in the middle of a rule and started again gives byte-identical tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
import yaml
from rasterio.transform import from_origin

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile")]


def _inputs(folder: Path) -> None:
    rng = np.random.default_rng(11)
    for year in (2019, 2020, 2021):
        arr = rng.integers(1, 10, (600, 800)).astype(np.uint8)
        with rasterio.open(folder / f"lc_{year}.tif", "w", driver="GTiff", height=600, width=800, count=1,
                           dtype="uint8", crs="EPSG:4490", transform=from_origin(113.0, 29.0, 0.0003, 0.0003),
                           nodata=0, tiled=True, blockxsize=128, blockysize=128) as dst:
            dst.write(arr, 1)
    halves = [shapely.box(113.01, 28.83, 113.12, 28.99), shapely.box(113.12, 28.83, 113.23, 28.99)]
    gpd.GeoDataFrame({"code": ["01", "02"]}, geometry=halves, crs="EPSG:4490").to_file(folder / "r.gpkg")


def _config(folder: Path, out: str) -> Path:
    cfg = {"name": "resume", "output_dir": str(folder / out), "years": [2019, 2020, 2021],
           "landcover": {"path": str(folder / "lc_{year}.tif")},
           "regions": {"r": {"path": str(folder / "r.gpkg"), "id_field": "code"}},
           "compute": {"chunk_size": 128}}
    path = folder / f"{out}.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def _tables(folder: Path, out: str) -> dict[str, bytes]:
    base = folder / out / "tables"
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def test_sigkill_mid_rule_then_resume(tmp_path):
    _inputs(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    ref_cfg = _config(tmp_path, "ref")
    done = subprocess.run(SNAKEMAKE + ["--configfile", str(ref_cfg), "--cores", "1", "--quiet", "all"], cwd=REPO,
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]

    cfg = _config(tmp_path, "killed")
    proc = subprocess.Popen(SNAKEMAKE + ["--configfile", str(cfg), "--cores", "1", "--quiet", "all"], cwd=REPO,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    logs = tmp_path / "killed" / "logs"
    deadline = time.time() + 120
    while time.time() < deadline and not (logs.exists() and any(logs.glob("account_*"))):
        time.sleep(0.05)
    time.sleep(0.3)  # inside the rule's computation
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "tables").exists(), "killed too late to test a resume"
    leftovers = [p for p in (tmp_path / "killed").rglob("*") if ".tmp" in p.name]
    for p in leftovers:  # a killed writer may leave its temporary; it is never mistaken for an output
        assert p.name.startswith(".")
    subprocess.run(SNAKEMAKE + ["--configfile", str(cfg), "--unlock"], cwd=REPO, env=env, capture_output=True)
    again = subprocess.run(SNAKEMAKE + ["--configfile", str(cfg), "--cores", "1", "--quiet", "--rerun-incomplete",
                                        "all"], cwd=REPO, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _tables(tmp_path, "killed") == _tables(tmp_path, "ref")


def test_tile_groups_merge_exactly(tmp_path):
    """compute.tile_groups splits each raster into jobs whose partial tables merge to the identical result."""
    _inputs(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    one = _config(tmp_path, "one")
    split = _config(tmp_path, "split")
    data = yaml.safe_load(split.read_text(encoding="utf-8"))
    data["compute"]["tile_groups"] = 3
    split.write_text(yaml.safe_dump(data), encoding="utf-8")
    for cfg in (one, split):
        res = subprocess.run(SNAKEMAKE + ["--configfile", str(cfg), "--cores", "2", "--quiet", "all"], cwd=REPO,
                             env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[-2000:]
    parts = sorted((tmp_path / "split" / "interim" / "r" / "parts").glob("crosstab_2019_*.parquet"))
    assert len(parts) == 3
    import pandas as pd

    sizes = [len(pd.read_parquet(p)) for p in parts]
    assert all(n > 0 for n in sizes)
    assert _tables(tmp_path, "split") == _tables(tmp_path, "one")
    assert (tmp_path / "split/interim/r/crosstab_2019.parquet").read_bytes() == \
        (tmp_path / "one/interim/r/crosstab_2019.parquet").read_bytes()
