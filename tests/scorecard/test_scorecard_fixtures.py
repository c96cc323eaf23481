"""Small hand-made inputs of the scorecard stage (a finished run of three townships over 2019–2021).

Imported by the other ``test_scorecard_*`` modules. Numbers are chosen to sit on the judgement boundaries:
甲镇's 林草覆盖率 is exactly its 40% target in 2021 (strict ">" → 不达标), its red line shrinks in 2021.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry import box

from gep.io.tables import write_table

YEARS = [2019, 2020, 2021]
SCRIPT_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("x")'
CODES = ["430124001", "430124002", "430124003"]
NAMES = ["甲镇", FORMULA_NAME, SCRIPT_NAME]


def regions() -> gpd.GeoDataFrame:
    """Three 0.1° × 0.1° townships side by side near 28.2°N (CGCS2000)."""
    return gpd.GeoDataFrame({"region_code": CODES, "region_name": NAMES},
                            geometry=[box(112.5 + 0.1 * k, 28.2, 112.6 + 0.1 * k, 28.3) for k in range(3)],
                            crs=4490)


def coverage_table() -> pd.DataFrame:
    rows = []
    spec = {  # code: (terrain type, target, coverage per year)
        CODES[0]: ("丘陵区", 40.0, [48.79, 49.0, 40.0]),
        CODES[1]: ("山区", 60.0, [65.0, 66.0, 67.5]),
        CODES[2]: ("平原区", 18.0, [15.0, 17.0, 19.25]),
    }
    for code, name in zip(CODES, NAMES):
        ttype, target, covs = spec[code]
        for y, c in zip(YEARS, covs):
            land = 100.0
            meets = c > target
            gap = 0.0 if meets else max(target - c, 0.0)
            rows.append({"region_code": code, "region_name": name, "year": y, "terrain_type": ttype,
                         "terrain_rule": "share", "region_area_km2": land, "water_km2": 1.0, "land_area_km2": land,
                         "forest_km2": c * 0.8, "grass_km2": c * 0.2, "nodata_km2": 0.0, "coverage_pct": c,
                         "target_pct": target, "comparison": ">", "meets_target": meets, "gap_pct": gap,
                         "gap_km2": gap * land / 100, "standard": "national"})
    return pd.DataFrame(rows)


def protected_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    areas = {CODES[0]: [76.36, 76.36, 75.0], CODES[1]: [10.0, 12.0, 12.0], CODES[2]: [0.0, 0.0, 0.0]}
    area_rows, change_rows = [], []
    for code, name in zip(CODES, NAMES):
        a = areas[code]
        for k, y in enumerate(YEARS):
            area_rows.append({"region_code": code, "region_name": name, "year": y, "layer": "redline", "type": "all",
                              "area_km2": a[k], "share_of_region_pct": a[k]})
            prev = a[k - 1] if k else float("nan")
            verdict = "基准年" if k == 0 else ("不减少" if a[k] >= prev and a[k] >= a[0] else "减少")
            change_rows.append({"region_code": code, "region_name": name, "layer": "redline", "type": "all",
                                "year": y, "area_km2": a[k], "year_prev": YEARS[k - 1] if k else None,
                                "area_prev_km2": prev, "delta_km2": a[k] - prev if k else float("nan"),
                                "delta_pct": (a[k] - prev) / prev * 100 if k and prev else float("nan"),
                                "year_base": 2019, "area_base_km2": a[0], "delta_base_km2": a[k] - a[0],
                                "verdict": verdict})
    for y in YEARS:
        area_rows.append({"region_code": "__outside__", "region_name": "区域外", "year": y, "layer": "redline",
                          "type": "all", "area_km2": 3.0, "share_of_region_pct": float("nan")})
    return pd.DataFrame(area_rows), pd.DataFrame(change_rows)


def gep_table() -> pd.DataFrame:
    vals = {CODES[0]: [1000.0, 1100.0, 1050.0], CODES[1]: [2000.0, 2000.0, 2100.0], CODES[2]: [500.0, 520.0, 540.0]}
    rows = []
    for code, name in zip(CODES, NAMES):
        v = vals[code]
        for k, y in enumerate(YEARS):
            ch = (v[k] - v[k - 1]) / v[k - 1] * 100 if k else float("nan")
            verdict = "无数据" if k == 0 else ("达标" if ch >= 0 else "不达标")
            rows.append({"region_code": code, "region_name": name, "year": y, "gep_yuan": v[k] * 1e4 * 100,
                         "gep_constant_yuan": v[k] * 1e4 * 100, "land_area_km2": 100.0, "gep_per_km2_wan_yuan": v[k],
                         "change_pct": ch, "verdict": verdict})
    return pd.DataFrame(rows)


def change_gpkg(path: Path) -> Path:
    """A protected_change.gpkg with added/removed parts and one attribute-only status table."""
    crs = 4490
    layers = {
        "redline_2019_2020": gpd.GeoDataFrame(
            {"change": ["added"], "year_from": [2019], "year_to": [2020], "area_km2": [2.0], "ids": ["7"]},
            geometry=[box(112.62, 28.22, 112.64, 28.24)], crs=crs),
        "redline_2020_2021": gpd.GeoDataFrame(
            {"change": ["removed"], "year_from": [2020], "year_to": [2021], "area_km2": [1.36], "ids": ["3"]},
            geometry=[box(112.52, 28.22, 112.53, 28.23)], crs=crs),
    }
    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG", promote_to_multi=True)
    pyogrio.write_dataframe(pd.DataFrame({"id": ["3"], "status": ["removed"]}), path,
                            layer="redline_2020_2021_status", driver="GPKG")
    return path


def provenance(path: Path) -> Path:
    rec = {"created": "2024-05-01T00:00:00+00:00", "gep_commit": "abc123",
           "config": {"name": "示范县 <b>demo</b>", "years": YEARS},
           "inputs": {"resources/demo/county.gpkg": "3ebda9155d93835bf566c040cbbd1024a93b04339b97bbdd52b6b00418ec01e7"},
           "outputs": {}, "versions": {"gep": "0.1.0", "python": "3.11"}, "platform": "Linux"}
    path.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    return path


def run_dir(root: Path, *, with_gep: bool = True, level: str = "township") -> dict:
    """A finished run's folder: tables/LEVEL/*.csv|parquet, maps/protected_change.gpkg, provenance.json."""
    tables = root / "tables" / level
    write_table(coverage_table(), tables, "forest_grass_coverage", units={"coverage_pct": "%"},
                extra={"class_scheme": "clcd", "class_scheme_source": "Yang & Huang (2021) CLCD"})
    pa, pc = protected_tables()
    write_table(pa, tables, "protected_area")
    write_table(pc, tables, "protected_change")
    if with_gep:
        write_table(gep_table(), tables, "gep_summary")
    (root / "maps").mkdir(parents=True, exist_ok=True)
    gpkg = change_gpkg(root / "maps" / "protected_change.gpkg")
    reg = regions()
    reg_path = root / "regions.gpkg"
    pyogrio.write_dataframe(reg.rename(columns={"region_code": "code", "region_name": "name"}), reg_path,
                            layer="townships", driver="GPKG")
    return {"root": root, "tables": tables, "change_gpkg": gpkg, "provenance": provenance(root / "provenance.json"),
            "regions": reg, "regions_path": reg_path}


def test_fixture_tables_are_consistent():
    """The hand-made tables agree with themselves (so failures elsewhere are not fixture bugs)."""
    cov = coverage_table()
    assert (cov["meets_target"] == (cov["coverage_pct"] > cov["target_pct"])).all()
    _, pc = protected_tables()
    assert set(pc["verdict"]) == {"基准年", "不减少", "减少"}
