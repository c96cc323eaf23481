#!/usr/bin/env bash
# A single-node SLURM cluster on this host (Debian's slurm-wlm and munge), for testing the Snakemake SLURM
# profile (profiles/slurm) without a real cluster. Needs root; no systemd, no cgroups.
#
#   scripts/slurm_localhost.sh [start]   install if missing, write /etc/slurm/slurm.conf, start munged,
#                                        slurmctld and slurmd, wait until the node is idle (idempotent)
#   scripts/slurm_localhost.sh check     start, then `srun hostname` and an `sbatch --wrap` job
#   scripts/slurm_localhost.sh status    sinfo and the daemons' pids
#   scripts/slurm_localhost.sh stop      stop slurmd, slurmctld and munged (started by this script)
#
# Daemon logs: $SLURM_LOCAL_LOGDIR (default /tmp/slurm-localhost). Environment knobs:
#   SLURM_LOCAL_MEM_MARGIN_MB  memory kept back from SLURM (default: 5% of RAM, at least 256 MB)
#   SLURM_LOCAL_WAIT_S         how long to wait for the node to become idle (default 60)
set -euo pipefail

ACTION="${1:-start}"
LOGDIR="${SLURM_LOCAL_LOGDIR:-/tmp/slurm-localhost}"
WAIT_S="${SLURM_LOCAL_WAIT_S:-60}"
CONF=/etc/slurm/slurm.conf
RUNDIR=/run/slurm
SPOOL=/var/spool/slurm
MUNGE_PID=/run/munge/munged.pid
HOST="$(hostname -s)"

say() { printf 'slurm_localhost: %s\n' "$*"; }
die() { printf 'slurm_localhost: error: %s\n' "$1" >&2; exit "${2:-1}"; }

need_root() {
    if [[ "$(id -u)" -ne 0 ]]; then
        die "must run as root (it installs slurm-wlm and munge with apt-get, writes $CONF and starts the \
daemons); run: sudo $0 $ACTION" 2
    fi
}

