#!/usr/bin/env bash
# The demo workflow through a real SLURM gives the same tables as a local run (`make test-slurm`).
#
# Starts a single-node SLURM on this host (scripts/slurm_localhost.sh; needs root the first time), runs the
# demo twice into a fresh temporary folder, first with --profile profiles/slurm (every job, the demo data
# generator included, goes through sbatch), then with --profile profiles/local on the same demo data (some
# tables name their input files, so both runs must read the same paths), each into its own output_dir; both
# run in the repository root, where the config's relative paths point. Then it compares every CSV under
# tables/ byte for byte and prints a one-line verdict.
#
# Environment:
#   GEP_PYTHON        Python with gep, snakemake and snakemake-executor-plugin-slurm
#                     (default: .venv/bin/python of the repository, else python3 on PATH)
#   GEP_SLURM_TIMEOUT seconds allowed for each run (default 1800)
#   GEP_PROFILES      folder with the local/ and slurm/ profiles to test (default: profiles/)
#   KEEP=1            keep the work folder when the test passes (it is always kept when it fails)
# Exit: 0 tables identical; 1 tables differ or a run failed; 2 set-up problem (not root, plugin missing,
# profile asking for more than the rules declare or the node has).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
TIMEOUT_S="${GEP_SLURM_TIMEOUT:-1800}"
PROFILE_DIR="${GEP_PROFILES:-$REPO/profiles}"   # holds local/ and slurm/

say() { printf 'test-slurm: %s\n' "$*"; }
fail2() { printf 'test-slurm: error: %s\n' "$1" >&2; exit 2; }

PY="${GEP_PYTHON:-}"
if [[ -z "$PY" ]]; then
    if [[ -x "$REPO/.venv/bin/python" ]]; then PY="$REPO/.venv/bin/python"; else PY="$(command -v python3 || true)"; fi
