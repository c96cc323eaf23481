"""A catalogue of bad inputs, each refused by the up-front validation (``gep validate``) before any compute.

One small valid input set is built once (see ``badinput_builders``); every case copies it, breaks one thing
and asserts that

- ``config.load`` + ``validate_inputs`` raise :class:`InputError` whose lines name the file/key/value;
- ``gep validate CONFIG --report OUT`` (called in-process) exits 2, prints every problem on its own stderr
  line prefixed ``gep validate: error:``, shows no traceback and writes no report;
- no file or folder appears anywhere in the case's folder (nothing is written).

Cases marked ``xfail(strict=True)`` are bad inputs the validation does not catch yet (see their reasons).
A few cases run ``gep`` in a subprocess to check the real exit code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import badinput_builders as b
import numpy as np
import pytest
import shapely
import shapely.affinity
import yaml
from affine import Affine

from gep import config
from gep.cli.main import main
from gep.core.errors import InputError
from gep.workflow.validate import validate_inputs

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

PREFIX = "gep validate: error: "
D = "<d>"  # stands for the case's folder in expected substrings


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """The valid input set, built once; cases copy it."""
    return b.build_valid_set(tmp_path_factory.mktemp("valid") / "in")


def _copy(base: Path, tmp_path: Path) -> Path:
    d = tmp_path / "in"
    shutil.copytree(base, d)
    return d


def _prepare(base: Path, tmp_path: Path, mutate: Callable | None) -> tuple[Path, Path]:
    """Copy the valid set, apply ``mutate(d, cfg)``; returns (folder, config path).

    ``mutate`` edits files in ``d`` and/or the config dict in place; it may instead write the config file
    itself and return its path (for configs that are not valid YAML).
    """
    d = _copy(base, tmp_path)
    cfg = b.valid_config(d)
    ret = mutate(d, cfg) if mutate is not None else None
    return d, (ret if isinstance(ret, Path) else b.write_config(d, cfg))


# ------------------------------------------------------------------------------------------------ baseline


def test_valid_set_passes(base, tmp_path, capsys):
    d, cfg_path = _prepare(base, tmp_path, None)
    report = validate_inputs(config.load(cfg_path))
    assert report["years"] == [2019, 2020]
    assert report["landcover"]["2020"] == {"path": str(d / "lc_2020.tif"), "pixels": 600, "valid_pixels": 595}
    assert report["regions"][b.LEVEL]["features"] == 2
    assert report["regions"][b.LEVEL]["repaired_geometries"] == 0
    assert report["regions"][b.LEVEL]["min_coverage_pct"] == pytest.approx(100.0)
    assert report["dem"][b.LEVEL]["min_covered_pct"] == pytest.approx(100.0)
    assert set(report["protected"]["redline"]) == {"2019", "2020"}
    assert not report.get("warnings")
    out = d / "results" / "checks" / "inputs.json"
    assert main(["validate", str(cfg_path), "--report", str(out)]) == 0
    assert out.is_file() and "all inputs ok" in capsys.readouterr().out


def test_checks_in_parts_as_the_workflow_runs_them(base, tmp_path, capsys):
    """The run's own inputs once, each year's on its own (so a new year is checked alone)."""
    import json

    from gep.workflow.validate import validate_run, validate_year

    d, cfg_path = _prepare(base, tmp_path, None)
    cfg = config.load(cfg_path)
    run = validate_run(cfg)
    assert set(run) >= {"regions", "dem"} and "landcover" not in run and "protected" not in run
    assert run["regions"][b.LEVEL]["min_coverage_pct"] == pytest.approx(100.0)  # against the first year's grid
    year = validate_year(cfg, 2020)
    assert year["years"] == [2020] and set(year["landcover"]) == {"2020"}
    assert set(year["protected"]["redline"]) == {"2020"}
    assert "regions" not in year
    out = d / "results" / "checks" / "inputs_2020.json"
    assert main(["validate", str(cfg_path), "--year", "2020", "--report", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["years"] == [2020]
    assert "inputs of 2020 ok" in capsys.readouterr().out
    assert main(["validate", str(cfg_path), "--year", "2031"]) == 2
    assert "year 2031: not in the config's years (2019, 2020)" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ mutations

def _random_bytes(path: Path, n: int = 4096, seed: int = 7) -> None:
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes())


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _lc(d: Path, year: int, array=None, **kw) -> None:
    (d / f"lc_{year}.tif").unlink()
    b.write_landcover(d, year, array, **kw)


def _regions(d: Path, **kw) -> None:
    (d / "townships.gpkg").unlink()
    b.write_regions(d, **kw)


def _redline(d: Path, year: int, **kw) -> None:
    (d / f"redline_{year}.gpkg").unlink()
    b.write_redline(d, year, **kw)


def _with_unknown_codes(d: Path) -> None:
    arr = b.landcover_array(2020)
    arr[5:7, 5:8] = 77      # 6 pixels
    arr[12, 20] = 200       # 1 pixel
    _lc(d, 2020, arr)


def _config_text(text: str, encoding: str = "utf-8"):
    def mutate(d: Path, cfg: dict) -> Path:
        path = d / "config.yaml"
        path.write_bytes(text.replace(D, str(d)).encode(encoding))
        return path
    return mutate


def _swap_xy(geoms):
    return [shapely.transform(g, lambda xy: xy[:, ::-1]) for g in geoms]


def _overrides(d: Path, cfg: dict) -> None:
    (d / "overrides.csv").write_text("region_code,terrain_type,source\n999999999999,山区,省林业局名单\n",
                                     encoding="utf-8")
    cfg["terrain"]["overrides_path"] = str(d / "overrides.csv")


def _bad_scheme(d: Path, cfg: dict) -> None:
    (d / "my_scheme.yaml").write_text(
        "name: mine\nclasses:\n  - {code: 1, name_zh: 耕地, name_en: Cropland, category: cropland}\n"
        "  - {code: 1, name_zh: 森林, name_en: Forest, category: forest}\n", encoding="utf-8")
    cfg["landcover"]["scheme"] = str(d / "my_scheme.yaml")


def _valuation():
    try:
        from gep.indicators.gep import params
        from gep.indicators.gep import statistics
    except Exception:  # noqa: BLE001 - module being written elsewhere
        pytest.skip("valuation module not available")
    return params, statistics


def _negative_price_file(d: Path) -> Path:
    _valuation()
    from gep.core.resources import builtin

    src = builtin("parameters", "prices_dolkar2017")
    data = yaml.safe_load(src.read_text(encoding="utf-8"))
    data["prices"]["carbon"]["value"] = -380.0
    path = d / "prices_negative.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _gep_negative_price(d: Path, cfg: dict) -> None:
    cfg["gep"] = {"services": ["tier1"], "deflator": "deflator_demo",
                  "parameters": {"prices": str(_negative_price_file(d))}}


def _pools(d: Path, cfg: dict, change) -> None:
    """A carbon-pool table (t C/ha by class) broken by ``change(classes)``, used by the carbon_stock service."""
    from gep.core.resources import builtin

    data = yaml.safe_load(builtin("parameters", "carbon_pools_clcd").read_text(encoding="utf-8"))
    change(data["classes"])
    (d / "pools.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cfg["gep"] = {"services": ["carbon_stock"], "parameters": {"carbon_pools": str(d / "pools.yaml")}}


def _pools_without_forest(d: Path, cfg: dict) -> None:
    _pools(d, cfg, lambda classes: classes.pop(2))


def _pools_negative(d: Path, cfg: dict) -> None:
    _pools(d, cfg, lambda classes: classes[3].update(soil=-5.0))


def _pools_text(d: Path, cfg: dict) -> None:
    _pools(d, cfg, lambda classes: classes[4].update(above="many"))


def _deflator_without_2020(d: Path, cfg: dict) -> None:
    (d / "deflator.csv").write_text("year,index\n2010,100\n2019,119.5\n", encoding="utf-8")
    cfg["gep"] = {"services": ["tier1"], "deflator": str(d / "deflator.csv")}


def _factors_without_equivalent(d: Path, cfg: dict) -> None:
    (d / "factors.yaml").write_text("name: mine\nstatus: P\nsource: none\n", encoding="utf-8")
    cfg["gep"] = {"services": ["tier1"], "deflator": "deflator_demo",
                  "parameters": {"equivalent_factors": str(d / "factors.yaml")}}


def _statistics_unknown_region(d: Path, cfg: dict) -> None:
    (d / "stats.csv").write_text(
        "region_code,year,service,value,value_unit,source\n"
        + "".join(f"{c},{y},tourism,1,万元,yearbook\n" for c in b.CODES for y in b.YEARS)
        + "999999999999,2020,tourism,1,万元,yearbook\n", encoding="utf-8")
    cfg["gep"] = {"services": ["statistics"], "statistics": str(d / "stats.csv"),
                  "statistics_services": ["tourism"], "deflator": "deflator_demo"}


def _deductions_bad(d: Path, cfg: dict) -> None:
    """A deduction table with a region code of no level and a value unit gep does not know."""
    (d / "ded.csv").write_text("region_code,year,item,value,value_unit,source\n"
                               "999999999999,2020,timber,1,万元,yearbook\n"
                               f"{b.CODES[0]},2020,timber,1,千元,yearbook\n", encoding="utf-8")
    cfg["gep"] = {"services": ["tier1"], "deflator": "deflator_demo", "deductions": str(d / "ded.csv")}


def _profile_without_water_storage(d: Path, cfg: dict) -> None:
    """A user profile that lacks the price water conservation asks for."""
    from gep.core.resources import builtin

    data = yaml.safe_load(builtin("profiles", "national_default").read_text(encoding="utf-8"))
    for item in ("water_conservation", "flood_regulation"):
        del data["items"][item]
    del data["prices"]["water_storage"]
    (d / "profile.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cfg["gep"] = {"services": ["water_conservation"], "deflator": "deflator_demo", "profile": str(d / "profile.yaml"),
                  "rasters": {"precipitation": 1200, "et": 600}}


def _dem_undeclared_fill(d: Path, cfg: dict) -> None:
    import rasterio

    with rasterio.open(d / "dem.tif", "r+") as dst:
        z = dst.read(1)
        z[5:12, 5:15] = -9999.0
        dst.nodata = None
        dst.write(z, 1)


def _template(text: str):
    def mutate(d: Path, cfg: dict) -> None:
        (d / "template.csv").write_text(text, encoding="utf-8")
        cfg["scorecard"] = {"template": str(d / "template.csv")}
    return mutate


def _output_is_a_file(d: Path, cfg: dict) -> None:
    (d / "results.txt").write_text("not a folder", encoding="utf-8")
    cfg["output_dir"] = str(d / "results.txt")


def _output_under_a_file(d: Path, cfg: dict) -> None:
    (d / "results.txt").write_text("not a folder", encoding="utf-8")
    cfg["output_dir"] = str(d / "results.txt" / "run1")



def _redline_elsewhere(d: Path, cfg: dict) -> None:
    """The red line of another county (plausible coordinates, no overlap with the regions)."""
    (d / "redline_2019.gpkg").unlink()
    b.write_redline(d, 2019, geoms=[shapely.box(112.05, 28.05, 112.2, 28.2)])


def _gep_raster_elsewhere(d: Path, cfg: dict) -> None:
    """A precipitation raster that covers only the western part of the regions."""
    from helpers_raster import write_tif

    for y in b.YEARS:
        write_tif(d / f"precip_{y}.tif", np.full((10, 10), 1200.0, np.float32),
                  Affine(0.01, 0, 109.95, 0, -0.01, 30.0), b.CRS, nodata=-1.0)
    cfg["gep"] = {"services": ["water_conservation"], "deflator": "deflator_demo",
                  "rasters": {"precipitation": str(d / "precip_{year}.tif"), "et": 600}}


def _climate_year_missing(d: Path, cfg: dict) -> None:
    """Precipitation of the accounting years only, but held at its 2018–2020 mean: 2018's file is missing."""
    from helpers_raster import write_tif

    for y in b.YEARS:
        write_tif(d / f"precip_{y}.tif", np.full((30, 40), 1200.0, np.float32),
                  Affine(0.01, 0, 109.95, 0, -0.01, 30.05), b.CRS, nodata=-1.0)
    cfg["gep"] = {"services": ["water_conservation"], "deflator": "deflator_demo",
                  "rasters": {"precipitation": str(d / "precip_{year}.tif"), "et": 600},
                  "fixed_climate": {"from": 2018, "to": 2020}}


