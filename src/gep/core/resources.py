"""Where the project's reference data live: class schemes, parameter tables and standards ship inside the
package (``gep/data/KIND/NAME.yaml``) and are found with :mod:`importlib.resources`, so an installed wheel
works from any folder. A user's own files are given by path and always win.
"""

from __future__ import annotations

from importlib import resources as _resources
from pathlib import Path

from gep.core.errors import InputError

# gep is installed as plain files (a wheel or an editable install), so the package data are real paths
DATA_DIR = Path(str(_resources.files("gep") / "data"))
# the checkout the package was installed from, when it was (provenance records its git commit)
SOURCE_ROOT = Path(__file__).resolve().parents[3]


def data_dir(kind: str) -> Path:
    """The folder of one kind of built-in data (``classes``, ``parameters``, ``standards``)."""
    return DATA_DIR / kind


def builtin(kind: str, name: str) -> Path | None:
    """Path of a built-in data file ``gep/data/KIND/NAME.yaml`` or None when there is no such file."""
    path = data_dir(kind) / f"{name}.yaml"
    return path if path.is_file() else None


def available(kind: str, prefix: str = "") -> list[str]:
    """Names of the built-in data files of one kind (e.g. ``classes``), without ``prefix``."""
    folder = data_dir(kind)
    names = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    return [n[len(prefix):] for n in names if n.startswith(prefix)]


def resolve(ref: str | Path, kind: str, what: str, *, prefix: str = "", suffixes: tuple[str, ...] = (".yaml", ".yml"),
            layout: str = "") -> Path:
    """The file a config value names: a path to the user's own file (its suffix is one of ``suffixes``), else
    the built-in ``gep/data/KIND/PREFIX+NAME.yaml``; ``what`` names the kind of file in the error (one line,
    exit 2) when neither exists, ``layout`` says which file to copy (``gep where`` prints the folder)."""
    text = str(ref)
    path = Path(text)
    if path.suffix.lower() in suffixes:
        if not path.is_file():
            raise InputError(f"{what} file '{text}' does not exist; check the path")
        return path
    found = builtin(kind, text if text.startswith(prefix) else prefix + text)
    if found is None:
        names = available(kind, prefix)
        raise InputError(f"unknown {what} '{text}'; use one of {', '.join(names)} or a path to a YAML file"
                         + (f" laid out like {layout}" if layout else ""))
    return found