alive() {  # alive PIDFILE: the pid in the file names a running process
    [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sinfo >/dev/null \
        && command -v munged >/dev/null; then
        return
    fi
    say "installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

setup_munge() {
    install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
    install -d -o munge -g munge -m 0755 /run/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        say "creating /etc/munge/munge.key"
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
        fi
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    if alive "$MUNGE_PID" && munge -n </dev/null | unmunge >/dev/null 2>&1; then
        return
    fi
    say "starting munged"
    rm -f "$MUNGE_PID" /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    runuser -u munge -- /usr/sbin/munged --pid-file="$MUNGE_PID" --log-file=/var/log/munge/munged.log
    for _ in $(seq 20); do
        munge -n </dev/null | unmunge >/dev/null 2>&1 && return
        sleep 0.5
    done
    die "munged does not answer; see /var/log/munge/munged.log"
}

write_conf() {  # writes $CONF only when its content changes; returns 0 when it changed
    local cpus mem_total margin mem user tmp
    cpus="$(nproc)"
    mem_total="$(free -m | awk '/^Mem:/ {print $2}')"
    margin="${SLURM_LOCAL_MEM_MARGIN_MB:-$(( mem_total / 20 > 256 ? mem_total / 20 : 256 ))}"
    mem=$(( mem_total - margin ))
    (( mem > 0 )) || die "RealMemory would be $mem MB (RAM $mem_total MB, margin $margin MB)"
    user=root
    id slurm >/dev/null 2>&1 && user=slurm
    install -d -m 0755 /etc/slurm "$RUNDIR" "$SPOOL" "$SPOOL/d"
    install -d -o "$user" -m 0755 "$SPOOL/ctld"
    install -d -o "$user" -m 0755 "$LOGDIR"
    chown "$user" "$RUNDIR"
    tmp="$(mktemp)"
    cat >"$tmp" <<EOF
# Written by gep scripts/slurm_localhost.sh: one node (this host), one partition, no cgroups, no accounting.
ClusterName=localhost
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=${user}
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
# completed jobs stay visible to squeue this long (the Snakemake executor polls job states with squeue)
MinJobAge=600
InactiveLimit=0
KillWait=30
Waittime=0
SlurmctldPidFile=${RUNDIR}/slurmctld.pid
SlurmdPidFile=${RUNDIR}/slurmd.pid
SlurmdSpoolDir=${SPOOL}/d
StateSaveLocation=${SPOOL}/ctld
SlurmctldLogFile=${LOGDIR}/slurmctld.log
SlurmdLogFile=${LOGDIR}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
EOF
    if [[ -f "$CONF" ]] && cmp -s "$tmp" "$CONF"; then
        rm -f "$tmp"
        return 1
    fi
    install -m 0644 "$tmp" "$CONF"
    rm -f "$tmp"
    say "wrote $CONF (node $HOST: CPUs=$cpus RealMemory=$mem MB)"
    return 0
}

stop_daemon() {  # stop_daemon NAME PIDFILE
    local pid
    alive "$2" || { rm -f "$2"; return 0; }
    pid="$(cat "$2")"
    say "stopping $1 (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$2"; return 0; }
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$2"
}

node_state() {
    sinfo -h -n "$HOST" -o '%t' 2>/dev/null | head -n1 | tr -d '*~#!%$@^-'
}

start() {
    if [[ "$(id -u)" -ne 0 ]] && command -v sinfo >/dev/null; then  # started before by root: use it
        case "$(node_state || true)" in
            idle|mix|alloc|comp) say "node $HOST is $(node_state); partition debug ready"; return 0 ;;
        esac
    fi
    need_root
    install_packages
    setup_munge
    if write_conf; then  # a changed config needs fresh daemons
        stop_daemon slurmd "$RUNDIR/slurmd.pid"
        stop_daemon slurmctld "$RUNDIR/slurmctld.pid"
    fi
    if ! alive "$RUNDIR/slurmctld.pid"; then
        say "starting slurmctld (log $LOGDIR/slurmctld.log)"
        slurmctld -i
    fi
    if ! alive "$RUNDIR/slurmd.pid"; then
        say "starting slurmd (log $LOGDIR/slurmd.log)"
        slurmd
    fi
    local state="" t=0
    while (( t < WAIT_S * 2 )); do
        state="$(node_state || true)"
        case "$state" in
            idle|mix|alloc|comp) say "node $HOST is $state; partition debug ready"; return 0 ;;
            drain|drng|down|fail) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
        esac
        sleep 0.5
        t=$(( t + 1 ))
    done
    {
        echo "slurm_localhost: error: node $HOST not idle after ${WAIT_S}s (state: '${state:-no answer}')"
        sinfo -N -l 2>&1 || true
        scontrol show node "$HOST" 2>&1 | grep -i -E 'state|reason' || true
        echo "--- $LOGDIR/slurmctld.log"; tail -n 15 "$LOGDIR/slurmctld.log" 2>/dev/null || true
        echo "--- $LOGDIR/slurmd.log"; tail -n 15 "$LOGDIR/slurmd.log" 2>/dev/null || true
    } >&2
    exit 1
}

stop() {
    need_root
    stop_daemon slurmd "$RUNDIR/slurmd.pid"
    stop_daemon slurmctld "$RUNDIR/slurmctld.pid"
    stop_daemon munged "$MUNGE_PID"
}

check() {
    start
    local out id state
    out="$(timeout 60 srun -N1 -n1 -t 1 hostname)" || die "srun hostname failed"
    say "srun hostname -> $out"
    id="$(sbatch --parsable -t 1 -o "$LOGDIR/sbatch_check_%j.out" --wrap 'echo sbatch-ok; nproc')" \
        || die "sbatch --wrap failed"
    for _ in $(seq 120); do
        state="$(squeue -h -j "$id" --states=all -o '%T' 2>/dev/null || true)"
        [[ "$state" == COMPLETED ]] && break
        case "$state" in FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) die "sbatch job $id: $state";; esac
        sleep 0.5
    done
    [[ "$state" == COMPLETED ]] || die "sbatch job $id not completed after 60 s (state: ${state:-unknown})"
    say "sbatch --wrap job $id COMPLETED: $(tr '\n' ' ' <"$LOGDIR/sbatch_check_${id}.out")"
}

status() {
    for p in "$MUNGE_PID" "$RUNDIR/slurmctld.pid" "$RUNDIR/slurmd.pid"; do
        if alive "$p"; then echo "$(basename "$p" .pid): running (pid $(cat "$p"))"; else echo "$(basename "$p" .pid): stopped"; fi
    done
    command -v sinfo >/dev/null && sinfo 2>&1 || true
}

case "$ACTION" in
    start) start ;;
    stop) stop ;;
    check) check ;;
    status) status ;;
    *) die "unknown action '$ACTION'; use start, check, status or stop" 2 ;;
esac
