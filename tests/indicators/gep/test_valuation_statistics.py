"""Statistics table of provisioning and cultural services (gep.indicators.gep.statistics) and the CLI template."""

from __future__ import annotations

import pandas as pd
import pytest

from gep.cli.main import main
from gep.core.errors import InputError
from gep.indicators.gep.statistics import STAT_SERVICES, read_statistics, template


def test_template_and_round_trip(tmp_path):
    regions = pd.DataFrame({"region_code": ["001", "002"], "region_name": ["甲", "乙"]})
    t = template(regions, [2019, 2020])
    assert len(t) == 2 * 2 * len(STAT_SERVICES)
    t["value"] = 3.5
    t.loc[t["service"] == "water_supply", ["quantity", "quantity_unit"]] = [2.0, "万m³"]
    path = tmp_path / "s.csv"
    t.to_csv(path, index=False)
    st = read_statistics(path, region_codes=["001", "002"], years=[2019, 2020])
    assert len(st) == len(t)
    row = st[(st["region_code"] == "001") & (st["service"] == "water_supply")].iloc[0]
    assert row["value_yuan"] == pytest.approx(35_000.0)          # 3.5 万元
    assert row["quantity"] == pytest.approx(20_000.0) and row["quantity_unit"] == "m³"
    assert set(st["category"]) == {"provisioning", "cultural"}
    assert st["region_code"].iloc[0] == "001"                    # leading zeros kept


def test_all_problems_reported_at_once(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        "region_code,year,service,value,value_unit,quantity,quantity_unit\n"
        "001,2020,agriculture,-5,万元,,\n"            # negative
        "001,2020,forestry,12,万美元,,\n"             # unit
        "001,2020,fishing,1,元,,\n"                   # service
        "009,2020,fishery,1,元,,\n"                   # region
        "001,2020,water_supply,1,元,3,tons\n"         # quantity unit
        "001,2020,hydropower,abc,元,,\n"              # not a number
        "001,2020,tourism,,元,,\n"                    # empty
        "001,2020,tourism,1,元,,\n"                   # duplicate
        "001,2018,tourism,1,元,,\n",                  # other year: ignored
        encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_statistics(path, region_codes=["001"], years=[2020])
    text = "\n".join(err.value.lines())
    for needle in ("line 2: value -5 is negative", "line 3: value_unit '万美元'", "line 4: service 'fishing'",
                   "line 5: region_code '009'", "line 6: quantity_unit 'tons'", "line 7: value 'abc'",
                   "line 8: value of tourism 001 2020 is empty", "line 9: duplicate row",
                   "region 001 year 2020: no row for"):
        assert needle in text, needle
    assert len(err.value.lines()) >= 9


def test_missing_file_and_columns(tmp_path):
    with pytest.raises(InputError, match="gep gep-template"):
        read_statistics(tmp_path / "none.csv")
    (tmp_path / "c.csv").write_text("region_code,year\n1,2020\n", encoding="utf-8")
    with pytest.raises(InputError, match="service, value, value_unit"):
        read_statistics(tmp_path / "c.csv")


def test_cli_template(tmp_path, capsys):
    out = tmp_path / "tpl.csv"
    assert main(["gep-template", str(out), "--years", "2020", "2021"]) == 0
    df = pd.read_csv(out, dtype={"region_code": str})
    assert len(df) == 2 * len(STAT_SERVICES) and list(df.columns)[:4] == ["region_code", "region_name", "year",
                                                                           "service"]
    assert main(["gep-template", str(tmp_path / "tpl.xlsx")]) == 2
    assert "CSV" in capsys.readouterr().err
