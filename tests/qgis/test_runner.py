"""The plugin's runner without QGIS: where it looks for gep (and the message naming those places when it is
missing), which output lines move the progress bar, and how a failing command's error lines are reported."""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "gep_processing_runner", Path(__file__).resolve().parents[2] / "qgis" / "gep_processing" / "runner.py")
runner = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(runner)


class Feedback:
    def __init__(self, cancel_after: int | None = None):
        self.info, self.errors, self.progress, self.commands = [], [], [], []
        self.cancel_after = cancel_after

    def pushCommandInfo(self, text):  # noqa: N802
        self.commands.append(text)

    def pushConsoleInfo(self, text):  # noqa: N802
        self.info.append(text)

    def setProgress(self, p):  # noqa: N802
        self.progress.append(p)

    def reportError(self, text, fatal=False):  # noqa: N802
        self.errors.append(text)

    def isCanceled(self):  # noqa: N802
        return self.cancel_after is not None and len(self.info) >= self.cancel_after


def _script(path: Path, body: str) -> str:
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_find_gep_order_and_message(tmp_path, monkeypatch):
    exe = _script(tmp_path / "gep", "print('hi')\n")
    monkeypatch.setenv("GEP_EXECUTABLE", exe)
    assert runner.find_gep(None) == exe
    assert runner.find_gep(exe) == exe  # the provider setting first
    with pytest.raises(runner.GepError, match=r"the provider setting GEP_EXECUTABLE is '/nowhere/gep', which is"):
        runner.find_gep("/nowhere/gep")  # a setting that is wrong is not silently replaced by another gep
    monkeypatch.setenv("GEP_EXECUTABLE", str(tmp_path / "missing"))
    with pytest.raises(runner.GepError, match="environment variable GEP_EXECUTABLE is '.*missing'"):
        runner.find_gep(None)
    monkeypatch.delenv("GEP_EXECUTABLE")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert runner.find_gep(None) == exe  # gep on PATH
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(runner, "REPO", tmp_path / "repo")
    with pytest.raises(runner.GepError) as err:
        runner.find_gep(None)
    msg = str(err.value)
    assert msg.startswith("gep executable not found: looked at the provider setting and GEP_EXECUTABLE (both unset), "
                          "'gep' on PATH, ")
    assert str(tmp_path / "repo" / ".venv" / "bin" / "gep") in msg and "\n" not in msg
    venv = tmp_path / "repo" / ".venv" / "bin"
    venv.mkdir(parents=True)
    in_repo = _script(venv / "gep", "")
    assert runner.find_gep(None) == in_repo  # the repository's own environment last


def test_progress_lines():
    assert runner.progress_of("3 of 12 steps (25%) done") == 25
    assert runner.progress_of("[####      ] | 40% Completed |  1.2s") == 40
    assert runner.progress_of("gep crosstab: progress 1,200/4,800 polygons (25.0%), ETA 12 s") == 25
    assert runner.progress_of("林草覆盖率 40.0% (目标 >40%)") is None  # values in ordinary lines are no progress
    assert runner.progress_of("Finished job 3.") is None


def test_run_streams_lines_and_reports_errors(tmp_path):
    ok = _script(tmp_path / "ok", "import sys\nprint('1 of 2 steps (50%) done')\nprint('甲镇', file=sys.stderr)\n")
    fb = Feedback()
    assert runner.run([ok, "a b"], fb) == ["1 of 2 steps (50%) done", "甲镇"]
    assert fb.info == ["1 of 2 steps (50%) done", "甲镇"] and fb.progress == [50] and fb.errors == []
    assert fb.commands == [f'{ok} "a b"']
    bad = _script(tmp_path / "bad", "import sys\nprint('working')\n"
                                    "print('gep validate: error: x.yaml: key a is missing; add it', file=sys.stderr)\n"
                                    "print('gep validate: error: x.yaml: key b is unknown', file=sys.stderr)\n"
                                    "sys.exit(2)\n")
    fb = Feedback()
    with pytest.raises(runner.GepError) as err:
        runner.run([bad], fb)
    assert fb.errors == ["gep validate: error: x.yaml: key a is missing; add it",
                         "gep validate: error: x.yaml: key b is unknown"]
    assert str(err.value) == "\n".join(fb.errors)
    crash = _script(tmp_path / "crash", "print('Traceback ...')\nprint('KeyError: x')\nraise SystemExit(1)\n")
    with pytest.raises(runner.GepError, match="^KeyError: x$"):  # no gep error line: the last line
        runner.run([crash], Feedback())


def test_child_environment_drops_qgis_python(monkeypatch):
    monkeypatch.setenv("PYTHONHOME", "/qgis/apps/Python39")
    monkeypatch.setenv("PYTHONPATH", "/qgis/python")
    env = runner.child_env()
    assert "PYTHONHOME" not in env and "PYTHONPATH" not in env and env["PYTHONIOENCODING"] == "utf-8"
    assert env["PATH"] == os.environ["PATH"]


def test_cancel_stops_the_process(tmp_path):
    slow = _script(tmp_path / "slow", "import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    with pytest.raises(runner.GepError, match="canceled"):
        runner.run([slow], Feedback(cancel_after=1))
