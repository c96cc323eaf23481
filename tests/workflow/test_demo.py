"""The embedded demo data generator (gep.demo) and its command ``gep demo-data``."""

from __future__ import annotations

import json
import time
from itertools import combinations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from scipy import ndimage

from gep import demo
from gep.cli.main import main

TIF_KEYS = ("landcover", "precip", "et", "npp")
GPKG_KEYS = ("county", "townships", "redline", "protected")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    t0 = time.perf_counter()
    p = demo.generate(out)
    return {"paths": p, "seconds": time.perf_counter() - t0, "dir": out}


@pytest.fixture(scope="module")
def p(generated):
    return generated["paths"]


@pytest.fixture(scope="module")
def county(p):
    return gpd.read_file(p["county"], layer="county")


@pytest.fixture(scope="module")
def townships(p):
    return gpd.read_file(p["townships"], layer="townships")


@pytest.fixture(scope="module")
def landcover(p):
    out = {}
    for year, path in p["landcover"].items():
        with rasterio.open(path) as src:
            out[year] = src.read(1)
    return out


def _all_rasters(p):
    yield p["dem"]
    for key in TIF_KEYS:
        yield from p[key].values()


def _all_vectors(p):
    for key in GPKG_KEYS:
        yield from (p[key].values() if isinstance(p[key], dict) else [p[key]])


def _inside_mask(geom, grid: demo.Grid) -> np.ndarray:
    lon, lat = grid.centres()
    xx, yy = np.meshgrid(lon, lat)
    return shapely.contains_xy(geom, xx, yy)


def test_every_file_written_and_listed(p, generated):
    expected = {path.name for path in list(_all_rasters(p)) + list(_all_vectors(p))}
    assert len(expected) == 1 + 4 * 3 + 2 + 2 * 3
    expected |= {p[k].name for k in GEP_TABLES + ("statistics",)}
    present = {f.name for f in generated["dir"].iterdir() if not f.name.startswith(".")}
    assert expected | {"demo_manifest.json"} == present  # no temporary files left behind
    manifest = json.loads(p["manifest"].read_text(encoding="utf-8"))
    assert {f["path"] for f in manifest["files"]} == expected
    assert manifest["crs"] == "EPSG:4490" and manifest["years"] == list(demo.YEARS)
    assert {f["role"] for f in manifest["files"]} >= {"dem", "landcover", "townships", "redline"}


def test_rasters_crs_nodata_units_tiling(p):
    for path in _all_rasters(p):
        with rasterio.open(path) as src:
            assert src.crs.to_epsg() == 4490, path
            assert src.nodata is not None, path
            assert src.tags().get("units"), path
            assert src.profile.get("tiled") and src.block_shapes[0] == (256, 256), path
            assert src.compression is not None and src.compression.name.lower() == "deflate", path
            assert src.transform.e < 0 and src.transform.b == 0 == src.transform.d, path  # north-up


def test_vectors_crs_and_fields(p):
    for path in _all_vectors(p):
        gdf = gpd.read_file(path)
        assert gdf.crs.to_epsg() == 4490, path
        assert gdf.geometry.is_valid.all(), path
    pa = gpd.read_file(p["protected"][2021], layer="protected")
    assert set(pa["type"]) <= {"国家公园", "自然保护区", "自然公园"}
    assert pa["id"].is_unique and pa["name"].str.len().min() > 0


def test_landcover_grid_and_codes(p, landcover):
    for year, path in p["landcover"].items():
        with rasterio.open(path) as src:
            assert src.dtypes[0] == "uint8" and src.nodata == 0
            assert src.res == pytest.approx((0.0003, 0.0003))
            assert src.shape == (1000, 1200)
        codes = set(np.unique(landcover[year]).tolist())
        assert codes <= set(range(10))
        assert {1, 2, 3, 4, 5, 7, 8, 9} <= codes  # every class but snow is present


def test_dem_covers_landcover_and_has_all_terrain_classes(p):
    with rasterio.open(p["landcover"][2019]) as lc, rasterio.open(p["dem"]) as dem:
        assert dem.res[0] > lc.res[0]
        lb, db = lc.bounds, dem.bounds
        assert db.left < lb.left and db.bottom < lb.bottom and db.right > lb.right and db.top > lb.top
        z = dem.read(1)
        assert dem.dtypes[0] == "float32" and not (z == dem.nodata).any()
    # relief in a ≈ 4.6 km window (51 cells of ≈ 90 m): plains < 30 m, hills 30-200 m, mountains > 500 m
    relief = ndimage.maximum_filter(z, 51) - ndimage.minimum_filter(z, 51)
    assert (relief < 30).mean() > 0.1
    assert ((relief >= 30) & (relief < 200)).mean() > 0.1
    assert (relief > 500).mean() > 0.1
    assert 1200 < z.max() < 1700 and 20 < z.min() < 60


