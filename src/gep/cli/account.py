"""``gep account``: value a GEP account from quantities with a profile's prices (docs/methods.md §4.8)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gep.core.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "account",
        help="value quantities with a GEP profile's prices: one row per item, totals by category and GEP",
        description=(
            "Value a GEP account of one region and year: each quantity (CSV columns item, quantity, unit; "
            "optional basis, year, source) × its price from the profile (built-in garze2010, national_default, "
            "provincial_template, or a path to your own YAML), with units and bases converted and prices brought "
            "to the accounting year. Writes the rows (quantity, unit, price, price year, source, status of each) "
            "to --out and the totals (material, regulating, cultural, deduction, GEP) beside it. "
            "See docs/methods.md §4.8."
        ),
    )
    p.add_argument("profile", metavar="PROFILE", help="profile name or YAML path")
    p.add_argument("quantities", type=Path, metavar="QUANTITIES.csv", help="quantities of the account")
    p.add_argument("--out", required=True, type=Path, metavar="OUT.csv", help="rows of the account (.csv or .parquet)")
    p.add_argument("--totals", type=Path, metavar="TOTALS.csv",
                   help="totals table (default: OUT_totals with OUT's suffix)")
    p.add_argument("--year", type=int, metavar="Y", help="accounting year (default: the table's only year)")
    p.add_argument("--deflator", metavar="TABLE",
                   help="deflator table (YAML or CSV year,index) to bring prices of other years to Y")
    p.add_argument("--deductions", type=Path, metavar="CSV",
                   help="products from outside the region (item, value, value_unit; GB/T 46869-2025 deduction)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gep.indicators.gep.params import load_deflator
    from gep.indicators.gep.profiles import load_profile
    from gep.indicators.gep.valuation import read_deductions, read_quantities, value_account
    from gep.io.tables import write_single

    if args.out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"--out {args.out}: give a .csv or .parquet file name")
    profile = load_profile(args.profile)
    records, year = read_quantities(args.quantities, year=args.year)
    if year is None:
        raise InputError(f"{args.quantities}: no year column; give the accounting year with --year")
    deflator = load_deflator(args.deflator) if args.deflator else None
    deductions = read_deductions(args.deductions, year=year) if args.deductions else ()
    account = value_account(profile, records, year, deflator=deflator, deductions=deductions)
    totals_path = args.totals or args.out.with_name(f"{args.out.stem}_totals{args.out.suffix}")
    write_single(account.rows, args.out)
    write_single(account.totals, totals_path)
    gep = account.total("gep") / 1e8
    print(f"gep account: {profile.name} {year}: {len(account.rows)} rows, GEP {gep:,.2f} 亿元; wrote {args.out} "
          f"and {totals_path}")
    for line in account.warnings():
        print(f"gep account: warning: {line}", file=sys.stderr)
    return 0
