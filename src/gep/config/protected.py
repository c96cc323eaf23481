"""Settings of the red-line and protected-area layers (indicator 9). Light: imports no geo library."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ProtectedLayerConfig(BaseModel):
    """Where one layer's polygons are for each year, and how to judge its change."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="file path template with {year}, e.g. data/redline_{year}.gpkg")
    layer: str | None = Field(None, description="layer inside the file (needed when it holds several)")
    id_field: str | None = Field(None, description="field with polygon ids (default: 1-based feature numbers)")
    type_field: str | None = Field(None, description="field with the type (国家公园 / 自然保护区 / 自然公园)")
    encoding: str | None = Field(None, description="text encoding of a shapefile without .cpg (e.g. GBK); by "
                                                   "default UTF-8 or GB18030 is detected from the text")
    carry_forward: bool = Field(False, description="a year without a file reuses the previous year's file")
    tolerance_km2: float = Field(0.0, ge=0, description="decrease (km²) still judged 不减少")
    baseline_year: int | None = Field(None, description="baseline year (default: first year)")

    @field_validator("path")
    @classmethod
    def _has_year(cls, v: str) -> str:
        try:
            v.format(year=2000)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"path template '{v}' is not valid ({err}); only {{year}} may appear in braces") from None
        if "{year}" not in v:
            raise ValueError(f"path '{v}' has no {{year}}; put {{year}} where the year goes (for one file "
                             "used for several years, name it for its year and set carry_forward: true)")
        return v


class ProtectedConfig(BaseModel):
    """Config section ``protected`` of the workflow: the red-line and protected-area layers."""

    model_config = ConfigDict(extra="forbid")

    redline: ProtectedLayerConfig | None = Field(None, description="生态保护红线 polygons")
    protected: ProtectedLayerConfig | None = Field(None, description="自然保护地 polygons")
    sliver_m2: float = Field(1.0, ge=0, description="change parts smaller than this (m²) are dropped")

    def layers(self) -> dict[str, ProtectedLayerConfig]:
        """The configured layers by name ("redline", "protected")."""
        return {k: v for k, v in (("redline", self.redline), ("protected", self.protected)) if v is not None}


