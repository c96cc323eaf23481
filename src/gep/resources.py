"""Where the project's data files live: class schemes, parameter tables and standards under ``config/``.

gep is run from its repository (``make demo`` installs it in editable mode), so the data files are read
from the repository's ``config/`` folder; a user's own files are given by path and always win.
"""

from __future__ import annotations

from pathlib import Path

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
