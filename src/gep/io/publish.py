"""Freezing a year's results, and refusing to change them silently.

``gep publish CONFIG YEAR`` copies every table's rows of YEAR into ``OUTPUT_DIR/published/YEAR/`` (read-only,
with a manifest of checksums, input checksums and the config). Afterwards every table write goes through
:func:`guard`: if the rows of a published year would change, the run stops with a diff of what would change
and why (changed inputs or settings) — unless the config lists that year under ``republish``.
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from gep.core.atomic import atomic_path, write_text
from gep.core.errors import InputError
from gep.io.provenance import input_checksums, sha256
from gep.io.run_paths import tables_dir
from gep.io.tables import write_table

if TYPE_CHECKING:
    from gep.config import Config

YEAR_COLUMNS = ("year", "year_to")


def _year_rows(df: pd.DataFrame, year: int) -> pd.DataFrame | None:
    for col in YEAR_COLUMNS:
        if col in df.columns:
            return df[df[col] == year].reset_index(drop=True)
    return None


def _csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def published_dir(out_root: Path, year: int) -> Path:
    return Path(out_root) / "published" / str(year)


def publish(out_root: Path, cfg_dict: dict, year: int, *, republish: bool = False) -> Path:
    """Freeze the rows of ``year`` of every table under ``out_root/tables`` into ``published/YEAR``."""
    out_root = Path(out_root)
    target = published_dir(out_root, year)
    if (target / "manifest.json").exists() and not republish:
        raise InputError(f"{target}: year {year} is already published; pass --republish to replace it")
    tables = sorted((out_root / "tables").glob("*/*.parquet"))
    if not tables:
        raise InputError(f"{out_root / 'tables'}: no tables to publish; run the workflow first")
    files: dict[str, str] = {}
    for path in tables:
        rows = _year_rows(pd.read_parquet(path), year)
        if rows is None or rows.empty:
            continue
        rel = Path(path.parent.name) / (path.stem + ".csv")
        dest = target / rel
        if dest.exists():
            os.chmod(dest, stat.S_IWUSR | stat.S_IRUSR)
        with atomic_path(dest) as tmp:
            tmp.write_bytes(_csv_bytes(rows))
        os.chmod(dest, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        files[str(rel)] = sha256(dest)
    if not files:
        raise InputError(f"{out_root / 'tables'}: no rows for year {year}; is {year} in the config's years?")
    manifest = {"year": year, "files": files, "inputs": input_checksums(cfg_dict), "config": cfg_dict}
    write_text(target / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return target


def _why(manifest: dict, cfg_dict: dict) -> str:
    reasons = []
    now = input_checksums(cfg_dict)
    then = manifest.get("inputs", {})
    changed = sorted(p for p in set(now) | set(then) if now.get(p) != then.get(p))
    if changed:
        reasons.append("inputs changed: " + ", ".join(changed[:5]))
    old_cfg = manifest.get("config", {})
    keys = sorted(k for k in set(old_cfg) | set(cfg_dict)
                  if k not in ("republish",) and old_cfg.get(k) != cfg_dict.get(k))
    if keys:
        reasons.append("settings changed: " + ", ".join(keys))
    return "; ".join(reasons) or "same inputs and settings (a software change?)"


def _diff(old: pd.DataFrame, new: pd.DataFrame, limit: int = 5) -> str:
    if list(old.columns) != list(new.columns):
        return f"columns {list(old.columns)} → {list(new.columns)}"
    if len(old) != len(new):
        return f"{len(old)} rows → {len(new)} rows"
    lines = []
    for col in old.columns:
        a, b = old[col].astype(str), new[col].astype(str)
        for i in (a != b).to_numpy().nonzero()[0][:limit - len(lines)]:
            key = "/".join(str(new.iloc[i][c]) for c in new.columns[:2])
            lines.append(f"{key} {col}: {a.iloc[i]} → {b.iloc[i]}")
        if len(lines) >= limit:
            break
    return "; ".join(lines)


def guard(out_root: Path, level: str, name: str, df: pd.DataFrame, cfg_dict: dict) -> None:
    """Stop when ``df`` would change rows of a published year (see module docstring)."""
    root = Path(out_root) / "published"
    if not root.is_dir():
        return
    allowed = set(cfg_dict.get("republish") or [])
    for year_dir in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        year = int(year_dir.name)
        frozen = year_dir / level / f"{name}.csv"
        if year in allowed or not frozen.exists():
            continue
        rows = _year_rows(df, year)
        if rows is None:
            continue
        if _csv_bytes(rows) == frozen.read_bytes():
            continue
        old = pd.read_csv(frozen, dtype=str, keep_default_na=False)
        new = pd.read_csv(io.BytesIO(_csv_bytes(rows)), dtype=str, keep_default_na=False)
        manifest = json.loads((year_dir / "manifest.json").read_text(encoding="utf-8"))
        raise InputError(f"{frozen}: published {year} numbers would change ({_diff(old, new)}); why: "
                         f"{_why(manifest, cfg_dict)}; review, then add {year} to 'republish' in the config "
                         f"to replace them")


def publish_table(cfg: Config, level: str, df: pd.DataFrame, name: str, *, units: dict, extra: dict | None = None,
                  out_dir: Path | None = None) -> list[Path]:
    """Write a published table of one level, refusing to change the numbers of a frozen year (gep.io.publish)."""
    guard(cfg.out, level, name, df, cfg.as_dict())
    return write_table(df, out_dir or tables_dir(cfg, level), name, units=units, extra=extra)
