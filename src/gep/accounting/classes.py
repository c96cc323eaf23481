"""Land-cover class schemes (CLCD, ESA WorldCover, MODIS IGBP, 三调 survey codes, or the user's own).

A scheme is a YAML file: ``name``, ``source``, ``status``, optional ``nodata`` and a list of
``classes`` with ``code`` (integer), ``name_zh``, ``name_en`` and ``category``. Built-in schemes live in
``src/gep/data/classes/``; a path to the user's own file works wherever a scheme name does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from gep.core.errors import InputError
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


def _fail(path: Path, msg: str) -> InputError:
    return InputError(f"{path}: {msg}; fix the class scheme file (see src/gep/data/classes/clcd.yaml for the layout)")


def scheme_file(name_or_path: str | Path) -> Path:
    """The YAML file of a class scheme given by built-in name (``clcd``) or by path."""
    return resolve(name_or_path, "classes", "class scheme")


def load_scheme(name_or_path: str | Path) -> ClassScheme:
    """Load a class scheme by built-in name (``clcd``) or by path to a YAML file."""
    path = scheme_file(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise _fail(path, f"not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("classes"), list) or not data["classes"]:
        raise _fail(path, "needs a non-empty 'classes' list")
    classes = []
    seen: set[int] = set()
    for i, item in enumerate(data["classes"]):
        if not isinstance(item, dict):
            raise _fail(path, f"classes[{i}] is not a mapping")
        missing = [k for k in ("code", "name_zh", "name_en", "category") if k not in item]
        if missing:
            raise _fail(path, f"classes[{i}] lacks {', '.join(missing)}")
        code = item["code"]
        if isinstance(code, bool) or not isinstance(code, int):
            raise _fail(path, f"classes[{i}].code '{code}' is not an integer")
        if code in seen:
            raise _fail(path, f"code {code} appears twice")
        if item["category"] not in CATEGORIES:
            raise _fail(path, f"classes[{i}].category '{item['category']}' is not one of {', '.join(CATEGORIES)}")
        seen.add(code)
        classes.append(LandClass(code, str(item["name_zh"]), str(item["name_en"]), str(item["category"])))
    nodata = data.get("nodata")
    if nodata is not None and nodata in seen:
        raise _fail(path, f"nodata {nodata} is also a class code")
    return ClassScheme(
        name=str(data.get("name", path.stem)),
        classes=tuple(classes),
        nodata=nodata,
        source=str(data.get("source", "")),
        status=str(data.get("status", "")),
        path=str(path),
    )
