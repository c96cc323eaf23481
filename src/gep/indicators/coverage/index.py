"""Indicator 7 (林草覆盖率) from the terrain × land-cover area table, docs/methods.md §2.

Input everywhere is the tidy table ``terrain_area`` (one row per region × year × terrain class × land-cover
class) with columns:

- ``region_code`` (str), ``region_name`` (str), ``year`` (int),
- ``terrain_code`` (int: 0 no DEM, 1 平原 … 6 极大起伏山地, see :data:`gep.indicators.coverage.terrain.TERRAIN_CLASSES`),
- ``lc_code`` (int, or the string "nodata"), ``category`` (class-scheme category, or "nodata"),
- ``area_km2`` (float, ellipsoidal km²).

Steps: :func:`region_terrain_type` (山区/丘陵区/平原区/干旱半干旱地区 per region) → :func:`forest_grass_coverage`
(coverage, target from a standard, judgement, gap) → :func:`coverage_by_terrain` and :func:`coverage_trend`.
Every output is sorted by stable keys so that tables are byte-identical across runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, Field

from gep.accounting.classes import CATEGORIES
from gep.config.coverage import CoverageConfig, load_coverage_config  # noqa: F401
from gep.core.errors import InputError
from gep.core.refdata import Reference, Text, load_reference
from gep.core.resources import available, resolve
from gep.indicators.judgement import DECIMALS, comparison_sign, meets, rounded
from gep.indicators.coverage.terrain import BROAD_OF_CODE, REGION_TYPES, TERRAIN_CLASSES, TerrainConfig

REQUIRED_COLUMNS = ("region_code", "region_name", "year", "terrain_code", "lc_code", "category", "area_km2")
#: optional columns of a survey-based table (gep.indicators.coverage.stage.survey_terrain_area): the share of
#: each row's area counted as 林 and as 草 by the survey's numerator, and the numerator's name
#: (docs/methods.md §2.8); when present they replace the category rules
NUMERATOR_COLUMNS = ("forest_weight", "grass_weight", "numerator")
NODATA = "nodata"

#: Broad terrain classes in report order, with their English names.
BROAD_CLASSES = (("平原", "plain"), ("丘陵", "hill"), ("山地", "mountain"), ("无DEM", "no_dem"))


@dataclass(frozen=True)
class CoverageStandard:
    """Targets of indicator 7 by region terrain type (%, e.g. 山区 → 60) and how they are compared.

    ``comparison`` is ">" (strict: coverage must exceed the target) or "≥" (coverage may equal it).
    """

    name: str
    targets_pct: Mapping[str, float]
    comparison: str
    title: str = ""
    source: str = ""
    status: str = ""
    path: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def meets(self, coverage_pct, target_pct):
        """True where ``coverage_pct`` meets ``target_pct`` (:func:`gep.indicators.judgement.meets`)."""
        return meets(coverage_pct, target_pct, self.comparison)

    def target_text(self) -> str:
        """The targets as the tables print them: 山区>60% 丘陵区>40% 平原区>18%."""
        return " ".join(f"{k}{self.comparison}{v:g}%" for k, v in self.targets_pct.items())


_STANDARD_PREFIX = "coverage_"
_LAYOUT = "the built-in standards/coverage_national.yaml (gep where --data)"


def _sign(v):
    sign = comparison_sign(v)
    if sign is None:
        raise ValueError(f"comparison {v!r} must be '>' or '≥'")
    return sign


def _percent(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 100:
        raise ValueError("is not a percentage in 0..100")
    return float(v)


class CoverageStandardFile(Reference):
    """Layout of a 林草覆盖率 standard file (src/gep/data/standards/coverage_national.yaml): the one place where
    indicator 7's targets by region terrain type are stored (the 两山指数 lists name the standard)."""

    name: Text | None = None
    title: Text = ""
    source: Text = ""
    status: Text = ""
    comparison: Annotated[str, BeforeValidator(_sign)]
    targets_pct: dict[Literal[REGION_TYPES], Annotated[float, BeforeValidator(_percent)]] = Field(  # type: ignore[valid-type]
        min_length=1)


def available_standards() -> list[str]:
    """Names of the built-in 林草覆盖率 standards (files ``src/gep/data/standards/coverage_NAME.yaml``)."""
    return available("standards", _STANDARD_PREFIX)


def standard_file(name_or_path: str | Path) -> Path:
    """The YAML file of a 林草覆盖率 standard given by built-in name (``national``) or by path."""
    return resolve(name_or_path, "standards", "coverage standard", prefix=_STANDARD_PREFIX)


