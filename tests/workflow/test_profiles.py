"""The Snakemake profiles (profiles/local, profiles/slurm) against the resources the rules declare.

Every rule that runs a command declares ``threads`` (default 1) and ``resources: mem_mb, runtime`` in
rules/*.smk; those declarations are what a SLURM job asks for (--cpus-per-task, --mem, --time). A profile
may lower them per rule (``set-resources``) but must not ask for more memory than a rule declares, and its
``default-resources`` (used only by rules that declare nothing) stay below every declaration. Dry runs only.

The same checks run before the localhost SLURM test (scripts/test_slurm.sh) as a command line:

    python tests/test_profiles.py profiles/slurm [--node-mem-mb MB] [--node-cpus N]

which prints one ``gep: error: ...`` line per problem and exits 2 (0 when the profile fits).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "profiles"
ACTIONS = ("shell", "run", "script", "notebook", "wrapper")
_RULE = re.compile(r"^(?P<indent>[ \t]*)(?:local)?rule\s+(?P<name>\w+)\s*:")


def declared_rules() -> dict[str, dict]:
    """Rules of workflow/Snakefile and rules/*.smk (also those inside ``if`` blocks) with what they declare.

    Each value: file, action (runs a command), threads (int, 1 when not declared), mem_mb and runtime (int,
    None when not declared; "expr" when given as an expression).
    """
    rules: dict[str, dict] = {}
    for path in [REPO / "workflow" / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            m = _RULE.match(line)
            if not m:
                continue
            indent = len(m["indent"].expandtabs())
            body = []
            for nxt in lines[i + 1:]:
                stripped = nxt.strip()
                if stripped and not stripped.startswith("#") and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                body.append(nxt)
            text = "\n".join(body)
            info: dict = {"file": str(path.relative_to(REPO)), "threads": 1, "mem_mb": None, "runtime": None,
                          "action": any(re.search(rf"^\s*{a}\s*:", text, re.M) for a in ACTIONS)}
            t = re.search(r"^\s*threads\s*:\s*(.+)$", text, re.M)
            if t:
                lit = re.fullmatch(r"\d+", t[1].strip())
                info["threads"] = int(lit[0]) if lit else "expr"
            for key in ("mem_mb", "runtime"):
                r = re.search(rf"\b{key}\s*=\s*([^,\n]+)", text)
                if r:
                    lit = re.fullmatch(r"\d+", r[1].strip())
                    info[key] = int(lit[0]) if lit else "expr"
            rules[m["name"]] = info
    return rules


def load_profile(name: str | Path) -> dict:
    """A profile by name (local, slurm) or path (relative to the working folder or the repository)."""
    path = Path(name)
    folder = next((p for p in (path, REPO / path, PROFILES / path) if p.exists()), path)
    if folder.is_dir():
        folder = folder / "config.yaml"
    return yaml.safe_load(folder.read_text(encoding="utf-8")) or {}


def _resources(block) -> dict:
    """A profile's resources block as a dict (it may also be given as a list of KEY=VALUE strings)."""
    if isinstance(block, dict):
        return block
    out = {}
    for item in block or []:
        key, _, value = str(item).partition("=")
        out[key.strip()] = yaml.safe_load(value)
    return out


def _per_rule(block, key: str | None = None) -> dict:
    """set-resources / set-threads as {rule: value}: YAML mappings, or the command line's RULE:KEY=VALUE
    (RULE=VALUE for set-threads) strings."""
    if isinstance(block, dict):
        return block
    out: dict = {}
    for item in block or []:
        rule, sep, rest = str(item).partition(":")
        if key is None and sep:
            out.setdefault(rule.strip(), {}).update(_resources([rest]))
        else:
            rule, _, value = str(item).partition("=")
            out[rule.strip()] = yaml.safe_load(value)
    return out


def profile_problems(profile: dict, rules: dict[str, dict], name: str = "profile",
                     node_mem_mb: int | None = None, node_cpus: int | None = None) -> list[str]:
    """One line per problem of ``profile`` against the rules' declarations (and the node's size when given)."""
    problems = []
    jobs = {r: i for r, i in rules.items() if i["action"]}
    declared = {r: i["mem_mb"] for r, i in jobs.items() if isinstance(i["mem_mb"], int)}
    default = _resources(profile.get("default-resources"))
    dmem = default.get("mem_mb")
    if declared and isinstance(dmem, int) and dmem > min(declared.values()):
        low = min(declared, key=declared.get)
        problems.append(f"{name}: default-resources mem_mb={dmem} exceeds what rule '{low}' declares "
                        f"({declared[low]} MB); default-resources only serve rules that declare nothing, keep "
                        f"mem_mb at or below {declared[low]}")
    if node_mem_mb is not None and isinstance(dmem, int) and dmem > node_mem_mb:
        problems.append(f"{name}: default-resources mem_mb={dmem} is more than the node has ({node_mem_mb} MB)")
    overrides = _per_rule(profile.get("set-resources"))
    for rule, res in overrides.items():
        res = _resources(res)
        if rule not in rules:
            problems.append(f"{name}: set-resources names rule '{rule}', which does not exist; rules: "
                            f"{', '.join(sorted(jobs))}")
            continue
        mem = res.get("mem_mb")
        have = rules[rule]["mem_mb"]
        if isinstance(mem, int) and isinstance(have, int) and mem > have:
            problems.append(f"{name}: set-resources asks mem_mb={mem} for rule '{rule}', more than the rule "
                            f"declares ({have} MB in {rules[rule]['file']}); raise the declaration there instead")
    threads = _per_rule(profile.get("set-threads"), "threads")
    for rule in threads:
        if rule not in rules:
            problems.append(f"{name}: set-threads names rule '{rule}', which does not exist")
    for rule, info in sorted(jobs.items()):
        mem = _resources(overrides.get(rule)).get("mem_mb", info["mem_mb"])
        if node_mem_mb is not None and isinstance(mem, int) and mem > node_mem_mb:
            problems.append(f"{name}: rule '{rule}' asks mem_mb={mem}, more than any node of the partition has "
                            f"({node_mem_mb} MB): its job would never start")
        n = threads.get(rule, info["threads"])
        if node_cpus is not None and isinstance(n, int) and n > node_cpus:
            problems.append(f"{name}: rule '{rule}' asks {n} threads, more than any node of the partition has "
                            f"({node_cpus} CPUs): its job would never start")
    return problems


# ---------------------------------------------------------------------------------------------- tests

def _plugin() -> bool:
    return importlib.util.find_spec("snakemake_executor_plugin_slurm") is not None


def test_every_rule_declares_memory_and_runtime():
    rules = declared_rules()
    jobs = {r: i for r, i in rules.items() if i["action"]}
    assert {"account", "transition", "validate_inputs", "provenance"} <= set(jobs)
    missing = [f"{r} ({i['file']}): " + ", ".join(k for k in ("mem_mb", "runtime") if i[k] is None)
               for r, i in sorted(jobs.items()) if i["mem_mb"] is None or i["runtime"] is None]
    assert not missing, "rules without resources: " + "; ".join(missing)
    for rule, info in jobs.items():
        assert isinstance(info["threads"], int) and 1 <= info["threads"] <= 64, (rule, info)
        assert isinstance(info["mem_mb"], int) and 100 <= info["mem_mb"] <= 1_000_000, (rule, info)
        assert isinstance(info["runtime"], int) and 1 <= info["runtime"] <= 7 * 24 * 60, (rule, info)


def test_profiles_parse_and_name_real_options():
    from snakemake.cli import get_argument_parser

    known = get_argument_parser()._option_string_actions
    for name in ("local", "slurm"):
        profile = load_profile(name)
        assert isinstance(profile, dict) and profile, name
        for key in profile:
            if key.startswith("slurm-") and not _plugin():
                continue
            assert f"--{key}" in known, f"profiles/{name}: '{key}' is no snakemake option"
        assert profile.get("rerun-incomplete") is True, name


def test_local_profile():
    local = load_profile("local")
    assert "executor" not in local or local["executor"] == "local"
    assert local.get("cores")
    assert local.get("keep-going") is False and local.get("printshellcmds") is False


def test_slurm_profile_fits_the_rules():
    slurm = load_profile("slurm")
    assert slurm["executor"] == "slurm"
    assert int(slurm["jobs"]) >= 1 and int(slurm["latency-wait"]) >= 5
    default = _resources(slurm["default-resources"])
    for key in ("slurm_partition", "mem_mb", "runtime", "cpus_per_task"):
        assert key in default, f"profiles/slurm: default-resources lacks {key}"
    assert profile_problems(slurm, declared_rules(), "profiles/slurm") == []


def test_profile_asking_more_memory_than_declared_is_refused():
    rules = declared_rules()
    bad = {**load_profile("slurm"), "set-resources": {"account": {"mem_mb": rules["account"]["mem_mb"] + 1},
                                                      "acount": {"mem_mb": 10}}}
    problems = profile_problems(bad, rules, "bad")
    assert any("rule 'account'" in p and "more than the rule declares" in p for p in problems), problems
    assert any("'acount', which does not exist" in p for p in problems), problems
    small_node = profile_problems(load_profile("slurm"), rules, "p", node_mem_mb=1000, node_cpus=1)
    assert any("rule 'account' asks mem_mb=2000" in p for p in small_node)
    assert any("rule 'account' asks 2 threads" in p for p in small_node)


def test_check_command_exits_2_with_clear_lines(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(
        {"executor": "slurm", "default-resources": {"mem_mb": 100000}}), encoding="utf-8")
    bad = subprocess.run([sys.executable, __file__, str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.startswith("gep: error: ") and "default-resources mem_mb=100000" in bad.stderr
    ok = subprocess.run([sys.executable, __file__, str(PROFILES / "slurm")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def _demo_config(tmp_path: Path) -> Path:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    text = yaml.safe_dump({**cfg, "output_dir": str(tmp_path / "results")}, allow_unicode=True)
    path = tmp_path / "config.yaml"
    path.write_text(text.replace("resources/demo", str(tmp_path / "data")), encoding="utf-8")
    return path


def _dry_run(tmp_path: Path, profile: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    res = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"),
                          "--configfile", str(_demo_config(tmp_path)), "--profile", str(PROFILES / profile),
                          "--dry-run", "--printshellcmds"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return res.stdout + res.stderr


def _jobs(out: str) -> list[tuple[str, dict]]:
    """(rule, resources) of every job a dry run lists."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out):
        m = re.match(r"(?:local)?rule (\w+):", block)
        r = re.search(r"^\s*resources: (.+)$", block, re.M)
        if m and r:
            jobs.append((m[1], dict(kv.split("=", 1) for kv in r[1].split(", "))))
    return jobs


def test_local_dry_run(tmp_path):
    out = _dry_run(tmp_path, "local")
    assert "This was a dry-run" in out
    assert len(_jobs(out)) >= 20
    # years are independent jobs; GEP service rasters are computed and summed over every level's regions once
    # per year (and the LS factor once per run), not again for every region level
    count = Counter(rule for rule, _ in _jobs(out))
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    years, levels = len(cfg["years"]), len(cfg["regions"])
    assert (count["account"], count["gep_rasters"], count["gep_sums"], count["gep_ls"], count["gep_tables"]) == (
        years, years, years, 1, levels)
    # the input checks too: the run's own once, and each year's on its own
    assert (count["validate_inputs"], count["validate_year"]) == (1, years)


def test_slurm_dry_run_asks_what_the_rules_declare(tmp_path):
    if not _plugin():
        import pytest

        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install snakemake-executor-plugin-slurm)")
    out = _dry_run(tmp_path, "slurm")
    rules = declared_rules()
    partition = _resources(load_profile("slurm")["default-resources"])["slurm_partition"]
    jobs = _jobs(out)
    assert len(jobs) >= 20
    for rule, res in jobs:
        assert res["slurm_partition"] == str(partition), (rule, res)
        if rules[rule]["action"]:
            assert int(res["mem_mb"]) == rules[rule]["mem_mb"], (rule, res)
            assert int(res["runtime"]) == rules[rule]["runtime"], (rule, res)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a Snakemake profile against the rules' declared resources")
    parser.add_argument("profile", help="profile folder or its config.yaml, e.g. profiles/slurm")
    parser.add_argument("--node-mem-mb", type=int, help="largest node memory of the partition (MB)")
    parser.add_argument("--node-cpus", type=int, help="largest node CPU count of the partition")
    args = parser.parse_args(argv)
    try:
        profile = load_profile(args.profile)
    except (OSError, yaml.YAMLError) as err:
        print(f"gep: error: {args.profile}: cannot read the profile ({err})", file=sys.stderr)
        return 2
    problems = profile_problems(profile, declared_rules(), args.profile, args.node_mem_mb, args.node_cpus)
    for line in problems:
        print(f"gep: error: {line}", file=sys.stderr)
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
