"""The region terrain type is decided on the DEM's own grid, not from terrain sampled once per land-cover cell
(docs/methods.md §2.3); borderline regions are flagged; the official table's source is carried to the tables.

The synthetic case: a 25 m DEM in UTM zone 50N, flat (relief 0 → 平原) except two strips of a 0/300 m
checkerboard whose relief (3 × 3-cell window) is 300 m → 小起伏山地. Each strip, widened by the window's half
cell on both sides, is exactly 200 m wide and holds the centre of a 1 km land-cover cell. Region A (3 × 3 km)
is therefore 400/3000 = 13.3 % mountain on the DEM grid (平原区) but 6 of its 9 land-cover cells sample
mountain (66.7 %: 山区). The expected areas are ground areas of the strips' rectangles computed independently
with pyproj.Geod on densified lon/lat outlines.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from helpers_raster import write_tif
from pyproj import Geod, Transformer

from gep.indicators.coverage.index import forest_grass_coverage, region_terrain_type, terrain_notes
from gep.indicators.coverage.terrain import TerrainConfig, relief_class_areas

CRS = "EPSG:32650"
X0, Y_TOP = 500_000.0, 3_003_000.0
RES = 25.0
DEM_WEST, DEM_NORTH, DEM_N = X0 - 600.0, Y_TOP + 600.0, 168  # 4.2 km square
STRIPS = [(X0 + 400.0, X0 + 600.0), (X0 + 1400.0, X0 + 1600.0)]  # mountain on the DEM grid (m)
BOX_A = (X0, Y_TOP - 3000.0, X0 + 3000.0, Y_TOP)
BOX_B = (X0 + 200.0, Y_TOP - 3500.0, X0 + 612.5, Y_TOP - 3050.0)  # 200 m of its 412.5 m width: 48.48 %
GEOD = Geod(ellps="WGS84")
TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


def _dem() -> np.ndarray:
    dem = np.zeros((DEM_N, DEM_N), dtype=np.float32)
    rr, cc = np.mgrid[0:DEM_N, 0:DEM_N]
    for x0, x1 in STRIPS:
        # checkerboard on the strip less one cell each side: the 3-cell window widens it back to [x0, x1)
        c0, c1 = round((x0 - DEM_WEST) / RES) + 1, round((x1 - DEM_WEST) / RES) - 1
        sel = (cc >= c0) & (cc < c1) & ((rr + cc) % 2 == 0)
        dem[sel] = 300.0
    return dem


def _geod_km2(box) -> float:
    """Ground area (km²) of a UTM rectangle: its outline densified every metre, taken to lon/lat, geodesic area."""
    ring = shapely.segmentize(shapely.box(*box), 1.0).exterior
    lon, lat = TO_LONLAT.transform(*np.asarray(ring.coords).T)
    return abs(GEOD.polygon_area_perimeter(lon, lat)[0]) / 1e6


def _mountain_km2(box) -> float:
    x0, y0, x1, y1 = box
    return sum(_geod_km2((max(a, x0), y0, min(b, x1), y1)) for a, b in STRIPS if min(b, x1) > max(a, x0))


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    d = tmp_path_factory.mktemp("dem_grid")
    dem = write_tif(d / "dem.tif", _dem(), Affine(RES, 0, DEM_WEST, 0, -RES, DEM_NORTH), CRS, nodata=-9999.0)
    lc = write_tif(d / "lc.tif", np.full((4, 3), 2, dtype=np.uint8), Affine(1000.0, 0, X0, 0, -1000.0, Y_TOP), CRS,
                   nodata=0)
    regions = gpd.GeoDataFrame({"region_code": ["A", "B"], "region_name": ["甲县", "乙县"]},
                               geometry=[shapely.box(*BOX_A), shapely.box(*BOX_B)], crs=CRS)
    cfg = TerrainConfig(window_m=75.0)  # 3 × 3 cells
    return {"dem": dem, "lc": lc, "regions": regions, "cfg": cfg}


def _sampled_terrain_area(case) -> pd.DataFrame:
    """terrain_area as the land-cover route makes it: terrain sampled at each 1 km cell's centre (strata)."""
    from gep.accounting.landcover import LandcoverRaster, crosstab_table
    from gep.indicators.coverage.terrain import terrain_on_grid

    raster = LandcoverRaster.open(case["lc"])
    strata = terrain_on_grid(case["dem"], str(case["lc"]), case["cfg"]).data
    tab = crosstab_table(raster, case["regions"], [2], strata=strata, strata_codes=np.arange(7))
    tab = tab[tab["lc_code"] == "2"]
    return pd.DataFrame({"region_code": tab["region_code"], "region_name": tab["region_code"].map(
        {"A": "甲县", "B": "乙县"}), "year": 2020, "terrain_code": tab["terrain_code"], "lc_code": 2,
        "category": "forest", "area_km2": tab["area_cm2"] / 1e10})