@dataclass
class Case:
    id: str
    mutate: Callable
    expect: tuple[str, ...]           # substrings of the joined problem lines (<d> = the case folder)
    lines: int | None = None          # exact number of problem lines, when it matters
    gap: str | None = None            # reason when the validation does not catch it yet (strict xfail)
    marks: list = field(default_factory=list)


CASES = [
    # ---- land-cover rasters
    Case("corrupt_geotiff", lambda d, c: _random_bytes(d / "lc_2020.tif"),
         ("landcover.path (year 2020): <d>/lc_2020.tif: cannot be opened as a raster", "check the file"), 1),
    Case("truncated_geotiff", lambda d, c: _truncate(d / "lc_2020.tif", 0.6),
         ("<d>/lc_2020.tif",), 1),
    Case("text_file_renamed_tif", lambda d, c: (d / "lc_2020.tif").write_text("year,area\n2020,1.5\n"),
         ("<d>/lc_2020.tif: cannot be opened as a raster",), 1),
    Case("raster_without_crs", lambda d, c: [_lc(d, y, crs=None) for y in b.YEARS],
         ("<d>/lc_2019.tif: raster has no CRS", "<d>/lc_2020.tif: raster has no CRS", "'landcover.crs'"), 2),
    Case("float_landcover", lambda d, c: _lc(d, 2020, b.landcover_array(2020).astype(np.float32)),
         ("<d>/lc_2020.tif: land cover has data type float32, not integer class codes", "uint8"), 1),
    Case("all_nodata_raster", lambda d, c: _lc(d, 2020, np.zeros(b.SHAPE, np.uint8)),
         ("<d>/lc_2020.tif: every cell is nodata (0)", "'landcover.nodata'"), 1),
    Case("unknown_codes", lambda d, c: _with_unknown_codes(d),
         ("<d>/lc_2020.tif: codes not in class scheme 'clcd'", "77 (6 pixels)", "200 (1 pixel",
          "landcover.unknown_codes: nodata"), 1),
    Case("years_on_different_grids",
         lambda d, c: _lc(d, 2020, transform=Affine(b.RES, 0, b.WEST + 0.005, 0, -b.RES, b.NORTH)),
         ("<d>/lc_2020.tif: grid differs from <d>/lc_2019.tif", "resample"), 1),
    Case("landcover_year_file_missing", lambda d, c: (d / "lc_2020.tif").unlink(),
         ("landcover.path (year 2020): <d>/lc_2020.tif: land-cover raster does not exist",), 1),
    Case("year_without_any_file", lambda d, c: c.update(years=[2019, 2020, 2021]),
         ("landcover.path (year 2021): <d>/lc_2021.tif: land-cover raster does not exist",
          "protected.redline: file '<d>/redline_2021.gpkg' for 2021 does not exist"), 2),
    Case("year_not_a_calendar_year", lambda d, c: c.update(years=[2019, 2020, 220]),
         ("key 'years' = [2019, 2020, 220]", "four-digit calendar years"), 1),
    Case("year_placeholder_missing", lambda d, c: c["landcover"].update(path=str(d / "lc_2019.tif")),
         ("key 'landcover.path' = '<d>/lc_2019.tif': must contain {year}",), 1),
    # ---- class scheme
    Case("unknown_scheme_name", lambda d, c: c["landcover"].update(scheme="clcd_v2"),
         ("landcover.scheme: unknown class scheme 'clcd_v2'; use one of", "clcd, "), None),
    Case("bad_scheme_file", _bad_scheme,
         ("landcover.scheme: <d>/my_scheme.yaml: code 1 appears twice",), None),
    # ---- regions
    Case("regions_file_missing", lambda d, c: (d / "townships.gpkg").unlink(),
         ("<d>/townships.gpkg: file does not exist",), None),
    Case("regions_not_a_vector_file", lambda d, c: _random_bytes(d / "townships.gpkg"),
         ("<d>/townships.gpkg: cannot be read as a vector file",), None),
    Case("regions_layer_missing", lambda d, c: c["regions"][b.LEVEL].update(layer="county"),
         ("<d>/townships.gpkg: layer 'county' not found; available layers: townships",), None),
    Case("regions_empty_layer", lambda d, c: _regions(d, geoms=[], codes=[], names=[]),
         ("<d>/townships.gpkg: layer is empty", "(regions.township)"), None),
    Case("wrong_id_field", lambda d, c: c["regions"][b.LEVEL].update(id_field="CODE"),
         ("<d>/townships.gpkg: id_field 'CODE' not found; available fields: code, name",
          "'regions.township.id_field'"), None),
    Case("duplicate_ids", lambda d, c: _regions(d, codes=[b.CODES[0]] * 2),
         ("<d>/townships.gpkg: field 'code' has duplicate codes 430102000001", "unique"), None),
    Case("empty_id", lambda d, c: _regions(d, codes=[b.CODES[0], None]),
         ("<d>/townships.gpkg: field 'code' is empty in feature(s) 2",), None),
    Case("regions_without_crs", lambda d, c: _regions(d, crs=None),
         ("<d>/townships.gpkg: no CRS; set 'regions.township.crs'",), None),
    Case("regions_are_points", lambda d, c: _regions(d, geoms=[g.centroid for g in b.region_boxes()]),
         ("<d>/townships.gpkg: geometries must be polygons, found Point",), None),
    Case("regions_overlap",
         lambda d, c: _regions(d, geoms=[b.region_boxes()[0], shapely.box(110.10, 29.82, 110.28, 29.98)]),
         ("<d>/townships.gpkg: regions overlap: 430102000001/430102000002",), 1),
    Case("region_outside_raster",
         lambda d, c: _regions(d, geoms=[shapely.affinity.translate(g, 5.0, 0.0) for g in b.region_boxes()]),
         (("<d>/townships.gpkg: region(s) not covered by the land cover: 430102000001 (0.0%), "
          "430102000002 (0.0%)"), "'checks.min_coverage_pct'"), None),
    Case("region_half_outside_raster",
         lambda d, c: _regions(d, geoms=[b.region_boxes()[0], shapely.box(110.14, 29.82, 110.46, 29.98)]),
         ("region(s) not covered by the land cover: 430102000002 (50.0%)",), None),
    Case("swapped_lat_lon", lambda d, c: _regions(d, geoms=_swap_xy(b.region_boxes())),
         ("<d>/townships.gpkg: coordinates (x from 29.", "look like latitude and longitude swapped"), None),
    Case("gcj02_offset_on_projected_regions",
         lambda d, c: (_regions(d, geoms=[shapely.box(200000, 3300000, 210000, 3310000)], codes=b.CODES[:1],
                                crs="EPSG:32649"),
                       c["regions"][b.LEVEL].update(coord_system="gcj02")),
         ("<d>/townships.gpkg: coord_system 'gcj02' needs lon/lat coordinates",), None),
    # ---- DEM (terrain)
    Case("dem_missing", lambda d, c: (d / "dem.tif").unlink(),
         ("terrain.dem_path: DEM file '<d>/dem.tif' does not exist",), 1),
    Case("dem_not_covering_a_region", lambda d, c: ((d / "dem.tif").unlink(),
                                                   b.write_dem(d, bounds=(109.95, 29.75, 110.20, 30.05))),
         ("terrain.dem_path: DEM '<d>/dem.tif' covers less than 99% of 1 region(s): 430102000002 乙镇",), 1),
    Case("dem_without_crs", lambda d, c: ((d / "dem.tif").unlink(), b.write_dem(d, crs=None)),
         ("terrain.dem_path: DEM file '<d>/dem.tif' has no CRS",), 1),
    Case("dem_corrupt", lambda d, c: _random_bytes(d / "dem.tif"),
         ("<d>/dem.tif",), 1),
    Case("relief_window_below_3_cells", lambda d, c: c["terrain"].update(window_m=1000),
         ("window_m=1000",), 1),
    Case("terrain_override_unknown_region", _overrides,
         ("999999999999",), 1),
    Case("terrain_override_file_missing",
         lambda d, c: c["terrain"].update(overrides_path=str(d / "no_overrides.csv")),
         ("<d>/no_overrides.csv",), 1),
    # ---- red line (protected)
    Case("redline_year_missing", lambda d, c: (d / "redline_2020.gpkg").unlink(),
         ("protected.redline: file '<d>/redline_2020.gpkg' for 2020 does not exist", "carry_forward: true"), 1),
    Case("redline_id_field_wrong", lambda d, c: c["protected"]["redline"].update(id_field="ID"),
         (("protected.redline (2019) file '<d>/redline_2019.gpkg' layer 'redline' has no field 'ID' (id_field); "
          "available fields: id"),), None),
    Case("redline_empty_layer", lambda d, c: _redline(d, 2020, geoms=[], ids=[]),
         ("protected.redline (2020) file '<d>/redline_2020.gpkg' layer 'redline' has no features",), 1),
    Case("redline_without_crs", lambda d, c: _redline(d, 2019, crs=None),
         (("protected.redline (2019) file '<d>/redline_2019.gpkg' layer 'redline' has no coordinate reference "
          "system"),), 1),
    Case("redline_not_a_vector_file", lambda d, c: _random_bytes(d / "redline_2020.gpkg"),
         ("protected.redline (2020) file '<d>/redline_2020.gpkg': cannot be read as a vector file",), 1),
    Case("redline_points_only", lambda d, c: _redline(d, 2020, geoms=[shapely.Point(110.1, 29.9)]),
         ("protected.redline (2020) file '<d>/redline_2020.gpkg' layer 'redline': no feature has a polygon area",),
         1),
    # ---- the config file itself
    Case("bad_yaml", _config_text("years: [2019, 2020\nlandcover: {path: x\n"),
         ("<d>/config.yaml: not valid YAML", "fix the syntax"), 1),
    Case("yaml_python_tag", _config_text("years: !!python/object/apply:os.mkdir ['<d>/pwned']\n"),
         ("<d>/config.yaml: not valid YAML", "python/object/apply:os.mkdir"), 1),
    Case("config_not_utf8", _config_text("name: 示范县\nyears: [2019]\n", encoding="gbk"),
         ("<d>/config.yaml: not UTF-8 text",), 1),
    Case("config_not_a_mapping", _config_text("- 2019\n- 2020\n"),
         ("<d>/config.yaml: the config must be a mapping",), 1),
    Case("config_file_missing", lambda d, c: d / "no_config.yaml",
         ("<d>/no_config.yaml: config file does not exist",), 1),
    Case("unknown_config_key", lambda d, c: c["landcover"].update(nodta=0),
         ("key 'landcover.nodta' is not a known setting",), 1),
    Case("years_wrong_type", lambda d, c: c.update(years="2019-2020"),
         ("key 'years' = '2019-2020'", "valid list"), 1),
    Case("years_item_wrong_type", lambda d, c: c.update(years=[2019, "二〇二〇"]),
         ("key 'years[1]' = '二〇二〇'",), 1),
    Case("min_coverage_above_100", lambda d, c: c["checks"].update(min_coverage_pct=150),
         ("key 'checks.min_coverage_pct' = 150",), 1),
    Case("unknown_coverage_standard", lambda d, c: c["coverage"].update(standard="provincial"),
         ("coverage.standard", "provincial"), 1),
    Case("unknown_scheduler", lambda d, c: c["compute"].update(scheduler="spark"),
         ("key 'compute.scheduler' = 'spark'", "tcp://host:port"), 1),
    Case("gep_negative_price", _gep_negative_price,
         ("prices_negative.yaml", "prices.carbon", "-380"), 1),
    Case("gep_unknown_key", lambda d, c: c.update(gep={"servics": ["tier1"]}),
         ("gep.servics",), 1),
    Case("carbon_pools_missing_a_present_class", _pools_without_forest, ("pools.yaml", "no row for land-cover code(s) 2"), 1),
    Case("carbon_pools_negative", _pools_negative, ("pools.yaml", "classes.3.soil", "-5"), 1),
    Case("carbon_pools_not_a_number", _pools_text, ("pools.yaml", "classes.4.above", "many"), 1),
    Case("deflator_missing_an_accounting_year", _deflator_without_2020, ("gep.deflator", "deflator.csv", "2020"), 1),
    Case("equivalent_factors_incomplete", _factors_without_equivalent,
         ("gep.parameters.equivalent_factors", "factors.yaml", "standard_equivalent"), 1),
    Case("statistics_unknown_region", _statistics_unknown_region, ("gep.statistics", "stats.csv", "999999999999")),
    Case("deductions_unknown_region_and_unit", _deductions_bad,
         ("gep.deductions", "ded.csv: line 2", "999999999999", "ded.csv: line 3", "'千元'"), 2),
    Case("profile_missing_a_needed_price", _profile_without_water_storage,
         ("gep.profile", "profile.yaml", "price 'water_storage' is missing (needed by water_conservation)"), 1),
    Case("dem_undeclared_fill_values", _dem_undeclared_fill, ("terrain.dem_path", "dem.tif", "-9999", "no nodata"), 1),
    Case("template_without_header", _template("region_code,indicator,value\n430102000001,3,1\n"),
         ("scorecard.template", "template.csv", "序号")),
    Case("template_unknown_region", _template("区域代码,序号,项目,2020\n999999999999,1,现状值,5\n"),
         ("scorecard.template", "template.csv", "999999999999")),
    Case("template_unknown_indicator", _template(f"区域代码,序号,项目,2020\n{b.CODES[0]},99,现状值,5\n"),
         ("scorecard.template", "template.csv", "99")),
    Case("redline_of_another_place", _redline_elsewhere, ("protected.redline", "redline_2019.gpkg",
                                                           "outside every region"), 1),
    Case("gep_raster_not_covering_the_regions", _gep_raster_elsewhere,
         ("gep.rasters.precipitation", "precip_2019.tif", "of the regions' extent"), 1),
    Case("gep_fixed_climate_year_file_missing", _climate_year_missing,
         ("gep.rasters.precipitation: <d>/precip_2018.tif (climate year 2018 of gep.fixed_climate) does not exist",
          "leave 2018 out of gep.fixed_climate"), 1),
    Case("output_dir_is_a_file", _output_is_a_file, ("output_dir", "results.txt", "is a file"), 1),
    Case("output_dir_under_a_file", _output_under_a_file, ("output_dir", "results.txt", "which is a file"), 1),
]


