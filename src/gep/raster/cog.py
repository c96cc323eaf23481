"""Writing a (dask-backed) raster as a Cloud-Optimised GeoTIFF, block by block, atomically."""

from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path
from typing import Mapping

import dask.array as darr
import numpy as np
import rasterio
import rasterio.shutil
import xarray as xr

from gep.config.terrain import TERRAIN_CLASSES
from gep.core.atomic import atomic_path
from gep.core.workers import worker_count
from gep.raster.xgrid import as_2d, grid_of


class _WindowWriter:
    """``da.store`` target writing each block into band 1 of an open rasterio dataset."""

    def __init__(self, dst, row0: int = 0):
        self.dst, self.row0 = dst, row0

    def __setitem__(self, key, value):
        from rasterio.windows import Window

        rows, cols = key
        win = Window(cols.start, self.row0 + rows.start, cols.stop - cols.start, rows.stop - rows.start)
        self.dst.write(np.asarray(value), 1, window=win)


#: memory (bytes) of the row bands computed at once when the blocks cannot be written where they are computed
BAND_BYTES = 256 * 2**20


def _shared_memory() -> bool:
    """Whether dask's current scheduler runs tasks in this process (threads, synchronous): only then can a task
    write into the open dataset, which cannot be sent to another process."""
    import dask
    from dask.base import get_scheduler

    sched = get_scheduler()
    return sched is None or sched in (dask.threaded.get, dask.local.get_sync)


def _store(data: darr.Array, dst, band_blocks: int | None) -> None:
    """Write ``data`` into band 1 of ``dst``, block row band by band (``band_blocks`` block rows at a time; all
    at once when None). With a process pool or a dask cluster the blocks are computed there and written here,
    in bands of at most :data:`BAND_BYTES` (the open dataset stays in this process); the file is the same."""
    rows = data.chunks[0]
    if _shared_memory():
        lock, row0 = threading.Lock(), 0
        step = band_blocks or data.numblocks[0]
        for band in range(0, data.numblocks[0], step):
            part = data.blocks[band:band + step]
            darr.store(part, _WindowWriter(dst, row0), lock=lock)
            row0 += part.shape[0]
        return
    from rasterio.windows import Window

    row_bytes = data.shape[1] * data.dtype.itemsize
    step = max(1, min(band_blocks or data.numblocks[0], BAND_BYTES // max(1, row_bytes * max(rows))))
    row0 = 0
    for band in range(0, data.numblocks[0], step):
        part = np.asarray(data.blocks[band:band + step].compute())
        dst.write(part, 1, window=Window(0, row0, part.shape[1], part.shape[0]))
        row0 += part.shape[0]


def _class_tags(class_table) -> dict[str, str]:
    tags: dict[str, str] = {}
    if not class_table:
        return tags
    table = {}
    for code, item in sorted(class_table.items()):
        if hasattr(item, "_asdict"):
            item = item._asdict()
        elif not isinstance(item, Mapping):
            item = {"name": str(item)}
        table[str(int(code))] = {k: str(v) for k, v in item.items()}
        tags[f"class_{int(code)}"] = " / ".join(str(v) for v in item.values())
    tags["classes"] = json.dumps(table, ensure_ascii=False, sort_keys=True)
    return tags


def write_cog(da: xr.DataArray, path: str | Path, class_table: Mapping | None = TERRAIN_CLASSES, *,
              units: str | None = None, blocksize: int = 512, band_blocks: int | None = None) -> Path:
    """Write ``da`` as a Cloud-Optimized GeoTIFF at ``path`` (atomically), streaming Dask blocks.

    Blocks are first written to a tiled temporary GeoTIFF beside the target (memory bounded; ZSTD level 1, the
    fastest compression GDAL has, since it is read only once), then copied with GDAL's COG driver (DEFLATE,
    with the floating-point predictor for float data; internal nearest-neighbour overviews, 512-cell tiles). Both steps compress on ``GEP_THREADS`` threads
    (:func:`gep.core.workers.worker_count`): on one thread the copy is most of a GEP service job (see
    benchmarks/README.md).
    With ``band_blocks``, bands of that many block rows are computed and written one after the other: for
    graphs whose blocks share inputs (the terrain classes: relief tiles with halos, each used by several blocks)
    dask otherwise keeps shared tiles of the whole raster in memory. CRS, transform and nodata come from ``da``; tags: ``units`` (default: ``da.attrs['units']``, else
    "terrain class code"), ``classes`` (JSON code → names) and ``class_<code>`` for each class.
    """
    import rasterio
    import rasterio.shutil

    path = Path(path)
    da = as_2d(da, "raster to write")
    transform, crs = grid_of(da, "raster to write")
    nodata = da.rio.nodata
    if nodata is None:
        nodata = da.rio.encoded_nodata
    data = da.data
    if not isinstance(data, darr.Array):
        data = darr.from_array(np.asarray(data), chunks=(blocksize * 4, blocksize * 4))
    height, width = data.shape
    # whole-tile writes: a tile written in two parts would be compressed twice in the staging file
    bounds = [np.cumsum(c)[:-1] for c in data.chunks]
    if any(np.any(b % blocksize) for b in bounds):
        data = data.rechunk((blocksize * 4, blocksize * 4))
    units = units or da.attrs.get("units") or "terrain class code"
    tags = {"units": str(units), **_class_tags(class_table)}
    path.parent.mkdir(parents=True, exist_ok=True)
    threads = str(worker_count())
    # floats: the floating-point predictor at DEFLATE level 4 (GDAL's default is 6): smaller GEP service rasters
    # and a faster copy than without a predictor at level 6, same values (figures in benchmarks/README.md)
    float_options = {"PREDICTOR": "YES", "LEVEL": 4} if data.dtype.kind == "f" else {}
    tmp_dir = tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    staging = Path(tmp_dir) / "staging.tif"
    try:
        profile = dict(driver="GTiff", height=height, width=width, count=1, dtype=data.dtype.name, crs=crs,
                       transform=transform, tiled=True, blockxsize=blocksize, blockysize=blocksize,
                       compress="zstd", ZSTD_LEVEL=1, NUM_THREADS=threads, BIGTIFF="IF_SAFER")
        if nodata is not None:
            profile["nodata"] = nodata
        with rasterio.open(staging, "w", **profile) as dst:
            dst.update_tags(**tags)
            dst.update_tags(1, units=str(units))
            if da.name:
                dst.set_band_description(1, str(da.name))
            _store(data, dst, band_blocks)
        with atomic_path(path) as tmp:
            rasterio.shutil.copy(staging, tmp, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=blocksize,
                                 OVERVIEW_RESAMPLING="NEAREST", NUM_THREADS=threads, BIGTIFF="IF_SAFER",
                                 **float_options)
    finally:
        staging.unlink(missing_ok=True)
        Path(tmp_dir).rmdir()
    return path
