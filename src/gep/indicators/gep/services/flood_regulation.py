"""洪水调蓄 flood regulation (docs/methods.md §4.2.7): storage of lakes, reservoirs and marshes, m³/a.

- lakes (one row each in the water-body table): C = e^a · A^b · T (10⁴ m³; A lake area km², T renewals per
  year; a = 6.636, b = 0.678, the plateau-lake model of the drafting group's account);
- reservoirs (one row each): share × total capacity (share 0.35);
- marshes: depth × area of the marsh classes of the land cover (0.3 m × m²).

Valued at the reservoir storage cost per m³ (price ``water_storage``). The water-body table does not change
between years: every accounting year counts the same lakes and reservoirs.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gep.config.gep_services import spec
from gep.indicators.gep.params import ParamFile, code_set, scalar
from gep.indicators.gep.services.area import (M2_PER_HM2, AreaContext, Part, RegionIndex, number, place_row,
                                              read_csv)
from gep.indicators.gep.services.base import ParamContext, Price, Service, Valuing
from gep.core.errors import InputError

log = logging.getLogger("gep.indicators.gep")

COLUMNS = ("region_code", "name", "kind", "capacity_10k_m3", "area_km2", "renewals")
KINDS = ("lake", "reservoir")
M3_PER_10K_M3 = 1e4


def lake_storage_m3(area_km2, renewals, ln_a: float = 6.636, b: float = 0.678):
    """C = e^ln_a · A^b · T (10⁴ m³) → m³ (docs/methods.md §4.2.7)."""
    return math.exp(ln_a) * np.power(np.asarray(area_km2, dtype=np.float64), b) * np.asarray(renewals) * M3_PER_10K_M3


@dataclass(frozen=True)
class FloodParams:
    file: ParamFile
    ln_a: float
    b: float
    reservoir_share: float
    marsh_depth_m: float
    marsh_codes: list[int]
    lake_codes: list[int]


def load(ctx: ParamContext) -> FloodParams:
    pf = ctx.file("flood")
    model = pf.data.get("lake_model")
    if not isinstance(model, dict):
        raise InputError(f"{pf.path}: key 'lake_model' must be {{ln_a: …, b: …, unit: …, status: …, source: …}}")
    ln_a = scalar(ParamFile(pf.name, pf.path, pf.status, pf.source, model), "ln_a")
    b = scalar(ParamFile(pf.name, pf.path, pf.status, pf.source, model), "b", minimum=0.0)
    return FloodParams(pf, ln_a, b, scalar(pf, "reservoir_share", minimum=0.0, maximum=1.0),
                       scalar(pf, "marsh_depth_m", minimum=0.0), code_set(pf, "marsh_classes")[0],
                       code_set(pf, "lake_classes")[0])


@dataclass(frozen=True)
class WaterBodies:
    """The checked water-body table: one row per lake or reservoir placed in a region of the level."""

    path: Path
    rows: pd.DataFrame   # region (index in the level), name, kind, capacity_10k_m3, area_km2, renewals


def read_water_bodies(path: Path, index: RegionIndex) -> WaterBodies:
    """Read and check a water-body table; every problem (unknown region code, unknown kind, missing or
    negative capacity, area or renewals, duplicate row) one line naming the file, line and value."""
    df = read_csv(path, COLUMNS, "water-body")
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    out = []
    for i, row in df.iterrows():
        line = i + 2
        where = f"{path}: line {line}"
        code = str(row["region_code"]).strip()
        name = str(row["name"]).strip()
        kind = str(row["kind"]).strip().lower()
        how, region = place_row(index, code, where, problems)
        key = (code, name, kind)
        if key in seen:
            problems.append(f"{where}: duplicate row for {kind} '{name}' in {code} (also line {seen[key]}); keep one")
            continue
        seen[key] = line
        if kind not in KINDS:
            problems.append(f"{where}: kind '{row['kind']}' is not one of {', '.join(KINDS)}")
            continue
        if name == "":
            problems.append(f"{where}: name is empty; name the {kind}")
        cap = number(row["capacity_10k_m3"], where, "capacity_10k_m3", problems, required=kind == "reservoir")
        area = number(row["area_km2"], where, "area_km2", problems, required=kind == "lake")
        ren = number(row["renewals"], where, "renewals", problems, required=kind == "lake")
        if how == "coarser":
            problems.append(f"{where}: {kind} '{name}' is listed under {code}, which contains several regions of "
                            f"this level; give the code of the region it lies in")
        if region is None:
            continue
        out.append({"region": region, "name": name, "kind": kind, "capacity_10k_m3": cap, "area_km2": area,
                    "renewals": ren})
    if problems:
        raise InputError.many(problems)
    return WaterBodies(path, pd.DataFrame(out, columns=["region", "name", "kind", "capacity_10k_m3", "area_km2",
                                                         "renewals"]))


def _per_region(rows: pd.DataFrame, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    np.add.at(out, rows["region"].to_numpy(dtype=np.int64), values)
    return out


def parts(ctx: AreaContext, p: FloodParams, year: int) -> list[Part]:
    wb = ctx.table("water_bodies", read_water_bodies)
    n = len(ctx.region_codes)
    lakes = wb.rows[wb.rows["kind"] == "lake"]
    res = wb.rows[wb.rows["kind"] == "reservoir"]
    lake_m3 = _per_region(lakes, lake_storage_m3(lakes["area_km2"].to_numpy(float),
                                                 lakes["renewals"].to_numpy(float), p.ln_a, p.b), n)
    res_m3 = _per_region(res, res["capacity_10k_m3"].to_numpy(float) * M3_PER_10K_M3 * p.reservoir_share, n)
    marsh_m3 = ctx.class_area_hm2(p.marsh_codes, year) * M2_PER_HM2 * p.marsh_depth_m
    _check_lake_area(ctx, p, lakes, year, wb.path)
    return [
        Part("lakes", "湖泊", lake_m3, "m³", "water_storage",
             f"C = e^{p.ln_a:g}·A^{p.b:g}·T per lake (10⁴ m³; A km², T renewals/a) from {wb.path.name}; valued "
             f"at reservoir storage cost"),
        Part("reservoirs", "水库", res_m3, "m³", "water_storage",
             f"{p.reservoir_share:g} × total capacity per reservoir from {wb.path.name}; valued at reservoir "
             f"storage cost"),
        Part("marshes", "沼泽", marsh_m3, "m³", "water_storage",
             f"{p.marsh_depth_m:g} m × area of land-cover class(es) {', '.join(map(str, p.marsh_codes))}; valued "
             f"at reservoir storage cost"),
    ]


def _check_lake_area(ctx: AreaContext, p: FloodParams, lakes: pd.DataFrame, year: int, path: Path) -> None:
    """Warn where the lakes listed in a region are larger than the water the land cover shows there."""
    listed = _per_region(lakes, lakes["area_km2"].to_numpy(float), len(ctx.region_codes))
    water_km2 = ctx.class_area_hm2(p.lake_codes, year) / 100.0
    for rc, a, w in zip(ctx.region_codes, listed, water_km2):
        if a > 1.1 * w and a > 0:
            log.warning("%s: lakes of region %s total %.3f km², but the land cover of %d shows %.3f km² of water; "
                        "check the lake areas", path, rc, a, year, w)


def price(v: Valuing) -> Price:
    return Price(*v.prices.get("water_storage", "flood_regulation"))


def method(v: Valuing) -> str:
    return "lakes e^a·A^b·T + reservoirs share × capacity + marshes depth × area; × reservoir storage cost"


def source(v: Valuing) -> str:
    return f"{v.params.file.cite()}; {v.prices.file.cite()}; {Path(v.cfg.tables['water_bodies']).name}"


SERVICE = Service(spec("flood_regulation"), load=load, price=price, method=method, source=source, parts=parts)
