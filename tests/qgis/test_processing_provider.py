"""The QGIS Processing provider in qgis/gep_processing, headless in real QGIS (python3-qgis, in a subprocess):
it loads and lists its algorithms; crosstab runs gep on a tiny raster and regions and adds the table to the
project; a bad config for validate shows gep's one-line error and adds nothing; a missing gep executable gives
a message naming where it was looked for. Skipped when QGIS cannot be imported (see tests/qgis_helpers.py)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from helpers_raster import write_gpkg, write_tif
from pyproj import Geod
from qgis_helpers import QGIS_PYTHON, SKIP_REASON, run_qgis_script
from shapely.geometry import box

pytestmark = [pytest.mark.skipif(QGIS_PYTHON is None, reason=SKIP_REASON), pytest.mark.slow]

# 4 × 3 cells of 0.01° at 110–110.04°E, 30–30.03°N; region A = the two western columns, B = the two eastern
CODES = np.array([[1, 1, 2, 2], [1, 2, 2, 3], [2, 2, 3, 3]], dtype=np.uint8)
X0, Y0, D = 110.0, 30.03, 0.01
REDLINE = box(X0 + 0.005, Y0 - 0.02, X0 + 0.015, Y0)  # inside region A


def _gep() -> str:
    exe = Path(sys.executable).parent / "gep"  # the gep of the environment running the tests
    return str(exe) if exe.is_file() else shutil.which("gep")


def _expected() -> dict:
    """Area per region × code: each cell's geodesic area on WGS84 (pyproj), summed (regions follow cell edges)."""
    geod = Geod(ellps="WGS84")
    out: dict = {}
    for r in range(3):
        for c in range(4):
            x, y = X0 + c * D, Y0 - r * D
            a, _ = geod.polygon_area_perimeter([x, x + D, x + D, x], [y, y, y - D, y - D])
            key = ("A" if c < 2 else "B", str(CODES[r, c]))
            out[key] = out.get(key, 0.0) + abs(a)
    return out


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    root = tmp_path_factory.mktemp("provider")
    lc = write_tif(root / "lc.tif", CODES, Affine(D, 0, X0, 0, -D, Y0), "EPSG:4326", nodata=0)
    regions = write_gpkg(root / "regions.gpkg", {"code": ["A", "B"], "name": ["甲", "乙"]},
                         [box(X0, Y0 - 3 * D, X0 + 2 * D, Y0), box(X0 + 2 * D, Y0 - 3 * D, X0 + 4 * D, Y0)],
                         "EPSG:4326")
    bad = root / "bad.yaml"  # the demo's config with one key misspelt: two problems, one line each
    text = (Path(__file__).resolve().parents[2] / "config" / "config.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("\nyears:", "\nyearz:", 1), encoding="utf-8")
    # DEM: 0 m in the west, 100 m in the east: relief 100 m (丘陵) within 2 km of the step, 0 m (平原) beyond
    dem = write_tif(root / "dem.tif", np.repeat(np.array([[0.0] * 6 + [100.0] * 6]), 9, axis=0).astype("float32"),
                    Affine(D / 3, 0, X0, 0, -D / 3, Y0), "EPSG:4326")
    redline = write_gpkg(root / "redline.gpkg", {"id": ["r1"]}, [REDLINE], "EPSG:4326")
    out = root / "out"
    out.mkdir()
    fake_gep, config, snakefile = _stand_in_workflow(root / "wf")
    return run_qgis_script("run_provider.py", _gep(), str(lc), str(regions), str(out), str(bad), str(dem),
                           str(redline), fake_gep, config, snakefile)


def _stand_in_workflow(root: Path) -> tuple[str, str, str]:
    """A gep and a snakemake standing in for a run: snakemake records its arguments and working folder, prints
    Snakemake's progress lines and leaves a finished run (scorecard/township/indicators.gpkg from the scorecard
    fixtures); gep where names the run's folder."""
    from test_scorecard_fixtures import YEARS, coverage_table, gep_table, protected_tables, regions as fx_regions

    from gep.scorecard import lianshan_index, load_lianshan_standard
    from gep.scorecard.geopackage import indicator_layer, write_indicators_gpkg

    bin_dir, run = root / "bin", root / "results"
    bin_dir.mkdir(parents=True)
    std = load_lianshan_standard("national")
    _, pc = protected_tables()
    index = lianshan_index(std, YEARS, fx_regions(), coverage=coverage_table(), protected_change=pc,
                           gep_summary=gep_table())
    ready = write_indicators_gpkg(root / "ready.gpkg", indicator_layer(fx_regions(), index, std,
                                                                       coverage=coverage_table()))
    py = f"#!{sys.executable}\nimport os, shutil, sys\n"
    (bin_dir / "snakemake").write_text(
        py + f"open({str(root / 'args.txt')!r}, 'w').write(repr((sys.argv[1:], os.getcwd())))\n"
        "print('Building DAG of jobs...')\nprint('1 of 2 steps (50%) done')\nprint('2 of 2 steps (100%) done')\n"
        f"os.makedirs({str(run / 'scorecard' / 'township')!r})\n"
        f"shutil.copy({str(ready)!r}, {str(run / 'scorecard' / 'township' / 'indicators.gpkg')!r})\n",
        encoding="utf-8")
    (bin_dir / "gep").write_text(py + f"print(\"gep: results of 'demo' are in {run}\")\n", encoding="utf-8")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    (root / "cfg").mkdir()
    (root / "cfg" / "my.yaml").write_text("name: demo\n", encoding="utf-8")
    (root / "Snakefile").write_text("# stand-in\n", encoding="utf-8")
    return str(bin_dir / "gep"), str(root / "cfg" / "my.yaml"), str(root / "Snakefile")


def test_provider_lists_its_algorithms(ran):
    assert ran["algorithms"] == ["gep:crosstab", "gep:protected_area", "gep:terrain", "gep:validate", "gep:workflow"]
    assert ran["unloaded"]


def test_crosstab_runs_gep_and_loads_its_table(ran):
    rec = ran["crosstab"]
    assert rec["error"] is None and rec["errors"] == [], rec
    assert len(rec["added"]) == 1
    table = rec["added"][0]
    assert table["valid"] and table["name"] == "area" and table["fields"][:3] == ["region_id", "region_name", "lc_code"]
    got = {(row[0], row[2]): float(row[3]) for row in table["rows"] if row[2] != "nodata"}
    want = _expected()
    assert set(got) == set(want)
    for key, area in want.items():
        assert got[key] == pytest.approx(area, rel=1e-7), key
    assert {row[1] for row in table["rows"]} == {"甲", "乙"}


def test_protected_area_table(ran):
    rec = ran["protected"]
    assert rec["error"] is None and len(rec["added"]) == 1, rec
    table = rec["added"][0]
    rows = {r[table["fields"].index("region_code")]: r for r in table["rows"]}
    area = float(rows["A"][table["fields"].index("area_km2")])
    want = abs(Geod(ellps="WGS84").geometry_area_perimeter(REDLINE)[0]) / 1e6
    assert area == pytest.approx(want, rel=1e-7)
    assert float(rows["B"][table["fields"].index("area_km2")]) == 0


def test_terrain_raster_loads_with_its_class_names(ran):
    rec = ran["terrain"]
    assert rec["error"] is None and len(rec["added"]) == 1, rec
    lyr = rec["added"][0]
    assert lyr["valid"] and lyr["renderer"] == "paletted"
    assert len(lyr["classes"]) == 6 and lyr["classes"][:2] == ["1 平原 plain", "2 丘陵 hill"]


def test_workflow_runs_snakemake_and_loads_the_styled_geopackage(ran, tmp_path_factory):
    rec = ran["workflow"]
    assert rec["error"] is None and rec["errors"] == [], rec
    assert "2 of 2 steps (100%) done" in rec["lines"]
    root = Path(rec["result"]["OUTPUT_DIR"]).parent
    args, cwd = eval((root / "args.txt").read_text(encoding="utf-8"))  # noqa: S307 - written by the stand-in
    assert args == ["--snakefile", str(root / "Snakefile"), "--configfile", str(root / "cfg" / "my.yaml"),
                    "--cores", "3", "--quiet", "rules"]
    assert Path(cwd) == root / "cfg"  # relative paths of the config: from its folder unless told otherwise
    layer = {a["name"]: a for a in rec["added"]}["township indicators"]
    assert layer["valid"] and (layer["renderer"], layer["attr"]) == ("categorizedSymbol", "coverage_status_2021")


def test_bad_config_shows_geps_one_line_errors_and_loads_nothing(ran):
    rec = ran["validate"]
    assert rec["added"] == []
    assert rec["errors"] == [line for line in rec["lines"] if line.startswith("gep validate: error: ")]
    assert [e.split(": ", 3)[3] for e in rec["errors"]] == [
        "key 'years' is missing; add it (see config/config.yaml and config/schema.json)",
        "key 'yearz' is not a known setting; check its spelling (see config/config.yaml and config/schema.json)"]
    assert rec["error"] == "\n".join(rec["errors"])


def test_missing_executable_names_where_it_looked(ran):
    rec = ran["missing"]
    assert rec["added"] == [] and not ran["missing_written"]
    assert rec["error"].startswith("gep executable not found: the environment variable GEP_EXECUTABLE is ")
    assert "/no/gep" in rec["error"] and rec["errors"] == [rec["error"]]
