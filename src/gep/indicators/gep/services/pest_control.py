"""病虫害控制 pest control (docs/methods.md §4.2.10): natural forest and natural grassland area (hm²) per region,
from the land-cover class areas × the natural share of each class; each valued at the control cost per hm²
(Garzê 2010: 375 元/hm² forest, 112.5 元/hm² grassland)."""

from __future__ import annotations

from dataclasses import dataclass

from gep.config.gep_services import spec
from gep.core.errors import InputError
from gep.indicators.gep.params import ParamFile, _code, _number
from gep.indicators.gep.services.area import AreaContext, Part
from gep.indicators.gep.services.base import ParamContext, Price, Service, Valuing


@dataclass(frozen=True)
class PestPart:
    key: str
    name_zh: str
    codes: list[int]
    natural_share: float
    price: str


@dataclass(frozen=True)
class PestParams:
    file: ParamFile
    parts: tuple[PestPart, ...]


def load(ctx: ParamContext) -> PestParams:
    pf = ctx.file("pest")
    raw = pf.data.get("parts")
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"{pf.path}: key 'parts' must map part keys (forest, grassland) to {{name_zh, classes, "
                         f"natural_share, price, status, source}}")
    out = []
    for key, e in raw.items():
        where = f"{pf.path}: parts.{key}"
        if not isinstance(e, dict) or not isinstance(e.get("classes"), list) or not str(e.get("price") or ""):
            raise InputError(f"{where}: needs classes (land-cover codes), natural_share (0–1) and price (a key of "
                             f"the price table)")
        codes = [_code(c, f"{where}.classes") for c in e["classes"]]
        share = float(_number(e.get("natural_share", 1.0), f"{where}.natural_share", minimum=0.0, maximum=1.0))
        out.append(PestPart(str(key), str(e.get("name_zh", key)), codes, share, str(e["price"])))
    return PestParams(pf, tuple(out))


def parts(ctx: AreaContext, p: PestParams, year: int) -> list[Part]:
    return [Part(q.key, q.name_zh, ctx.class_area_hm2(q.codes, year) * q.natural_share, "hm²", q.price,
                 f"area of land-cover class(es) {', '.join(map(str, q.codes))} × natural share {q.natural_share:g}"
                 f" × control cost per hm²") for q in p.parts]


def price(v: Valuing) -> Price:
    return Price(*v.prices.get(v.params.parts[0].price, "pest_control"))


def method(v: Valuing) -> str:
    return "natural forest / grassland area (hm²) × control cost per hm²"


def source(v: Valuing) -> str:
    return f"{v.params.file.cite()}; {v.prices.file.cite()}; landcover_area"


SERVICE = Service(spec("pest_control"), load=load, price=price, method=method, source=source, parts=parts)
