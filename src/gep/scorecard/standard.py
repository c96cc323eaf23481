"""The 两山指数 indicator list as data: ``src/gep/data/standards/lianshan_NAME.yaml`` (docs/methods.md §5).

A standard names each indicator's group (目标层), task (任务层), unit, target text, judgement type and where its
values come from (a department template or one of gep's tables). The national list and Guizhou's variant ship
with gep; a county's own variant is a copy of one of them given by path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from gep.core.errors import InputError
from gep.core.refdata import Reference, Text, load_reference
from gep.core.resources import available, resolve
from gep.indicators.coverage.index import CoverageStandard, load_standard
from gep.indicators.judgement import COMPARISONS, JUDGEMENTS, MISSING_STATUSES, NOT_COMPUTED  # noqa: F401

PREFIX = "lianshan_"
_LAYOUT = "the built-in standards/lianshan_national.yaml (gep where --data)"

#: Where an indicator's values come from.
DATA_SOURCES = ("department", "coverage", "protected", "gep")
TREND_RULES = ("previous", "monotone")
PROTECTED_LAYERS = ("redline", "protected")
#: Units accepted for numbers (others are allowed but flagged nowhere: a local indicator may use any unit).
PERCENT = "%"
FIRST_LOCAL_NO = 21

_REQUIRED = ("number", "group", "task", "name", "unit", "target", "judgement")
_KNOWN = set(_REQUIRED) | {"threshold", "comparison", "targets_pct", "reference", "data", "missing_status",
                          "source", "status", "note", "layers", "coverage_standard", "trend"}


@dataclass(frozen=True)
class Indicator:
    """One row of the 两山指数 table.

    ``threshold`` is in ``unit`` (e.g. 90 for ">90%"); ``comparison`` is ">" (strict: a value exactly at the
    threshold fails) or "≥". ``targets_pct`` (indicator 7) maps region terrain types to % targets; it and
    the comparison are those of the coverage standard ``coverage_standard`` names (stored there only).
    ``reference`` labels a per-year reference value supplied by the departments instead of a fixed threshold.
    ``trend_rule``/``trend_strict`` say how 稳定提高 is judged (see :func:`gep.scorecard.judge.judge_trend`).
    """

    no: int
    group: str
    task: str
    name: str
    unit: str
    target: str
    judgement: str
    data: str = "department"
    threshold: float | None = None
    comparison: str | None = None
    targets_pct: Mapping[str, float] | None = None
    reference: str | None = None
    missing_status: str = NOT_COMPUTED
    layers: tuple[str, ...] = ("redline",)
    coverage_standard: str | None = None
    trend_rule: str = "previous"
    trend_strict: bool = True
    source: str = ""
    status: str = ""
    note: str = ""

    @property
    def computed(self) -> bool:
        """True when gep computes the indicator from maps (7, 9, 10 in the shipped lists)."""
        return self.data != "department"

    @property
    def numeric(self) -> bool:
        """True when values are numbers (threshold, trend, no_decrease); False for text answers."""
        return self.judgement in ("threshold", "trend", "no_decrease")

    @property
    def local(self) -> bool:
        return self.no >= FIRST_LOCAL_NO


@dataclass(frozen=True)
class LianshanStandard:
    """A 两山指数 indicator list (national, provincial or local), in table order."""

    name: str
    title: str
    source: str
    status: str
    groups: tuple[str, ...]
    indicators: tuple[Indicator, ...]
    path: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def by_no(self) -> dict[int, Indicator]:
        return {i.no: i for i in self.indicators}

    def department(self) -> tuple[Indicator, ...]:
        """Indicators whose values come from the department template (17 in the shipped lists)."""
        return tuple(i for i in self.indicators if not i.computed)

    def computed(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.computed)


class TrendDefaults(BaseModel):
    """The list's default 稳定提高 rule (``trend:``); an indicator may override it with its own ``trend:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rule: Literal["previous", "monotone"] = "previous"
    strict: StrictBool = True


class LianshanFile(Reference):
    """Layout of a 两山指数 list (src/gep/data/standards/lianshan_national.yaml): the top level. Each entry of
    ``indicators`` / ``local_indicators`` is checked by :func:`load_lianshan_standard`, all problems at once."""

    name: Text | None = None
    title: Text = ""
    source: Text = ""
    status: Text = ""
    groups: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    trend: TrendDefaults = TrendDefaults()
    indicators: list[Any] = Field(min_length=1)
    local_indicators: list[Any] | None = None