def test_climate_rasters(p):
    with rasterio.open(p["landcover"][2019]) as lc:
        lc_transform = lc.transform
    ranges = {"precip": (1250, 1700), "et": (590, 910), "npp": (290, 910)}
    for key, (lo, hi) in ranges.items():
        for year, path in p[key].items():
            with rasterio.open(path) as src:
                assert src.res == pytest.approx((0.0018, 0.0018))
                assert src.transform != lc_transform
                a = src.read(1)
                assert src.dtypes[0] == "float32" and src.nodata == -9999
                assert lo <= a.min() and a.max() <= hi, (key, year, a.min(), a.max())
    with rasterio.open(p["precip"][2019]) as a, rasterio.open(p["et"][2019]) as b:
        assert (a.read(1) > b.read(1)).all()


def test_county_inside_landcover_with_margin(county):
    assert len(county) == 1
    row = county.iloc[0]
    assert row["code"] == demo.COUNTY_CODE and len(row["code"]) == 12 and row["name"]
    geom = row.geometry
    assert shapely.get_num_coordinates(geom) > 100  # irregular, not a rectangle
    w, s, e, n = demo.LC_GRID.bounds
    assert shapely.box(w + 0.005, s + 0.005, e - 0.005, n - 0.005).contains(geom)


def test_townships_partition_the_county(county, townships):
    c = county.geometry.iloc[0]
    geoms = townships.geometry.values
    assert 12 <= len(townships) <= 16
    union = shapely.union_all(geoms)
    assert shapely.symmetric_difference(union, c).area < 1e-9 * c.area
    for a, b in combinations(geoms, 2):
        assert shapely.intersection(a, b).area < 1e-12 * c.area
    assert abs(sum(g.area for g in geoms) - c.area) < 1e-9 * c.area


def test_township_codes_and_shapes(townships):
    codes = townships["code"]
    assert codes.is_unique
    assert codes.str.fullmatch(r"\d{12}").all()
    assert codes.str.startswith(demo.COUNTY_CODE[:6]).all()
    assert (townships["county_code"] == demo.COUNTY_CODE).all()
    assert townships["name"].is_unique and townships["name"].str.endswith(("镇", "乡", "街道")).all()
    multi = [len(shapely.get_parts(g)) > 1 for g in townships.geometry]
    holes = [sum(len(q.interiors) for q in shapely.get_parts(g)) > 0 for g in townships.geometry]
    assert any(multi) and any(holes)


def test_year_to_year_change(county, landcover):
    inside = _inside_mask(county.geometry.iloc[0], demo.LC_GRID)
    built = [int(((landcover[y] == 8) & inside).sum()) for y in demo.YEARS]
    assert built[0] < built[1] < built[2]
    a, b = landcover[2019], landcover[2021]
    gained = (a != 2) & (b == 2) & (a != 0)
    lost = (a == 2) & (b != 2) & (b != 0)
    assert gained.sum() > 1000 and lost.sum() > 500  # afforestation and clearing
    assert set(np.unique(b[lost]).tolist()) <= {1, 8}
    assert set(np.unique(a[gained]).tolist()) <= {1, 3, 4}


def test_nodata_patch_only_in_gap_year(county, landcover):
    inside = _inside_mask(county.geometry.iloc[0], demo.LC_GRID)
    for year in demo.YEARS:
        zeros = landcover[year] == 0
        if year == demo.GAP_YEAR:
            assert (zeros & inside).sum() > 1000
            assert (zeros & ~inside).sum() == 0
        else:
            assert not zeros.any()


def _union_areas(rl, townships):
    union = shapely.union_all(rl.geometry.values)
    per = np.array([shapely.intersection(union, t).area for t in townships.geometry])
    return per


def test_redline_changes_between_years(p, townships):
    rl = {y: gpd.read_file(p["redline"][y], layer="redline") for y in demo.YEARS}
    for y in demo.YEARS:
        assert 20 <= len(rl[y]) <= 60 and rl[y]["id"].is_unique
    for y0, y1 in zip(demo.YEARS[:-1], demo.YEARS[1:]):
        a, b = rl[y0].set_index("id"), rl[y1].set_index("id")
        assert len(set(b.index) - set(a.index)) == 1  # one added
        assert len(set(a.index) - set(b.index)) == 1  # one removed
        common = sorted(set(a.index) & set(b.index))
        changed = [i for i in common if not a.geometry[i].equals(b.geometry[i])]
        assert len(changed) == 1  # one reshaped
        before, after = _union_areas(rl[y0], townships), _union_areas(rl[y1], townships)
        assert after.sum() > before.sum()
        drops = np.flatnonzero(after < before - 1e-12)
        assert len(drops) == 1


def test_redline_overlaps_and_crosses_borders(p, townships):
    rl = gpd.read_file(p["redline"][2019], layer="redline")
    geoms = rl.geometry.values
    assert any(shapely.intersection(a, b).area > 0 for a, b in combinations(geoms, 2))
    crossing = 0
    for g in geoms:
        hit = sum(shapely.intersection(g, t).area > 1e-3 * g.area for t in townships.geometry)
        crossing += hit >= 2
    assert crossing >= 2