def _params():
    for case in CASES:
        marks = list(case.marks)
        if case.gap:
            marks.append(pytest.mark.xfail(strict=True, reason=case.gap))
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input_is_refused(case: Case, base, tmp_path, capsys):
    d, cfg_path = _prepare(base, tmp_path, case.mutate)
    before = b.snapshot(d)
    report = d / "results" / "checks" / "inputs.json"

    with pytest.raises(InputError) as err:
        validate_inputs(config.load(cfg_path))
    lines = err.value.lines()
    text = "\n".join(lines)
    for expected in case.expect:
        assert expected.replace(D, str(d)) in text, text
    if case.lines is not None:
        assert len(lines) == case.lines, text
    assert all(line and "\n" not in line for line in lines)
    assert b.snapshot(d) == before

    rc = main(["validate", str(cfg_path), "--report", str(report)])
    captured = capsys.readouterr()
    assert rc == 2, captured
    assert captured.err.splitlines() == [PREFIX + line for line in lines]
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    assert not report.exists()
    assert b.snapshot(d) == before


# ------------------------------------------------------------------------------------------------ repaired or declared → passes


def _declared_crs(d, c):
    for y in b.YEARS:
        _lc(d, y, crs=None)
    c["landcover"]["crs"] = "EPSG:4490"


