"""The Snakemake workflow end to end on a tiny config: numbers checked against an independent brute force."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import yaml
from rasterio.transform import from_origin

from gep.vector.geodesy import lonlat_box_area_m2

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
ORIGIN = (112.0, 28.1)
RES = 0.001
SHAPE = (120, 150)  # rows, cols


def _cell_area_m2(row: int) -> float:
    lat_top = ORIGIN[1] - row * RES
    return lonlat_box_area_m2(0.0, lat_top - RES, RES, lat_top, 4490)


def _write_years(folder: Path) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(7)
    base = rng.integers(1, 10, SHAPE).astype(np.uint8)
    base[10:14, 20:30] = 0  # a nodata gap inside region A
    later = base.copy()
    later[60:80, 40:70] = 8  # urban growth
    later[90:100, 100:120] = 2  # afforestation
    arrays = {2019: base, 2020: later}
    for year, arr in arrays.items():
        with rasterio.open(folder / f"lc_{year}.tif", "w", driver="GTiff", height=SHAPE[0], width=SHAPE[1], count=1,
                           dtype="uint8", crs="EPSG:4490", transform=from_origin(*ORIGIN, RES, RES), nodata=0,
                           tiled=True, blockxsize=32, blockysize=32) as dst:
            dst.write(arr, 1)
    return arrays


def _regions() -> gpd.GeoDataFrame:
    outline = shapely.Polygon([(112.013, 28.093), (112.139, 28.097), (112.142, 27.993), (112.021, 27.987)])
    cut = shapely.LineString([(112.0, 28.2), (112.09, 27.9)]).buffer(1e-12)
    a, b = sorted(shapely.get_parts(shapely.difference(outline, cut)), key=lambda g: g.centroid.x)
    return gpd.GeoDataFrame({"code": ["430100000001", "430100000002"], "name": ["甲镇", "乙乡"]},
                            geometry=[a, b], crs="EPSG:4490")


def _brute_force(arr: np.ndarray, poly) -> dict[int, float]:
    """Area (m²) per code: every cell's exact intersection fraction × its analytic ellipsoidal area."""
    rows, cols = np.indices(SHAPE)
    x0 = ORIGIN[0] + cols * RES
    y1 = ORIGIN[1] - rows * RES
    boxes = shapely.box(x0.ravel(), (y1 - RES).ravel(), (x0 + RES).ravel(), y1.ravel())
    frac = shapely.area(shapely.intersection(boxes, poly)) / (RES * RES)
    area = frac * np.array([_cell_area_m2(r) for r in range(SHAPE[0])])[rows.ravel()]
    out: dict[int, float] = {}
    for code in np.unique(arr):
        out[int(code)] = float(area[arr.ravel() == code].sum())
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wf")
    arrays = _write_years(folder)
    regions = _regions()
    regions.to_file(folder / "towns.gpkg", layer="towns")
    cfg = {
        "name": "tiny",
        "output_dir": str(folder / "results"),
        "years": [2019, 2020],
        "landcover": {"path": str(folder / "lc_{year}.tif"), "scheme": "clcd"},
        "regions": {"town": {"path": str(folder / "towns.gpkg"), "id_field": "code", "name_field": "name"}},
        "compute": {"chunk_size": 64},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(SNAKEMAKE + ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--configfile",
                                       str(folder / "config.yaml"), "--cores", "2", "--quiet", "rules"],
                          cwd=REPO, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder, arrays, regions, env


def test_landcover_area_matches_brute_force(run):
    folder, arrays, regions, _ = run
    table = pd.read_csv(folder / "results/tables/town/landcover_area.csv", dtype={"region_code": str})
    for year, arr in arrays.items():
        for code, poly in zip(regions["code"], regions.geometry):
            expected = _brute_force(arr, poly)
            got = table[(table.region_code == code) & (table.year == year)].set_index("lc_code")["area_km2"]
            for lc in range(1, 10):
                assert got.get(lc, 0.0) * 1e6 == pytest.approx(expected.get(lc, 0.0), rel=1e-6, abs=1.0)


def test_region_area_and_nodata(run):
    folder, arrays, regions, _ = run
    ra = pd.read_csv(folder / "results/tables/town/region_area.csv", dtype={"region_code": str})
    assert list(ra.columns) == ["region_code", "region_name", "year", "polygon_area_km2", "valid_km2",
                                "nodata_km2", "unknown_codes_km2", "unknown_codes_pct", "outside_raster_km2",
                                "area_check_pct"]
    assert (ra.unknown_codes_km2 == 0).all()  # every code of the rasters is in the scheme
    for year, arr in arrays.items():
        for code, poly in zip(regions["code"], regions.geometry):
            row = ra[(ra.region_code == code) & (ra.year == year)].iloc[0]
            bf = _brute_force(arr, poly)
            assert row.nodata_km2 * 1e6 == pytest.approx(bf.get(0, 0.0), rel=1e-6, abs=1.0)
            assert (row.valid_km2 + row.nodata_km2) == pytest.approx(row.polygon_area_km2, rel=1e-5)
    # the nodata gap lies in the western region only
    west = ra[ra.region_code == "430100000001"]
    assert (west.nodata_km2 > 0.1).all()
    assert (ra[ra.region_code == "430100000002"].nodata_km2 == 0).all()


def test_extent_account_identities(run):
    folder, *_ = run
    lc = pd.read_csv(folder / "results/tables/town/landcover_area.csv", dtype={"region_code": str})
    ext = pd.read_csv(folder / "results/tables/town/extent_account.csv", dtype={"region_code": str, "lc_code": str})
    ext = ext[ext.lc_code != "nodata"].copy()
    ext["lc_code"] = ext["lc_code"].astype(int)
    merged = ext.merge(lc[lc.year == 2019][["region_code", "lc_code", "area_km2"]], on=["region_code", "lc_code"])
    assert np.allclose(merged.opening_km2, merged.area_km2, atol=1e-9)
    merged = ext.merge(lc[lc.year == 2020][["region_code", "lc_code", "area_km2"]], on=["region_code", "lc_code"])
    assert np.allclose(merged.closing_km2, merged.area_km2, atol=1e-9)
    assert np.allclose(ext.closing_km2 - ext.opening_km2, ext.net_change_km2, atol=1e-9)
    built = ext[ext.lc_code == 8].set_index("region_code")
    assert built.additions_km2.sum() > 1.0  # the urban growth block


def test_rerun_is_a_no_op_and_tables_are_stable(run):
    folder, _, _, env = run
    before = (folder / "results/tables/town/landcover_area.csv").read_bytes()
    proc = subprocess.run(SNAKEMAKE + ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--configfile",
                                       str(folder / "config.yaml"), "--cores", "2", "-n"],
                          cwd=REPO, capture_output=True, text=True, env=env)
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr
    assert (folder / "results/tables/town/landcover_area.csv").read_bytes() == before


