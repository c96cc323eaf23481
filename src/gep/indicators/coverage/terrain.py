"""Terrain classes from a DEM for indicator 7 (林草覆盖率), docs/methods.md §2.

Pipeline: DEM → relief Rf = Hmax − Hmin (m) in a square moving window whose side is given in metres →
six relief classes (平原 … 极大起伏山地) → nearest-neighbour onto the land-cover grid → Cloud-Optimized GeoTIFF.

Conventions (all documented in :class:`TerrainConfig`):

- The window is ``window_m`` metres on a side (default 4,583 m ≈ √21 km², the classic national statistical
  unit [P]) and is converted to an odd number of cells separately along x and y (nearest odd integer to
  ``window_m / cell size``). Relief is measured between cell centres, so on a plane of slope s (m/m) along x
  the relief away from the edges is exactly s × (n_x − 1) × res_x.
- Near the raster's edges (and next to DEM nodata) the window uses only the cells that exist: nothing is
  extrapolated, so relief there can only be lower.
- Class codes: 0 no data, 1 平原 (Rf < 30 m), 2 丘陵 [30, 200), 3 小起伏山地 [200, 500), 4 中起伏山地
  [500, 1000), 5 大起伏山地 [1000, 2500), 6 极大起伏山地 ≥ 2500 m. Every class includes its lower bound
  (docs/methods.md §2.2: 山地 ≥ 200 m); a relief of exactly 2,500 m is therefore class 6.
- All computations are lazy (Dask) and chunk-size independent: relief uses a halo exchange of half a window,
  and the reprojection maps every destination cell centre exactly (no approximate transformer), so any
  tiling gives the same bytes.
"""

from __future__ import annotations

import functools
import json
import math
import tempfile
import threading
from pathlib import Path
from typing import Any, Literal, Mapping, NamedTuple

import dask.array as darr
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pyproj import CRS, Transformer
from scipy import ndimage

from gep.config.terrain import (BROAD_OF_CODE, NODATA_CODE, REGION_TYPES, TERRAIN_CLASSES,  # noqa: F401
                                TerrainClass, TerrainConfig, load_terrain_config)
from gep.core.atomic import atomic_path
from gep.core.errors import InputError
from gep.raster.cog import write_cog  # noqa: F401  (the terrain classes are written as a COG)
from gep.raster.xgrid import as_2d as _as_2d, grid_of as _grid_of
from gep.core.workers import worker_count

class GridSpec(NamedTuple):
    """A target grid: affine transform, (height, width) and CRS."""

    transform: Affine
    shape: tuple[int, int]
    crs: CRS


# ---------------------------------------------------------------------------------------------------------
# relief


def _nearest_odd(cells: float) -> int:
    """Nearest odd integer to ``cells`` (ties, at even integers, go up): 2·floor(cells/2) + 1."""
    return 2 * int(math.floor(cells / 2.0)) + 1


def metres_per_degree(lat_deg: float, crs: CRS) -> tuple[float, float]:
    """Length (m) of one degree of longitude and of latitude at ``lat_deg`` on ``crs``'s ellipsoid.

    Parallel: N(φ)·cos φ·π/180; meridian: M(φ)·π/180, with N, M the prime-vertical and meridional radii.
    """
    ell = crs.ellipsoid
    if ell is None:
        raise InputError(f"CRS '{crs.name}' has no ellipsoid; give the DEM a geographic or projected CRS")
    a = ell.semi_major_metre
    b = ell.semi_minor_metre
    e2 = 1.0 - (b * b) / (a * a)
    phi = math.radians(lat_deg)
    w = 1.0 - e2 * math.sin(phi) ** 2
    n = a / math.sqrt(w)
    m = a * (1.0 - e2) / w**1.5
    return n * math.cos(phi) * math.pi / 180.0, m * math.pi / 180.0


