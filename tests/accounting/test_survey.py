"""Land cover from the land survey's polygons (gep.accounting.survey): the survey's own sums reproduced exactly,
clipped and terrain-split parts checked against an independent geodesic reference (shapely + pyproj.Geod),
reports of what does not fit, and one-line errors for bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from gep.accounting.survey import (SurveyFields, SurveyOptions, TerrainClasses, apportion, survey_crosstab)
from gep.accounting.survey_classes import numerator, numerator_areas, scheme_code, survey_text
from gep.accounting.survey_demo import DEMO_CRS, demo_survey, jittered_cells, synthetic_survey
from gep.core.errors import InputError
from gep.raster.grid import Grid

X0, Y0 = 37_600_000.0, 3_100_000.0  # zone 37 (EPSG:4525), ~100 km east of 111°E, ~28°N
BOUNDS = (X0, Y0, X0 + 3000.0, Y0 + 2000.0)
GEOD = CRS(DEMO_CRS).get_geod()
TO_LONLAT = Transformer.from_crs(DEMO_CRS, 4490, always_xy=True)


def _write(gdf: gpd.GeoDataFrame, path, layer="DLTB"):
    gdf.to_file(path, layer=layer, engine="pyogrio")
    return path


@pytest.fixture(scope="module")
def layer():
    """30 × 20 jittered cells of ~100 m with survey fields (cropland with 田坎 deductions)."""
    return synthetic_survey(BOUNDS, 30, 20, seed=3)


@pytest.fixture()
def survey_path(layer, tmp_path):
    return _write(layer, tmp_path / "survey.gpkg")


def _regions(geoms, codes, crs=DEMO_CRS):
    return gpd.GeoDataFrame({"region_code": codes}, geometry=list(geoms), crs=crs)


def _geod_area(geom) -> float:
    """Independent reference: the part in lon/lat (edges densified to 5 m first) and pyproj.Geod."""
    dense = shapely.segmentize(geom, 5.0)
    ll = shapely.transform(dense, lambda xy: np.column_stack(TO_LONLAT.transform(xy[:, 0], xy[:, 1])))
    return abs(GEOD.geometry_area_perimeter(ll)[0])


def _cm2(x) -> np.ndarray:
    return np.rint(np.asarray(x, dtype=np.float64) * 1e4).astype(np.int64)


# --- the survey's own numbers ---------------------------------------------------------------------------------

def test_whole_polygon_regions_equal_hand_sums_exactly(layer, survey_path):
    # regions made of whole polygons: west columns, east columns (dissolved from the cells themselves)
    col = np.arange(len(layer)) % 30
    west = col < 13
    geoms = layer.geometry.values
    regions = _regions([shapely.union_all(geoms[west]), shapely.union_all(geoms[~west])], ["W", "E"])
    res = survey_crosstab(survey_path, regions, options=SurveyOptions(chunk_polygons=97))
    got = res.table.groupby(["region_code", "dlbm"])["area_cm2"].sum()
    # hand sums: TBDLMJ by DLBM, TKMJ added to 1203, per region
    rows = []
    for code, mask in (("W", west), ("E", ~west)):
        sub = layer[mask]
        rows += [(code, d, int(_cm2(sub.loc[sub.DLBM == d, "TBDLMJ"]).sum())) for d in sorted(set(sub.DLBM))]
        rows.append((code, "1203", int(_cm2(sub.TKMJ).sum())))
    want = pd.DataFrame(rows, columns=["region_code", "dlbm", "area_cm2"]).set_index(["region_code", "dlbm"])
    want = want["area_cm2"]
    want = want[want != 0]
    assert got.sort_index().to_dict() == want.sort_index().to_dict()
    assert (_cm2(layer.TKMJ) > 0).sum() > 10  # the layer does deduct 田坎
    # the survey's own totals over the layer, and nothing lost
    assert res.survey_totals.set_index("dlbm")["area_cm2"].to_dict() == \
        want.groupby(level="dlbm").sum().to_dict()
    assert res.counts["outside_regions_m2"] == 0 and res.counts["gaps"] == 0 and res.counts["overlap"] == 0
    assert set(res.table["terrain_code"]) == {0}
    assert res.table.loc[res.table.dlbm == "0301", "lc_code"].unique().tolist() == ["301"]


def _clip_reference(layer, regions, *, survey: bool) -> dict:
    """Per (region, DLBM): survey area × share of the polygon's geodesic area in the region (or the clipped
    geodesic area itself), computed with shapely.intersection and pyproj.Geod."""
    out: dict = {}
    for _, reg in regions.iterrows():
        for _, p in layer.iterrows():
            part = shapely.intersection(p.geometry, reg.geometry)
            if part.is_empty or part.area == 0:
                continue
            a = _geod_area(part)
            if survey:
                share = a / _geod_area(p.geometry)
                out[(reg.region_code, p.DLBM)] = out.get((reg.region_code, p.DLBM), 0) + p.TBDLMJ * share
                out[(reg.region_code, "1203")] = out.get((reg.region_code, "1203"), 0) + p.TKMJ * share
            else:
                out[(reg.region_code, p.DLBM)] = out.get((reg.region_code, p.DLBM), 0) + a
    return {k: v for k, v in out.items() if v > 0}


@pytest.mark.parametrize("geometry_areas", [False, True])
def test_clipped_parts_match_geodesic_reference(layer, survey_path, geometry_areas):
    # regions that cut polygons: a diagonal split and a disc, partly outside the layer
    diag = shapely.Polygon([(X0, Y0), (X0 + 2100, Y0), (X0 + 900, Y0 + 2000), (X0, Y0 + 2000)])
    disc = shapely.Point(X0 + 2600, Y0 + 1500).buffer(650, 64).difference(diag)
    regions = _regions([diag, disc], ["D", "R"])
    res = survey_crosstab(survey_path, regions, options=SurveyOptions(geometry_areas=geometry_areas))
    got = res.table.groupby(["region_code", "dlbm"])["area_m2"].sum().to_dict()
    want = _clip_reference(layer, regions, survey=not geometry_areas)
    assert set(got) == set(want)
    rel = max(abs(got[k] - want[k]) / want[k] for k in want if want[k] > 100)
    assert rel < 1e-6
    # absolute agreement of every class total to a few cm² per polygon
    assert max(abs(got[k] - want[k]) for k in want) < 0.05
    # the disc reaches beyond the layer: the area no polygon covers is reported as a gap
    reg = res.regions.set_index("region_code")
    assert bool(reg.loc["R", "flagged"]) and reg.loc["R", "uncovered_m2"] > 1e4
    assert not bool(reg.loc["D", "flagged"])
    assert res.counts["gaps"] == 1
    # survey area of the parts outside both regions is counted, not lost
    total = res.survey_totals["area_cm2"].sum()
    assert res.table["area_cm2"].sum() + round(res.counts["outside_regions_m2"] * 1e4) == total


# --- terrain shares -------------------------------------------------------------------------------------------

def test_terrain_raster_splits_polygons(layer, survey_path):
    """A geographic class raster (the DEM's grid, CGCS2000 lon/lat) whose class edge cuts polygons, with a
    nodata strip and the northern part of the layer beyond its extent: shares against the geodesic reference."""
    lon0, lat0 = TO_LONLAT.transform(X0, Y0)
    res_deg = 0.0002
    lon_left = lon0 - 0.001
    lat_top = lat0 + 0.014  # the layer reaches ~0.018° north: its northern part has no DEM
    nrow, ncol = int((lat_top - (lat0 - 0.001)) / res_deg), int(0.036 / res_deg)
    grid = Grid(Affine(res_deg, 0, lon_left, 0, -res_deg, lat_top), (nrow, ncol), CRS(4490))
    edge_col, nodata_col = 73, 140  # class 2 west of column 73, class 4 east of it; nodata in column 140
    arr = np.where(np.arange(ncol) < edge_col, 2, 4).astype(np.uint8)[None, :].repeat(nrow, axis=0)
    arr[:, nodata_col] = 255
    terrain = TerrainClasses.from_array(arr, grid, nodata=255, chunk=64)
    regions = _regions([shapely.box(*BOUNDS)], ["A"])
    res = survey_crosstab(survey_path, regions, terrain, options=SurveyOptions(chunk_polygons=250))
    got = res.table.groupby(["terrain_code", "dlbm"])["area_m2"].sum().to_dict()

    x_edge = lon_left + edge_col * res_deg
    x_nd0, x_nd1 = lon_left + nodata_col * res_deg, lon_left + (nodata_col + 1) * res_deg
    boxes = {2: [shapely.box(-180, -90, x_edge, lat_top)],
             4: [shapely.box(x_edge, -90, x_nd0, lat_top), shapely.box(x_nd1, -90, 180, lat_top)]}
    want: dict = {}
    for _, p in layer.iterrows():
        ll = shapely.transform(shapely.segmentize(p.geometry, 5.0),
                               lambda xy: np.column_stack(TO_LONLAT.transform(xy[:, 0], xy[:, 1])))
        total = abs(GEOD.geometry_area_perimeter(ll)[0])
        shares = {k: sum(abs(GEOD.geometry_area_perimeter(shapely.intersection(ll, b))[0])
                         for b in bs if shapely.intersects(ll, b)) / total for k, bs in boxes.items()}
        shares[0] = 1.0 - shares[2] - shares[4]
        for k, s in shares.items():
            for d, amount in ((p.DLBM, p.TBDLMJ), ("1203", p.TKMJ)):
                if s * amount > 0:
                    want[(k, d)] = want.get((k, d), 0.0) + s * amount
    assert set(got) == {k for k, v in want.items() if v > 0.01}
    assert max(abs(got[k] - want[k]) / want[k] for k in want if want[k] > 1000) < 1e-6
    # each terrain class in total, to the survey's 0.01 m²
    for k in (0, 2, 4):
        g = sum(v for (t, _), v in got.items() if t == k)
        w = sum(v for (t, _), v in want.items() if t == k)
        assert abs(g - w) < max(1.0, 1e-7 * w)
    assert sum(v for (t, _), v in want.items() if t == 0) > 1e5  # the no-DEM part is real
    # splitting by terrain changes no class total: still the survey's sums exactly
    flat = survey_crosstab(survey_path, regions)
    assert (res.table.groupby("dlbm")["area_cm2"].sum() == flat.table.groupby("dlbm")["area_cm2"].sum()).all()


def test_terrain_codes_outside_the_scheme_are_an_error(survey_path):
    grid = Grid(Affine(50, 0, X0 - 100, 0, -50, Y0 + 2100), (44, 64), CRS(DEMO_CRS))
    arr = np.full((44, 64), 9, dtype=np.uint8)
    with pytest.raises(InputError, match="values other than the terrain codes"):
        survey_crosstab(survey_path, _regions([shapely.box(*BOUNDS)], ["A"]), TerrainClasses.from_array(arr, grid))


# --- apportioning ---------------------------------------------------------------------------------------------

def test_apportion_sums_exactly_and_follows_weights():
    total = np.array([10, 7, 1_000_000_007, 5, 0])
    owner = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 4])
    weight = np.array([1, 1, 1, 3, 1, 0.5, 0.25, 0.25, 0, 2])
    got = apportion(total, owner, weight)
    assert np.bincount(owner, weights=got).astype(np.int64).tolist() == total.tolist()
    assert got[:3].tolist() == [4, 3, 3]  # 10/3 each: the one unit left goes to the first of equal fractions
    assert got[3:5].tolist() == [5, 2]  # 5.25 and 1.75: the unit left goes to the larger fraction
    assert got[5:8].tolist() == [500_000_003, 250_000_002, 250_000_002]  # .5, .75, .75: two units left
    assert got[8] == 5  # zero weights: all to the first piece


# --- reports --------------------------------------------------------------------------------------------------

def test_reports_area_departure_mismatch_overlap_repair(layer, tmp_path):
    gdf = layer.copy()
    gdf.loc[5, "TBMJ"] = round(gdf.loc[5, "TBMJ"] * 1.01, 2)  # geometry departs 1 % from TBMJ
    gdf.loc[5, "TBDLMJ"] = round(gdf.loc[5, "TBMJ"] - gdf.loc[5, "TKMJ"], 2)
    gdf.loc[9, "TBDLMJ"] = gdf.loc[9, "TBDLMJ"] + 3.0  # TBDLMJ ≠ TBMJ − TKMJ
    g = gdf.geometry.values[40]
    x0, y0, x1, y1 = g.bounds
    bow = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # self-intersecting: repaired
    cx, cy = g.representative_point().x, g.representative_point().y
    x0, y0 = cx - 5, cy - 5  # a 10 m box inside feature 41
    extra = gpd.GeoDataFrame({"DLBM": ["0404", "0301"], "TBMJ": [100.0, 50.0], "KCDLBM": ["", ""], "TKXS": [0, 0],
                              "TKMJ": [0.0, 0.0], "TBDLMJ": [100.0, 50.0], "ZLDWDM": ["4301811001000000000"] * 2},
                             geometry=[shapely.box(x0, y0, x0 + 10, y0 + 10), bow], crs=DEMO_CRS)
    gdf = pd.concat([gdf, extra], ignore_index=True)  # feature 601 overlaps feature 41
    path = _write(gdf, tmp_path / "s.gpkg")
    res = survey_crosstab(path, _regions([shapely.box(*BOUNDS)], ["A"]))
    iss = res.issues
    dep = iss[iss.issue == "area_departs"]
    assert dep["feature"].tolist() == [6, 602] and abs(dep["rel_diff"].iloc[0] - 0.0099) < 2e-4  # 602: TBMJ 50
    assert iss.loc[iss.issue == "tbdlmj_mismatch", "feature"].tolist() == [10]
    ov = iss[iss.issue == "overlap"]
    assert (41, 601) in set(zip(ov.feature, ov.other_feature))  # (602, the repaired bow tie, overlaps others)
    overlap = ov.set_index("other_feature").loc[601, "overlap_m2"]
    assert abs(overlap - _geod_area(shapely.box(x0, y0, x0 + 10, y0 + 10))) < 0.05
    assert iss.loc[iss.issue == "repaired", "feature"].tolist() == [602]
    assert res.counts["area_departs"] == 2 and res.counts["tbdlmj_mismatch"] == 1 and res.counts["repaired"] == 1
    # the survey's numbers are still what is counted: the region holds every polygon's survey area
    assert res.table["area_cm2"].sum() == res.survey_totals["area_cm2"].sum()
    # the overlap shows as negative uncovered area
    assert res.regions["uncovered_m2"].iloc[0] < -50


def test_gap_is_reported(layer, tmp_path):
    path = _write(layer.drop(index=[100, 101]), tmp_path / "s.gpkg")
    res = survey_crosstab(path, _regions([shapely.box(*BOUNDS)], ["A"]), options=SurveyOptions(gap_tolerance=1e-4))
    gap = _geod_area(layer.geometry.values[100]) + _geod_area(layer.geometry.values[101])
    assert res.counts["gaps"] == 1
    assert abs(res.regions["uncovered_m2"].iloc[0] - gap) < 0.1


# --- bad input ------------------------------------------------------------------------------------------------

def test_missing_layer_lists_layers(survey_path):
    with pytest.raises(InputError, match=r"layer 'DLTB2' not found; available layers: DLTB"):
        survey_crosstab(survey_path, _regions([shapely.box(*BOUNDS)], ["A"]), layer="DLTB2")


def test_missing_field_lists_fields(survey_path):
    with pytest.raises(InputError, match=r"field\(s\) TBDLMJX not found; available fields: DLBM, TBMJ, KCDLBM"):
        survey_crosstab(survey_path, _regions([shapely.box(*BOUNDS)], ["A"]),
                        fields=SurveyFields(counted_area_field="TBDLMJX"))


def test_non_numeric_area(layer, tmp_path):
    gdf = layer.copy()
    gdf["TBMJ"] = gdf["TBMJ"].map(lambda v: f"{v:.2f}")
    gdf.loc[3, "TBMJ"] = "12,5"
    path = _write(gdf, tmp_path / "s.gpkg")
    with pytest.raises(InputError, match=r"s.gpkg \(layer DLTB\): field 'TBMJ' has values that are not numbers "
                                         r"\(feature 4 '12,5'; 1 in all\)"):
        survey_crosstab(path, _regions([shapely.box(*BOUNDS)], ["A"]))


def test_unknown_codes_listed_with_area(layer, tmp_path):
    gdf = layer.copy()
    gdf.loc[[0, 1], "DLBM"] = "0399"
    gdf.loc[2, "DLBM"] = "xx"
    path = _write(gdf, tmp_path / "s.gpkg")
    area = gdf.loc[[0, 1], "TBMJ"].sum()
    with pytest.raises(InputError) as err:
        survey_crosstab(path, _regions([shapely.box(*BOUNDS)], ["A"]))
    msg = str(err.value)
    assert "field 'DLBM' has codes not in class scheme 'sandiao'" in msg
    assert f"'0399' ({area:,.2f} m²)" in msg and "'xx' (" in msg


def test_no_crs(layer, tmp_path):
    gdf = layer.copy()
    gdf.crs = None
    path = _write(gdf, tmp_path / "s.gpkg")
    with pytest.raises(InputError, match=r"\(layer DLTB\): no CRS"):
        survey_crosstab(path, _regions([shapely.box(*BOUNDS)], ["A"]))
    # declaring it works
    res = survey_crosstab(path, _regions([shapely.box(*BOUNDS)], ["A"]), options=SurveyOptions(crs=DEMO_CRS))
    assert res.table["area_cm2"].sum() == res.survey_totals["area_cm2"].sum()


def test_empty_class_and_negative_area(layer, tmp_path):
    gdf = layer.copy()
    gdf.loc[7, "DLBM"] = ""
    with pytest.raises(InputError, match=r"field 'DLBM' is empty in feature\(s\) 8"):
        survey_crosstab(_write(gdf, tmp_path / "a.gpkg"), _regions([shapely.box(*BOUNDS)], ["A"]))
    gdf = layer.copy()
    gdf.loc[2, "TKMJ"] = -1.0
    with pytest.raises(InputError, match=r"field 'TKMJ' has negative areas \(feature 3: -1.0\)"):
        survey_crosstab(_write(gdf, tmp_path / "b.gpkg"), _regions([shapely.box(*BOUNDS)], ["A"]))


# --- classes and the numerator --------------------------------------------------------------------------------

def test_scheme_codes():
    assert scheme_code("0301") == (301, False)
    assert scheme_code(" 09 ") == (9, False)
    assert scheme_code("05H1") == (501, False)
    assert scheme_code("0810A") == (810, False)
    assert scheme_code("0201K") == (201, True)
    assert scheme_code("abc") == (None, False)
    assert [survey_text(c) for c in (301, 9, 1203)] == ["0301", "09", "1203"]


def test_numerator_variants():
    d = numerator()
    assert d.name == "forest_grass"
    assert d.forest == {301: 1.0, 302: 1.0, 305: 0.0} and d.grass == {401: 1.0, 403: 1.0, 404: 1.0}
    s = numerator("forest_grass_landuse", 0.4)
    assert s.forest == {301: 1.0, 302: 1.0, 303: 1.0, 304: 1.0, 305: 0.4, 306: 0.4}
    assert s.grass == {401: 1.0, 402: 1.0, 403: 1.0, 404: 1.0}
    f = numerator("forestland_grass", 0.4)
    assert f.forest == {301: 1.0, 302: 1.0, 305: 1.0, 307: 1.0} and f.grass == {401: 1.0, 403: 1.0, 404: 1.0}
    fl = numerator("forestland_grass_landuse")
    assert set(fl.forest) == {301, 302, 303, 304, 305, 306, 307} and set(fl.grass) == {401, 402, 403, 404}
    assert s.label == "forest_grass_landuse (designated shrub share 0.4)"
    with pytest.raises(InputError, match="not known; use one of forest_grass"):
        numerator("lincao")
    with pytest.raises(InputError, match="not between 0 and 1"):
        numerator("forest_grass", 1.5)


def test_numerator_areas_hand_computed():
    tab = pd.DataFrame({"region_code": ["A"] * 6 + ["B"],
                        "lc_code": ["301", "305", "307", "404", "402", "101", "305"],
                        "area_cm2": [10_000 * v for v in (100, 50, 30, 20, 10, 500, 40)]})
    got = numerator_areas(tab, numerator("forest_grass", 0.5)).set_index("region_code")
    assert got.loc["A", "forest_m2"] == 100 + 25 and got.loc["A", "grass_m2"] == 20
    assert got.loc["A", "lincao_m2"] == 145 and got.loc["A", "shrub_m2"] == 50
    assert got.loc["A", "shrub_counted_m2"] == 25 and got.loc["B", "lincao_m2"] == 20
    assert got.loc["A", "numerator"] == "forest_grass (designated shrub share 0.5)"
    land = numerator_areas(tab, numerator("forestland_grass_landuse")).set_index("region_code")
    assert land.loc["A", "lincao_m2"] == 100 + 50 + 30 + 20 + 10
    assert land.loc["A", "numerator"] == "forestland_grass_landuse"


# --- the synthetic survey -------------------------------------------------------------------------------------

def test_jittered_cells_tile_the_extent():
    cells = jittered_cells(BOUNDS, 12, 9, np.random.default_rng(0))
    assert shapely.is_valid(cells).all()
    assert abs(shapely.area(cells).sum() - shapely.box(*BOUNDS).area) < 1e-3
    assert abs(shapely.union_all(cells).area - shapely.box(*BOUNDS).area) < 1e-3  # no overlap, no gap


def test_demo_survey_partitions_townships():
    west = shapely.box(112.0, 28.0, 112.05, 28.04)
    east = shapely.box(112.05, 28.0, 112.1, 28.04)
    towns = gpd.GeoDataFrame({"code": ["430181100", "430181101"]}, geometry=[west, east], crs="EPSG:4490")
    a = demo_survey(towns, seed=5, cell_m=400)
    b = demo_survey(towns, seed=5, cell_m=400)
    assert a.crs == CRS(DEMO_CRS)
    assert a.equals(b)  # deterministic from the seed
    assert np.allclose(a.TBDLMJ, np.round(a.TBMJ - a.TKMJ, 2))
    assert (a.loc[a.TKMJ > 0, "DLBM"].isin(["0101", "0102", "0103"])).all() and (a.TKMJ > 0).sum() > 3
    assert (a.loc[a.TKMJ > 0, "KCDLBM"] == "1203").all()
    assert a.ZLDWDM.str.len().eq(19).all() and set(a.ZLDWDM.str[:9]) == {"430181100", "430181101"}
    # the polygons partition the townships: TBMJ adds up to the townships' geodesic area
    town_area = sum(abs(GEOD.geometry_area_perimeter(shapely.segmentize(t, 0.0005))[0]) for t in (west, east))
    assert abs(a.TBMJ.sum() - town_area) / town_area < 1e-6


def test_write_demo_survey_needs_the_demo(tmp_path):
    from gep.accounting.survey_demo import write_demo_survey

    with pytest.raises(InputError, match=r"townships.gpkg: the demo townships are missing; run 'gep demo"):
        write_demo_survey(tmp_path)


@pytest.mark.slow
def test_demo_county_survey_reproduces_its_own_sums(tmp_path):
    """The demo county's survey layer, accounted over its townships (which cut no polygon: the layer was cut at
    their boundaries): every township's class totals are its polygons' TBDLMJ and TKMJ sums exactly."""
    from gep import demo
    from gep.accounting.survey_demo import write_demo_survey
    from gep.vector.regions import read_regions

    demo.generate(tmp_path)
    path = write_demo_survey(tmp_path)
    layer = gpd.read_file(path, layer="DLTB", engine="pyogrio")
    assert layer.crs == CRS(DEMO_CRS) and len(layer) > 5000
    towns, _ = read_regions(demo.paths(tmp_path)["townships"], "code", "name")
    res = survey_crosstab(path, towns)
    got = res.table.groupby(["region_code", "dlbm"])["area_cm2"].sum()
    # each polygon's township from its ZLDWDM (first 9 digits), the survey's way
    town_of = {c[:9]: c for c in towns.region_code}
    region = layer.ZLDWDM.str[:9].map(town_of)
    counted = pd.DataFrame({"region_code": region, "dlbm": layer.DLBM, "area_cm2": _cm2(layer.TBDLMJ)})
    deducted = pd.DataFrame({"region_code": region, "dlbm": "1203", "area_cm2": _cm2(layer.TKMJ)})
    want = pd.concat([counted, deducted]).groupby(["region_code", "dlbm"])["area_cm2"].sum()
    assert got.to_dict() == want[want != 0].to_dict()
    assert res.counts["gaps"] == 0 and res.counts["overlap"] == 0 and res.counts["outside_regions_m2"] == 0
