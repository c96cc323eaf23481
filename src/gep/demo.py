"""Embedded demo data: a small synthetic county in Hunan, generated from a fixed seed, no external data.

``generate(outdir)`` writes a county of about 600 km² around 112.0–112.36°E, 28.0–28.3°N in CGCS2000
(EPSG:4490): mountains in the west (up to ~1,500 m), hills in the middle, plains along a river in the east,
with a reservoir at the mountain front. Files (see ``paths``):

- ``dem.tif``                 elevation (m), float32, 0.0009° grid reaching ~2 km beyond the land cover
- ``landcover_{year}.tif``    CLCD codes 1–9 (uint8, nodata 0), 0.0003° grid, 1,200 × 1,000 cells;
                              2020 has a cloud-gap patch of nodata inside the county
- ``county.gpkg``             layer ``county``: one polygon, ``code`` (12 digits), ``name``
- ``townships.gpkg``          layer ``townships``: 14 townships partitioning the county exactly, ``code``,
                              ``name``, ``county_code``; one has a hole (an enclosed town), one is a
                              MultiPolygon (an exclave, 飞地)
- ``redline_{year}.gpkg``     layer ``redline``: ecological red-line polygons, ``id``, ``function``
- ``protected_{year}.gpkg``   layer ``protected``: protected areas, ``id``, ``name``, ``type``
- ``precip_{year}.tif``       annual precipitation (mm), float32, 0.0018° grid not aligned with the others
- ``et_{year}.tif``           actual evapotranspiration (mm), same grid
- ``npp_{year}.tif``          net primary production (g C m⁻² a⁻¹), same grid
- ``water_bodies.csv``        GEP water-body table (the reservoir and a small lake; DEMO values)
- ``emissions.csv``           GEP emissions per township and year, t (SO₂, NOₓ, dust; DEMO values)
- ``discharges.csv``          GEP discharges per township and year, t (COD, NH₃-N; DEMO values)
- ``statistics.csv``          GEP statistics: material output values and tourism per region and year, 万元 (DEMO)
- ``demo_manifest.json``      the list of files, their roles, years and units

Everything is a deterministic function of ``seed``: the raster arrays are identical run to run (GeoPackages
differ only in their timestamps). Changes between years are built in so that every indicator has something
to find: towns grow, hills are afforested, two forest patches are cleared, and the red line gains one
polygon, loses one and has one enlarged between consecutive years (net area rises, except in exactly one
township per step where it drops).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
import shapely.affinity
from affine import Affine
from rasterio.features import shapes as raster_shapes
from scipy import ndimage

from gep import __version__
from gep.core.atomic import atomic_path, write_text
from gep.io.qgis_styles import outline_style, write_layer_styles

YEARS = (2019, 2020, 2021)
COUNTY_CODE = "430124000000"
COUNTY_NAME = "示范县"
DEFAULT_SEED = 20240601  # the same as config/config.yaml (demo.seed), so tests check the data the demo run uses
CRS_EPSG = 4490
CRS = f"EPSG:{CRS_EPSG}"
#: Year whose land cover has the cloud-gap patch of nodata inside the county.
GAP_YEAR = 2020
LANDCOVER_NODATA = 0
FLOAT_NODATA = -9999.0

# km per degree near 28.15°N (only used to shape things; areas are never computed from these)
_KX = 98.2
_KY = 110.9


@dataclass(frozen=True)
class Grid:
    """A north-up grid: upper-left corner (degrees), cell size (degrees) and shape (cells)."""

    left: float
    top: float
    res: float
    width: int
    height: int

    @property
    def transform(self) -> Affine:
        return Affine(self.res, 0.0, self.left, 0.0, -self.res, self.top)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        return (self.left, self.top - self.height * self.res, self.left + self.width * self.res, self.top)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Longitudes of column centres and latitudes of row centres (degrees)."""
        lon = self.left + (np.arange(self.width) + 0.5) * self.res
        lat = self.top - (np.arange(self.height) + 0.5) * self.res
        return lon, lat

    def pixel(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (column, row) index of points, in the convention of ``ndimage.map_coordinates``."""
        col = (np.asarray(lon) - self.left) / self.res - 0.5
        row = (self.top - np.asarray(lat)) / self.res - 0.5
        return col, row


#: Land cover: 0.0003° (≈ 30 m) cells, 1,200 × 1,000, covering 112.0–112.36°E, 28.0–28.3°N.
LC_GRID = Grid(112.0, 28.3, 0.0003, 1200, 1000)
#: DEM: 0.0009° (≈ 90 m), reaching 0.018° (≈ 2 km) beyond the land cover on every side.
DEM_GRID = Grid(111.982, 28.318, 0.0009, 440, 374)
#: Climate and NPP: 0.0018° (≈ 180 m), origin deliberately off the land-cover lattice (tests resampling).
CLIMATE_GRID = Grid(111.9805, 28.3195, 0.0018, 222, 189)

#: Land-cover codes (CLCD).
CROP, FOREST, SHRUB, GRASS, WATER, SNOW, BARREN, BUILT, WETLAND = range(1, 10)

_CLCD_COLORS = {
    0: (0, 0, 0, 0),
    CROP: (250, 227, 156, 255),
    FOREST: (68, 111, 51, 255),
    SHRUB: (51, 160, 44, 255),
    GRASS: (171, 211, 123, 255),
    WATER: (30, 105, 180, 255),
    SNOW: (166, 206, 227, 255),
    BARREN: (207, 189, 163, 255),
    BUILT: (226, 66, 144, 255),
    WETLAND: (40, 155, 209, 255),
}

# Town centres (lon, lat, radius km in 2019): the county seat on the eastern plain, two market towns.
_TOWNS = ((112.270, 28.130, 1.6), (112.215, 28.205, 0.8), (112.315, 28.235, 0.7), (112.195, 28.095, 0.5))
# Cloud-gap centre (lon, lat) and radius (km), inside the county in the hills.
_GAP = (112.205, 28.175, 1.1)
# Forest clearings: (lon, lat, radius km, first year, new class).
_CLEARINGS = ((112.085, 28.215, 0.9, 2020, CROP), (112.225, 28.160, 0.6, 2021, BUILT))

_TOWNSHIP_TOWNS = ["花桥镇", "石门镇", "龙田镇", "双江镇", "白沙镇", "金坪镇", "清水镇"]
_TOWNSHIP_XIANG = ["青山乡", "云峰乡", "枫林乡", "高岭乡", "黄泥乡", "杉木乡"]

_RL_FUNCTIONS = ("水源涵养", "生物多样性维护", "水土保持")


def paths(outdir: str | Path) -> dict:
    """Paths of every file ``generate`` writes in ``outdir``.

    Keys ``dem``, ``county``, ``townships``, ``manifest`` map to one path; ``landcover``, ``redline``,
    ``protected``, ``precip``, ``et``, ``npp`` map to ``{year: path}`` for each year of ``YEARS``.
    """
    out = Path(outdir)
    per_year = {
        "landcover": "landcover_{}.tif",
        "redline": "redline_{}.gpkg",
        "protected": "protected_{}.gpkg",
        "precip": "precip_{}.tif",
        "et": "et_{}.tif",
        "npp": "npp_{}.tif",
    }
    result: dict = {
        "dem": out / "dem.tif",
        "county": out / "county.gpkg",
        "townships": out / "townships.gpkg",
        "manifest": out / "demo_manifest.json",
        # GEP region tables (DEMO values): gep.tables of the demo config
        "water_bodies": out / "water_bodies.csv",
        "emissions": out / "emissions.csv",
        "discharges": out / "discharges.csv",
        "statistics": out / "statistics.csv",
    }
    for key, pattern in per_year.items():
        result[key] = {y: out / pattern.format(y) for y in YEARS}
    return result


#: GeoPackage layer names, by ``paths`` key.
LAYERS = {"county": "county", "townships": "townships", "redline": "redline", "protected": "protected"}


# ----------------------------------------------------------------------------------------------------------
# random fields


def _noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-smoothed white noise with zero mean and unit standard deviation (sigma in cells)."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    field -= field.mean()
    field /= field.std()
    return field


def _unit(a: np.ndarray) -> np.ndarray:
    """Rescale to [0, 1]."""
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo)


def _smoothstep(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 at ``lo``, 1 at ``hi`` (either order), smooth in between."""
    t = np.clip((a - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _resample(field: np.ndarray, src: Grid, dst: Grid, order: int = 1) -> np.ndarray:
    """Sample a ``src``-grid field at the cell centres of ``dst`` (bilinear by default)."""
    lon, lat = dst.centres()
    col, row = src.pixel(lon, lat)
    # separable: interpolate along rows then columns (the grids are axis-aligned), far cheaper than 2-D
    if order == 1:
        tmp = np.empty((src.height, dst.width))
        cols = np.arange(src.width)
        for i in range(src.height):
            tmp[i] = np.interp(col, cols, field[i])
        out = np.empty((dst.height, dst.width))
        rows = np.arange(src.height)
        for j in range(dst.width):
            out[:, j] = np.interp(row, rows, tmp[:, j])
        return out
    rr, cc = np.meshgrid(row, col, indexing="ij")
    return ndimage.map_coordinates(field, [rr, cc], order=order, mode="nearest")


def _river_lat(lon: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Latitude of the river's centre line at ``lon`` (degrees): a meander across the county, W → E."""
    x = lon - 112.0
    return (
        28.165
        - 0.06 * x
        + 0.028 * np.sin(2 * np.pi * x / 0.26 + phase[0])
        + 0.010 * np.sin(2 * np.pi * x / 0.075 + phase[1])
        + 0.003 * np.sin(2 * np.pi * x / 0.031 + phase[2])
    )


def _river_distance_km(lon: np.ndarray, lat: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Distance (km) from points (2-D arrays) to the river's centre line, perpendicular approximation."""
    lon1 = lon[0] if lon.ndim == 2 else lon
    r = _river_lat(lon1, phase)
    slope = np.gradient(r, lon1) * _KY / _KX  # km north per km east
    cos = 1.0 / np.sqrt(1.0 + slope**2)
    return np.abs(lat - r) * _KY * cos


def _blob(rng: np.random.Generator, lon: float, lat: float, radius_km: float, n: int = 96,
          roughness: float = 0.25) -> shapely.Polygon:
    """An irregular star-shaped polygon around (lon, lat) with mean radius ``radius_km``."""
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 12):
        r += roughness * rng.standard_normal() / k * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r = np.clip(r, 0.45, None) * radius_km
    xs = lon + r * np.cos(theta) / _KX
    ys = lat + r * np.sin(theta) / _KY
    return shapely.Polygon(np.column_stack([xs, ys]))


# ----------------------------------------------------------------------------------------------------------
# terrain and land cover


@dataclass
class _Terrain:
    dem: np.ndarray  # DEM grid, m
    mountain: np.ndarray  # DEM grid, 0..1 weight of the mountain zone
    hill: np.ndarray  # DEM grid, 0..1 weight of the hill zone (1 in mountains too)
    plain_level: np.ndarray  # DEM grid, m: the plain's surface under hills and mountains
    river_phase: np.ndarray
    dam_lon: float  # the reservoir's dam, where the river leaves the mountains


def _terrain(rng: np.random.Generator) -> _Terrain:
    """Elevation (m) on the DEM grid: plains east, hills middle, mountains west, a river valley W → E."""
    g = DEM_GRID
    shape = (g.height, g.width)
    lon1, lat1 = g.centres()
    lon, lat = np.meshgrid(lon1, lat1)
    # cell ≈ 88 m E-W, 100 m N-S; sigmas in cells
    warp = np.clip(_noise(rng, shape, 45), -2, 2) + 0.35 * _noise(rng, shape, 10)
    lon_w = lon + 0.018 * warp  # a wavy mountain front, not a straight line
    mountain = _smoothstep(lon_w, 112.15, 112.105)
    hill = _smoothstep(lon_w, 112.25, 112.2)

    plain = 42 + 8 * _noise(rng, shape, 60) + 18 * hill

    # |noise| has sharp minima along its zero lines: a branching network of narrow valleys between
    # rounded hills, as in the red-soil hills of Hunan
    hills = _unit(0.5 * np.abs(_noise(rng, shape, 7)) + 0.35 * np.abs(_noise(rng, shape, 3.5))
                  + 0.15 * _noise(rng, shape, 1.5))
    ridged = 1 - np.abs(_noise(rng, shape, 22))
    ridged2 = 1 - np.abs(_noise(rng, shape, 8))
    massif = _noise(rng, shape, 30)
    mount = 0.45 * massif + 0.4 * ridged**2 + 0.25 * ridged * ridged2 + 0.05 * _noise(rng, shape, 2)
    # scale so that the highest peaks of the mountain zone reach ~1,500 m whatever the seed
    lo, hi = np.percentile(mount[mountain > 0.5], [1, 99.8])
    mount = np.clip((mount - lo) / (hi - lo), 0, 1.02)
    raw = plain + hill * 160 * hills + mountain * (150 + 1180 * mount)

    # river valley: blend towards a floor that rises gently upstream (nearly flat behind the dam so the
    # reservoir is a lake of a few km², steeper in the upper mountains)
    phase = rng.uniform(0, 2 * np.pi, 3)
    d = _river_distance_km(lon, lat, phase)
    # the dam closes the valley where the river, followed upstream, is first well inside the mountains
    rlat = _river_lat(lon1, phase)
    m_on_river = ndimage.map_coordinates(mountain, [g.pixel(lon1, rlat)[1], np.arange(g.width)], order=1)
    dam_lon = float(lon1[np.flatnonzero(m_on_river > 0.9).max()]) - 0.006
    up = np.clip((dam_lon - lon) / 0.05, 0, None)
    floor = plain + 12 * hill + 18 * np.minimum(up, 1) + 160 * np.clip(up - 1, 0, None) ** 1.5
    # a basin a few km behind the dam (where the reservoir will lie), a narrow gorge elsewhere in the mountains
    basin = np.exp(-(((lon - (dam_lon - 0.03)) / 0.03) ** 2))
    width = 0.5 + 0.9 * (1 - mountain) + 0.4 * hill + 1.1 * basin * mountain
    blend = np.exp(-((d / width) ** 2))
    dem = raw * (1 - blend) + np.minimum(raw, floor) * blend
    return _Terrain(dem.astype(np.float64), mountain, hill, plain, phase, dam_lon)


def _disk_mask(grid: Grid, x: float, y: float, radius_km: float, wobble: np.ndarray) -> np.ndarray:
    """Cells of ``grid`` within ``radius_km`` of (x, y), the edge made ragged by ``wobble`` (|wobble| < 1)."""
    lon1, lat1 = grid.centres()
    mask = np.zeros((grid.height, grid.width), bool)
    # only the window that can be reached (the whole-grid computation is needlessly slow)
    reach = 2.5 * radius_km
    cols = np.flatnonzero(np.abs(lon1 - x) * _KX < reach)
    rows = np.flatnonzero(np.abs(lat1 - y) * _KY < reach)
    if len(cols) == 0 or len(rows) == 0:
        return mask
    win = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    d = np.hypot((lon1[win[1]][None, :] - x) * _KX, (lat1[win[0]][:, None] - y) * _KY) / radius_km
    mask[win] = d + wobble[win] < 1.0
    return mask


@dataclass
class _LandCover:
    years: dict[int, np.ndarray]  # year -> uint8 array on LC grid
    reservoir: np.ndarray  # bool mask on LC grid


def _landcover(rng: np.random.Generator, terr: _Terrain) -> tuple[_LandCover, np.ndarray]:
    """CLCD land cover for every year on the LC grid; also returns the DEM with the reservoir filled flat."""
    g = LC_GRID
    shape = (g.height, g.width)
    lon1, lat1 = g.centres()
    lon, lat = np.meshgrid(lon1, lat1)
    elev = _resample(terr.dem, DEM_GRID, g)
    mountain = _resample(terr.mountain, DEM_GRID, g)
    hill = _resample(terr.hill, DEM_GRID, g)
    # slope (degrees) and relative position in the landscape (valley bottoms < 0 < ridges), from the DEM
    gy, gx = np.gradient(terr.dem, 100.0, 88.0)
    slope = _resample(np.degrees(np.arctan(np.hypot(gx, gy))), DEM_GRID, g)
    rel = _resample(terr.dem - ndimage.gaussian_filter(terr.dem, 8, mode="nearest"), DEM_GRID, g)

    # fields on the 30 m grid: patch textures at ~100 m to ~1 km
    coarse = _resample(_noise(rng, (DEM_GRID.height, DEM_GRID.width), 4), DEM_GRID, g)
    fine = _noise(rng, shape, 2.0)
    speck = _noise(rng, shape, 1.0)
    afforest = _resample(_noise(rng, (DEM_GRID.height, DEM_GRID.width), 3), DEM_GRID, g)
    tex = 0.7 * coarse + 0.3 * fine

    lc = np.full(shape, CROP, dtype=np.uint8)
    # hills: forest on slopes and ridges, shrub and grass on thinner soils, cropland in valley bottoms
    hills = hill > 0.5
    lc[hills & (tex > -0.35)] = FOREST
    lc[hills & (tex <= -0.35) & (tex > -0.9)] = SHRUB
    lc[hills & (tex <= -0.9)] = GRASS
    above = elev - _resample(terr.plain_level, DEM_GRID, g)
    lc[hills & (((slope < 10) & (rel < -6)) | (above < 25 + 12 * tex))] = CROP
    # mountains: forest, with grass on the high tops, shrub patches, bare rock on the steepest slopes
    mount = mountain > 0.5
    lc[mount] = FOREST
    lc[mount & (tex < -1.2)] = SHRUB
    lc[mount & (elev > 1150) & (tex + 0.004 * (elev - 1150) > 0.6)] = GRASS
    lc[mount & (slope > 24) & (speck > 1.9)] = BARREN
    lc[mount & (slope < 3) & (elev < 300)] = CROP
    # plains: paddy fields with woodlots and the odd grass patch, small ponds (山塘) scattered about
    plains = ~hills & ~mount
    lc[plains & (tex > 1.45)] = FOREST
    lc[plains & (tex < -1.9)] = GRASS
    lc[(lc == CROP) & (speck > 2.9)] = WATER

    # river channel, wider downstream
    phase = terr.river_phase
    d = _river_distance_km(lon, lat, phase)
    half_width = 0.03 + 0.05 * np.clip((lon - 112.0) / 0.36, 0, 1)
    river = d < half_width
    # reservoir: the part of the valley behind the dam that lies below the spillway level
    dam_lon = terr.dam_lon
    dam_lat = float(_river_lat(np.array([dam_lon]), phase)[0])
    dcol, drow = g.pixel(dam_lon, dam_lat)
    dam_elev = float(elev[int(drow), int(dcol)])
    level = dam_elev + 30.0
    near = (np.hypot((lon - dam_lon) * _KX, (lat - dam_lat) * _KY) < 5.0) & (lon < dam_lon)
    below = near & (elev < level)
    labels, _ = ndimage.label(below)
    seed_col, seed_row = g.pixel(dam_lon - 0.004, float(_river_lat(np.array([dam_lon - 0.004]), phase)[0]))
    lab = labels[int(seed_row), int(seed_col)]
    reservoir = labels == lab if lab > 0 else np.zeros(shape, bool)
    reservoir = ndimage.binary_opening(reservoir, iterations=2)
    lc[river | reservoir] = WATER
    # wetland on the flat banks of the lower river and at the shallow inlet of the reservoir
    water = lc == WATER
    bank = ndimage.binary_dilation(river | reservoir, iterations=4) & ~water
    lc[bank & ~mount & (slope < 3) & (fine > -0.2)] = WETLAND
    inlet = ndimage.binary_dilation(reservoir, iterations=3) & ~water & (elev < level + 4)
    lc[inlet & (fine > -0.5)] = WETLAND
    lc[bank & (speck > 2.3)] = BARREN  # sand bars

    # roads from the county seat to the other towns (1 cell of impervious surface), with a few bends
    road = np.zeros(shape, bool)
    px, py = lon * _KX, lat * _KY
    sx, sy, _ = _TOWNS[0]
    for tx, ty, _ in _TOWNS[1:]:
        t = np.linspace(0, 1, 6)
        bend = rng.normal(0, 0.006, (2, 6)) * np.sin(np.pi * t)
        xs, ys = sx + t * (tx - sx) + bend[0], sy + t * (ty - sy) + bend[1]
        for ax, ay, bx, by in zip(xs[:-1] * _KX, ys[:-1] * _KY, xs[1:] * _KX, ys[1:] * _KY):
            u = np.clip(((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2), 0, 1)
            road |= np.hypot(px - (ax + u * (bx - ax)), py - (ay + u * (by - ay))) < 0.018
    lc[road & (lc != WATER)] = BUILT
    # villages: small clusters of houses among the fields
    lc[(lc == CROP) & (fine > 2.0) & (speck > 0.8)] = BUILT

    base = lc.copy()
    years: dict[int, np.ndarray] = {}
    edge = 0.35 * _noise(rng, shape, 4)
    for k, year in enumerate(YEARS):
        cur = base.copy()
        # towns grow outwards, most around the county seat; the ragged edge is the same every year, so
        # built-up land never shrinks
        for i, (x, y, r) in enumerate(_TOWNS):
            grow = 1 + (0.07 if i == 0 else 0.04) * k
            town = _disk_mask(g, x, y, r * grow, np.clip(edge, -0.6, 0.6))
            cur[town & (cur != WATER)] = BUILT
        # afforestation in the hills: patches appear in the second year and grow in the third
        if k > 0:
            planted = hills & (afforest > (1.9 - 0.45 * (k - 1))) & np.isin(cur, (CROP, SHRUB, GRASS))
            cur[planted] = FOREST
        # forest clearings (one to cropland, one to a development zone) and scattered loss to fields
        for x, y, r, first, new in _CLEARINGS:
            if year >= first:
                cur[_disk_mask(g, x, y, r, np.clip(0.3 * fine, -0.6, 0.6)) & (cur == FOREST)] = new
        if k > 0:
            cur[(cur == FOREST) & (slope < 8) & (speck > 3.2 - 0.15 * k) & (hill > 0.5)] = CROP
        if year == GAP_YEAR:
            gx0, gy0, gr = _GAP
            cur[_disk_mask(g, gx0, gy0, gr, np.clip(0.4 * coarse, -0.6, 0.6))] = LANDCOVER_NODATA
        years[year] = cur

    # the DEM shows the lake surface, flat, as SRTM-like products do
    dem = terr.dem.copy()
    res_on_dem = _resample(reservoir.astype(np.float64), g, DEM_GRID, order=0) > 0.5
    inside = _lc_footprint(DEM_GRID)
    dem[res_on_dem & inside] = level
    return _LandCover(years, reservoir), dem


def _lc_footprint(grid: Grid) -> np.ndarray:
    """Cells of ``grid`` whose centre lies inside the land-cover extent."""
    lon, lat = grid.centres()
    w, s, e, n = LC_GRID.bounds
    return ((lat > s) & (lat < n))[:, None] & ((lon > w) & (lon < e))[None, :]


# ----------------------------------------------------------------------------------------------------------
# boundaries


def _county_polygon(rng: np.random.Generator) -> shapely.Polygon:
    """An irregular county outline (720 vertices) inside the land-cover extent with ≥ 0.01° margin."""
    n = 720
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    g = np.zeros(n)
    for k in range(2, 60):
        g += rng.standard_normal() * k**-1.3 * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    g -= g.mean()
    # scale the wiggle so that the radius factor stays within [0.74, 1.06] of the ellipse
    s = min(0.06 / g.max(), 0.26 / -g.min())
    f = 1 + s * g
    cx, cy, rx, ry = 112.18, 28.15, 0.150, 0.122
    poly = shapely.Polygon(np.column_stack([cx + rx * f * np.cos(theta), cy + ry * f * np.sin(theta)]))
    w, s_, e, n_ = LC_GRID.bounds
    if not (poly.is_valid and shapely.box(w + 0.01, s_ + 0.01, e - 0.01, n_ - 0.01).contains(poly)):
        raise RuntimeError("demo: county outline left the land-cover extent")  # a bug, not bad input
    return poly


def _wiggle_line(line: shapely.LineString, amp: float) -> shapely.LineString:
    """Make a straight border look drawn along terrain: perpendicular offsets, zero at both ends.

    The offset is a function of position only, so the result does not depend on the order edges come in.
    """
    dense = shapely.segmentize(line, 0.0012)
    xy = shapely.get_coordinates(dense)
    if len(xy) < 3:
        return line
    seg = np.diff(xy, axis=0)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))])
    t = cum / cum[-1]
    tangent = np.gradient(xy, axis=0)
    tangent /= np.hypot(tangent[:, 0], tangent[:, 1])[:, None]
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    x, y = xy[:, 0] * 100, xy[:, 1] * 100  # position in units of 0.01°
    wave = (np.sin(1.7 * x + 2.3 * y) + 0.6 * np.sin(4.1 * x - 3.3 * y + 1.0) + 0.35 * np.sin(9.7 * x + 8.9 * y + 2.0)
            + 0.2 * np.sin(23.0 * x - 19.0 * y + 0.5))
    env = np.sin(np.pi * t) ** 2
    a = min(amp, 0.08 * cum[-1])
    xy = xy + normal * (a * env * wave / 2.15)[:, None]
    xy[0], xy[-1] = shapely.get_coordinates(line)[[0, -1]]
    return shapely.LineString(xy)


@dataclass
class _Townships:
    codes: list[str]
    names: list[str]
    geoms: list
    seeds: np.ndarray  # (n, 2) lon/lat of each Voronoi seed (NaN for the enclosed town)


def _townships(rng: np.random.Generator, county: shapely.Polygon) -> _Townships:
    """Townships that partition ``county`` exactly: wiggly Voronoi cells, one enclosed town, one exclave.

    The borders are built once as a noded line network and polygonised, so neighbours share identical
    vertices: no gaps, no overlaps.
    """
    seat_x, seat_y, _ = _TOWNS[0]
    inner = county.buffer(-0.012)
    cand = np.column_stack([rng.uniform(112.02, 112.34, 3000), rng.uniform(28.02, 28.28, 3000)])
    cand = cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])]
    # greedy dart throwing: keep a candidate if it is far enough from all kept ones; relax the spacing
    # rather than fail on an unlucky seed
    min_km = 6.2
    while True:
        seeds = [(seat_x, seat_y)]
        for x, y in cand:
            if all(math.hypot((x - a) * _KX, (y - b) * _KY) >= min_km for a, b in seeds):
                seeds.append((x, y))
                if len(seeds) == 13:
                    break
        if len(seeds) == 13:
            break
        min_km *= 0.95
    seeds_arr = np.array(seeds)
    box = shapely.box(111.9, 27.9, 112.5, 28.4)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seeds_arr), extend_to=box))
    cells = [shapely.intersection(c, box) for c in cells]
    # match cells to seeds (GEOS does not keep the input order)
    order = [int(np.flatnonzero([c.contains(shapely.Point(p)) for c in cells])[0]) for p in seeds_arr]
    cells = [cells[i] for i in order]

    edges = shapely.line_merge(shapely.union_all([c.exterior for c in cells]))
    edge_list = [_wiggle_line(e, 0.006) for e in shapely.get_parts(edges)]
    # the county seat is its own enclosed town (城关镇) in the middle of the first cell; a small exclave
    # (飞地) of one township sits inside its neighbour
    seat = _blob(rng, seat_x, seat_y, 1.7, n=128, roughness=0.15)
    while not inner.contains(seat):  # only on an unlucky county outline
        seat = shapely.affinity.scale(seat, 0.9, 0.9, origin=(seat_x, seat_y))
    ex_host = 1 + int(np.argmax(seeds_arr[1:, 0]))  # the easternmost other seed hosts the exclave
    hx, hy = seeds_arr[ex_host]
    nb = [i for i in range(1, len(seeds)) if i != ex_host]
    ex_owner = nb[int(np.argmin([math.hypot((seeds_arr[i, 0] - hx) * _KX, (seeds_arr[i, 1] - hy) * _KY)
                                 for i in nb]))]
    exclave = _blob(rng, hx, hy, 0.6, n=64, roughness=0.15)
    lines = shapely.union_all(edge_list + [county.exterior, seat.exterior, exclave.exterior])
    faces = [f for f in shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
             if county.contains(f.representative_point())]
    # label regions: Voronoi cells less the special shapes, then the special shapes
    n_vor = len(seeds)
    labels = [(shapely.difference(c, shapely.union(seat, exclave)), i) for i, c in enumerate(cells)]
    labels += [(seat, n_vor), (exclave, ex_owner)]
    owner_faces: dict[int, list] = {}
    for f in faces:
        areas = [shapely.area(shapely.intersection(f, geom)) for geom, _ in labels]
        owner_faces.setdefault(labels[int(np.argmax(areas))][1], []).append(f)
    geoms = []
    for i in range(n_vor + 1):
        parts = owner_faces[i]
        geoms.append(shapely.union_all(parts) if len(parts) > 1 else parts[0])

    # names and codes: the enclosed town is 城关镇 (100), eastern townships are 镇 (101…), western 乡 (200…)
    others = sorted(range(n_vor), key=lambda i: -seeds_arr[i, 0])
    n_town = len(_TOWNSHIP_TOWNS)
    codes, names = [""] * (n_vor + 1), [""] * (n_vor + 1)
    codes[n_vor], names[n_vor] = COUNTY_CODE[:6] + "100000", "城关镇"
    for rank, i in enumerate(others):
        if rank < n_town:
            codes[i], names[i] = COUNTY_CODE[:6] + f"{101 + rank:03d}000", _TOWNSHIP_TOWNS[rank]
        else:
            codes[i], names[i] = COUNTY_CODE[:6] + f"{200 + rank - n_town:03d}000", _TOWNSHIP_XIANG[rank - n_town]
    seeds_out = np.vstack([seeds_arr, [[np.nan, np.nan]]])
    # list the townships by code, as a statistical table would
    idx = sorted(range(n_vor + 1), key=lambda i: codes[i])
    return _Townships([codes[i] for i in idx], [names[i] for i in idx], [geoms[i] for i in idx], seeds_out[idx])