def _regions_declared_crs(d, c):
    _regions(d, crs=None)
    c["regions"][b.LEVEL]["crs"] = "EPSG:4490"


def _bowtie(d, c):
    # self-intersecting ring inside the first region's box: invalid, repaired into two triangles
    bowtie = shapely.Polygon([(110.02, 29.82), (110.14, 29.98), (110.14, 29.82), (110.02, 29.98)])
    assert not bowtie.is_valid
    _regions(d, geoms=[bowtie, b.region_boxes()[1]])


def _carry_forward(d, c):
    (d / "redline_2020.gpkg").unlink()
    c["protected"]["redline"]["carry_forward"] = True


def _unknown_codes_as_nodata(d, c):
    _with_unknown_codes(d)
    c["landcover"]["unknown_codes"] = "nodata"


@pytest.mark.parametrize("mutate, check", [
    pytest.param(_declared_crs, lambda r, d: r["landcover"]["2020"]["valid_pixels"] == 595,
                 id="raster_without_crs_but_landcover_crs_declared"),
    pytest.param(_regions_declared_crs, lambda r, d: r["regions"][b.LEVEL]["min_coverage_pct"] > 99.99,
                 id="regions_without_crs_but_crs_declared"),
    pytest.param(_bowtie, lambda r, d: r["regions"][b.LEVEL]["repaired_geometries"] == 1,
                 id="invalid_geometry_repaired_and_counted"),
    pytest.param(_carry_forward, lambda r, d: r["protected"]["redline"]["2020"]["file"]
                 == str(d / "redline_2019.gpkg"), id="redline_year_missing_with_carry_forward"),
    pytest.param(_unknown_codes_as_nodata, lambda r, d: r["landcover"]["2020"]["pixels"] == 600,
                 id="unknown_codes_with_unknown_codes_nodata"),
])
def test_fixed_or_declared_input_passes(mutate, check, base, tmp_path):
    d, cfg_path = _prepare(base, tmp_path, mutate)
    before = b.snapshot(d)
    report = validate_inputs(config.load(cfg_path))
    assert check(report, d), report
    assert b.snapshot(d) == before


