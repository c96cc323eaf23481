"""Carbon storage by class (gep.indicators.gep.carbon_stock): Σ pools × ellipsoidal area, and its change."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from helpers_raster import write_tif
from shapely.geometry import box

from gep.accounting.classes import load_scheme
from gep.core.errors import InputError
from gep.vector.geodesy import lonlat_box_area_m2
from gep.accounting.landcover import LandcoverRaster, crosstab_table, landcover_area
from gep.vector.regions import region_frame
from gep.indicators.gep.carbon_stock import carbon_stock
from gep.indicators.gep.params import POOLS, load_carbon_pools

LON0, LAT0, RES = 110.5, 31.0, 0.002


def _lca(tmp_path, arrays, regions):
    scheme = load_scheme("clcd")
    out = []
    for year, arr in arrays.items():
        path = write_tif(tmp_path / f"lc_{year}.tif", arr, Affine(RES, 0, LON0, 0, -RES, LAT0), "EPSG:4490",
                         nodata=0)
        tab = crosstab_table(LandcoverRaster.open(path, chunk=64), regions, scheme.codes)
        out.append(landcover_area(tab, region_frame(regions), scheme, year))
    return pd.concat(out, ignore_index=True)


def test_carbon_stock_is_pools_times_ellipsoidal_area(tmp_path):
    rng = np.random.default_rng(11)
    a19 = rng.integers(1, 10, (12, 10)).astype(np.uint8)
    a21 = a19.copy()
    a21[:4, :] = 2  # afforestation in the top rows
    regions = gpd.GeoDataFrame({"region_code": ["X"], "region_name": ["x"]},
                               geometry=[box(LON0, LAT0 - 12 * RES, LON0 + 10 * RES, LAT0)], crs="EPSG:4490")
    lca = _lca(tmp_path, {2019: a19, 2021: a21}, regions)
    pools = load_carbon_pools(scheme_codes=range(1, 10))
    out = carbon_stock(lca, pools).set_index("year")
    for year, arr in ((2019, a19), (2021, a21)):
        expected = {p: 0.0 for p in POOLS}
        for r in range(arr.shape[0]):
            top = LAT0 - r * RES
            cell_ha = lonlat_box_area_m2(LON0, top - RES, LON0 + RES, top, 4490) / 1e4
            for c in range(arr.shape[1]):
                for p in POOLS:
                    expected[p] += cell_ha * pools.values[p][int(arr[r, c])]
        for p in POOLS:
            assert out.loc[year, f"c_{p}_t"] == pytest.approx(expected[p], rel=1e-9)
        assert out.loc[year, "c_total_t"] == pytest.approx(sum(expected.values()), rel=1e-9)
    change = out.loc[2021, "c_total_t"] - out.loc[2019, "c_total_t"]
    assert np.isnan(out.loc[2019, "change_t"])
    assert out.loc[2021, "change_t"] == pytest.approx(change)
    assert out.loc[2021, "change_co2_t"] == pytest.approx(change * 44 / 12)
    assert change > 0  # more forest


def test_carbon_stock_by_hand_and_unknown_class():
    pools = load_carbon_pools(scheme_codes=range(1, 10))
    assert pools.file.status == "P" and "not verified" in pools.file.source
    lca = pd.DataFrame({"region_code": ["R", "R"], "region_name": ["r", "r"], "year": [2020, 2020],
                        "lc_code": [2, 5], "area_km2": [1.0, 2.0]})
    out = carbon_stock(lca, pools)
    # 1 km² = 100 ha of forest × (50 + 12 + 110 + 4) t C/ha = 17,600 t C; water holds none
    assert out.loc[0, "c_total_t"] == pytest.approx(17_600.0)
    assert out.loc[0, "c_total_t_per_ha"] == pytest.approx(17_600.0 / 300.0)
    bad = lca.assign(lc_code=[2, 77])
    with pytest.raises(InputError, match=r"code\(s\) 77 have area"):
        carbon_stock(bad, pools)
