"""The embedded demo run end to end (what `make demo` runs), checked with identities that hold independently
of the code: townships partition the county, areas agree with geodesic polygon areas, coverage follows from
the class areas, red-line areas add up across levels."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from pyproj import Geod

REPO = Path(__file__).resolve().parents[2]
from gep.core.resources import DATA_DIR  # noqa: E402

# Loaded by every Python process of the demo run (PYTHONPATH): each `gep` stage logs the files it opens for
# reading through Python (YAML, CSV, JSON, workbooks; rasters and layers are read by GDAL and not seen).
OPEN_LOGGER = """
import atexit, json, os, sys
_log = os.environ.get("GEP_TEST_OPEN_LOG")
if _log:
    _read, _written = set(), set()

    def _hook(event, args):
        if event == "open" and isinstance(args[0], (str, os.PathLike)):
            mode = str(args[1] or "r")
            (_written if any(c in mode for c in "wax+") else _read).add(os.path.abspath(os.fspath(args[0])))
        elif event == "os.rename" and isinstance(args[1], (str, os.PathLike)):
            _written.add(os.path.abspath(os.fspath(args[1])))

    def _write():
        if os.path.basename(sys.argv[0]) == "gep":
            with open(os.path.join(_log, f"{os.getpid()}.json"), "w") as fh:
                json.dump({"argv": sys.argv[1:], "read": sorted(_read - _written)}, fh)

    sys.addaudithook(_hook)
    atexit.register(_write)
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    data = folder / "data"
    cfg["output_dir"] = str(folder / "results")
    cfg["demo"]["dir"] = str(data)
    text = yaml.safe_dump(cfg, allow_unicode=True).replace("resources/demo", str(data))
    (folder / "config.yaml").write_text(text, encoding="utf-8")
    (folder / "opens").mkdir()
    (folder / "site").mkdir()
    (folder / "site" / "sitecustomize.py").write_text(OPEN_LOGGER, encoding="utf-8")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(folder / "site"), os.environ.get("PYTHONPATH")])),
           "GEP_TEST_OPEN_LOG": str(folder / "opens")}
    res = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"),
                          "--configfile", str(folder / "config.yaml"), "--cores", "2", "--quiet", "rules"],
                         cwd=REPO, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    return folder


def _table(demo: Path, level: str, name: str) -> pd.DataFrame:
    return pd.read_csv(demo / "results" / "tables" / level / f"{name}.csv", dtype={"region_code": str})


def test_townships_partition_the_county(demo):
    county = _table(demo, "county", "landcover_area").groupby(["year", "lc_code"])["area_cm2"].sum()
    towns = _table(demo, "township", "landcover_area").groupby(["year", "lc_code"])["area_cm2"].sum()
    # each boundary cell is split between neighbours with rounding to whole cm²: allow 1 cm² per cell
    assert (county - towns).abs().max() <= 20_000
    assert np.allclose(county, towns, rtol=1e-9)


def test_region_area_matches_geodesic_polygon_area(demo):
    towns = gpd.read_file(demo / "data" / "townships.gpkg")
    geod = Geod(ellps="GRS80")  # CGCS2000's ellipsoid
    ra = _table(demo, "township", "region_area")
    for code, geom in zip(towns["code"], towns.geometry):
        import shapely

        dense = shapely.segmentize(geom, 0.0002)
        expected_km2 = abs(geod.geometry_area_perimeter(dense)[0]) / 1e6
        got = ra[ra.region_code == code]
        assert np.allclose(got.valid_km2 + got.nodata_km2, expected_km2, rtol=1e-6)
    # the 2020 cloud gap is reported as nodata, not lost
    assert ra[ra.year == 2020].nodata_km2.sum() > 1.0
    assert ra[ra.year != 2020].nodata_km2.sum() == 0


