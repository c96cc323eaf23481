"""Tabular services: provisioning (农林牧渔 products, water supply, hydropower) and cultural (tourism) values
per region and year from statistical yearbooks (docs/methods.md §4.4), and any other item valued elsewhere
(an open row: it says its category, unit and basis; docs/methods.md §4.8), as a validated CSV.

Template (``gep gep-template OUT.csv`` writes it, one row per region × year × service to fill in):

=============  ==========================================================================================
column         meaning
=============  ==========================================================================================
region_code    region code as in the region layer (text; leading zeros kept)
region_name    region name (informative; not checked)
year           calendar year of the values
service        one of :data:`STAT_SERVICES` (agriculture, forestry, animal_husbandry, fishery,
               water_supply, hydropower, tourism), or any other item key (an open row)
service_zh     Chinese name (informative)
category       material (物质产品), regulating (调节服务) or cultural (文化服务); required for an open row,
               and when given for one of the seven it must be theirs (provisioning is read as material)
basis          what the value counts (e.g. "net output value", "t CO₂ × carbon price"); required for an
               open row
value          value of the year in CURRENT prices of that year (≥ 0); write 0 for none
value_unit     元, 万元 or 亿元
quantity       optional physical amount (≥ 0), e.g. 万m³ of water supplied
quantity_unit  required with a quantity; one of the service's units (see :data:`STAT_SERVICES`); for an
               open row any unit of :mod:`gep.indicators.gep.units` (t, 万t, m³, 亿m³, kWh, hm², …)
source         where the number comes from (yearbook, table, page)
note           free text (ignored)
=============  ==========================================================================================

:func:`read_statistics` reports every problem at once (one line each, with the CSV line number): unknown
services, units, regions; non-numeric or negative values; duplicates; and missing region × year × service
rows. An open row with an unknown category, or without value_unit, basis or (with a quantity) quantity_unit,
is one problem line naming the file, the CSV line and the value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from gep.config import gep_services as catalogue
from gep.config.gep import STAT_SERVICES
from gep.core.errors import InputError
from gep.io.tables import read_user_csv
from gep.indicators.gep.profiles import CATEGORIES, category_key
from gep.indicators.gep.units import parse_unit


#: value unit → yuan
VALUE_UNITS = {"元": 1.0, "万元": 1e4, "亿元": 1e8}

COLUMNS = ["region_code", "region_name", "year", "service", "service_zh", "category", "basis", "value",
           "value_unit", "quantity", "quantity_unit", "source", "note"]
REQUIRED = ["region_code", "year", "service", "value", "value_unit"]

METHOD = "statistics: yearbook value in current prices (provisioning/cultural)"

#: category word of the run's tables (gep_services says "provisioning" for 物质产品) by profile category
RUN_CATEGORY = {"material": "provisioning", "regulating": "regulating", "cultural": "cultural"}


def template(regions: pd.DataFrame | None = None, years: Iterable[int] | None = None,
             services: Iterable[str] | None = None) -> pd.DataFrame:
    """The statistics template: one empty row per region × year × service (or one example region)."""
    services = list(services or STAT_SERVICES)
    if regions is None or len(regions) == 0:
        regions = pd.DataFrame({"region_code": ["430000000000"], "region_name": ["示例县 example county"]})
    years = list(years or [2020])
    rows = []
    for rc, rn in zip(regions["region_code"].astype(str), regions.get("region_name", regions["region_code"])):
        for y in years:
            for s in services:
                zh, cat, units = STAT_SERVICES[s]
                rows.append({"region_code": rc, "region_name": rn, "year": int(y), "service": s, "service_zh": zh,
                             "category": category_key(cat), "basis": "", "value": None, "value_unit": "万元",
                             "quantity": None, "quantity_unit": "",
                             "source": "", "note": f"{cat}; quantity units: {', '.join(units)}"})
    return pd.DataFrame(rows, columns=COLUMNS)


def _num(text) -> float | None:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    s = str(text).strip().replace(",", "")
    if s == "":
        return None
    try:
        v = float(s)
    except ValueError:
        return math.nan
    return v



def _amount_ok(value: float, raw, name: str, where: str, problems: list[str]) -> bool:
    """A number ≥ 0; otherwise one problem line naming ``name`` (value or quantity) and False."""
    if math.isnan(value):
        problems.append(f"{where}: {name} '{raw}' is not a number")
        return False
    if value < 0:
        problems.append(f"{where}: {name} {value:g} is negative; {name}s must be ≥ 0")
        return False
    return True

def _region_index(region_codes: Iterable[str]):
    from gep.indicators.gep.services.area import RegionIndex  # the administrative code hierarchy's one home

    return RegionIndex([str(c) for c in region_codes])


def read_statistics(path: str | Path, *, region_codes: Iterable[str] | None = None,
                    years: Iterable[int] | None = None, services: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate a statistics CSV; return one row per region × year × service.

    Columns of the result: region_code, year, service, service_zh, category, value_yuan (current prices),
    quantity (base unit or NaN), quantity_unit, source. ``region_codes``/``years``/``services`` are what must
    be present (rows for other years are ignored); all problems raise one InputError listing each.
    """
    path = Path(path)
    df = read_user_csv(path, what="statistics table", required=REQUIRED,
                       absent_fix="write a template with `gep gep-template`",
                       columns_fix="use the layout written by `gep gep-template`")
    need_services = list(services) if services is not None else list(STAT_SERVICES)
    want_years = None if years is None else {int(y) for y in years}
    known_regions = None if region_codes is None else {str(c) for c in region_codes}
    index = None if region_codes is None else _region_index(region_codes)
    problems: list[str] = []
    out = []
    seen: dict[tuple, int] = {}
    for i, row in df.iterrows():
        line = i + 2
        where = f"{path}: line {line}"
        rc = str(row["region_code"]).strip()
        if rc == "":
            problems.append(f"{where}: region_code is empty; give the region's code")
            continue
        try:
            year = int(str(row["year"]).strip())
        except ValueError:
            problems.append(f"{where}: year '{row['year']}' is not a year")
            continue
        if want_years is not None and year not in want_years:
            continue  # rows of years not accounted are not an error
        if index is not None and rc not in known_regions and index.place(rc)[0] in ("within", "coarser"):
            continue  # a region of another level (one table serves every level, docs/methods.md §4.4)
        if known_regions is not None and rc not in known_regions:
            problems.append(f"{where}: region_code '{rc}' is not in the region layer; fix the code "
                            f"(codes are text: keep leading zeros)")
        service = str(row["service"]).strip()
        kind = _kind(row, service, where, problems)
        if kind is None:
            continue
        zh, cat, qunits, basis = kind
        value = _num(row["value"])
        vunit = str(row["value_unit"]).strip()
        ok = True
        if value is None:
            problems.append(f"{where}: value of {service} {rc} {year} is empty; fill it in (0 if none)")
            ok = False
        else:
            ok = _amount_ok(value, row["value"], "value", where, problems)
        if vunit not in VALUE_UNITS:
            problems.append(f"{where}: value_unit '{vunit}' is not one of {', '.join(VALUE_UNITS)}")
            ok = False
        q = _num(row["quantity"]) if "quantity" in df.columns else None
        qunit = str(row["quantity_unit"]).strip() if "quantity_unit" in df.columns else ""
        if q is not None:
            if not _amount_ok(q, row["quantity"], "quantity", where, problems):
                ok = False
            elif qunits is None and parse_unit(qunit) is None:
                problems.append(f"{where}: quantity_unit '{qunit}' of {service} is not a unit gep knows (t, 万t, "
                                f"m³, 亿m³, kWh, hm², km², 人次, …); give the quantity's unit")
                ok = False
            elif qunits is not None and qunit not in qunits:
                problems.append(f"{where}: quantity_unit '{qunit}' is not one of {', '.join(qunits)} for {service}")
                ok = False
        key = (rc, year, service)
        if key in seen:
            problems.append(f"{where}: duplicate row for {rc} {year} {service} (also line {seen[key]}); keep one")
            ok = False
        seen[key] = line
        if not ok:
            continue
        if qunits is None:  # open row: the quantity in the base unit of its dimension
            qu = parse_unit(qunit) if q is not None else None
            q_base, base_unit = (q * qu.factor, qu.base) if qu is not None else (math.nan, "")
        else:
            q_base = (q * qunits[qunit]) if q is not None else math.nan
            base_unit = next(iter(qunits)) if q is not None else ""
        out.append({"region_code": rc, "year": year, "service": service, "service_zh": zh, "category": cat,
                    "value_yuan": value * VALUE_UNITS[vunit], "quantity": q_base, "quantity_unit": base_unit,
                    "basis": basis, "open": qunits is None,
                    "source": str(row.get("source", "")).strip() or str(path.name)})
    if known_regions is not None and want_years is not None:
        present = set(seen)
        for rc in sorted(known_regions):
            for y in sorted(want_years):
                lack = [s for s in need_services if (rc, y, s) not in present]
                if lack:
                    problems.append(f"{path}: region {rc} year {y}: no row for {', '.join(lack)}; add the rows "
                                    f"(value 0 where a service does not exist)")
    if problems:
        raise InputError.many(problems)
    cols = ["region_code", "year", "service", "service_zh", "category", "value_yuan", "quantity", "quantity_unit",
            "basis", "source"]
    res = pd.DataFrame(out, columns=cols + ["open"])
    keep = res["service"].isin(need_services) | res["open"].astype(bool)  # open rows always enter
    return res.loc[keep, cols].reset_index(drop=True)


