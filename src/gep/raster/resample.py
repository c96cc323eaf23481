"""Bring climate and soil rasters of any grid/CRS onto the land-cover grid, lazily and chunk by chunk.

:func:`warp_to_grid` returns a Dask array on the target grid whose blocks are read through
``rasterio.vrt.WarpedVRT`` (target transform, shape and CRS; GDAL's approximate transformer with an error
threshold of 1e-6 cell, i.e. exact for all purposes — rasterio 1.4 fails on ``tolerance=0``): each block
opens the source, warps only the window it needs and closes it again, so memory depends on the block size,
never on the raster size, and the graph pickles for process schedulers.

Two kinds of rasters:

- ``intensity`` (a quantity per unit area or a state: mm of precipitation, g C/m², an R or K factor):
  resampled as is (bilinear by default: values are continuous fields).
- ``amount`` (a quantity per cell, e.g. t per cell): it is turned into a density first (÷ the source cell's
  ellipsoidal area at the target cell's centre), resampled, and then either returned as a density
  (``output="density"``, per m², for the services, which multiply by the target cell areas themselves) or
  multiplied back by the target cell's ellipsoidal area (``output="amount"``). Totals are then preserved:
  exactly for nearest-neighbour on grids that nest, up to interpolation error at the edges otherwise.

Cells of the target grid outside the source, or on source nodata, are NaN.

A ``valid_range`` (min, max of the raw values) makes every raw value outside it nodata *before* resampling, so
that products with several flag codes (MOD17/MOD16: fill values 32761–32767 above the valid range that ends at
32700) are not blended into their neighbours: the source window a block needs is read, masked and warped from
memory with the same transformer settings (docs/methods.md §4.2.6). ``count_above`` reads every band of a
multi-band file (e.g. 365 daily maximum temperatures) and counts, per source cell, the bands above a threshold
before resampling (cooling days, docs/methods.md §4.2.3).

Coarse rasters in the grid's CRS (each source cell at least :data:`COARSE_RATIO` target cells across, e.g.
0.01° climate over 0.00027° land cover) with ``nearest`` or ``bilinear`` are not warped by GDAL block by block:
the source cells the grid needs are read once (masked as above) and every block is sampled from that small
array with GDAL's own definitions, evaluated at the target cell's centre mapped into the source's pixel space:

- nearest: the source cell ``floor(x + 1e-10)``;
- bilinear: the four source cells around the point, weights ``(1 - dx)(1 - dy)`` …; neighbours that are nodata
  or outside the raster are left out and the weights of the others renormalised (a sum < 1e-5: NaN).
  A target cell whose centre falls outside the source raster, or in a nodata source cell, is NaN, as with GDAL.

The source column of a target cell depends on its column only and the row on its row, so a block is sampled
rows first, then columns. Results equal the warp's (tests: identical on their grids; in general up to float32
rounding of the same weighted sum). Sources in another CRS are still warped by GDAL: sampling them point by
point (pyproj for every cell) was several times slower than the warp (benchmarks/README.md).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Literal

import dask.array as da
import numpy as np
import rasterio
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.io import MemoryFile
from rasterio.transform import array_bounds
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from gep.core.units import CM2_PER_M2
from gep.raster.cellarea import _areal_scale, band_area_m2
from gep.core.errors import InputError
from gep.raster.grid import Grid

RESAMPLING = {"nearest": Resampling.nearest, "bilinear": Resampling.bilinear, "cubic": Resampling.cubic,
              "average": Resampling.average}

_counter = itertools.count()

COARSE_RATIO = 4            # source cells at least this many target cells across (both axes): sampled, not warped
COARSE_MAX_VALUES = 1 << 25  # ... and when the source cells the grid needs (× bands) are at most this many


def _src_cell_area_m2(xs: np.ndarray, ys: np.ndarray, src_transform, src_crs: CRS) -> np.ndarray:
    """Ellipsoidal area (m²) of the source cell containing each point (xs, ys given in the source CRS)."""
    if src_crs.is_geographic:
        # exact: the cell's row from its latitude, then the row's band area on the ellipsoid
        rows = np.floor((ys - src_transform.f) / src_transform.e)
        lat_top = src_transform.f + src_transform.e * rows
        return band_area_m2(lat_top, lat_top + src_transform.e, src_crs.ellipsoid) * abs(src_transform.a) / 360.0
    # projected: nominal cell area / the projection's areal scale factor, evaluated at the point (smooth)
    nominal = abs(src_transform.a * src_transform.e - src_transform.b * src_transform.d)
    return nominal / _areal_scale(src_crs, xs, ys)


class WarpReader:
    """Array-like (shape, dtype, ndim, ``__getitem__``) reading windows of a raster warped onto ``grid``."""

    def __init__(self, path: str | Path, grid: Grid, *, resampling: str = "bilinear",
                 kind: Literal["intensity", "amount"] = "intensity", output: Literal["density", "amount"] = "density",
                 scale: float = 1.0, offset: float = 0.0, nodata: float | None = None, band: int = 1,
                 valid_range: tuple[float, float] | None = None, count_above: float | None = None):
        self.path = str(path)
        self.valid_range = None if valid_range is None else (float(valid_range[0]), float(valid_range[1]))
        self.count_above = None if count_above is None else float(count_above)
        self.grid = grid
        if resampling not in RESAMPLING:
            raise InputError(f"{path}: resampling '{resampling}' is not one of {', '.join(RESAMPLING)}")
        self.resampling = resampling
        self.kind = kind
        self.output = output
        self.scale = float(scale)
        self.offset = float(offset)
        self.nodata = nodata
        self.band = band
        self.shape = tuple(grid.shape)
        self.dtype = np.dtype(np.float32)
        self.ndim = 2
        with _open(self.path) as src:
            if src.crs is None:
                raise InputError(f"{self.path}: raster has no CRS; assign one (gdal_edit.py -a_srs EPSG:4490)")
            if not 1 <= band <= src.count:
                raise InputError(f"{self.path}: band {band} does not exist (the file has {src.count})")
            self.src_crs_wkt = src.crs.to_wkt()
            self.src_transform = src.transform
            # rasterio wants its own CRS object; keep WKT so the reader pickles
            self.dst_crs_wkt = grid.crs.to_wkt()
            self.coarse = _Coarse.read(self, src) if resampling in ("nearest", "bilinear") else None

    def __getitem__(self, key) -> np.ndarray:
        rows, cols = key
        r0, r1, _ = rows.indices(self.shape[0])
        c0, c1, _ = cols.indices(self.shape[1])
        h, w = max(0, r1 - r0), max(0, c1 - c0)
        if h == 0 or w == 0:
            return np.empty((h, w), dtype=np.float32)
        if self.coarse is not None:
            data = self.coarse.sample(self.grid, r0, r1, c0, c1, self.resampling)
        else:
            with _open(self.path) as src:
                src_nodata = self.nodata if self.nodata is not None else src.nodata
                if self.valid_range is None and self.count_above is None:
                    data = self._warp(src, self.band, src_nodata, Window(c0, r0, w, h))
                else:
                    data = self._warp_masked(src, src_nodata, r0, r1, c0, c1)
        if self.count_above is None and (self.scale != 1.0 or self.offset != 0.0):
            data = data * self.scale + self.offset
        if self.kind == "amount":
            data /= self._src_area(r0, r1, c0, c1)  # → density per m², resampled as such
            if self.output == "amount":
                data *= self.grid.cell_area_cm2(r0, r1, c0, c1) / CM2_PER_M2
        return data.astype(np.float32)

    def _warp(self, src, band: int, src_nodata, window: Window) -> np.ndarray:
        """``window`` of the target grid read from the open dataset ``src`` through a WarpedVRT (float64)."""
        g = self.grid
        with WarpedVRT(src, crs=rasterio.crs.CRS.from_wkt(self.dst_crs_wkt), transform=g.transform, width=g.shape[1],
                       height=g.shape[0], resampling=RESAMPLING[self.resampling], tolerance=1e-6,
                       src_nodata=src_nodata, nodata=np.nan, dtype="float32") as vrt:
            return vrt.read(band, window=window, masked=False).astype(np.float64)

    def _warp_masked(self, src, src_nodata, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """The target rows r0:r1, columns c0:c1 from the source cells the block needs (a margin of 2 cells for the
        resampling kernel), with every raw value outside ``valid_range`` (and nodata) set to NaN first; with
        ``count_above``, the number of bands whose value (raw × scale + offset) is above it, per source cell."""
        g = self.grid
        h, w = r1 - r0, c1 - c0
        left, bottom, right, top = array_bounds(h, w, g.transform * g.transform.translation(c0, r0))
        bounds = transform_bounds(rasterio.crs.CRS.from_wkt(self.dst_crs_wkt), src.crs, left, bottom, right, top,
                                  densify_pts=21)
        win = from_bounds(*bounds, transform=src.transform)
        col0, row0 = max(math.floor(win.col_off) - 2, 0), max(math.floor(win.row_off) - 2, 0)
        col1 = min(math.ceil(win.col_off + win.width) + 2, src.width)
        row1 = min(math.ceil(win.row_off + win.height) + 2, src.height)
        if col1 <= col0 or row1 <= row0:
            return np.full((h, w), np.nan)  # the block lies outside the source
        win = Window(col0, row0, col1 - col0, row1 - row0)
        raw = self.read_masked(src, src_nodata, win)
        with MemoryFile() as mem:
            with mem.open(driver="GTiff", width=raw.shape[1], height=raw.shape[0], count=1, dtype="float64",
                          crs=src.crs, transform=src.window_transform(win), nodata=np.nan) as tmp:
                tmp.write(raw, 1)
            with mem.open() as masked:
                return self._warp(masked, 1, np.nan, Window(c0, r0, w, h))

    def read_masked(self, src, src_nodata, win: Window) -> np.ndarray:
        """The source window ``win`` (float64) with nodata and every raw value outside ``valid_range`` as NaN;
        with ``count_above``, the number of bands above it (× scale + offset) per source cell."""
        bands = self.band if self.count_above is None else None  # None: every band
        raw = src.read(bands, window=win, masked=False).astype(np.float64)
        lo, hi = self.valid_range or (-np.inf, np.inf)
        bad = ~((raw >= lo) & (raw <= hi))  # NaN is outside too
        if src_nodata is not None:
            bad |= raw == src_nodata
        raw[bad] = np.nan
        if self.count_above is not None:
            values = raw * self.scale + self.offset
            raw = np.where(np.isnan(values).all(axis=0), np.nan, (values > self.count_above).sum(axis=0))
        return raw

    def _src_area(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        t = self.grid.transform
        cc, rr = np.meshgrid(np.arange(c0, c1) + 0.5, np.arange(r0, r1) + 0.5)
        xs = t.c + t.a * cc + t.b * rr
        ys = t.f + t.d * cc + t.e * rr
        src_crs = CRS.from_wkt(self.src_crs_wkt)
        if src_crs != self.grid.crs:
            xs, ys = Transformer.from_crs(self.grid.crs, src_crs, always_xy=True).transform(xs, ys)
        return _src_cell_area_m2(np.asarray(xs), np.asarray(ys), self.src_transform, src_crs)


class _Coarse:
    """The source cells a grid needs, read once (float64, NaN where nodata or outside ``valid_range``), and
    sampled block by block at the target cells' centres (see the module docstring)."""

    def __init__(self, values: np.ndarray, win: Window, src_transform, src_size: tuple[int, int]):
        self.values = values
        self.win = win
        self.inv = ~src_transform          # map coordinates → source pixel coordinates
        self.src_size = src_size           # (rows, cols) of the whole source raster

    @classmethod
    def read(cls, reader: WarpReader, src) -> _Coarse | None:
        """The coarse array for ``reader`` from the open ``src``, or None where a warp is needed (source not
        coarse enough, too large a window, or the grid outside the source)."""
        g = reader.grid
        if CRS.from_wkt(reader.src_crs_wkt) != g.crs or g.transform.b or g.transform.d or src.transform.b \
                or src.transform.d:
            return None  # another CRS (or a rotated grid): GDAL's warp, faster there (benchmarks/README.md)
        h, w = g.shape
        left, bottom, right, top = array_bounds(h, w, g.transform)
        try:
            bounds = transform_bounds(g.crs, src.crs, left, bottom, right, top, densify_pts=21)
        except Exception:  # noqa: BLE001 — a grid the source CRS cannot represent: leave it to GDAL
            return None
        win = from_bounds(*bounds, transform=src.transform)
        if not (win.width > 0 and win.height > 0) or w < COARSE_RATIO * win.width or h < COARSE_RATIO * win.height:
            return None
        col0, row0 = max(math.floor(win.col_off) - 2, 0), max(math.floor(win.row_off) - 2, 0)
        col1 = min(math.ceil(win.col_off + win.width) + 2, src.width)
        row1 = min(math.ceil(win.row_off + win.height) + 2, src.height)
        nbands = src.count if reader.count_above is not None else 1
        if col1 <= col0 or row1 <= row0 or (col1 - col0) * (row1 - row0) * nbands > COARSE_MAX_VALUES:
            return None
        win = Window(col0, row0, col1 - col0, row1 - row0)
        src_nodata = reader.nodata if reader.nodata is not None else src.nodata
        values = reader.read_masked(src, src_nodata, win)
        return cls(values, win, src.transform, (src.height, src.width))

    def sample(self, grid: Grid, r0: int, r1: int, c0: int, c1: int, resampling: str) -> np.ndarray:
        """Target rows r0:r1, columns c0:c1 sampled from the coarse array (float64, float32-rounded like the
        warp's output; NaN outside the source and on nodata)."""
        t, inv = grid.transform, self.inv
        px = inv.c + inv.a * (t.c + t.a * (np.arange(c0, c1) + 0.5))
        py = inv.f + inv.e * (t.f + t.e * (np.arange(r0, r1) + 0.5))
        x, y = px - self.win.col_off, py - self.win.row_off
        vals = np.pad(self.values, 1, constant_values=np.nan)       # index k + 1: source cell k of the window
        hp, wp = vals.shape

        def idx(k, n):
            return np.clip(k, -1, n - 2) + 1

        i, j = np.floor(y + 1e-10).astype(np.int64), np.floor(x + 1e-10).astype(np.int64)
        out = vals[idx(i, hp)][:, idx(j, wp)]
        if resampling == "bilinear":  # GDAL: only where the source cell containing the centre is valid
            ok = ~np.isnan(vals)
            v0 = np.where(ok, vals, 0.0)
            j0, i0 = np.floor(x - 0.5).astype(np.int64), np.floor(y - 0.5).astype(np.int64)
            rx, ry = 1.5 - (x - j0), (1.5 - (y - i0))[:, None]   # weight of the left / upper cell (GDAL's)
            a, b = idx(i0, hp), idx(i0 + 1, hp)
            ja, jb = idx(j0, wp), idx(j0 + 1, wp)
            acc_rows = v0[a] * ry + v0[b] * (1 - ry)
            div_rows = ok[a] * ry + ok[b] * (1 - ry)
            acc = acc_rows[:, ja] * rx + acc_rows[:, jb] * (1 - rx)
            div = div_rows[:, ja] * rx + div_rows[:, jb] * (1 - rx)
            value = np.where(div == 1.0, acc, acc / np.where(div > 0, div, 1.0))
            value[div < 1e-5] = np.nan
            out = np.where(np.isnan(out), np.nan, value)
        outside = ((px < 0) | (px >= self.src_size[1]))[None, :] | ((py < 0) | (py >= self.src_size[0]))[:, None]
        out[outside] = np.nan
        return out.astype(np.float32).astype(np.float64)