def test_coverage_follows_from_class_areas(demo):
    lc = _table(demo, "township", "landcover_area")
    fgc = _table(demo, "township", "forest_grass_coverage")
    ra = _table(demo, "township", "region_area")
    lin = lc[lc.category.isin(["forest", "shrub"])].groupby(["region_code", "year"])["area_km2"].sum()
    cao = lc[lc.category == "grass"].groupby(["region_code", "year"])["area_km2"].sum()
    total = ra.set_index(["region_code", "year"])
    merged = fgc.set_index(["region_code", "year"])
    expected = 100 * (lin.reindex(merged.index, fill_value=0) + cao.reindex(merged.index, fill_value=0)) / (
        total.valid_km2 + total.nodata_km2).reindex(merged.index)
    assert np.allclose(merged.coverage_pct, expected, atol=1e-5)
    targets = {"山区": 60.0, "丘陵区": 40.0, "平原区": 18.0}
    assert (merged.target_pct == merged.terrain_type.map(targets)).all()
    assert (merged.meets_target == (merged.coverage_pct > merged.target_pct)).all()
    # the demo county has plains, hills and mountains
    assert set(fgc.terrain_type) == {"山区", "丘陵区", "平原区"}


def test_terrain_strata_sum_to_landcover(demo):
    ta = _table(demo, "township", "terrain_area")
    lc = _table(demo, "township", "landcover_area")
    by_class = ta[ta.lc_code != "nodata"].assign(lc_code=lambda d: d.lc_code.astype(int)) \
        .groupby(["region_code", "year", "lc_code"])["area_cm2"].sum()
    expected = lc.set_index(["region_code", "year", "lc_code"])["area_cm2"]
    pd.testing.assert_series_equal(by_class.sort_index(), expected.sort_index(), check_names=False)


def test_redline_area_adds_up_across_levels(demo):
    county = _table(demo, "county", "protected_area").query("region_code != '__outside__'")
    towns = _table(demo, "township", "protected_area").query("region_code != '__outside__'")
    c = county[(county.layer == "redline") & (county.type == "all")].groupby("year")["area_km2"].sum()
    t = towns[(towns.layer == "redline") & (towns.type == "all")].groupby("year")["area_km2"].sum()
    assert np.allclose(c, t, rtol=1e-9)
    change = _table(demo, "township", "protected_change")
    red = change[(change.layer == "redline") & (change.type == "all") & (change.year > 2019)]
    assert (red.verdict == "减少").sum() >= 1  # the demo has one township whose red line shrinks
    # red-line composition: shares sum to 100 per region, year and layer
    comp = _table(demo, "township", "redline_landcover")
    sums = comp.groupby(["region_code", "year", "layer"])["share_pct"].sum()
    assert np.allclose(sums, 100.0)


def test_gep_items_of_the_demo_tables_appear_at_both_levels(demo):
    """Flood regulation, air and water purification and pest control are in the demo's gep_services at both
    levels, every region and year, with the values the demo tables give by hand: the reservoir's 0.35 × 1850
    × 10⁴ m³, the lake's e^6.636·0.12^0.678·2 × 10⁴ m³, and the county's SO₂ = min(forest hm² × 152.13 kg,
    Σ townships' emissions). Sand fixation is off (humid county)."""
    items = {"flood_regulation:lakes", "flood_regulation:reservoirs", "flood_regulation:marshes",
             "air_purification:so2", "air_purification:nox", "air_purification:dust", "water_purification:cod",
             "water_purification:nh3_n", "pest_control:forest", "pest_control:grassland"}
    emissions = pd.read_csv(demo / "data" / "emissions.csv", dtype={"region_code": str})
    for level in ("county", "township"):
        s = _table(demo, level, "gep_services")
        regions = s["region_code"].nunique()
        got = s[s["service"].isin(items)]
        assert len(got) == len(items) * regions * 3, level          # every item, region and year
        assert np.isfinite(got["value_yuan"]).all() and (got["quantity"] >= 0).all()
        assert not s["service"].str.startswith("sand_fixation").any()
        res = got[got["service"] == "flood_regulation:reservoirs"].groupby("year")["quantity"].sum()
        np.testing.assert_allclose(res.to_numpy(), 0.35 * 1850 * 1e4, rtol=1e-12)
        lake = got[got["service"] == "flood_regulation:lakes"].groupby("year")["quantity"].sum()
        np.testing.assert_allclose(lake.to_numpy(), 762.0407 * 0.12 ** 0.678 * 2 * 1e4, rtol=1e-6)
    c = _table(demo, "county", "gep_services").set_index(["year", "service"])
    lca = _table(demo, "county", "landcover_area")
    for year in (2019, 2020, 2021):
        forest_hm2 = lca[(lca["year"] == year) & (lca["lc_code"].astype(str) == "2")]["area_km2"].sum() * 100
        so2 = emissions[(emissions["year"] == year) & (emissions["pollutant"] == "so2")]["amount_t"].sum()
        assert c.loc[(year, "air_purification:so2"), "quantity"] == pytest.approx(min(forest_hm2 * 0.15213, so2))
        assert c.loc[(year, "pest_control:forest"), "quantity"] == pytest.approx(forest_hm2)


