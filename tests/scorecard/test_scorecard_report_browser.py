"""The HTML report rendered by headless Chromium: a screenshot that is not blank, key numbers in the DOM,
user text inert. Skipped when no Chromium is installed (``apt-get install chromium``, or set GEP_CHROMIUM)."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
from test_scorecard_fixtures import SCRIPT_NAME, YEARS, run_dir

from gep.scorecard import build_outputs

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium() -> str | None:
    env = os.environ.get("GEP_CHROMIUM")
    if env:
        return env if shutil.which(env) or os.path.isfile(env) else None
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install "
                                "chromium, or set GEP_CHROMIUM to the browser binary): report rendering not tested")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    r = run_dir(root / "run")
    build_outputs(r["tables"], root / "out", regions=r["regions"], years=YEARS, provenance=r["provenance"],
                  change_gpkg=r["change_gpkg"])
    return root, root / "out" / "report" / "index.html"


def _run(args, root):
    env = {**os.environ, "HOME": str(root)}  # Chromium writes its crash/config files under HOME
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={root / 'profile'}", *args], capture_output=True,
                          text=True, timeout=180, env=env, check=False)


def test_screenshot_is_not_blank(report):
    import matplotlib.image as mpimg

    root, html = report
    shot = root / "shot.png"
    res = _run([f"--screenshot={shot}", "--window-size=1200,2000", html.as_uri()], root)
    assert shot.is_file(), res.stderr[-2000:]
    img = mpimg.imread(shot)[..., :3]
    assert img.shape[:2] == (2000, 1200)
    assert float(np.var(img)) > 0.005
    ink = (img.mean(axis=2) < 0.6).mean()  # share of dark pixels: text, tables
    assert ink > 0.01
    coloured = (np.abs(img[..., 0] - img[..., 1]) > 0.08).mean()  # status cells are green / red / yellow
    assert coloured > 0.005


def test_dom_has_key_numbers_and_inert_user_text(report):
    root, html = report
    res = _run(["--dump-dom", html.as_uri()], root)
    dom = res.stdout
    assert "</html>" in dom, res.stderr[-2000:]
    for text in ("48.79%", "76.36 km²", "75.00 km²", "1,050.00 万元/km²", "丘陵区&gt;40%", "不达标", "暂未核算",
                 "3ebda9155d93835bf566c040cbbd1024a93b04339b97bbdd52b6b00418ec01e7"):
        assert text in dom, text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script" not in dom.lower()  # the region name never became an element
    assert SCRIPT_NAME not in dom
    assert dom.count("<img ") == 12
