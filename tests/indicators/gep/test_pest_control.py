"""病虫害控制 pest control (docs/methods.md §4.2.10): natural forest and grassland area × control cost, by hand."""

from __future__ import annotations

import pytest

from gep.indicators.gep import load_gep_config, run_gep
from gep_area_builders import TOWN_A, TOWN_B, YEAR, gep_config, landcover_area, townships


def test_pest_control_by_hand(tmp_path):
    cfg = load_gep_config(gep_config(tmp_path, ["pest_control"]))
    s = run_gep(cfg, years=[YEAR], landcover_area=landcover_area("township"), regions=townships(),
                landcover_path_for_year=lambda y: None, out_dir=tmp_path / "out")["gep_services"]
    s = s.set_index(["region_code", "service"])
    # forest (CLCD 2): A 10 km² = 1000 hm², B 100 hm²; grassland (CLCD 4): A 400 hm², B 800 hm²; natural share 1
    expected = {(TOWN_A, "forest"): (1000.0, 375.0), (TOWN_B, "forest"): (100.0, 375.0),
                (TOWN_A, "grassland"): (400.0, 112.5), (TOWN_B, "grassland"): (800.0, 112.5)}
    for (rc, part), (hm2, price) in expected.items():
        row = s.loc[(rc, f"pest_control:{part}")]
        assert row["quantity"] == pytest.approx(hm2, rel=1e-12)
        assert row["quantity_unit"] == "hm²"
        assert row["value_constant_yuan"] == pytest.approx(hm2 * price, rel=1e-12)
        assert row["value_yuan"] == pytest.approx(hm2 * price * 1.25, rel=1e-12)
    # GEP of A = its two rows
    summ = run_gep(cfg, years=[YEAR], landcover_area=landcover_area("township"), regions=townships(),
                   landcover_path_for_year=lambda y: None, out_dir=tmp_path / "o2")["gep_summary"]
    a = summ.set_index("region_code").loc[TOWN_A, "gep_constant_yuan"]
    assert a == pytest.approx(1000 * 375.0 + 400 * 112.5)