fi
[[ -n "$PY" && -x "$PY" ]] || fail2 "no Python found; set GEP_PYTHON to the Python that has gep installed"
[[ "$PY" == /* ]] || PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"
"$PY" -c 'import gep, snakemake' 2>/dev/null \
    || fail2 "$PY cannot import gep and snakemake; run 'make venv' or set GEP_PYTHON"
"$PY" -c 'import snakemake_executor_plugin_slurm' 2>/dev/null \
    || fail2 "$PY lacks the SLURM executor plugin; run: $PY -m pip install snakemake-executor-plugin-slurm"
# the jobs inherit this environment (sbatch --export=ALL): the venv's gep comes first on PATH
export PATH="$(dirname "$PY"):$PATH"

# --- SLURM on localhost ------------------------------------------------------------------------------
was_running=0
scontrol ping >/dev/null 2>&1 && was_running=1
rc=0
"$REPO/scripts/slurm_localhost.sh" start || rc=$?
(( rc == 0 )) || { (( rc == 2 )) && exit 2; say "FAIL: the localhost SLURM did not start"; exit 1; }
stop_slurm() { (( was_running )) || "$REPO/scripts/slurm_localhost.sh" stop >/dev/null 2>&1 || true; }
trap stop_slurm EXIT

PART="$("$PY" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["default-resources"]["slurm_partition"])' \
    "$PROFILE_DIR/slurm/config.yaml")"
NODES="$(sinfo -h -N -p "$PART" -o '%m %c' 2>/dev/null | tr -d '+' || true)"
[[ -n "$NODES" ]] || fail2 "partition '$PART' of profiles/slurm has no nodes on this cluster (sinfo -p $PART)"
NODE_MEM="$(awk 'BEGIN {m = 0} $1 > m {m = $1} END {print m}' <<<"$NODES")"
NODE_CPUS="$(awk 'BEGIN {m = 0} $2 > m {m = $2} END {print m}' <<<"$NODES")"
# the profile and the rules' declarations must fit this partition: clear lines and exit 2 otherwise
"$PY" tests/test_profiles.py "$PROFILE_DIR/slurm" --node-mem-mb "$NODE_MEM" --node-cpus "$NODE_CPUS" || exit 2

# --- two runs ----------------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gep-test-slurm.XXXXXX")"
for run in local slurm; do
    mkdir -p "$WORK/$run"
    "$PY" - "$REPO/config/config.yaml" "$WORK/$run" "$WORK/data" <<'EOF'
import sys
from pathlib import Path

import yaml

src, folder, data = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
cfg = yaml.safe_load(src.read_text(encoding="utf-8"))
cfg["output_dir"] = str(folder / "results")
text = yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False).replace("resources/demo", data)
(folder / "config.yaml").write_text(text, encoding="utf-8")
EOF
done

SMK=("$PY" -m snakemake --snakefile "$REPO/workflow/Snakefile")
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }

run_demo() {  # run_demo NAME EXTRA_ARGS...: runs into $WORK/NAME, log $WORK/NAME.log
    local name="$1"; shift
    local t0 t1
    say "running the demo with --profile profiles/$name (log $WORK/$name.log)"
    t0="$(now)"
    if ! timeout "$TIMEOUT_S" "${SMK[@]}" --configfile "$WORK/$name/config.yaml" \
        --profile "$PROFILE_DIR/$name" "$@" >"$WORK/$name.log" 2>&1; then
        tail -n 40 "$WORK/$name.log" >&2
        say "FAIL: the $name run failed (work folder kept: $WORK)"
        exit 1
    fi
    t1="$(now)"
    eval "WALL_$name=$(secs "$t0" "$t1")"
}

# profiles/slurm as a cluster user would use it, plus what this accounting-free localhost SLURM needs:
# job states from squeue (sacct needs slurmdbd) and a short first status check for the small demo jobs
run_demo slurm --slurm-status-command squeue --slurm-init-seconds-before-status-checks 5 \
    --slurm-keep-successful-logs --slurm-logdir "$WORK/slurm_logs"
run_demo local

SUBMITTED="$(grep -c 'has been submitted with SLURM jobid' "$WORK/slurm.log" || true)"
FINISHED="$(grep -c '^Finished jobid' "$WORK/slurm.log" || true)"
LOCAL_ONLY="$(grep -c '^Finished jobid: .* (Rule: all)' "$WORK/slurm.log" || true)"
if (( SUBMITTED == 0 || SUBMITTED != FINISHED - LOCAL_ONLY )); then
    say "FAIL: $SUBMITTED SLURM submissions for $FINISHED finished jobs ($LOCAL_ONLY local) (work folder kept: $WORK)"
    exit 1
fi

# --- compare -----------------------------------------------------------------------------------------
A="$WORK/local/results/tables"
B="$WORK/slurm/results/tables"
(cd "$A" && find . -name '*.csv' | sort) >"$WORK/local.csvs"
(cd "$B" && find . -name '*.csv' | sort) >"$WORK/slurm.csvs"
N="$(wc -l <"$WORK/local.csvs")"
if (( N == 0 )); then
    say "FAIL: the local run wrote no CSV under $A (work folder kept: $WORK)"
    exit 1
fi
if ! cmp -s "$WORK/local.csvs" "$WORK/slurm.csvs"; then
    diff "$WORK/local.csvs" "$WORK/slurm.csvs" >&2 || true
    say "FAIL: the two runs wrote different sets of tables (work folder kept: $WORK)"
    exit 1
fi
DIFFER=()
while read -r f; do
    cmp -s "$A/$f" "$B/$f" || DIFFER+=("${f#./}")
done <"$WORK/local.csvs"

if (( ${#DIFFER[@]} )); then
    say "FAIL: ${#DIFFER[@]} of $N tables differ between local and SLURM: ${DIFFER[*]} (work folder kept: $WORK)"
    exit 1
fi
say "PASS: $N tables byte-identical; local ${WALL_local} s, SLURM ${WALL_slurm} s ($SUBMITTED sbatch jobs, partition $PART)"
if [[ "${KEEP:-0}" == 1 ]]; then say "work folder kept: $WORK"; else rm -rf "$WORK"; fi
