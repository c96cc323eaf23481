"""The run configuration: one YAML file, validated before any work starts.

Defaults live here, in the typed models, and nowhere else; ``config/schema.json`` is generated from them
(``gep config-schema``) and a test fails when the two drift apart. Relative paths are relative to the folder
the workflow runs in (the repository root for ``make demo``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gep.config.coverage import CoverageConfig, SurveyConfig
from gep.config.gep import GepConfig
from gep.config.protected import ProtectedConfig
from gep.config.terrain import TerrainConfig
from gep.core.errors import InputError
from gep.core.settings import read_yaml, validate_model


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LandcoverConfig(_Model):
    path: str = Field(description="Land-cover raster path template containing {year}, e.g. data/clcd_{year}.tif")
    scheme: str = Field("clcd", description="Class scheme: built-in name (clcd, worldcover, modis_igbp, sandiao, "
                                            "sandiao_wetland) or a path to a YAML scheme file")
    nodata: int | None = Field(None, description="Nodata value when the file declares none (or to override it)")
    crs: str | None = Field(None, description="CRS to assume when the file has none, e.g. EPSG:4490")
    unknown_codes: Literal["error", "nodata"] = Field(
        "error", description="Codes missing from the scheme: 'error' lists them with pixel counts; "
                             "'nodata' counts them as nodata area")
    survey: SurveyConfig | None = Field(
        None, description="Land-survey polygons (DLTB) from which indicator 7 is computed instead of the raster; "
                          "the raster still serves the land-cover tables and indicators 9 and 10")

    @field_validator("path")
    @classmethod
    def _has_year(cls, v: str) -> str:
        if "{year}" not in v:
            raise ValueError("must contain {year}, e.g. data/landcover_{year}.tif")
        return v


class RegionLayerConfig(_Model):
    path: str = Field(description="Vector file of region polygons (any format GDAL reads)")
    layer: str | None = Field(None, description="Layer name inside the file (GeoPackage, FileGDB)")
    id_field: str = Field(description="Field holding the region code (kept as text: leading zeros survive)")
    name_field: str | None = Field(None, description="Field holding the region name")
    crs: str | None = Field(None, description="CRS to assume when the file has none")
    encoding: str | None = Field(None, description="Text encoding of a shapefile without .cpg (e.g. GBK); by default "
                                                   "UTF-8 or GB18030 is detected from the text")
    coord_system: Literal["standard", "gcj02", "bd09"] = Field(
        "standard", description="Web-map offsets to remove: gcj02 (AMap, Tencent) or bd09 (Baidu)")


class ComputeConfig(_Model):
    chunk_size: int = Field(2048, ge=64, le=32768, description="Dask block side in cells (rounded to file tiles)")
    scheduler: str = Field("threads", description="threads, processes, synchronous, local-cluster, "
                                                  "or a scheduler address tcp://host:port")
    workers: int | None = Field(None, ge=1, description="Worker count (default: the rule's threads)")

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, v: str) -> str:
        if v not in SCHEDULERS and not v.startswith(("tcp://", "tls://")):
            raise ValueError(f"use one of {', '.join(SCHEDULERS)} or a scheduler address tcp://host:port")
        return v
    tile_groups: int = Field(1, ge=1, le=4096, description="Split each raster into this many bands of block "
                                                           "rows, accounted as separate jobs and merged exactly")


SCHEDULERS = ("threads", "processes", "synchronous", "local-cluster")


class ChecksConfig(_Model):
    area_tolerance_pct: float = Field(
        0.1, gt=0, description="Max. difference (%) between a region's accounted area and its polygon's "
                               "ellipsoidal area inside the raster; larger stops the run")
    min_coverage_pct: float = Field(
        99.0, ge=0, le=100, description="Min. share (%) of each region's area that the land cover must cover")


class TerrainSection(TerrainConfig):
    """Terrain classes from a DEM (indicator 7); the fields of :class:`gep.indicators.coverage.terrain.TerrainConfig` plus the DEM."""

    dem_path: str = Field(description="DEM raster (any CRS and resolution; elevation in metres)")


class CoverageSection(CoverageConfig):
    """林草覆盖率 (indicator 7): :class:`gep.indicators.coverage.index.CoverageConfig` plus the target standard."""

    standard: str = Field("national", description="Target standard: national, guizhou (built-in standards/"
                                                  "coverage_*.yaml) or a path to the user's own YAML file")


class ScorecardConfig(_Model):
    """The 两山指数 scorecard, workbook, GeoPackage, maps and report (indicators 1–20)."""

    standard: str = Field("national", description="Indicator list and targets: national, guizhou "
                                                  "(built-in standards/lianshan_*.yaml) or a path")
    template: str | dict[str, str] | None = Field(
        None, description="Filled department table for the 17 non-spatial indicators (gep index-template): one file "
                          "holding the rows of every region level, or one file per level ({level: path}); without "
                          "it they are 暂未核算")

    def template_for(self, level: str) -> str | None:
        """The department template of region level ``level`` (None: none given for it)."""
        if isinstance(self.template, dict):
            return self.template.get(level)
        return self.template

    def templates(self) -> list[str]:
        """Every template file the config names."""
        if isinstance(self.template, dict):
            return sorted(set(self.template.values()))
        return [self.template] if self.template else []
    title: str | None = Field(None, description="Report title (default: the run's name)")


class DemoConfig(_Model):
    generate: bool = Field(False, description="Generate the embedded demo data before the run")
    dir: str = Field("resources/demo", description="Where the demo data is written")
    seed: int = Field(20240601, description="Seed of the demo generator")


class Config(_Model):
    name: str = Field("gep", description="Name of this run (shown in the report)")
    output_dir: str = Field("results", description="Folder for all outputs")
    years: list[int] = Field(min_length=1, description="Years to account, e.g. [2019, 2020, 2021]")
    landcover: LandcoverConfig
    regions: dict[str, RegionLayerConfig] = Field(
        min_length=1, description="Region layers by level name (e.g. county, township)")
    compute: ComputeConfig = ComputeConfig()
    checks: ChecksConfig = ChecksConfig()
    demo: DemoConfig = DemoConfig()
    scorecard: ScorecardConfig = Field(default_factory=ScorecardConfig,
                                       description="两山指数 scorecard and report (indicators 1–20)")
    republish: list[int] = Field(
        default_factory=list, description="Published years whose numbers may be replaced by this run "
                                          "(after reviewing the diff gep printed)")
    terrain: TerrainSection | None = Field(None, description="Terrain classes from a DEM (indicator 7)")
    coverage: CoverageSection = Field(default_factory=CoverageSection,
                                      description="林草覆盖率 options and standard (indicator 7)")
    protected: ProtectedConfig | None = Field(None, description="Red line and protected areas (indicator 9)")
    gep: GepConfig | None = Field(None, description="GEP accounting (indicator 10): see gep.indicators.gep")

    @field_validator("years")
    @classmethod
    def _years(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("years repeat; list each year once")
        if any(y < 1900 or y > 2200 for y in v):
            raise ValueError("years must be four-digit calendar years")
        return sorted(v)

    @field_validator("regions")
    @classmethod
    def _levels(cls, v: dict) -> dict:
        for level in v:
            if not level.replace("_", "").isalnum() or not level.isascii():
                raise ValueError(f"level name '{level}' must be ASCII letters, digits or _ (it names files)")
        return v

    @model_validator(mode="after")
    def _template_levels(self) -> Config:
        t = self.scorecard.template
        unknown = sorted(set(t) - set(self.regions)) if isinstance(t, dict) else []
        if unknown:
            raise ValueError(f"scorecard.template: level(s) {', '.join(unknown)} are not region levels "
                             f"({', '.join(self.regions)}); key each template by a level under 'regions'")
        return self

    def landcover_path(self, year: int) -> Path:
        return Path(self.landcover.path.format(year=year))

    def survey_path(self, year: int) -> Path | None:
        """The land-survey layer of ``year`` (None without ``landcover.survey``)."""
        return Path(self.landcover.survey.path.format(year=year)) if self.landcover.survey else None

    @property
    def out(self) -> Path:
        return Path(self.output_dir)

    def as_dict(self) -> dict:
        """The resolved config (defaults filled) as plain JSON-able data."""
        return self.model_dump(mode="json")


def validate(data: Any, source: str = "config") -> Config:
    """Validate a config mapping; every problem is reported at once, one line each naming the key."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: the config must be a mapping of keys to values; see config/config.yaml")
    return validate_model(Config, data, source, "see config/config.yaml and config/schema.json")


def load(path: str | Path) -> Config:
    """Read (safely) and validate a YAML config file."""
    return validate(read_yaml(path, "config file"), str(path))


def json_schema() -> dict:
    """JSON schema of the config, generated from the models (written to config/schema.json)."""
    return Config.model_json_schema()


def schema_text() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
