"""Faulty rasters give one clear line naming the file, never an internal error: truncated or corrupted blocks,
rotated grids, coordinates that do not fit the declared CRS. And an error raised in a worker process keeps
every line when it travels back."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import rasterio
from affine import Affine

from gep.core.errors import InputError
from gep.raster.grid import WindowRead, grid_of


def _tif(path, transform=Affine(0.001, 0, 112.0, 0, -0.001, 28.5), crs="EPSG:4490"):
    data = np.random.default_rng(3).integers(1, 9, size=(512, 512), dtype=np.uint8)
    with rasterio.open(path, "w", driver="GTiff", height=512, width=512, count=1, dtype="uint8", crs=crs,
                       transform=transform, tiled=True, blockxsize=256, blockysize=256, compress="deflate") as dst:
        dst.write(data, 1)
    return path


def test_a_truncated_raster_names_the_file_and_the_block(tmp_path):
    path = _tif(tmp_path / "lc.tif")
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(int(size * 0.6))  # the header and first tiles survive, the last ones are gone
    first = np.asarray(WindowRead(str(path), 0, 256, 0, 256))
    assert first.shape == (256, 256)
    with pytest.raises(InputError, match=r"lc.tif: rows 256-512, columns 256-512 cannot be read .*truncated or "
                                         r"corrupted"):
        np.asarray(WindowRead(str(path), 256, 512, 256, 512))


def test_a_rotated_grid_is_refused(tmp_path):
    path = _tif(tmp_path / "rot.tif", transform=Affine(0.001, 0.0002, 112.0, 0.0002, -0.001, 28.5))
    with pytest.raises(InputError, match="rot.tif: raster has a rotated geotransform"):
        grid_of(path)


def test_a_raster_in_metres_declared_as_degrees_is_refused(tmp_path):
    path = _tif(tmp_path / "gk.tif", transform=Affine(30, 0, 391_000, 0, -30, 3_131_000))
    with pytest.raises(InputError, match="gk.tif: coordinates .* look like metres"):
        grid_of(path)


def test_input_errors_survive_pickling():
    err = InputError.many(["a.tif: first problem; fix it", "b.tif: second problem; fix that"])
    back = pickle.loads(pickle.dumps(err))
    assert back.lines() == err.lines() and str(back) == str(err)