def window_cells(dem: xr.DataArray, window_m: float = 4583.0) -> tuple[int, int]:
    """Window size in cells ``(n_y, n_x)`` (odd integers) for a side of ``window_m`` metres on ``dem``'s grid.

    Projected CRS: ``window_m / |res|`` (CRS units must be metres). Geographic CRS: the metre length of one
    cell is taken at the raster's central latitude on the CRS's ellipsoid; the window then stays fixed in
    cells across the raster (at 5° of latitude from the centre the x-extent is off by ≈ 5–10 %).
    Raises InputError when the window is smaller than 3 cells in either direction.
    """
    dem = _as_2d(dem, "DEM")
    transform, crs = _grid_of(dem, "DEM")
    rx, ry = abs(transform.a), abs(transform.e)
    if crs.is_geographic:
        height = dem.sizes[dem.rio.y_dim]
        lat_c = transform.f + transform.e * height / 2.0
        m_lon, m_lat = metres_per_degree(lat_c, crs)
        cell_x, cell_y = rx * m_lon, ry * m_lat
    else:
        unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
        factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        if unit not in ("metre", "meter", "m"):
            cell_x, cell_y = rx * factor, ry * factor
        else:
            cell_x, cell_y = rx, ry
    nx = _nearest_odd(window_m / cell_x)
    ny = _nearest_odd(window_m / cell_y)
    if nx < 3 or ny < 3:
        raise InputError(
            f"relief window window_m={window_m:g} m is {ny}×{nx} cells on a DEM with cells of "
            f"{cell_y:.1f}×{cell_x:.1f} m; use window_m ≥ {3 * max(cell_x, cell_y):.0f} m or a finer DEM"
        )
    return ny, nx


def _dem_nodata(dem: xr.DataArray) -> float | None:
    nd = None
    try:
        nd = dem.rio.nodata
    except Exception:  # noqa: BLE001 - rio accessor unavailable for odd inputs; fall back to attrs
        nd = None
    if nd is None:
        nd = dem.attrs.get("_FillValue", dem.attrs.get("nodata"))
    if nd is None:
        return None
    nd = float(nd)
    return None if math.isnan(nd) else nd


def _relief_block(block: np.ndarray, size: tuple[int, int], nodata: float | None, out_dtype) -> np.ndarray:
    block = np.asarray(block)
    valid = np.isfinite(block)
    if nodata is not None:
        valid &= block != nodata
    # Invalid cells become -inf for the max and +inf for the min, and so does the outside of the raster
    # (mode="constant"): a window then sees only real cells. Internal tile edges carry a halo of half a
    # window (map_overlap), so the filter never reaches the cval there and tiling cannot change a value.
    hi = np.where(valid, block, -np.inf).astype(out_dtype, copy=False)
    mx = ndimage.maximum_filter(hi, size=size, mode="constant", cval=-np.inf)
    del hi
    lo = np.where(valid, block, np.inf).astype(out_dtype, copy=False)
    mn = ndimage.minimum_filter(lo, size=size, mode="constant", cval=np.inf)
    del lo
    np.subtract(mx, mn, out=mx)
    mx[~valid] = np.nan
    return mx


def relief(dem: xr.DataArray, window_m: float = 4583.0) -> xr.DataArray:
    """Relief Rf = max − min elevation (m) in a square window of ``window_m`` metres around every cell.

    ``dem`` is a (y, x) or single-band DataArray with a CRS (rioxarray), ideally Dask-backed; the result is
    lazy when the input is, float32 for integer or float32 DEMs (float64 for float64), with NaN where the DEM
    is nodata (the DEM's nodata value, NaN or ±inf). Tiles are joined through a halo of half a window so the
    result is the same for any chunking. Raises InputError for windows under 3 cells (see
    :func:`window_cells`).
    """
    dem = _as_2d(dem, "DEM")
    ny, nx = window_cells(dem, window_m)
    nodata = _dem_nodata(dem)
    out_dtype = np.float64 if dem.dtype == np.float64 or dem.dtype.itemsize > 4 else np.float32
    data = dem.data
    if not isinstance(data, darr.Array):
        data = darr.from_array(np.asarray(data), chunks=(1024, 1024))
    hy, hx = ny // 2, nx // 2
    out = darr.map_overlap(
        _relief_block,
        data,
        depth={0: hy, 1: hx},
        boundary="none",
        dtype=out_dtype,
        meta=np.array((), dtype=out_dtype),
        size=(ny, nx),
        nodata=nodata,
        out_dtype=out_dtype,
    )
    result = xr.DataArray(out, coords=dem.coords, dims=dem.dims, name="relief")
    result.attrs = {
        "units": "m",
        "long_name": "relief (max - min elevation in window)",
        "window_m": float(window_m),
        "window_cells_yx": f"{ny},{nx}",
    }
    result = result.rio.write_nodata(np.nan, encoded=False)
    crs = dem.rio.crs
    if crs is not None:
        result = result.rio.write_crs(crs)
    return result


