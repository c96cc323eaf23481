"""Land-survey class codes (三调 / 国土变更调查 DLBM) and the 林草覆盖率 numerator taken from them.

DLBM is text ('0301', '05H1', '0810A', '09'); the built-in schemes ``sandiao`` / ``sandiao_wetland`` store
the integer code without its leading zero (0301 -> 301). :func:`scheme_code` maps one to the other, and
:func:`numerator_weights` says how much of each survey class counts in the numerator of indicator 7 under
each named variant (docs/methods.md §2.8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

import pandas as pd

from gep.core.errors import InputError

#: Survey codes without an integer form, mapped to the scheme code the survey raster uses (see sandiao.yaml).
ALIASES = {"05H1": 501, "08H1": 801, "08H2": 803, "0810A": 810}

_DIGITS = re.compile(r"^\d{2,4}$")


def scheme_code(dlbm: str) -> tuple[int | None, bool]:
    """(integer scheme code or None when the text is not a survey code, whether a trailing 'K' was dropped).

    '0301' -> 301, '09' -> 9, '05H1' -> 501; a trailing K (可调整地类, e.g. '0201K') is read as its base class
    [P] and flagged so that the caller reports it.
    """
    code = str(dlbm).strip().upper()
    adjustable = len(code) > 2 and code.endswith("K")
    if adjustable:
        code = code[:-1]
    if code in ALIASES:
        return ALIASES[code], adjustable
    if _DIGITS.match(code):
        return int(code), adjustable
    return None, adjustable


def survey_text(code: int) -> str:
    """The survey's text form of a scheme code: 301 -> '0301', 1203 -> '1203', 9 -> '09'."""
    return f"{code:02d}" if code < 100 else f"{code:04d}"


# --- the numerator of indicator 7 ------------------------------------------------------------------------

#: 森林 in the forestry sense (docs/methods.md §2.8): tree forest and bamboo; 灌木林地 only as far as it is
#: nationally designated (the share below)
_FOREST = (301, 302)
_FOREST_WET = (303, 304)  # 红树林地, 森林沼泽: 湿地 in the survey's work classification
_SHRUB = (305,)
_SHRUB_WET = (306,)  # 灌丛沼泽
_OTHER_FOREST_LAND = (307,)  # 其他林地: 林地 but not 森林
_GRASS = (401, 403, 404)
_GRASS_WET = (402,)  # 沼泽草地

#: Named numerators: (counts 0305/0306 fully as 林地, counts 0307, keeps the four wet classes out of 湿地)
NUMERATORS = {
    "forest_grass": (False, False, False),
    "forest_grass_landuse": (False, False, True),
    "forestland_grass": (True, True, False),
    "forestland_grass_landuse": (True, True, True),
}
DEFAULT_NUMERATOR = "forest_grass"
#: Share of 0305 灌木林地 that is nationally designated shrubland (国家特别规定灌木林地) and so 森林 [P]: the survey
#: does not record the designation; 0 counts none of it until the user gives the forestry inventory's share.
DEFAULT_DESIGNATED_SHRUB_SHARE = 0.0


@dataclass(frozen=True)
class Numerator:
    """Which survey classes count in 林草覆盖率 and by how much: ``forest`` and ``grass`` map scheme codes to
    the counted fraction of their area (1, or the designated-shrubland share)."""

    name: str
    forest: dict[int, float]
    grass: dict[int, float]
    designated_shrub_share: float

    @property
    def label(self) -> str:
        """The numerator as it is named in outputs, e.g. ``forest_grass (designated shrub share 0.3)``."""
        if self.name.startswith("forestland"):
            return self.name
        return f"{self.name} (designated shrub share {self.designated_shrub_share:g})"


def numerator(name: str = DEFAULT_NUMERATOR, designated_shrub_share: float = DEFAULT_DESIGNATED_SHRUB_SHARE,
              ) -> Numerator:
    """The named 林草 numerator (docs/methods.md §2.8).

    - ``forest_grass`` (default): 森林 + 草地 as defined for the indicator, with the survey's work
      classification: 0301, 0302, ``designated_shrub_share`` × 0305; 0401, 0403, 0404. 0303, 0304, 0306 and
      0402 are 湿地, 0307 其他林地 is not 森林.
    - ``forest_grass_landuse``: as above with the four wet classes kept in their land-use groups (0303, 0304
      forest; 0306 shrub, at the same share; 0402 grass).
    - ``forestland_grass``: the 林地 variant: 0301, 0302, 0305, 0307 fully; 0401, 0403, 0404.
    - ``forestland_grass_landuse``: the 林地 variant with 0303, 0304, 0306, 0402 added.
    """
    if name not in NUMERATORS:
        raise InputError(f"survey numerator '{name}' is not known; use one of {', '.join(NUMERATORS)}")
    share = float(designated_shrub_share)
    if not 0.0 <= share <= 1.0 or np.isnan(share):
        raise InputError(f"designated shrub share {designated_shrub_share!r} is not between 0 and 1; give the "
                         "share of 灌木林地 that is nationally designated shrubland (国家特别规定灌木林地)")
    forestland, other_forest, wet_in = NUMERATORS[name]
    shrub = 1.0 if forestland else share
    forest = {c: 1.0 for c in _FOREST}
    forest.update({c: shrub for c in _SHRUB})
    grass = {c: 1.0 for c in _GRASS}
    if other_forest:
        forest.update({c: 1.0 for c in _OTHER_FOREST_LAND})
    if wet_in:
        forest.update({c: 1.0 for c in _FOREST_WET})
        forest.update({c: shrub for c in _SHRUB_WET})
        grass.update({c: 1.0 for c in _GRASS_WET})
    return Numerator(name, forest, grass, share)


def numerator_areas(table, num: Numerator, by: tuple[str, ...] = ("region_code",)):
    """Forest, grass and 林草 area (m²) per ``by`` of a survey table (columns ``lc_code`` as scheme code text,
    ``area_cm2``), with the numerator named in column ``numerator``. Shrubland counted at a share is reported
    in ``shrub_counted_m2`` (part of ``forest_m2``) next to all shrubland, ``shrub_m2``.
    """
    code = pd.to_numeric(table["lc_code"], errors="coerce").fillna(-1).astype(np.int64)
    area = table["area_cm2"].to_numpy(dtype=np.float64) / 1e4
    fw = code.map(num.forest).fillna(0.0).to_numpy()
    gw = code.map(num.grass).fillna(0.0).to_numpy()
    shrub = code.isin(_SHRUB + _SHRUB_WET).to_numpy()
    work = table[list(by)].copy()
    work["forest_m2"] = area * fw
    work["grass_m2"] = area * gw
    work["shrub_m2"] = np.where(shrub, area, 0.0)
    work["shrub_counted_m2"] = np.where(shrub, area * fw, 0.0)
    out = work.groupby(list(by), as_index=False, sort=True).sum()
    out["lincao_m2"] = out["forest_m2"] + out["grass_m2"]
    out["numerator"] = num.label
    return out
