"""林草覆盖率 from a survey-based area table: the numerator's weights per row replace the category rules, and
the numerator is named in the tables (docs/methods.md §2.8)."""

from __future__ import annotations

import pandas as pd
import pytest

from gep.core.errors import InputError
from gep.indicators.coverage.index import coverage_by_terrain, forest_grass_coverage, region_terrain_type

LABEL = "forest_grass (designated shrub share 0.4)"


def _table(label=LABEL) -> pd.DataFrame:
    """One region, one year: 0301 4 km² (plain), 0305 灌木林地 2 km² (hill), 0307 其他林地 1 km², 0404 1.5 km²,
    cropland 1 km², water 0.5 km² (plain). forest_grass with σ = 0.4: 林 = 4 + 0.4·2 = 4.8, 草 = 1.5."""
    rows = [(1, "301", "forest", 4.0, 1.0, 0.0), (2, "305", "shrub", 2.0, 0.4, 0.0),
            (2, "307", "forest", 1.0, 0.0, 0.0), (1, "404", "grass", 1.5, 0.0, 1.0),
            (1, "103", "cropland", 1.0, 0.0, 0.0), (1, "1101", "water", 0.5, 0.0, 0.0)]
    df = pd.DataFrame(rows, columns=["terrain_code", "lc_code", "category", "area_km2", "forest_weight",
                                     "grass_weight"])
    return df.assign(region_code="R1", region_name="甲乡", year=2021, numerator=label)


def test_weights_give_the_numerator_hand_computed():
    ta = _table()
    cov = forest_grass_coverage(ta, region_terrain_type(ta), "national").iloc[0]
    assert cov["forest_km2"] == pytest.approx(4.8)  # the category rule would count 4 + 2 + 1 = 7
    assert cov["grass_km2"] == pytest.approx(1.5)
    assert cov["region_area_km2"] == pytest.approx(10.0)
    assert cov["coverage_pct"] == pytest.approx(63.0)  # 100 × 6.3 / 10
    assert cov["numerator"] == LABEL
    # without the weights the same rows are counted by category: 林 7, 草 1.5
    plain = forest_grass_coverage(ta.drop(columns=["forest_weight", "grass_weight", "numerator"]),
                                  region_terrain_type(ta), "national").iloc[0]
    assert plain["coverage_pct"] == pytest.approx(85.0) and "numerator" not in plain.index


def test_by_terrain_class_and_land_denominator():
    from gep.config.coverage import CoverageConfig

    by = coverage_by_terrain(_table(), CoverageConfig(denominator="land")).set_index("terrain_class")
    # 平原: 林 4, 草 1.5 over 4 + 1.5 + 1 + 0.5 − water 0.5 = 6.5; 丘陵: 0.8 over 3
    assert by.loc["平原", "coverage_pct"] == pytest.approx(100 * 5.5 / 6.5, abs=1e-6)
    assert by.loc["丘陵", "coverage_pct"] == pytest.approx(100 * 0.8 / 3, abs=1e-6)
    assert set(by["numerator"]) == {LABEL}


def test_mixed_numerators_and_partial_weights_are_refused():
    mixed = pd.concat([_table(), _table("forestland_grass").assign(year=2022)])
    with pytest.raises(InputError, match="mixes numerators"):
        forest_grass_coverage(mixed, region_terrain_type(mixed), "national")
    with pytest.raises(InputError, match="has forest_weight, grass_weight but not all of"):
        coverage_by_terrain(_table().drop(columns="numerator"))
