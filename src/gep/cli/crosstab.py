"""``gep crosstab``: exact area of every land-cover code in every region of one raster, or of one land-survey
polygon layer (国土变更调查 地类图斑, DLTB) with the survey's own areas (docs/methods.md §2.7)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gep.core.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "crosstab",
        help="area (m²) of each land-cover code in each region of one raster or land-survey layer",
        description="Exact ellipsoidal area of every land-cover code in every region of one raster, or the "
                    "survey's own areas (TBDLMJ to DLBM, TKMJ to KCDLBM) of a land-survey polygon layer "
                    "(FileGDB, GeoPackage, shapefile; told from a raster by opening it). Writes the long table "
                    "region_id, lc_code, area_m2 (raster nodata area in rows with lc_code = 'nodata').",
    )
    p.add_argument("landcover", type=Path, help="land-cover raster (integer codes) or land-survey polygon layer")
    p.add_argument("regions", type=Path, help="region polygons (any vector format GDAL reads)")
    p.add_argument("--id-field", required=True, help="field with the region id")
    p.add_argument("--name-field", help="field with the region name (adds a region_name column)")
    p.add_argument("--layer", help="layer of the region file")
    p.add_argument("--classes", help="class scheme (clcd, worldcover, …, or a YAML path); codes outside it are an "
                                     "error. Without it every code found in the raster is reported (a survey "
                                     "layer's codes must be in sandiao)")
    survey = p.add_argument_group("land-survey layer", "used when LANDCOVER is a polygon layer")
    survey.add_argument("--survey-layer", metavar="NAME", help="layer of the survey file (default: DLTB, or the "
                                                               "file's only layer)")
    survey.add_argument("--class-field", default="DLBM", help="field with the class code (default DLBM)")
    survey.add_argument("--geometry-areas", action="store_true",
                        help="count the polygons' ellipsoidal areas, not the survey's area fields (TBMJ, TKMJ, "
                             "TBDLMJ, KCDLBM, used by default where the layer has them)")
    survey.add_argument("--issues", type=Path, metavar="FILE",
                        help="also write the survey's reported polygons (area departs from TBMJ, overlaps, repairs, "
                             "...) to this .csv or .parquet")
    p.add_argument("--nodata", type=int, help="nodata value (default: the raster's own, else the class scheme's)")
    p.add_argument("--crs", help="CRS of the raster when the file declares none, e.g. EPSG:4490")
    p.add_argument("--chunk", type=int, default=2048, help="dask block side in cells (default 2048)")
    p.add_argument("--scheduler", default="threads", help="threads (default), processes, synchronous, "
                                                          "local-cluster or tcp://host:port")
    p.add_argument("--workers", type=int, help="number of workers (default: all cores)")
    p.add_argument("--out", required=True, type=Path, help="output table (.csv or .parquet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gep.accounting.survey import vector_layers

    if args.out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"--out {args.out}: use a .csv or .parquet file name")
    layers = vector_layers(args.landcover)
    if layers:
        return run_survey(args, layers)
    survey_only = [f"--{k.replace('_', '-')}" for k in ("survey_layer", "geometry_areas", "issues")
                   if getattr(args, k)]
    if survey_only or args.class_field != "DLBM":
        used = survey_only + (["--class-field"] if args.class_field != "DLBM" else [])
        raise InputError(f"{args.landcover}: is not a polygon layer, so {', '.join(used)} do not apply; give the "
                         "survey's layer file or leave them out")
    return run_raster(args)


def run_survey(args: argparse.Namespace, layers: list[str]) -> int:
    """The survey's region × class areas (no terrain split), written as the raster crosstab's long table."""
    import pandas as pd

    from gep.accounting.survey import SurveyFields, SurveyOptions, fields_present, survey_crosstab
    from gep.raster.cellarea import CM2_PER_M2
    from gep.core.compute import scheduler
    from gep.io.tables import write_single
    from gep.vector.regions import overlaps, read_regions

    layer = args.survey_layer or ("DLTB" if "DLTB" in layers else None)
    if layer is None and len(layers) > 1:
        raise InputError(f"{args.landcover}: the file has {len(layers)} layers ({', '.join(layers)}); name the "
                         "survey's with --survey-layer")
    if layer is not None and layer not in layers:
        raise InputError(f"{args.landcover}: layer '{layer}' not found; available layers: {', '.join(layers)}")
    regions, _ = read_regions(args.regions, args.id_field, args.name_field, layer=args.layer, key="--id-field")
    bad = overlaps(regions)
    if bad:
        listed = ", ".join(f"{a}/{b} ({share:.2%})" for a, b, share in bad[:5])
        raise InputError(f"{args.regions}: regions overlap: {listed}; give non-overlapping regions (one level "
                         f"per file)")
    fields = fields_present(args.landcover, layer, SurveyFields(class_field=args.class_field))
    geometry = args.geometry_areas or (fields.area_field is None and fields.counted_area_field is None)
    if geometry and not args.geometry_areas:
        print(f"gep crosstab: {args.landcover}: no TBMJ or TBDLMJ field; the polygons' ellipsoidal areas are used")
    options = SurveyOptions(geometry_areas=geometry, scheme=args.classes or "sandiao", crs=args.crs)
    with scheduler(args.scheduler, args.workers):
        res = survey_crosstab(args.landcover, regions, None, layer=layer,
                              fields=fields, options=options)
    tab = res.table.groupby(["region_code", "lc_code"], as_index=False, sort=True)["area_cm2"].sum()
    out = pd.DataFrame({"region_id": tab["region_code"], "lc_code": tab["lc_code"],
                        "area_m2": tab["area_cm2"] / CM2_PER_M2})
    if args.name_field:
        out.insert(1, "region_name", out["region_id"].map(dict(zip(regions["region_code"], regions["region_name"]))))
    if args.issues:
        write_single(res.issues, args.issues)
    write_single(out, args.out)
    c = res.counts
    print(f"gep crosstab: {c['features']} polygons ({c['areas']} areas): {c['area_departs']} depart from TBMJ, "
          f"{c['tbdlmj_mismatch']} TBDLMJ mismatches, {c['overlap']} overlaps, {c['repaired']} repaired, "
          f"{c['no_geometry']} without geometry, {c['gaps']} regions with gaps; "
          f"{c['outside_regions_m2']:,.2f} m² outside every region")
    return 0


def run_raster(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pandas as pd

    from gep.raster.cellarea import CM2_PER_M2
    from gep.accounting.classes import load_scheme
    from gep.core.compute import progress, scheduler
    from gep.raster.kernels import warm_up
    from gep.accounting.landcover import (LandcoverRaster, crosstab_table, present_codes, unknown_codes,
                                         unknown_codes_error)
    from gep.vector.regions import overlaps, read_regions
    from gep.io.tables import write_single

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
            codes = scheme.codes if scheme else present_codes(raster)
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
