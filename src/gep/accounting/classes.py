"""Land-cover class schemes (CLCD, ESA WorldCover, MODIS IGBP, 三调 survey codes, or the user's own).

A scheme is a YAML file: ``name``, ``source``, ``status``, optional ``nodata`` and a list of
``classes`` with ``code`` (integer), ``name_zh``, ``name_en`` and ``category``. Built-in schemes live in
``src/gep/data/classes/``; a path to the user's own file works wherever a scheme name does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from gep.core.refdata import Reference, Text, load_reference
from gep.core.resources import resolve

CATEGORIES = ("forest", "shrub", "grass", "cropland", "wetland", "water", "built", "barren", "snow", "other")


@dataclass(frozen=True)
class LandClass:
    code: int
    name_zh: str
    name_en: str
    category: str


@dataclass(frozen=True)
class ClassScheme:
    """An ordered set of land-cover classes; ``index_of`` maps raw raster codes to 0..K-1."""

    name: str
    classes: tuple[LandClass, ...]
    nodata: int | None = None
    source: str = ""
    status: str = ""
    path: str = ""

    @property
    def codes(self) -> np.ndarray:
        return np.array([c.code for c in self.classes], dtype=np.int64)

    def by_code(self) -> dict[int, LandClass]:
        return {c.code: c for c in self.classes}

    def codes_in(self, categories: set[str] | frozenset[str]) -> list[int]:
        """Codes whose category is one of ``categories``."""
        return [c.code for c in self.classes if c.category in categories]


class LandClassEntry(BaseModel):
    """One entry of a scheme file's ``classes`` list."""

    model_config = ConfigDict(frozen=True)
    code: StrictInt
    name_zh: Text
    name_en: Text
    category: Literal[CATEGORIES]  # type: ignore[valid-type]


class ClassSchemeFile(Reference):
    """Layout of a class-scheme file (src/gep/data/classes/clcd.yaml)."""

    name: Text | None = None
    title: Text = ""
    source: Text = ""
    status: Text = ""
    nodata: StrictInt | None = None
    classes: list[LandClassEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _codes(self) -> "ClassSchemeFile":
        seen: set[int] = set()
        for c in self.classes:
            if c.code in seen:
                raise ValueError(f"code {c.code} appears twice in 'classes'")
            seen.add(c.code)
        if self.nodata is not None and self.nodata in seen:
            raise ValueError(f"nodata {self.nodata} is also a class code")
        return self


LAYOUT = "the built-in classes/clcd.yaml (gep where --data)"


def scheme_file(name_or_path: str | Path) -> Path:
    """The YAML file of a class scheme given by built-in name (``clcd``) or by path."""
    return resolve(name_or_path, "classes", "class scheme")


def load_scheme(name_or_path: str | Path) -> ClassScheme:
    """Load a class scheme by built-in name (``clcd``) or by path to a YAML file (layout :class:`ClassSchemeFile`)."""
    f = load_reference("classes", name_or_path, ClassSchemeFile, what="class scheme", layout=LAYOUT)
    path = f.file
    return ClassScheme(
        name=f.name if f.name is not None else path.stem,
        classes=tuple(LandClass(c.code, c.name_zh, c.name_en, c.category) for c in f.classes),
        nodata=f.nodata,
        source=f.source,
        status=f.status,
        path=str(path),
    )