def test_gep_change_adds_up_to_the_summary(demo):
    """gep_change's total row of every region and year is the change of constant-price GEP in gep_summary, and
    its items sum to it (docs/methods.md §4.9); the scorecard's indicator-10 sheet lists the change."""
    for level in ("county", "township"):
        ch = _table(demo, level, "gep_change")
        s = _table(demo, level, "gep_summary").set_index(["region_code", "year"])
        total = ch[ch["service"] == "total"]
        assert len(total) == s.index.get_level_values(0).nunique() * 2, level   # 2020 and 2021
        for r in total.itertuples(index=False):
            d = s.loc[(r.region_code, r.year), "gep_constant_yuan"] - s.loc[(r.region_code, r.year_prev),
                                                                           "gep_constant_yuan"]
            assert r.change_constant_yuan == pytest.approx(d, rel=1e-9)
            items = ch[(ch["region_code"] == r.region_code) & (ch["year"] == r.year) & (ch["service"] != "total")]
            assert items["change_constant_yuan"].sum() == pytest.approx(d, rel=1e-9)
        import openpyxl

        wb = openpyxl.load_workbook(demo / "results" / "scorecard" / level / "lianshan_index.xlsx", read_only=True)
        first = [row[0] for row in wb["指标10分项"].iter_rows(values_only=True)]
        assert any(isinstance(v, str) and v.startswith("2021年较 2020年的分项变化") for v in first), level


def test_demo_gep_is_valued_with_national_default_and_flagged(demo):
    """The demo values its services with national_default: every non-optional item of the profile but sand
    fixation (off in the humid county) has rows at both levels, each row says its price records and status, and
    every GEP names the P/DEMO services it rests on."""
    from gep.indicators.gep.profiles import load_profile
    from gep.indicators.gep.services.registry import profile_items

    profile = load_profile("national_default")
    for level in ("county", "township"):
        s = _table(demo, level, "gep_services")
        tier2 = s[s["tier"] == 2]
        covered = {i for name in tier2["service"].unique() for i in profile_items(name)}
        needed = {k for k, it in profile.items.items() if not it.optional}
        assert needed - covered == {"sand_fixation"}, level
        regulating = tier2[tier2["category"] == "regulating"]
        assert regulating["price_record"].str.contains(", 甘孜州, P").all()
        assert set(regulating["status"]) <= {"P", "DEMO"}
        assert set(tier2.loc[tier2["category"] == "provisioning", "status"]) == {"DEMO"}
        summary = _table(demo, level, "gep_summary")
        assert set(summary["profile"]) == {"national_default"}
        assert summary["gep_scope"].str.contains(r"not accounted: sand_fixation(?:, |$)").all()
        assert summary["provisional"].str.contains("tourism").all()


def test_outputs_for_qgis_and_provenance(demo):
    import pyogrio

    layers = [name for name, _ in pyogrio.list_layers(demo / "results" / "maps" / "protected_change.gpkg")]
    assert "redline_2019_2020" in layers
    assert (demo / "results" / "rasters" / "terrain_classes.tif").exists()
    assert (demo / "results" / "provenance.json").exists()


