"""Land-cover area accounting for one raster and one region layer, and the tables built from it.

The interim ("crosstab") table of one level × year has integer areas in cm² so that partial tables (tiles,
years, schedulers) merge exactly: columns region_code, terrain_code, lc_code (text: a class code, 'nodata'
or 'unknown'), area_cm2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import dask
import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely

from gep.core.units import CM2_PER_KM2, M2_PER_KM2
from gep.accounting.classes import ClassScheme
from gep.core.errors import ConservationError, InputError
from gep.vector.geodesy import polygon_area_m2
from gep.raster.grid import Grid, RasterBlocks, grid_of, open_blocks, open_lazy
from gep.vector.regions import to_crs
from gep.raster.zonal import CodeLUT, Zones, crosstab

if TYPE_CHECKING:
    import dask.array as da

NODATA = "nodata"
UNKNOWN = "unknown"


@dataclass
class LandcoverRaster:
    """A land-cover raster opened lazily, with its grid and nodata value.

    ``blocks`` (window reads, see :class:`gep.raster.grid.RasterBlocks`) feed the area kernel; ``data`` (a dask array)
    is for raster math and is only built when asked for.
    """

    path: Path
    grid: Grid
    nodata: int | None
    chunk: int = 2048

    @cached_property
    def blocks(self) -> RasterBlocks:
        return open_blocks(self.path, self.chunk)

    @cached_property
    def data(self) -> da.Array:
        return open_lazy(self.path, self.chunk).data

    @classmethod
    def open(cls, path: str | Path, *, chunk: int = 2048, nodata: int | None = None,
             crs: str | None = None, scheme_nodata: int | None = None) -> "LandcoverRaster":
        """Open lazily. Nodata: ``nodata`` (the user's setting) wins, then the file's own value, then the class
        scheme's ``nodata`` (e.g. 0 for CLCD)."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: land-cover raster does not exist; check 'landcover.path' and the years")
        try:
            with rasterio.open(path) as src:
                dtype = np.dtype(src.dtypes[0])
                file_nodata = src.nodata
        except rasterio.errors.RasterioIOError as err:
            raise InputError(f"{path}: cannot be opened as a raster ({str(err).splitlines()[0]}); "
                             f"check the file") from None
        if dtype.kind not in "iu":
            raise InputError(f"{path}: land cover has data type {dtype}, not integer class codes; "
                             f"convert it to an integer type (e.g. uint8)")
        grid = grid_of(path, crs)
        nd = nodata if nodata is not None else (scheme_nodata if file_nodata is None else int(file_nodata))
        return cls(path, grid, nd, chunk)


def _value_counts(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``block`` and their pixel counts (int64, values ascending).

    8- and 16-bit codes (every land-cover product gep knows) are counted with one histogram pass
    (``np.bincount`` over at most 65,536 bins); wider types fall back to a sort (``np.unique``)."""
    if block.dtype.kind in "ui" and block.dtype.itemsize <= 2:
        offset = -int(np.iinfo(block.dtype).min)  # 0 for unsigned, 128 or 32,768 for signed codes
        flat = block.ravel()
        counts = np.bincount(flat.astype(np.int64) + offset if offset else flat,
                             minlength=1 << (8 * block.dtype.itemsize))
        values = np.flatnonzero(counts)
        return values.astype(np.int64) - offset, counts[values].astype(np.int64)
    values, counts = np.unique(block, return_counts=True)
    return values.astype(np.int64), counts.astype(np.int64)


def code_histogram(data: da.Array | RasterBlocks) -> dict[int, int]:
    """Pixel count of every value in a land-cover array or its blocks (one chunked pass)."""
    def count(block):
        return _value_counts(np.asarray(block))

    blocks = data.windows() if isinstance(data, RasterBlocks) else data.to_delayed()
    parts = dask.compute(*[dask.delayed(count)(b) for b in blocks.ravel()])
    total: dict[int, int] = {}
    for values, counts in parts:
        for v, c in zip(values.tolist(), counts.tolist()):
            total[v] = total.get(v, 0) + c
    return dict(sorted(total.items()))


def present_codes(raster: LandcoverRaster) -> np.ndarray:
    """The codes to count when no class scheme is given (``gep crosstab`` without ``--classes``).

    8-bit land cover: every one of the 256 values but nodata. The counting pass then finds which codes occur
    (codes without area are dropped from its table), so no separate pass reads the raster to discover them
    (benchmarks/README.md, bench_crosstab.py). Wider types: the codes found by one histogram pass
    (:func:`code_histogram`), because a table of 65,536 or more columns per region would cost more than that pass.
    """
    dtype = raster.blocks.dtype
    if dtype.itemsize == 1:
        lo = int(np.iinfo(dtype).min)
        codes = np.arange(lo, lo + 256, dtype=np.int64)
    else:
        codes = np.array(list(code_histogram(raster.blocks)), dtype=np.int64)
    return codes[codes != raster.nodata] if raster.nodata is not None else codes


def unknown_codes(raster: LandcoverRaster, scheme_codes) -> dict[int, int]:
    """Codes in the raster that are neither in the scheme nor nodata, with pixel counts."""
    known = set(int(c) for c in scheme_codes)
    if raster.nodata is not None:
        known.add(int(raster.nodata))
    return {v: n for v, n in code_histogram(raster.blocks).items() if v not in known}


def unknown_codes_error(raster: LandcoverRaster, scheme_name: str, codes: dict[int, int]) -> InputError:
    listed = ", ".join(f"{v} ({n} pixels)" for v, n in list(codes.items())[:20])
    return InputError(f"{raster.path}: codes not in class scheme '{scheme_name}': {listed}; add them to the scheme, "
                      f"fix the raster, or set 'landcover.unknown_codes: nodata'")


def unknown_codes_note(crosstab_df: pd.DataFrame) -> str | None:
    """One line naming the area of codes not in the scheme that ``landcover.unknown_codes: nodata`` turned into
    nodata, per region (km²), for the job's log; None when there is none."""
    unknown = crosstab_df[crosstab_df["lc_code"] == UNKNOWN].groupby("region_code")["area_cm2"].sum()
    unknown = unknown[unknown > 0]
    if unknown.empty:
        return None
    listed = ", ".join(f"{code} {cm2 / CM2_PER_KM2:.6f} km²" for code, cm2 in list(unknown.items())[:20])
    more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
    return (f"codes not in the class scheme counted as nodata (landcover.unknown_codes: nodata) in "
            f"{len(unknown)} region(s): {listed}{more}; see unknown_codes_km2 in region_area")


def unknown_codes_notes(region_area_df: pd.DataFrame | None) -> list[str]:
    """Report lines (Chinese and English) for the regions where ``landcover.unknown_codes: nodata`` turned codes
    not in the class scheme into nodata (the ``unknown_codes_km2`` / ``unknown_codes_pct`` columns of
    ``region_area``); empty when there are none."""
    if region_area_df is None or "unknown_codes_km2" not in region_area_df.columns:
        return []
    hit = region_area_df[region_area_df["unknown_codes_km2"] > 0]
    if hit.empty:
        return []
    hit = hit.sort_values(["region_code", "year"], kind="mergesort")
    items = "；".join(f"{r.region_code} {r.region_name} {int(r.year)}：{r.unknown_codes_km2:.4f} km²"
                     f"（{r.unknown_codes_pct:.3f}%）" for r in hit.head(20).itertuples())
    more = f" 等 {len(hit)} 条" if len(hit) > 20 else ""
    return [f"土地覆盖中有不在分类体系内的代码，已按无数据处理（landcover.unknown_codes: nodata）：{items}{more}。"
            f"该面积计入无数据面积（region_area 的 unknown_codes_km2）。Codes not in the class scheme were counted as "
            f"nodata in {len(hit)} region-year(s); see unknown_codes_km2 and unknown_codes_pct in region_area"]


def crosstab_table(raster: LandcoverRaster, regions: gpd.GeoDataFrame, codes, *, strata=None,
                   strata_codes=None, part: tuple[int, int] | None = None) -> pd.DataFrame:
    """Exact area (cm²) per region × stratum × land-cover code of one raster.

    ``regions`` has ``region_code`` and geometry in any CRS; ``codes`` are the class codes to resolve (others
    land in 'unknown'); ``strata`` is an optional integer dask array of stratum indices on the same grid with
    ``strata_codes[i]`` the code of index i; ``part = (index, count)`` accounts one tile group only (partial
    tables of all groups add up exactly). Zero rows are dropped; rows are sorted.
    """
    lut = CodeLUT(np.asarray(codes, dtype=np.int64), raster.nodata)
    in_crs = to_crs(regions, raster.grid.crs)
    zones = Zones.prepare(np.asarray(in_crs.geometry.values), raster.grid)
    ns = 1 if strata is None else len(strata_codes)
    sums = crosstab(raster.blocks, raster.grid, zones, lut, strata=strata, ns=ns, part=part)
    labels = [str(int(c)) for c in lut.codes] + [NODATA, UNKNOWN]
    z, s, b = np.nonzero(sums)
    st_codes = np.zeros(1, dtype=np.int64) if strata is None else np.asarray(strata_codes, dtype=np.int64)
    df = pd.DataFrame({
        "region_code": regions["region_code"].to_numpy()[z],
        "terrain_code": st_codes[s],
        "lc_code": np.asarray(labels, dtype=object)[b],
        "area_cm2": sums[z, s, b],
    })
    return df.sort_values(["region_code", "terrain_code", "lc_code"], kind="stable").reset_index(drop=True)


def merge_parts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Add partial crosstab tables (tile groups) exactly: integer cm² sums per key."""
    keys = [c for c in parts[0].columns if c != "area_cm2"]
    merged = pd.concat(parts, ignore_index=True).groupby(keys, as_index=False, sort=True)["area_cm2"].sum()
    merged = merged[merged["area_cm2"] != 0]
    return merged.sort_values(keys, kind="stable").reset_index(drop=True)


def region_areas(regions: gpd.GeoDataFrame, grid: Grid) -> pd.DataFrame:
    """Ellipsoidal area (km²) of each region polygon, in total and inside the raster's extent."""
    in_crs = to_crs(regions, grid.crs)
    geoms = np.asarray(in_crs.geometry.values)
    inside = shapely.intersection(geoms, shapely.box(*grid.bounds))
    return pd.DataFrame({
        "region_code": regions["region_code"].to_numpy(),
        "polygon_area_km2": polygon_area_m2(geoms, grid.crs) / M2_PER_KM2,
        "in_raster_km2": polygon_area_m2(inside, grid.crs) / M2_PER_KM2,
    })


def check_conservation(crosstab_df: pd.DataFrame, areas: pd.DataFrame, tolerance_pct: float, where: str) -> None:
    """Stop when a region's accounted area differs from its polygon's area inside the raster.

    Tolerance: ``tolerance_pct`` of the polygon area plus 1 m² (float noise on tiny regions).
    """
    acc = crosstab_df.groupby("region_code")["area_cm2"].sum() / CM2_PER_KM2
    merged = areas.set_index("region_code").join(acc.rename("accounted_km2")).fillna({"accounted_km2": 0.0})
    diff = (merged["accounted_km2"] - merged["in_raster_km2"]).abs()
    limit = merged["in_raster_km2"] * tolerance_pct / 100 + 1e-6
    bad = merged[diff > limit]
    if len(bad):
        first = bad.index[0]
        raise ConservationError(
            f"{where}: accounted area of region {first} is {bad.loc[first, 'accounted_km2']:.6f} km² but its "
            f"polygon covers {bad.loc[first, 'in_raster_km2']:.6f} km² of the raster ({len(bad)} region(s) off "
            f"by more than {tolerance_pct}%); check that regions do not overlap and the CRS is right")


def require_mapped(crosstab_df: pd.DataFrame, where: str, level: str, year: int) -> None:
    """Stop when the land cover has no classified cell inside any region of ``level`` (every table would be
    zeros): the raster holds only nodata there, or the regions lie where the raster has no data."""
    mapped = crosstab_df.loc[~crosstab_df["lc_code"].isin([NODATA, UNKNOWN]), "area_cm2"].sum()
    if mapped == 0:
        raise InputError(f"{where}: no land-cover data inside any region of level '{level}' in {year} (only "
                         f"nodata there); check that the raster and the regions show the same place and that "
                         f"'landcover.nodata' is right")


def landcover_area(crosstab_df: pd.DataFrame, regions: pd.DataFrame, scheme: ClassScheme, year: int) -> pd.DataFrame:
    """Tidy ``landcover_area`` rows of one year: area (km²) per region × land-cover class (nodata excluded)."""
    valid = crosstab_df[~crosstab_df["lc_code"].isin([NODATA, UNKNOWN])]
    g = valid.groupby(["region_code", "lc_code"], as_index=False)["area_cm2"].sum()
    g["lc_code"] = g["lc_code"].astype(int)
    info = pd.DataFrame([(c.code, c.name_zh, c.name_en, c.category) for c in scheme.classes],
                        columns=["lc_code", "lc_name_zh", "lc_name_en", "category"])
    out = g.merge(info, on="lc_code", how="left").merge(regions, on="region_code", how="left")
    out["year"] = year
    out["area_km2"] = out["area_cm2"] / CM2_PER_KM2
    cols = ["region_code", "region_name", "year", "lc_code", "lc_name_zh", "lc_name_en", "category", "area_km2",
            "area_cm2"]
    return out[cols].sort_values(["region_code", "lc_code"], kind="stable").reset_index(drop=True)


def region_area(crosstab_df: pd.DataFrame, areas: pd.DataFrame, regions: pd.DataFrame, year: int) -> pd.DataFrame:
    """Tidy ``region_area`` rows: polygon area, valid (classified) area, nodata area, area outside the raster.

    ``nodata_km2`` includes the cells whose codes are not in the class scheme (``landcover.unknown_codes:
    nodata``); that part is also reported on its own as ``unknown_codes_km2`` and as a share of the region's
    polygon area, ``unknown_codes_pct`` (docs/methods.md §2.6), so that it is never silent."""
    is_nodata = crosstab_df["lc_code"].isin([NODATA, UNKNOWN])
    valid = crosstab_df[~is_nodata].groupby("region_code")["area_cm2"].sum()
    nodata = crosstab_df[is_nodata].groupby("region_code")["area_cm2"].sum()
    unknown = crosstab_df[crosstab_df["lc_code"] == UNKNOWN].groupby("region_code")["area_cm2"].sum()
    out = regions.merge(areas, on="region_code", how="left")
    out["year"] = year
    out["valid_km2"] = out["region_code"].map(valid).fillna(0).astype(np.int64) / CM2_PER_KM2
    out["nodata_km2"] = out["region_code"].map(nodata).fillna(0).astype(np.int64) / CM2_PER_KM2
    out["unknown_codes_km2"] = out["region_code"].map(unknown).fillna(0).astype(np.int64) / CM2_PER_KM2
    out["unknown_codes_pct"] = np.where(out["polygon_area_km2"] > 0,
                                        100.0 * out["unknown_codes_km2"] / out["polygon_area_km2"], 0.0)
    out["outside_raster_km2"] = (out["polygon_area_km2"] - out["in_raster_km2"]).clip(lower=0)
    accounted = out["valid_km2"] + out["nodata_km2"]
    out["area_check_pct"] = np.where(out["in_raster_km2"] > 0,
                                     (accounted - out["in_raster_km2"]) / out["in_raster_km2"] * 100, 0.0)
    cols = ["region_code", "region_name", "year", "polygon_area_km2", "valid_km2", "nodata_km2",
            "unknown_codes_km2", "unknown_codes_pct", "outside_raster_km2", "area_check_pct"]
    return out[cols].sort_values("region_code", kind="stable").reset_index(drop=True)


def transition_table(prev: LandcoverRaster, curr: LandcoverRaster, regions: gpd.GeoDataFrame, codes) -> pd.DataFrame:
    """Exact area (cm²) per region × (class in the earlier year → class in the later year)."""
    if not prev.grid.same_as(curr.grid):
        raise InputError(f"{prev.path} and {curr.path}: land-cover rasters of different years are not on the "
                         f"same grid; resample them onto one grid first")
    lut = CodeLUT(np.asarray(codes, dtype=np.int64), prev.nodata)
    labels = [str(int(c)) for c in lut.codes] + [NODATA, UNKNOWN]
    data = prev.data.rechunk(curr.data.chunks)
    strata = data.map_blocks(lut.apply, dtype=np.uint16)
    tab = crosstab_table(curr, regions, codes, strata=strata, strata_codes=np.arange(lut.n))
    tab["lc_from"] = np.asarray(labels, dtype=object)[tab["terrain_code"].to_numpy()]
    tab = tab.rename(columns={"lc_code": "lc_to"})[["region_code", "lc_from", "lc_to", "area_cm2"]]
    return tab.sort_values(["region_code", "lc_from", "lc_to"], kind="stable").reset_index(drop=True)


def extent_account(transitions: pd.DataFrame, regions: pd.DataFrame, year_from: int, year_to: int) -> pd.DataFrame:
    """SEEA ecosystem extent account (docs/methods.md §6) per region × class from a transition table (km²).

    opening = Σ_to T[c, to]; closing = Σ_from T[from, c]; additions = Σ_{from≠c} T[from, c];
    reductions = Σ_{to≠c} T[c, to]; net = additions − reductions = closing − opening.
    """
    t = transitions
    changed = t[t["lc_from"] != t["lc_to"]]
    opening = t.groupby(["region_code", "lc_from"])["area_cm2"].sum().rename_axis(["region_code", "lc_code"])
    closing = t.groupby(["region_code", "lc_to"])["area_cm2"].sum().rename_axis(["region_code", "lc_code"])
    add = changed.groupby(["region_code", "lc_to"])["area_cm2"].sum().rename_axis(["region_code", "lc_code"])
    red = changed.groupby(["region_code", "lc_from"])["area_cm2"].sum().rename_axis(["region_code", "lc_code"])
    acc = pd.concat({"opening": opening, "additions": add, "reductions": red, "closing": closing}, axis=1)
    acc = acc.fillna(0).astype(np.int64).reset_index()
    for col in ("opening", "additions", "reductions", "closing"):
        acc[f"{col}_km2"] = acc.pop(col) / CM2_PER_KM2
    acc["net_change_km2"] = acc["additions_km2"] - acc["reductions_km2"]
    acc.insert(1, "year_from", year_from)
    acc.insert(2, "year_to", year_to)
    acc = acc.merge(regions, on="region_code", how="left")
    cols = ["region_code", "region_name", "year_from", "year_to", "lc_code", "opening_km2", "additions_km2",
            "reductions_km2", "net_change_km2", "closing_km2"]
    return acc[cols].sort_values(["region_code", "lc_code"], kind="stable").reset_index(drop=True)
