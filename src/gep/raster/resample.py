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

Coarse rasters (each source cell at least :data:`COARSE_RATIO` target cells across, e.g. 1 km climate over 30 m
land cover) with ``nearest`` or ``bilinear`` are not warped by GDAL block by block: the source cells the grid
needs are read once (masked as above) and every block is sampled from that small array with GDAL's own
definitions, evaluated at the target cell's centre mapped into the source's pixel space:

- nearest: the source cell ``floor(x + 1e-10)``;
- bilinear: the four source cells around the point, weights ``(1 - dx)(1 - dy)`` …; neighbours that are nodata
  or outside the raster are left out and the weights of the others renormalised (a sum < 1e-5: NaN).
  A target cell whose centre falls outside the source raster, or in a nodata source cell, is NaN, as with GDAL.

Same CRS (unrotated): the source pixel coordinates are exact. Another CRS: they are transformed on a lattice and
interpolated in between, refined until the interpolation error is below 1e-7 source cell (GDAL's approximate
transformer, used by the warp, allows 1e-6), so values can differ from the warp by that fraction of the
difference between neighbouring source cells. Same-CRS results equal the warp's up to float32 rounding.
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
_LATTICE_TOL_PX = 1e-7       # interpolated source pixel coordinates: largest error accepted (source cells)


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

    def __init__(self, values: np.ndarray, win: Window, src_transform, src_size: tuple[int, int],
                 transformer: Transformer | None):
        self.values = values
        self.win = win
        self.inv = ~src_transform          # map coordinates → source pixel coordinates
        self.src_size = src_size           # (rows, cols) of the whole source raster
        self.transformer = transformer     # grid CRS → source CRS; None: the same CRS

    @classmethod
    def read(cls, reader: WarpReader, src) -> _Coarse | None:
        """The coarse array for ``reader`` from the open ``src``, or None where a warp is needed (source not
        coarse enough, too large a window, or the grid outside the source)."""
        g = reader.grid
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
        same = CRS.from_wkt(reader.src_crs_wkt) == g.crs
        transformer = None if same else Transformer.from_crs(g.crs, CRS.from_wkt(reader.src_crs_wkt), always_xy=True)
        return cls(values, win, src.transform, (src.height, src.width), transformer)

    def sample(self, grid: Grid, r0: int, r1: int, c0: int, c1: int, resampling: str) -> np.ndarray:
        """Target rows r0:r1, columns c0:c1 sampled from the coarse array (float64, float32-rounded like the
        warp's output; NaN outside the source and on nodata)."""
        px, py = self._pixels(grid, r0, r1, c0, c1)
        x, y = px - self.win.col_off, py - self.win.row_off
        out = _nearest(self.values, x, y)
        if resampling == "bilinear":  # GDAL: only where the source cell containing the centre is valid
            out = np.where(np.isnan(out), np.nan, _bilinear(self.values, x, y))
        outside = ~((px >= 0) & (px < self.src_size[1]) & (py >= 0) & (py < self.src_size[0]))
        out[outside] = np.nan
        return out.astype(np.float32).astype(np.float64)

    def _pixels(self, grid: Grid, r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray]:
        """Source pixel coordinates (whole raster) of the target cell centres of the block."""
        t, inv = grid.transform, self.inv
        cols, rows = np.arange(c0, c1) + 0.5, np.arange(r0, r1) + 0.5
        if self.transformer is None and t.b == t.d == 0 and inv.b == inv.d == 0:
            px = inv.c + inv.a * (t.c + t.a * cols)
            py = inv.f + inv.e * (t.f + t.e * rows)
            return np.broadcast_to(px, (rows.size, cols.size)), np.broadcast_to(py[:, None], (rows.size, cols.size))
        return _lattice(self._exact(t), cols, rows)

    def _exact(self, t):
        inv, tr = self.inv, self.transformer

        def to_pixels(cc: np.ndarray, rr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            x, y = t.c + t.a * cc + t.b * rr, t.f + t.d * cc + t.e * rr
            if tr is not None:
                x, y = tr.transform(x, y)
                x, y = np.asarray(x), np.asarray(y)
            return inv.c + inv.a * x + inv.b * y, inv.f + inv.d * x + inv.e * y
        return to_pixels


def _lattice(to_pixels, cols: np.ndarray, rows: np.ndarray, step: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``to_pixels`` over every (row, col) of the block, computed exactly on a lattice every ``step`` cells and
    interpolated bilinearly in between; the step is halved until the error at the lattice cells' middles is
    below :data:`_LATTICE_TOL_PX` (step 1: every cell exactly)."""
    if step <= 1 or (cols.size <= 2 and rows.size <= 2):
        cc, rr = np.meshgrid(cols, rows)
        return to_pixels(cc, rr)
    ic = np.unique(np.r_[np.arange(0, cols.size, step), cols.size - 1])
    ir = np.unique(np.r_[np.arange(0, rows.size, step), rows.size - 1])
    lx, ly = to_pixels(*np.meshgrid(cols[ic], rows[ir]))
    px, py = (_interp2(v, ic, ir, cols.size, rows.size) for v in (lx, ly))
    mc, mr = (ic[:-1] + ic[1:]) // 2, (ir[:-1] + ir[1:]) // 2
    mc, mr = (mc if mc.size else ic), (mr if mr.size else ir)
    ex, ey = to_pixels(*np.meshgrid(cols[mc], rows[mr]))
    err = max(np.max(np.abs(ex - px[np.ix_(mr, mc)])), np.max(np.abs(ey - py[np.ix_(mr, mc)])))
    if err <= _LATTICE_TOL_PX:  # NaN (a point the transform cannot map) fails too
        return px, py
    return _lattice(to_pixels, cols, rows, step // 2)


def _interp2(v: np.ndarray, ic: np.ndarray, ir: np.ndarray, w: int, h: int) -> np.ndarray:
    """Bilinear interpolation of lattice values ``v`` (at rows ``ir``, columns ``ic``) onto every cell."""
    along = np.stack([np.interp(np.arange(w), ic, row) for row in v])          # lattice rows × w
    k = np.clip(np.searchsorted(ir, np.arange(h), side="right") - 1, 0, max(ir.size - 2, 0))
    if ir.size == 1:
        return np.broadcast_to(along, (h, w)).copy()
    f = ((np.arange(h) - ir[k]) / (ir[k + 1] - ir[k]))[:, None]
    return along[k] * (1 - f) + along[k + 1] * f


def _nearest(values: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """GDAL's nearest neighbour: the cell ``floor(p + 1e-10)``; NaN off the array."""
    i, j = np.floor(py + 1e-10).astype(np.int64), np.floor(px + 1e-10).astype(np.int64)
    return _take(values, i, j)


def _take(values: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    inside = (i >= 0) & (i < values.shape[0]) & (j >= 0) & (j < values.shape[1])
    out = np.full(i.shape, np.nan)
    out[inside] = values[i[inside], j[inside]]
    return out


def _bilinear(values: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """GDAL's bilinear at points (px, py) (pixel coordinates of ``values``): the 4 cells around the point,
    weighted (1 - dx)(1 - dy), …; NaN or missing neighbours left out and the weights renormalised; NaN where
    the weights left sum to less than 1e-5."""
    j0, i0 = np.floor(px - 0.5).astype(np.int64), np.floor(py - 0.5).astype(np.int64)
    rx, ry = 1.5 - (px - j0), 1.5 - (py - i0)   # weight of the left / upper cell (GDAL's dfRatioX/Y)
    acc = np.zeros(px.shape)
    div = np.zeros(px.shape)
    for di, dj, wgt in ((0, 0, rx * ry), (0, 1, (1 - rx) * ry), (1, 0, rx * (1 - ry)), (1, 1, (1 - rx) * (1 - ry))):
        v = _take(values, i0 + di, j0 + dj)
        ok = ~np.isnan(v)
        div[ok] += wgt[ok]
        acc[ok] += v[ok] * wgt[ok]
    out = np.where(div == 1.0, acc, acc / np.where(div > 0, div, 1.0))
    out[div < 1e-5] = np.nan
    return out


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
