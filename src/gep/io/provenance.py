"""Provenance of a run: resolved config, input checksums, package versions, git commit, timestamps.

``provenance.json`` lets anyone trace a published number back to the exact inputs and software that made it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from gep.core.atomic import write_text
from gep.core.resources import SOURCE_ROOT

PACKAGES = ("gep", "numpy", "pandas", "pyarrow", "xarray", "rioxarray", "rasterio", "dask", "distributed",
            "geopandas", "pyogrio", "shapely", "pyproj", "snakemake", "pydantic", "scipy", "numba",
            "openpyxl", "matplotlib", "jinja2")


def sha256(path: str | Path, chunk: int = 1 << 22) -> str:
    """Hex SHA-256 of a file, read in 4 MiB pieces (bounded memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _paths_in(node: Any, years: Iterable[int]) -> list[str]:
    """Every value of a key named ``path`` or ending in ``_path`` in a nested config, with {year} expanded."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and (key == "path" or key.endswith("_path") or key.endswith("_file")):
                found.extend(value.format(year=y) for y in years) if "{year}" in value else found.append(value)
            else:
                found.extend(_paths_in(value, years))
    elif isinstance(node, list):
        for value in node:
            found.extend(_paths_in(value, years))
    return found


def input_files(cfg_dict: dict) -> list[Path]:
    """All existing input files a config names (sorted, unique): rasters and layers (keys ``path``,
    ``*_path``, ``*_file``), the class scheme, standards, parameter tables and templates, built-in ones
    included (:func:`gep.config.files.config_files`); shapefile siblings too."""
    from gep.config import validate
    from gep.config.files import config_files

    years = cfg_dict.get("years", [])
    out: set[Path] = set()
    named = config_files(validate(cfg_dict, "resolved config"))
    for p in _paths_in({k: v for k, v in cfg_dict.items() if k not in ("output_dir", "demo")}, years) + named:
        path = Path(p)
        if path.is_file():
            out.add(path)
            if path.suffix.lower() == ".shp":
                out.update(q for q in path.parent.glob(path.stem + ".*") if q.is_file())
    return sorted(out)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:
        import rasterio
        import shapely
        import pyproj

        out["GDAL"] = rasterio.__gdal_version__
        out["GEOS"] = shapely.geos_version_string
        out["PROJ"] = pyproj.proj_version_str
    except Exception:  # noqa: BLE001 - versions are informative only
        pass
    return out


def git_commit() -> str | None:
    """The gep repository's commit (with '-dirty' when there are uncommitted changes), if it is a checkout."""
    try:
        head = subprocess.run(["git", "-C", str(SOURCE_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(SOURCE_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def input_checksums(cfg_dict: dict) -> dict[str, str]:
    return {str(p): sha256(p) for p in input_files(cfg_dict)}


def build(cfg_dict: dict, outputs: Iterable[str | Path] = ()) -> dict:
    """The provenance record of a run (outputs are checksummed too)."""
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "gep_commit": git_commit(),
        "config": cfg_dict,
        "inputs": input_checksums(cfg_dict),
        "outputs": {str(p): sha256(p) for p in sorted(map(str, outputs)) if Path(p).is_file()},
        "versions": versions(),
        "platform": platform.platform(),
    }


def write(cfg_dict: dict, path: str | Path, outputs: Iterable[str | Path] = ()) -> dict:
    record = build(cfg_dict, outputs)
    write_text(path, json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return record
