"""Which files a config names, by what reads them (gep.config.files): the rules declare them, so editing one redoes
exactly the jobs it feeds, and provenance records their checksums; and the config values a rule's params hold
(gep.workflow.rules.settings)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gep.config import validate
from gep.config.files import (config_files, coverage_files, gep_regulator_rasters, gep_service_files,
                              gep_table_files, scheme_files, scorecard_files)
from gep.core.errors import InputError
from gep.io.provenance import input_files
from gep.core.resources import DATA_DIR, resolve

BUILTIN = DATA_DIR.resolve()


def _config(tmp_path: Path, **gep) -> dict:
    return {"name": "t", "output_dir": str(tmp_path / "out"), "years": [2019, 2020],
            "landcover": {"path": str(tmp_path / "lc_{year}.tif")},
            "regions": {"county": {"path": str(tmp_path / "r.gpkg"), "id_field": "code"}},
            "terrain": {"dem_path": str(tmp_path / "dem.tif")},
            "gep": {"rasters": {"precipitation": str(tmp_path / "p_{year}.tif"), "et": str(tmp_path / "et_{year}.tif"),
                                "npp": {"path": str(tmp_path / "npp_{year}.tif"), "scale": 0.1},
                                "erosivity": 4000, "erodibility": 0.03},
                    "deflator": "src/gep/data/parameters/deflator_demo.yaml", **gep}}


def test_builtin_names_resolve_into_the_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the checkout: built-in files are listed by absolute path
    cfg = validate(_config(tmp_path, dem=str(tmp_path / "dem.tif")))
    p = BUILTIN / "parameters"
    scheme = str(BUILTIN / "classes" / "clcd.yaml")  # every stage that reads land-cover classes
    assert scheme_files(cfg) == [scheme]
    standard = str(BUILTIN / "standards" / "coverage_national.yaml")
    assert coverage_files(cfg) == [standard]
    # the 两山指数 list and the coverage standard it takes indicator 7's targets from (coverage_standard: national)
    assert scorecard_files(cfg) == [str(BUILTIN / "standards" / "lianshan_national.yaml"), standard]
    # the physical parameters of the raster services, the year's rasters, never prices
    assert sorted(gep_service_files(cfg, [2020])) == sorted(
        [str(p / f) for f in ("runoff_coefficients_clcd.yaml", "usle_cp_clcd.yaml", "soil_retention_dolkar2017.yaml",
                              "carbon_oxygen.yaml", "climate_regulation.yaml")]
        + [str(tmp_path / f) for f in ("p_2020.tif", "et_2020.tif", "npp_2020.tif")])
    tables = gep_table_files(cfg)
    for name in ("prices_dolkar2017", "xie2015_equivalent_factors", "ecosystem_map_clcd", "carbon_pools_clcd",
                 "runoff_coefficients_clcd"):
        assert str(p / f"{name}.yaml") in tables
    assert "src/gep/data/parameters/deflator_demo.yaml" in tables  # a path, as given (relative to the run's folder)
    # the tables come from each year's stored sums: they read no raster
    assert not [f for f in tables if f.endswith(".tif")]
    # without written service rasters the tables stage computes the services itself: every year's rasters
    own = gep_table_files(validate(_config(tmp_path, dem=str(tmp_path / "dem.tif"), write_rasters=False)))
    assert str(tmp_path / "dem.tif") in own and str(tmp_path / "p_2019.tif") in own and set(tables) < set(own)


def test_users_own_files_and_optional_inputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    for kind, name in (("classes", "clcd"), ("standards", "coverage_national"), ("standards", "lianshan_guizhou"),
                       ("parameters", "prices_dolkar2017"), ("parameters", "runoff_coefficients_clcd")):
        shutil.copy(BUILTIN / kind / f"{name}.yaml", mine / f"{name}.yaml")
    raw = _config(tmp_path, services=["tier1", "water_conservation", "soil_retention", "statistics"],
                  parameters={"prices": "mine/prices_dolkar2017.yaml", "runoff": "mine/runoff_coefficients_clcd.yaml"},
                  ls={"path": "mine/ls.tif"}, statistics="mine/stats.csv",
                  tier1={"regulators": {"npp": {"table": "mine/npp_ratio.csv"},
                                        "precipitation": {"raster": {"path": "mine/p_{year}.tif"},
                                                          "reference_mean": 800}}})
    raw["landcover"]["scheme"] = "mine/clcd.yaml"
    raw["coverage"] = {"standard": "mine/coverage_national.yaml"}
    raw["scorecard"] = {"standard": "mine/lianshan_guizhou.yaml", "template": "mine/department.xlsx"}
    cfg = validate(raw)
    raw["terrain"].update(precip_path="mine/precip.tif", overrides_path="mine/types.csv")
    cfg = validate(raw)
    assert scheme_files(cfg) == ["mine/clcd.yaml"]
    assert coverage_files(cfg) == ["mine/coverage_national.yaml", "mine/precip.tif", "mine/types.csv"]
    # the user's list names the built-in coverage standard 'guizhou' for indicator 7's targets
    assert scorecard_files(cfg) == ["mine/lianshan_guizhou.yaml", str(BUILTIN / "standards" / "coverage_guizhou.yaml"),
                                    "mine/department.xlsx"]
    rasters = gep_service_files(cfg, [2019])
    assert "mine/runoff_coefficients_clcd.yaml" in rasters and "mine/ls.tif" in rasters
    assert "mine/prices_dolkar2017.yaml" not in rasters and "mine/stats.csv" not in rasters
    tables = gep_table_files(cfg)
    for f in ("mine/prices_dolkar2017.yaml", "mine/runoff_coefficients_clcd.yaml", "mine/stats.csv",
              "mine/npp_ratio.csv", str(BUILTIN / "parameters" / "xie2015_equivalent_factors.yaml")):
        assert f in tables
    # a regulator raster is summed with the year's service rasters, and the tables read the sums
    assert gep_regulator_rasters(cfg, [2019]) == ["mine/p_2019.tif"] and "mine/p_2019.tif" not in tables
    assert "mine/p_2019.tif" not in rasters and "mine/npp_ratio.csv" not in rasters
    # carbon stock is not selected: its table is not read
    assert str(BUILTIN / "parameters" / "carbon_pools_clcd.yaml") not in tables
    # provenance checksums every one that exists, the user's and the built-in ones
    recorded = {str(p) for p in input_files(cfg.as_dict())}
    assert {"mine/prices_dolkar2017.yaml", "mine/clcd.yaml", "mine/lianshan_guizhou.yaml",
            str(BUILTIN / "parameters" / "usle_cp_clcd.yaml")} <= recorded
    assert set(config_files(cfg)) >= set(tables) | set(rasters) | {"mine/p_2019.tif", "mine/p_2020.tif"}


def test_an_unknown_name_is_left_to_the_stage_that_reads_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = _config(tmp_path)
    raw["coverage"] = {"standard": "atlantis"}
    cfg = validate(raw)
    assert coverage_files(cfg) == []
    with pytest.raises(InputError, match="unknown coverage standard 'atlantis'; use one of guizhou, national"):
        resolve("atlantis", "standards", "coverage standard", prefix="coverage_")


def test_rule_params_hold_the_values_a_job_uses_and_no_compute_setting(tmp_path):
    """A rule's params are the config values its job uses (gep.workflow.rules.settings): never how the run
    computes (a run moved to a cluster redoes nothing), and each section as the config resolves it."""
    import json

    from gep.workflow.rules import HOW, all_settings, settings

    raw = _config(tmp_path, dem=str(tmp_path / "dem.tif"))
    raw["compute"] = {"scheduler": "processes", "workers": 3, "chunk_size": 256}
    raw["scorecard"] = {"title": "甲县"}
    cfg = validate(raw)
    full = cfg.as_dict()
    account = json.loads(settings(cfg, "landcover", "regions", "checks"))
    # the survey settings are the survey jobs' params alone (editing them redoes no raster job)
    raster_landcover = {k: v for k, v in full["landcover"].items() if k != "survey"}
    assert account == {"landcover": raster_landcover, "regions": full["regions"], "checks": full["checks"]}
    grid = json.loads(settings(cfg, "terrain.dem_path", "terrain.window_m"))
    assert grid == {"terrain.dem_path": str(tmp_path / "dem.tif"), "terrain.window_m": 4583.0}
    gep = json.loads(settings(cfg, "gep"))["gep"]
    assert "chunk" not in gep and gep["deflator"] == full["gep"]["deflator"]
    everything = json.loads(all_settings(cfg))
    assert not {"compute", "republish", "demo"} & set(everything) and everything["name"] == "t"
    assert "chunk" not in everything["terrain"] and everything["scorecard"]["title"] == "甲县"
    assert {"compute", "terrain.chunk", "gep.chunk"} <= set(HOW)
    # other compute settings give the same params
    raw["compute"] = {"chunk_size": 1024}
    assert all_settings(validate(raw)) == all_settings(cfg)


def test_protected_sources_follow_carry_forward(tmp_path):
    """Each year's red-line job lists the file that year reads: its own, or with carry_forward the latest
    earlier one that exists (as gep.indicators.protected.areas.resolve_sources picks it), so a year's job is redone when, and
    only when, its file changes."""
    from gep.config.files import protected_sources
    from gep.indicators.protected.areas import resolve_sources

    for y in (2019, 2021):
        (tmp_path / f"red_{y}.gpkg").write_bytes(b"x")
    raw = _config(tmp_path)
    raw["years"] = [2019, 2020, 2021, 2022]
    raw["protected"] = {"redline": {"path": str(tmp_path / "red_{year}.gpkg"), "carry_forward": True},
                        "protected": {"path": str(tmp_path / "pa_{year}.gpkg")}}
    cfg = validate(raw)
    red = cfg.protected.layers()["redline"]
    picked = {s.year: str(s.path) for s in resolve_sources(red, cfg.years)}
    for year in cfg.years:
        assert picked[year] in protected_sources(cfg, [year])
    assert protected_sources(cfg, [2020]) == sorted([str(tmp_path / "red_2019.gpkg"), str(tmp_path / "pa_2020.gpkg")])
    assert protected_sources(cfg, [2022]) == sorted([str(tmp_path / "red_2021.gpkg"), str(tmp_path / "pa_2022.gpkg")])
    assert len(protected_sources(cfg)) == 2 + 4


def test_fixed_climate_jobs_read_the_climate_years_files(tmp_path):
    """With gep.fixed_climate (docs/methods.md §4.6) a year's raster job reads the climate years' precipitation and
    et and its own NPP (not listed); the Tier-1 precipitation ratio follows; the resolved config validates again
    (provenance re-reads it)."""
    raw = _config(tmp_path, services=["tier1", "water_conservation", "carbon_sequestration"],
                  fixed_climate={"from": 2015, "to": 2016},
                  tier1={"regulators": {"precipitation": {"raster": str(tmp_path / "p_{year}.tif"),
                                                          "reference_mean": 800}}})
    cfg = validate(raw)
    rasters = [f for f in gep_service_files(cfg, [2020]) if f.endswith(".tif")]
    assert sorted(rasters) == sorted(str(tmp_path / f) for f in ("p_2015.tif", "p_2016.tif", "et_2015.tif",
                                                                 "et_2016.tif", "npp_2020.tif"))
    assert gep_regulator_rasters(cfg, [2020]) == [str(tmp_path / "p_2015.tif"), str(tmp_path / "p_2016.tif")]
    assert validate(cfg.as_dict()).gep.fixed_climate.climate_years == [2015, 2016]
    assert cfg.gep.climate_note() == "fixed climate: mean of precipitation, et, tier1 precipitation ratio over 2015, 2016"