def _thresholds(thresholds) -> np.ndarray:
    if isinstance(thresholds, TerrainConfig):
        thresholds = thresholds.thresholds_m
    t = np.asarray(thresholds, dtype=np.float64)
    if t.shape != (5,) or np.any(np.diff(t) <= 0) or t[0] <= 0:
        raise InputError(f"relief thresholds {list(t)} must be 5 positive, strictly increasing values in m")
    return t


def _classify_block(rf: np.ndarray, t: np.ndarray) -> np.ndarray:
    rf = np.asarray(rf)
    # digitize(right=False): class k holds [t_{k-1}, t_k), i.e. every class includes its lower bound
    codes = (np.digitize(rf, t, right=False) + 1).astype(np.uint8)
    codes[~np.isfinite(rf)] = NODATA_CODE
    return codes


def classify_relief(rf: xr.DataArray, thresholds=TerrainConfig().thresholds_m) -> xr.DataArray:
    """Relief (m) → class codes (uint8): 1 平原 … 6 极大起伏山地, 0 where relief is NaN (no DEM).

    ``thresholds`` are the 5 lower bounds (m) of classes 2..6 (or a :class:`TerrainConfig`); every class
    includes its lower bound. Lazy when ``rf`` is Dask-backed.
    """
    t = _thresholds(thresholds)
    data = rf.data
    if isinstance(data, darr.Array):
        codes = data.map_blocks(_classify_block, t, dtype=np.uint8, meta=np.array((), dtype=np.uint8))
    else:
        codes = _classify_block(np.asarray(data), t)
    out = xr.DataArray(codes, coords=rf.coords, dims=rf.dims, name="terrain_class")
    out.attrs = {"units": "terrain class code", "long_name": "relief class (0 = no data)",
                 "thresholds_m": ",".join(f"{v:g}" for v in t)}
    out = out.rio.write_nodata(NODATA_CODE, encoded=False)
    if rf.rio.crs is not None:
        out = out.rio.write_crs(rf.rio.crs)
    return out


# ---------------------------------------------------------------------------------------------------------
# onto the land-cover grid


def open_dem(dem_path: str | Path, chunk: int = 1024) -> xr.DataArray:
    """Open a DEM lazily (Dask chunks of ``chunk`` cells, masked: nodata → NaN) as a (y, x) DataArray."""
    path = Path(dem_path)
    if not path.is_file():
        raise InputError(f"DEM file '{path}' does not exist; check the path")
    try:
        da = rioxarray.open_rasterio(path, chunks={"band": 1, "y": chunk, "x": chunk}, masked=True)
    except Exception as err:  # noqa: BLE001 - GDAL's error says what is wrong with the file
        raise InputError(f"DEM file '{path}' cannot be read as a raster ({err}); give a GeoTIFF") from None
    return _as_2d(da, f"DEM '{path}'")


def grid_spec(like) -> GridSpec:
    """The grid of ``like``: a :class:`GridSpec`, a (transform, shape, crs) tuple, a DataArray or a raster path."""
    spec = _grid_spec(like)
    if spec.transform.b != 0 or spec.transform.d != 0:
        raise InputError("the land-cover grid has a rotated geotransform; warp it to a north-up grid first")
    return spec


def _grid_spec(like) -> GridSpec:
    if isinstance(like, GridSpec):
        return GridSpec(like.transform, tuple(like.shape), CRS.from_user_input(like.crs))
    if isinstance(like, xr.DataArray):
        da = _as_2d(like, "land-cover grid")
        transform, crs = _grid_of(da, "land-cover grid")
        return GridSpec(transform, (da.sizes[da.rio.y_dim], da.sizes[da.rio.x_dim]), crs)
    if isinstance(like, (tuple, list)) and len(like) == 3:
        return GridSpec(like[0], tuple(like[1]), CRS.from_user_input(like[2]))
    import rasterio

    path = Path(like)
    if not path.is_file():
        raise InputError(f"land-cover raster '{path}' does not exist; check the --like path")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise InputError(f"land-cover raster '{path}' has no CRS; assign one and rerun")
        return GridSpec(src.transform, (src.height, src.width), CRS.from_user_input(src.crs))


