"""Which files each workflow stage reads because the config names them (gep.workflow.config_files): the rules declare
them, so editing one redoes exactly the stages it feeds, and provenance records their checksums."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gep.config import validate
from gep.workflow.config_files import all_files, stage_files
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
    assert stage_files(cfg, "validate_inputs") == stage_files(cfg, "account") == [scheme]
    assert stage_files(cfg, "terrain_grid") == stage_files(cfg, "gep_ls") == []
    standard = str(BUILTIN / "standards" / "coverage_national.yaml")
    assert stage_files(cfg, "coverage_tables") == sorted([scheme, standard])
    assert stage_files(cfg, "scorecard") == sorted([scheme, str(BUILTIN / "standards" / "lianshan_national.yaml")])
    # the physical parameters of the raster services, the year's rasters, never prices
    assert stage_files(cfg, "gep_rasters", [2020]) == sorted(
        [str(p / f) for f in ("runoff_coefficients_clcd.yaml", "usle_cp_clcd.yaml", "soil_retention_dolkar2017.yaml",
                              "carbon_oxygen.yaml", "climate_regulation.yaml")]
        + [str(tmp_path / f) for f in ("p_2020.tif", "et_2020.tif", "npp_2020.tif")] + [scheme])
    tables = stage_files(cfg, "gep_tables")
    for name in ("prices_dolkar2017", "xie2015_equivalent_factors", "ecosystem_map_clcd", "carbon_pools_clcd",
                 "runoff_coefficients_clcd"):
        assert str(p / f"{name}.yaml") in tables
    assert "src/gep/data/parameters/deflator_demo.yaml" in tables  # a path, as given (relative to the run's folder)
    # the tables come from each year's stored sums, which read what the year's rasters read
    assert stage_files(cfg, "gep_sums", [2020]) == stage_files(cfg, "gep_rasters", [2020])
    assert not [f for f in tables if f.endswith(".tif")]
    # without written service rasters the tables stage computes the services itself: every year's rasters
    own = stage_files(validate(_config(tmp_path, dem=str(tmp_path / "dem.tif"), write_rasters=False)), "gep_tables")
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
    assert stage_files(cfg, "validate_inputs") == ["mine/clcd.yaml"]
    assert stage_files(cfg, "coverage_tables") == ["mine/clcd.yaml", "mine/coverage_national.yaml",
                                                   "mine/precip.tif", "mine/types.csv"]
    assert stage_files(cfg, "scorecard") == ["mine/clcd.yaml", "mine/department.xlsx", "mine/lianshan_guizhou.yaml"]
    rasters = stage_files(cfg, "gep_rasters", [2019])
    assert "mine/runoff_coefficients_clcd.yaml" in rasters and "mine/ls.tif" in rasters
    assert "mine/prices_dolkar2017.yaml" not in rasters and "mine/stats.csv" not in rasters
    tables = stage_files(cfg, "gep_tables")
    for f in ("mine/prices_dolkar2017.yaml", "mine/runoff_coefficients_clcd.yaml", "mine/stats.csv",
              "mine/npp_ratio.csv", str(BUILTIN / "parameters" / "xie2015_equivalent_factors.yaml")):
        assert f in tables
    # a regulator raster is summed with the year's service rasters, and the tables read the sums
    assert "mine/p_2019.tif" in stage_files(cfg, "gep_sums", [2019]) and "mine/p_2019.tif" not in tables
    assert "mine/p_2020.tif" not in stage_files(cfg, "gep_sums", [2019]) and "mine/npp_ratio.csv" not in rasters
    # carbon stock is not selected: its table is not read
    assert str(BUILTIN / "parameters" / "carbon_pools_clcd.yaml") not in tables
    # provenance checksums every one that exists, the user's and the built-in ones
    recorded = {str(p) for p in input_files(cfg.as_dict())}
    assert {"mine/prices_dolkar2017.yaml", "mine/clcd.yaml", "mine/lianshan_guizhou.yaml",
            str(BUILTIN / "parameters" / "usle_cp_clcd.yaml")} <= recorded
    assert set(all_files(cfg)) >= set(tables) | set(rasters)


def test_an_unknown_name_is_left_to_the_stage_that_reads_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = _config(tmp_path)
    raw["coverage"] = {"standard": "atlantis"}
    cfg = validate(raw)
    assert stage_files(cfg, "coverage_tables") == [str(BUILTIN / "classes" / "clcd.yaml")]
    with pytest.raises(InputError, match="unknown coverage standard 'atlantis'; use one of guizhou, national"):
        resolve("atlantis", "standards", "coverage standard", prefix="coverage_")


def test_stage_settings_leave_out_what_a_stage_does_not_depend_on(tmp_path):
    from gep.workflow.config_files import HOW, STAGES, stage_settings
    from gep.config.gep import RASTER_SETTINGS

    raw = _config(tmp_path, dem=str(tmp_path / "dem.tif"))
    raw["compute"] = {"scheduler": "processes", "workers": 3}
    raw["scorecard"] = {"title": "甲县"}
    cfg = validate(raw)
    full = cfg.as_dict()
    for stage in STAGES:
        s = stage_settings(cfg, stage)
        assert "compute" not in s and "republish" not in s and "demo" not in s
        named = stage in ("scorecard", "provenance")
        assert ("name" in s) == named and ("title" in s.get("scorecard", {})) == named
        assert s["output_dir"] == full["output_dir"]
    assert set(HOW) >= {"compute", "name"}
    # one year's accounting: land cover, regions and checks only (adding a year does not change it)
    assert set(stage_settings(cfg, "account")) == {"output_dir", "landcover", "regions", "checks"}
    assert set(stage_settings(cfg, "terrain_grid")["terrain"]) == {"dem_path", "window_m", "thresholds_m", "chunk"}
    rasters = stage_settings(cfg, "gep_rasters")
    dem = {"dem_path": full["terrain"]["dem_path"]}
    assert set(rasters["gep"]) == set(RASTER_SETTINGS) and rasters["terrain"] == dem
    assert "years" not in rasters and stage_settings(cfg, "gep_tables")["gep"] == full["gep"]
    # every computing job waits for the input checks: their settings hold only what every stage reads, and
    # neither the run's checks nor one year's depend on the list of years
    checks = stage_settings(cfg, "validate_inputs")
    assert set(checks) == {"output_dir", "landcover", "regions", "checks", "terrain"}
    assert "mountain_share_pct" not in checks["terrain"] and "window_m" in checks["terrain"]
    assert set(stage_settings(cfg, "validate_year")) == {"output_dir", "landcover"}


def test_protected_sources_follow_carry_forward(tmp_path):
    """Each year's red-line job lists the file that year reads: its own, or with carry_forward the latest
    earlier one that exists (as gep.indicators.protected.areas.resolve_sources picks it), so a year's job is redone when, and
    only when, its file changes."""
    from gep.workflow.config_files import protected_sources
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


def test_settings_files_are_rewritten_only_where_they_change(tmp_path):
    from gep.workflow.config_files import sync_stage_settings

    raw = _config(tmp_path, dem=str(tmp_path / "dem.tif"))
    paths = sync_stage_settings(validate(raw))
    before = {s: Path(p).stat().st_mtime_ns for s, p in paths.items()}
    sync_stage_settings(validate(raw))
    assert {s: Path(p).stat().st_mtime_ns for s, p in paths.items()} == before
    sync_stage_settings(validate({**raw, "name": "改名", "gep": {**raw["gep"], "verdict": {"rule": "monotone"}}}))
    changed = {s for s, p in paths.items() if Path(p).stat().st_mtime_ns != before[s]}
    assert changed == {"gep_tables", "scorecard", "provenance"}
