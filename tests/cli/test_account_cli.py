"""``gep account``: value quantities with a profile from the command line."""

from __future__ import annotations

import pandas as pd
import pytest

from gep.cli.main import main
from gep.core.resources import data_dir

REFERENCE = data_dir("profiles") / "garze2010_quantities.csv"


def test_account_garze(tmp_path, capsys):
    out = tmp_path / "acc.csv"
    assert main(["account", "garze2010", str(REFERENCE), "--out", str(out)]) == 0
    rows = pd.read_csv(out)
    totals = pd.read_csv(tmp_path / "acc_totals.csv").set_index("line")
    assert len(rows) == 28
    water = rows.set_index("item").loc["water_conservation"]
    assert (water["quantity"], water["quantity_unit"], water["price"], water["price_year"]) == (321.49, "亿m³", 7.06,
                                                                                             2010)
    assert water["value_yuan"] == pytest.approx(321.49e8 * 7.06)
    # GEP from the printed (rounded) quantities; docs/methods.md §4.7 and test_garze_reference explain the 3.36
    assert totals.loc["gep", "value_yi_yuan"] == pytest.approx(7548.950075, abs=1e-6)
    assert totals.loc["cultural", "value_yi_yuan"] == pytest.approx(70.6669)
    assert "GEP 7,548.95 亿元" in capsys.readouterr().out


def test_account_deductions_deflator_and_warning(tmp_path, capsys):
    q = tmp_path / "q.csv"
    q.write_text("item,quantity,unit,year\nwater_conservation,1,亿m³,2015\ntourism,2,亿元,2015\n", encoding="utf-8")
    d = tmp_path / "d.csv"
    d.write_text("item,value,value_unit\n外调水,0.5,亿元\n", encoding="utf-8")
    out = tmp_path / "a.csv"
    assert main(["account", "national_default", str(q), "--out", str(out), "--deflator", "deflator_demo",
                 "--deductions", str(d), "--totals", str(tmp_path / "t.csv")]) == 0
    totals = pd.read_csv(tmp_path / "t.csv").set_index("line")
    # 1 亿m³ × 7.06 元/m³ (2010) × 110.4/100 (DEMO deflator, 2010 → 2015) + 2 亿元 − 0.5 亿元
    assert totals.loc["gep", "value_yi_yuan"] == pytest.approx(7.06 * 1.104 + 2 - 0.5)
    err = capsys.readouterr().err
    assert "warning: the totals include P or DEMO records (not official numbers): water_conservation" in err
    assert "warning: no quantity for item(s) agriculture" in err


def test_account_errors(tmp_path, capsys):
    q = tmp_path / "q.csv"
    q.write_text("item,quantity,unit\nwater_conservation,1,亿m³\n", encoding="utf-8")
    assert main(["account", "garze2010", str(q), "--out", str(tmp_path / "a.csv")]) == 2
    assert "no year column; give the accounting year with --year" in capsys.readouterr().err
    assert main(["account", "garze2010", str(q), "--out", str(tmp_path / "a.csv"), "--year", "2015"]) == 2
    assert "price of 2010 for an account of 2015; give a deflator" in capsys.readouterr().err
    assert main(["account", "nope", str(q), "--out", str(tmp_path / "a.csv")]) == 2
    assert "unknown GEP profile 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "a.csv").exists()