def _grid_coords(spec: GridSpec) -> dict[str, np.ndarray]:
    t = spec.transform
    h, w = spec.shape
    return {"y": t.f + t.e * (np.arange(h) + 0.5), "x": t.c + t.a * (np.arange(w) + 0.5)}


def _src_index(spec: GridSpec, rows: slice, cols: slice, src_transform: Affine,
               transformer: Transformer | None) -> tuple[np.ndarray, np.ndarray]:
    """Source (row, col) float indices of destination cell centres in ``rows × cols`` (exact transform)."""
    t = spec.transform
    rr = np.arange(rows.start, rows.stop, dtype=np.float64) + 0.5
    cc = np.arange(cols.start, cols.stop, dtype=np.float64) + 0.5
    if transformer is None and t.b == 0 and t.d == 0:
        # same CRS: separable, no need for a full meshgrid
        ys = t.f + t.e * rr
        xs = t.c + t.a * cc
        sc = (xs - src_transform.c) / src_transform.a
        sr = (ys - src_transform.f) / src_transform.e
        return np.broadcast_to(sr[:, None], (len(rr), len(cc))), np.broadcast_to(sc[None, :], (len(rr), len(cc)))
    cgrid, rgrid = np.meshgrid(cc, rr)
    xs = t.c + t.a * cgrid + t.b * rgrid
    ys = t.f + t.d * cgrid + t.e * rgrid
    if transformer is not None:
        xs, ys = transformer.transform(xs, ys)
    sc = (np.asarray(xs) - src_transform.c) / src_transform.a
    sr = (np.asarray(ys) - src_transform.f) / src_transform.e
    return sr, sc


def _nearest_block(src: np.ndarray, r0: int, c0: int, spec: GridSpec, rows: slice, cols: slice,
                   src_transform: Affine, src_shape: tuple[int, int], src_crs_wkt: str | None) -> np.ndarray:
    transformer = None
    if src_crs_wkt is not None:
        transformer = Transformer.from_crs(spec.crs, CRS.from_wkt(src_crs_wkt), always_xy=True)
    sr, sc = _src_index(spec, rows, cols, src_transform, transformer)
    out = np.full(sr.shape, NODATA_CODE, dtype=np.uint8)
    with np.errstate(invalid="ignore"):
        ir = np.floor(sr)
        ic = np.floor(sc)
        inside = np.isfinite(ir) & np.isfinite(ic) & (ir >= 0) & (ic >= 0) & (ir < src_shape[0]) & (ic < src_shape[1])
    ir = ir[inside].astype(np.int64) - r0
    ic = ic[inside].astype(np.int64) - c0
    if ir.size:
        if ir.min() < 0 or ic.min() < 0 or ir.max() >= src.shape[0] or ic.max() >= src.shape[1]:
            raise RuntimeError("terrain reprojection: source window too small for a destination block")
        out[inside] = np.asarray(src)[ir, ic]
    return out


def _src_window(spec: GridSpec, rows: slice, cols: slice, src_transform: Affine, src_shape: tuple[int, int],
                transformer: Transformer | None, margin: int = 2) -> tuple[int, int, int, int] | None:
    """Source rows/cols [r0, r1) × [c0, c1) that the destination block can sample (edges + lattice + margin)."""
    n = 33
    rr = np.unique(np.r_[np.linspace(rows.start, rows.stop, n)])
    cc = np.unique(np.r_[np.linspace(cols.start, cols.stop, n)])
    cg, rg = np.meshgrid(cc, rr)
    t = spec.transform
    xs = t.c + t.a * cg + t.b * rg
    ys = t.f + t.d * cg + t.e * rg
    if transformer is not None:
        xs, ys = transformer.transform(xs, ys)
    sc = (np.asarray(xs) - src_transform.c) / src_transform.a
    sr = (np.asarray(ys) - src_transform.f) / src_transform.e
    ok = np.isfinite(sc) & np.isfinite(sr)
    if not ok.any():
        return None
    # the sampled lattice is 32× finer than the block: add a margin proportional to the cell ratio
    span_r = (np.nanmax(sr[ok]) - np.nanmin(sr[ok])) / (n - 1)
    span_c = (np.nanmax(sc[ok]) - np.nanmin(sc[ok])) / (n - 1)
    pad_r = margin + int(math.ceil(span_r))
    pad_c = margin + int(math.ceil(span_c))
    r0 = max(0, int(math.floor(np.nanmin(sr[ok]))) - pad_r)
    r1 = min(src_shape[0], int(math.floor(np.nanmax(sr[ok]))) + 1 + pad_r)
    c0 = max(0, int(math.floor(np.nanmin(sc[ok]))) - pad_c)
    c1 = min(src_shape[1], int(math.floor(np.nanmax(sc[ok]))) + 1 + pad_c)
    if r0 >= r1 or c0 >= c1:
        return None
    return r0, r1, c0, c1


