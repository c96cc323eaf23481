"""The raster grid that all accounting happens on: transform, shape, CRS and exact cell areas.

Opening is lazy with chunks aligned to the file's internal tiles, so a block never straddles a tile and is
decompressed once: :func:`open_lazy` gives a dask-backed xarray DataArray (through rioxarray) for raster math,
:func:`open_blocks` the same blocks as window reads for the area kernel, which needs neither xarray nor
dask.array (whose imports every job would otherwise pay; see benchmarks/README.md) and reads each block in
the task that counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.windows import Window

from gep.raster.cellarea import apply_affine, cell_areas_m2, row_areas_m2, to_cm2
from gep.core.errors import InputError
from gep.raster.crs_sanity import check_extent

if TYPE_CHECKING:
    import xarray as xr


@dataclass(frozen=True)
class Grid:
    """A north-up (or any affine) raster grid. ``shape`` is (rows, cols)."""

    transform: Affine
    shape: tuple[int, int]
    crs: CRS

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in CRS units."""
        xs, ys = apply_affine(self.transform, [0, self.shape[1], 0, self.shape[1]], [0, 0, self.shape[0], self.shape[0]])
        return float(np.min(xs)), float(np.min(ys)), float(np.max(xs)), float(np.max(ys))

    def window_bounds(self, r0: int, r1: int, c0: int, c1: int) -> tuple[float, float, float, float]:
        xs, ys = apply_affine(self.transform, [c0, c1, c0, c1], [r0, r0, r1, r1])
        return float(np.min(xs)), float(np.min(ys)), float(np.max(xs)), float(np.max(ys))

    def same_as(self, other: "Grid", tol: float = 1e-9) -> bool:
        return (self.shape == other.shape and self.crs == other.crs
                and np.allclose(tuple(self.transform)[:6], tuple(other.transform)[:6], rtol=0, atol=tol * max(
                    abs(self.transform.a), abs(self.transform.e))))

    def cell_area_cm2(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Ground area of each cell of the window in integer cm², shape (r1−r0, c1−c0) (may be a broadcast view)."""
        if self.crs.is_geographic:
            rows = to_cm2(row_areas_m2(self.transform, r1 - r0, self.crs, row0=r0))
            return np.broadcast_to(rows[:, None], (r1 - r0, c1 - c0))
        return to_cm2(cell_areas_m2(self.transform, (r0, r1), (c0, c1), self.crs))


def grid_of(path: str | Path, crs_override: str | None = None) -> Grid:
    """The grid of a raster file (no pixels read). A file without CRS needs ``crs_override``."""
    with rasterio.open(path) as src:
        crs = src.crs
        if crs is None:
            if crs_override is None:
                raise InputError(f"{path}: raster has no CRS; declare it (config 'landcover.crs', or --crs for "
                                 f"gep crosstab), e.g. EPSG:4490")
            crs = crs_override
        if src.transform.b != 0 or src.transform.d != 0:
            raise InputError(f"{path}: raster has a rotated geotransform; warp it to a north-up grid first "
                             "(gdalwarp)")
        check_extent(tuple(src.bounds), crs, f"{path}")
        return Grid(src.transform, (src.height, src.width), CRS.from_user_input(crs))


def aligned_chunks(path: str | Path, target: int) -> tuple[int, int]:
    """Chunk (rows, cols) near ``target`` cells per side that is a whole multiple of the file's tile size."""
    with rasterio.open(path) as src:
        bh, bw = src.block_shapes[0]
        h, w = src.height, src.width
    def pick(block: int, size: int) -> int:
        if block >= size:
            return size
        return max(block, (max(target, block) // block) * block)
    return pick(bh, h), pick(bw, w)


def open_lazy(path: str | Path, chunk: int = 2048) -> xr.DataArray:
    """Open band 1 of a raster as a dask-backed DataArray with tile-aligned chunks (nothing is read)."""
    import rioxarray  # registers the .rio accessor too

    rows, cols = aligned_chunks(path, chunk)
    try:
        da = rioxarray.open_rasterio(path, chunks={"band": 1, "y": rows, "x": cols}, lock=False,
                                     mask_and_scale=False)
    except rasterio.errors.RasterioIOError as err:
        raise InputError(f"{path}: cannot be opened as a raster ({err}); check the file") from None
    return da.isel(band=0, drop=True)


def _chunk_sizes(size: int, step: int) -> tuple[int, ...]:
    return tuple(min(step, size - start) for start in range(0, size, step))


@dataclass(frozen=True)
class WindowRead:
    """One block of band 1 of a raster file, read when it is turned into an array (``np.asarray``), i.e. inside
    the task that uses it: no block is read ahead of its task and held in memory meanwhile."""

    path: str
    r0: int
    r1: int
    c0: int
    c1: int

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        try:
            with rasterio.open(self.path) as src:
                block = src.read(1, window=Window(self.c0, self.r0, self.c1 - self.c0, self.r1 - self.r0))
        except rasterio.errors.RasterioError as err:
            raise InputError(f"{self.path}: rows {self.r0}-{self.r1}, columns {self.c0}-{self.c1} cannot be read "
                             f"({str(err).splitlines()[0]}); the file is truncated or corrupted: copy it again "
                             "or rebuild it (gdal_translate)") from None
        return block if dtype is None else block.astype(dtype, copy=False)


@dataclass(frozen=True)
class RasterBlocks:
    """Band 1 of a raster file cut into blocks (the chunks of :func:`open_lazy`) that are read lazily.

    ``windows()`` gives a :class:`WindowRead` per block; the area kernel takes it in place of a dask array's
    ``to_delayed()`` blocks and reads each block inside the task that counts it.
    """

    path: str
    chunks: tuple[tuple[int, ...], tuple[int, ...]]
    dtype: np.dtype

    @property
    def shape(self) -> tuple[int, int]:
        return sum(self.chunks[0]), sum(self.chunks[1])

    def windows(self) -> np.ndarray:
        """Object array (block rows × block columns) of :class:`WindowRead`."""
        rows = np.r_[0, np.cumsum(self.chunks[0])].astype(int)
        cols = np.r_[0, np.cumsum(self.chunks[1])].astype(int)
        out = np.empty((len(rows) - 1, len(cols) - 1), dtype=object)
        for i in range(len(rows) - 1):
            for j in range(len(cols) - 1):
                out[i, j] = WindowRead(self.path, int(rows[i]), int(rows[i + 1]), int(cols[j]), int(cols[j + 1]))
        return out


def open_blocks(path: str | Path, chunk: int = 2048) -> RasterBlocks:
    """Band 1 of a raster as :class:`RasterBlocks` with the tile-aligned chunks of :func:`open_lazy`."""
    rows, cols = aligned_chunks(path, chunk)
    with rasterio.open(path) as src:
        h, w, dtype = src.height, src.width, np.dtype(src.dtypes[0])
    return RasterBlocks(str(path), (_chunk_sizes(h, rows), _chunk_sizes(w, cols)), dtype)
