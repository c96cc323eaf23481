"""What the Snakemake rules need from the config while the workflow is parsed: the config values a job uses, as
a rule's ``params`` (Snakemake redoes a job whose params changed), and the one config file every job reads.

Nothing here writes a file: parsing the workflow (a dry run too) leaves the output folder as it is.
Light: imports no geo library.
"""

from __future__ import annotations

import json
from pathlib import Path

from gep.config import Config, load
from gep.core.errors import InputError

#: how a run computes, never a number: no job's params hold them, so a run moved to a cluster or given other
#: chunks redoes nothing (they reach the jobs through the config file)
HOW = ("compute", "republish", "demo", "terrain.chunk", "gep.chunk")
#: parts of a section that a rule naming the whole section does not use: a rule that does names them itself
#: (the land-survey layer is indicator 7's alone, so editing it redoes no raster job)
SEPARATE = ("landcover.survey",)


def _pick(data: dict, key: str):
    node = data
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else None
    return node


def _drop(data: dict, keys) -> dict:
    out = {}
    for name, value in data.items():
        inner = [k.split(".", 1)[1] for k in keys if k.startswith(name + ".")]
        if name in keys:
            continue
        out[name] = _drop(value, inner) if inner and isinstance(value, dict) else value
    return out


def settings(cfg: Config, *keys: str) -> str:
    """The config values under ``keys`` (sections or dotted keys such as ``terrain.dem_path``) less
    :data:`HOW` and, in a section named whole, its :data:`SEPARATE` parts, as compact JSON: a rule's params, so that a job is redone when a value it uses changes."""
    full = _drop(cfg.as_dict(), HOW)
    picked = {}
    for key in keys:
        if key in HOW:
            continue
        value = _pick(full, key)
        inner = [s[len(key) + 1:] for s in SEPARATE if s.startswith(key + ".")]
        picked[key] = _drop(value, inner) if inner and isinstance(value, dict) else value
    return json.dumps(picked, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def all_settings(cfg: Config) -> str:
    """Every config value but :data:`HOW` (the provenance record's params)."""
    return json.dumps(_drop(cfg.as_dict(), HOW), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def config_file(given: list, cfg: Config, default: str | Path) -> str:
    """The config file the jobs read: the one given with ``--configfile`` (else ``default``). It must hold the
    whole config: values given otherwise (``--config KEY=VALUE``, a second ``--configfile``) would not reach
    the jobs, so they are refused."""
    path = str(given[-1]) if given else str(default)
    if len(given) > 1 or load(path).as_dict() != cfg.as_dict():
        raise InputError(f"the workflow's jobs read their settings from one config file ({path}); put the values "
                         f"given with --config or another --configfile into it")
    return path