def _open(path: str):
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as err:
        raise InputError(f"{path}: cannot be opened as a raster ({str(err).splitlines()[0]}); check the path "
                         f"and the {{year}} in its template") from None


def warp_to_grid(path: str | Path, grid: Grid, chunks, *, resampling: str = "bilinear",
                 kind: Literal["intensity", "amount"] = "intensity", output: Literal["density", "amount"] = "density",
                 scale: float = 1.0, offset: float = 0.0, nodata: float | None = None, band: int = 1,
                 valid_range: tuple[float, float] | None = None, count_above: float | None = None) -> da.Array:
    """A lazy float32 Dask array of the raster at ``path`` on ``grid`` with the given ``chunks``.

    ``chunks`` is a Dask chunks spec, normally the land-cover array's ``.chunks`` so that blocks line up.
    Values are ``raw × scale + offset`` in the unit the caller expects; see the module docstring for
    ``kind``/``output`` and ``valid_range``. With ``count_above`` the value of a cell is the number of the
    file's bands whose value (× scale + offset) is above it (days of daily maxima above a threshold: cooling
    days). Missing file, missing CRS or a bad band raise InputError.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: raster does not exist; check the path (and the {{year}} in its template)")
    reader = WarpReader(p, grid, resampling=resampling, kind=kind, output=output, scale=scale, offset=offset,
                        nodata=nodata, band=band, valid_range=valid_range, count_above=count_above)
    name = (f"warp-{p.name}-{next(_counter)}-"
            f"{abs(hash((str(p), resampling, kind, output, scale, offset, valid_range, count_above)))}")
    return da.from_array(reader, chunks=chunks, lock=False, asarray=False, name=name,
                         meta=np.array((), dtype=np.float32))


def constant_on_grid(value: float, grid: Grid, chunks) -> da.Array:
    """A lazy float32 array of one value on ``grid`` (for inputs given as a scalar)."""
    if not math.isfinite(value):
        raise InputError(f"constant input {value}: must be a finite number")
    return da.full(grid.shape, value, dtype=np.float32, chunks=chunks)