def _coverage_standard(ref, path: Path, key: str, bad) -> CoverageStandard | None:
    """The coverage standard an indicator-7 entry names (built-in name, or a path, relative paths also
    against the list's folder); problems go to ``bad``."""
    if ref is None or str(ref).strip() == "":
        bad(key, "is missing", "name the coverage standard that holds indicator 7's targets (national, guizhou "
            "or a path to a coverage_*.yaml file)")
        return None
    ref = str(ref).strip()
    beside = path.parent / ref
    if Path(ref).suffix.lower() in (".yaml", ".yml") and not Path(ref).is_file() and beside.is_file():
        ref = str(beside)
    try:
        return load_standard(ref)
    except InputError as err:
        for line in err.lines():
            bad(key, f"= {ref!r}: {line}", "fix the coverage standard or name another")
        return None


def available_standards() -> list[str]:
    """Names of the built-in 两山指数 lists (files ``src/gep/data/standards/lianshan_NAME.yaml``)."""
    return available("standards", PREFIX)


def standard_file(name_or_path: str | Path) -> Path:
    """The YAML file of a 两山指数 list given by built-in name (``national``) or by path."""
    return resolve(name_or_path, "standards", "两山指数 standard", prefix=PREFIX,
                   layout=_LAYOUT)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def load_lianshan_standard(name_or_path: str | Path) -> LianshanStandard:
    """Load a 两山指数 list by built-in name (``national``, ``guizhou``) or from a YAML file.

    Every problem (missing key, unknown judgement type, bad comparison, duplicate number, …) is reported at
    once as :class:`InputError` lines naming the file and the key.
    """
    f = load_reference("standards", name_or_path, LianshanFile, what="两山指数 standard", prefix=PREFIX,
                       layout=_LAYOUT)
    path = f.file
    problems: list[str] = []

    def bad(key: str, what: str, fix: str) -> None:
        problems.append(f"{path}: key '{key}' {what}; {fix}")

    groups = list(f.groups)
    rule_default, strict_default = f.trend.rule, f.trend.strict
    raw, local = f.indicators, f.local_indicators or []
    entries = [(f"indicators[{k}]", e) for k, e in enumerate(raw)]
    entries += [(f"local_indicators[{k}]", e) for k, e in enumerate(local)]

    out: list[Indicator] = []
    seen: dict[int, str] = {}
    for where, e in entries:
        if not isinstance(e, dict):
            bad(where, "is not a mapping", "give number, group, task, name, unit, target, judgement")
            continue
        n_before = len(problems)
        if False in e or True in e:  # YAML 1.1 reads a bare `no:`/`yes:` key as a boolean
            bad(f"{where}", "has a key read as true/false (YAML takes 'no'/'yes' for booleans)",
                "write 'number:' for the indicator number")
        for key in _REQUIRED:
            if key == "target" and e.get("data") == "coverage":
                continue  # written from the coverage standard
            if key not in e or e[key] is None or (key != "unit" and str(e[key]).strip() == ""):
                bad(f"{where}.{key}", "is missing", f"add '{key}'")
        for key in sorted((k for k in e if isinstance(k, str)), key=str):
            if key in _KNOWN:
                continue
            bad(f"{where}.{key}", "is not a known key", f"use only {', '.join(sorted(_KNOWN))}")
        if len(problems) > n_before:
            continue
        no = e["number"]
        if not isinstance(no, int) or isinstance(no, bool) or no < 1:
            bad(f"{where}.number", f"= {no!r} is not a positive integer", "number indicators 1, 2, …")
            continue
        if no in seen:
            bad(f"{where}.number", f"= {no} repeats {seen[no]}", "give each indicator its own number")
            continue
        seen[no] = where
        if where.startswith("local_") and no < FIRST_LOCAL_NO:
            bad(f"{where}.number", f"= {no} is a number of the national list", f"number local indicators from "
                f"{FIRST_LOCAL_NO} on")
        group = str(e["group"])
        if groups and group not in groups:
            bad(f"{where}.group", f"= {group!r} is not in 'groups'", f"use one of {', '.join(groups)}")
        judgement = str(e["judgement"])
        if judgement not in JUDGEMENTS:
            bad(f"{where}.judgement", f"= {judgement!r} is an unknown judgement type",
                f"use one of {', '.join(JUDGEMENTS)}")
        data_src = str(e.get("data", "department"))
        if data_src not in DATA_SOURCES:
            bad(f"{where}.data", f"= {data_src!r} is unknown", f"use one of {', '.join(DATA_SOURCES)}")
        comparison = None
        threshold = e.get("threshold")
        targets = e.get("targets_pct")
        reference = e.get("reference")
        target_text = str(e.get("target", ""))
        cov_std = None
        if data_src == "coverage":
            for key in ("targets_pct", "comparison", "target", "threshold", "reference"):
                if key in e:
                    bad(f"{where}.{key}", "is given, but indicator 7's targets are stored in the coverage standard "
                        "only", "remove it and name the standard with coverage_standard (national, guizhou or a "
                        "path to a coverage_*.yaml file)")
            cov_std = _coverage_standard(e.get("coverage_standard"), path, f"{where}.coverage_standard", bad)
            threshold = targets = reference = None
            if cov_std is not None:
                comparison = cov_std.comparison
                targets = dict(cov_std.targets_pct)
                target_text = cov_std.target_text()
        elif judgement == "threshold":
            comparison = COMPARISONS.get(str(e.get("comparison", "")).strip())
            if comparison is None:
                bad(f"{where}.comparison", f"= {e.get('comparison')!r} is not '>' or '≥'",
                    "write '>' (strict: exactly the target fails) or '≥'")
            sources = sum(x is not None for x in (threshold, targets, reference))
            if sources != 1:
                bad(f"{where}.threshold", "a threshold indicator needs exactly one of threshold, targets_pct, "
                    "reference", "give the number (threshold), targets by terrain type (targets_pct) or the "
                    "label of a per-year reference value (reference)")
            if threshold is not None and not _number(threshold):
                bad(f"{where}.threshold", f"= {threshold!r} is not a number", "write the number in the unit")
        elif threshold is not None or targets is not None or reference is not None:
            bad(f"{where}.threshold", f"is given for a '{judgement}' indicator", "remove it (only threshold "
                "indicators have threshold, targets_pct or reference)")
        if targets is not None and data_src != "coverage":
            bad(f"{where}.targets_pct", "is only used with data: coverage", "set data: coverage (the targets then "
                "come from its coverage standard)")
        missing = str(e.get("missing_status", NOT_COMPUTED))
        if missing not in MISSING_STATUSES:
            bad(f"{where}.missing_status", f"= {missing!r} is unknown", f"use {' or '.join(MISSING_STATUSES)}")
        layers = e.get("layers", ["redline"])
        if not isinstance(layers, list) or not layers or any(x not in PROTECTED_LAYERS for x in layers):
            bad(f"{where}.layers", f"= {layers!r} is not a list of {', '.join(PROTECTED_LAYERS)}",
                "e.g. [redline] or [redline, protected]")
            layers = ["redline"]
        ind_trend = e.get("trend") or {}
        rule = ind_trend.get("rule", rule_default) if isinstance(ind_trend, dict) else rule_default
        strict = ind_trend.get("strict", strict_default) if isinstance(ind_trend, dict) else strict_default
        if rule not in TREND_RULES:
            bad(f"{where}.trend.rule", f"= {rule!r} is unknown", f"use one of {', '.join(TREND_RULES)}")
        if not isinstance(strict, bool):
            bad(f"{where}.trend.strict", f"= {strict!r} is not true/false", "write true or false")
        if data_src == "coverage" and judgement != "threshold":
            bad(f"{where}.judgement", "must be 'threshold' with data: coverage", "set judgement: threshold")
        if data_src == "protected" and judgement != "no_decrease":
            bad(f"{where}.judgement", "must be 'no_decrease' with data: protected", "set judgement: no_decrease")
        if data_src == "gep" and judgement != "trend":
            bad(f"{where}.judgement", "must be 'trend' with data: gep", "set judgement: trend")
        out.append(Indicator(
            no=no, group=group, task=str(e["task"]), name=str(e["name"]), unit=str(e["unit"] or ""),
            target=target_text, judgement=judgement, data=data_src,
            threshold=float(threshold) if _number(threshold) else None, comparison=comparison,
            targets_pct={k: float(v) for k, v in targets.items() if _number(v)} if targets else None,
            reference=str(reference) if reference is not None else None, missing_status=missing,
            layers=tuple(layers), coverage_standard=cov_std.name if cov_std is not None else None,
            trend_rule=rule if rule in TREND_RULES else "previous", trend_strict=bool(strict),
            source=str(e.get("source", "")), status=str(e.get("status", "")), note=str(e.get("note", "")),
        ))
    if problems:
        raise InputError.many(problems)
    order = {g: k for k, g in enumerate(groups)}
    # table order: by group, then by number (local indicators sit at the end of their group)
    out.sort(key=lambda i: (order.get(i.group, len(order)), i.no))
    return LianshanStandard(
        name=f.name if f.name is not None else path.stem, title=f.title, source=f.source, status=f.status,
        groups=tuple(groups), indicators=tuple(out), path=str(path), extra=f.extra,
    )


__all__ = [
    "DATA_SOURCES",
    "JUDGEMENTS",
    "Indicator",
    "LianshanStandard",
    "available_standards",
    "load_lianshan_standard",
]
