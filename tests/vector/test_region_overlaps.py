"""Overlap check of a region layer: the coverage-validity shortcut finds exactly what a full pairwise check finds."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from gep.vector.regions import overlaps


def layer(*geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"region_code": [f"R{i}" for i in range(len(geoms))]}, geometry=list(geoms),
                            crs="EPSG:4490")


def test_clean_tiling_has_no_overlaps():
    assert overlaps(layer(box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 2, 2))) == []


def test_shared_edge_with_unmatched_vertices_is_not_an_overlap():
    # the right polygon has an extra vertex on the shared edge: not a clean coverage, but no overlap
    right = Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (1, 0.5)])
    assert overlaps(layer(box(0, 0, 1, 1), right)) == []


def test_gap_is_not_an_overlap():
    assert overlaps(layer(box(0, 0, 1, 1), box(1.1, 0, 2, 1))) == []


@pytest.mark.parametrize("second, share", [
    (box(0.5, 0, 1.5, 1), 0.5),                 # half of each
    (box(0.25, 0.25, 0.75, 0.75), 1.0),         # wholly inside the first, no edges crossing
    (box(0, 0, 1, 1), 1.0),                     # duplicate
    (MultiPolygon([box(3, 3, 4, 4), box(0.9, 0, 1.9, 1)]), 0.1),  # one part of a multipolygon overlaps
])
def test_overlaps_are_found_with_their_share(second, share):
    found = overlaps(layer(box(0, 0, 1, 1), second))
    assert len(found) == 1
    a, b, s = found[0]
    assert (a, b) == ("R0", "R1")
    assert s == pytest.approx(share, rel=1e-9)


def test_overlap_below_tolerance_is_ignored():
    sliver = box(0.9999999, 0, 2, 1)  # 1e-7 of the smaller region
    assert overlaps(layer(box(0, 0, 1, 1), sliver)) == []
    assert overlaps(layer(box(0, 0, 1, 1), sliver), tolerance=1e-8)[0][:2] == ("R0", "R1")


def test_each_pair_reported_once_among_many():
    geoms = [box(i, 0, i + 1, 1) for i in range(20)] + [box(4.5, 0, 6.5, 1)]
    found = overlaps(layer(*geoms))
    assert sorted((a, b) for a, b, _ in found) == [("R4", "R20"), ("R5", "R20"), ("R6", "R20")]