# ------------------------------------------------------------------------------------------------ all problems at once


def _three_problems(d: Path, cfg: dict) -> None:
    (d / "lc_2020.tif").unlink()                                    # land cover of one year
    cfg["regions"][b.LEVEL]["layer"] = "county"                     # regions: wrong layer
    cfg["protected"]["redline"]["id_field"] = "ID"                  # red line: wrong id field
    cfg.pop("terrain")  # (the terrain check re-reads the regions; see test_region_problem_reported_once)


def test_all_problems_reported_together(base, tmp_path, capsys):
    d, cfg_path = _prepare(base, tmp_path, _three_problems)
    before = b.snapshot(d)
    with pytest.raises(InputError) as err:
        validate_inputs(config.load(cfg_path))
    lines = err.value.lines()
    assert len(lines) == 3, lines
    assert str(err.value) == "3 problem(s) found in the inputs"
    assert "lc_2020.tif: land-cover raster does not exist" in lines[0]
    assert "layer 'county' not found" in lines[1]
    assert "has no field 'ID' (id_field)" in lines[2]
    rc = main(["validate", str(cfg_path), "--report", str(d / "report.json")])
    assert rc == 2
    assert capsys.readouterr().err.splitlines() == [PREFIX + line for line in lines]
    assert b.snapshot(d) == before