def load_standard(name_or_path: str | Path) -> CoverageStandard:
    """Load a 林草覆盖率 standard by built-in name (``national``, ``guizhou``) or from a YAML file.

    File layout (:class:`CoverageStandardFile`): ``name``, ``title``, ``source``, ``status``, ``comparison``
    (">" or "≥"/">=") and ``targets_pct`` mapping region terrain types (山区, 丘陵区, 平原区, 干旱半干旱地区) to
    percentages. Every problem is an InputError line naming the file and the key.
    """
    f = load_reference("standards", name_or_path, CoverageStandardFile, what="coverage standard",
                       prefix=_STANDARD_PREFIX, layout=_LAYOUT)
    return CoverageStandard(
        name=f.name if f.name is not None else f.file.stem,
        targets_pct=dict(f.targets_pct),
        comparison=f.comparison,
        title=f.title,
        source=f.source,
        status=f.status,
        path=str(f.file),
        extra=f.extra,
    )


# ---------------------------------------------------------------------------------------------------------
# input checks


def _check_table(terrain_area: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in terrain_area.columns]
    if missing:
        raise InputError(f"terrain_area table lacks column(s) {', '.join(missing)}; "
                         f"it needs {', '.join(REQUIRED_COLUMNS)}")
    weights = [c for c in NUMERATOR_COLUMNS if c in terrain_area.columns]
    if weights and len(weights) != len(NUMERATOR_COLUMNS):
        raise InputError(f"terrain_area table has {', '.join(weights)} but not all of "
                         f"{', '.join(NUMERATOR_COLUMNS)}; give all three or none")
    df = terrain_area.loc[:, list(REQUIRED_COLUMNS) + weights].copy()
    df["region_code"] = df["region_code"].astype(str)
    df["region_name"] = df["region_name"].astype(str)
    df["category"] = df["category"].astype(str)
    try:
        df["year"] = df["year"].astype(np.int64)
        df["terrain_code"] = df["terrain_code"].astype(np.int64)
        df["area_km2"] = df["area_km2"].astype(np.float64)
    except (TypeError, ValueError) as err:
        raise InputError(f"terrain_area: year/terrain_code/area_km2 must be numbers ({err}); fix the table") from None
    bad_cat = sorted(set(df["category"]) - set(CATEGORIES) - {NODATA})
    if bad_cat:
        raise InputError(f"terrain_area: unknown category {', '.join(bad_cat)}; use one of "
                         f"{', '.join(CATEGORIES)} or '{NODATA}'")
    bad_t = sorted(set(df["terrain_code"]) - set(BROAD_OF_CODE))
    if bad_t:
        raise InputError(f"terrain_area: unknown terrain_code {bad_t}; codes are 0 (no DEM) and 1..6")
    if (~np.isfinite(df["area_km2"])).any() or (df["area_km2"] < 0).any():
        raise InputError("terrain_area: area_km2 has negative or non-finite values; recompute the area table")
    return df


def _names(df: pd.DataFrame) -> pd.DataFrame:
    """region_name per (region_code, year): the first in sorted order (names should not differ)."""
    return (df.sort_values(["region_code", "year", "region_name"], kind="mergesort")
              .drop_duplicates(["region_code", "year"])[["region_code", "year", "region_name"]])