# ----------------------------------------------------------------------------------------------------------
# red line and protected areas


def _polygonize_mask(mask: np.ndarray, grid: Grid) -> shapely.Geometry:
    geoms = [shapely.geometry.shape(geom) for geom, v in
             raster_shapes(mask.astype(np.uint8), mask=mask, transform=grid.transform) if v == 1]
    return shapely.union_all(geoms)


def _redlines(rng: np.random.Generator, terr: _Terrain, reservoir: shapely.Geometry,
              county: shapely.Polygon, town: _Townships) -> dict[int, list[tuple[str, str, shapely.Geometry]]]:
    """Red-line polygons (id, function, geometry) per year.

    Each step between years removes one polygon lying inside a single township (its area there drops),
    adds one and enlarges one elsewhere, so every other township's red-line area rises or stays.
    """
    extent = shapely.box(*LC_GRID.bounds)
    lon1, lat1 = DEM_GRID.centres()
    # the two townships whose red line will shrink (one per step): the two westernmost Voronoi townships;
    # each gets a small soil-conservation polygon around its seed (far from its borders) that will go
    seeds = town.seeds
    west = [int(i) for i in np.argsort(seeds[:, 0]) if np.isfinite(seeds[i, 0])][:2]
    special = []
    for i in west:
        radius = 0.6
        blob = _blob(rng, seeds[i, 0], seeds[i, 1], radius, n=64, roughness=0.2)
        while not town.geoms[i].contains(blob):
            radius *= 0.8
            blob = _blob(rng, seeds[i, 0], seeds[i, 1], radius, n=64, roughness=0.2)
        special.append(blob)
    keep_out = shapely.union_all([s.buffer(0.004) for s in special])
    polys: list[tuple[str, shapely.Geometry]] = [("水土保持", special[0]), ("水土保持", special[1])]
    # the reservoir and its shore: drinking-water protection
    polys.append(("水源涵养", shapely.simplify(reservoir.buffer(0.004), 0.0002)))
    # mountain blocks, centred in the county's mountains (the red line is drawn for the county; a few
    # blocks still reach over its border); kept apart, as overlaps are rare in real red-line data
    inside = shapely.contains_xy(county.buffer(-0.005), *np.meshgrid(lon1, lat1))
    cand = np.argwhere((terr.mountain > 0.6) & (terr.dem > 250) & inside)
    tries = 0
    while len(polys) < 30 and tries < 5000:
        tries += 1
        r, c = cand[rng.integers(len(cand))]
        poly = shapely.intersection(_blob(rng, lon1[c], lat1[r], rng.uniform(0.5, 1.6)), extent)
        if poly.geom_type != "Polygon" or poly.intersects(keep_out) or any(poly.intersects(p) for _, p in polys):
            continue
        polys.append((str(rng.choice(_RL_FUNCTIONS[:2])), poly))
    # a few soil-conservation blocks in the hills
    hills = np.argwhere((terr.hill > 0.8) & (terr.mountain < 0.2) & inside)
    added = 0
    while added < 4 and tries < 10000:
        tries += 1
        r, c = hills[rng.integers(len(hills))]
        poly = _blob(rng, lon1[c], lat1[r], rng.uniform(0.4, 0.9))
        if poly.intersects(keep_out) or any(poly.intersects(p) for _, p in polys):
            continue
        polys.append(("水土保持", poly))
        added += 1
    # one deliberate overlap: a biodiversity polygon drawn over part of a water-conservation block
    for _, base in polys[3:]:
        c = base.centroid
        extra = _blob(rng, c.x + 0.008, c.y + 0.004, 0.7)
        if not extra.intersects(keep_out):
            polys.append(("生物多样性维护", extra))
            break

    ids = [f"RL{i + 1:04d}" for i in range(len(polys))]
    current = {ids[i]: (f, g) for i, (f, g) in enumerate(polys)}
    out: dict[int, list] = {YEARS[0]: [(k, f, g) for k, (f, g) in current.items()]}
    next_id = len(polys) + 1
    for step, year in enumerate(YEARS[1:]):
        shrink_tw = town.geoms[west[step]]
        avoid = shapely.union(shrink_tw.buffer(0.005), keep_out)
        current = dict(current)
        del current[ids[step]]  # removed: the township around it loses red-line area
        # enlarged: a polygon far from the shrinking townships grows by a lobe on its edge
        choices = [k for k, (_, g) in current.items()
                   if k not in (ids[0], ids[1], ids[2]) and not g.buffer(0.02).intersects(avoid)]
        key = choices[step % len(choices)]
        fn, geom = current[key]
        edge_pt = shapely.get_coordinates(geom.exterior)[5]
        lobe = shapely.intersection(_blob(rng, edge_pt[0], edge_pt[1], 0.6), extent)
        current[key] = (fn, shapely.union(geom, lobe))
        # added: a new polygon in the mountains on land not yet in the red line
        taken = shapely.union_all([g for _, g in current.values()])
        pool = np.vstack([cand, hills])
        for _ in range(10000):
            r, c = pool[rng.integers(len(pool))]
            poly = shapely.intersection(_blob(rng, lon1[c], lat1[r], 0.9), extent)
            if poly.geom_type == "Polygon" and not poly.intersects(avoid) and not poly.intersects(taken):
                break
        else:  # pragma: no cover - the mountains are never that full
            raise RuntimeError("demo: no room for a new red-line polygon")
        current[f"RL{next_id:04d}"] = ("生物多样性维护", poly)
        next_id += 1
        out[year] = [(k, f, g) for k, (f, g) in current.items()]
    _check_redline_steps(out, town)
    return out


