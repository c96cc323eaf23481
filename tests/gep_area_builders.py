"""Shared builders of the tests of the GEP services computed from land-cover areas and region tables
(flood regulation, air and water purification, pest control): two townships of one county with class areas
written by hand, so every expected quantity is arithmetic on the numbers below."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

COUNTY = "430124000000"
TOWN_A, TOWN_B = "430124100000", "430124200000"
YEAR = 2020

#: km² per (township, CLCD class)
AREA_KM2 = {
    TOWN_A: {2: 10.0, 4: 4.0, 5: 2.5, 9: 3.0, 1: 6.0},
    TOWN_B: {2: 1.0, 4: 8.0, 5: 0.2, 9: 0.5, 8: 2.0},
}


def townships() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"region_code": [TOWN_A, TOWN_B], "region_name": ["甲镇", "乙乡"]},
                            geometry=[box(112.0, 28.0, 112.1, 28.1), box(112.1, 28.0, 112.2, 28.1)], crs="EPSG:4326")


def county() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"region_code": [COUNTY], "region_name": ["示范县"]},
                            geometry=[box(112.0, 28.0, 112.2, 28.1)], crs="EPSG:4326")


def landcover_area(level: str, years=(YEAR,)) -> pd.DataFrame:
    """The landcover_area rows of the township or county level (county = the sum of its townships)."""
    rows = []
    for y in years:
        if level == "township":
            for rc, name in ((TOWN_A, "甲镇"), (TOWN_B, "乙乡")):
                rows += [{"region_code": rc, "region_name": name, "year": y, "lc_code": c, "area_km2": a}
                         for c, a in AREA_KM2[rc].items()]
        else:
            total: dict[int, float] = {}
            for per in AREA_KM2.values():
                for c, a in per.items():
                    total[c] = total.get(c, 0.0) + a
            rows += [{"region_code": COUNTY, "region_name": "示范县", "year": y, "lc_code": c, "area_km2": a}
                     for c, a in total.items()]
    return pd.DataFrame(rows)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def gep_config(tmp: Path, services: list[str], **tables: Path) -> dict:
    (tmp / "deflator.csv").write_text("year,index\n2010,100\n2019,120\n2020,125\n2021,130\n", encoding="utf-8")
    return {"services": services, "deflator": str(tmp / "deflator.csv"),
            "tables": {k: str(v) for k, v in tables.items()}}
