"""``gep crosstab``: exact area of every land-cover code in every region of one raster."""

from __future__ import annotations

import argparse
from pathlib import Path

from gep.core.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "crosstab",
        help="area (m²) of each land-cover code in each region of one raster",
        description="Exact ellipsoidal area of every land-cover code in every region of one raster. Writes the "
                    "long table region_id, lc_code, area_m2 (nodata area in rows with lc_code = 'nodata').",
    )
    p.add_argument("landcover", type=Path, help="land-cover raster (integer codes)")
    p.add_argument("regions", type=Path, help="region polygons (any vector format GDAL reads)")
    p.add_argument("--id-field", required=True, help="field with the region id")
    p.add_argument("--name-field", help="field with the region name (adds a region_name column)")
    p.add_argument("--layer", help="layer of the region file")
    p.add_argument("--classes", help="class scheme (clcd, worldcover, …, or a YAML path); codes outside it are an "
                                     "error. Without it every code found in the raster is reported")
    p.add_argument("--nodata", type=int, help="nodata value (default: the raster's own, else the class scheme's)")
    p.add_argument("--crs", help="CRS of the raster when the file declares none, e.g. EPSG:4490")
    p.add_argument("--chunk", type=int, default=2048, help="dask block side in cells (default 2048)")
    p.add_argument("--scheduler", default="threads", help="threads (default), processes, synchronous, "
                                                          "local-cluster or tcp://host:port")
    p.add_argument("--workers", type=int, help="number of workers (default: all cores)")
    p.add_argument("--out", required=True, type=Path, help="output table (.csv or .parquet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pandas as pd

    from gep.raster.cellarea import CM2_PER_M2
    from gep.accounting.classes import load_scheme
    from gep.core.compute import progress, scheduler
    from gep.raster.kernels import warm_up
    from gep.accounting.landcover import LandcoverRaster, code_histogram, crosstab_table, unknown_codes, unknown_codes_error
    from gep.vector.regions import overlaps, read_regions
    from gep.io.tables import write_single

    if args.out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"--out {args.out}: use a .csv or .parquet file name")
    warm_up()
    regions, _ = read_regions(args.regions, args.id_field, args.name_field, layer=args.layer, key="--id-field")
    scheme = load_scheme(args.classes) if args.classes else None
    raster = LandcoverRaster.open(args.landcover, chunk=args.chunk, nodata=args.nodata, crs=args.crs,
                                  scheme_nodata=scheme.nodata if scheme else None)
    # the overlap check (GEOS, which releases the GIL) runs beside the accounting; its verdict comes before
    # anything is written
    with ThreadPoolExecutor(max_workers=1) as background:
        overlap_check = background.submit(overlaps, regions)
        with scheduler(args.scheduler, args.workers), progress(f"crosstab {args.landcover}"):
            if scheme:
                codes = scheme.codes
            else:
                codes = np.array([c for c in code_histogram(raster.blocks) if c != raster.nodata], dtype=np.int64)
            tab = crosstab_table(raster, regions, codes)
        bad = overlap_check.result()
    if bad:
        listed = ", ".join(f"{a}/{b} ({share:.2%})" for a, b, share in bad[:5])
        raise InputError(f"{args.regions}: regions overlap: {listed}; give non-overlapping regions (one level "
                         f"per file)")
    if (tab["lc_code"] == "unknown").any():
        with scheduler(args.scheduler, args.workers):
            raise unknown_codes_error(raster, args.classes, unknown_codes(raster, codes))
    out = pd.DataFrame({
        "region_id": tab["region_code"],
        "lc_code": tab["lc_code"],
        "area_m2": tab.groupby(["region_code", "lc_code"])["area_cm2"].transform("sum") / CM2_PER_M2,
    }).drop_duplicates(["region_id", "lc_code"])
    if args.name_field:
        out.insert(1, "region_name", out["region_id"].map(dict(zip(regions["region_code"], regions["region_name"]))))
    write_single(out.reset_index(drop=True), args.out)
    return 0
