"""``gep crosstab`` end to end through a subprocess: the table it writes, and how it refuses bad input.

All command runs are started together by one module fixture (a few at a time) to keep the file fast.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from gep.accounting.classes import load_scheme
from gep.accounting.landcover import LandcoverRaster, crosstab_table
from gep.vector.regions import read_regions

from helpers_raster import write_gpkg, write_tif

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

T = Affine(0.001, 0, 114.0, 0, -0.001, 30.2)
SHAPE = (200, 240)
CRS_TEXT = "EPSG:4490"
IDS = ["0101", "0102", "0007"]
NAMES = ["甲区", "乙区", "丙区"]


def region_geoms():
    """Two neighbours sharing an edge and a detached one, in lon/lat, edges cutting cells."""
    west = shapely.Polygon([(114.0123, 30.1877), (114.1211, 30.1912), (114.1311, 30.0833), (114.0311, 30.0507)])
    east = shapely.Polygon([(114.1211, 30.1912), (114.2307, 30.1734), (114.2187, 30.0711), (114.1311, 30.0833)])
    hole = shapely.Polygon([(114.05, 30.14), (114.07, 30.14), (114.07, 30.12)])
    west = west.difference(hole)
    south = shapely.Polygon([(114.1503, 30.0614), (114.2104, 30.0459), (114.1782, 30.0197), (114.1401, 30.0293)])
    return [west, east, south]


def landcover(seed=1, extra_codes=()):
    rng = np.random.default_rng(seed)
    lc = rng.integers(1, 10, SHAPE).astype(np.uint8)
    lc[20:60, 30:80] = 0      # nodata inside the west region and across its edge
    lc[150:200, 0:30] = 0     # nodata outside every region
    for k, code in enumerate(extra_codes):
        lc[100 + 10 * k: 105 + 10 * k, 50:57] = code   # inside the west region
    return lc


def geod_area_m2(geom, crs_text=CRS_TEXT) -> float:
    """Independent geodesic area of a lon/lat polygon (densified parallels/meridians)."""
    geod = CRS.from_user_input(crs_text).get_geod()
    total = 0.0
    for p in shapely.get_parts(shapely.segmentize(geom, 0.0002)):
        total += abs(geod.polygon_area_perimeter(*map(np.asarray, p.exterior.xy))[0])
        total -= sum(abs(geod.polygon_area_perimeter(*map(np.asarray, r.xy))[0]) for r in p.interiors)
    return total


def gep_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "gep.cli.main", "crosstab", *map(str, args)]


def _run(argv):
    env = dict(os.environ, CI="1")
    proc = subprocess.run(argv, capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """Build every input, run every command (4 at a time); return inputs and {case: (rc, stdout, stderr, out)}."""
    d = tmp_path_factory.mktemp("cli")
    geoms = region_geoms()
    files = {
        "lc": write_tif(d / "lc.tif", landcover(), T, CRS_TEXT, nodata=0),
        "regions": write_gpkg(d / "regions.gpkg", {"code": IDS, "name": NAMES}, geoms, CRS_TEXT),
    }
    unknown_lc = landcover(extra_codes=(42, 200))
    files["unknown"] = write_tif(d / "unknown.tif", unknown_lc, T, CRS_TEXT, nodata=0)
    files["float"] = write_tif(d / "float.tif", landcover().astype(np.float32), T, CRS_TEXT, nodata=0)
    files["nocrs"] = write_tif(d / "nocrs.tif", landcover(), T, None, nodata=0)
    files["dup"] = write_gpkg(d / "dup.gpkg", {"code": ["0101", "0102", "0101"], "name": NAMES}, geoms, CRS_TEXT)
    files["empty"] = write_gpkg(d / "empty.gpkg", {"code": ["0101", "", None], "name": NAMES}, geoms, CRS_TEXT)
    lc, reg = files["lc"], files["regions"]
    cases = {
        "csv": gep_cmd(lc, reg, "--id-field", "code", "--name-field", "name", "--classes", "clcd",
                       "--out", d / "out.csv"),
        "parquet": gep_cmd(lc, reg, "--id-field", "code", "--classes", "clcd", "--chunk", "64",
                           "--out", d / "out.parquet"),
        "found_codes": gep_cmd(files["unknown"], reg, "--id-field", "code", "--out", d / "found.csv"),
        "missing_raster": gep_cmd(d / "missing.tif", reg, "--id-field", "code", "--out", d / "e1.csv"),
        "missing_regions": gep_cmd(lc, d / "missing.gpkg", "--id-field", "code", "--out", d / "e2.csv"),
        "missing_id_field": gep_cmd(lc, reg, "--id-field", "nope", "--out", d / "e3.csv"),
        "duplicate_ids": gep_cmd(lc, files["dup"], "--id-field", "code", "--out", d / "e4.csv"),
        "empty_ids": gep_cmd(lc, files["empty"], "--id-field", "code", "--out", d / "e5.csv"),
        "float_raster": gep_cmd(files["float"], reg, "--id-field", "code", "--out", d / "e6.csv"),
        "no_crs_raster": gep_cmd(files["nocrs"], reg, "--id-field", "code", "--out", d / "e7.csv"),
        "unknown_codes": gep_cmd(files["unknown"], reg, "--id-field", "code", "--classes", "clcd",
                                 "--out", d / "e8.csv"),
        "bad_out_suffix": gep_cmd(lc, reg, "--id-field", "code", "--out", d / "e9.xlsx"),
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(cases, pool.map(_run, cases.values())))
    runs = {name: (*results[name], Path(cases[name][-1])) for name in cases}
    return {"dir": d, "files": files, "runs": runs, "unknown_lc": unknown_lc}


def library_table(lc_path, regions_path, codes) -> pd.DataFrame:
    regions, _ = read_regions(regions_path, "code", "name")
    tab = crosstab_table(LandcoverRaster.open(lc_path), regions, codes)
    return tab.groupby(["region_code", "lc_code"], as_index=False)["area_cm2"].sum()


def _ok(run):
    rc, out, err, path = run
    assert rc == 0, err
    assert path.exists()
    return path


def test_csv_matches_library(cli):
    path = _ok(cli["runs"]["csv"])
    text = path.read_text(encoding="utf-8-sig")  # written with a BOM, for Excel
    assert text.splitlines()[0] == "region_id,region_name,lc_code,area_m2"
    for rid in IDS:
        assert f"\n{rid}," in text  # leading zeros survive in the file itself
    df = pd.read_csv(path, dtype={"region_id": str, "lc_code": str}, encoding="utf-8")
    assert list(df.columns) == ["region_id", "region_name", "lc_code", "area_m2"]
    assert set(df["region_id"]) == set(IDS)
    assert dict(zip(df["region_id"], df["region_name"])) == dict(zip(IDS, NAMES))
    assert not df.duplicated(["region_id", "lc_code"]).any()

    ref = library_table(cli["files"]["lc"], cli["files"]["regions"], load_scheme("clcd").codes)
    merged = df.merge(ref, left_on=["region_id", "lc_code"], right_on=["region_code", "lc_code"], how="outer",
                      indicator=True)
    assert (merged["_merge"] == "both").all()
    np.testing.assert_allclose(merged["area_m2"], merged["area_cm2"] / 1e4, rtol=1e-12)
    # every clcd code appears in the big regions; nodata rows where nodata cells are
    west = df[df["region_id"] == "0101"]
    assert set(west["lc_code"]) == {str(c) for c in range(1, 10)} | {"nodata"}
    assert "nodata" not in set(df.loc[df["region_id"] == "0007", "lc_code"])
    assert west.loc[west["lc_code"] == "nodata", "area_m2"].iloc[0] > 1e6
    assert "unknown" not in set(df["lc_code"])
    # independent check: classes + nodata of each region = its geodesic polygon area
    totals = df.groupby("region_id")["area_m2"].sum()
    for rid, g in zip(IDS, region_geoms()):
        assert totals[rid] == pytest.approx(geod_area_m2(g), rel=1e-6)


def test_parquet_matches_csv(cli):
    csv = pd.read_csv(_ok(cli["runs"]["csv"]), dtype={"region_id": str, "lc_code": str})
    pq = pd.read_parquet(_ok(cli["runs"]["parquet"]))
    assert list(pq.columns) == ["region_id", "lc_code", "area_m2"]
    assert pq["region_id"].map(type).eq(str).all() and set(pq["region_id"]) == set(IDS)
    a = csv.set_index(["region_id", "lc_code"])["area_m2"].sort_index()
    b = pq.set_index(["region_id", "lc_code"])["area_m2"].sort_index()
    assert list(a.index) == list(b.index)
    # another chunk size: the same cm² (geographic grid), so the same m² to the last digit
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_without_classes_reports_found_codes(cli):
    path = _ok(cli["runs"]["found_codes"])
    df = pd.read_csv(path, dtype={"region_id": str, "lc_code": str})
    west = df[df["region_id"] == "0101"].set_index("lc_code")["area_m2"]
    assert {"42", "200", "nodata"} <= set(west.index)
    codes = [c for c in np.unique(cli["unknown_lc"]) if c != 0]
    ref = library_table(cli["files"]["unknown"], cli["files"]["regions"], codes)
    ref = ref[ref["region_code"] == "0101"].set_index("lc_code")["area_cm2"] / 1e4
    np.testing.assert_allclose(west.sort_index().to_numpy(), ref.sort_index().to_numpy(), rtol=1e-12)
    # 5×7 cells of code 42 (and of 200), all well inside the west region: their ellipsoidal cell areas
    # (Δλ/360 × zone area between the parallels), each rounded to cm² by gep: ≤ 35 × 0.5 cm²
    from gep.vector.geodesy import lonlat_box_area_m2

    for code, r0 in (("42", 100), ("200", 110)):
        lat_top = T.f + T.e * r0
        box = lonlat_box_area_m2(T.c + 50 * T.a, lat_top + 5 * T.e, T.c + 57 * T.a, lat_top, CRS_TEXT)
        assert west[code] == pytest.approx(box, rel=0, abs=35 * 0.5e-4)


BAD = {
    "missing_raster": ["missing.tif", "does not exist"],
    "missing_regions": ["missing.gpkg", "does not exist"],
    "missing_id_field": ["'nope'", "not found", "available fields: code, name"],
    "duplicate_ids": ["duplicate", "0101"],
    "empty_ids": ["empty", "feature(s) 2, 3"],
    "float_raster": ["float32", "integer"],
    "no_crs_raster": ["nocrs.tif", "no CRS"],
    "unknown_codes": ["not in class scheme 'clcd'", "42 (35 pixels)", "200 (35 pixels)"],
    "bad_out_suffix": ["e9.xlsx", ".csv or .parquet"],
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_with_one_line(cli, case):
    rc, out, err, path = cli["runs"][case]
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("gep crosstab: error: ")
    assert "Traceback" not in err
    for fragment in BAD[case]:
        assert fragment in lines[0]
    assert not path.exists()
    assert list(path.parent.glob(path.name + "*")) == []  # no partial/temporary output either


def test_unknown_code_pixel_counts_are_right(cli):
    """The pixel counts in the message are the counts in the raster (computed here with numpy)."""
    lc = cli["unknown_lc"]
    assert np.count_nonzero(lc == 42) == 35 and np.count_nonzero(lc == 200) == 35
    err = cli["runs"]["unknown_codes"][2]
    assert " 1 (" not in err and " 0 (" not in err  # scheme codes and nodata are not listed


def test_numba_warm_up_leaves_scipy_importable():
    """The warm-up answers numba's BLAS probe "absent" while it runs; afterwards scipy.linalg must import
    normally in the same process (fresh interpreter, so the warm-up really sets numba up)."""
    code = ("from gep.raster.kernels import warm_up; warm_up().join(); import scipy.linalg.cython_blas; "
            "import scipy.linalg as la, numpy as np; print(la.norm(np.array([3.0, 4.0])))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "5.0"


def test_closed_output_pipe_is_not_an_error():
    """`gep where CONFIG | head -1`: the reader goes away before gep has written; gep exits 0, quietly."""
    cfg = Path(__file__).resolve().parents[2] / "config" / "config.yaml"
    proc = subprocess.Popen([sys.executable, "-m", "gep.cli.main", "where", str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "error" not in err
