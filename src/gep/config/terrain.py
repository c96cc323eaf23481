"""Settings of the terrain classification (indicator 7): relief classes, their thresholds and the region
terrain-type rule. Light: imports no geo library."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Mapping, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Class code for cells without a valid DEM value.
NODATA_CODE = 0

#: Region terrain types used by the 林草覆盖率 targets (docs/methods.md §2).
REGION_TYPES = ("山区", "丘陵区", "平原区", "干旱半干旱地区")


class TerrainClass(NamedTuple):
    """One relief class: Chinese and English name, broad class (平原/丘陵/山地) and its English name."""

    name_zh: str
    name_en: str
    broad_zh: str
    broad_en: str


#: Relief classes (Li Bingyuan et al. 2008; Zhou Chenghu et al. 2009) [V thresholds], code → names.
TERRAIN_CLASSES: dict[int, TerrainClass] = {
    1: TerrainClass("平原", "plain", "平原", "plain"),
    2: TerrainClass("丘陵", "hill", "丘陵", "hill"),
    3: TerrainClass("小起伏山地", "low-relief mountain", "山地", "mountain"),
    4: TerrainClass("中起伏山地", "middle-relief mountain", "山地", "mountain"),
    5: TerrainClass("大起伏山地", "high-relief mountain", "山地", "mountain"),
    6: TerrainClass("极大起伏山地", "extremely high-relief mountain", "山地", "mountain"),
}

#: Broad terrain class of each code (0 → no DEM), used for region shares.
BROAD_OF_CODE: dict[int, str] = {0: "无DEM", **{k: v.broad_zh for k, v in TERRAIN_CLASSES.items()}}


class TerrainConfig(BaseModel):
    """Parameters of the terrain classification and of the region terrain-type rule (docs/methods.md §2).

    Units: metres for the window and relief thresholds, percent of DEM-covered region area for shares,
    millimetres per year for precipitation. Every default is a proposal [P] except the relief thresholds [V].
    """

    model_config = ConfigDict(extra="forbid")

    window_m: float = Field(4583.0, gt=0, description="side of the square relief window, m (≈ √21 km²) [P]")
    thresholds_m: tuple[float, float, float, float, float] = Field(
        (30.0, 200.0, 500.0, 1000.0, 2500.0),
        description="relief class lower bounds of classes 2..6, m [V: Li Bingyuan 2008, Zhou Chenghu 2009]",
    )
    mountain_share_pct: float = Field(50.0, ge=0, le=100, description="山区 if mountain share ≥ this, % [P]")
    hill_mountain_share_pct: float = Field(
        50.0, ge=0, le=100, description="else 丘陵区 if mountain + hill share ≥ this, % [P]"
    )
    arid_precip_mm: float | None = Field(
        400.0, gt=0, description="干旱半干旱地区 where mean annual precipitation < this, mm; None disables [P]"
    )
    type_year: Literal["first", "each"] = Field(
        "first", description="terrain shares from each region's first year (stable target) or from every year"
    )
    precip_path: Path | None = Field(None, description="mean annual precipitation raster (mm) for the arid rule")
    overrides_path: Path | None = Field(
        None, description="CSV region_code,terrain_type,source: the official list (an approved plan, a provincial "
        "list) that always wins; its source is shown in the tables and the report (docs/methods.md §2.3)"
    )
    borderline_margin_pp: float = Field(
        3.0, ge=0, le=50, description="a computed type whose deciding share lies within this many percentage "
        "points of a threshold of the rule is flagged terrain_borderline for a person to decide [P]"
    )
    dem_min_coverage_pct: float = Field(99.0, ge=0, le=100, description="regions the DEM covers less → error, %")
    chunk: int = Field(1024, ge=16, description="Dask chunk side for reading the DEM and the output grid, cells "
                       "(memory grows with raster width × chunk: ≈ 1 GB at 20,000 cells wide)")

    @field_validator("thresholds_m")
    @classmethod
    def _increasing(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(b <= a for a, b in zip(v, v[1:])) or v[0] <= 0:
            raise ValueError("thresholds_m must be 5 positive, strictly increasing values (m)")
        return v


def load_terrain_config(source: str | Path | Mapping[str, Any] | None = None, **overrides: Any) -> TerrainConfig:
    """Build a :class:`TerrainConfig` from a YAML file, a mapping or defaults; ``overrides`` (non-None) win."""
    from gep.core.settings import load_model

    return load_model(TerrainConfig, source, "terrain config", "see gep.indicators.coverage.terrain.TerrainConfig", **overrides)