def test_relief_areas_on_the_dem_grid_match_geodesic_areas(case):
    got = relief_class_areas(case["dem"], case["regions"], case["cfg"])
    assert set(got["terrain_code"]) == {1, 3}  # plain and 小起伏山地 only; the DEM covers both regions
    km2 = got.set_index(["region_code", "terrain_code"])["area_cm2"] / 1e10
    for code, box in (("A", BOX_A), ("B", BOX_B)):
        mountain = _mountain_km2(box)
        assert km2[(code, 3)] == pytest.approx(mountain, rel=1e-6)
        assert km2[(code, 1)] == pytest.approx(_geod_km2(box) - mountain, rel=1e-6)
    # planar check of the construction: 400 m of 3000 m, 200 m of 412.5 m
    assert 100 * km2[("A", 3)] / (km2[("A", 1)] + km2[("A", 3)]) == pytest.approx(100 * 400 / 3000, abs=1e-3)
    assert 100 * km2[("B", 3)] / (km2[("B", 1)] + km2[("B", 3)]) == pytest.approx(100 * 200 / 412.5, abs=1e-3)
    # the same integers for any chunking of the DEM
    other = relief_class_areas(case["dem"], case["regions"], TerrainConfig(window_m=75.0, chunk=16))
    pd.testing.assert_frame_equal(got, other)


def test_the_dem_grid_decides_the_type_where_land_cover_sampling_flips_it(case):
    ta = _sampled_terrain_area(case)
    sampled = region_terrain_type(ta).set_index("region_code")
    # sampling once per 1 km cell: 6 of A's 9 cells have their centre on a mountain strip
    assert sampled.loc["A", "mountain_pct"] == pytest.approx(100 * 6 / 9, abs=1e-3)
    assert sampled.loc["A", "terrain_type"] == "山区"
    assert sampled.loc["A", "share_grid"] == "land-cover grid"

    relief = relief_class_areas(case["dem"], case["regions"], case["cfg"])
    types = region_terrain_type(ta, relief_areas=relief).set_index("region_code")
    a = types.loc["A"]
    mountain, total = _mountain_km2(BOX_A), _geod_km2(BOX_A)
    assert a.mountain_km2 == pytest.approx(mountain, rel=1e-6)
    assert a.mountain_pct == pytest.approx(100 * mountain / total, rel=1e-6)  # 13.33 %
    assert (a.terrain_type, a.terrain_rule) == ("平原区", "mountain + hill share < 50%")
    assert a.terrain_source == "computed: relief shares on the DEM grid" and a.share_grid == "DEM grid"
    assert not a.terrain_borderline and a.terrain_note == ""
    # B: 48.48 % mountain, 1.52 pp under the 50 % thresholds: 平原区, flagged for a person to decide
    b = types.loc["B"]
    assert b.mountain_pct == pytest.approx(100 * _mountain_km2(BOX_B) / _geod_km2(BOX_B), rel=1e-6)
    assert b.terrain_type == "平原区" and b.terrain_borderline
    assert "mountain share 48.48% is 1.52 pp from 50%" in b.terrain_note
    assert "mountain + hill share 48.48% is 1.52 pp from 50%" in b.terrain_note
    # the coverage table carries the source and the flag
    fgc = forest_grass_coverage(ta, types.reset_index()).set_index("region_code")
    assert fgc.loc["A", "target_pct"] == 18.0 and fgc.loc["B", "terrain_borderline"]
    assert fgc.loc["A", "terrain_source"] == "computed: relief shares on the DEM grid"
    notes = terrain_notes(fgc.reset_index())
    assert len(notes) == 1 and "B 乙县" in notes[0] and "请人工确认" in notes[0]


