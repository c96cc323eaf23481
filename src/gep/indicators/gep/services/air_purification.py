"""空气净化 air purification (docs/methods.md §4.2.8): SO₂, NOₓ and dust, t/a per region = the lesser of the
ecosystems' uptake (kg/hm²/a by land-cover class × area) and the region's emissions (``gep.tables.emissions``);
each pollutant valued at its treatment cost per t."""

from __future__ import annotations

from pathlib import Path

from gep.config.gep_services import spec
from gep.indicators.gep.services.area import AreaContext, Part
from gep.indicators.gep.services.base import ParamContext, Price, Service, Valuing
from gep.indicators.gep.services.purification import PurificationParams, load_pollutants, purification_parts


def load(ctx: ParamContext) -> PurificationParams:
    return load_pollutants(ctx, "air_capacity")


def parts(ctx: AreaContext, p: PurificationParams, year: int) -> list[Part]:
    return purification_parts(ctx, p, year, "emissions", "emissions")


def price(v: Valuing) -> Price:
    first = v.params.pollutants[0]
    return Price(*v.prices.get(first.price, "air_purification"))


def method(v: Valuing) -> str:
    return "per pollutant min(Σ capacity per hm² × class area, emissions) × treatment cost"


def source(v: Valuing) -> str:
    return f"{v.params.file.cite()}; {v.prices.file.cite()}; {Path(v.cfg.tables['emissions']).name}"


SERVICE = Service(spec("air_purification"), load=load, price=price, method=method, source=source, parts=parts)
