"""Config validation: defaults in one place, one line per problem naming the key, schema file in sync."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gep import config
from gep.core.errors import InputError

REPO = Path(__file__).resolve().parents[2]
GEP = [sys.executable, "-m", "gep.cli.main"]


def _minimal() -> dict:
    return {"years": [2020], "landcover": {"path": "lc_{year}.tif"},
            "regions": {"county": {"path": "c.gpkg", "id_field": "code"}}}


def test_schema_file_matches_models():
    assert (REPO / "config" / "schema.json").read_text(encoding="utf-8") == config.schema_text(), (
        "config/schema.json is out of date: run `gep config-schema --out config/schema.json`")


def test_demo_config_is_valid():
    cfg = config.load(REPO / "config" / "config.yaml")
    assert cfg.years == [2019, 2020, 2021]
    assert cfg.landcover.scheme == "clcd"


def test_defaults_filled():
    cfg = config.validate(_minimal())
    assert cfg.compute.chunk_size == 2048 and cfg.compute.scheduler == "threads"
    assert cfg.checks.area_tolerance_pct == 0.1
    assert cfg.landcover.unknown_codes == "error"
    assert str(cfg.landcover_path(2020)) == "lc_2020.tif"


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d.pop("years"), "key 'years' is missing"),
    (lambda d: d.update(years=[2020, 2020]), "years repeat"),
    (lambda d: d.update(years=[20]), "four-digit"),
    (lambda d: d["landcover"].update(path="lc.tif"), "must contain {year}"),
    (lambda d: d["landcover"].update(unknown_codes="ignore"), "landcover.unknown_codes"),
    (lambda d: d.update(colour="red"), "key 'colour' is not a known setting"),
    (lambda d: d["regions"]["county"].pop("id_field"), "key 'regions.county.id_field' is missing"),
    (lambda d: d["regions"].update({"县 level": d["regions"]["county"]}), "must be ASCII"),
    (lambda d: d.update(compute={"chunk_size": 3}), "compute.chunk_size"),
])
def test_each_problem_names_its_key(mutate, expected):
    data = _minimal()
    mutate(data)
    with pytest.raises(InputError) as err:
        config.validate(data, "my.yaml")
    text = "\n".join(err.value.lines())
    assert expected in text
    assert all(line.startswith("my.yaml: ") for line in err.value.lines())


def test_all_problems_reported_together():
    data = _minimal()
    data.pop("years")
    data["landcover"]["path"] = "lc.tif"
    with pytest.raises(InputError) as err:
        config.validate(data)
    assert len(err.value.lines()) == 2


def test_cli_validate_config_exit_codes(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(_minimal()), encoding="utf-8")
    ok = subprocess.run(GEP + ["validate-config", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("years: [2020\nlandcover: {", encoding="utf-8")
    res = subprocess.run(GEP + ["validate-config", str(bad)], capture_output=True, text=True)
    assert res.returncode == 2
    assert "not valid YAML" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    missing = subprocess.run(GEP + ["validate-config", str(tmp_path / "nope.yaml")], capture_output=True, text=True)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_yaml_is_loaded_safely(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("years: !!python/object/apply:os.system ['echo hacked']\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        config.load(evil)
    assert "not valid YAML" in str(err.value)