def nearest_onto(classes: xr.DataArray, like, chunk: int = 1024) -> xr.DataArray:
    """Resample a class raster onto ``like``'s grid by nearest neighbour, lazily and exactly.

    Each destination cell takes the source cell that contains its centre (centres transformed exactly with
    PROJ, no approximate transformer), so the result is independent of the destination chunking. Cells
    outside the source get :data:`NODATA_CODE`.
    """
    classes = _as_2d(classes, "terrain classes")
    src_transform, src_crs = _grid_of(classes, "terrain classes")
    spec = grid_spec(like)
    src_shape = (classes.sizes[classes.rio.y_dim], classes.sizes[classes.rio.x_dim])
    same = src_crs == spec.crs
    transformer = None if same else Transformer.from_crs(spec.crs, src_crs, always_xy=True)
    wkt = None if same else src_crs.to_wkt()
    src = classes.data
    if not isinstance(src, darr.Array):
        src = darr.from_array(np.asarray(src), chunks=(chunk, chunk))
    h, w = spec.shape
    row_blocks = []
    for r in range(0, h, chunk):
        rows = slice(r, min(h, r + chunk))
        line = []
        for c in range(0, w, chunk):
            cols = slice(c, min(w, c + chunk))
            shape = (rows.stop - rows.start, cols.stop - cols.start)
            win = _src_window(spec, rows, cols, src_transform, src_shape, transformer)
            if win is None:
                line.append(darr.full(shape, NODATA_CODE, dtype=np.uint8))
                continue
            r0, r1, c0, c1 = win
            # One dask array graph (slice → single chunk → map_blocks), not dask.delayed: delayed optimises
            # each argument's graph on its own, renaming fused keys, so shared relief tiles were recomputed
            # for every destination block that touches them.
            func = functools.partial(_nearest_block, r0=r0, c0=c0, spec=spec, rows=rows, cols=cols,
                                     src_transform=src_transform, src_shape=src_shape, src_crs_wkt=wkt)
            piece = src[r0:r1, c0:c1].rechunk((r1 - r0, c1 - c0))
            line.append(piece.map_blocks(func, chunks=((shape[0],), (shape[1],)), dtype=np.uint8,
                                         meta=np.array((), dtype=np.uint8)))
        row_blocks.append(line)
    data = darr.block(row_blocks)
    coords = _grid_coords(spec)
    out = xr.DataArray(data, coords=coords, dims=("y", "x"), name=classes.name or "terrain_class")
    out.attrs = dict(classes.attrs)
    out = out.rio.write_crs(spec.crs)
    out = out.rio.write_transform(spec.transform)
    out = out.rio.write_nodata(NODATA_CODE, encoded=False)
    return out


def terrain_on_grid(dem_path: str | Path, like, cfg: TerrainConfig | None = None) -> xr.DataArray:
    """Terrain class codes (uint8, 0 = no DEM) on ``like``'s grid, computed lazily from the DEM at ``dem_path``.

    The DEM may have any CRS and resolution: relief and classes are computed at the DEM's own resolution
    (window ``cfg.window_m`` metres), then taken onto the land-cover grid by nearest neighbour (cell centres).
    ``like`` is a land-cover raster path, a DataArray, or a :class:`GridSpec`.
    """
    cfg = cfg or TerrainConfig()
    dem = open_dem(dem_path, cfg.chunk)
    classes = classify_relief(relief(dem, cfg.window_m), cfg.thresholds_m)
    return nearest_onto(classes, like, chunk=cfg.chunk)


# ---------------------------------------------------------------------------------------------------------
# region × relief class on the DEM's own grid


