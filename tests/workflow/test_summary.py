"""The end of a run, for people: `gep where` / `gep run` print where the deliverables are, the indicators per
status word per level and year (counted here independently), every warning of the job logs once; a failed
`gep run` ends with gep's own error line, the scheduler's chatter kept in the log file only."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from gep.cli.main import main
from gep.config import load
from gep.io.run_paths import scorecard_dir
from gep.io.tables import write_table
from gep.workflow import summary

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cfg_path(tmp_path):
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["output_dir"] = str(tmp_path / "results")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def _index(statuses: dict[int, list[str]], regions=("430124001", "430124002")) -> pd.DataFrame:
    rows = []
    for year, words in statuses.items():
        for k, s in enumerate(words):
            rows.append({"region_code": regions[k % len(regions)], "year": year, "indicator_no": k + 1,
                         "status": s})
    return pd.DataFrame(rows)


def test_summary_counts_and_warnings(cfg_path, capsys):
    cfg = load(cfg_path)
    # township: 2020 two 达标, one 不达标, one 暂未核算; 2021 one each of 达标, 暂未调查, 无数据, 数据不全
    write_table(_index({2020: ["达标", "不达标", "达标", "暂未核算"], 2021: ["达标", "暂未调查", "无数据", "数据不全"]}),
                scorecard_dir(cfg, "township"), "lianshan_index")
    logs = cfg.out / "logs"
    logs.mkdir(parents=True)
    (logs / "scorecard_township.log").write_text("drawing\ngep: warning: 区域图层没有名称字段\n", encoding="utf-8")
    (logs / "scorecard_county.log").write_text("gep: warning: 区域图层没有名称字段\n", encoding="utf-8")
    (logs / "validate_inputs.log").write_text("gep validate: warning: regions.township: 2 polygons repaired\n"
                                              "x.py:3: RuntimeWarning: invalid value\n  warnings.warn(\n",
                                              encoding="utf-8")
    (logs / summary.WORKFLOW_LOG).write_text("gep: warning: not read (the workflow's own output)\n")
    assert main(["where", str(cfg_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "  township 2020: 达标 2 · 不达标 1 · 暂未核算 1 · 暂未调查 0 · 无数据 0 · 数据不全 0（2 个区域的指标数）" in out
    assert "  township 2021: 达标 1 · 不达标 0 · 暂未核算 0 · 暂未调查 1 · 无数据 1 · 数据不全 1（2 个区域的指标数）" in out
    assert "  county: no 两山指数 table yet (the scorecard step has not run)" in out
    assert out[0] == f"gep: results of '示范县 demo' are in {cfg.out.resolve()}（运行结果）"
    warn = out[out.index(next(l for l in out if "warning(s) in the job logs" in l)):]
    assert warn[0].startswith("gep: 3 warning(s)")
    assert warn[1:] == ["  [scorecard_county +1] gep: warning: 区域图层没有名称字段",
                        "  [validate_inputs] gep validate: warning: regions.township: 2 polygons repaired",
                        "  [validate_inputs] x.py:3: RuntimeWarning: invalid value"]


FAKE_SNAKEMAKE = r"""
import sys
print("Assuming unrestricted shared filesystem usage.")
print("Building DAG of jobs...")
print("job            count")
print("gep_rasters        3")
print("Select jobs to execute...")
print("3 of 33 steps (9%) done", flush=True)
print("gep stage validate: error: landcover.path (year 2020): x.tif: cannot be opened as a raster; check the file",
      file=sys.stderr, flush=True)
print("RuleException:")
print("CalledProcessError in file rules/checks.smk, line 55:")
print("Command 'gep stage validate ...' returned non-zero exit status 2.")
print("Shutting down, this might take some time.")
print("Exiting because a job execution failed. Look above for error messages")
print("WorkflowError:")
print("At least one job did not complete successfully.")
sys.exit(1)
"""


def test_failed_run_ends_with_gep_error_line(cfg_path, monkeypatch, capsys):
    monkeypatch.setattr(summary, "snakemake_command", lambda *a, **k: [sys.executable, "-c", FAKE_SNAKEMAKE])
    assert main(["run", str(cfg_path), "--snakefile", str(REPO / "workflow" / "Snakefile")]) == 2
    cap = capsys.readouterr()
    shown = cap.out.splitlines()
    assert shown == ["3 of 33 steps (9%) done",
                     "gep stage validate: error: landcover.path (year 2020): x.tif: cannot be opened as a raster; "
                     "check the file"]
    last = cap.err.splitlines()[-1]
    assert last == ("gep stage validate: error: landcover.path (year 2020): x.tif: cannot be opened as a raster; "
                    "check the file")
    log = (load(cfg_path).out / "logs" / summary.WORKFLOW_LOG).read_text(encoding="utf-8")
    assert "Building DAG of jobs..." in log and "At least one job did not complete successfully." in log


def test_snakemake_failure_without_gep_line_names_the_missing_file(tmp_path):
    script = ("print('MissingInputException in rule validate_inputs in file rules/checks.smk, line 7:')\n"
              "print('Missing input files for rule validate_inputs:')\nprint('    output: out.json')\n"
              "print('    affected files:')\nprint('        /data/lc_2019.tif')\nraise SystemExit(1)\n")
    rc, errors, snake = summary.run_workflow([sys.executable, "-c", script], tmp_path / "w.log", echo=lambda s: None)
    assert rc == 1 and errors == []
    (line,) = summary.failure_lines(errors, snake, tmp_path / "w.log")
    assert line.startswith("gep run: error: the workflow stopped before a gep step failed: Missing input files for "
                           "rule validate_inputs: /data/lc_2019.tif;")


def test_bad_config_is_one_line_before_snakemake_starts(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nyears: [2020]\n", encoding="utf-8")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith("gep run: error:") for line in err)
