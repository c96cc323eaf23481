"""Open rows of the statistics table (gep.indicators.gep.statistics): any item enters when its row says its
category, value unit and basis; the seven built-in services keep their implied categories."""

from __future__ import annotations

import pandas as pd
import pytest

from gep.cli.main import main
from gep.core.errors import InputError
from gep.indicators.gep.statistics import STAT_SERVICES, read_statistics

HEAD = "region_code,year,service,service_zh,category,basis,value,value_unit,quantity,quantity_unit,source\n"


def _csv(tmp_path, body: str):
    path = tmp_path / "s.csv"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def test_open_rows_enter_with_their_category(tmp_path):
    path = _csv(tmp_path,
                "001,2020,agriculture,,,,5,万元,,,yearbook\n"
                "001,2020,pollination,授粉,regulating,replacement cost,2.5,亿元,3,万hm²,study\n"
                "001,2020,herbs,中药材,material,net output value,7,万元,12,万t,yearbook\n"
                "001,2020,museum_visits,自然教育,文化服务,ticket income,300,元,,,\n")
    st = read_statistics(path, region_codes=["001"], years=[2020], services=["agriculture"]).set_index("service")
    assert list(st.index) == ["agriculture", "pollination", "herbs", "museum_visits"]   # open rows always enter
    assert st.loc["pollination", "value_yuan"] == pytest.approx(2.5e8)
    assert st.loc["pollination", "quantity"] == pytest.approx(3e8) and st.loc["pollination", "quantity_unit"] == "m²"
    assert st.loc["herbs", "quantity"] == pytest.approx(1.2e5) and st.loc["herbs", "quantity_unit"] == "t"
    # the run's word for 物质产品 is "provisioning"; Chinese category names are read too
    assert st["category"].tolist() == ["provisioning", "regulating", "provisioning", "cultural"]
    assert st.loc["herbs", "basis"] == "net output value" and st.loc["museum_visits", "service_zh"] == "自然教育"
    assert st.loc["museum_visits", "value_yuan"] == 300.0


def test_open_row_problems(tmp_path):
    path = _csv(tmp_path,
                "001,2020,pollination,,,replacement cost,1,元,,,\n"           # no category
                "001,2020,pollination2,,supporting,x,1,元,,,\n"               # unknown category
                "001,2020,herbs,,material,,1,元,,,\n"                         # no basis
                "001,2020,herbs2,,material,net,1,,,,\n"                       # no value unit
                "001,2020,herbs3,,material,net,1,元,5,,\n"                    # quantity without unit
                "001,2020,carbon_sequestration,,regulating,x,1,元,,,\n"       # computed by gep
                "001,2020,tourism,,material,,1,元,,,\n"                       # not tourism's category
                "001,2020,agriculture,,provisioning,,1,元,,,\n")              # alias of material: fine
    with pytest.raises(InputError) as err:
        read_statistics(path)
    lines = err.value.lines()
    text = "\n".join(lines)
    for needle in ("line 2: service 'pollination' is not one of", "line 3: category 'supporting' of pollination2",
                   "line 4: basis of herbs is empty", "line 5: value_unit '' is not one of",
                   "line 6: quantity_unit '' of herbs3 is not a unit", "line 7: service 'carbon_sequestration' is a "
                   "service gep computes", "line 8: category 'material' of tourism is not its category cultural"):
        assert needle in text, needle
    assert len(lines) == 7 and all(str(path) in line for line in lines)


def test_template_has_category_and_basis_and_reads_back(tmp_path, capsys):
    out = tmp_path / "tpl.csv"
    assert main(["gep-template", str(out), "--years", "2020"]) == 0
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert {"category", "basis"} <= set(df.columns)
    assert dict(zip(df["service"], df["category"])) == {
        s: ("cultural" if s == "tourism" else "material") for s in STAT_SERVICES}
    df["value"] = "1"
    extra = df.iloc[[0]].assign(service="pollination", service_zh="授粉", category="regulating",
                                basis="replacement cost", value="4")
    pd.concat([df, extra]).to_csv(out, index=False)
    st = read_statistics(out, region_codes=[df["region_code"][0]], years=[2020])
    assert len(st) == len(STAT_SERVICES) + 1
    assert st.set_index("service").loc["pollination", "value_yuan"] == pytest.approx(4e4)     # 4 万元