def relief_class_areas(dem_path: str | Path, regions_gdf, cfg: TerrainConfig | None = None, *,
                       scheduler=None) -> pd.DataFrame:
    """Exact area (integer cm²) of every region in every relief class, on the DEM's own grid (docs/methods.md §2.3).

    The relief classes are computed at the DEM's resolution (:func:`relief`, :func:`classify_relief`) and
    accounted with the land cover's exact-area kernel (:func:`gep.raster.zonal.crosstab`: covered fraction of
    each cell × its ellipsoidal area, §1.3–§1.4), whatever the land cover's resolution: this is what decides a
    region's terrain type, never terrain sampled once per land-cover cell. Area on DEM nodata and the part of a
    region beyond the DEM's extent are terrain code 0 (no DEM). ``regions_gdf`` has ``region_code`` and
    geometry in any CRS. Columns: region_code, terrain_code (0..6), area_cm2; zero rows dropped; sorted.
    """
    return relief_class_areas_by_level(dem_path, {"": regions_gdf}, cfg, scheduler=scheduler)[""]


def relief_class_areas_by_level(dem_path: str | Path, regions: Mapping[str, Any], cfg: TerrainConfig | None = None,
                                *, scheduler=None) -> dict[str, pd.DataFrame]:
    """:func:`relief_class_areas` for several region layers (``{level: regions}``) in one pass over the DEM:
    the relief of each DEM tile is computed once for every level."""
    import dask

    from gep.accounting.landcover import region_areas
    from gep.core.units import CM2_PER_KM2
    from gep.raster.grid import grid_of
    from gep.raster.zonal import CodeLUT, Zones, combine, crosstab_tasks
    from gep.vector.regions import to_crs

    cfg = cfg or TerrainConfig()
    for level, gdf in regions.items():
        if "region_code" not in gdf.columns:
            raise InputError(f"regions{f' of level {level}' if level else ''} lack column 'region_code'; read "
                             "them with gep.vector.regions.read_regions")
    dem = open_dem(dem_path, cfg.chunk)
    classes = classify_relief(relief(dem, cfg.window_m), cfg.thresholds_m)
    grid = grid_of(dem_path)
    codes = np.array(sorted(TERRAIN_CLASSES), dtype=np.int64)
    lut = CodeLUT(codes, NODATA_CODE)
    zones = {level: Zones.prepare(np.asarray(to_crs(gdf, grid.crs).geometry.values), grid)
             for level, gdf in regions.items()}
    tasks = {level: crosstab_tasks(classes.data, grid, z, lut) for level, z in zones.items()}
    flat = [t for level in tasks for t in tasks[level]]
    results = iter(dask.compute(*flat, scheduler=scheduler))
    out: dict[str, pd.DataFrame] = {}
    for level, gdf in regions.items():
        mine = [next(results) for _ in tasks[level]]
        sums = combine(mine, len(zones[level]), 1, lut.n)[:, 0, :]  # (region, class bin)
        by_code = np.zeros((len(gdf), NODATA_CODE + 1 + len(codes)), dtype=np.int64)
        by_code[:, codes] = sums[:, :len(codes)]
        by_code[:, NODATA_CODE] = sums[:, lut.nodata_index] + sums[:, lut.unknown_index]
        # the part of each region beyond the DEM's extent is no DEM as well (nothing is dropped)
        areas = region_areas(gdf, grid)
        outside = (areas["polygon_area_km2"] - areas["in_raster_km2"]).clip(lower=0.0).to_numpy()
        by_code[:, NODATA_CODE] += np.rint(outside * CM2_PER_KM2).astype(np.int64)
        z, k = np.nonzero(by_code)
        df = pd.DataFrame({"region_code": gdf["region_code"].astype(str).to_numpy()[z],
                           "terrain_code": k.astype(np.int64), "area_cm2": by_code[z, k]})
        out[level] = df.sort_values(["region_code", "terrain_code"], kind="stable").reset_index(drop=True)
    return out


# ---------------------------------------------------------------------------------------------------------
# DEM coverage of regions