def _dry_run_jobs(folder: Path, cfg: dict, env: dict) -> Counter:
    """How many jobs of each rule a run with ``cfg`` (over the fixture's results) would run."""
    (folder / "variant.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run(SNAKEMAKE + ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--configfile",
                                       str(folder / "variant.yaml"), "--cores", "2", "-n"],
                          cwd=REPO, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return Counter(re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, re.M)) - Counter(["all"])


def test_settings_that_change_no_number_redo_nothing(run):
    """Each rule's params hold the config values its job uses (Snakemake redoes a job whose params changed): a
    run moved to other compute settings (and to a config file elsewhere) redoes nothing, a new name redoes only
    what shows it, and a new area tolerance the accounting."""
    folder, _, _, env = run
    cfg = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    compute = {**cfg, "compute": {"chunk_size": 128, "scheduler": "processes", "workers": 2}}
    assert not _dry_run_jobs(folder, compute, env)
    assert set(_dry_run_jobs(folder, {**cfg, "name": "另一个名字"}, env)) == {"provenance", "scorecard"}
    checks = {**cfg, "checks": {"area_tolerance_pct": 0.2}}
    assert {"validate_inputs", "account", "landcover_tables"} <= set(_dry_run_jobs(folder, checks, env))
    assert not _dry_run_jobs(folder, cfg, env)  # back to the settings of the results: nothing to redo


