"""``gep index-template`` (blank department table) and ``gep scorecard`` (the 两山指数 deliverables)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gep.core.errors import InputError


def _region_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--regions", required=True, type=Path, metavar="FILE", help="region polygons (any vector format)")
    p.add_argument("--layer", metavar="NAME", help="layer of the region file, if it has several")
    p.add_argument("--id-field", required=True, metavar="F", help="region code field")
    p.add_argument("--name-field", metavar="F", help="region name field (default: the code)")
    p.add_argument("--crs", metavar="CRS", help="CRS of a region file that declares none (e.g. EPSG:4490)")
    p.add_argument("--coord-system", choices=("standard", "gcj02", "bd09"), default="standard",
                   help="lon/lat of web-map boundaries (gcj02, bd09) are shifted back to WGS84 (as in the run)")
    p.add_argument("--years", required=True, type=int, nargs="+", metavar="Y", help="years of the run")
    p.add_argument("--standard", default="national", metavar="NAME|YAML",
                   help="两山指数 list: national (default), guizhou, or a YAML file laid out like "
                        "src/gep/data/standards/lianshan_national.yaml")


def register(sub) -> None:
    p = sub.add_parser(
        "index-template",
        help="write the blank department table of the non-spatial 两山指数 indicators (.xlsx or .csv)",
        description=(
            "Write the table the departments fill in: one row per region × indicator (the indicators gep does not "
            "compute from maps: 17 in the national list), with 序号, 指标, 单位, 目标值, one column per year, 责任单位 "
            "and 备注. Empty cells stay allowed (暂未核算). Read it back with 'gep scorecard --template'."
        ),
    )
    p.add_argument("out", type=Path, metavar="OUT.xlsx|OUT.csv", help="template to write")
    _region_args(p)
    p.set_defaults(func=run_template)

    p = sub.add_parser(
        "scorecard",
        help="两山指数 table, Excel workbook, GeoPackage, maps and HTML report from one level's tables",
        description=(
            "Judge the 20 indicators per region and year from the pipeline's tables (forest_grass_coverage, "
            "protected_change, gep_summary; each optional) and the filled department template, and write "
            "lianshan_index.csv/.parquet, lianshan_index.xlsx, indicators.gpkg, maps/*.png and report/index.html "
            "into --out-dir."
        ),
    )
    p.add_argument("--tables-dir", required=True, type=Path, metavar="DIR", help="OUTPUT_DIR/tables/LEVEL")
    p.add_argument("--out-dir", required=True, type=Path, metavar="DIR", help="where the deliverables go")
    _region_args(p)
    p.add_argument("--template", type=Path, metavar="FILE", help="filled department template (.xlsx or .csv)")
    p.add_argument("--provenance", type=Path, metavar="JSON", help="the run's provenance.json (for the report)")
    p.add_argument("--change-gpkg", type=Path, metavar="GPKG", help="maps/protected_change.gpkg of the run")
    p.add_argument("--index-dir", type=Path, metavar="DIR", help="where lianshan_index.csv/.parquet go "
                   "(default: --out-dir)")
    p.add_argument("--title", help="report title")
    p.add_argument("--no-maps", action="store_true", help="skip the PNG maps and trend charts")
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    p.add_argument("--workers", type=int, metavar="N", help="processes drawing the maps and trend charts "
                   "(default: every CPU)")
    p.set_defaults(func=run_scorecard)


def _regions(args):
    from gep.vector.regions import read_regions

    regions, _ = read_regions(args.regions, args.id_field, args.name_field, layer=args.layer, crs=args.crs,
                              coord_system=args.coord_system, key="--id-field")
    return regions


def run_template(args: argparse.Namespace) -> int:
    from gep.scorecard import load_lianshan_standard, write_template

    if args.out.suffix.lower() not in (".xlsx", ".csv"):
        raise InputError(f"{args.out}: unknown template format '{args.out.suffix}'; use .xlsx or .csv")
    std = load_lianshan_standard(args.standard)
    regions = _regions(args)
    write_template(args.out, std, args.years, regions)
    n = len(regions) * len(std.department())
    print(f"gep index-template: wrote {args.out} ({len(regions)} region(s) × {len(std.department())} indicators = "
          f"{n} rows, years {', '.join(map(str, sorted(set(args.years))))})")
    return 0


def run_scorecard(args: argparse.Namespace) -> int:
    from gep.scorecard import build_outputs

    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers}: give a number of processes ≥ 1 (or leave it out)")
    for flag, path in (("--template", args.template), ("--provenance", args.provenance),
                       ("--change-gpkg", args.change_gpkg)):
        if path is not None and not path.is_file():
            raise InputError(f"{flag} {path}: file does not exist; check the path or leave the option out")
    regions = _regions(args)
    written = build_outputs(args.tables_dir, args.out_dir, regions=regions, years=args.years,
                            standard=args.standard, template=args.template, provenance=args.provenance,
                            change_gpkg=args.change_gpkg, index_dir=args.index_dir, maps=not args.no_maps,
                            report=not args.no_report, title=args.title, workers=args.workers)
    print(f"gep scorecard: wrote {len(written)} file(s) to {args.out_dir}", file=sys.stderr)
    return 0
