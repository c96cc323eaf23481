"""The report's notes say where the region terrain types come from (the official table's source), which
regions are borderline (docs/methods.md §2.3) and where codes not in the class scheme became nodata (§2.6)."""

from __future__ import annotations

import json

import pandas as pd
from test_scorecard_fixtures import CODES, NAMES, YEARS, coverage_table, run_dir

from gep.io.tables import write_table
from gep.scorecard import build_outputs


def test_terrain_and_unknown_code_notes(tmp_path, capsys):
    r = run_dir(tmp_path / "run")
    cov = coverage_table()
    cov["terrain_source"] = "computed: relief shares on the DEM grid"
    cov["terrain_borderline"] = False
    cov["terrain_note"] = ""
    first = cov["region_code"] == CODES[0]
    cov.loc[first, ["terrain_rule", "terrain_source"]] = ["override: 省林业局名单 2023", "省林业局名单 2023"]
    third = cov["region_code"] == CODES[2]
    cov.loc[third, "terrain_borderline"] = True
    cov.loc[third, "terrain_note"] = "平原区 by a narrow margin: mountain share 48.48% is 1.52 pp from 50%"
    write_table(cov, r["tables"], "forest_grass_coverage")
    ra = pd.DataFrame({"region_code": CODES, "region_name": NAMES, "year": YEARS[0],
                       "polygon_area_km2": 100.0, "valid_km2": [99.5, 100.0, 100.0],
                       "nodata_km2": [0.5, 0.0, 0.0], "unknown_codes_km2": [0.25, 0.0, 0.0],
                       "unknown_codes_pct": [0.25, 0.0, 0.0], "outside_raster_km2": 0.0, "area_check_pct": 0.0})
    write_table(ra, r["tables"], "region_area")
    build_outputs(r["tables"], tmp_path / "out", regions=r["regions"], years=YEARS, maps=False, report=False)
    notes = json.loads((tmp_path / "out" / "lianshan_index.meta.json").read_text(encoding="utf-8"))["notes"]
    official = [n for n in notes if n.startswith("地形类型采用官方名单")]
    assert official == [n for n in notes if "省林业局名单 2023（1 个区域）；其余 2 个区域" in n]
    border = [n for n in notes if n.startswith("地形类型临界")]
    assert len(border) == 1 and CODES[2] in border[0] and "48.48% is 1.52 pp from 50%" in border[0]
    unknown = [n for n in notes if n.startswith("土地覆盖中有不在分类体系内的代码")]
    assert len(unknown) == 1 and f"{CODES[0]} 甲镇 {YEARS[0]}：0.2500 km²（0.250%）" in unknown[0]
    assert "地形类型临界" in capsys.readouterr().err  # into the job's log too
