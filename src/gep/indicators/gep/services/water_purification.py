"""水质净化 water purification (docs/methods.md §4.2.9): COD, NH₃-N and, where the discharges table has rows of
it, TP; t/a per region = the lesser of the ecosystems' removal capacity (kg/hm²/a by land-cover class × area)
and the region's discharges (``gep.tables.discharges``); each pollutant valued at its treatment cost per t."""

from __future__ import annotations

from pathlib import Path

from gep.config.gep_services import spec
from gep.indicators.gep.services.area import AreaContext, Part
from gep.indicators.gep.services.base import ParamContext, Price, Service, Valuing
from gep.indicators.gep.services.purification import PurificationParams, load_pollutants, purification_parts


def load(ctx: ParamContext) -> PurificationParams:
    return load_pollutants(ctx, "water_capacity")


def parts(ctx: AreaContext, p: PurificationParams, year: int) -> list[Part]:
    return purification_parts(ctx, p, year, "discharges", "discharges")


def price(v: Valuing) -> Price:
    first = v.params.pollutants[0]
    return Price(*v.prices.get(first.price, "water_purification"))


def method(v: Valuing) -> str:
    return "per pollutant min(Σ capacity per hm² × class area, discharges) × treatment cost"


def source(v: Valuing) -> str:
    return f"{v.params.file.cite()}; {v.prices.file.cite()}; {Path(v.cfg.tables['discharges']).name}"


SERVICE = Service(spec("water_purification"), load=load, price=price, method=method, source=source, parts=parts)
