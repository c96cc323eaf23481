"""Codes counted by ``gep crosstab`` without ``--classes`` (gep.accounting.landcover.present_codes)."""

import numpy as np
import rasterio
from rasterio.transform import from_origin

from gep.accounting.landcover import LandcoverRaster, present_codes


def _raster(path, data, nodata):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                       dtype=data.dtype, crs="EPSG:4326", transform=from_origin(110, 30, 0.001, 0.001),
                       nodata=nodata) as dst:
        dst.write(data, 1)
    return LandcoverRaster.open(path, chunk=16)


def test_eight_bit_codes_are_every_value_but_nodata(tmp_path):
    r = _raster(tmp_path / "u8.tif", np.full((20, 20), 7, dtype=np.uint8), 0)
    codes = present_codes(r)
    assert len(codes) == 255 and 0 not in codes and {1, 7, 255} <= set(codes.tolist())
    s = _raster(tmp_path / "i8.tif", np.full((20, 20), -5, dtype=np.int8), None)
    assert present_codes(s).tolist() == list(range(-128, 128))


def test_sixteen_bit_codes_are_those_found(tmp_path):
    data = np.full((40, 40), 1001, dtype=np.uint16)
    data[:3, :5] = 60000
    data[10, 10] = 9
    r = _raster(tmp_path / "u16.tif", data, 9)
    assert present_codes(r).tolist() == [1001, 60000]