def _text(row: pd.Series, col: str) -> str:
    return str(row[col]).strip() if col in row.index else ""


def _kind(row: pd.Series, service: str, where: str, problems: list[str]):
    """(name_zh, run category, quantity units or None for an open row, basis) of one row; None (with a problem
    line) when the row cannot be placed."""
    given = _text(row, "category")
    cat = category_key(given) if given else None
    if given and cat is None:
        problems.append(f"{where}: category '{given}' of {service} is not one of {', '.join(CATEGORIES)}")
        return None
    if service in STAT_SERVICES:
        zh, implied, qunits = STAT_SERVICES[service]
        if cat is not None and cat != category_key(implied):
            problems.append(f"{where}: category '{given}' of {service} is not its category {category_key(implied)}; "
                            f"fix it or leave the cell empty")
            return None
        return zh, implied, qunits, _text(row, "basis")
    if service == "":
        problems.append(f"{where}: service is empty; give one of {', '.join(STAT_SERVICES)} or an item key")
        return None
    if service in catalogue.names():
        problems.append(f"{where}: service '{service}' is a service gep computes (gep.services); give a value "
                        f"from elsewhere under another key (e.g. {service}_external), and only when the run does not "
                        f"compute it")
        return None
    if cat is None:
        problems.append(f"{where}: service '{service}' is not one of {', '.join(STAT_SERVICES)}; another item needs "
                        f"its category ({', '.join(CATEGORIES)}), value_unit and basis")
        return None
    if _text(row, "basis") == "":
        problems.append(f"{where}: basis of {service} is empty; say what the value counts (e.g. net output value, "
                        f"t CO₂ × carbon price)")
        return None
    return _text(row, "service_zh") or service, RUN_CATEGORY[cat], None, _text(row, "basis")
