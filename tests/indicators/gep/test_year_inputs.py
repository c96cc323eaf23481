"""A year's raster inputs are opened and resampled once however many services read them
(gep.indicators.gep.run._Inputs)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from helpers_raster import write_tif

import gep.raster.resample as resample
from gep.config.gep import load_gep_config
from gep.indicators.gep import write_service_rasters

YEAR = 2020


def _counting(monkeypatch) -> Counter:
    """Count the readers built (each opens its file and, for a coarse one, reads the source cells) per file."""
    built: Counter = Counter()

    class Counting(resample.WarpReader):
        def __init__(self, path, *args, **kwargs):
            built[Path(path).name] += 1
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(resample, "WarpReader", Counting)
    return built


def test_et_read_once_for_two_services_and_as_evaporation(tmp_path, monkeypatch):
    lc = np.tile(np.array([2, 3, 4, 5], np.uint8), (16, 4))            # forest, shrub, grass, water
    lc_path = write_tif(tmp_path / f"lc_{YEAR}.tif", lc, Affine(0.001, 0, 112.0, 0, -0.001, 28.0), "EPSG:4326",
                        nodata=0)
    coarse = Affine(0.004, 0, 112.0, 0, -0.004, 28.0)                  # 4 × 4 cells over the 16 × 16 land cover
    et = write_tif(tmp_path / f"et_{YEAR}.tif", np.full((4, 4), 600, np.float32), coarse, "EPSG:4326")
    p = write_tif(tmp_path / f"p_{YEAR}.tif", np.full((4, 4), 1400, np.float32), coarse, "EPSG:4326")
    et_template = str(et).replace(str(YEAR), "{year}")
    cfg = load_gep_config({"services": ["water_conservation", "climate_regulation"], "deflator": "deflator_demo",
                           "chunk": 64, "rasters": {"et": et_template, "evaporation": et_template,
                                                   "precipitation": str(p).replace(str(YEAR), "{year}")}})
    built = _counting(monkeypatch)
    paths = write_service_rasters(cfg, YEAR, landcover_path=lc_path, raster_dir=tmp_path / "r", landcover_nodata=0)
    assert built == Counter({et.name: 1, p.name: 1})   # et: water conservation, climate regulation, evaporation
    with rasterio.open(next(x for x in paths if x.name.startswith("climate_regulation"))) as src:
        climate = src.read(1)
    # water (evaporation = et = 600 mm): 600 × 90/365 × (heat 0.68056 + 0.1) kWh/m² (docs/methods.md §4.2.3)
    heat = 1e-3 * 1000 * 2.45 / 3.6
    np.testing.assert_allclose(climate[:, 3::4], 600 * 90 / 365 * (heat + 0.1), rtol=1e-6)
    # forest: et × 0.6 × 90/365 × heat / 3
    np.testing.assert_allclose(climate[:, 0::4], 600 * 0.6 * 90 / 365 * heat / 3, rtol=1e-6)


def test_fixed_climate_reads_each_climate_year_once(tmp_path, monkeypatch):
    """At fixed climate (docs/methods.md §4.6) et, read by two services and as evaporation, is the mean of the
    climate years' files, each opened once; precipitation (not listed in inputs) is the year's own file."""
    lc = np.tile(np.array([2, 3, 4, 5], np.uint8), (16, 4))            # forest, shrub, grass, water
    lc_path = write_tif(tmp_path / f"lc_{YEAR}.tif", lc, Affine(0.001, 0, 112.0, 0, -0.001, 28.0), "EPSG:4326",
                        nodata=0)
    coarse = Affine(0.004, 0, 112.0, 0, -0.004, 28.0)
    for y, value in ((2016, 500.0), (2017, 600.0), (2018, 700.0)):     # mean 600 mm
        write_tif(tmp_path / f"et_{y}.tif", np.full((4, 4), value, np.float32), coarse, "EPSG:4326")
    p = write_tif(tmp_path / f"p_{YEAR}.tif", np.full((4, 4), 1400, np.float32), coarse, "EPSG:4326")
    et_template = str(tmp_path / "et_{year}.tif")
    cfg = load_gep_config({"services": ["water_conservation", "climate_regulation"], "deflator": "deflator_demo",
                           "chunk": 64, "rasters": {"et": et_template, "evaporation": et_template,
                                                   "precipitation": str(p).replace(str(YEAR), "{year}")},
                           "fixed_climate": {"from": 2016, "to": 2018, "inputs": ["et", "evaporation"]}})
    built = _counting(monkeypatch)
    paths = write_service_rasters(cfg, YEAR, landcover_path=lc_path, raster_dir=tmp_path / "r", landcover_nodata=0)
    assert built == Counter({"et_2016.tif": 1, "et_2017.tif": 1, "et_2018.tif": 1, p.name: 1})
    with rasterio.open(next(x for x in paths if x.name.startswith("climate_regulation"))) as src:
        climate = src.read(1)
    heat = 1e-3 * 1000 * 2.45 / 3.6
    # water: the 600 mm mean evaporation × 90/365 × (heat + 0.1) kWh/m², as with 600 mm in the year itself
    np.testing.assert_allclose(climate[:, 3::4], 600 * 90 / 365 * (heat + 0.1), rtol=1e-6)
