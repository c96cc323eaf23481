"""The zonal sums of one year's GEP rasters per region: the only raster work behind the GEP tables.

A year's sums table has one row per region and layer:

- ``region_code``: the region (str);
- ``layer``: a Tier-2 service whose density raster was summed (``water_conservation``, ``soil_retention``,
  ``carbon_sequestration``, ``climate_regulation``; the CO₂ density also stands for oxygen_release, whose
  totals are the CO₂ totals × 32/44) or ``regulator:NAME`` for a Tier-1 regulator raster;
- ``sum``: Σ value × covered area (the raster's unit × m², e.g. mm·m²; see :func:`gep.raster.zonal.zonal_sum`);
- ``covered_m2``: the area of the region with valid values (m²), for the coverage check.

The workflow writes one table per region level and year (``interim/LEVEL/gep_sums_YEAR.parquet``, rule
gep_sums), so that adding a year reads that year's rasters only, and the GEP tables of every year are built from
the sums without reading a raster. The values are float64 and Parquet keeps them bit for bit, so tables built
from stored sums are identical to tables built in one process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from gep.core.errors import InputError

COLUMNS = ["region_code", "layer", "sum", "covered_m2"]
REGULATOR = "regulator:"


def regulator_layer(name: str) -> str:
    """The layer name of the Tier-1 regulator raster ``name``."""
    return f"{REGULATOR}{name}"


def sums_table(region_codes: Iterable[str], sums: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """One year's table from ``{layer: zonal_sum result (nregions, 2)}`` in ``region_codes`` order."""
    codes = np.asarray([str(c) for c in region_codes], dtype=object)
    parts = [pd.DataFrame({"region_code": codes, "layer": layer, "sum": s[:, 0].astype(np.float64),
                           "covered_m2": s[:, 1].astype(np.float64)}) for layer, s in sums.items()]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("region_code", "layer") else float)
                             for c in COLUMNS})
    return pd.concat(parts, ignore_index=True)[COLUMNS]


class YearSums:
    """One year's sums, looked up by layer in a fixed region order."""

    def __init__(self, table: pd.DataFrame, region_codes: Iterable[str], layers: Iterable[str], source: str):
        """Check that ``table`` has every layer for every region of ``region_codes`` (once), else InputError
        naming ``source`` (the file, or what computed it)."""
        codes = [str(c) for c in region_codes]
        missing_cols = [c for c in COLUMNS if c not in table.columns]
        if missing_cols:
            raise InputError(f"{source}: columns {', '.join(missing_cols)} missing; redo the GEP sums of that "
                             f"year (rule gep_sums)")
        t = table.assign(region_code=table["region_code"].astype(str))
        if t.duplicated(["region_code", "layer"]).any():
            raise InputError(f"{source}: a region has two rows for one layer; redo the GEP sums of that year "
                             f"(rule gep_sums)")
        self._by_layer: dict[str, pd.DataFrame] = {}
        for layer in layers:
            rows = t[t["layer"] == layer].set_index("region_code").reindex(codes)
            lacking = rows.index[rows["sum"].isna() & rows["covered_m2"].isna()]
            if len(lacking):
                raise InputError(f"{source}: no {layer} sums for region(s) {', '.join(lacking[:5])}"
                                 f"{' …' if len(lacking) > 5 else ''}; the regions or services changed since "
                                 f"they were computed: redo the GEP sums of that year (rule gep_sums)")
            self._by_layer[layer] = rows
        self.source = source

    def get(self, layer: str) -> tuple[np.ndarray, np.ndarray]:
        """(Σ value·m², covered m²) per region, in the region order given."""
        rows = self._by_layer[layer]
        return rows["sum"].to_numpy(dtype=np.float64), rows["covered_m2"].to_numpy(dtype=np.float64)


def read_year_sums(path: str | Path, region_codes: Iterable[str], layers: Iterable[str]) -> YearSums:
    """The sums table at ``path`` (written by the gep_sums stage), checked against the regions and layers."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: GEP sums missing; run `gep stage gep-sums` for that year first (the workflow's "
                         f"gep_sums rule)")
    return YearSums(pd.read_parquet(path), region_codes, layers, str(path))


__all__ = ["COLUMNS", "REGULATOR", "YearSums", "read_year_sums", "regulator_layer", "sums_table"]
