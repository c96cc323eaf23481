"""GEP accounts (indicator 10): ``gep gep-template``, ``gep services`` and ``gep ls-factor``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gep.core.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "gep-template",
        help="write the statistics template (provisioning and cultural services per region × year)",
        description=(
            "Write a CSV to fill in with yearbook values: one row per region × year × service "
            "(agriculture, forestry, animal_husbandry, fishery, water_supply, hydropower, tourism) with columns "
            "region_code, region_name, year, service, service_zh, value, value_unit (元/万元/亿元, current prices), "
            "quantity, quantity_unit, source, note. Without --regions one example region is written."
        ),
    )
    p.add_argument("out", type=Path, metavar="OUT.csv", help="template to write")
    p.add_argument("--regions", type=Path, metavar="FILE", help="region polygons: one block of rows per region")
    p.add_argument("--layer", help="layer of the region file")
    p.add_argument("--id-field", help="region code field (with --regions)")
    p.add_argument("--name-field", help="region name field (with --regions)")
    p.add_argument("--years", type=int, nargs="+", metavar="Y", help="years to list (default 2020)")
    p.set_defaults(func=run_template)

    p = sub.add_parser(
        "services",
        help="GEP accounts (Tier 1, Tier-2 services, statistics, carbon stock) of one level, without a run config",
        description=(
            "Compute the GEP accounts of one region level: gep_services, gep_summary, gep_change, carbon_stock "
            "tables and the service rasters (COG) in --out-dir. Settings come from a GEP config (the 'gep:' section "
            "of the run config, or a file with just those keys; see gep.config.gep.GepConfig). docs/methods.md §4."
        ),
    )
    p.add_argument("--config", type=Path, required=True, metavar="YAML", help="GEP settings (GepConfig)")
    p.add_argument("--landcover", required=True, metavar="TEMPLATE",
                   help="land-cover raster path with {year}, e.g. data/clcd_{year}.tif")
    p.add_argument("--landcover-area", required=True, type=Path, metavar="TABLE",
                   help="published landcover_area table of the same level (.csv or .parquet)")
    p.add_argument("--regions", required=True, type=Path, metavar="FILE", help="region polygons")
    p.add_argument("--layer", help="layer of the region file")
    p.add_argument("--id-field", required=True, help="region code field")
    p.add_argument("--name-field", help="region name field")
    p.add_argument("--years", required=True, type=int, nargs="+", metavar="Y", help="accounting years")
    p.add_argument("--dem", type=Path, help="DEM for the LS factor (overrides gep.dem)")
    p.add_argument("--scheme", default="clcd", help="land-cover class scheme (default clcd)")
    p.add_argument("--nodata", type=int, help="land-cover nodata value when the raster declares none")
    p.add_argument("--scheduler", default="threads", help="dask scheduler (threads, processes, synchronous, …)")
    p.add_argument("--workers", type=int, help="number of workers (default: all cores)")
    p.add_argument("--out-dir", required=True, type=Path, help="output folder")
    p.set_defaults(func=run_services)

    p = sub.add_parser(
        "ls-factor",
        help="USLE LS factor from a DEM (D8 flow accumulation, Desmet & Govers L, McCool S)",
        description="Compute the LS factor on the DEM's grid (pits filled first, flow accumulation tile by "
                    "tile and exact across tiles) and write it as a tiled GeoTIFF (docs/methods.md §4.2.5).",
    )
    p.add_argument("dem", type=Path, metavar="DEM")
    p.add_argument("--out", required=True, type=Path, metavar="LS.tif")
    p.add_argument("--l-max", type=float, default=122.0, help="cap on L (InVEST default 122)")
    p.add_argument("--area-form", choices=("sqrt", "area"), default="sqrt",
                   help="√ of the upslope area (InVEST ≥ 3.14, default) or the area itself")
    p.add_argument("--x-form", choices=("slope", "aspect"), default="slope",
                   help="x from the slope angle (InVEST ≥ 3.14, default) or the aspect")
    p.add_argument("--s-form", choices=("mccool", "liu"), default="mccool",
                   help="S: McCool 1987 (default) or Liu et al. 1994 from 10°")
    p.add_argument("--no-fill", action="store_true", help="do not fill the DEM's pits (give a filled DEM)")
    p.add_argument("--stream-threshold", type=int, metavar="CELLS",
                   help="LS 0 on cells draining more than CELLS cells (InVEST: 1000); default: none")
    p.add_argument("--z-scale", type=float, default=1.0, help="elevation unit → metres")
    p.set_defaults(func=run_ls)


def _regions(args):
    from gep.vector.regions import read_regions

    if not args.id_field:
        raise InputError("--id-field is required with --regions; name the region code field")
    regions, _ = read_regions(args.regions, args.id_field, args.name_field, layer=args.layer, key="--id-field")
    return regions


def run_template(args: argparse.Namespace) -> int:
    from gep.io.tables import write_single
    from gep.indicators.gep.statistics import template

    if args.out.suffix.lower() != ".csv":
        raise InputError(f"{args.out}: the template is a CSV; give a .csv file name")
    regions = _regions(args) if args.regions else None
    df = template(None if regions is None else regions[["region_code", "region_name"]], args.years)
    write_single(df, args.out)
    print(f"gep gep-template: wrote {args.out} ({len(df)} rows to fill in)")
    return 0


def run_services(args: argparse.Namespace) -> int:
    from gep.core.compute import progress, scheduler
    from gep.io.tables import read_table
    from gep.indicators.gep import load_gep_config, run_gep

    if "{year}" not in args.landcover:
        raise InputError(f"--landcover {args.landcover}: must contain {{year}}, e.g. data/clcd_{{year}}.tif")
    cfg = load_gep_config(args.config)
    if not args.landcover_area.is_file():
        raise InputError(f"--landcover-area {args.landcover_area}: file does not exist; run the tables stage first")
    lca = read_table(args.landcover_area)
    regions = _regions(args)
    t0 = time.perf_counter()
    with scheduler(args.scheduler, args.workers), progress("GEP services"):
        out = run_gep(cfg, years=args.years, landcover_area=lca, regions=regions,
                      landcover_path_for_year=lambda y: args.landcover.format(year=y), dem_path=args.dem,
                      out_dir=args.out_dir, scheme=args.scheme, landcover_nodata=args.nodata)
    n = len(out["gep_services"])
    print(f"gep services: {n} service rows, {len(out['gep_summary'])} summary rows written to {args.out_dir} "
          f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def run_ls(args: argparse.Namespace) -> int:
    from gep.hydrology.ls_factor import LsMethod, compute_ls

    method = LsMethod(area_form=args.area_form, x_form=args.x_form, s_form=args.s_form, l_max=args.l_max,
                      fill_pits=not args.no_fill, stream_threshold=args.stream_threshold)
    s = compute_ls(args.dem, args.out, method, z_scale=args.z_scale)
    print(f"gep ls-factor: wrote {args.out} ({s['cells']} cells, mean LS {s['ls_mean']:.3f}, "
          f"max contributing area {s['max_contributing_km2']:.2f} km²"
          + (f", {s['depressions_filled']} depressions filled" if "depressions_filled" in s else "") + ")")
    return 0
