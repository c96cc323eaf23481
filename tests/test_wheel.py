"""The installable wheel: built with ``pip wheel . --no-deps``, installed into a fresh virtual environment and run
from a folder outside the repository, it holds every module and reference file and its three entry points work:
``gep crosstab``, ``gep demo-data`` and the demo workflow (the repository's Snakefile run by the fresh
environment's Python, so every ``gep`` the rules call is the wheel's).

Dependencies of the fresh environment, by ``GEP_WHEEL_DEPS``:

- ``link`` (the default, offline, seconds): the distributions the wheel declares (Requires-Dist, followed
  through their own requirements and extras) are linked from the environment running the tests, and nothing
  else. A dependency missing from pyproject.toml is then missing in the fresh environment too (``pip check``
  and the runs fail), and the test extras (pytest, exactextract, …) and the editable gep stay invisible.
- ``index``: ``pip install WHEEL`` resolves the dependencies from the package index, pinned to the versions
  of the environment running the tests (the route a user takes; minutes, needs the network).
  ``make test-wheel`` runs this route.
"""

from __future__ import annotations

import email.parser
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from pyproj import CRS

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DEPS_ROUTE = os.environ.get("GEP_WHEEL_DEPS", "link")


def _run(cmd: list, cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, (f"{' '.join(map(str, cmd))} exited {res.returncode}\n"
                                 f"stdout:\n{res.stdout[-3000:]}\nstderr:\n{res.stderr[-5000:]}")
    return res


def _copy_sources(dest: Path) -> None:
    """The repository's files as a checkout has them (tracked and new files, not ignored ones such as .venv,
    build output or results), so the wheel is built from the sources alone and nothing is written into the
    repository."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                                capture_output=True, check=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: what the build reads
        listed = ["pyproject.toml", "README.md"] + [str(p.relative_to(REPO)) for p in (REPO / "src").rglob("*")
                                                    if "__pycache__" not in p.parts and ".egg-info" not in str(p)]
    for name in filter(None, listed):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    _copy_sources(src)
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", work / "dist", "--quiet"], cwd=src)
    (built,) = (work / "dist").glob("gep-*.whl")
    return built


def _requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(zf.read(meta).decode()).get_all("Requires-Dist") or []


def _dependency_closure(requirements: list[str]) -> list:
    """The installed distributions (of the environment running the tests) that ``requirements`` need, followed
    through their own requirements and the extras asked for."""
    import importlib.metadata as md

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, md.Distribution] = {}
    seen: set[tuple[str, str]] = set()
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        for wanted in [""] + sorted(req.extras):
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            try:
                dist = found.setdefault(name, md.distribution(req.name))
            except md.PackageNotFoundError:
                pytest.fail(f"{req.name}, a dependency of the wheel, is not installed in {sys.prefix}: run `make venv`")
            todo += [(Requirement(r), wanted) for r in dist.requires or []]
    return list(found.values())


def _link_dependencies(wheel: Path, site: Path, deps: Path) -> None:
    """Link the top-level entries (packages, modules, .dist-info) of every distribution the wheel needs into
    ``deps`` and put ``deps`` on the fresh environment's path (a plain path in a .pth file: the .pth files of
    ``deps`` are not run)."""
    deps.mkdir()
    for dist in _dependency_closure(_requirements(wheel)):
        assert dist.files, f"{dist.metadata['Name']} lists no files (no RECORD): install it with pip"
        for top in {f.parts[0] for f in dist.files if f.parts and f.parts[0] not in ("..", "__pycache__")}:
            target = Path(dist.locate_file(top))
            if target.exists() and not (deps / top).exists():
                (deps / top).symlink_to(target)
    (site / "gep_test_dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")


def _environment(venv: Path) -> dict:
    """Variables for commands in the fresh environment: its bin first on PATH; the test runner's bin, PYTHONPATH
    (which may point at the repository's src) and VIRTUAL_ENV removed."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    runner_bin = Path(sys.executable).parent
    keep = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and not (sys.prefix != sys.base_prefix and Path(p) == runner_bin)]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *keep])
    return env


@pytest.fixture(scope="module")
def fresh(wheel, tmp_path_factory) -> dict:
    """A fresh virtual environment with the wheel installed; commands run in ``work``, outside the repository."""
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=root)
    python = venv / "bin" / "python"
    env = _environment(venv)
    if DEPS_ROUTE == "index":
        pins = root / "pins.txt"
        pins.write_text(_run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], cwd=root).stdout)
        _run([python, "-m", "pip", "install", "--quiet", "--constraint", pins, wheel], cwd=root, env=env)
    else:
        assert DEPS_ROUTE == "link", f"GEP_WHEEL_DEPS={DEPS_ROUTE!r}: use link or index"
        site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root,
                         env=env).stdout.strip())
        _link_dependencies(wheel, site, root / "deps")
        _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel], cwd=root, env=env)
    _run([python, "-m", "pip", "check"], cwd=root, env=env)
    work = root / "work"
    work.mkdir()
    return {"venv": venv, "python": python, "env": env, "work": work}