def _check_redline_steps(out: dict[int, list], town: _Townships) -> None:
    """Guard the designed change: per step, total red-line area rises and exactly one township's drops."""
    prev = None
    for year in YEARS:
        union = shapely.union_all([g for *_, g in out[year]])
        areas = np.array([shapely.area(shapely.intersection(union, t)) for t in town.geoms])
        areas = np.append(areas, areas.sum())
        if prev is not None:
            drops = np.flatnonzero(areas[:-1] < prev[:-1] - 1e-12)
            if len(drops) != 1 or not areas[-1] > prev[-1]:
                raise RuntimeError(f"demo: red-line change {year} is not as designed (drops in {drops})")
        prev = areas


def _protected(rng: np.random.Generator, reservoir: shapely.Geometry
               ) -> dict[int, list[tuple[str, str, str, shapely.Geometry]]]:
    """Protected areas (id, name, type, geometry) per year; a forest park is designated in the last year."""
    extent = shapely.box(*LC_GRID.bounds)
    base = [
        ("PA001", "示范山国家公园", "国家公园", _blob(rng, 112.030, 28.230, 3.2, n=160)),
        ("PA002", "云峰省级自然保护区", "自然保护区", _blob(rng, 112.060, 28.120, 2.6, n=160)),
        ("PA003", "青龙湖国家湿地公园", "自然公园", shapely.simplify(reservoir.buffer(0.008), 0.0003)),
    ]
    base = [(i, n, t, shapely.intersection(g, extent)) for i, n, t, g in base]
    new = ("PA004", "枫林县级森林公园", "自然公园", _blob(rng, 112.190, 28.235, 1.2, n=96))
    return {y: base + ([new] if y == YEARS[-1] else []) for y in YEARS}