def read_overrides(path: str | Path) -> pd.DataFrame:
    """Read an override table (CSV: region_code, terrain_type, source) with codes kept as strings."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"terrain-type override table '{path}' does not exist; check overrides_path")
    df = pd.read_csv(path, dtype=str, encoding="utf-8", keep_default_na=False)
    need = [c for c in ("region_code", "terrain_type") if c not in df.columns]
    if need:
        raise InputError(f"{path}: lacks column(s) {', '.join(need)}; columns are region_code,terrain_type,source")
    if "source" not in df.columns:
        df["source"] = path.name
    return df


# ---------------------------------------------------------------------------------------------------------
# region terrain type


def _relief_shares(df: pd.DataFrame, relief_areas: pd.DataFrame | None) -> pd.DataFrame:
    """Area (km²) of plain, hill, mountain and no DEM per (region_code, year) of ``df``: from ``relief_areas``
    (region × relief class on the DEM's own grid, one set for every year) when given, else summed over the
    rows of ``df`` (terrain as sampled on the land-cover grid). Column ``share_grid`` says which."""
    broad_of = {0: "nodata", 1: "plain", 2: "hill"}
    if relief_areas is None:
        broad = df["terrain_code"].map(broad_of).fillna("mountain")
        wide = (df.assign(broad=broad)
                  .pivot_table(index=["region_code", "year"], columns="broad", values="area_km2",
                               aggfunc="sum", fill_value=0.0))
        grid = "land-cover grid"
    else:
        ra = _check_relief_areas(relief_areas)
        broad = ra["terrain_code"].map(broad_of).fillna("mountain")
        per_region = (ra.assign(broad=broad)
                        .pivot_table(index="region_code", columns="broad", values="area_km2",
                                     aggfunc="sum", fill_value=0.0))
        keys = df[["region_code", "year"]].drop_duplicates()
        lacking = sorted(set(keys["region_code"]) - set(per_region.index))
        if lacking:
            raise InputError(f"relief-class areas on the DEM grid lack region(s) {', '.join(lacking[:20])}; "
                             "recompute them (gep stage terrain-areas) for the same regions")
        wide = keys.merge(per_region.reset_index(), on="region_code", how="left").set_index(["region_code", "year"])
        grid = "DEM grid"
    for col in ("plain", "hill", "mountain", "nodata"):
        if col not in wide.columns:
            wide[col] = 0.0
    wide = wide[["plain", "hill", "mountain", "nodata"]].astype(np.float64).reset_index()
    wide["share_grid"] = grid
    return wide.sort_values(["region_code", "year"], kind="mergesort").reset_index(drop=True)


def _check_relief_areas(relief_areas: pd.DataFrame) -> pd.DataFrame:
    """region_code (text), terrain_code (int) and area_km2 of a DEM-grid relief table (area_cm2 accepted)."""
    ra = relief_areas.copy()
    if "area_km2" not in ra.columns and "area_cm2" in ra.columns:
        ra["area_km2"] = ra["area_cm2"] / 1e10
    missing = [c for c in ("region_code", "terrain_code", "area_km2") if c not in ra.columns]
    if missing:
        raise InputError(f"relief-class area table lacks column(s) {', '.join(missing)}; pass the output of "
                         "gep.indicators.coverage.terrain.relief_class_areas")
    ra["region_code"] = ra["region_code"].astype(str)
    ra["terrain_code"] = ra["terrain_code"].astype(np.int64)
    bad_t = sorted(set(ra["terrain_code"]) - set(BROAD_OF_CODE))
    if bad_t:
        raise InputError(f"relief-class areas: unknown terrain_code {bad_t}; codes are 0 (no DEM) and 1..6")
    return ra


def _borderline(wide: pd.DataFrame, cfg: TerrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Regions whose computed type hangs on a share within ``cfg.borderline_margin_pp`` (strictly less) of a
    threshold that would change it (docs/methods.md §2.3): the mountain share against ``mountain_share_pct``
    (any type), mountain + hill against ``hill_mountain_share_pct`` (丘陵区 and 平原区; a 山区 does not depend
    on it). Returns the flags and a note per row ("" where not flagged)."""
    margin = cfg.borderline_margin_pp
    m_thr, mh_thr = cfg.mountain_share_pct, cfg.hill_mountain_share_pct
    flags = np.zeros(len(wide), dtype=bool)
    notes = np.full(len(wide), "", dtype=object)
    for i, r in enumerate(wide.itertuples()):
        if not r.computed_type:
            continue
        mh = r.mountain_pct + r.hill_pct
        near = []
        if abs(r.mountain_pct - m_thr) < margin:
            near.append(f"mountain share {r.mountain_pct:.2f}% is {abs(r.mountain_pct - m_thr):.2f} pp from "
                        f"{m_thr:g}%")
        if r.computed_type != "山区" and abs(mh - mh_thr) < margin:
            near.append(f"mountain + hill share {mh:.2f}% is {abs(mh - mh_thr):.2f} pp from {mh_thr:g}%")
        if near:
            flags[i] = True
            notes[i] = (f"{r.computed_type} by a narrow margin: {'; '.join(near)} (within {margin:g} pp): a "
                        "person should decide and give the type in terrain.overrides_path")
    return flags, notes


def region_terrain_type(terrain_area: pd.DataFrame, cfg: TerrainConfig | None = None,
                        precip_mean_mm: pd.Series | None = None,
                        overrides: pd.DataFrame | None = None, *,
                        relief_areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """Terrain type (山区 / 丘陵区 / 平原区 / 干旱半干旱地区) of every region and year, with the rule that decided.

    Shares (%) of plain (code 1), hill (2) and mountain (3–6) are taken over the DEM-covered area of the
    region (terrain_code 0 is reported as ``terrain_nodata_km2`` and left out of the shares). With
    ``relief_areas`` (region × relief class on the DEM's own grid: :func:`gep.indicators.coverage.terrain.
    relief_class_areas`, columns region_code, terrain_code, area_km2 or area_cm2) the shares come from it,
    the same for every year (docs/methods.md §2.3); without it they are summed over ``terrain_area``'s rows
    (terrain sampled on the land-cover grid, nodata land cover included). ``share_grid`` says which.
    With ``cfg.type_year == "first"`` (default) each region keeps the type computed from its first year in
    the table (``basis_year``), so a region's target does not change between years only because boundaries
    or nodata moved; ``"each"`` computes it per year.

    Rules, first match wins: (1) the ``overrides`` table (columns region_code, terrain_type, source) →
    "override: <source>"; (2) mean annual precipitation ``precip_mean_mm[region_code] < cfg.arid_precip_mm``
    → 干旱半干旱地区; (3) mountain share ≥ ``cfg.mountain_share_pct`` → 山区; (4) mountain + hill share ≥
    ``cfg.hill_mountain_share_pct`` → 丘陵区; (5) else 平原区. ``computed_type`` keeps the share-based type.
    ``overrides`` defaults to the CSV at ``cfg.overrides_path`` (see :func:`read_overrides`). The
    precipitation means (mm/year per region_code) are the caller's zonal statistics of ``cfg.precip_path``;
    this function does not read rasters.

    ``terrain_source`` names where the type comes from: the override table's source (e.g. 省林业局名单) or
    "computed: relief shares on the DEM grid" (or "… on the land-cover grid"). ``terrain_borderline`` is
    True where the type was computed from the shares and a deciding share lies less than
    ``cfg.borderline_margin_pp`` from a threshold that would change it; ``terrain_note`` then says which
    (rows decided by the override table or the precipitation rule are never borderline).

    Columns: region_code, region_name, year, basis_year, plain_km2, hill_km2, mountain_km2,
    terrain_nodata_km2, plain_pct, hill_pct, mountain_pct, precip_mm, share_grid, computed_type, terrain_type,
    terrain_rule, terrain_source, terrain_borderline, terrain_note; sorted by region_code, year. Raises InputError for override rows naming unknown regions
    or types, for precipitation missing for a region, and for regions without DEM coverage that no other
    rule decides.
    """
    cfg = cfg or TerrainConfig()
    df = _check_table(terrain_area)
    wide = _relief_shares(df, relief_areas)
    wide = wide.merge(_names(df), on=["region_code", "year"], how="left")
    if cfg.type_year == "first":
        first = wide.groupby("region_code", sort=True)["year"].transform("min")
        wide["basis_year"] = first.astype(np.int64)
        basis = wide[wide["year"] == wide["basis_year"]].set_index("region_code")
        for col in ("plain", "hill", "mountain", "nodata"):
            wide[col] = wide["region_code"].map(basis[col]).astype(np.float64)
    else:
        wide["basis_year"] = wide["year"].astype(np.int64)
    covered = wide["plain"] + wide["hill"] + wide["mountain"]
    with np.errstate(invalid="ignore", divide="ignore"):
        for col in ("plain", "hill", "mountain"):
            wide[f"{col}_pct"] = np.where(covered > 0, 100.0 * wide[col] / covered, np.nan)

    # share rule
    mpct = wide["mountain_pct"]
    mhpct = wide["mountain_pct"] + wide["hill_pct"]
    m_thr, mh_thr = cfg.mountain_share_pct, cfg.hill_mountain_share_pct
    computed = np.select([covered <= 0, mpct >= m_thr, mhpct >= mh_thr],
                         ["", "山区", "丘陵区"], default="平原区")
    rule = np.select([covered <= 0, mpct >= m_thr, mhpct >= mh_thr],
                     ["no DEM coverage", f"mountain share ≥ {m_thr:g}%", f"mountain + hill share ≥ {mh_thr:g}%"],
                     default=f"mountain + hill share < {mh_thr:g}%")
    wide["computed_type"] = computed
    wide["terrain_type"] = computed
    wide["terrain_rule"] = rule
    wide["terrain_source"] = np.where(covered > 0, "computed: relief shares on the " + wide["share_grid"], "")
    wide["terrain_borderline"], wide["terrain_note"] = _borderline(wide, cfg)

    regions = sorted(set(wide["region_code"]))
    # precipitation rule
    wide["precip_mm"] = np.nan
    if precip_mean_mm is not None and cfg.arid_precip_mm is not None:
        precip = pd.Series(precip_mean_mm, dtype=np.float64)
        precip.index = precip.index.astype(str)
        lacking = [r for r in regions if r not in precip.index or not np.isfinite(precip.get(r, np.nan))]
        if lacking:
            raise InputError(f"precipitation has no value for region(s) {', '.join(lacking)}; "
                             "give mean annual precipitation (mm) for every region")
        wide["precip_mm"] = wide["region_code"].map(precip).astype(np.float64)
        arid = wide["precip_mm"] < cfg.arid_precip_mm
        wide.loc[arid, "terrain_type"] = "干旱半干旱地区"
        wide.loc[arid, "terrain_rule"] = f"precipitation < {cfg.arid_precip_mm:g} mm"
        wide.loc[arid, "terrain_source"] = "computed: mean annual precipitation"
        wide.loc[arid, ["terrain_borderline", "terrain_note"]] = [False, ""]

    # override rule: always wins
    if overrides is None and cfg.overrides_path is not None:
        overrides = read_overrides(cfg.overrides_path)
    if overrides is not None and len(overrides):
        ov = overrides.copy()
        for col in ("region_code", "terrain_type"):
            if col not in ov.columns:
                raise InputError(f"override table lacks column '{col}'; columns are region_code,terrain_type,source")
        ov["region_code"] = ov["region_code"].astype(str).str.strip()
        ov["terrain_type"] = ov["terrain_type"].astype(str).str.strip()
        src = ov["source"].astype(str).str.strip() if "source" in ov.columns else pd.Series("", index=ov.index)
        ov["source"] = src.where(src != "", "override table")
        unknown = sorted(set(ov["region_code"]) - set(regions))
        if unknown:
            raise InputError(f"override table names region(s) not in the area table: {', '.join(unknown)}; "
                             "fix the region codes or remove those rows")
        bad = sorted(set(ov["terrain_type"]) - set(REGION_TYPES))
        if bad:
            raise InputError(f"override table: terrain_type {', '.join(bad)} is not one of {', '.join(REGION_TYPES)}")
        dup = sorted(ov.loc[ov["region_code"].duplicated(), "region_code"].unique())
        if dup:
            raise InputError(f"override table lists region(s) {', '.join(dup)} more than once; keep one row each")
        ov = ov.set_index("region_code")
        hit = wide["region_code"].isin(ov.index)
        wide.loc[hit, "terrain_type"] = wide.loc[hit, "region_code"].map(ov["terrain_type"])
        wide.loc[hit, "terrain_rule"] = "override: " + wide.loc[hit, "region_code"].map(ov["source"])
        wide.loc[hit, "terrain_source"] = wide.loc[hit, "region_code"].map(ov["source"])
        wide.loc[hit, ["terrain_borderline", "terrain_note"]] = [False, ""]

    undecided = sorted(set(wide.loc[wide["terrain_type"] == "", "region_code"]))
    if undecided:
        raise InputError(f"region(s) {', '.join(undecided)} have no DEM coverage, so no terrain type; "
                         "use a DEM that covers them or give their type in the override table")
    wide = wide.rename(columns={"plain": "plain_km2", "hill": "hill_km2", "mountain": "mountain_km2",
                                "nodata": "terrain_nodata_km2"})
    cols = ["region_code", "region_name", "year", "basis_year", "plain_km2", "hill_km2", "mountain_km2",
            "terrain_nodata_km2", "plain_pct", "hill_pct", "mountain_pct", "precip_mm", "share_grid",
            "computed_type", "terrain_type", "terrain_rule", "terrain_source", "terrain_borderline", "terrain_note"]
    out = wide[cols].sort_values(["region_code", "year"], kind="mergesort").reset_index(drop=True)
    out["year"] = out["year"].astype(np.int64)
    out["terrain_borderline"] = out["terrain_borderline"].astype(bool)
    return out


def terrain_notes(table: pd.DataFrame | None) -> list[str]:
    """Lines for the report and the job's log about the region terrain types of ``table`` (the output of
    :func:`region_terrain_type` or :func:`forest_grass_coverage`): where the types come from (the official
    table's sources, with counts of regions) and one line per region whose computed type is borderline
    (docs/methods.md §2.3). Empty when the table has no such columns."""
    if table is None or table.empty or "terrain_source" not in table.columns:
        return []
    notes: list[str] = []
    last = table.sort_values(["region_code", "year"], kind="mergesort").drop_duplicates("region_code", keep="last")
    official = last[last["terrain_rule"].astype(str).str.startswith("override: ")]
    if len(official):
        counts = official.groupby("terrain_source", sort=True).size()
        listed = "；".join(f"{src}（{n} 个区域）" for src, n in counts.items())
        listed_en = "; ".join(f"{src} ({n} region(s))" for src, n in counts.items())
        notes.append(f"地形类型采用官方名单：{listed}；其余 {len(last) - len(official)} 个区域按规则计算（DEM 网格上的"
                     f"起伏度面积占比，或年降水量）。Terrain types from the official table: {listed_en}; the other "
                     f"{len(last) - len(official)} region(s) computed by the rule (relief shares on the DEM grid, "
                     "or precipitation)")
    if "terrain_borderline" in table.columns:
        flagged = table[table["terrain_borderline"].astype(bool)]
        flagged = flagged.sort_values(["region_code", "year"], kind="mergesort").drop_duplicates("region_code")
        for r in flagged.itertuples():
            note = getattr(r, "terrain_note", "") or ""
            notes.append(f"地形类型临界：{r.region_name}（{r.region_code}）按起伏度占比为{r.terrain_type}，但判定占比距"
                         f"阈值很近，请人工确认并在 terrain.overrides_path 中给出。Borderline terrain type of "
                         f"{r.region_code} {r.region_name}: {note}")
    return notes


# ---------------------------------------------------------------------------------------------------------
# coverage


def _components(df: pd.DataFrame, cfg: CoverageConfig) -> pd.DataFrame:
    """Per-row components: forest, grass, water, nodata (areas in km²). A survey-based table's weights
    (:data:`NUMERATOR_COLUMNS`) give forest and grass; otherwise the categories do."""
    cat = df["category"]
    a = df["area_km2"]
    if "forest_weight" in df.columns:
        return df.assign(forest_km2=a * df["forest_weight"], grass_km2=a * df["grass_weight"],
                         water_km2=np.where(cat == "water", a, 0.0), nodata_km2=np.where(cat == NODATA, a, 0.0))
    forest_cats = {"forest", "shrub"}
    grass_cats = {"grass"}
    for key, cats in (("wetland", cfg.wetland_as), ("other", cfg.other_as)):
        if cats == "forest":
            forest_cats.add(key)
        elif cats == "grass":
            grass_cats.add(key)
    return df.assign(
        forest_km2=np.where(cat.isin(forest_cats), a, 0.0),
        grass_km2=np.where(cat.isin(grass_cats), a, 0.0),
        water_km2=np.where(cat == "water", a, 0.0),
        nodata_km2=np.where(cat == NODATA, a, 0.0),
    )


def _summarise(df: pd.DataFrame, keys: list[str], cfg: CoverageConfig) -> pd.DataFrame:
    parts = _components(df, cfg)
    g = (parts.groupby(keys, sort=True)[["area_km2", "water_km2", "forest_km2", "grass_km2", "nodata_km2"]]
              .sum().reset_index())
    denom = g["area_km2"] - (g["water_km2"] if cfg.denominator == "land" else 0.0)
    if not cfg.nodata_in_denominator:
        denom = denom - g["nodata_km2"]
    g["land_area_km2"] = denom.clip(lower=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.where(g["land_area_km2"] > 0, 100.0 * (g["forest_km2"] + g["grass_km2"]) / g["land_area_km2"],
                       np.nan)
    g["coverage_pct"] = rounded(cov, cfg.pct_decimals)
    return g


def _keyed(df: pd.DataFrame, columns: list[str], what: str, producer: str) -> pd.DataFrame:
    """``columns`` of a table made by ``producer``, with region_code as text and year as int64."""
    missing = sorted(set(columns) - set(df.columns))
    if missing:
        raise InputError(f"{what} table lacks {', '.join(missing)}; pass the output of {producer}")
    out = df[columns].copy()
    out["region_code"] = out["region_code"].astype(str)
    out["year"] = out["year"].astype(np.int64)
    return out


def _numerator_column(df: pd.DataFrame, g: pd.DataFrame) -> list[str]:
    """Name the survey numerator of ``df`` (if it has one) in column ``numerator`` of its summary ``g``."""
    if "numerator" not in df.columns:
        return []
    names = sorted(set(df["numerator"].astype(str)))
    if len(names) > 1:
        raise InputError(f"terrain_area table mixes numerators {', '.join(names)}; compute one table per numerator")
    g["numerator"] = names[0] if names else ""
    return ["numerator"]


def forest_grass_coverage(terrain_area: pd.DataFrame, types: pd.DataFrame,
                          standard: CoverageStandard | str | Path = "national",
                          cfg: CoverageConfig | None = None, *, min_mapped_pct: float = 0.0) -> pd.DataFrame:
    """林草覆盖率 (%) per region and year, its target by terrain type, the judgement and the gap.

    coverage_pct = 100 × (forest_km2 + grass_km2) / land_area_km2, rounded to ``cfg.pct_decimals``;
    forest/grass per :class:`CoverageConfig` (forest + shrub = 林, grass = 草). ``land_area_km2`` is the
    denominator: the full region area (``denominator="region"``) or region minus water (``"land"``), with
    nodata land cover kept in it unless ``nodata_in_denominator`` is False (nodata never counts as 林草, so
    it lowers coverage by default; see ``nodata_km2``).

    ``types`` is the output of :func:`region_terrain_type` (joined on region_code, year). ``target_pct`` comes
    from ``standard`` (a :class:`CoverageStandard` or a name/path for :func:`load_standard`); ``comparison``
    is ">" (strict: exactly the target is *not* met) or "≥". ``gap_pct`` = target − coverage (percentage
    points) when not met, else 0; ``gap_km2`` = gap_pct/100 × land_area_km2: the 林草 area still needed to
    *reach* the target. Under a strict ">" a region exactly at the target has gap 0 but does not meet it:
    any additional 林草 area above zero is enough.

    Partial data (docs/methods.md §2.4): ``mapped_pct`` = 100 × (region area − nodata) / region area;
    ``coverage_mapped_pct`` = the coverage over the mapped area alone (nodata out of the denominator);
    ``data_complete`` = mapped_pct ≥ ``min_mapped_pct`` (the config's ``checks.min_coverage_pct``). Where the data
    are incomplete the judgement is 数据不全, not 达标 / 不达标: the value over the mapped area is shown beside it.

    Columns: region_code, region_name, year, terrain_type, terrain_rule, terrain_source, terrain_borderline,
    terrain_note (from ``types``; "", False and "" when it lacks them), region_area_km2, water_km2,
    land_area_km2, forest_km2, grass_km2, nodata_km2, coverage_pct, target_pct, comparison, meets_target,
    gap_pct, gap_km2, standard, mapped_pct, coverage_mapped_pct, data_complete (and numerator, when the table
    has one); sorted by region_code, year.
    """
    cfg = cfg or CoverageConfig()
    std = standard if isinstance(standard, CoverageStandard) else load_standard(standard)
    df = _check_table(terrain_area)
    g = _summarise(df, ["region_code", "year"], cfg)
    g = g.merge(_names(df), on=["region_code", "year"], how="left")
    t = _keyed(types, ["region_code", "year", "terrain_type", "terrain_rule"], "terrain types",
               "region_terrain_type")
    # where the type comes from and whether a person should decide it (docs/methods.md §2.3)
    t["terrain_source"] = types["terrain_source"].astype(str).to_numpy() if "terrain_source" in types else ""
    t["terrain_borderline"] = (types["terrain_borderline"].astype(bool).to_numpy() if "terrain_borderline" in types
                               else False)
    t["terrain_note"] = types["terrain_note"].fillna("").astype(str).to_numpy() if "terrain_note" in types else ""
    g = g.merge(t, on=["region_code", "year"], how="left")
    lacking = sorted(set(g.loc[g["terrain_type"].isna(), "region_code"]))
    if lacking:
        raise InputError(f"no terrain type for region(s) {', '.join(lacking)} in some year; "
                         "run region_terrain_type on the same area table")
    no_target = sorted(set(g["terrain_type"]) - set(std.targets_pct))
    if no_target:
        regions = sorted(set(g.loc[g["terrain_type"].isin(no_target), "region_code"]))
        raise InputError(f"standard '{std.name}' has no target for {', '.join(no_target)} (regions "
                         f"{', '.join(regions)}); use a standard that has one (e.g. guizhou), add it to your own "
                         "standard file, or disable the rule that assigned it")
    empty = sorted(set(g.loc[~(g["land_area_km2"] > 0), "region_code"]))
    if empty:
        raise InputError(f"region(s) {', '.join(empty)} have no area in the denominator; check the area table")
    g["target_pct"] = g["terrain_type"].map(std.targets_pct).astype(np.float64)
    g["comparison"] = std.comparison
    ok = np.asarray(std.meets(g["coverage_pct"].to_numpy(), g["target_pct"].to_numpy()), dtype=bool)
    g["meets_target"] = ok
    gap = np.where(ok, 0.0, np.maximum(g["target_pct"] - g["coverage_pct"], 0.0))
    g["gap_pct"] = rounded(gap, cfg.pct_decimals)
    g["gap_km2"] = g["gap_pct"] * g["land_area_km2"] / 100.0
    g["standard"] = std.name
    g = g.rename(columns={"area_km2": "region_area_km2"})
    _partial_data(g, cfg, min_mapped_pct)
    cols = ["region_code", "region_name", "year", "terrain_type", "terrain_rule", "terrain_source",
            "terrain_borderline", "terrain_note", "region_area_km2", "water_km2",
            "land_area_km2", "forest_km2", "grass_km2", "nodata_km2", "coverage_pct", "target_pct",
            "comparison", "meets_target", "gap_pct", "gap_km2", "standard", "mapped_pct", "coverage_mapped_pct",
            "data_complete"]
    cols += _numerator_column(df, g)
    return g[cols].sort_values(["region_code", "year"], kind="mergesort").reset_index(drop=True)


def _partial_data(g: pd.DataFrame, cfg: CoverageConfig, min_mapped_pct: float) -> None:
    """Add mapped_pct, coverage_mapped_pct and data_complete to the per-region table ``g`` (in place)."""
    area = g["region_area_km2"].to_numpy(dtype=np.float64)
    nodata = g["nodata_km2"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        g["mapped_pct"] = rounded(np.where(area > 0, 100.0 * (area - nodata) / area, np.nan), cfg.pct_decimals)
        mapped_land = g["land_area_km2"].to_numpy(dtype=np.float64) - (nodata if cfg.nodata_in_denominator else 0.0)
        cov = 100.0 * (g["forest_km2"] + g["grass_km2"]).to_numpy(dtype=np.float64) / mapped_land
        g["coverage_mapped_pct"] = rounded(np.where(mapped_land > 0, cov, np.nan), cfg.pct_decimals)
    g["data_complete"] = g["mapped_pct"].to_numpy() >= float(min_mapped_pct)


def coverage_by_terrain(terrain_area: pd.DataFrame, cfg: CoverageConfig | None = None) -> pd.DataFrame:
    """林草覆盖率 (%) inside each broad terrain class (平原 / 丘陵 / 山地 / 无DEM) of every region and year.

    Same numerator and denominator rules as :func:`forest_grass_coverage`, applied to the area of the class
    within the region. Columns: region_code, region_name, year, terrain_class, terrain_class_en, area_km2,
    water_km2, land_area_km2, forest_km2, grass_km2, nodata_km2, coverage_pct (NaN where the denominator is
    0); only classes present in the table; sorted by region_code, year, class (plain, hill, mountain, no DEM).
    """
    cfg = cfg or CoverageConfig()
    df = _check_table(terrain_area)
    order = {zh: i for i, (zh, _) in enumerate(BROAD_CLASSES)}
    df["terrain_class"] = df["terrain_code"].map(BROAD_OF_CODE)
    g = _summarise(df, ["region_code", "year", "terrain_class"], cfg)
    g = g.merge(_names(df), on=["region_code", "year"], how="left")
    g["terrain_class_en"] = g["terrain_class"].map(dict(BROAD_CLASSES))
    g["_order"] = g["terrain_class"].map(order)
    g = g.sort_values(["region_code", "year", "_order"], kind="mergesort").reset_index(drop=True)
    cols = ["region_code", "region_name", "year", "terrain_class", "terrain_class_en", "area_km2", "water_km2",
            "land_area_km2", "forest_km2", "grass_km2", "nodata_km2", "coverage_pct"]
    return g[cols + _numerator_column(df, g)]


def coverage_trend(coverage: pd.DataFrame, decimals: int = DECIMALS) -> pd.DataFrame:
    """Change of 林草覆盖率 in percentage points since the previous year and since the first year.

    ``coverage`` is the output of :func:`forest_grass_coverage`. "Previous" is the previous year present for
    the region (gaps are allowed; ``previous_year`` says which). Columns: region_code, region_name, year,
    coverage_pct, first_year, previous_year (empty in the first year), change_prev_pp (NaN in the first
    year), change_first_pp (0 in the first year); rounded to ``decimals``; sorted by region_code, year.
    """
    c = _keyed(coverage, ["region_code", "region_name", "year", "coverage_pct"], "coverage",
               "forest_grass_coverage")
    c = c.sort_values(["region_code", "year"], kind="mergesort").reset_index(drop=True)
    grp = c.groupby("region_code", sort=False)
    c["first_year"] = grp["year"].transform("min").astype(np.int64)
    c["previous_year"] = grp["year"].shift(1).astype("Int64")
    first_cov = grp["coverage_pct"].transform("first")
    prev_cov = grp["coverage_pct"].shift(1)
    c["change_prev_pp"] = rounded(c["coverage_pct"] - prev_cov, decimals)
    c["change_first_pp"] = rounded(c["coverage_pct"] - first_cov, decimals)
    return c[["region_code", "region_name", "year", "coverage_pct", "first_year", "previous_year",
              "change_prev_pp", "change_first_pp"]]


__all__ = [
    "BROAD_CLASSES", "CoverageConfig", "CoverageStandard", "TERRAIN_CLASSES", "available_standards",
    "coverage_by_terrain", "coverage_trend", "forest_grass_coverage", "load_coverage_config", "load_standard",
    "read_overrides", "region_terrain_type", "terrain_notes",
]