def _declared_files(demo: Path) -> dict[tuple[str, ...], tuple[str, set[str], set[str]]]:
    """(rule, absolute input paths, absolute output paths) of every job of the demo run, keyed by its `gep`
    command's arguments."""
    res = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"),
                          "--configfile", str(demo / "config.yaml"), "--cores", "2", "--dry-run", "--forceall",
                          "--printshellcmds"], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]

    def paths(block: str, key: str) -> set[str]:
        found = re.search(rf"^\s*{key}: (.+)$", block, re.M)
        return {str((REPO / f).resolve()) for f in found[1].split(", ")} if found else set()

    jobs = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", res.stdout + res.stderr):
        rule = re.match(r"(?:local)?rule (\w+):", block)
        shell = re.search(r"^(?:Shell command: )?\s*gep (.+?)\s*$", block, re.M)
        if rule and shell:
            jobs[tuple(shlex.split(shell[1]))] = (rule[1], paths(block, "input"), paths(block, "output"))
    return jobs


def test_every_file_a_stage_reads_is_an_input_of_its_rule(demo):
    """A file a stage reads but its rule does not declare is not watched by Snakemake: editing it (a price
    table, a standard, the class scheme) would leave stale published numbers. Here every file a `gep` stage of
    the demo run opened in the config folder or among the run's files is an input of that stage's job. Exempt:
    what the job wrote itself (in its output folders: the scorecard's maps), the input checks (which check
    price and deflator tables up front) and provenance (which checksums everything), which may read any input
    of the run."""
    jobs = _declared_files(demo)
    inputs = set().union(*(i for _, i, _ in jobs.values()))
    outputs = set().union(*(o for _, _, o in jobs.values()))
    watched = (str(REPO / "config"), str(DATA_DIR), str(demo / "data"), str(demo / "results"))
    guard = str(demo / "results" / "published")  # the publish guard's own records
    seen_rules = set()
    for log in (json.loads(p.read_text(encoding="utf-8")) for p in (demo / "opens").glob("*.json")):
        if tuple(log["argv"]) not in jobs:
            continue  # `gep where` and the like, outside any rule
        rule, declared, own = jobs[tuple(log["argv"])]
        seen_rules.add(rule)
        allowed = inputs if rule in ("validate_inputs", "validate_year", "provenance") else declared
        own_dirs = tuple(str(Path(o).parent) + os.sep for o in own)
        read = {f for f in log["read"] if f.startswith(watched) and not f.startswith(guard) and Path(f).is_file()}
        # a table's Parquet copy and metadata are written with its CSV, which the rules name
        read = {re.sub(r"(\.meta\.json|\.parquet)$", ".csv", f) if "/tables/" in f else f for f in read}
        undeclared = {f for f in read - allowed if f in outputs - own or not f.startswith(own_dirs)}
        assert not undeclared, f"{rule} {log['argv']} reads undeclared files: {sorted(undeclared)}"
    assert {"validate_inputs", "gep_rasters", "gep_tables", "coverage_tables", "scorecard"} <= seen_rules
    # and no more than that: a price edit redoes the GEP tables, not the service rasters
    rasters = next(i for rule, i, _ in jobs.values() if rule == "gep_rasters")
    tables = next(i for rule, i, _ in jobs.values() if rule == "gep_tables")
    prices = str(DATA_DIR / "parameters" / "prices_dolkar2017.yaml")
    runoff = str(DATA_DIR / "parameters" / "runoff_coefficients_clcd.yaml")
    assert prices in tables and prices not in rasters and runoff in rasters
    # the GEP tables of every year come from each year's stored sums: they read no raster, so adding a year
    # reads that year's rasters alone (in its gep_rasters and gep_sums jobs)
    assert not [f for rule, i, _ in jobs.values() if rule == "gep_tables" for f in i if f.endswith(".tif")]
    assert {Path(f).name for f in tables if "/interim/" in f} == {f"gep_sums_{y}.parquet" for y in (2019, 2020, 2021)}


def _dry_run(demo: Path, cfg: dict) -> Counter:
    """How many jobs of each rule a run with ``cfg`` over the demo's results would run."""
    (demo / "variant.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"),
                          "--configfile", str(demo / "variant.yaml"), "--cores", "2", "-n"],
                         cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    return Counter(re.findall(r"^(?:local)?rule (\w+):", res.stdout + res.stderr, re.M)) - Counter(["all"])


