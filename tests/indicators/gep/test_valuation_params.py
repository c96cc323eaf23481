"""Parameter files of the GEP accounts: every shipped file carries status and source; loaders reject bad input."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from gep.core.errors import InputError
from gep.core.resources import DATA_DIR
from gep.config.gep import GepConfig, load_gep_config
from gep.indicators.gep.params import code_set, load_carbon_pools, load_runoff, load_usle_cp, read_param_file, scalar

OURS = ["xie2015_equivalent_factors", "ecosystem_map_clcd", "runoff_coefficients_clcd", "usle_cp_clcd",
        "soil_retention_dolkar2017", "carbon_oxygen", "climate_regulation", "prices_dolkar2017", "deflator_demo",
        "carbon_pools_clcd"]


@pytest.mark.parametrize("name", OURS)
def test_every_shipped_file_has_status_and_source(name):
    pf = read_param_file(name)
    assert pf.status.strip() and pf.source.strip()
    # nothing V2/P may pass as official: their status says so
    assert any(tag in pf.status for tag in ("V", "P", "DEMO"))


def test_statuses_of_the_key_files():
    assert read_param_file("xie2015_equivalent_factors").status == "V2"
    assert read_param_file("prices_dolkar2017").status == "V, one study's prices, NOT national defaults"
    assert read_param_file("carbon_pools_clcd").status == "P"
    assert "DEMO" in read_param_file("deflator_demo").status
    co = read_param_file("carbon_oxygen")
    assert co.data["nep_npp_ratio"]["status"] == "P"
    assert scalar(co, "carbon_fraction_dry_matter") == 0.45 and co.data["carbon_fraction_dry_matter"]["status"] == "P"
    assert "co2_per_c" not in co.data and "o2_per_co2" not in co.data  # molar ratios live in gep.core.units only
    cl = read_param_file("climate_regulation")
    assert scalar(cl, "latent_heat") == 2.45 and cl.data["latent_heat"]["status"] == "V"
    for key in ("cop", "humidifier_kwh_per_m3", "cooling_days"):
        assert cl.data[key]["status"] == "P" and cl.data[key]["source"].strip()
    assert "cooling_share" not in cl.data
    assert cl.data["vegetation"]["classes"] == {2: "forest", 3: "shrub", 4: "grass"}
    assert {k: v["value"] for k, v in cl.data["transpiration_share"].items()} == {"forest": 0.6, "shrub": 0.6,
                                                                                  "grass": 0.6}
    assert code_set(cl, "water") == ([5, 9], 1.0)
    prices = read_param_file("prices_dolkar2017").data["prices"]
    assert prices["carbon"] == {**prices["carbon"], "value": 380.0, "unit": "元/t CO₂", "basis": "CO2"}
    assert prices["oxygen"] == {**prices["oxygen"], "value": 727.0, "unit": "元/t O₂", "basis": "O2"}


def test_runoff_values_follow_gong_2017():
    r = load_runoff(scheme_codes=range(1, 10))
    assert r.values["alpha"][2] == pytest.approx(0.0465) and r.values["alpha"][9] == 0.0
    assert r.values["alpha"][8] == pytest.approx(0.65) and r.values["alpha"][1] == pytest.approx(0.0957)
    assert np.isnan(r.values["alpha"][6])  # snow and ice: no coefficient
    assert code_set(r.file, "counted") == ([1, 2, 3, 4, 5, 7, 8, 9], 1.0)
    raw = yaml.safe_load((DATA_DIR / "parameters" / "runoff_coefficients_clcd.yaml").read_text(encoding="utf-8"))
    assert raw["types"]["落叶阔叶林"]["alpha_pct"] == 2.70 and raw["types"]["园地"]["alpha_pct"] == 9.57
    assert raw["types"]["草地"]["alpha_pct_range"] == [3.9, 9.4]


def test_bad_files_are_input_errors(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("name: x\nsource: s\nclasses: {1: {c: 0.1, p: 1}}\n", encoding="utf-8")
    with pytest.raises(InputError, match="'status' is missing"):
        load_usle_cp(f)
    f.write_text("name: x\nstatus: P\nsource: s\nclasses: {1: {c: 1.5, p: 1}}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"classes.1.c: 1.5 is above 1"):
        load_usle_cp(f)
    f.write_text("name: x\nstatus: P\nsource: s\nclasses: {1: {above: x, below: 1, soil: 1, dead: 1}}\n",
                 encoding="utf-8")
    with pytest.raises(InputError, match="'x' is not a number"):
        load_carbon_pools(f)
    f.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        read_param_file(f)
    with pytest.raises(InputError, match="unknown parameter 'nope'"):
        read_param_file("nope")


def test_gep_config_defaults_and_errors():
    cfg = GepConfig()
    assert cfg.gep_tier == 2 and cfg.parameters.prices == "prices_dolkar2017" and cfg.deflator is None
    assert cfg.ls.l_max == 122.0 and cfg.verdict.rule == "previous"
    c = load_gep_config({"rasters": {"precipitation": "p_{year}.tif", "erodibility": 0.03,
                                     "npp": {"path": "n.tif", "scale": 0.1}}})
    assert c.rasters.precipitation.path == "p_{year}.tif" and c.rasters.erodibility.value == 0.03
    assert str(c.rasters.precipitation.path_for(2020)) == "p_2020.tif"
    with pytest.raises(InputError) as err:
        load_gep_config({"servces": [], "gep_tier": 3, "rasters": {"npp": {"path": "a", "value": 1}},
                         "verdict": {"rule": "sometimes"}})
    lines = err.value.lines()
    assert len(lines) == 4
    assert any("'servces' is not a known setting" in x for x in lines)
    with pytest.raises(InputError, match="reference_mean"):
        load_gep_config({"tier1": {"regulators": {"npp": {"raster": "npp.tif"}}}})
