"""Settings of the 林草覆盖率 numerator and denominator (indicator 7). Light: imports no geo library."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field


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

