"""The catalogue of GEP services: the light half of each service (names, inputs, parameter tables, units).

Every GEP service is declared once with a :class:`ServiceSpec`; the configuration layer reads only this
catalogue (to validate ``gep.services``, to build the ``gep.parameters`` fields with their default files and to
say which rasters a year writes and which parameter tables a stage reads), so ``import gep.config`` stays free
of numpy and the geo libraries. The formulas of each service (its per-cell density, its price rule, the method
and source it cites) live in ``gep/indicators/gep/services/NAME.py``; the registry there
(:mod:`gep.indicators.gep.services.registry`) pairs each spec with them, and ``register(service)`` adds a new
service (spec and formulas, from one module) to both.

Kinds of service:

- ``raster``: a per-cell density on the land-cover grid (``raster_unit`` per year), written as
  ``SERVICE_YEAR.tif`` and summed per region: quantity = Σ density × covered area (m²) × ``to_quantity``
  (docs/methods.md §4.2);
- ``derived``: a fixed multiple of another raster service (``derived_from``; oxygen release = CO₂ × 32/44,
  docs/methods.md §4.2.4), written as its own raster but summed through its base;
- ``table``: computed from tables, not rasters (Tier 1 from land-cover areas, statistics, carbon stock);
- ``area``: computed per region and year from the per-class land-cover areas the run already has
  (``landcover_area``) and the region tables it names in ``tables`` (fields of ``gep.tables``: water bodies,
  emissions, discharges), without a raster (flood regulation, air and water purification, pest control,
  docs/methods.md §4.2.7–§4.2.10); its rows are one per part (``flood_regulation:lakes``, ``air_purification:so2``).

``default``: whether the service is in the default ``gep.services`` list (the services that need region tables
or only suit some regions are listed by the user).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CATEGORIES = ("regulating", "provisioning", "cultural", "supporting")
Kind = Literal["raster", "derived", "table", "area"]

#: the price table is read by every priced service (docs/methods.md §4.5)
PRICES = ("prices", "prices_dolkar2017", "unit prices with base year [V, one study]")


@dataclass(frozen=True)
class ParameterTable:
    """A field of ``gep.parameters``: a parameter file a service reads (built-in name or path)."""

    field: str
    default: str
    description: str


@dataclass(frozen=True)
class ServiceSpec:
    """The light, declarative half of a GEP service (see the module docstring)."""

    name: str
    name_zh: str
    category: str | None            # one of CATEGORIES; None where the rows carry their own (tier1, statistics)
    kind: Kind
    parameters: tuple[ParameterTable, ...] = ()
    inputs: tuple[str, ...] = ()             # fields of gep.rasters the service needs
    optional_inputs: tuple[str, ...] = ()    # fields of gep.rasters it reads when given (evaporation → et;
                                             # the others are left out of its blocks when not configured)
    needs_ls: bool = False                   # reads the LS factor (gep.ls.path or the DEM)
    derived_from: str | None = None          # kind 'derived': the raster service it is a multiple of
    quantity_unit: str = ""                  # unit of the region total (m³, t, t CO₂, kWh, …)
    raster_unit: str = ""                    # unit of the per-cell density, per year (mm, t/hm², g CO₂/m², …)
    to_quantity: float = 1.0                 # Σ density × m² → quantity_unit (e.g. mm·m² → m³: 1e-3)
    priced: bool = True                      # valued in yuan (reads the price table and the deflator)
    tables: tuple[str, ...] = ()             # fields of gep.tables (region tables) the service reads
    default: bool = True                     # in the default gep.services list

    def __post_init__(self):
        if self.category is not None and self.category not in CATEGORIES:
            raise ValueError(f"service {self.name}: category '{self.category}' is not one of "
                             f"{', '.join(CATEGORIES)}")
        if (self.kind == "derived") != (self.derived_from is not None):
            raise ValueError(f"service {self.name}: a 'derived' service names derived_from (and only it)")

    @property
    def parameter_fields(self) -> tuple[str, ...]:
        return tuple(p.field for p in self.parameters)


# ---------------------------------------------------------------------------------------------------------
# the built-in services, in the order rows, rasters and sums follow


_CARBON_OXYGEN = ParameterTable("carbon_oxygen", "carbon_oxygen",
                                "NEP/NPP ratio [P], carbon fraction of dry matter [P], classes [P]")

BUILTIN: tuple[ServiceSpec, ...] = (
    ServiceSpec("tier1", "当量因子法", None, "table", parameters=(
        ParameterTable("equivalent_factors", "xie2015_equivalent_factors", "Tier-1 factor table [V2]"),
        ParameterTable("ecosystem_map", "ecosystem_map_clcd", "land-cover code → ecosystem type [P]"))),
    # docs/methods.md §4.2.1
    ServiceSpec("water_conservation", "水源涵养", "regulating", "raster", parameters=(
        ParameterTable("runoff", "runoff_coefficients_clcd",
                       "runoff coefficient α by class, classes counted [V2 values, P map]"),),
        inputs=("precipitation", "et"), quantity_unit="m³", raster_unit="mm", to_quantity=1e-3),
    # docs/methods.md §4.2.2
    ServiceSpec("soil_retention", "土壤保持", "regulating", "raster", parameters=(
        ParameterTable("usle_cp", "usle_cp_clcd", "USLE C and P by class [P]"),
        ParameterTable("soil_valuation", "soil_retention_dolkar2017", "λ, bulk density, soil N/P [V, one study]")),
        inputs=("erosivity", "erodibility"), needs_ls=True, quantity_unit="t", raster_unit="t/hm²",
        to_quantity=1e-4),
    # docs/methods.md §4.2.4
    ServiceSpec("carbon_sequestration", "固碳", "regulating", "raster", parameters=(_CARBON_OXYGEN,),
                inputs=("npp",), quantity_unit="t CO₂", raster_unit="g CO₂/m²", to_quantity=1e-6),
    ServiceSpec("oxygen_release", "释氧", "regulating", "derived", parameters=(_CARBON_OXYGEN,),
                inputs=("npp",), derived_from="carbon_sequestration", quantity_unit="t O₂",
                raster_unit="g O₂/m²", to_quantity=1e-6),
    # docs/methods.md §4.2.3
    ServiceSpec("climate_regulation", "气候调节", "regulating", "raster", parameters=(
        ParameterTable("climate", "climate_regulation", "latent heat [V]; r, γ, cooling days, transpiration "
                                                        "shares, classes [P]"),),
        inputs=("et",), optional_inputs=("evaporation", "transpiration", "transpiration_cooling", "cooling_days"),
        quantity_unit="kWh", raster_unit="kWh/m²",
        to_quantity=1.0),
    # docs/methods.md §4.4
    ServiceSpec("statistics", "统计核算", None, "table"),
    # docs/methods.md §4.3
    ServiceSpec("carbon_stock", "碳储量", None, "table", parameters=(
        ParameterTable("carbon_pools", "carbon_pools_clcd", "carbon density by class, t C/ha [P]"),),
        priced=False),
    # docs/methods.md §4.2.7
    ServiceSpec("flood_regulation", "洪水调蓄", "regulating", "area", parameters=(
        ParameterTable("flood", "flood_regulation", "lake model [V2], reservoir share 0.35, marsh depth 0.3 m "
                                                    "[V, one study], marsh classes [P]"),),
        tables=("water_bodies",), quantity_unit="m³", default=False),
    # docs/methods.md §4.2.8
    ServiceSpec("air_purification", "空气净化", "regulating", "area", parameters=(
        ParameterTable("air_capacity", "air_purification", "uptake of SO₂, NOₓ, dust per hm² by class [P]"),),
        tables=("emissions",), quantity_unit="t", default=False),
    # docs/methods.md §4.2.9
    ServiceSpec("water_purification", "水质净化", "regulating", "area", parameters=(
        ParameterTable("water_capacity", "water_purification", "removal of COD, NH₃-N, TP per hm² by class [P]"),),
        tables=("discharges",), quantity_unit="t", default=False),
    # docs/methods.md §4.2.10
    ServiceSpec("pest_control", "病虫害控制", "regulating", "area", parameters=(
        ParameterTable("pest", "pest_control", "classes counted as natural forest / grassland, natural share [P]"),),
        quantity_unit="hm²", default=False),
    # docs/methods.md §4.2.11
    ServiceSpec("sand_fixation", "防风固沙", "regulating", "raster", parameters=(
        ParameterTable("sand", "sand_fixation", "RWEQ constants [V], field length z [P], ρ and h [V, one study], "
                                                "classes [P]"),),
        inputs=("wind_factor", "erodible_fraction", "crust_factor", "roughness_factor", "vegetation_cover"),
        quantity_unit="t", raster_unit="kg/m²", to_quantity=1e-3, default=False),
)

BUILTIN_NAMES: tuple[str, ...] = tuple(s.name for s in BUILTIN)
#: the default of ``gep.services``: the built-in services not marked ``default=False``
DEFAULT_NAMES: tuple[str, ...] = tuple(s.name for s in BUILTIN if s.default)

_CATALOGUE: dict[str, ServiceSpec] = {}


def register_spec(spec: ServiceSpec) -> ServiceSpec:
    """Add ``spec`` to the catalogue (again: replaced). A parameter field it shares with another service must
    have the same default file; ValueError otherwise."""
    for p in spec.parameters:
        if p.field == PRICES[0]:
            raise ValueError(f"service {spec.name}: '{p.field}' is the price table; every priced service reads it")
        for other in _CATALOGUE.values():
            for q in other.parameters:
                if q.field == p.field and q.default != p.default and other.name != spec.name:
                    raise ValueError(f"service {spec.name}: parameter table '{p.field}' defaults to '{p.default}' "
                                     f"but service {other.name} defaults it to '{q.default}'")
    _CATALOGUE[spec.name] = spec
    return spec


def unregister_spec(name: str) -> None:
    """Remove a service that is not built in (tests register and remove their own)."""
    if name in BUILTIN_NAMES:
        raise ValueError(f"service {name} is built in; it cannot be removed")
    _CATALOGUE.pop(name, None)


def spec(name: str) -> ServiceSpec:
    """The spec of service ``name``; KeyError naming the known services otherwise."""
    try:
        return _CATALOGUE[name]
    except KeyError:
        raise KeyError(f"unknown GEP service '{name}'; known: {', '.join(_CATALOGUE)}") from None


def specs() -> tuple[ServiceSpec, ...]:
    """Every registered spec: the built-in ones in :data:`BUILTIN` order, then the added ones."""
    return tuple(_CATALOGUE.values())


def names() -> tuple[str, ...]:
    return tuple(_CATALOGUE)


def table_names() -> tuple[str, ...]:
    """Every region table (field of ``gep.tables``) a registered service reads, once each, in service order."""
    return tuple(dict.fromkeys(t for s in specs() for t in s.tables))


def parameter_tables() -> tuple[ParameterTable, ...]:
    """Every parameter table of the registered services, once each, in service order; the price table after
    those of the priced services (the field order of ``gep.parameters``)."""
    seen: dict[str, ParameterTable] = {}
    for s in (s for s in specs() if s.priced):
        for p in s.parameters:
            seen.setdefault(p.field, p)
    seen[PRICES[0]] = ParameterTable(*PRICES)
    for s in specs():
        for p in s.parameters:
            seen.setdefault(p.field, p)
    return tuple(seen.values())


def _register_builtins() -> None:
    for s in BUILTIN:
        _CATALOGUE[s.name] = s


_register_builtins()