# ----------------------------------------------------------------------------------------------------------
# climate and NPP


_NPP_BY_CLASS = np.array([600, 560, 850, 650, 480, 300, 300, 300, 300, 600], dtype=np.float64)  # index = code
_ET_BY_CLASS = np.array([0.5, 0.45, 0.9, 0.7, 0.5, 0.85, 0.2, 0.15, 0.1, 0.8], dtype=np.float64)


def _climate(rng: np.random.Generator, dem: np.ndarray, lc: dict[int, np.ndarray]) -> dict[str, dict[int, np.ndarray]]:
    """Precipitation (mm), actual ET (mm) and NPP (g C m⁻² a⁻¹) per year on the climate grid."""
    g = CLIMATE_GRID
    shape = (g.height, g.width)
    elev = _resample(dem, DEM_GRID, g)
    z = np.clip((elev - 40) / 1300, 0, 1)
    wet = {2019: 0.0, 2020: 55.0, 2021: -45.0}  # a wet and a dry year around an ordinary one
    base_p = 1330 + 230 * z**0.7 + 15 * _noise(rng, shape, 6)
    out: dict[str, dict[int, np.ndarray]] = {"precip": {}, "et": {}, "npp": {}}
    for year in YEARS:
        codes = lc[year]
        # class values averaged over ~6 × 6 land-cover cells, then sampled at the climate cell centres
        npp_lc = ndimage.uniform_filter(_NPP_BY_CLASS[codes], 6, mode="nearest")
        et_lc = ndimage.uniform_filter(_ET_BY_CLASS[codes], 6, mode="nearest")
        npp_c = _resample(npp_lc, LC_GRID, g)
        et_c = _resample(et_lc, LC_GRID, g)
        p = base_p + wet[year] + 8 * _noise(rng, shape, 3)
        et = 610 + 300 * et_c - 60 * z + 0.08 * wet[year] + 10 * _noise(rng, shape, 3)
        npp = npp_c * (1 + wet[year] / 2000) + 25 * _noise(rng, shape, 2)
        out["precip"][year] = np.clip(p, 1280, 1650)
        out["et"][year] = np.clip(et, 600, 900)
        out["npp"][year] = np.clip(npp, 300, 900)
    return out


