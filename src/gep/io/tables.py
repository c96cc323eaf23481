"""Writing tidy tables: CSV (UTF-8, no BOM) and Parquet side by side, atomically, with column units.

Column units and parameter sources travel with every table: in the Parquet schema metadata (key ``gep``)
and in a ``NAME.meta.json`` sidecar next to the CSV, so Excel users and other tools both see them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gep.core.atomic import atomic_path, write_text

FORMATS = ("csv", "parquet")


def _meta(name: str, units: Mapping[str, str] | None, extra: Mapping | None) -> dict:
    return {"table": name, "units": dict(units or {}), **dict(extra or {})}


def write_table(
    df: pd.DataFrame,
    out_dir: str | Path,
    name: str,
    *,
    units: Mapping[str, str] | None = None,
    extra: Mapping | None = None,
    formats: tuple[str, ...] = FORMATS,
) -> list[Path]:
    """Write ``df`` as ``out_dir/NAME.csv`` and ``out_dir/NAME.parquet`` (atomically) plus a meta sidecar.

    Rows are written in the order given: callers sort with a stable key so that output is byte-identical
    across runs. Returns the paths written.
    """
    out_dir = Path(out_dir)
    meta = _meta(name, units, extra)
    written: list[Path] = []
    if "csv" in formats:
        target = out_dir / f"{name}.csv"
        with atomic_path(target) as tmp:
            df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        written.append(target)
    if "parquet" in formats:
        target = out_dir / f"{name}.parquet"
        table = pa.Table.from_pandas(df, preserve_index=False)
        md = dict(table.schema.metadata or {})
        md.pop(b"pandas", None)  # holds library versions; keep the file stable across upgrades
        md[b"gep"] = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8")
        table = table.replace_schema_metadata(md)
        with atomic_path(target) as tmp:
            pq.write_table(table, tmp)
        written.append(target)
    sidecar = out_dir / f"{name}.meta.json"
    write_text(sidecar, json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    written.append(sidecar)
    return written


def write_single(df: pd.DataFrame, path: str | Path) -> Path:
    """Write one table to ``path`` choosing the format from its suffix (.csv or .parquet), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        elif suffix == ".parquet":
            table = pa.Table.from_pandas(df, preserve_index=False)
            md = dict(table.schema.metadata or {})
            md.pop(b"pandas", None)
            pq.write_table(table.replace_schema_metadata(md), tmp)
        else:
            from gep.core.errors import InputError

            raise InputError(f"{path}: unknown table format '{suffix}'; use .csv or .parquet")
    return path


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`write_table` or :func:`write_single` (CSV or Parquet).

    String-like key columns (``region_code``, ``lc_code``…) stay strings so leading zeros survive.
    """
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"region_code": str, "region_id": str, "lc_code": str}, encoding="utf-8")
