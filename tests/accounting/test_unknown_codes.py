"""`landcover.unknown_codes: nodata` is never silent: the area it turns into nodata is reported per region (km²
and share of the region) in region_area, in the account job's log and in the report's notes; it stays in
the 林草覆盖率 denominator as nodata (docs/methods.md §2.6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

import badinput_builders as b
from gep import config

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid
ROWS, COLS = slice(5, 8), slice(4, 7)  # 3 × 3 cells of code 42, inside the first region


def _cells_m2() -> float:
    """Ground area of the code-42 cells: their lon/lat box, densified, geodesic area."""
    w, n = b.WEST + COLS.start * b.RES, b.NORTH - ROWS.start * b.RES
    box = shapely.box(w, n - 3 * b.RES, w + 3 * b.RES, n)
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(box, 0.0005))[0])


def _region_m2(i: int) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(b.region_boxes()[i], 0.0005))[0])


@pytest.fixture()
def cfg(tmp_path):
    d = b.build_valid_set(tmp_path / "in")
    for year in b.YEARS:
        arr = b.landcover_array(year)
        arr[ROWS, COLS] = 42  # not a CLCD code
        b.write_landcover(d, year, arr)
    c = b.valid_config(d)
    c["landcover"]["unknown_codes"] = "nodata"
    return config.load(b.write_config(d, c))


def test_unknown_codes_are_reported_per_region(cfg, capsys):
    from gep.accounting.inputs import load_regions
    from gep.accounting.landcover import region_area, region_areas, unknown_codes_notes
    from gep.indicators.coverage.stage import terrain_area
    from gep.io.run_paths import crosstab_path
    from gep.vector.regions import region_frame
    from gep.workflow.pipeline import account, open_landcover

    regions = load_regions(cfg, b.LEVEL)
    for year in b.YEARS:
        account(cfg, b.LEVEL, year, crosstab_path(cfg, b.LEVEL, year))
    err = capsys.readouterr().err
    assert "codes not in the class scheme counted as nodata (landcover.unknown_codes: nodata) in 1 region(s): " \
           f"{b.CODES[0]} {_cells_m2() / 1e6:.6f} km²" in err
    tab = pd.read_parquet(crosstab_path(cfg, b.LEVEL, 2019))
    ra = region_area(tab, region_areas(regions, open_landcover(cfg, 2019).grid), region_frame(regions), 2019)
    ra = ra.set_index("region_code")
    first, second = ra.loc[b.CODES[0]], ra.loc[b.CODES[1]]
    assert first.unknown_codes_km2 == pytest.approx(_cells_m2() / 1e6, rel=1e-6)
    assert first.unknown_codes_pct == pytest.approx(100 * _cells_m2() / _region_m2(0), rel=1e-6)
    assert first.nodata_km2 == pytest.approx(first.unknown_codes_km2)  # the region has no other nodata
    assert (second.unknown_codes_km2, second.unknown_codes_pct) == (0.0, 0.0)
    assert (first.valid_km2 + first.nodata_km2) == pytest.approx(first.polygon_area_km2, rel=1e-6)
    notes = unknown_codes_notes(ra.reset_index())
    assert len(notes) == 1 and f"{b.CODES[0]} 甲镇 2019：{_cells_m2() / 1e6:.4f} km²" in notes[0]
    assert unknown_codes_notes(ra.reset_index().assign(unknown_codes_km2=0.0)) == []
    # indicator 7 counts them as nodata: in the denominator, never 林草
    ta = terrain_area(cfg, b.LEVEL)
    assert "unknown" not in set(ta["lc_code"])
    nodata = ta[(ta.region_code == b.CODES[0]) & (ta.year == 2019) & (ta.lc_code == "nodata")]
    assert nodata["area_km2"].sum() == pytest.approx(_cells_m2() / 1e6, rel=1e-6)
    assert np.isclose(ta[(ta.region_code == b.CODES[0]) & (ta.year == 2019)]["area_km2"].sum(),
                      _region_m2(0) / 1e6, rtol=1e-6)