# ----------------------------------------------------------------------------------------------------------
# writers


def _write_raster(path: Path, data: np.ndarray, grid: Grid, *, nodata, units: str, description: str,
                  colormap: dict | None = None, **tags) -> None:
    profile = dict(
        driver="GTiff", width=grid.width, height=grid.height, count=1, dtype=data.dtype.name,
        crs=rasterio.crs.CRS.from_epsg(CRS_EPSG), transform=grid.transform, nodata=nodata,
        tiled=True, blockxsize=256, blockysize=256, compress="deflate",
        predictor=2 if data.dtype.kind in "iu" else 3,
    )
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data, 1)
            dst.update_tags(units=units, **tags)
            dst.set_band_description(1, description)
            dst.update_tags(1, units=units)
            if colormap is not None:
                dst.write_colormap(1, colormap)


def _write_layer(path: Path, layer: str, records: list[dict], geoms: list) -> None:
    gdf = gpd.GeoDataFrame(records, geometry=list(geoms), crs=CRS)
    with atomic_path(path) as tmp:
        gdf.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
        write_layer_styles(tmp, [_LAYER_STYLES[layer](layer)])


#: default QGIS style of each demo layer (boundaries labelled by name, red line and protected areas filled)
_LAYER_STYLES = {
    "county": lambda n: outline_style(n, width=0.8, description="county boundary (gep demo)"),
    "townships": lambda n: outline_style(n, colour="255,255,255,0", description="townships (gep demo)"),
    "redline": lambda n: outline_style(n, label_field=None, colour="49,163,84,110", outline="0,104,55,255",
                                       description="ecological red line (gep demo)"),
    "protected": lambda n: outline_style(n, colour="35,139,69,255", outline="35,139,69,255", style="b_diagonal",
                                         description="protected areas (gep demo)"),
}


