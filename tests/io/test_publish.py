"""The publish guard: a published year's numbers never change silently, compared by value (not by how a
column happens to print), and a frozen file that was edited or deleted is caught, never skipped."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from gep.core.errors import InputError
from gep.io import publish as pub
from gep.io.provenance import sha256


@pytest.fixture
def out_root(tmp_path, monkeypatch):
    """A run folder with 2021 published: one coverage table of two rows (its previous_year printed as an int)."""
    monkeypatch.setattr(pub, "input_checksums", lambda cfg: {})  # no inputs to checksum in these tables
    frozen = tmp_path / "published" / "2021" / "county" / "coverage_trend.csv"
    frozen.parent.mkdir(parents=True)
    frozen.write_text("region_code,year,previous_year,coverage_pct\n430124,2021,2020,61.25\n430125,2021,2020,40.5\n",
                      encoding="utf-8")
    manifest = {"year": 2021, "files": {"county/coverage_trend.csv": sha256(frozen)}, "inputs": {}, "config": {}}
    (frozen.parents[1] / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return tmp_path


def _fresh(coverage=(61.25, 40.5)):
    # every year of the run: the first year has no previous year, so the column is float and prints 2020.0
    return pd.DataFrame({"region_code": ["430124", "430125"] * 2, "year": [2020, 2020, 2021, 2021],
                         "previous_year": [None, None, 2020, 2020], "coverage_pct": [60.0, 40.0, *coverage]})


def test_same_values_printed_differently_pass(out_root):
    assert pub._csv_bytes(pub._year_rows(_fresh(), 2021)) != (out_root / "published/2021/county/coverage_trend.csv"
                                                              ).read_bytes()  # 2020.0 against 2020
    pub.guard(out_root, "county", "coverage_trend", _fresh(), {})


def test_a_changed_value_is_refused_naming_its_row(out_root):
    with pytest.raises(InputError) as err:
        pub.guard(out_root, "county", "coverage_trend", _fresh(coverage=(61.25, 40.75)), {})
    msg = str(err.value)
    assert "published 2021 numbers would change" in msg
    assert "region_code=430125" in msg and "coverage_pct: 40.5 → 40.75" in msg
    assert "430124" not in msg  # the unchanged row is not listed
    pub.guard(out_root, "county", "coverage_trend", _fresh(coverage=(61.25, 40.75)), {"republish": [2021]})


def test_a_deleted_frozen_table_does_not_open_the_gate(out_root):
    (out_root / "published/2021/county/coverage_trend.csv").unlink()
    with pytest.raises(InputError) as err:
        pub.guard(out_root, "county", "coverage_trend", _fresh(coverage=(99.0, 99.0)), {})
    assert "coverage_trend.csv: published file was deleted" in str(err.value)
    assert pub.frozen_problems(out_root) and not pub.frozen_problems(out_root, skip_years=[2021])


def test_an_edited_frozen_table_is_reported(out_root):
    frozen = out_root / "published/2021/county/coverage_trend.csv"
    frozen.write_text(frozen.read_text(encoding="utf-8").replace("40.5", "45.5"), encoding="utf-8")
    problems = pub.frozen_problems(out_root)
    assert len(problems) == 1 and "was edited since publishing" in problems[0]
    with pytest.raises(InputError):
        pub.guard(out_root, "county", "coverage_trend", _fresh(), {})


def test_rows_where_none_were_published_are_refused(out_root):
    with pytest.raises(InputError, match="had no gep_summary rows"):
        pub.guard(out_root, "county", "gep_summary", _fresh(), {})
    pub.guard(out_root, "county", "gep_summary", _fresh().iloc[:2], {})  # no 2021 rows: nothing to compare
