"""``gep demo-data OUTDIR [--seed N]``: write the embedded demo county (see :mod:`gep.demo`)."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from gep.core.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "demo-data",
        help="write the synthetic demo county (land cover, DEM, townships, red line, climate, land survey) into a "
             "folder",
        description="Generate the embedded demo data set: a synthetic county in Hunan in CGCS2000 (EPSG:4490) "
        "with land cover for 2019-2021, a DEM, townships, red-line and protected-area polygons and "
        "precipitation/ET/NPP rasters, and land-survey polygons (survey_YEAR.gpkg, layer DLTB, EPSG:4525). The same "
        "seed always gives the same data.",
    )
    p.add_argument("outdir", metavar="OUTDIR", help="folder to write into (created if missing; files are replaced)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the demo's fixed seed)")
    p.add_argument("--log", type=Path, metavar="FILE", help="also write what it prints here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gep import demo  # heavy imports only when the command runs
    from gep.accounting.survey_demo import write_demo_surveys

    out = Path(args.outdir)
    if out.exists() and not out.is_dir():
        raise InputError(f"OUTDIR '{out}' exists and is not a folder; give a folder path")
    parent = out if out.exists() else next((p for p in out.absolute().parents if p.exists()), None)
    if parent is None or not os.access(parent, os.W_OK):
        raise InputError(f"cannot write into '{out}' (no write permission); choose another folder")
    seed = demo.DEFAULT_SEED if args.seed is None else args.seed
    if seed < 0:
        raise InputError(f"--seed {seed} is negative; give a seed >= 0")
    t0 = time.perf_counter()
    written = demo.generate(out, seed=seed)
    surveys = write_demo_surveys(out, seed=seed)
    n = sum(len(v) if isinstance(v, dict) else 1 for v in written.values()) + len(surveys)
    print(f"wrote {n} files of the demo county {demo.COUNTY_NAME} ({demo.COUNTY_CODE}, seed {seed}) to {out} "
          f"in {time.perf_counter() - t0:.1f} s; see {written['manifest'].name}")
    return 0
