"""Settings of the 林草覆盖率 numerator and denominator (indicator 7). Light: imports no geo library."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CoverageConfig(BaseModel):
    """How the 林草覆盖率 numerator and denominator are formed (docs/methods.md §2).

    - Numerator: categories ``forest`` and ``shrub`` count as 林 (灌木林地 is forest land in Chinese statistics),
      ``grass`` as 草. ``wetland_as`` / ``other_as`` add the ``wetland`` / ``other`` categories (e.g. ESA
      herbaceous wetland 90, moss/lichen 100, orchards when a scheme puts them in ``other``) to 林 or 草 [P].
    - Denominator: ``region`` = the region's full ellipsoidal area (GB/T 50434-2018 2.0.6, forestry's
      土地总面积) [V]; ``land`` = region area minus the ``water`` category [P].
    - Nodata land cover never counts in the numerator. With ``nodata_in_denominator`` (default) its area stays
      in the denominator, so unmapped area lowers the coverage (conservative, and the denominator stays the
      official area); set False to measure coverage over the mapped area only. ``nodata_km2`` is always
      reported.
    - ``pct_decimals``: coverage is rounded to this many decimals of a percent before it is reported and
      compared with the target, so float noise (0.4 × 100 = 40.00000000000001) cannot flip a judgement at
      the boundary; set 2 to judge on the value a published table shows.
    """

    model_config = ConfigDict(extra="forbid")

    denominator: Literal["region", "land"] = "region"
    wetland_as: Literal["none", "forest", "grass"] = "none"
    other_as: Literal["none", "forest", "grass"] = "none"
    nodata_in_denominator: bool = True
    pct_decimals: int = Field(6, ge=0, le=12)


def load_coverage_config(source: str | Path | Mapping[str, Any] | None = None, **overrides: Any) -> CoverageConfig:
    """A :class:`CoverageConfig` from a YAML file, a mapping or defaults; non-None ``overrides`` win."""
    from gep.core.settings import load_model

    return load_model(CoverageConfig, source, "coverage config", "see gep.indicators.coverage.index.CoverageConfig",
                      **overrides)



#: the named 林草 numerators of survey classes (docs/methods.md §2.8; their classes are in
#: gep.accounting.survey_classes.NUMERATORS, which a test keeps equal to this list)
SURVEY_NUMERATORS = ("forest_grass", "forest_grass_landuse", "forestland_grass", "forestland_grass_landuse")


class SurveyAreaFields(BaseModel):
    """The survey layer's area fields (docs/methods.md §2.7); a field set to null is not used."""

    model_config = ConfigDict(extra="forbid")

    tbmj: str | None = Field("TBMJ", description="图斑面积: the polygon's area (m²); checked against the geometry")
    tkmj: str | None = Field("TKMJ", description="扣除地类面积 (m²), empty = 0; goes to the deducted class")
    tbdlmj: str | None = Field("TBDLMJ", description="图斑地类面积 (m²): the area that counts for the class "
                                                     "(TBMJ − TKMJ when null)")
    kcdlbm: str | None = Field("KCDLBM", description="扣除地类编码: the deducted class (1203 田坎 when empty)")


class SurveyConfig(BaseModel):
    """Land-survey polygons (国土变更调查 地类图斑, DLTB) as the land cover of indicator 7 (docs/methods.md §2.7).

    With this section the 林草覆盖率 tables are computed from the survey's polygons and areas; the raster of
    ``landcover.path`` still serves the land-cover tables, indicator 9 (land cover inside the red line) and
    indicator 10 (the GEP service rasters).
    """

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Survey layer path template containing {year} (FileGDB folder, GeoPackage "
                                  "or shapefile), e.g. data/{year}/DLTB.gdb")
    layer: str | None = Field("DLTB", description="Layer inside the file (null: the file's only layer)")
    class_field: str = Field("DLBM", description="Field with the class code (地类编码, text)")
    area_fields: SurveyAreaFields = Field(default_factory=SurveyAreaFields,
                                          description="The survey's area fields (used unless geometry_areas)")
    geometry_areas: bool = Field(False, description="Use the polygons' ellipsoidal areas instead of the survey's "
                                                    "area fields")
    numerator: Literal[SURVEY_NUMERATORS] = Field(  # type: ignore[valid-type]
        "forest_grass", description="林草 numerator: forest_grass (森林 + 草地, default), forest_grass_landuse, "
                                    "forestland_grass (林地 variant), forestland_grass_landuse (docs/methods.md §2.8)")
    designated_shrub_share: float = Field(
        0.0, ge=0.0, le=1.0, description="Share of 0305 灌木林地 that is nationally designated shrubland "
                                         "(国家特别规定灌木林地), counted as 森林 by the forest_grass numerators")
    scheme: str = Field("sandiao", description="Class scheme the DLBM codes must belong to (sandiao, "
                                               "sandiao_wetland or a YAML path)")
    crs: str | None = Field(None, description="CRS of a layer that declares none, e.g. EPSG:4525")
    area_tolerance: float = Field(1e-3, gt=0, description="Relative departure of a polygon's geometry area from "
                                                          "TBMJ that is reported")
    gap_tolerance: float = Field(1e-4, gt=0, description="Share of a region not covered by polygons (or covered "
                                                         "twice) that is reported; larger gaps count as nodata")
    chunk_polygons: int = Field(50_000, ge=100, description="Polygons read and processed at a time")

    @field_validator("path")
    @classmethod
    def _has_year(cls, v: str) -> str:
        if "{year}" not in v:
            raise ValueError("must contain {year}, e.g. data/{year}/DLTB.gdb")
        return v
