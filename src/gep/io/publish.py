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
from gep.io.tables import READ_ENCODING, csv_bytes, write_table

if TYPE_CHECKING:
    from gep.config import Config

YEAR_COLUMNS = ("year", "year_to")
# columns that name a row in the error that says which rows would change
KEY_COLUMNS = ("region_code", "level", "lc_code", "lc_from", "lc_to", "terrain_code", "service", "item", "layer",
               "type", "category")


def _year_rows(df: pd.DataFrame, year: int) -> pd.DataFrame | None:
    for col in YEAR_COLUMNS:
        if col in df.columns:
            return df[df[col] == year].reset_index(drop=True)
    return None


def _csv_bytes(df: pd.DataFrame) -> bytes:
    """A frozen table's bytes: the CSV gep writes (UTF-8 with BOM, for Excel; gep.io.tables)."""
    return csv_bytes(df)


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


def _differing(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Cells whose values differ, True where they do. Both tables are read as text; a cell counts as the same
    when the texts match or both parse as the same number (a year printed ``2020.0`` by a column that also holds
    blanks equals ``2020``; CSV floats round-trip exactly, so equal numbers are equal bit for bit)."""
    out = pd.DataFrame(False, index=new.index, columns=new.columns)
    for col in new.columns:
        a, b = old[col], new[col]
        num_a, num_b = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
        same_number = num_a.notna() & num_b.notna() & (num_a == num_b)
        out[col] = (a != b) & ~same_number
    return out


def _key(df: pd.DataFrame, i: int) -> str:
    """The row's key: every column that names a row (region, year, class, service …), not its values."""
    keys = [c for c in df.columns if c in KEY_COLUMNS or c.endswith(("_code", "_id", "_name")) or c.startswith("year")]
    return ", ".join(f"{c}={df.iloc[i][c]}" for c in (keys or list(df.columns[:2])))


def _diff(old: pd.DataFrame, new: pd.DataFrame, limit: int = 5) -> str:
    """What would change, naming each row by its key columns; '' when the values are the same."""
    if list(old.columns) != list(new.columns):
        return f"columns {list(old.columns)} → {list(new.columns)}"
    if len(old) != len(new):
        return f"{len(old)} rows → {len(new)} rows"
    cells = _differing(old, new)
    lines = []
    for i, col in zip(*cells.to_numpy().nonzero()):
        lines.append(f"[{_key(new, i)}] {new.columns[col]}: {old.iloc[i, col]} → {new.iloc[i, col]}")
        if len(lines) >= limit:
            break
    return "; ".join(lines)


def frozen_problems(out_root: Path, skip_years=()) -> list[str]:
    """Published years whose frozen files were edited or deleted since publishing (checked against the
    checksums in each year's manifest): one line each, naming the file and what to do."""
    root = Path(out_root) / "published"
    problems = []
    years = sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()) if root.is_dir() else []
    for year_dir in (y for y in years if int(y.name) not in set(skip_years)):
        manifest_path = year_dir / "manifest.json"
        if not manifest_path.is_file():
            problems.append(f"{manifest_path}: missing, so published {year_dir.name} cannot be checked; publish "
                            f"{year_dir.name} again (gep publish --republish) or restore the file")
            continue
        for rel, digest in sorted(json.loads(manifest_path.read_text(encoding="utf-8"))["files"].items()):
            path = year_dir / rel
            if not path.is_file():
                problems.append(f"{path}: published file was deleted; restore it from your archive, or publish "
                                f"{year_dir.name} again with --republish")
            elif sha256(path) != digest:
                problems.append(f"{path}: published file was edited since publishing (checksum differs from "
                                f"manifest.json); restore it, or publish {year_dir.name} again with --republish")
    return problems


def guard(out_root: Path, level: str, name: str, df: pd.DataFrame, cfg_dict: dict) -> None:
    """Stop when ``df`` would change rows of a published year (see module docstring), or when a published
    year's frozen files no longer match its manifest (a deleted frozen table is never a reason to let new
    numbers through)."""
    root = Path(out_root) / "published"
    if not root.is_dir():
        return
    allowed = set(cfg_dict.get("republish") or [])
    problems = frozen_problems(out_root, skip_years=allowed)
    if problems:
        raise InputError.many(problems)
    for year_dir in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        year = int(year_dir.name)
        if year in allowed:
            continue
        manifest = json.loads((year_dir / "manifest.json").read_text(encoding="utf-8"))
        rel = f"{level}/{name}.csv"
        rows = _year_rows(df, year)
        if rows is None or (rel not in manifest["files"] and rows.empty):
            continue
        frozen = year_dir / level / f"{name}.csv"
        if rel not in manifest["files"]:
            raise InputError(f"{frozen}: published {year} had no {name} rows at level {level}, the run now gives "
                             f"{len(rows)}; why: {_why(manifest, cfg_dict)}; review, then add {year} to "
                             f"'republish' in the config")
        if _csv_bytes(rows) == frozen.read_bytes():
            continue
        # by value: a year frozen by an older gep (no BOM) compares equal to the same rows written now
        old = pd.read_csv(frozen, dtype=str, keep_default_na=False, encoding=READ_ENCODING)
        new = pd.read_csv(io.BytesIO(_csv_bytes(rows)), dtype=str, keep_default_na=False, encoding=READ_ENCODING)
        change = _diff(old, new)
        if not change:
            continue  # the same values, printed differently
        raise InputError(f"{frozen}: published {year} numbers would change ({change}); why: "
                         f"{_why(manifest, cfg_dict)}; review, then add {year} to 'republish' in the config "
                         f"to replace them")


def publish_table(cfg: Config, level: str, df: pd.DataFrame, name: str, *, units: dict, extra: dict | None = None,
                  out_dir: Path | None = None) -> list[Path]:
    """Write a published table of one level, refusing to change the numbers of a frozen year (gep.io.publish)."""
    guard(cfg.out, level, name, df, cfg.as_dict())
    return write_table(df, out_dir or tables_dir(cfg, level), name, units=units, extra=extra)
