"""The registry of Tier-2 GEP services: every raster-backed service, found by name.

The built-in services are the modules listed in :data:`BUILTIN_MODULES`, each declaring one ``SERVICE``.
:func:`register` adds another (its spec goes into the service catalogue :mod:`gep.config.gep_services` too, so
``gep.services`` accepts its name and ``gep.parameters`` its parameter table); everything else — which rasters
a year writes, which parameter files are read, the sums, prices and table rows — loops over :func:`selected`.
"""

from __future__ import annotations

from collections.abc import Iterable

from gep.config import gep_services as catalogue
from gep.config.gep import Rasters
from gep.indicators.gep.services import (air_purification, carbon_sequestration, climate_regulation,
                                         flood_regulation, oxygen_release, pest_control, sand_fixation,
                                         soil_retention, water_conservation, water_purification)
from gep.indicators.gep.services.base import Service

BUILTIN_MODULES = (water_conservation, soil_retention, carbon_sequestration, oxygen_release, climate_regulation,
                   flood_regulation, air_purification, water_purification, pest_control, sand_fixation)

_SERVICES: dict[str, Service] = {}


def register(service: Service) -> Service:
    """Add ``service`` (or replace the one of the same name): its spec into the catalogue, its formulas here.
    ValueError when its raster inputs are not fields of ``gep.rasters`` or a derived service's base is not a
    registered raster service."""
    s = service.spec
    unknown = [i for i in s.inputs + s.optional_inputs if i not in Rasters.model_fields]
    if unknown:
        raise ValueError(f"service {s.name}: raster input(s) {', '.join(unknown)} are not fields of gep.rasters "
                         f"({', '.join(Rasters.model_fields)})")
    if s.kind == "derived" and (s.derived_from not in _SERVICES or _SERVICES[s.derived_from].spec.kind != "raster"):
        raise ValueError(f"service {s.name}: derived_from '{s.derived_from}' is not a registered raster service")
    catalogue.register_spec(s)
    _SERVICES[s.name] = service
    return service


def unregister(name: str) -> None:
    """Remove a service that is not built in."""
    catalogue.unregister_spec(name)
    _SERVICES.pop(name, None)


def get(name: str) -> Service:
    return _SERVICES[name]


def services() -> tuple[Service, ...]:
    """Every registered service, in catalogue order."""
    return tuple(_SERVICES[n] for n in catalogue.names() if n in _SERVICES)


def selected(names: Iterable[str]) -> tuple[Service, ...]:
    """The registered services among ``names`` (e.g. ``gep.services``), in registry order."""
    wanted = set(names)
    return tuple(s for s in services() if s.name in wanted)


def area_services(selection: Iterable[Service]) -> tuple[Service, ...]:
    """The services of the selection computed from land-cover areas and region tables (kind ``area``)."""
    return tuple(s for s in selection if s.spec.kind == "area")


def density_services(selection: Iterable[Service]) -> tuple[Service, ...]:
    """The raster services whose density the selection needs: its own, and the base of a derived one (oxygen
    release needs the CO₂ density), in registry order."""
    need = set()
    for s in selection:
        need.add(s.spec.derived_from if s.spec.kind == "derived" else s.name)
    return tuple(s for s in services() if s.spec.kind == "raster" and s.name in need)


#: run rows that cover profile items other than their own name (docs/methods.md §4.8): looked up by the row's
#: service (``SERVICE:PART`` first, then ``SERVICE``); any other row ``SERVICE:PART`` covers item PART and a row
#: ``NAME`` (a raster service or a statistics row) covers item NAME
PROFILE_ITEMS = {
    "soil_retention": ("sediment", "nitrogen", "phosphorus"),
    "climate_regulation": ("climate_vegetation", "climate_water"),
    "flood_regulation": ("flood_regulation",),
    "pest_control:forest": ("pest_forest",),
    "pest_control:grassland": ("pest_grassland",),
}


def profile_items(row_service: str) -> tuple[str, ...]:
    """The profile items a run row (its ``service`` column) covers, by :data:`PROFILE_ITEMS`."""
    service, _, part = str(row_service).partition(":")
    for key in (row_service, service):
        if key in PROFILE_ITEMS:
            return PROFILE_ITEMS[key]
    return (part or service,)


for _module in BUILTIN_MODULES:
    register(_module.SERVICE)
