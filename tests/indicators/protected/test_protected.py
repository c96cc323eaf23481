"""Indicator 9 (vector): areas per region, change between years, config, CLI.

Expected values are computed independently of the code under test: lon/lat boxes have the exact
ellipsoidal area Δλ/360 × (zone area between two parallels) (``lonlat_box_area_m2``); other shapes use
pyproj.Geod on rings densified here with numpy, or PROJ's areal scale factor for small projected squares.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pyproj import CRS, Proj, Transformer
from shapely.geometry import MultiPolygon, Polygon, box

from gep.cli.main import main
from gep.core.errors import InputError
from gep.vector.geodesy import lonlat_box_area_m2
from gep.indicators.protected.areas import (
    OUTSIDE,
    ProtectedConfig,
    ProtectedLayerConfig,
    carried_notes,
    change_layers,
    change_status,
    dissolve,
    protected_area,
    protected_change,
    read_layer,
    resolve_paths,
    resolve_sources,
    write_change_gpkg,
)

CGCS = 4490
REL = 1e-7  # densified geodesic area vs exact box area agree to ~1e-12; leave room for overlay rounding


def km2(lon0, lat0, lon1, lat1, crs=CGCS):
    return lonlat_box_area_m2(lon0, lat0, lon1, lat1, crs) / 1e6


@pytest.fixture
def regions():
    """Two 1° × 1° regions side by side at 30–31°N, CGCS2000."""
    return gpd.GeoDataFrame(
        {"region_code": ["430101", "430102"], "region_name": ["甲县", "乙县"]},
        geometry=[box(110, 30, 111, 31), box(111, 30, 112, 31)],
        crs=CGCS,
    )


def layer_of(geoms, crs=CGCS, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=crs)


def row(df, code, type_="all"):
    sel = df[(df["region_code"] == code) & (df["type"] == type_)]
    assert len(sel) == 1
    return sel.iloc[0]


def geod_area_km2(lonlat_ring, crs=CGCS, n=2000):
    """Area of a lon/lat polygon whose edges are straight in lon/lat, by Geod on a numpy-densified ring."""
    pts = np.asarray(lonlat_ring, dtype=float)
    seg = [np.linspace(pts[i], pts[i + 1], n, endpoint=False) for i in range(len(pts) - 1)]
    ring = np.vstack(seg)
    area, _ = CRS.from_epsg(crs).get_geod().polygon_area_perimeter(ring[:, 0], ring[:, 1])
    return abs(area) / 1e6


# ------------------------------------------------------------------------------------------ protected_area


def test_box_inside_one_region_exact_area_and_share(regions):
    df = protected_area(regions, layer_of([box(110.2, 30.2, 110.6, 30.7)]), layer_name="redline", year=2020)
    assert list(df.columns) == ["region_code", "region_name", "year", "layer", "type", "area_km2",
                                "share_of_region_pct"]
    exp = km2(110.2, 30.2, 110.6, 30.7)
    a = row(df, "430101")
    assert a.area_km2 == pytest.approx(exp, rel=REL)
    assert a.share_of_region_pct == pytest.approx(exp / km2(110, 30, 111, 31) * 100, rel=REL)
    assert a.region_name == "甲县" and a.year == 2020 and a.layer == "redline"
    assert row(df, "430102").area_km2 == 0
    assert row(df, OUTSIDE).area_km2 == 0
    assert np.isnan(row(df, OUTSIDE).share_of_region_pct)


def test_overlaps_counted_once(regions):
    lay = layer_of([box(110.1, 30.1, 110.5, 30.5), box(110.3, 30.1, 110.7, 30.5), box(110.3, 30.1, 110.7, 30.5)])
    df = protected_area(regions, lay, layer_name="redline", year=2020)
    assert row(df, "430101").area_km2 == pytest.approx(km2(110.1, 30.1, 110.7, 30.5), rel=REL)


def test_touching_polygons_are_not_double_or_under_counted(regions):
    # A tessellation: shared edges have no area, so the sum of the tiles is the union.
    tiles = [box(110 + i * 0.1, 30.2, 110.1 + i * 0.1, 30.3) for i in range(5)]
    df = protected_area(regions, layer_of(tiles), layer_name="redline", year=2020)
    assert row(df, "430101").area_km2 == pytest.approx(km2(110.0, 30.2, 110.5, 30.3), rel=REL)


def test_geometry_collection_members_overlapping_count_once(regions):
    gc = shapely.GeometryCollection([box(110.1, 30.1, 110.5, 30.5), box(110.3, 30.1, 110.7, 30.5),
                                     shapely.LineString([(110, 30), (111, 31)])])
    df = protected_area(regions, layer_of([gc]), layer_name="redline", year=2020)
    assert row(df, "430101").area_km2 == pytest.approx(km2(110.1, 30.1, 110.7, 30.5), rel=REL)

def test_hole_is_subtracted(regions):
    donut = Polygon(box(110.1, 30.1, 110.9, 30.9).exterior.coords, [box(110.3, 30.3, 110.5, 30.6).exterior.coords])
    df = protected_area(regions, layer_of([donut]), layer_name="redline", year=2020)
    exp = km2(110.1, 30.1, 110.9, 30.9) - km2(110.3, 30.3, 110.5, 30.6)
    assert row(df, "430101").area_km2 == pytest.approx(exp, rel=REL)


def test_multipolygon_parts_in_two_regions(regions):
    mp = MultiPolygon([box(110.1, 30.1, 110.2, 30.2), box(111.5, 30.5, 111.8, 30.9)])
    df = protected_area(regions, layer_of([mp]), layer_name="redline", year=2020)
    assert row(df, "430101").area_km2 == pytest.approx(km2(110.1, 30.1, 110.2, 30.2), rel=REL)
    assert row(df, "430102").area_km2 == pytest.approx(km2(111.5, 30.5, 111.8, 30.9), rel=REL)


def test_polygon_crossing_two_regions_is_split_exactly(regions):
    df = protected_area(regions, layer_of([box(110.75, 30.4, 111.5, 30.6)]), layer_name="redline", year=2020)
    assert row(df, "430101").area_km2 == pytest.approx(km2(110.75, 30.4, 111.0, 30.6), rel=REL)
    assert row(df, "430102").area_km2 == pytest.approx(km2(111.0, 30.4, 111.5, 30.6), rel=REL)
    assert row(df, OUTSIDE).area_km2 == pytest.approx(0, abs=1e-9)


def test_area_outside_every_region_is_reported(regions):
    lay = layer_of([box(111.8, 30.8, 112.3, 31.2), box(115, 20, 115.1, 20.1)])
    df = protected_area(regions, lay, layer_name="redline", year=2020)
    assert row(df, "430102").area_km2 == pytest.approx(km2(111.8, 30.8, 112, 31), rel=REL)
    exp_out = km2(111.8, 30.8, 112.3, 31.2) - km2(111.8, 30.8, 112, 31) + km2(115, 20, 115.1, 20.1)
    assert row(df, OUTSIDE).area_km2 == pytest.approx(exp_out, rel=REL)
    assert row(df, OUTSIDE).region_name == "区域外"


def test_layer_in_other_crs_is_reprojected(regions):
    # WGS84 and CGCS2000 coordinates agree to well below a metre; the area is taken on the regions' ellipsoid.
    lay = layer_of([shapely.segmentize(box(110.2, 30.2, 110.6, 30.7), 0.001)], crs=4326)
    df = protected_area(regions, lay, layer_name="redline", year=2020)
    assert row(df, "430101").area_km2 == pytest.approx(km2(110.2, 30.2, 110.6, 30.7), rel=1e-7)


def test_projected_crs_areas_use_the_areal_scale():
    # UTM 50N (WGS84): a 1 km square far from the central meridian; ground area = 1e6 m² / areal scale.
    crs = CRS.from_epsg(32650)
    x0, y0 = 300_000.0, 3_400_000.0
    regions = gpd.GeoDataFrame({"region_code": ["R"], "region_name": ["r"]},
                               geometry=[box(x0 - 5000, y0 - 5000, x0 + 5000, y0 + 5000)], crs=crs)
    sq = box(x0, y0, x0 + 1000, y0 + 1000)
    df = protected_area(regions, layer_of([sq], crs=crs), layer_name="redline", year=2020)
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x0 + 500, y0 + 500)
    scale = Proj(crs).get_factors(lon, lat).areal_scale
    assert row(df, "R").area_km2 == pytest.approx(1.0 / scale, rel=1e-6)
    assert abs(1.0 / scale - 1.0) > 1e-4  # the factor matters here: nominal 1 km² would fail the test


def test_types_each_dissolved_on_their_own(regions):
    lay = layer_of(
        [box(110.1, 30.1, 110.5, 30.5), box(110.3, 30.1, 110.7, 30.5), box(110.3, 30.3, 110.4, 30.4), box(110.9, 30.9, 111.0, 31.0)],
        type=["国家公园", "自然保护区", "自然保护区", None],
    )
    df = protected_area(regions, lay, layer_name="protected", year=2021)
    assert list(dict.fromkeys(df["type"])) == ["all", "国家公园", "自然保护区"]
    exp_all = km2(110.1, 30.1, 110.7, 30.5) + km2(110.9, 30.9, 111.0, 31.0)  # untyped counts in "all"
    assert row(df, "430101").area_km2 == pytest.approx(exp_all, rel=REL)
    assert row(df, "430101", "国家公园").area_km2 == pytest.approx(km2(110.1, 30.1, 110.5, 30.5), rel=REL)
    assert row(df, "430101", "自然保护区").area_km2 == pytest.approx(km2(110.3, 30.1, 110.7, 30.5), rel=REL)
    types_sum = row(df, "430101", "国家公园").area_km2 + row(df, "430101", "自然保护区").area_km2
    assert types_sum > row(df, "430101").area_km2 - km2(110.9, 30.9, 111.0, 31.0)  # overlap counted per type
    # asking for a type absent this year gives zero rows, not missing rows
    df2 = protected_area(regions, lay, layer_name="protected", year=2021, types=["国家公园", "自然公园"])
    assert row(df2, "430101", "自然公园").area_km2 == 0


def test_overlapping_regions_are_an_input_error():
    regions = gpd.GeoDataFrame({"region_code": ["A", "B"], "region_name": ["a", "b"]},
                               geometry=[box(110, 30, 111, 31), box(110.5, 30, 111.5, 31)], crs=CGCS)
    with pytest.raises(InputError, match="A/B"):
        protected_area(regions, layer_of([box(110.6, 30.1, 110.9, 30.2)]), layer_name="redline", year=2020)
    # protected area away from the overlap does not trip the check
    df = protected_area(regions, layer_of([box(110.1, 30.1, 110.2, 30.2)]), layer_name="redline", year=2020)
    assert row(df, "A").area_km2 == pytest.approx(km2(110.1, 30.1, 110.2, 30.2), rel=REL)


def test_duplicate_region_codes_rejected(regions):
    regions.loc[1, "region_code"] = "430101"
    with pytest.raises(InputError, match="430101"):
        protected_area(regions, layer_of([box(110.1, 30.1, 110.2, 30.2)]), layer_name="redline", year=2020)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 19), st.integers(0, 19), st.integers(1, 8), st.integers(1, 8)),
                min_size=1, max_size=12))
def test_random_boxes_conserve_and_match_exact_union(boxes):
    # Boxes on a 0.1° lattice over a 2 × 2 grid of 0.5° regions (plus margin outside). The exact area of
    # their union comes from coordinate compression: lattice cells covered by any box, each a lon/lat box.
    regions = gpd.GeoDataFrame(
        {"region_code": ["a", "b", "c", "d"], "region_name": list("abcd")},
        geometry=[box(110.0, 30.0, 110.5, 30.5), box(110.5, 30.0, 111.0, 30.5),
                  box(110.0, 30.5, 110.5, 31.0), box(110.5, 30.5, 111.0, 31.0)], crs=CGCS)
    covered = np.zeros((30, 30), dtype=bool)
    geoms = []
    for i, j, w, h in boxes:
        covered[i:i + w, j:j + h] = True
        geoms.append(box(110 + i / 10, 30 + j / 10, 110 + (i + w) / 10, 30 + (j + h) / 10))
    exp = {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0, OUTSIDE: 0.0}
    for i, j in zip(*np.nonzero(covered)):
        code = OUTSIDE if i >= 10 or j >= 10 else "abcd"[(i >= 5) + 2 * (j >= 5)]
        exp[code] += km2(110 + i / 10, 30 + j / 10, 110 + (i + 1) / 10, 30 + (j + 1) / 10)
    df = protected_area(regions, layer_of(geoms), layer_name="redline", year=2020)
    for code, v in exp.items():
        assert row(df, code).area_km2 == pytest.approx(v, rel=1e-7, abs=1e-6)


# A piece left by an overlay along the 100°E border: valid, but with a near-self-touching spike. GEOS's
# polygon densifier (shapely.segmentize) makes it invalid by rounding and then "repairs" it with buffer(0)
# into two 1e-18 deg² slivers; the area must still be its full ≈ 7.16 km².
SPIKE_WKT = (
    "POLYGON ((99.98338836297866 25.133780170946153, 99.98268970215096 25.132928850264424, 99.98183838146"
    "923 25.132230189436736, 99.98086711670983 25.13171103760688, 99.97981323303279 25.131391345488538, 9"
    "9.97871723059676 25.131283398670533, 99.97762122816073 25.131391345488538, 99.97656734448368 25.1317"
    "1103760688, 99.97559607972428 25.132230189436736, 99.97474475904255 25.132928850264424, 99.974046098"
    "21486 25.133780170946153, 99.97352694638501 25.134751435705553, 99.97320725426667 25.135805319382605"
    ", 99.97309930744866 25.13690132181863, 99.97320725426667 25.137997324254655, 99.97352694638501 25.13"
    "9051207931708, 99.97404609821486 25.140022472691108, 99.97474475904255 25.140873793372837, 99.975596"
    "07972428 25.141572454200524, 99.97646653759257 25.142037723624505, 99.97573329203328 25.143409529579"
    "47, 99.9749481617021 25.145997757417835, 99.97468305563251 25.14868942451317, 99.9749481617021 25.15"
    "1381091608503, 99.97573329203328 25.15396931944687, 99.97700827450775 25.156354643883933, 99.9787241"
    "1226402 25.15844539823928, 99.98081486661937 25.16016123599555, 99.98320019105643 25.161436218470016"
    ", 99.9857884188948 25.162221348801204, 99.98848008599013 25.16248645487079, 99.99117175308547 25.162"
    "221348801204, 99.99375998092384 25.161436218470016, 99.9961453053609 25.16016123599555, 99.998236059"
    "71625 25.15844539823928, 99.99995189747251 25.156354643883933, 100.00122687994698 25.15396931944687,"
    " 100 25.15626465038473, 100 25.156, 100 25.155, 100 25.154, 100 25.153, 100 25.152, 100 25.151, 100 "
    "25.15, 100 25.149, 100 25.148, 100 25.147, 100 25.146, 100 25.145, 100 25.144, 100 25.143, 100 25.14"
    "2, 100 25.141114198641606, 100.00122687994698 25.14340952957947, 99.99995189747251 25.14102420514240"
    "4, 99.99823605971625 25.138933450787057, 99.9961453053609 25.13721761303079, 99.99375998092384 25.13"
    "5942630556322, 99.99117175308547 25.135157500225134, 99.98848008599013 25.134892394155546, 99.985788"
    "4188948 25.135157500225134, 99.98417880823582 25.13564577028043, 99.98390751480851 25.13475143570555"
    "3, 99.98338836297866 25.133780170946153))"
)


def test_area_survives_densify_failure_on_border_spike():
    spike = shapely.from_wkt(SPIKE_WKT)
    assert spike.is_valid and shapely.segmentize(spike, 0.0005).area < 1e-12  # the GEOS behaviour guarded against
    exp = geod_area_km2(list(spike.exterior.coords), n=50)
    assert exp == pytest.approx(7.1636, rel=1e-4)
    regions = gpd.GeoDataFrame({"region_code": ["E"], "region_name": ["e"]},
                               geometry=[box(100.0, 25.0, 100.5, 25.5)], crs=CGCS)
    df = protected_area(regions, layer_of([spike]), layer_name="redline", year=2020)
    assert row(df, OUTSIDE).area_km2 == pytest.approx(exp, rel=1e-7)
    assert row(df, "E").area_km2 == pytest.approx(0, abs=1e-9)


def test_dissolve_returns_interior_disjoint_pieces():
    geoms = np.array([box(0, 0, 2, 2), box(1, 1, 3, 3), box(3, 1, 4, 2), box(10, 10, 11, 11)], dtype=object)
    pieces = dissolve(geoms)
    assert sum(p.area for p in pieces) == pytest.approx(shapely.union_all(geoms).area)
    assert len(pieces) == 3  # the touching square stays its own piece
    assert len(dissolve(geoms, merge_touching=True)) == 2


# ------------------------------------------------------------------------------------------ read_layer


def write_layer(tmp_path, gdf, name="layer.gpkg", **kw):
    p = tmp_path / name
    gdf.to_file(p, engine="pyogrio", **kw)
    return p


def test_bow_tie_is_repaired_reported_and_counted(tmp_path, regions):
    bow = Polygon([(110.2, 30.2), (110.4, 30.4), (110.4, 30.2), (110.2, 30.4), (110.2, 30.2)])
    # a ring that touches itself: two boxes joined at one corner
    eight = Polygon([(110.5, 30.5), (110.6, 30.5), (110.6, 30.6), (110.7, 30.6), (110.7, 30.7), (110.6, 30.7),
                     (110.6, 30.6), (110.5, 30.6), (110.5, 30.5)])
    good = box(111.2, 30.2, 111.3, 30.3)
    assert not bow.is_valid and not eight.is_valid
    p = write_layer(tmp_path, layer_of([bow, eight, good], code=["r1", "r2", "r3"]))
    lay, rep = read_layer(p, id_field="code", name="red-line layer")
    assert rep["repaired"] == 2 and rep["features"] == 3 and rep["dropped"] == 0
    assert list(lay["id"]) == ["r1", "r2", "r3"]
    assert lay.geometry.is_valid.all()
    df = protected_area(regions, lay, layer_name="redline", year=2020)
    tri_left = geod_area_km2([(110.2, 30.2), (110.3, 30.3), (110.2, 30.4), (110.2, 30.2)])
    tri_right = geod_area_km2([(110.4, 30.2), (110.4, 30.4), (110.3, 30.3), (110.4, 30.2)])
    exp = tri_left + tri_right + km2(110.5, 30.5, 110.6, 30.6) + km2(110.6, 30.6, 110.7, 30.7)
    assert row(df, "430101").area_km2 == pytest.approx(exp, rel=1e-6)
    assert row(df, "430102").area_km2 == pytest.approx(km2(111.2, 30.2, 111.3, 30.3), rel=REL)


def test_read_layer_default_ids_types_and_drops(tmp_path):
    lay = layer_of([box(0, 0, 1, 1), box(2, 2, 3, 3), shapely.LineString([(0, 0), (1, 1)])],
                   kind=["国家公园", " ", "自然公园"])
    p = tmp_path / "l.geojson"
    lay.to_file(p, driver="GeoJSON", engine="pyogrio")
    out, rep = read_layer(p, type_field="kind")
    assert list(out["id"]) == ["1", "2"]  # 1-based feature numbers; the line (feature 3) is dropped
    assert rep["dropped"] == 1 and rep["dropped_ids"] == ["3"] and rep["untyped"] == 1
    assert out["type"].iloc[0] == "国家公园" and pd.isna(out["type"].iloc[1])


def test_read_layer_integer_ids_keep_no_decimal(tmp_path):
    p = write_layer(tmp_path, layer_of([box(0, 0, 1, 1), box(1, 1, 2, 2)], fid_no=[7.0, 12.0]))
    out, _ = read_layer(p, id_field="fid_no")
    assert list(out["id"]) == ["7", "12"]


def test_read_layer_errors(tmp_path):
    p = write_layer(tmp_path, layer_of([box(0, 0, 1, 1)], code=["a"], name=["x"]))
    with pytest.raises(InputError, match=r"no field 'bh'.*available fields: code, name"):
        read_layer(p, id_field="bh")
    with pytest.raises(InputError, match="does not exist"):
        read_layer(tmp_path / "nope.gpkg")
    # no CRS
    nocrs = tmp_path / "nocrs.geojson"
    nocrs.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                     "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}))
    shp = tmp_path / "nocrs.shp"
    with warnings.catch_warnings():  # pyogrio warns that the file will have no CRS: that is the point
        warnings.simplefilter("ignore", UserWarning)
        gpd.read_file(nocrs).set_crs(None, allow_override=True).to_file(shp, engine="pyogrio")
    with pytest.raises(InputError, match="no coordinate reference system"):
        read_layer(shp)
    # empty layer
    empty = write_layer(tmp_path, gpd.GeoDataFrame({"a": []}, geometry=[], crs=CGCS), name="empty.gpkg")
    with pytest.raises(InputError, match="no features"):
        read_layer(empty)
    # several layers and none named
    multi = tmp_path / "multi.gpkg"
    layer_of([box(0, 0, 1, 1)]).to_file(multi, layer="a", engine="pyogrio")
    layer_of([box(0, 0, 1, 1)]).to_file(multi, layer="b", engine="pyogrio")
    with pytest.raises(InputError, match=r"2 layers \(a, b\)"):
        read_layer(multi)
    with pytest.raises(InputError, match="layer 'c' not found; available layers: a, b"):
        read_layer(multi, layer="c")
    assert len(read_layer(multi, layer="b")[0]) == 1
    # not a vector file
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a geopackage")
    with pytest.raises(InputError, match="cannot be read as a vector file"):
        read_layer(junk)


# ------------------------------------------------------------------------------------------ protected_change


def areas_table(rows):
    return pd.DataFrame(rows, columns=["region_code", "region_name", "year", "layer", "type", "area_km2"])


def test_change_verdicts_and_tolerance_boundary():
    t = areas_table([
        ("r", "R", 2018, "redline", "all", 10.0),
        ("r", "R", 2019, "redline", "all", 9.5),   # prev − 0.5: exactly at tolerance → 不减少
        ("r", "R", 2020, "redline", "all", 9.2),   # within tolerance of prev (9.5) but 0.8 below base → 减少
        ("r", "R", 2021, "redline", "all", 12.0),
        ("s", "S", 2018, "redline", "all", 1.1),
        ("s", "S", 2019, "redline", "all", 1.0),   # 1.1 − 0.1 = 1.0000000000000002 in floats: still at boundary
        ("s", "S", 2020, "redline", "all", 0.999),
    ])
    with pytest.raises(InputError, match="tolerance"):
        protected_change(t, tolerance_km2=-1)
    out = protected_change(t, tolerance_km2=0.5)
    r = out[out.region_code == "r"].set_index("year")
    assert list(r.verdict) == ["基准年", "不减少", "减少", "不减少"]
    assert r.loc[2019, "area_prev_km2"] == 10.0 and r.loc[2019, "delta_km2"] == pytest.approx(-0.5)
    assert r.loc[2019, "delta_pct"] == pytest.approx(-5.0)
    assert r.loc[2020, "area_base_km2"] == 10.0 and r.loc[2020, "delta_base_km2"] == pytest.approx(-0.8)
    assert np.isnan(r.loc[2018, "area_prev_km2"])
    s = protected_change(t, tolerance_km2=0.1)
    s = s[s.region_code == "s"].set_index("year")
    assert list(s.verdict) == ["基准年", "不减少", "减少", "减少"]
    # s has no 2021 row while the layer has that year: counted as 0 km², flagged, and judged
    assert s.loc[2021, "area_km2"] == 0 and bool(s.loc[2021, "filled"]) and not s.loc[2020, "filled"]
    # zero tolerance: exactly equal is 不减少, any decrease is 减少
    z = protected_change(areas_table([("r", "R", 2018, "redline", "all", 5.0), ("r", "R", 2019, "redline", "all", 5.0),
                                      ("r", "R", 2020, "redline", "all", 4.999999)]))
    assert list(z.verdict) == ["基准年", "不减少", "减少"]


def test_change_baseline_year_and_missing_type_counts_as_zero():
    t = areas_table([
        ("r", "R", 2017, "protected", "all", 3.0),
        ("r", "R", 2018, "protected", "all", 5.0),
        ("r", "R", 2019, "protected", "all", 4.0),
        ("r", "R", 2017, "protected", "自然公园", 1.0),
        ("r", "R", 2018, "protected", "自然公园", 1.0),
    ])
    out = protected_change(t, baseline_year=2018)
    a = out[out["type"] == "all"].set_index("year")
    assert list(a.verdict) == ["基准年前", "基准年", "减少"]
    assert a.loc[2019, "delta_base_km2"] == pytest.approx(-1.0)
    p = out[out["type"] == "自然公园"].set_index("year")
    assert p.loc[2019, "area_km2"] == 0 and bool(p.loc[2019, "filled"]) and p.loc[2019, "verdict"] == "减少"
    with pytest.raises(InputError, match="baseline_year 2016"):
        protected_change(t, baseline_year=2016)
    with pytest.raises(InputError, match="more than one row"):
        protected_change(pd.concat([t, t.iloc[:1]]))


def test_change_from_protected_area_tables(regions):
    y1 = protected_area(regions, layer_of([box(110.1, 30.1, 110.5, 30.5)]), layer_name="redline", year=2020)
    y2 = protected_area(regions, layer_of([box(110.1, 30.1, 110.4, 30.5)]), layer_name="redline", year=2021)
    out = protected_change(pd.concat([y1, y2]))
    r = out[(out.region_code == "430101") & (out.year == 2021)].iloc[0]
    assert r.delta_km2 == pytest.approx(-km2(110.4, 30.1, 110.5, 30.5), rel=REL)
    assert r.verdict == "减少"
    assert out[(out.region_code == "430102") & (out.year == 2021)].iloc[0].verdict == "不减少"


# ------------------------------------------------------------------------------------------ change layers


@pytest.fixture
def year_pair():
    prev = layer_of([box(110.1, 30.1, 110.3, 30.3), box(110.5, 30.1, 110.6, 30.2),
                     box(111.0, 30.0, 111.1 + 2e-10, 30.1)], id=["1", "2", "4"])
    curr = layer_of([box(110.1, 30.1, 110.4, 30.3), box(110.8, 30.1, 110.9, 30.2),
                     box(111.0, 30.0, 111.1, 30.1)], id=["1", "3", "4"])
    return prev, curr


def test_change_layers_known_added_and_removed(year_pair):
    prev, curr = year_pair
    sliver = lonlat_box_area_m2(111.1, 30.0, 111.1 + 2e-10, 30.1, CGCS)
    assert 0 < sliver < 1.0  # the redrawn edge of polygon 4 is a sliver below the 1 m² default
    ch = change_layers(prev, curr, year_prev=2020, year=2021)
    assert list(ch.columns) == ["change", "year_from", "year_to", "area_km2", "ids", "geometry"]
    added = ch[ch.change == "added"].set_index("ids")
    removed = ch[ch.change == "removed"].set_index("ids")
    assert sorted(added.index) == ["1", "3"] and list(removed.index) == ["2"]
    assert added.loc["1", "area_km2"] == pytest.approx(km2(110.3, 30.1, 110.4, 30.3), rel=REL)
    assert added.loc["3", "area_km2"] == pytest.approx(km2(110.8, 30.1, 110.9, 30.2), rel=REL)
    assert removed.loc["2", "area_km2"] == pytest.approx(km2(110.5, 30.1, 110.6, 30.2), rel=REL)
    assert (ch.year_from == 2020).all() and (ch.year_to == 2021).all() and ch.crs.equals(prev.crs)
    # with a sliver threshold of zero the redrawn edge shows up as a removal
    ch0 = change_layers(prev, curr, year_prev=2020, year=2021, sliver_m2=0.0)
    assert "4" in set(ch0[ch0.change == "removed"].ids)


def test_change_layers_ids_join_all_sources_of_a_part():
    prev = layer_of([box(0.0, 0.0, 0.1, 0.1)], id=["1"], crs=4326)
    curr = layer_of([box(0.2, 0.0, 0.3, 0.1), box(0.25, 0.0, 0.4, 0.1), box(0.4, 0.0, 0.5, 0.1), box(0.0, 0.0, 0.1, 0.1)],
                    id=["10", "9", "2", "1"], crs=4326)
    ch = change_layers(prev, curr, year_prev=2020, year=2021)
    assert list(ch.ids) == ["2,9,10"]  # overlapping and touching parts merge; ids sorted naturally
    assert ch.area_km2.iloc[0] == pytest.approx(km2(0.2, 0.0, 0.5, 0.1, 4326), rel=REL)


def test_change_status(year_pair):
    prev, curr = year_pair
    st_ = change_status(prev, curr, year_prev=2020, year=2021).set_index("id")
    assert st_.status.to_dict() == {"1": "reshaped", "2": "removed", "3": "added", "4": "unchanged"}
    assert st_.loc["1", "changed_km2"] == pytest.approx(km2(110.3, 30.1, 110.4, 30.3), rel=REL)
    assert st_.loc["2", "area_prev_km2"] == pytest.approx(km2(110.5, 30.1, 110.6, 30.2), rel=REL)
    assert np.isnan(st_.loc["2", "area_km2"])


def test_write_change_gpkg_atomic(tmp_path, year_pair):
    prev, curr = year_pair
    ch = change_layers(prev, curr, year_prev=2020, year=2021)
    status = change_status(prev, curr, year_prev=2020, year=2021)
    target = tmp_path / "change_2020_2021.gpkg"
    write_change_gpkg(target, {"added": ch[ch.change == "added"], "removed": ch[ch.change == "removed"],
                               "none": ch.iloc[0:0], "status": status})
    names = [n for n, _ in pyogrio.list_layers(target)]
    assert sorted(names) == ["added", "layer_styles", "none", "removed", "status"]  # + QGIS styles
    back = gpd.read_file(target, layer="added")
    assert sorted(back.ids) == ["1", "3"]
    assert sorted(gpd.read_file(target, layer="status").status) == ["added", "removed", "reshaped", "unchanged"]
    before = target.read_bytes()

    with pytest.raises(Exception):
        write_change_gpkg(target, {"added": ch, "bad": "not a frame"})
    assert target.read_bytes() == before  # failed write leaves the old file
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # and no temporaries
    with pytest.raises(InputError, match=".gpkg"):
        write_change_gpkg(tmp_path / "x.shp", {"a": ch})


# ------------------------------------------------------------------------------------------ config


def test_config_model_and_resolve_paths(tmp_path):
    for y in (2018, 2020):
        (tmp_path / f"redline_{y}.gpkg").write_bytes(b"")
    cfg = ProtectedConfig.model_validate({
        "redline": {"path": "redline_{year}.gpkg", "id_field": "BSM", "tolerance_km2": 0.01},
        "protected": {"path": "pa_{year}.gpkg", "type_field": "LX", "carry_forward": True, "baseline_year": 2018},
    })
    assert set(cfg.layers()) == {"redline", "protected"}
    assert cfg.redline.carry_forward is False and cfg.protected.baseline_year == 2018 and cfg.sliver_m2 == 1.0
    rl = cfg.redline
    with pytest.raises(InputError) as err:
        resolve_paths(rl, [2018, 2019, 2020, 2021], base_dir=tmp_path, name="redline")
    msg = "\n".join(err.value.lines())
    assert "redline_2019.gpkg" in msg and "redline_2021.gpkg" in msg and "carry_forward" in msg
    assert "redline_2018" not in msg
    carry = rl.model_copy(update={"carry_forward": True})
    paths = resolve_paths(carry, [2021, 2018, 2019, 2020], base_dir=tmp_path)
    assert paths == {2018: tmp_path / "redline_2018.gpkg", 2019: tmp_path / "redline_2018.gpkg",
                     2020: tmp_path / "redline_2020.gpkg", 2021: tmp_path / "redline_2020.gpkg"}
    notes = carried_notes(resolve_sources(carry, [2018, 2019], base_dir=tmp_path), "redline")
    assert len(notes) == 1 and "2019" in notes[0] and "redline_2018.gpkg" in notes[0]
    with pytest.raises(InputError, match="no earlier year"):
        resolve_paths(carry, [2017, 2018], base_dir=tmp_path)


def test_config_model_rejects_bad_values():
    with pytest.raises(ValidationError, match=r"\{year\}"):
        ProtectedLayerConfig(path="redline.gpkg")
    with pytest.raises(ValidationError):
        ProtectedLayerConfig(path="r_{year}_{zone}.gpkg")
    with pytest.raises(ValidationError):
        ProtectedLayerConfig(path="r_{year}.gpkg", tolerance_km2=-1)
    with pytest.raises(ValidationError):
        ProtectedConfig.model_validate({"redline": {"path": "r_{year}.gpkg", "tolerence_km2": 1}})


# ------------------------------------------------------------------------------------------ CLI


def test_cli_protected_area(tmp_path, regions, capsys):
    reg = write_layer(tmp_path, regions.rename(columns={"region_code": "XZQDM", "region_name": "XZQMC"}),
                      name="regions.gpkg")
    lay = write_layer(tmp_path, layer_of([box(110.75, 30.4, 111.5, 30.6)], LX=["自然保护区"]), name="pa.gpkg")
    out = tmp_path / "out" / "pa_2020.csv"
    rc = main(["protected-area", "--regions", str(reg), "--id-field", "XZQDM", "--name-field", "XZQMC",
               "--layer-file", str(lay), "--year", "2020", "--layer-name", "protected", "--type-field", "LX",
               "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out, dtype={"region_code": str})
    assert row(df, "430101", "自然保护区").area_km2 == pytest.approx(km2(110.75, 30.4, 111.0, 30.6), rel=1e-9)
    assert row(df, "430102").region_name == "乙县"
    rc = main(["protected-area", "--regions", str(reg), "--id-field", "CODE", "--layer-file", str(lay),
               "--year", "2020", "--layer-name", "protected", "--out", str(out)])
    assert rc == 2
    assert "no field 'CODE'" in capsys.readouterr().err
