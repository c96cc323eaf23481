"""防风固沙 sand fixation (docs/methods.md §4.2.11): RWEQ potential − actual loss against a scalar hand
computation, on one cell and summed over a tiny grid by run_gep; valued at sand-control cost ÷ (ρ·h)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from shapely.geometry import box

from gep.accounting.classes import load_scheme
from gep.accounting.landcover import LandcoverRaster, crosstab_table, landcover_area
from gep.indicators.gep import load_gep_config, run_gep
from gep.indicators.gep.services.sand_fixation import rweq_loss_kg_m2, sand_fixation_kg_m2
from gep.vector.geodesy import lonlat_box_area_m2
from gep.vector.regions import region_frame
from helpers_raster import write_tif

WF, EF, SCF, KR, FVC, Z = 5.0, 0.3, 0.5, 0.8, 40.0, 50.0


def hand_loss(x: float) -> float:
    """S_L written out step by step (Fryrear et al.): Q_max, s, then 2z/s²·Q_max·e^(−(z/s)²)."""
    q_max = 109.8 * x
    s = 150.71 * x ** -0.3711
    return 2 * Z / (s * s) * q_max * math.exp(-(Z / s) ** 2)


X = WF * EF * SCF * KR                                   # 0.6 kg/m
C = math.exp(-0.0438 * FVC)                              # 0.17343…
FIXED = hand_loss(X) - hand_loss(X * C)                  # kg/m²


def test_rweq_by_hand():
    # x = 0.6: Q_max = 65.88 kg/m, s = 150.71 × 0.6^−0.3711 = 182.17 m → S_L = 100/182.17² × 65.88 × e^(−0.07533)
    assert hand_loss(X) == pytest.approx(100 / 182.1672 ** 2 * 65.88 * math.exp(-(50 / 182.1672) ** 2), rel=1e-5)
    assert float(rweq_loss_kg_m2(X, Z)) == pytest.approx(hand_loss(X), rel=1e-12)
    assert float(rweq_loss_kg_m2(0.0, Z)) == 0.0
    lc = np.array([[2, 4, 5, 7]])
    got = sand_fixation_kg_m2(lc, WF, EF, SCF, KR, FVC, z_m=Z, c_coef=0.0438, include_codes=[1, 2, 3, 4, 7],
                              known_codes=list(range(1, 10)))
    # counted on forest, grass and barren; water erodes no sand: 0
    np.testing.assert_allclose(got, [[FIXED, FIXED, 0.0, FIXED]], rtol=1e-12)
    assert FIXED > 0


def test_sand_fixation_run_by_hand(tmp_path):
    lon0, lat0, res = 100.0, 40.0, 0.001
    lc = np.array([[2, 4, 5], [7, 8, 4]], dtype=np.uint8)
    t = Affine(res, 0, lon0, 0, -res, lat0)
    write_tif(tmp_path / "lc_2020.tif", lc, t, "EPSG:4326", nodata=0)
    regions = gpd.GeoDataFrame({"region_code": ["A"], "region_name": ["甲"]},
                               geometry=[box(lon0, lat0 - 2 * res, lon0 + 3 * res, lat0)], crs="EPSG:4326")
    scheme = load_scheme("clcd")
    lca = landcover_area(crosstab_table(LandcoverRaster.open(tmp_path / "lc_2020.tif", chunk=64), regions,
                                        scheme.codes), region_frame(regions), scheme, 2020)
    (tmp_path / "deflator.csv").write_text("year,index\n2010,100\n2020,125\n", encoding="utf-8")
    cfg = load_gep_config({
        "services": ["sand_fixation"], "deflator": str(tmp_path / "deflator.csv"), "chunk": 64,
        "rasters": {"wind_factor": WF, "erodible_fraction": EF, "crust_factor": SCF, "roughness_factor": KR,
                    "vegetation_cover": FVC}})
    out = run_gep(cfg, years=[2020], landcover_area=lca, regions=regions,
                  landcover_path_for_year=lambda y: tmp_path / f"lc_{y}.tif", out_dir=tmp_path / "out")
    row = out["gep_services"].set_index("service").loc["sand_fixation"]
    area = [lonlat_box_area_m2(lon0, lat0 - (r + 1) * res, lon0 + res, lat0 - r * res, 4326) for r in range(2)]
    counted_m2 = 2 * area[0] + 2 * area[1]           # forest, grass in row 0; barren, grass in row 1
    assert row["quantity"] == pytest.approx(FIXED * counted_m2 * 1e-3, rel=1e-6)     # kg → t
    assert row["quantity_unit"] == "t"
    price = 3.75 / (1.28 * 0.1)                      # 元/m² ÷ (t/m³ × m) = 29.296875 元/t
    assert row["value_constant_yuan"] == pytest.approx(row["quantity"] * price, rel=1e-12)
    assert "1.28 t/m³ × 0.1 m" in row["price_unit"]