def test_region_problem_reported_once(base, tmp_path):
    _d, cfg_path = _prepare(base, tmp_path, lambda d, c: c["regions"][b.LEVEL].update(id_field="CODE"))
    with pytest.raises(InputError) as err:
        validate_inputs(config.load(cfg_path))
    assert len(err.value.lines()) == 1, err.value.lines()


def test_unknown_codes_reported_with_other_problems(base, tmp_path):
    def mutate(d, c):
        _with_unknown_codes(d)              # 2020: codes 77 and 200
        (d / "lc_2019.tif").unlink()        # 2019: file missing
    _d, cfg_path = _prepare(base, tmp_path, mutate)
    with pytest.raises(InputError) as err:
        validate_inputs(config.load(cfg_path))
    text = "\n".join(err.value.lines())
    assert "lc_2019.tif: land-cover raster does not exist" in text
    assert "77 (6 pixels)" in text


def test_bad_scheme_reported_once(base, tmp_path):
    _d, cfg_path = _prepare(base, tmp_path, lambda d, c: c["landcover"].update(scheme="clcd_v2"))
    with pytest.raises(InputError) as err:
        validate_inputs(config.load(cfg_path))
    assert err.value.lines() == [line for line in err.value.lines() if line.startswith("landcover.scheme:")]
    assert len(err.value.lines()) == 1