def _under(path: Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_wheel_holds_every_module_reference_file_and_the_command(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    package = REPO / "src" / "gep"
    expected = {"gep/" + p.relative_to(package).as_posix() for p in package.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert any(n.startswith("gep/data/classes/") for n in expected)  # the reference data are part of the check
    assert sorted(expected - names) == []
    assert "gep = gep.cli.main:console" in entry_points


def test_installed_gep_is_the_wheels_not_the_repositorys(fresh):
    out = _run([fresh["python"], "-c", "import json, gep, gep.core.resources as r, importlib.metadata as md; "
                "print(json.dumps({'module': gep.__file__, 'data': str(r.DATA_DIR), "
                "'version': md.version('gep')}))"], cwd=fresh["work"], env=fresh["env"])
    where = json.loads(out.stdout)
    for key in ("module", "data"):
        assert _under(where[key], fresh["venv"]), where
        assert not _under(where[key], REPO), where
    assert (Path(where["data"]) / "classes" / "clcd.yaml").is_file()
    assert shutil.which("gep", path=fresh["env"]["PATH"]) == str(fresh["venv"] / "bin" / "gep")
    # the test extras of the project's environment are not there
    assert _run([fresh["python"], "-c", "import importlib.util as u; print(u.find_spec('pytest') is None)"],
                cwd=fresh["work"], env=fresh["env"]).stdout.strip() == "True"


@pytest.fixture(scope="module")
def demo_data(fresh) -> Path:
    out = fresh["work"] / "demo-data"
    _run(["gep", "demo-data", out], cwd=fresh["work"], env=fresh["env"])
    return out


def test_demo_data_from_the_installed_wheel(demo_data):
    manifest = json.loads((demo_data / "demo_manifest.json").read_text(encoding="utf-8"))
    assert manifest["generator"] == "gep.demo"
    roles = {f["role"] for f in manifest["files"]}
    assert {"landcover", "dem", "county", "townships", "redline", "protected"} <= roles
    for f in manifest["files"]:
        assert (demo_data / f["path"]).is_file(), f


def test_crosstab_from_the_installed_wheel_matches_geodesic_areas(fresh, demo_data):
    out = fresh["work"] / "o.csv"
    regions = demo_data / "townships.gpkg"
    _run(["gep", "crosstab", demo_data / "landcover_2019.tif", regions, "--id-field", "code", "--out", out,
          "--classes", "clcd"], cwd=fresh["work"], env=fresh["env"])
    table = pd.read_csv(out, dtype={"region_id": str, "lc_code": str})
    total = table.groupby("region_id")["area_m2"].sum()
    # independently: the regions' area on the CRS's ellipsoid (pyproj.Geod, edges densified to 0.0005°)
    gdf = gpd.read_file(regions)
    geod = CRS(gdf.crs).get_geod()
    expected = pd.Series([abs(geod.geometry_area_perimeter(shapely.segmentize(g, 0.0005))[0]) for g in gdf.geometry],
                         index=gdf["code"].astype(str))
    assert len(expected) > 1 and set(total.index) == set(expected.index)
    rel = ((total.reindex(expected.index) - expected) / expected).abs()
    assert rel.max() <= 1e-6, rel.sort_values().tail()
    assert table["lc_code"].isin([str(c) for c in range(1, 10)] + ["nodata"]).all()


def test_demo_workflow_with_the_installed_wheel(fresh):
    """The repository's Snakefile, run by the fresh environment's Python from a folder outside the repository,
    on the demo configuration with its data and results in that folder."""
    work = fresh["work"] / "workflow"
    work.mkdir()
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    data = work / "demo"
    cfg["output_dir"] = str(work / "results")
    cfg["demo"]["dir"] = str(data)
    assert cfg["demo"]["generate"] is True
    text = yaml.safe_dump(cfg, allow_unicode=True).replace("resources/demo", str(data))
    (work / "config.yaml").write_text(text, encoding="utf-8")
    _run([fresh["python"], "-m", "snakemake", "--snakefile", REPO / "workflow" / "Snakefile", "--configfile",
          work / "config.yaml", "--directory", work, "--cores", "2", "--quiet", "rules"], cwd=work,
         env=fresh["env"], timeout=1800)
    assert (data / "demo_manifest.json").is_file()  # generated by the workflow's own `gep demo-data`
    tables = work / "results" / "tables"
    for level in cfg["regions"]:
        area = pd.read_csv(tables / level / "landcover_area.csv", dtype={"region_code": str})
        assert set(area["year"]) == set(cfg["years"])
        assert len(list((tables / level).glob("*.csv"))) > 1
    # the county's area in every year (land cover, nodata, outside the raster) is its ellipsoidal area, and its
    # land-cover classes add up to the area with land cover
    county = gpd.read_file(data / "county.gpkg")
    geod = CRS(county.crs).get_geod()
    expected_km2 = abs(geod.geometry_area_perimeter(shapely.segmentize(county.geometry[0], 0.0005))[0]) / 1e6
    region = pd.read_csv(tables / "county" / "region_area.csv", dtype={"region_code": str}).set_index("year")
    parts = region["valid_km2"] + region["nodata_km2"] + region["outside_raster_km2"]
    np.testing.assert_allclose(parts, expected_km2, rtol=1e-6)
    area = pd.read_csv(tables / "county" / "landcover_area.csv", dtype={"region_code": str})
    classes = area.groupby("year")["area_cm2"].sum() / 1e10
    np.testing.assert_allclose(classes.reindex(region.index), region["valid_km2"], rtol=1e-9)
