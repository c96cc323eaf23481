"""Writing tidy tables: CSV and Parquet side by side, atomically, with column units.

CSVs are UTF-8 **with a byte-order mark** by default (:data:`CSV_ENCODING`): Excel on Chinese Windows reads a CSV
without one in the local code page (GBK) and shows the Chinese as mojibake. ``encoding="utf-8"`` writes plain
UTF-8 for tools that want no BOM. Readers of gep's own tables use ``utf-8-sig``, which reads both. (Excel still
turns a 12-digit region code into ``4.30124E+11`` when it opens a CSV: the scorecard's ``tables.xlsx`` holds
every published table with codes as text.)

Column units and parameter sources travel with every table: in the Parquet schema metadata (key ``gep``)
and in a ``NAME.meta.json`` sidecar next to the CSV, so Excel users and other tools both see them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gep.core.atomic import atomic_path, write_text
from gep.core.errors import InputError

FORMATS = ("csv", "parquet")
#: The CSV encoding gep writes: UTF-8 with a byte-order mark, so Excel reads the Chinese right.
CSV_ENCODING = "utf-8-sig"
#: The encoding gep reads its own CSVs with: UTF-8, with or without a byte-order mark.
READ_ENCODING = "utf-8-sig"
ENCODINGS = ("utf-8-sig", "utf-8")


def _check_encoding(encoding: str) -> str:
    if encoding not in ENCODINGS:
        from gep.core.errors import InputError

        raise InputError(f"CSV encoding '{encoding}': use 'utf-8-sig' (UTF-8 with BOM, for Excel) or 'utf-8'")
    return encoding


def csv_bytes(df: pd.DataFrame, *, encoding: str = CSV_ENCODING) -> bytes:
    """``df`` as the bytes of the CSV gep writes (no index, ``\\n`` line ends, BOM unless ``encoding="utf-8"``)."""
    return df.to_csv(index=False, lineterminator="\n").encode(_check_encoding(encoding))


def _write_csv(df: pd.DataFrame, target: Path, encoding: str) -> None:
    with atomic_path(target) as tmp:
        df.to_csv(tmp, index=False, encoding=_check_encoding(encoding), lineterminator="\n")


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
    encoding: str = CSV_ENCODING,
) -> list[Path]:
    """Write ``df`` as ``out_dir/NAME.csv`` and ``out_dir/NAME.parquet`` (atomically) plus a meta sidecar.

    ``encoding``: of the CSV, :data:`CSV_ENCODING` (UTF-8 with BOM) or ``"utf-8"`` (no BOM). Rows are written in the order given: callers sort with a stable key so that output is byte-identical
    across runs. Returns the paths written.
    """
    out_dir = Path(out_dir)
    meta = _meta(name, units, extra)
    written: list[Path] = []
    if "csv" in formats:
        target = out_dir / f"{name}.csv"
        _write_csv(df, target, encoding)
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


def write_single(df: pd.DataFrame, path: str | Path, *, encoding: str = CSV_ENCODING) -> Path:
    """Write one table to ``path`` choosing the format from its suffix (.csv or .parquet), atomically.

    ``encoding``: of a CSV (see :func:`write_table`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _write_csv(df, path, encoding)
        return path
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
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
    return pd.read_csv(path, dtype={"region_code": str, "region_id": str, "lc_code": str}, encoding=READ_ENCODING)


def read_user_csv(path: str | Path, *, what: str, required: Iterable[str] = (), absent_fix: str,
                  columns_fix: str) -> pd.DataFrame:
    """A table a user fills in (statistics, region tables, quantities): every cell as text (codes keep their
    leading zeros), UTF-8 with or without BOM, header names stripped. One-line InputErrors naming the file:
    ``"{path}: {what} does not exist; {absent_fix}"``, unreadable text, and
    ``"{path}: column(s) … missing; {columns_fix}"``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} does not exist; {absent_fix}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as err:
        raise InputError(f"{path}: cannot be read as UTF-8 CSV ({str(err).splitlines()[0]}); save it as "
                         f"CSV UTF-8") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"{path}: column(s) {', '.join(missing)} missing; {columns_fix}")
    return df