def test_protected_area_added_in_last_year(p):
    pa = {y: gpd.read_file(p["protected"][y], layer="protected") for y in demo.YEARS}
    assert set(pa[2019]["id"]) == set(pa[2020]["id"]) < set(pa[2021]["id"])


def test_paths_names_every_file(tmp_path):
    names = demo.paths(tmp_path)
    flat = [v for v in names.values() if not isinstance(v, dict)]
    flat += [x for v in names.values() if isinstance(v, dict) for x in v.values()]
    assert len(flat) == len({f.name for f in flat}) == 26  # with the GEP statistics table
    assert names["landcover"][2020].name == "landcover_2020.tif"
    assert names["redline"][2019].name == "redline_2019.gpkg"
    assert names["dem"].name == "dem.tif" and names["manifest"].name == "demo_manifest.json"


def test_cli_run_is_deterministic(p, tmp_path, capsys):
    """A second run (through the command line) gives identical rasters and geometries."""
    out = tmp_path / "again"
    assert main(["demo-data", str(out)]) == 0
    assert "demo" in capsys.readouterr().out
    again = demo.paths(out)
    for a, b in zip(_all_rasters(p), _all_rasters(again)):
        with rasterio.open(a) as ra, rasterio.open(b) as rb:
            assert np.array_equal(ra.read(1), rb.read(1)), a.name
            assert ra.transform == rb.transform
    for key in ("townships", "county"):
        ga, gb = gpd.read_file(p[key]), gpd.read_file(again[key])
        assert list(ga["code"]) == list(gb["code"])
        assert all(x.equals_exact(y, 0) for x, y in zip(ga.geometry, gb.geometry))
    for year in demo.YEARS:
        ga, gb = gpd.read_file(p["redline"][year]), gpd.read_file(again["redline"][year])
        assert list(ga["id"]) == list(gb["id"])
        assert all(x.equals_exact(y, 0) for x, y in zip(ga.geometry, gb.geometry))


def test_cli_rejects_a_file_as_outdir(tmp_path, capsys):
    f = tmp_path / "not_a_folder"
    f.write_text("x")
    assert main(["demo-data", str(f)]) == 2
    err = capsys.readouterr().err
    assert "not a folder" in err and len(err.strip().splitlines()) == 1


GEP_TABLES = ("water_bodies", "emissions", "discharges")


def test_gep_tables_are_marked_demo_and_serve_both_levels(p, county, townships):
    """The GEP region tables list townships of the county, every row says DEMO, and each township has a row
    of every pollutant and year (so the county, without rows of its own, sums its townships)."""
    import pandas as pd

    codes = set(townships["code"])
    for key in GEP_TABLES:
        t = pd.read_csv(p[key], dtype={"region_code": str})
        assert set(t["region_code"]) <= codes and len(t)
        assert t["source"].str.startswith("DEMO").all()
    em = pd.read_csv(p["emissions"], dtype={"region_code": str})
    assert len(em) == len(codes) * len(demo.YEARS) * 3 and not em.duplicated(["region_code", "year", "pollutant"]).any()
    assert (em["amount_t"] >= 0).all()
    wb = pd.read_csv(p["water_bodies"], dtype={"region_code": str})
    assert sorted(wb["kind"]) == ["lake", "reservoir"]
    assert county["code"].iloc[0][:6] == wb["region_code"].iloc[0][:6]


def test_statistics_give_every_item_for_both_levels(p, county, townships):
    """The DEMO statistics table: the six material items and tourism of national_default for every township
    and year, the county's row the sum of its townships', and each level reads it alone."""
    import pandas as pd

    from gep.indicators.gep.statistics import read_statistics

    items = ["agriculture", "forestry", "animal_husbandry", "fishery", "water_supply", "hydropower", "tourism"]
    t = pd.read_csv(p["statistics"], dtype={"region_code": str})
    towns, cty = sorted(townships["code"]), county["code"].iloc[0]
    assert len(t) == (len(towns) + 1) * len(demo.YEARS) * len(items)
    assert t["source"].str.startswith("DEMO").all() and set(t["value_unit"]) == {"万元"}
    for (year, service), g in t.groupby(["year", "service"]):
        total = g.loc[g["region_code"] == cty, "value"].iloc[0]
        assert total == pytest.approx(g.loc[g["region_code"] != cty, "value"].sum(), abs=0.05)
    first = t[(t["year"] == demo.YEARS[0]) & (t["region_code"] == cty)].set_index("service")["value"]
    assert first["agriculture"] == pytest.approx(180_000.0, abs=1.0)  # 18 亿元 of the first year
    for codes in ([cty], towns):
        st = read_statistics(p["statistics"], region_codes=codes, years=list(demo.YEARS), services=items)
        assert len(st) == len(codes) * len(demo.YEARS) * len(items)
