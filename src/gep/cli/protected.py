"""``gep protected-area``: indicator 9 areas (生态保护红线 / 自然保护地) per region for one year."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gep.core.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "protected-area",
        help="ellipsoidal area of red-line / protected-area polygons per region (indicator 9)",
        description=(
            "Dissolve the polygons of one layer (overlaps count once), split them by region borders and write "
            "the ellipsoidal area (km²) and share of each region, plus a '__outside__' row for area outside "
            "every region. With --type-field, also one set of rows per type (each type dissolved on its own)."
        ),
    )
    p.add_argument("--regions", required=True, metavar="FILE", help="region boundaries (any vector format)")
    p.add_argument("--regions-layer", metavar="NAME", help="layer inside the regions file, if it has several")
    p.add_argument("--id-field", required=True, metavar="F", help="region code field of the regions file")
    p.add_argument("--name-field", metavar="F", help="region name field (default: the code)")
    p.add_argument("--layer-file", required=True, metavar="FILE", help="red-line or protected-area polygons")
    p.add_argument("--source-layer", metavar="NAME", help="layer inside --layer-file, if it has several")
    p.add_argument("--year", required=True, type=int, metavar="Y", help="year the polygons describe")
    p.add_argument("--layer-name", required=True, metavar="NAME", help="label of the layer: redline or protected")
    p.add_argument("--type-field", metavar="F", help="field with the protected-area type (国家公园 / 自然保护区 / 自然公园)")
    p.add_argument("--out", required=True, metavar="OUT", help="output table, .csv or .parquet")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gep.indicators.protected.areas import protected_area, read_layer
    from gep.io.tables import write_single

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"--out {out}: unknown table format '{out.suffix}'; use .csv or .parquet")
    extra = [args.name_field] if args.name_field and args.name_field != args.id_field else []
    regions, rrep = read_layer(args.regions, layer=args.regions_layer, id_field=args.id_field,
                               name="regions", extra_fields=extra)
    regions = regions.rename(columns={"id": "region_code"})
    regions["region_name"] = regions[extra[0]].astype(str) if extra else regions["region_code"]
    layer, lrep = read_layer(args.layer_file, layer=args.source_layer, type_field=args.type_field,
                             name=f"{args.layer_name} layer")
    for rep in (rrep, lrep):
        if rep["repaired"] or rep["dropped"]:
            print(f"gep protected-area: {rep['name']}: repaired {rep['repaired']} invalid geometr(ies), dropped "
                  f"{rep['dropped']} feature(s) without area", file=sys.stderr)
    df = protected_area(regions, layer, layer_name=args.layer_name, year=args.year)
    write_single(df, out)
    return 0