def test_each_years_gep_is_computed_and_summed_in_its_own_jobs(demo):
    """A run over two of the demo's three years redoes the tables that span every year (and what shows them)
    from each year's stored results: never a year's service rasters, GEP sums, accounting or checks."""
    cfg = yaml.safe_load((demo / "config.yaml").read_text(encoding="utf-8"))
    jobs = _dry_run(demo, {**cfg, "years": [2019, 2020]})
    assert jobs["gep_tables"] == 2 and jobs["landcover_tables"] == 1, jobs
    assert not set(jobs) & {"gep_rasters", "gep_sums", "gep_ls", "account", "transition", "validate_year",
                            "validate_inputs", "terrain_grid"}, jobs
    assert not _dry_run(demo, cfg)  # back to the three years: nothing to redo


def test_a_config_value_redoes_exactly_the_jobs_that_use_it(demo):
    """Snakemake's own rerun triggers (params: the config values a job uses; input: the files it reads) decide
    what to redo. After the finished demo run: another coverage standard redoes the 林草覆盖率 tables and what
    shows them (the provenance record and the scorecard); a changed price the GEP tables and the same two;
    another chunk size, scheduler or config file path nothing."""
    cfg = yaml.safe_load((demo / "config.yaml").read_text(encoding="utf-8"))
    shown = {"provenance": 1, "scorecard": 2}  # the record of the run and one scorecard per level
    assert _dry_run(demo, {**cfg, "coverage": {**cfg["coverage"], "standard": "guizhou"}}) == Counter(
        {"coverage_tables": 1, **shown})
    prices = yaml.safe_load((DATA_DIR / "parameters" / "prices_dolkar2017.yaml").read_text(encoding="utf-8"))
    prices["prices"]["carbon"]["value"] = 2 * prices["prices"]["carbon"]["value"]  # a carbon price of our own
    text = yaml.safe_dump(prices, allow_unicode=True)
    (demo / "prices.yaml").write_text(text, encoding="utf-8")
    priced = {**cfg, "gep": {**cfg["gep"], "parameters": {"prices": str(demo / "prices.yaml")}}}
    assert _dry_run(demo, priced) == Counter({"gep_tables": 2, **shown})
    assert _dry_run(demo, {**cfg, "compute": {"chunk_size": 1024, "scheduler": "synchronous", "workers": 1}}) == Counter()
    assert not _dry_run(demo, cfg)  # back to the run's own config: nothing to redo



def test_summary_and_tables_workbook_of_the_demo(demo, capsys):
    """`gep where` (what `gep run` prints at its end) counts the indicators per status word as the
    lianshan_index table does, and each level's tables.xlsx holds every published table with codes as text."""
    import openpyxl

    from gep.cli.main import main

    assert main(["where", str(demo / "config.yaml")]) == 0
    out = capsys.readouterr().out.splitlines()
    for level in ("county", "township"):
        index = pd.read_csv(demo / "results" / "scorecard" / level / "lianshan_index.csv", dtype={"region_code": str})
        for year, g in index.groupby("year"):
            counts = g["status"].value_counts()
            words = " · ".join(f"{s} {int(counts.get(s, 0))}" for s in ("达标", "不达标", "暂未核算", "暂未调查", "无数据", "数据不全"))
            assert f"  {level} {year}: {words}（{g['region_code'].nunique()} 个区域的指标数）" in out
        assert f"  {level} report:    {(demo / 'results' / 'scorecard' / level / 'report' / 'index.html').resolve()}" \
            in out
        tables = demo / "results" / "tables" / level
        published = {p.name[: -len(".meta.json")] for p in tables.glob("*.meta.json")}
        assert len(published) >= 16
        wb = openpyxl.load_workbook(demo / "results" / "scorecard" / level / "tables.xlsx", read_only=True)
        assert set(wb.sheetnames) == published | {"说明", "lianshan_index"}
        ws = wb["landcover_area"]
        first = next(ws.iter_rows(min_row=4, max_row=4))
        assert first[0].data_type == "s" and first[0].value == index["region_code"].iloc[0]
        assert (tables / "landcover_area.csv").read_bytes().startswith(b"\xef\xbb\xbf")
