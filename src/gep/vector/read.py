"""Reading polygon layers: the one place where a vector file is opened, its layer chosen, its text decoded and
its ids turned into text. Region boundaries (:mod:`gep.vector.regions`) and the red-line and protected-area
layers (indicator 9) both read through here, so a file gets the same checks and the same messages everywhere.
"""

from __future__ import annotations

import struct
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from gep.core.errors import InputError

# encodings tried, in order, for a shapefile without a .cpg file: UTF-8 (GDAL's output and QGIS's default),
# then GB18030 (a superset of GBK and GB2312, what ArcGIS and older Chinese GIS write)
_CANDIDATE_ENCODINGS = ("utf-8", "gb18030")


def open_layer(path: str | Path, *, layer: str | None, where: str, encoding: str | None = None,
               read_options: dict | None = None) -> tuple[gpd.GeoDataFrame, str | None]:
    """The features of one layer of a vector file, and the layer's name.

    ``where`` starts every error message (e.g. the file, or ``protected.redline (2020) file '…'``). A file
    with several layers needs ``layer``. Text fields of a shapefile without a ``.cpg`` are decoded with
    :func:`shapefile_encoding`; ``encoding`` overrides it. ``read_options`` go to ``pyogrio.read_dataframe``
    (``columns``, ``read_geometry``, ``skip_features``/``max_features`` to read a large layer in chunks).
    """
    src = str(path)
    if not src.startswith("/vsi") and not Path(src).exists():
        raise InputError(f"{where}: file does not exist; check the path in the config")
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(src)]
    except Exception as err:  # noqa: BLE001 - GDAL's reasons vary; the user needs the first line only
        raise InputError(f"{where}: cannot be read as a vector file ({_first_line(err)}); give a vector file "
                         "GDAL reads (GeoPackage, Shapefile, GeoJSON, FileGDB, ...)") from None
    if layer is not None and layer not in layers:
        raise InputError(f"{where}: layer '{layer}' not found; available layers: {', '.join(layers)}")
    if layer is None:  # QGIS keeps the styles saved into a GeoPackage in a table of its own: not a data layer
        data = [n for n in layers if n != "layer_styles"]
        if len(data) > 1:
            raise InputError(f"{where}: the file has {len(data)} layers ({', '.join(data)}); name the one to use "
                             "with the 'layer' setting")
        layer = data[0] if data and len(data) < len(layers) else None
    encoding = encoding or shapefile_encoding(src)
    try:
        gdf = pyogrio.read_dataframe(src, layer=layer, encoding=encoding, **(read_options or {}))
    except Exception as err:  # noqa: BLE001
        raise InputError(f"{where}: cannot be read ({_first_line(err)}); check that the file is complete") from None
    return gdf, layer if layer is not None else (layers[0] if layers else None)


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def shapefile_encoding(path: str | Path) -> str | None:
    """The encoding of a shapefile's text fields when it has no ``.cpg`` file, else None (GDAL decides).

    Without a ``.cpg`` GDAL reads the DBF as Latin-1 unless its language byte says otherwise, so Chinese names
    written as GBK come out as ``³Ç¹ØÕò``. The DBF's text bytes are decoded strictly as UTF-8, then as
    GB18030; the first that decodes every value is used. Pure ASCII needs nothing (None).
    """
    p = Path(str(path))
    if p.suffix.lower() != ".shp" or p.with_suffix(".cpg").exists() or p.with_suffix(".CPG").exists():
        return None
    dbf = next((q for q in (p.with_suffix(".dbf"), p.with_suffix(".DBF")) if q.exists()), None)
    if dbf is None:
        return None
    raw = _dbf_text_bytes(dbf.read_bytes())
    if not raw or raw.isascii():
        return None
    for enc in _CANDIDATE_ENCODINGS:
        try:
            raw.decode(enc)
            return enc.upper()
        except UnicodeDecodeError:
            continue
    raise InputError(f"{dbf}: text fields are neither UTF-8 nor GBK/GB18030 and there is no .cpg file; write the "
                     "encoding's name (e.g. GBK) into a .cpg file next to the .shp, or set the layer's 'encoding'")


def _dbf_text_bytes(data: bytes, limit: int = 1 << 20) -> bytes:
    """The bytes of the character fields of a dBASE file's first records (up to ``limit`` bytes)."""
    if len(data) < 32:
        return b""
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields, offset = [], 1  # each record starts with a deletion flag
    for pos in range(32, header_len - 1, 32):
        if data[pos] == 0x0D:
            break
        kind, length = chr(data[pos + 11]), data[pos + 16]
        if kind == "C":
            fields.append((offset, length))
        offset += length
    out = bytearray()
    for r in range(n_records):
        start = header_len + r * record_len
        if start + record_len > len(data) or len(out) > limit:
            break
        for off, length in fields:
            out += data[start + off:start + off + length].rstrip(b" \x00") + b"\n"
    return bytes(out)


def id_text(values: pd.Series) -> np.ndarray:
    """Ids or codes as text (leading zeros kept); integral floats, which formats without text fields and
    NULL-capable integer columns produce, lose their '.0'. Missing values stay None."""
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v).strip()

    return np.array([one(v) for v in values], dtype=object)


def open_layer_bounds(path: str | Path, layer: str | None) -> tuple[tuple[float, ...], object] | None:
    """(total bounds, CRS) of a vector layer from its header, or None when it cannot be read or has no CRS (the
    layer's own checks report that)."""
    try:
        info = pyogrio.read_info(path, layer=layer, force_total_bounds=True)
    except Exception:  # noqa: BLE001 - reported where the layer is read
        return None
    bounds, crs = info.get("total_bounds"), info.get("crs")
    if bounds is None or crs is None or not np.all(np.isfinite(bounds)):
        return None
    return tuple(float(b) for b in bounds), crs
