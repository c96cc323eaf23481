"""The registry of GEP services (gep.indicators.gep.services.registry, gep.config.gep_services): a new service
declared in one module (here: this test's toy ``pest_toy``) plus one parameter file appears in the config, the
rasters, the sums and the GEP tables without any other edit; its row equals quantity × price by hand."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

from gep.accounting.classes import load_scheme
from gep.accounting.landcover import LandcoverRaster, crosstab_table, landcover_area
from gep.config import gep_services as catalogue
from gep.config.gep import (TIER2_RASTER_SERVICES, load_gep_config, parameter_fields, priced,
                            service_raster_names)
from gep.config.gep_services import ParameterTable, ServiceSpec
from gep.core.errors import InputError
from gep.indicators.gep import run_gep, write_service_rasters, write_year_sums
from gep.indicators.gep.params import read_param_file, scalar
from gep.indicators.gep.services import registry
from gep.indicators.gep.services.base import Block, ParamContext, Price, Service, Valuing, class_lookup
from gep.vector.geodesy import lonlat_box_area_m2
from gep.vector.regions import region_frame

LON0, LAT0, RES, YEAR = 112.0, 28.0, 0.001, 2020
LC = np.array([[2, 2, 4, 2, 5, 8],
               [2, 1, 4, 2, 2, 0],
               [3, 2, 9, 1, 2, 0]], dtype=np.uint8)   # CLCD: 2 森林; 0 nodata
SPLIT = 3
T_PER_HM2 = 0.8        # the toy's avoided pest loss, t per hm² of forest
PRICE = 1500.0         # 元/t, of the price table's base year (2010)


# ---------------------------------------------------------------------------------------------------------
# the toy service: one module's worth of declarations


@dataclass(frozen=True)
class PestParams:
    codes: list[int]
    t_per_hm2: float
    price: float
    known: np.ndarray
    cite: str


def _load(ctx: ParamContext) -> PestParams:
    pf = read_param_file(ctx.ref("pest_toy"))
    return PestParams([int(c) for c in pf.data["classes"]], scalar(pf, "t_per_hm2", minimum=0.0),
                      scalar(pf, "price", minimum=0.0), np.asarray(ctx.scheme_codes), pf.cite())


def _density(block: Block, p: PestParams) -> np.ndarray:
    """t/hm² per cell: the constant on forest classes, 0 on other known classes, NaN on unknown codes."""
    known = class_lookup(block.lc, p.known, np.zeros(len(p.known)))
    return np.where(np.isin(block.lc, p.codes), p.t_per_hm2, known)


PEST = Service(
    ServiceSpec("pest_toy", "病虫害控制", "regulating", "raster",
                parameters=(ParameterTable("pest_toy", "pest_toy_table", "toy pest-control table [P]"),),
                quantity_unit="t", raster_unit="t/hm²", to_quantity=1e-4),
    load=_load, density=_density,
    price=lambda v: Price(v.params.price, "元/t (toy)"),
    method=lambda v: "toy: constant t/hm² on forest × area",
    source=lambda v: v.params.cite)


@pytest.fixture()
def pest():
    registry.register(PEST)
    yield PEST
    registry.unregister("pest_toy")


# ---------------------------------------------------------------------------------------------------------
# a tiny grid


def _write(path, arr, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", height=arr.shape[0], width=arr.shape[1], count=1,
                       dtype=arr.dtype.name, crs="EPSG:4326", transform=Affine(RES, 0, LON0, 0, -RES, LAT0),
                       nodata=nodata) as dst:
        dst.write(arr, 1)
    return path


def _cell_area(row: int) -> float:
    top = LAT0 - row * RES
    return lonlat_box_area_m2(LON0, top - RES, LON0 + RES, top, 4326)


@pytest.fixture()
def tiny(tmp_path):
    lc_path = _write(tmp_path / f"lc_{YEAR}.tif", LC, nodata=0)
    regions = gpd.GeoDataFrame(
        {"region_code": ["A", "B"], "region_name": ["甲", "乙"]},
        geometry=[box(LON0, LAT0 - 3 * RES, LON0 + SPLIT * RES, LAT0),
                  box(LON0 + SPLIT * RES, LAT0 - 3 * RES, LON0 + 6 * RES, LAT0)], crs="EPSG:4326")
    scheme = load_scheme("clcd")
    lca = landcover_area(crosstab_table(LandcoverRaster.open(lc_path, chunk=64), regions, scheme.codes),
                         region_frame(regions), scheme, YEAR)
    (tmp_path / "pest.yaml").write_text(
        f"name: pest\nstatus: P\nsource: a test\nclasses: [2]\nt_per_hm2: {T_PER_HM2}\nprice: {PRICE}\n",
        encoding="utf-8")
    (tmp_path / "deflator.csv").write_text("year,index\n2010,100\n2020,125\n", encoding="utf-8")
    cfg = {"services": ["pest_toy"], "parameters": {"pest_toy": str(tmp_path / "pest.yaml")},
           "deflator": str(tmp_path / "deflator.csv"), "chunk": 64}
    return tmp_path, regions, lca, cfg


def test_a_registered_service_appears_in_config_rasters_sums_and_tables(pest, tiny):
    tmp, regions, lca, raw = tiny
    cfg = load_gep_config(raw)
    # config: the name, its parameter table and its raster are known without another edit
    assert "pest_toy" in TIER2_RASTER_SERVICES
    assert service_raster_names(cfg) == ["pest_toy"]
    assert parameter_fields(cfg.services) == ["pest_toy", "prices"]
    assert priced(cfg.services)
    assert cfg.parameters.pest_toy == str(tmp / "pest.yaml")
    # rasters: t/hm² on forest cells, 0 on other classes, NaN on nodata
    written = write_service_rasters(cfg, YEAR, landcover_path=tmp / f"lc_{YEAR}.tif", raster_dir=tmp / "r",
                                    landcover_nodata=0)
    assert [p.name for p in written] == [f"pest_toy_{YEAR}.tif"]
    with rasterio.open(written[0]) as src:
        dens = src.read(1)
        assert src.tags()["units"] == "t/hm² per year (病虫害控制)"
    np.testing.assert_array_equal(np.isnan(dens), LC == 0)
    np.testing.assert_allclose(dens[LC != 0], np.where(LC[LC != 0] == 2, T_PER_HM2, 0.0))
    # sums: Σ density × cell area (t/hm² · m²) per region
    hand = [0.0, 0.0]
    for r in range(LC.shape[0]):
        for c in range(LC.shape[1]):
            if LC[r, c] == 2:
                hand[0 if c < SPLIT else 1] += T_PER_HM2 * _cell_area(r)
    target = tmp / f"gep_sums_{YEAR}.parquet"
    write_year_sums(cfg, YEAR, levels={"x": regions}, landcover_path=tmp / f"lc_{YEAR}.tif", raster_dir=tmp / "r",
                    targets={"x": target}, landcover_nodata=0)
    sums = pd.read_parquet(target).set_index("region_code")
    assert list(sums["layer"]) == ["pest_toy", "pest_toy"]
    np.testing.assert_allclose(sums.loc[["A", "B"], "sum"], hand, rtol=1e-6)
    # tables: quantity (t) = Σ × 1e-4; value = quantity × 1500 元/t × deflator 125/100 (constant 2010: × 1)
    for kw in ({}, {"raster_dir": tmp / "r", "rasters_written": True, "sums_paths": {YEAR: target}}):
        out = run_gep(cfg, years=[YEAR], landcover_area=lca, regions=regions,
                      landcover_path_for_year=lambda y: tmp / f"lc_{y}.tif", out_dir=tmp / "o", **kw)
        rows = out["gep_services"].set_index("region_code")
        assert list(rows["service"]) == ["pest_toy", "pest_toy"]
        for code, total in zip("AB", hand):
            row = rows.loc[code]
            q = total * 1e-4
            assert row["quantity"] == pytest.approx(q, rel=1e-6)
            assert row["quantity_unit"] == "t" and row["service_zh"] == "病虫害控制"
            assert row["category"] == "regulating" and row["tier"] == 2
            assert row["unit_price"] == pytest.approx(PRICE * 1.25, rel=1e-12)
            assert row["value_yuan"] == pytest.approx(q * PRICE * 1.25, rel=1e-6)
            assert row["value_constant_yuan"] == pytest.approx(q * PRICE, rel=1e-6)
            assert row["source"] == "pest.yaml [P]"
        summary = out["gep_summary"].set_index("region_code")
        assert summary.loc["A", "gep_yuan"] == pytest.approx(hand[0] * 1e-4 * PRICE * 1.25, rel=1e-6)


def test_unregistered_names_are_refused_in_one_line(tiny):
    _, _, _, raw = tiny
    with pytest.raises(InputError) as err:
        load_gep_config(raw)
    lines = err.value.lines()
    assert any("unknown service(s) pest_toy; use tier1, water_conservation" in line for line in lines)
    assert any("'pest_toy' is not the parameter table of any service" in line for line in lines)


def test_a_service_must_name_known_raster_inputs_and_base():
    bad = Service(ServiceSpec("toy_bad", "坏", "regulating", "raster", inputs=("rainfall",)), load=_load,
                  density=_density, price=PEST.price, method=PEST.method, source=PEST.source)
    with pytest.raises(ValueError, match=r"raster input\(s\) rainfall are not fields of gep.rasters"):
        registry.register(bad)
    orphan = Service(ServiceSpec("toy_orphan", "孤", "regulating", "derived", derived_from="nothing"), load=_load,
                     derive=lambda p: 1.0, price=PEST.price, method=PEST.method, source=PEST.source)
    with pytest.raises(ValueError, match="derived_from 'nothing' is not a registered raster service"):
        registry.register(orphan)
    assert "toy_bad" not in catalogue.names() and "toy_orphan" not in catalogue.names()
    with pytest.raises(ValueError, match="category 'ecological'"):
        ServiceSpec("toy", "玩", "ecological", "raster")


def test_builtin_catalogue_and_registry_agree():
    """Every raster-backed service of the catalogue has its formulas registered under the same spec; the
    table items (tier1, statistics, carbon_stock) are catalogue entries only."""
    raster = [s for s in catalogue.BUILTIN if s.kind != "table"]
    assert [s.name for s in registry.services()] == [s.name for s in raster]
    for s in raster:
        assert registry.get(s.name).spec is s
    assert [s.name for s in catalogue.BUILTIN if s.kind == "table"] == ["tier1", "statistics", "carbon_stock"]
    # the parameter tables keep the documented field order, the price table after the priced services' tables
    assert [p.field for p in catalogue.parameter_tables()] == [
        "equivalent_factors", "ecosystem_map", "runoff", "usle_cp", "soil_valuation", "carbon_oxygen", "climate",
        "flood", "air_capacity", "water_capacity", "pest", "sand", "prices", "carbon_pools"]


def test_unit_factors_of_the_builtin_specs_by_hand():
    spec = catalogue.spec
    assert spec("water_conservation").to_quantity == 1e-3     # 1 mm over 1 m² = 0.001 m³
    assert spec("soil_retention").to_quantity == 1e-4         # 1 t/hm² over 1 m² = 1e-4 t
    assert spec("carbon_sequestration").to_quantity == 1e-6   # 1 g/m² over 1 m² = 1e-6 t
    assert spec("climate_regulation").to_quantity == 1.0      # kWh/m² over 1 m² = 1 kWh
    assert spec("oxygen_release").derived_from == "carbon_sequestration"
    assert not spec("carbon_stock").priced


def test_valuing_gets_the_service_parameters(pest, tiny):
    tmp, _, _, raw = tiny
    cfg = load_gep_config(raw)
    p = PEST.load(ParamContext(cfg, np.arange(1, 10)))
    assert (p.codes, p.t_per_hm2, p.price) == ([2], T_PER_HM2, PRICE)
    assert PEST.price(Valuing(cfg, p, None)) == Price(1500.0, "元/t (toy)")
