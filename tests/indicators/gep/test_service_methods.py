"""The drafting group's formulas for climate regulation, carbon and oxygen on an explicit mass basis, and water
conservation over the counted classes (docs/methods.md §4.2.1, §4.2.3, §4.2.4), by hand on a tiny grid."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from helpers_raster import write_tif

from gep.config.gep import load_gep_config
from gep.core.errors import InputError
from gep.core.units import carbon_basis, price_on_basis, tonnes_on_basis
from gep.indicators.gep import write_service_rasters
from gep.indicators.gep.params import load_prices
from gep.indicators.gep.services.carbon_sequestration import price_per_co2

LON0, LAT0, RES = 112.0, 28.0, 0.001
YEAR = 2020
# forest, shrub, grass, water, wetland, cropland / impervious, snow, barren, forest, grass, water
LC = np.array([[2, 3, 4, 5, 9, 1],
               [8, 6, 7, 2, 4, 5]], dtype=np.uint8)
T_LC = Affine(RES, 0, LON0, 0, -RES, LAT0)
HEAT = 1e-3 * 1000 * 2.45 / 3.6   # kWh to evaporate 1 mm over 1 m² (λ 2.45 MJ/kg, 3.6 MJ/kWh)


def _field(tmp, name, values):
    return str(write_tif(tmp / f"{name}_{YEAR}.tif", np.asarray(values, np.float32), T_LC, "EPSG:4326",
                         nodata=-9999.0)).replace(str(YEAR), "{year}")


def _rasters(tmp, services, rasters, parameters=None):
    lc = write_tif(tmp / f"lc_{YEAR}.tif", LC, T_LC, "EPSG:4326", nodata=0)
    cfg = load_gep_config({"services": services, "rasters": rasters, "deflator": "deflator_demo",
                           "parameters": parameters or {}, "chunk": 64})
    out = {}
    for path in write_service_rasters(cfg, YEAR, landcover_path=lc, raster_dir=tmp / "r", landcover_nodata=0):
        with rasterio.open(path) as src:
            out[path.name.split(f"_{YEAR}")[0]] = src.read(1).astype(np.float64)
    return out


# ---------------------------------------------------------------------------------------------------------
# climate regulation (docs/methods.md §4.2.3)


def test_climate_regulation_default_route_by_hand(tmp_path):
    """ET × transpiration share 0.6 × 90/365 cooling days × heat / r 3 on forest, shrub, grass; open water and
    wetland: evaporation (here ET) × 90/365 × (heat + γ 100 kWh/m³ × 10⁻³), not ÷ r; other classes 0."""
    et = np.array([[600, 700, 800, 1000, 900, 500], [400, 300, 200, 650, 750, 1100]])
    got = _rasters(tmp_path, ["climate_regulation"], {"et": _field(tmp_path, "et", et)})["climate_regulation"]
    d = 90 / 365
    # forest, 600 mm: 600 × 0.6 = 360 mm transpired; 88.767 mm on cooling days; × 0.68056 / 3 = 20.137 kWh/m²
    assert got[0, 0] == pytest.approx(600 * 0.6 * d * HEAT / 3, rel=1e-6) == pytest.approx(20.1370, rel=1e-4)
    assert got[0, 1] == pytest.approx(700 * 0.6 * d * HEAT / 3, rel=1e-6)
    assert got[0, 2] == pytest.approx(800 * 0.6 * d * HEAT / 3, rel=1e-6)
    # water, 1000 mm: 246.58 mm on cooling days × (0.68056 + 0.1) = 192.47 kWh/m²
    assert got[0, 3] == pytest.approx(1000 * d * (HEAT + 0.1), rel=1e-6) == pytest.approx(192.466, rel=1e-4)
    assert got[0, 4] == pytest.approx(900 * d * (HEAT + 0.1), rel=1e-6)
    assert got[1, 5] == pytest.approx(1100 * d * (HEAT + 0.1), rel=1e-6)
    np.testing.assert_array_equal(got[[0, 1, 1, 1], [5, 0, 1, 2]], 0.0)  # cropland, impervious, snow, barren


def test_climate_regulation_with_transpiration_and_cooling_day_rasters(tmp_path):
    """A transpiration raster replaces ET × share; a cooling-days raster replaces the default 90 d; an
    evaporation raster is used on water; a cooling-season transpiration raster is used as it is."""
    et = np.full(LC.shape, 800.0)
    tr = np.full(LC.shape, 365.0)               # mm/a transpired
    days = np.array([[73, 146, 0, 36.5, 73, 73], [73, 73, 73, 365, 10, 73]], dtype=np.float64)
    ev = np.full(LC.shape, 1460.0)              # mm/a open-water evaporation
    rasters = {"et": _field(tmp_path, "et", et), "transpiration": _field(tmp_path, "tr", tr),
               "cooling_days": _field(tmp_path, "days", days), "evaporation": _field(tmp_path, "ev", ev)}
    got = _rasters(tmp_path, ["climate_regulation"], rasters)["climate_regulation"]
    # forest, 73 d: 365 mm × 73/365 = 73 mm × 0.68056 / 3 = 16.560 kWh/m²; shrub, 146 d: twice that; grass, 0 d: 0
    assert got[0, 0] == pytest.approx(73 * HEAT / 3, rel=1e-6) == pytest.approx(16.5602, rel=1e-4)
    assert got[0, 1] == pytest.approx(2 * 73 * HEAT / 3, rel=1e-6)
    assert got[0, 2] == 0.0
    # water, 36.5 d: 1460 × 0.1 = 146 mm × (0.68056 + 0.1) = 113.961 kWh/m²; forest with 365 d: all 365 mm
    assert got[0, 3] == pytest.approx(146 * (HEAT + 0.1), rel=1e-6) == pytest.approx(113.9611, rel=1e-4)
    assert got[1, 3] == pytest.approx(365 * HEAT / 3, rel=1e-6)
    # the cooling-season transpiration is used as given: 50 mm × 0.68056 / 3 = 11.343 kWh/m², whatever d is
    cool = {**rasters, "transpiration_cooling": _field(tmp_path, "trc", np.full(LC.shape, 50.0))}
    (tmp_path / "b").mkdir()
    got2 = _rasters(tmp_path / "b", ["climate_regulation"], cool)
    forest = got2["climate_regulation"][[0, 1], [0, 3]]
    np.testing.assert_allclose(forest, 50 * HEAT / 3, rtol=1e-6)
    assert got2["climate_regulation"][0, 3] == pytest.approx(146 * (HEAT + 0.1), rel=1e-6)  # water unchanged


def test_cooling_days_as_a_constant(tmp_path):
    got = _rasters(tmp_path, ["climate_regulation"], {"et": 1000.0, "cooling_days": 36.5})["climate_regulation"]
    # forest: 1000 × 0.6 × 0.1 = 60 mm × 0.68056 / 3 = 13.611 kWh/m²; water: 100 mm × 0.78056 = 78.056 kWh/m²
    assert got[0, 0] == pytest.approx(13.6111, rel=1e-4) and got[0, 3] == pytest.approx(78.0556, rel=1e-4)


def test_cooling_days_counted_from_daily_maximum_temperatures(tmp_path):
    """gep.rasters.cooling_days from a 100-band daily Tmax raster with count_above: 26 °C."""
    tmax = np.full((100,) + LC.shape, 20.0, np.float32)
    tmax[:73, 0, 0] = 30.0          # the forest cell: 73 days above 26 °C
    tmax[:10, 0, 3] = 26.0          # the water cell: 26.0 is not above 26
    with rasterio.open(tmp_path / "tmax.tif", "w", driver="GTiff", height=2, width=6, count=100, dtype="float32",
                       crs="EPSG:4326", transform=T_LC) as dst:
        dst.write(tmax)
    days = {"path": str(tmp_path / "tmax.tif"), "count_above": 26.0}
    got = _rasters(tmp_path, ["climate_regulation"], {"et": 1000.0, "cooling_days": days})["climate_regulation"]
    # forest: 1000 × 0.6 × 73/365 = 120 mm × 0.68056 / 3 = 27.222 kWh/m²; every other cell has 0 cooling days
    assert got[0, 0] == pytest.approx(27.2222, rel=1e-4)
    assert got[0, 3] == 0.0 and got[1, 3] == 0.0


def test_old_climate_table_with_cooling_share_is_refused(tmp_path):
    f = tmp_path / "climate.yaml"
    f.write_text("name: x\nstatus: P\nsource: s\ncooling_share: 1.0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"climate\.yaml: key 'cooling_share' is no longer used; remove it and give "
                                         r"'cooling_days'"):
        _rasters(tmp_path, ["climate_regulation"], {"et": 800.0}, {"climate": str(f)})


# ---------------------------------------------------------------------------------------------------------
# carbon and oxygen on an explicit basis (docs/methods.md §4.2.4)


def test_basis_conversions_by_hand():
    assert carbon_basis("元/t CO₂") == "CO2" and carbon_basis("t C") == "C" and carbon_basis("O₂") == "O2"
    with pytest.raises(ValueError, match="names no carbon basis"):
        carbon_basis("元/t")
    assert tonnes_on_basis(12.0, "C", "CO2") == pytest.approx(44.0)
    assert tonnes_on_basis(44.0, "CO2", "O2") == pytest.approx(32.0)
    assert price_on_basis(380.0, "C", "CO2") == pytest.approx(103.6363636)   # 380 × 12/44
    assert price_on_basis(380.0, "CO2", "CO2") == 380.0


def _prices(tmp_path, carbon: str):
    f = tmp_path / "prices.yaml"
    f.write_text(f"name: p\nstatus: P\nsource: s\nbase_year: 2010\nprices:\n  carbon: {carbon}\n", encoding="utf-8")
    return load_prices(f)


def test_carbon_price_is_restated_on_the_co2_basis(tmp_path):
    builtin = price_per_co2(load_prices("prices_dolkar2017"))
    assert builtin.value == 380.0 and builtin.unit == "元/t CO₂"     # the study applied 380 元/t to t CO₂
    per_c = price_per_co2(_prices(tmp_path, "{value: 440, unit: 元/t C, basis: C}"))
    assert per_c.value == pytest.approx(120.0)                      # 440 × 12/44
    assert price_per_co2(_prices(tmp_path, "{value: 440, unit: 元/t C}")).value == pytest.approx(120.0)
    with pytest.raises(InputError, match=r"prices\.carbon: unit '元/t C' and basis 'CO2' disagree"):
        price_per_co2(_prices(tmp_path, "{value: 440, unit: 元/t C, basis: CO2}"))
    with pytest.raises(InputError, match=r"prices\.carbon: unit '元/t' does not say per t of what; add 'basis: CO2'"):
        price_per_co2(_prices(tmp_path, "{value: 440, unit: 元/t}"))


def test_npp_in_dry_matter_is_turned_into_carbon(tmp_path):
    npp = np.full(LC.shape, 1000.0)
    path = _field(tmp_path, "npp", npp)
    in_c = _rasters(tmp_path, ["carbon_sequestration", "oxygen_release"], {"npp": path})
    # forest: 1000 g C × 0.3 × 44/12 = 1100 g CO₂/m²; O₂ = 1100 × 32/44 = 800 g/m²
    assert in_c["carbon_sequestration"][0, 0] == pytest.approx(1100.0, rel=1e-6)
    assert in_c["oxygen_release"][0, 0] == pytest.approx(800.0, rel=1e-6)
    (tmp_path / "dm").mkdir()
    dm = _rasters(tmp_path / "dm", ["carbon_sequestration"], {"npp": {"path": path, "basis": "dry_matter"}})
    # 1000 g dry matter × 0.45 = 450 g C × 0.3 × 44/12 = 495 g CO₂/m²
    assert dm["carbon_sequestration"][0, 0] == pytest.approx(495.0, rel=1e-6)
    with pytest.raises(InputError, match="'basis' applies to npp only"):
        load_gep_config({"rasters": {"et": {"value": 1.0, "basis": "C"}}})


# ---------------------------------------------------------------------------------------------------------
# water conservation over the counted classes (docs/methods.md §4.2.1)


def test_water_conservation_counts_every_class_with_a_coefficient(tmp_path):
    rasters = {"precipitation": 1000.0, "et": 600.0}
    got = _rasters(tmp_path, ["water_conservation"], rasters)["water_conservation"]
    # Q = 1000 − 1000·α − 600: cropland α 9.57 % → 304.3; impervious 65 % → −250; barren 30 % → 100;
    # water and wetland α 0 → 400; forest 4.65 % → 353.5; snow and ice (no α) → 0
    expect = np.array([[353.5, 358.0, 333.5, 400.0, 400.0, 304.3], [-250.0, 0.0, 100.0, 353.5, 333.5, 400.0]])
    np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_counted_list_limits_the_classes(tmp_path):
    f = tmp_path / "runoff.yaml"
    rows = "".join(f"  {c}: {{alpha_pct: 10}}\n" for c in range(1, 10))
    f.write_text(f"name: x\nstatus: P\nsource: s\ncounted: {{codes: [2, 4]}}\nclasses:\n{rows}", encoding="utf-8")
    got = _rasters(tmp_path, ["water_conservation"], {"precipitation": 1000.0, "et": 600.0},
                   {"runoff": str(f)})["water_conservation"]
    np.testing.assert_allclose(got, np.where(np.isin(LC, [2, 4]), 300.0, 0.0))   # 1000 − 100 − 600
    f.write_text(f"name: x\nstatus: P\nsource: s\ncounted: {{codes: [2, 6]}}\nclasses:\n{rows}"
                 .replace("6: {alpha_pct: 10}", "6: {alpha_pct: null}"), encoding="utf-8")
    (tmp_path / "c").mkdir()
    with pytest.raises(InputError, match=r"runoff\.yaml: counted: class\(es\) 6 have no alpha_pct"):
        _rasters(tmp_path / "c", ["water_conservation"], {"precipitation": 1000.0, "et": 600.0}, {"runoff": str(f)})


def test_npp_flag_codes_become_nodata_through_the_config(tmp_path):
    """gep.rasters.npp.valid_range: a MOD17 fill code (32766) is nodata, not 3276.6 g C/m²."""
    raw = np.full(LC.shape, 6000, np.int16)     # 600.0 g C/m² after scale 0.1
    raw[0, 0] = 32766
    write_tif(tmp_path / f"npp_{YEAR}.tif", raw, T_LC, "EPSG:4326")
    npp = {"path": str(tmp_path / "npp_{year}.tif"), "scale": 0.1, "valid_range": [0, 32700]}
    got = _rasters(tmp_path, ["carbon_sequestration"], {"npp": npp})["carbon_sequestration"]
    assert np.isnan(got[0, 0])
    assert got[1, 3] == pytest.approx(600 * 0.3 * 44 / 12, rel=1e-6)   # forest: 660 g CO₂/m²