def dem_coverage(dem_path: str | Path, regions_gdf, *, min_pct: float | None = None, raise_below: bool = True,
                 code_col: str = "region_code", name_col: str = "region_name",
                 max_cells: int = 4096) -> pd.DataFrame:
    """Share of each region covered by valid DEM cells (ellipsoidal areas, km² and %).

    The DEM's valid mask is read decimated to at most ``max_cells`` per side (nearest sampling), polygonised,
    densified and taken into the regions' CRS; coverage is therefore exact to about one decimated cell along
    the DEM's edges and voids. Columns: region_code, region_name, region_km2, dem_covered_km2,
    dem_missing_km2, dem_covered_pct; sorted by region_code. When ``raise_below`` and a region is covered
    less than ``min_pct`` (default :attr:`TerrainConfig.dem_min_coverage_pct`), raises InputError naming
    every such region and the missing area.
    """
    import geopandas as gpd
    import rasterio
    import shapely
    from rasterio.enums import Resampling
    from rasterio.features import shapes

    from gep.vector.geodesy import polygon_area_m2

    min_pct = TerrainConfig().dem_min_coverage_pct if min_pct is None else float(min_pct)
    path = Path(dem_path)
    if not path.is_file():
        raise InputError(f"DEM file '{path}' does not exist; check the path")
    if regions_gdf.crs is None:
        raise InputError("regions have no CRS; assign one to the boundary file and rerun")
    for col in (code_col, name_col):
        if col not in regions_gdf.columns:
            raise InputError(f"regions lack column '{col}'; rename the region code/name columns")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise InputError(f"DEM file '{path}' has no CRS; assign one and rerun")
        scale = max(1, math.ceil(max(src.height, src.width) / max_cells))
        h, w = math.ceil(src.height / scale), math.ceil(src.width / scale)
        data = src.read(1, out_shape=(h, w), resampling=Resampling.nearest)
        mask = src.read_masks(1, out_shape=(h, w), resampling=Resampling.nearest) > 0
        valid = mask & np.isfinite(data)
        tr = src.transform @ Affine.scale(src.width / w, src.height / h)
        dem_crs = CRS.from_user_input(src.crs)
    polys = [shapely.geometry.shape(g) for g, v in shapes(valid.astype(np.uint8), mask=valid, transform=tr) if v]
    footprint = shapely.union_all(polys) if polys else shapely.Polygon()
    # densify (quarter of a decimated cell) so straight DEM edges stay straight in the regions' CRS
    if not footprint.is_empty:
        footprint = shapely.segmentize(footprint, abs(tr.a) / 4)
    fp = gpd.GeoSeries([footprint], crs=dem_crs).to_crs(regions_gdf.crs).iloc[0]
    geoms = regions_gdf.geometry.values
    inter = shapely.intersection(np.asarray(geoms, dtype=object), fp)
    region_m2 = polygon_area_m2(geoms, regions_gdf.crs)
    cover_m2 = polygon_area_m2(inter, regions_gdf.crs)
    df = pd.DataFrame({
        "region_code": regions_gdf[code_col].astype(str).to_numpy(),
        "region_name": regions_gdf[name_col].astype(str).to_numpy(),
        "region_km2": region_m2 / 1e6,
        "dem_covered_km2": np.minimum(cover_m2, region_m2) / 1e6,
    })
    df["dem_missing_km2"] = df["region_km2"] - df["dem_covered_km2"]
    with np.errstate(invalid="ignore", divide="ignore"):
        df["dem_covered_pct"] = np.where(df["region_km2"] > 0, 100.0 * df["dem_covered_km2"] / df["region_km2"], 0.0)
    df = df.sort_values("region_code", kind="mergesort").reset_index(drop=True)
    if raise_below:
        low = df[df["dem_covered_pct"] < min_pct]
        if len(low):
            items = "; ".join(
                f"{r.region_code} {r.region_name}: {r.dem_missing_km2:.3f} km² missing ({100 - r.dem_covered_pct:.2f}%)"
                for r in low.itertuples()
            )
            raise InputError(
                f"DEM '{path}' covers less than {min_pct:g}% of {len(low)} region(s): {items}; "
                "use a DEM that covers every region (merge tiles) or lower dem_min_coverage_pct"
            )
    return df


# ---------------------------------------------------------------------------------------------------------
# output


#: Block rows per band when the terrain classes are written (``write_cog(..., band_blocks=)``): one store over
#: the whole raster keeps the relief tiles that several blocks share until the end, so its peak memory grows
#: with the raster; bands bound it for a little more time (figures in benchmarks/README.md).
TERRAIN_BAND_BLOCKS = 8
