"""Reading settings: YAML files loaded safely and pydantic models validated with one line per problem.

Every settings model of the project (the run config, terrain, coverage and GEP sections) goes through these
helpers, so errors look the same everywhere: ``WHERE: key 'a.b' = VALUE: what is wrong``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gep.core.errors import InputError

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: str | Path, what: str = "settings file") -> Any:
    """Parse a YAML file safely (no Python tags); InputError naming the file for any problem."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} does not exist; check the path")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        first = str(err).replace("\n", " ")
        raise InputError(f"{path}: not valid YAML ({first}); fix the syntax") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save it as UTF-8") from None


def yaml_key(loc: tuple) -> str:
    """A pydantic location as the YAML key a user reads: ``indicators[2].comparison`` (``years[1]``)."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def problems(err: ValidationError, where: str, hint: str, *, fix: str | None = None) -> list[str]:
    """One line per validation error: ``WHERE: key 'a.b' = VALUE: what is wrong``, naming the key.

    Settings files say where the known keys are listed (``hint``, in brackets); reference data files (class
    schemes, standards) end each line with what to do (``fix``) instead."""
    def tail(sep: str) -> str:
        return f"{sep}{fix}" if fix else f" ({hint})"

    lines = []
    for e in err.errors():
        key = yaml_key(tuple(e["loc"]))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            lines.append(f"{where}: key '{key}' is missing; add it" + tail(", "))
        elif e["type"] == "extra_forbidden":
            lines.append(f"{where}: key '{key}' is not a known {'key' if fix else 'setting'}; check its spelling"
                         + tail(", "))
        elif not e["loc"]:  # a check across keys (a model validator): the message names the keys itself
            lines.append(f"{where}: {msg}" + (f"; {fix}" if fix else ""))
        else:
            value = e.get("input")
            shown = f" = {value!r}" if not isinstance(value, dict) else ""  # a whole section is not shown
            lines.append(f"{where}: key '{key}'{shown}: {msg}" + (f"; {fix}" if fix else ""))
    return lines


def validate_model(model: type[M], data: Any, where: str, hint: str) -> M:
    """``model`` validated from a mapping; all problems at once as an InputError."""
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected a mapping of settings ({hint})")
    try:
        return model.model_validate(dict(data))
    except ValidationError as err:
        raise InputError.many(problems(err, where, hint)) from None


def load_model(model: type[M], source: str | Path | Mapping[str, Any] | None, where: str, hint: str,
               section: str | None = None, **overrides: Any) -> M:
    """``model`` from a mapping, a YAML file (optionally its ``section`` key) or defaults; non-None
    ``overrides`` win."""
    data: Any = {}
    if isinstance(source, Mapping):
        data = dict(source)
    elif source is not None:
        where = str(source)
        data = read_yaml(source) or {}
        if section and isinstance(data, dict) and isinstance(data.get(section), dict):
            data = data[section]
    if isinstance(data, dict):
        data.update({k: v for k, v in overrides.items() if v is not None})
    return validate_model(model, data, where, hint)
