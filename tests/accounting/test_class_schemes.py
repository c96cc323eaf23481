"""The built-in land-cover class schemes in src/gep/data/classes/ load and map forest/grass as docs/methods.md §2 says."""

from __future__ import annotations

import pytest
import yaml

from gep.accounting.classes import CATEGORIES, load_scheme
from gep.core.resources import available

BUILTINS = ("clcd", "worldcover", "modis_igbp", "modis_mcd12c1", "sandiao", "sandiao_wetland")
LINCAO = frozenset({"forest", "shrub", "grass"})
# 三调 codes that the survey's work classification moves into 湿地
SANDIAO_WET = {303: "forest", 304: "forest", 306: "shrub", 402: "grass"}


def test_all_builtins_present():
    assert set(BUILTINS) <= set(available("classes"))


@pytest.mark.parametrize("name", BUILTINS)
def test_scheme_loads_with_metadata(name):
    scheme = load_scheme(name)
    codes = [c.code for c in scheme.classes]
    assert len(codes) == len(set(codes))
    assert all(c.category in CATEGORIES for c in scheme.classes)
    assert all(c.name_zh and c.name_en for c in scheme.classes)
    raw = yaml.safe_load(open(scheme.path, encoding="utf-8"))
    for key in ("name", "title", "source", "status", "nodata"):
        assert raw.get(key) not in (None, ""), f"{name}: {key} missing"
    assert raw["name"] == name
    assert raw["status"] in ("V", "V2", "P")
    assert scheme.nodata not in codes


def test_worldcover():
    s = load_scheme("worldcover")
    cat = {c.code: c.category for c in s.classes}
    assert sorted(cat) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    assert sorted(s.codes_in(LINCAO)) == [10, 20, 30, 95]
    assert cat[95] == "forest" and cat[100] == "other" and cat[90] == "wetland"
    assert s.nodata == 0


def test_modis_igbp():
    s = load_scheme("modis_igbp")
    cat = {c.code: c.category for c in s.classes}
    assert sorted(cat) == list(range(1, 18))
    assert [k for k, v in cat.items() if v == "forest"] == [1, 2, 3, 4, 5, 8]
    assert [k for k, v in cat.items() if v == "shrub"] == [6, 7]
    assert [k for k, v in cat.items() if v == "grass"] == [9, 10]
    assert (cat[11], cat[12], cat[13], cat[15], cat[16], cat[17]) == (
        "wetland", "cropland", "built", "snow", "barren", "water")
    assert s.nodata == 255


def test_modis_mcd12c1_is_igbp_with_water_as_0():
    """MCD12C1's Majority_Land_Cover_Type_1: 0 = water, 1-16 the IGBP classes as in MCD12Q1 (where water is 17)."""
    c1, q1 = load_scheme("modis_mcd12c1"), load_scheme("modis_igbp")
    cat = {c.code: c.category for c in c1.classes}
    assert sorted(cat) == list(range(0, 17)) and c1.nodata == 255
    assert cat[0] == "water" and 17 not in cat
    q1_by_code = q1.by_code()
    for c in c1.classes:
        if c.code:  # 1-16: same names and categories as MCD12Q1's LC_Type1
            q = q1_by_code[c.code]
            assert (c.name_zh, c.name_en, c.category) == (q.name_zh, q.name_en, q.category)
    assert c1.by_code()[0].name_zh == q1_by_code[17].name_zh == "水体"
    assert sorted(c1.codes_in(LINCAO)) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_sandiao_lincao_codes():
    s = load_scheme("sandiao")
    cat = {c.code: c.category for c in s.classes}
    for code in (301, 302, 307):
        assert cat[code] == "forest"
    assert cat[305] == "shrub"
    for code in (401, 403, 404):
        assert cat[code] == "grass"
    for code in (101, 102, 103):
        assert cat[code] == "cropland"
    for code in (201, 202, 203, 204):
        assert cat[code] == "other"
    for code in (1101, 1102, 1103, 1104):
        assert cat[code] == "water"
    for code in (603, 1105, 1106, 1108):
        assert cat[code] == "wetland"
    assert cat[1110] == "snow"
    assert all(cat[c] == "built" for c in (701, 702, 601, 1003, 1004))
    assert all(cat[c] == "barren" for c in (1204, 1205, 1206, 1207))
    for code, category in SANDIAO_WET.items():
        assert cat[code] == category
    assert s.nodata == 0


def test_sandiao_variants_differ_exactly_in_four_codes():
    a = {c.code: c for c in load_scheme("sandiao").classes}
    b = {c.code: c for c in load_scheme("sandiao_wetland").classes}
    assert a.keys() == b.keys()
    differ = {code for code in a if a[code] != b[code]}
    assert differ == set(SANDIAO_WET)
    for code in SANDIAO_WET:
        assert b[code].category == "wetland"
        assert (a[code].name_zh, a[code].name_en) == (b[code].name_zh, b[code].name_en)
    lincao_a = set(load_scheme("sandiao").codes_in(LINCAO))
    lincao_b = set(load_scheme("sandiao_wetland").codes_in(LINCAO))
    assert lincao_a - lincao_b == set(SANDIAO_WET)
    assert lincao_b == {301, 302, 305, 307, 401, 403, 404}
