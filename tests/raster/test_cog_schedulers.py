"""A COG written from a dask graph is the same file whatever runs the graph: threads write each block into the
open dataset; a process pool (and a dask cluster) cannot receive that dataset, so its blocks come back in row
bands and are written here (gep.raster.cog)."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import rasterio
import xarray as xr
from rasterio.transform import from_origin

from gep.raster import cog


def _raster() -> xr.DataArray:
    rng = np.random.default_rng(11)
    data = da.from_array(rng.gamma(2.0, 50.0, (700, 900)).astype(np.float32), chunks=(256, 256))
    # a graph that computes something per block (not only a read), like a service density
    data = data.map_blocks(lambda b: np.where(b > 300, np.float32(np.nan), b * np.float32(0.5)), dtype=np.float32)
    arr = xr.DataArray(data, dims=("y", "x"), name="density")
    arr = arr.rio.write_crs("EPSG:4326").rio.write_transform(from_origin(110.0, 30.0, 0.001, 0.001))
    return arr.rio.write_nodata(np.nan, encoded=False)


def test_same_file_for_threads_and_processes(tmp_path, monkeypatch):
    arr = _raster()
    with dask.config.set(scheduler="threads"):
        a = cog.write_cog(arr, tmp_path / "threads.tif", None, units="x")
    # small bands, so that the process path writes several
    monkeypatch.setattr(cog, "BAND_BYTES", 900 * 4 * 256)
    with dask.config.set(scheduler="processes", num_workers=2):
        b = cog.write_cog(arr, tmp_path / "processes.tif", None, units="x")
    with rasterio.open(a) as x, rasterio.open(b) as y:
        va, vb = x.read(1), y.read(1)
        assert {k: v for k, v in x.profile.items() if k != "nodata"} == \
            {k: v for k, v in y.profile.items() if k != "nodata"}
        assert np.isnan(x.nodata) and np.isnan(y.nodata)
    expected = np.asarray(arr.data.compute())
    np.testing.assert_array_equal(va, expected)
    np.testing.assert_array_equal(vb, expected)
    assert a.read_bytes() == b.read_bytes()