# ------------------------------------------------------------------------------------------------ valuation tables


def test_negative_price_is_refused(tmp_path):
    params, _ = _valuation()
    path = _negative_price_file(tmp_path)
    with pytest.raises(InputError) as err:
        params.load_prices(path)
    assert f"{path}: prices.carbon: -380 is below 0" in str(err.value)


def test_negative_deflator_index_is_refused(tmp_path):
    params, _ = _valuation()
    path = tmp_path / "deflator.csv"
    path.write_text("year,index\n2019,100\n2020,-101.5\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        params.load_deflator(path)
    assert f"{path}: line 3: index -101.5 must be a positive number" in str(err.value)


def test_statistics_problems_reported_together(tmp_path):
    _, statistics = _valuation()
    path = tmp_path / "stats.csv"
    path.write_text(
        "region_code,year,service,value,value_unit\n"
        "430102000001,2020,agriculture,-5,万元\n"          # negative value
        "430102000001,2020,tourism,12,美元\n"              # unknown unit
        "430102000099,2020,fishery,3,万元\n",              # unknown region
        encoding="utf-8")
    with pytest.raises(InputError) as err:
        statistics.read_statistics(path, region_codes=b.CODES[:1], years=[2020], services=["agriculture"])
    text = "\n".join(err.value.lines())
    assert f"{path}: line 2: value -5 is negative" in text
    assert f"{path}: line 3: value_unit '美元' is not one of" in text
    assert f"{path}: line 4: region_code '430102000099' is not in the region layer" in text


# ------------------------------------------------------------------------------------------------ through a real process


def test_exit_codes_in_a_subprocess(base, tmp_path):
    """The real ``gep`` process: exit 2, one prefixed line per problem, no traceback, nothing written."""
    runs = {}
    bad_yaml, _ = _prepare(base, tmp_path / "yaml", _config_text("years: [2019\n"))
    runs["yaml"] = (bad_yaml, ["validate", str(bad_yaml / "config.yaml"), "--report", str(bad_yaml / "r.json")])
    three, three_cfg = _prepare(base, tmp_path / "three", _three_problems)
    runs["three"] = (three, ["validate", str(three_cfg), "--report", str(three / "r.json")])
    sched, sched_cfg = _prepare(base, tmp_path / "sched",
                                lambda d, c: (c["compute"].update(scheduler="spark"), c.pop("terrain")))
    runs["account"] = (sched, ["stage", "account", str(sched_cfg), "--level", b.LEVEL, "--year", "2020"])
    before = {k: b.snapshot(d) for k, (d, _) in runs.items()}
    env = dict(os.environ, CI="1")
    procs = {k: subprocess.Popen([sys.executable, "-m", "gep.cli.main", *argv], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env)
             for k, (_, argv) in runs.items()}
    res = {}
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        res[key] = (proc.returncode, out, err)
    for key, (rc, out, err) in res.items():
        assert rc == 2, (key, out, err)
        assert "Traceback" not in err, (key, err)
        name = " ".join(runs[key][1][:2]) if runs[key][1][0] == "stage" else runs[key][1][0]
        assert err.strip() and all(line.startswith(f"gep {name}: error: ") for line in err.splitlines())
        assert b.snapshot(runs[key][0]) == before[key], key
    assert "not valid YAML" in res["yaml"][2] and len(res["yaml"][2].splitlines()) == 1
    assert len(res["three"][2].splitlines()) == 3
    assert "key 'compute.scheduler' = 'spark'" in res["account"][2]