def test_adding_a_year_accounts_that_year_alone(run):
    """The yearly update: a new year is checked and accounted on its own (one account, one transition), and
    only the tables that span every year are redone."""
    folder, arrays, _, env = run
    with rasterio.open(folder / "lc_2020.tif") as src:
        profile, data = src.profile, src.read(1)
    with rasterio.open(folder / "lc_2021.tif", "w", **profile) as dst:
        dst.write(np.where(data == 2, 8, data), 1)
    cfg = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    jobs = _dry_run_jobs(folder, {**cfg, "years": [2019, 2020, 2021]}, env)
    assert jobs == Counter({"validate_year": 1, "account": 1, "transition": 1, "landcover_tables": 1,
                            "provenance": 1, "scorecard": 1}), jobs
    assert not _dry_run_jobs(folder, cfg, env)


def test_a_dry_run_writes_nothing(tmp_path):
    """Parsing the workflow writes no file: a dry run into an empty output folder leaves it empty (and writes no
    demo data)."""
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    out = tmp_path / "results"
    out.mkdir()
    text = yaml.safe_dump({**cfg, "output_dir": str(out)}, allow_unicode=True)
    (tmp_path / "config.yaml").write_text(text.replace("resources/demo", str(tmp_path / "data")), encoding="utf-8")
    proc = subprocess.run(SNAKEMAKE + ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--configfile",
                                       str(tmp_path / "config.yaml"), "--cores", "2", "-n"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "gep_tables" in proc.stdout + proc.stderr  # the whole run would run …
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["config.yaml", "results"]  # … and nothing was written


def test_values_not_in_the_config_file_are_refused(run):
    """Every job reads the config file: a value given on Snakemake's command line would not reach them, so the
    workflow refuses it (one line, exit 2) instead of running with two configs."""
    folder, _, _, env = run
    proc = subprocess.run(SNAKEMAKE + ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--configfile",
                                       str(folder / "config.yaml"), "--config", "name=other", "--cores", "1", "-n"],
                          cwd=REPO, capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert (f"gep: error: the workflow's jobs read their settings from one config file ({folder / 'config.yaml'}); "
            "put the values given with --config or another --configfile into it") in proc.stderr


def test_bad_config_stops_before_any_work(tmp_path):
    cfg = {"name": "bad", "output_dir": str(tmp_path / "out"), "landcover": {"path": "x.tif"},
           "regions": {"town": {"path": "r.gpkg", "id_field": "code"}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    proc = subprocess.run(SNAKEMAKE + ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--configfile",
                                       str(tmp_path / "config.yaml"), "--cores", "1"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "key 'years' is missing" in proc.stderr
    assert "landcover.path" in proc.stderr and "{year}" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_provenance_records_inputs_and_versions(run):
    import json

    folder, *_ = run
    prov = json.loads((folder / "results/provenance.json").read_text(encoding="utf-8"))
    assert set(prov) >= {"config", "inputs", "outputs", "versions", "gep_commit", "created"}
    from gep.io.provenance import sha256

    lc = folder / "lc_2019.tif"
    assert prov["inputs"][str(lc)] == sha256(lc)
    assert any(k.endswith("landcover_area.csv") for k in prov["outputs"])
    assert "rasterio" in prov["versions"] and "GDAL" in prov["versions"]


def test_published_year_is_never_silently_changed(run, tmp_path):
    """Publish 2019, change the 2019 input, rerun: the run stops with a diff; `republish` lets it through."""
    import shutil

    folder, arrays, _, env = run
    work = tmp_path / "copy"
    shutil.copytree(folder, work)
    cfg = yaml.safe_load((work / "config.yaml").read_text(encoding="utf-8"))
    cfg["output_dir"] = str(work / "results")
    cfg["landcover"]["path"] = str(work / "lc_{year}.tif")
    cfg["regions"]["town"]["path"] = str(work / "towns.gpkg")
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    gep = [sys.executable, "-m", "gep.cli.main"]
    smk = SNAKEMAKE + ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--configfile", str(work / "config.yaml"),
                       "--cores", "2", "--quiet", "rules"]
    assert subprocess.run(smk, cwd=REPO, env=env, capture_output=True).returncode == 0
    pub = subprocess.run(gep + ["publish", str(work / "config.yaml"), "2019"], capture_output=True, text=True)
    assert pub.returncode == 0, pub.stderr
    frozen = work / "results/published/2019/town/landcover_area.csv"
    assert frozen.exists() and not os.access(frozen, os.W_OK) or os.geteuid() == 0
    again = subprocess.run(gep + ["publish", str(work / "config.yaml"), "2019"], capture_output=True, text=True)
    assert again.returncode == 2 and "already published" in again.stderr
    # a corrected 2019 raster: one block of cropland becomes forest
    arr = arrays[2019].copy()
    arr[30:50, 30:60] = 2
    with rasterio.open(work / "lc_2019.tif", "r+") as dst:
        dst.write(arr, 1)
    before = {p: p.read_bytes() for p in sorted((work / "results").rglob("*"))
              if p.is_file() and not {"logs", "benchmarks", ".gep"} & set(p.relative_to(work / "results").parts)}
    res = subprocess.run(smk, cwd=REPO, env=env, capture_output=True, text=True)
    assert res.returncode != 0
    assert "published 2019 numbers would change" in res.stdout + res.stderr
    # the refused run removed nothing: every earlier result is in place, byte for byte (docs/methods.md §8.1)
    # (jobs of the failed run that succeeded, e.g. the 2019 crosstab, rewrote their own files; the tables the
    # refused job would have replaced are the earlier ones)
    lost = [str(p) for p, data in before.items() if not p.exists()
            or ("tables" in p.parts and p.read_bytes() != data)]
    assert not lost, lost[:5]
    assert "they are back in place" in res.stderr
    assert (work / "results/tables/town/landcover_area.csv") in before
    assert not (work / "results/.gep/keep").exists()
    assert "inputs changed" in res.stdout + res.stderr and "lc_2019.tif" in res.stdout + res.stderr
    assert frozen.read_bytes() == (folder / "results/published/2019/town/landcover_area.csv").read_bytes() \
        if (folder / "results/published").exists() else True
    cfg["republish"] = [2019]
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    ok = subprocess.run(smk, cwd=REPO, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr[-2000:]


def _fresh_run(run, tmp_path, change) -> tuple[subprocess.CompletedProcess, Path]:
    """Run the workflow on the fixture's inputs into a new output folder, with ``change(cfg, out)`` applied."""
    folder, _, _, env = run
    cfg = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    out = tmp_path / "results"
    cfg["output_dir"] = str(out)
    change(cfg, out)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    res = subprocess.run(SNAKEMAKE + ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--configfile", str(path),
                                      "--cores", "1", "--quiet", "rules"], cwd=REPO, env=env, capture_output=True,
                         text=True)
    return res, out


def test_a_bad_table_stops_the_run_before_any_job(run, tmp_path):
    """A deflator without an accounting year: the GEP stage would fail late; the run stops before its first job
    with gep's one line, and writes nothing (docs/methods.md §8.1)."""
    def change(cfg, out):
        (tmp_path / "deflator.csv").write_text("year,index\n2010,100\n2019,119.5\n", encoding="utf-8")
        cfg["gep"] = {"services": ["tier1"], "deflator": str(tmp_path / "deflator.csv")}

    res, out = _fresh_run(run, tmp_path, change)
    assert res.returncode == 2, res.stderr[-2000:]
    errors = [line for line in res.stderr.splitlines() if line.startswith("gep: error:")]
    assert len(errors) == 1 and "gep.deflator" in errors[0] and "2020" in errors[0], res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


def test_an_output_folder_in_use_is_refused(run, tmp_path):
    """A live run (here: this test's own process, from another working folder) holds the output folder."""
    import json
    import socket

    def change(cfg, out):
        (out / ".gep").mkdir(parents=True)
        (out / ".gep" / "run.lock").write_text(json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "cwd": "/elsewhere", "since": "today"}))

    res, out = _fresh_run(run, tmp_path, change)
    assert res.returncode == 2, res.stderr[-2000:]
    assert "in use by another gep run" in res.stderr and "/elsewhere" in res.stderr
    assert [p.name for p in out.rglob("*") if p.is_file()] == ["run.lock"]


def test_workflow_is_lint_clean():
    proc = subprocess.run(SNAKEMAKE + ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--lint"], cwd=REPO,
                          capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    if "Congratulations, your workflow is in a good condition" in out:
        return
    # The one lint accepted, by design: every job reads the user's config file, named by CONFIG_FILE in its
    # command. The values each rule uses are its params; the file's path is not, since a params change redoes
    # a job and a run moved to another folder (or started from a copy of the config) would then redo all.
    lints = re.findall(r"^    \* (.+)$", out, flags=re.M)
    assert lints, out[-2000:]
    assert set(lints) == {"Shell command directly uses variable CONFIG_FILE from outside of the rule:"}, out[-3000:]
