"""Tables as Excel reads them: CSVs start with the UTF-8 byte-order mark (else Excel on Chinese Windows shows
mojibake), every reader of gep's own CSVs reads them back with region codes as text, and plain UTF-8 is there
for tools that want no BOM."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from gep.core.errors import InputError
from gep.io import publish as pub
from gep.io.tables import csv_bytes, read_table, write_single, write_table

BOM = b"\xef\xbb\xbf"


def _df():
    return pd.DataFrame({"region_code": ["430102000000", "0101"], "region_name": ["芙蓉区", "零一"],
                         "coverage_pct": [48.79, 12.5]})


def test_csv_starts_with_the_bom_and_reads_back_with_codes_as_text(tmp_path):
    csv, parquet, meta = write_table(_df(), tmp_path, "t", units={"coverage_pct": "%"})
    raw = csv.read_bytes()
    assert raw.startswith(BOM)
    # the rest is the plain UTF-8 text, once: BOM + header + two rows
    assert raw == BOM + "region_code,region_name,coverage_pct\n430102000000,芙蓉区,48.79\n0101,零一,12.5\n".encode()
    back = read_table(csv)
    assert list(back.columns) == ["region_code", "region_name", "coverage_pct"]  # no '\ufeffregion_code'
    assert back["region_code"].tolist() == ["430102000000", "0101"]
    assert read_table(parquet)["region_code"].tolist() == ["430102000000", "0101"]
    assert json.loads(meta.read_text(encoding="utf-8"))["units"] == {"coverage_pct": "%"}


def test_plain_utf8_on_request_and_unknown_encodings_refused(tmp_path):
    (csv,) = [p for p in write_table(_df(), tmp_path, "t", encoding="utf-8") if p.suffix == ".csv"]
    assert csv.read_bytes().startswith(b"region_code,")
    assert read_table(csv)["region_code"].tolist() == ["430102000000", "0101"]
    one = write_single(_df(), tmp_path / "one.csv")
    assert one.read_bytes().startswith(BOM) and read_table(one).equals(read_table(csv))
    with pytest.raises(InputError, match="gbk.*utf-8-sig"):
        write_single(_df(), tmp_path / "x.csv", encoding="gbk")
    assert not (tmp_path / "x.csv").exists()


def test_csv_bytes_are_the_file_bytes(tmp_path):
    csv, _meta = write_table(_df(), tmp_path, "t", formats=("csv",))
    assert csv_bytes(_df()) == csv.read_bytes()
    assert pd.read_csv(io.BytesIO(csv_bytes(_df())), dtype=str).columns[0] == "region_code"


def test_publish_guard_compares_by_value_across_the_bom(tmp_path, monkeypatch):
    """A year frozen by an older gep (no BOM) is not a change; a changed number still is."""
    monkeypatch.setattr(pub, "input_checksums", lambda cfg: {})
    frozen = tmp_path / "published" / "2021" / "county" / "t.csv"
    frozen.parent.mkdir(parents=True)
    rows = _df().assign(year=2021)
    frozen.write_bytes(csv_bytes(rows, encoding="utf-8"))
    from gep.io.provenance import sha256

    manifest = {"year": 2021, "files": {"county/t.csv": sha256(frozen)}, "inputs": {}, "config": {}}
    (tmp_path / "published" / "2021" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    pub.guard(tmp_path, "county", "t", rows, {})
    with pytest.raises(InputError, match="coverage_pct: 12.5 → 13.5"):
        pub.guard(tmp_path, "county", "t", rows.assign(coverage_pct=[48.79, 13.5]), {})
    # and a freshly published year is written with the BOM
    monkeypatch.setattr(pub, "input_checksums", lambda cfg: {})
    (tmp_path / "tables" / "county").mkdir(parents=True)
    rows.to_parquet(tmp_path / "tables" / "county" / "t.parquet")
    target = pub.publish(tmp_path, {}, 2021, republish=True)
    assert (target / "county" / "t.csv").read_bytes() == csv_bytes(rows)
