"""gep crosstab: nodata from the class scheme, --crs for rasters without one, overlapping regions refused."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import shapely
from affine import Affine

from gep.vector.geodesy import lonlat_box_area_m2
from helpers_raster import write_gpkg, write_tif

GEP = [sys.executable, "-m", "gep.cli.main", "crosstab"]
T = Affine(0.01, 0, 110.0, 0, -0.01, 30.0)


def _run(*args):
    return subprocess.run(GEP + [str(a) for a in args], capture_output=True, text=True)


def test_scheme_nodata_used_when_file_declares_none(tmp_path):
    arr = np.full((10, 10), 2, dtype=np.uint8)
    arr[:5] = 0  # CLCD's nodata, undeclared in the file
    write_tif(tmp_path / "lc.tif", arr, T, "EPSG:4326")
    write_gpkg(tmp_path / "r.gpkg", {"code": ["01"]}, [shapely.box(110.0, 29.9, 110.1, 30.0)], "EPSG:4326")
    res = _run(tmp_path / "lc.tif", tmp_path / "r.gpkg", "--id-field", "code", "--classes", "clcd",
               "--out", tmp_path / "o.csv")
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(tmp_path / "o.csv", dtype={"region_id": str, "lc_code": str}).set_index("lc_code")
    assert np.isclose(out.loc["nodata", "area_m2"], lonlat_box_area_m2(110.0, 29.95, 110.1, 30.0), rtol=1e-9)
    assert np.isclose(out.loc["2", "area_m2"], lonlat_box_area_m2(110.0, 29.9, 110.1, 29.95), rtol=1e-9)


def test_crs_option_for_a_raster_without_crs(tmp_path):
    write_tif(tmp_path / "lc.tif", np.full((10, 10), 1, dtype=np.uint8), T, None)
    write_gpkg(tmp_path / "r.gpkg", {"code": ["01"]}, [shapely.box(110.0, 29.9, 110.1, 30.0)], "EPSG:4326")
    missing = _run(tmp_path / "lc.tif", tmp_path / "r.gpkg", "--id-field", "code", "--out", tmp_path / "o.csv")
    assert missing.returncode == 2 and "--crs" in missing.stderr
    ok = _run(tmp_path / "lc.tif", tmp_path / "r.gpkg", "--id-field", "code", "--crs", "EPSG:4326",
              "--out", tmp_path / "o.csv")
    assert ok.returncode == 0, ok.stderr


def test_overlapping_regions_are_refused(tmp_path):
    write_tif(tmp_path / "lc.tif", np.full((10, 10), 1, dtype=np.uint8), T, "EPSG:4326")
    write_gpkg(tmp_path / "r.gpkg", {"code": ["A", "B"]},
               [shapely.box(110.0, 29.9, 110.06, 30.0), shapely.box(110.04, 29.9, 110.1, 30.0)], "EPSG:4326")
    res = _run(tmp_path / "lc.tif", tmp_path / "r.gpkg", "--id-field", "code", "--out", tmp_path / "o.csv")
    assert res.returncode == 2
    assert "regions overlap: A/B" in res.stderr
    assert not (tmp_path / "o.csv").exists()