def test_a_region_missing_from_the_dem_table_is_an_error(case):
    from gep.core.errors import InputError

    ta = _sampled_terrain_area(case)
    relief = relief_class_areas(case["dem"], case["regions"], case["cfg"])
    with pytest.raises(InputError, match="lack region\\(s\\) B; recompute them"):
        region_terrain_type(ta, relief_areas=relief[relief["region_code"] == "A"])


# ------------------------------------------------------------------ borderline flags, by hand-made shares


def _types(shares: dict, cfg: TerrainConfig | None = None, overrides=None) -> pd.DataFrame:
    """shares: region → (plain, hill, mountain) km² on the DEM grid; one land-cover row per region."""
    relief = pd.DataFrame([{"region_code": r, "terrain_code": k, "area_km2": a}
                           for r, s in shares.items() for k, a in zip((1, 2, 3), s)])
    ta = pd.DataFrame([{"region_code": r, "region_name": f"r{r}", "year": 2020, "terrain_code": 1, "lc_code": 2,
                        "category": "forest", "area_km2": 1.0} for r in shares])
    return region_terrain_type(ta, cfg, None, overrides, relief_areas=relief).set_index("region_code")


def test_borderline_flags_follow_the_thresholds_that_change_the_type():
    t = _types({"1": (41.5, 10.0, 48.5),   # 丘陵区; mountain 1.5 pp under 50 → could be 山区
                "2": (48.0, 40.0, 12.0),   # 丘陵区; mountain + hill 52 %, 2 pp over 50 → could be 平原区
                "3": (20.0, 29.0, 51.0),   # 山区; mountain 1 pp over 50
                "4": (10.0, 30.0, 60.0),   # 山区, clear
                "5": (53.0, 43.0, 4.0),    # 平原区; mountain + hill 47 %, exactly 3 pp: not within (< 3)
                "6": (60.0, 35.0, 5.0)})   # 平原区, clear
    assert t["computed_type"].to_dict() == {"1": "丘陵区", "2": "丘陵区", "3": "山区", "4": "山区", "5": "平原区",
                                            "6": "平原区"}
    assert t["terrain_borderline"].to_dict() == {"1": True, "2": True, "3": True, "4": False, "5": False,
                                                 "6": False}
    assert t.loc["1", "terrain_note"].startswith("丘陵区 by a narrow margin: mountain share 48.50% is 1.50 pp "
                                                 "from 50% (within 3 pp)")
    assert "mountain + hill share 52.00% is 2.00 pp from 50%" in t.loc["2", "terrain_note"]
    assert "mountain + hill" not in t.loc["3", "terrain_note"]  # a 山区 does not depend on it
    # the margin is a setting; 0 flags nothing
    wide = _types({"5": (53.0, 43.0, 4.0), "6": (60.0, 35.0, 5.0)}, TerrainConfig(borderline_margin_pp=5.5))
    assert wide["terrain_borderline"].to_dict() == {"5": True, "6": False}  # 6: m + h 40 %, 10 pp
    assert not _types({"1": (41.5, 10.0, 48.5)}, TerrainConfig(borderline_margin_pp=0))["terrain_borderline"].any()


def test_the_official_table_wins_its_source_is_shown_and_it_is_never_borderline(tmp_path):
    path = tmp_path / "types.csv"
    path.write_text("region_code,terrain_type,source\n1,山区,省林业局名单 2023\n", encoding="utf-8")
    t = _types({"1": (41.5, 10.0, 48.5), "2": (48.0, 40.0, 12.0)}, TerrainConfig(overrides_path=path))
    assert (t.loc["1", "terrain_type"], t.loc["1", "computed_type"]) == ("山区", "丘陵区")
    assert (t.loc["1", "terrain_rule"], t.loc["1", "terrain_source"]) == ("override: 省林业局名单 2023",
                                                                         "省林业局名单 2023")
    assert not t.loc["1", "terrain_borderline"] and t.loc["1", "terrain_note"] == ""
    assert t.loc["2", "terrain_borderline"]
    notes = terrain_notes(t.reset_index())
    assert notes[0].startswith("地形类型采用官方名单：省林业局名单 2023（1 个区域）；其余 1 个区域")
    assert len(notes) == 2 and "2 r2" in notes[1]