# ----------------------------------------------------------------------------------------------------------


def generate(outdir: str | Path, seed: int = DEFAULT_SEED) -> dict:
    """Write the demo county's files into ``outdir`` (created if missing); return ``paths(outdir)``.

    Deterministic: the same ``seed`` gives the same raster arrays and geometries on every run.
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    p = paths(out)
    # one independent stream per component, so changing one part does not reshuffle the others
    r_terr, r_lc, r_county, r_town, r_rl, r_pa, r_clim = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7))

    terr = _terrain(r_terr)
    lc, dem = _landcover(r_lc, terr)
    county = _county_polygon(r_county)
    town = _townships(r_town, county)
    reservoir = _polygonize_mask(lc.reservoir, LC_GRID)
    redline = _redlines(r_rl, terr, reservoir, county, town)
    protected = _protected(r_pa, reservoir)
    clim = _climate(r_clim, dem, lc.years)

    _write_raster(p["dem"], dem.astype(np.float32), DEM_GRID, nodata=FLOAT_NODATA, units="m",
                  description="elevation above sea level")
    for year in YEARS:
        _write_raster(p["landcover"][year], lc.years[year], LC_GRID, nodata=LANDCOVER_NODATA, units="class",
                      description=f"land cover {year} (CLCD codes)", colormap=_CLCD_COLORS, scheme="clcd",
                      year=str(year))
        _write_raster(p["precip"][year], clim["precip"][year].astype(np.float32), CLIMATE_GRID,
                      nodata=FLOAT_NODATA, units="mm", description=f"annual precipitation {year}", year=str(year))
        _write_raster(p["et"][year], clim["et"][year].astype(np.float32), CLIMATE_GRID, nodata=FLOAT_NODATA,
                      units="mm", description=f"annual actual evapotranspiration {year}", year=str(year))
        _write_raster(p["npp"][year], clim["npp"][year].astype(np.float32), CLIMATE_GRID, nodata=FLOAT_NODATA,
                      units="g C m-2 a-1", description=f"net primary production {year}", year=str(year))

    _write_layer(p["county"], "county", [{"code": COUNTY_CODE, "name": COUNTY_NAME}], [county])
    _write_layer(p["townships"], "townships",
                 [{"code": c, "name": n, "county_code": COUNTY_CODE} for c, n in zip(town.codes, town.names)],
                 town.geoms)
    for year in YEARS:
        rl = redline[year]
        _write_layer(p["redline"][year], "redline", [{"id": i, "function": f} for i, f, _ in rl],
                     [g for _, _, g in rl])
        pa = protected[year]
        _write_layer(p["protected"][year], "protected", [{"id": i, "name": n, "type": t} for i, n, t, _ in pa],
                     [g for *_, g in pa])

    _write_gep_tables(p, town, reservoir)
    _write_manifest(p, seed)
    return p


# ----------------------------------------------------------------------------------------------------------
# GEP region tables (docs/methods.md §4.2.7–§4.2.9): INVENTED values, marked DEMO in their source column

_DEMO_SOURCE = "DEMO: invented for the demo county (not real data)"


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    lines = [",".join(header)] + [",".join(str(v) for v in r) for r in rows]
    write_text(path, "\n".join(lines) + "\n")


def _write_gep_tables(p: dict, town: _Townships, reservoir: shapely.Geometry) -> None:
    """The water bodies (the reservoir and a small lake, listed under the township they lie in), and each
    township's emissions (SO₂, NOₓ, dust) and discharges (COD, NH₃-N) per year: flood regulation, air and
    water purification of the demo config read them. Township rows serve both levels (a county without rows
    of its own sums its townships')."""
    centre = reservoir.representative_point() if not reservoir.is_empty else town.geoms[0].representative_point()
    home = next((c for c, g in zip(town.codes, town.geoms) if g.contains(centre)), town.codes[0])
    _write_csv(p["water_bodies"], ["region_code", "name", "kind", "capacity_10k_m3", "area_km2", "renewals", "source"],
               [[home, "青龙湖水库", "reservoir", 1850, "", "", _DEMO_SOURCE],
                [home, "白沙塘", "lake", "", 0.12, 2, _DEMO_SOURCE]])
    emissions, discharges = [], []
    for i, code in enumerate(sorted(town.codes)):
        for k, year in enumerate(YEARS):
            f = 1.0 - 0.04 * k  # emissions fall a little each year
            emissions += [[code, year, "so2", round((40 + 60 * (i % 5)) * f, 1), _DEMO_SOURCE],
                          [code, year, "nox", round((20 + 15 * (i % 4)) * f, 1), _DEMO_SOURCE],
                          [code, year, "dust", round((30 + 25 * (i % 3)) * f, 1), _DEMO_SOURCE]]
            discharges += [[code, year, "cod", round((90 + 80 * (i % 4)) * f, 1), _DEMO_SOURCE],
                           [code, year, "nh3_n", round((9 + 8 * (i % 3)) * f, 1), _DEMO_SOURCE]]
    header = ["region_code", "year", "pollutant", "amount_t", "source"]
    _write_csv(p["emissions"], header, emissions)
    _write_csv(p["discharges"], header, discharges)
    _write_statistics(p["statistics"], sorted(town.codes))


#: county totals of the first demo year, 万元 (INVENTED, of the order of a hilly county of about 1,200 km² in
#: central China): 物质产品 from the yearbook's output values, and tourism (文化服务)
_DEMO_STATISTICS_WAN = {"agriculture": 180_000.0, "forestry": 20_000.0, "animal_husbandry": 90_000.0,
                        "fishery": 25_000.0, "water_supply": 8_000.0, "hydropower": 6_000.0, "tourism": 120_000.0}


def _write_statistics(path: Path, townships: list[str]) -> None:
    """The statistics table of the demo (docs/methods.md §4.4), DEMO values: every material item and tourism
    for each township and year (the county total shared by fixed weights, growing 3 % a year), and the county's
    row as the sum of its townships', so one table serves both region levels."""
    weights = [1.0 + 0.5 * (i % 3) for i in range(len(townships))]
    rows = []
    for k, year in enumerate(YEARS):
        for service, total in _DEMO_STATISTICS_WAN.items():
            shares = [round(total * 1.03 ** k * w / sum(weights), 1) for w in weights]
            rows += [[code, year, service, v, "万元", _DEMO_SOURCE] for code, v in zip(townships, shares)]
            rows.append([COUNTY_CODE, year, service, round(sum(shares), 1), "万元", _DEMO_SOURCE])
    _write_csv(path, ["region_code", "year", "service", "value", "value_unit", "source"], rows)


def _write_manifest(p: dict, seed: int) -> None:
    roles = {
        "dem": ("dem", "m"), "landcover": ("landcover", "class (CLCD)"), "county": ("county", None),
        "townships": ("townships", None), "redline": ("redline", None), "protected": ("protected", None),
        "precip": ("precipitation", "mm"), "et": ("evapotranspiration", "mm"), "npp": ("npp", "g C m-2 a-1"),
        "water_bodies": ("water_bodies", "DEMO table"), "emissions": ("emissions", "t (DEMO table)"),
        "discharges": ("discharges", "t (DEMO table)"), "statistics": ("statistics", "万元 (DEMO table)"),
    }
    files = []
    for key, (role, units) in roles.items():
        entries = p[key].items() if isinstance(p[key], dict) else [(None, p[key])]
        for year, path in entries:
            item = {"path": path.name, "role": role, "year": year}
            if units:
                item["units"] = units
            if key in LAYERS:
                item["layer"] = LAYERS[key]
            files.append(item)
    manifest = {
        "generator": "gep.demo", "gep_version": __version__, "seed": seed, "crs": CRS, "years": list(YEARS),
        "county_code": COUNTY_CODE,
        "county_name": COUNTY_NAME, "landcover_scheme": "clcd", "gap_year": GAP_YEAR, "files": files,
    }
    write_text(p["manifest"], json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
