"""Reference data (class schemes, standards) read and validated one way: :func:`load_reference`.

A reference file is a YAML mapping shipped in ``gep/data/KIND/`` (found by name through
:mod:`gep.core.resources`) or the user's own file given by path. Its layout is a pydantic model derived from
:class:`Reference`; every problem comes back at once, one line each, naming the file and the key::

    /path/coverage_mine.yaml: key 'targets_pct.山区' = 120: should be a percentage in 0..100; fix the coverage
    standard file (laid out like src/gep/data/standards/coverage_national.yaml)

The models themselves live next to the code that uses the data (:mod:`gep.accounting.classes`,
:mod:`gep.indicators.coverage.index`, :mod:`gep.scorecard.standard`), because they name that layer's
vocabulary (land-cover categories, terrain types); this module holds what they share.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, PrivateAttr, ValidationError

from gep.core.errors import InputError
from gep.core.resources import resolve
from gep.core.settings import problems as settings_problems, read_yaml


def _text(v: Any) -> Any:
    """Numbers and dates YAML reads from an unquoted scalar become text (``status: 2`` → "2")."""
    return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


def _number(v: Any) -> Any:
    """Reject booleans and text where a number belongs (YAML reads ``yes``/``no`` as booleans)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError("should be a number")
    return float(v)


#: Text that also accepts a bare YAML number.
Text = Annotated[str, BeforeValidator(_text)]
#: A number (int or float, never a boolean or text), as float.
Number = Annotated[float, BeforeValidator(_number)]


class Reference(BaseModel):
    """Base of every reference-file layout: unknown top-level keys are kept (``extra``), values are frozen."""

    model_config = ConfigDict(extra="allow", frozen=True)
    _path: Path | None = PrivateAttr(default=None)

    @property
    def file(self) -> Path | None:
        """The file the data were read from (None when validated from a mapping)."""
        return self._path

    @property
    def extra(self) -> dict[str, Any]:
        """Top-level keys the layout does not know (kept for the tables' metadata)."""
        return dict(self.model_extra or {})


M = TypeVar("M", bound=Reference)


def problems(err: ValidationError, where: str, fix: str) -> list[str]:
    """One line per validation error, ending with what to do (:func:`gep.core.settings.problems`)."""
    return settings_problems(err, where, "", fix=fix)


def validate_reference(model: type[M], data: Any, where: str, fix: str) -> M:
    """``model`` validated from the parsed YAML ``data``; every problem at once as an InputError."""
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected a mapping of keys, not {type(data).__name__}; {fix}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as err:
        raise InputError.many(problems(err, where, fix)) from None


def load_reference(kind: str, name_or_path: str | Path, model: type[M], *, what: str, prefix: str = "",
                   layout: str = "") -> M:
    """Read and validate a reference file: a built-in ``gep/data/KIND/PREFIX+NAME.yaml`` or a user's path.

    ``what`` names the kind of file in errors ("class scheme", "coverage standard"); ``layout`` is the
    shipped file to copy. Unknown names, missing files, bad YAML and every key that does not fit ``model``
    are InputErrors of one line each naming the file and the key. The result's ``file`` is the path read.
    """
    path = resolve(name_or_path, kind, what, prefix=prefix, layout=layout)
    data = read_yaml(path, f"{what} file")
    fix = f"fix the {what} file" + (f" (laid out like {layout})" if layout else "")
    obj = validate_reference(model, data, str(path), fix)
    obj._path = path
    return obj


__all__ = ["Number", "Reference", "Text", "load_reference", "problems", "validate_reference"]
