"""Where the project's data files live: class schemes, parameter tables and standards under ``config/``.

gep is run from its repository (``make demo`` installs it in editable mode), so the data files are read
from the repository's ``config/`` folder; a user's own files are given by path and always win.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"


def builtin(kind: str, name: str) -> Path | None:
    """Path of a built-in data file ``config/KIND/NAME.yaml`` or None when there is no such file."""
    path = CONFIG_DIR / kind / f"{name}.yaml"
    return path if path.is_file() else None


def available(kind: str) -> list[str]:
    """Names of the built-in data files of one kind (e.g. ``classes``)."""
    folder = CONFIG_DIR / kind
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def resolve(ref: str | Path, kind: str, what: str, *, prefix: str = "", suffixes: tuple[str, ...] = (".yaml", ".yml"),
            layout: str = "") -> Path:
    """The file a config value names: a path to the user's own file (its suffix is one of ``suffixes``), else
    the built-in ``config/KIND/PREFIX+NAME.yaml``; ``what`` names the kind of file in the error (one line,
    exit 2) when neither exists, ``layout`` says which file to copy."""
    text = str(ref)
    path = Path(text)
    if path.suffix.lower() in suffixes:
        if not path.is_file():
            raise InputError(f"{what} file '{text}' does not exist; check the path")
        return path
    found = builtin(kind, text if text.startswith(prefix) else prefix + text)
    if found is None:
        names = [n[len(prefix):] for n in available(kind) if n.startswith(prefix)]
        raise InputError(f"unknown {what} '{text}'; use one of {', '.join(names)} or a path to a YAML file"
                         + (f" laid out like {layout}" if layout else ""))
    return found
