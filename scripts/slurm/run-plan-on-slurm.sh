#!/usr/bin/env bash
# Runs a tiny `ntt experiment --plan` end to end on a real, private, single-node Slurm.
#
#   scripts/slurm/run-plan-on-slurm.sh NTT_BINARY WORKDIR
#
# Starts munged, slurmctld and slurmd on this host, as root, entirely from a temporary folder
# (a generated munge key, its own socket, a generated slurm.conf on free ports, no cgroups, no
# systemd, no accounting); writes a tiny grid's plan into WORKDIR/grid with NTT_BINARY; runs
# plan/submit.sh; waits for every job to leave the queue; runs `ntt report`; and checks that every
# cell of the grid has a done.json and is in the report. Stops the daemons by pid on exit.
#
# Needs Debian's slurm-wlm and munge (.ci/run installs them). Exit status: 0 = the plan ran and
# the report covers every cell; 77 = Slurm cannot start here (the reason is on stderr); anything
# else = the plan failed on Slurm (the summary, job states and logs are printed).
# Environment: NTT_SLURM_TIMEOUT (seconds to wait for the jobs, default 300),
# NTT_SLURM_KEEP=1 (keep the Slurm folder with its logs).
set -uo pipefail

if [ $# -ne 2 ]; then echo "usage: $0 NTT_BINARY WORKDIR" >&2; exit 2; fi
NTT_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
WORKDIR=$(mkdir -p "$2" && cd "$2" && pwd)
TIMEOUT=${NTT_SLURM_TIMEOUT:-300}
[ -x "$NTT_BIN" ] || { echo "not an executable: $NTT_BIN" >&2; exit 2; }

cannot_start() { echo "Slurm cannot start here: $*" >&2; exit 77; }
say() { echo "[slurm-plan] $*"; }

# ---- What a private Slurm needs ----------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || cannot_start "not root (slurmd and this private cluster's SlurmUser=root need root)"
for tool in munged munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
    command -v "$tool" >/dev/null 2>&1 || cannot_start "$tool not found (apt-get install slurm-wlm munge)"
done

# munged insists that every folder above its socket is searchable by all and that none is
# writable by others (unless sticky), so the folder is 0755; the key's folder is 0700. Unix socket
# paths are short (108 bytes), hence /tmp rather than WORKDIR.
SLURM_DIR=$(mktemp -d /tmp/ntt-slurm.XXXXXX) || cannot_start "cannot create a temporary folder in /tmp"
chmod 0755 "$SLURM_DIR"
MUNGE_PID="" CTLD_PID="" SLURMD_PID=""

stop_all() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$CTLD_PID" ] && kill -0 "$CTLD_PID" 2>/dev/null; then
        # Our cluster runs only our jobs: cancel what is left, so no job step outlives slurmd.
        scancel --full --quiet $(squeue -h -o %i 2>/dev/null) 2>/dev/null
        for _ in $(seq 1 20); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.5; done
    fi
    # slurmstepd (one per job step, forked by our slurmd) lingers a moment after its job, its
    # socket in our spool folder; its environment holds our SLURM_CONF. Let them finish, then end
    # what is left.
    local pid steps=""
    for _ in $(seq 1 40); do
        steps=$(our_stepds)
        [ -z "$steps" ] && [ -z "$(find "$SLURM_DIR/spool" -type s 2>/dev/null)" ] && break
        sleep 0.25
    done
    for pid in $SLURMD_PID $CTLD_PID $MUNGE_PID $steps; do kill -TERM "$pid" 2>/dev/null; done
    for pid in $SLURMD_PID $CTLD_PID $MUNGE_PID; do
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "${NTT_SLURM_KEEP:-0}" = 1 ]; then say "kept $SLURM_DIR"; else rm -rf "$SLURM_DIR"; fi
    exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

our_stepds() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = slurmstepd ] || continue
        { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$SLURM_DIR/slurm.conf" && echo "${p#/proc/}"
    done
}

log_tail() {  # the daemons' last words, for a reason on stderr
    local f
    for f in "$SLURM_DIR"/munge/munged.log "$SLURM_DIR"/log/slurmctld.log "$SLURM_DIR"/log/slurmd.log; do
        [ -s "$f" ] && { echo "--- $f"; grep -iE 'error|fatal' "$f" | tail -n 5; }
    done
}

# A TCP port nobody listens on (looked up in /proc/net/tcp*, so no extra tools are needed).
free_port() {
    local port hex
    while :; do
        port=$(( 20000 + RANDOM % 30000 ))
        hex=$(printf ':%04X ' "$port")
        if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q "$hex"; then echo "$port"; return; fi
    done
}

# ---- munge ----------------------------------------------------------------------------------------
mkdir -m 0755 "$SLURM_DIR/munge"
mkdir -m 0700 "$SLURM_DIR/munge/key"
MUNGE_SOCKET=$SLURM_DIR/munge/munge.socket
dd if=/dev/urandom of="$SLURM_DIR/munge/key/munge.key" bs=1024 count=1 status=none
chmod 0400 "$SLURM_DIR/munge/key/munge.key"
munged --foreground --key-file="$SLURM_DIR/munge/key/munge.key" --socket="$MUNGE_SOCKET" \
    --pid-file="$SLURM_DIR/munge/munged.pid" --log-file="$SLURM_DIR/munge/munged.log" \
    --seed-file="$SLURM_DIR/munge/munged.seed" >"$SLURM_DIR/munge/munged.out" 2>&1 &
MUNGE_PID=$!
for _ in $(seq 1 40); do [ -S "$MUNGE_SOCKET" ] && break; kill -0 "$MUNGE_PID" 2>/dev/null || break; sleep 0.25; done
if ! munge -n -S "$MUNGE_SOCKET" 2>/dev/null | unmunge -S "$MUNGE_SOCKET" >/dev/null 2>&1; then
    cannot_start "munged did not start: $(cat "$SLURM_DIR/munge/munged.out" 2>/dev/null; log_tail)"
fi

# ---- slurm.conf -----------------------------------------------------------------------------------
HOST=$(hostname -s)
CPUS=$(nproc)
MEMORY_MB=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024 ))
# The plan's scripts ask for 2 CPUs and 4G per task. On a smaller machine the node claims that
# much (config_overrides keeps it from being drained for it): nothing here enforces either.
[ "$CPUS" -ge 2 ] || CPUS=2
[ "$MEMORY_MB" -ge 4096 ] || MEMORY_MB=4096
mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/log"
export SLURM_CONF=$SLURM_DIR/slurm.conf
cat >"$SLURM_CONF" <<EOF
# A private single-node cluster for scripts/slurm/run-plan-on-slurm.sh.
ClusterName=ntt-plan-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
# No cgroups, no systemd: track job processes through /proc, no task confinement.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
# Finished jobs stay visible to scontrol for 10 minutes (there is no accounting database).
MinJobAge=600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEMORY_MB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

# ---- slurmctld and slurmd -------------------------------------------------------------------------
slurmctld -D -f "$SLURM_CONF" >"$SLURM_DIR/log/slurmctld.out" 2>&1 &
CTLD_PID=$!
slurmd -D -N "$HOST" -f "$SLURM_CONF" >"$SLURM_DIR/log/slurmd.out" 2>&1 &
SLURMD_PID=$!
state=""
for _ in $(seq 1 120); do
    state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null)
    [ "$state" = idle ] && break
    kill -0 "$CTLD_PID" 2>/dev/null || cannot_start "slurmctld exited: $(tail -n 3 "$SLURM_DIR/log/slurmctld.out"; log_tail)"
    kill -0 "$SLURMD_PID" 2>/dev/null || cannot_start "slurmd exited: $(tail -n 3 "$SLURM_DIR/log/slurmd.out"; log_tail)"
    sleep 0.5
done
[ "$state" = idle ] || cannot_start "node $HOST is '${state:-unknown}', not idle, after 60 s: $(log_tail)"

# A trivial job must run, or Slurm does not work here (whatever the plan does).
smoke=$(sbatch --parsable --output="$SLURM_DIR/smoke.out" --wrap 'echo slurm-works' 2>&1) ||
    cannot_start "sbatch --wrap 'echo hi' was refused: $smoke"
for _ in $(seq 1 60); do [ -z "$(squeue -h -j "$smoke" 2>/dev/null)" ] && break; sleep 0.5; done
grep -q slurm-works "$SLURM_DIR/smoke.out" 2>/dev/null ||
    cannot_start "a trivial batch job did not run: $(scontrol show job "$smoke" 2>&1 | grep -oE 'JobState=[^ ]+|Reason=[^ ]+' | tr '\n' ' '; log_tail)"
say "Slurm $(sinfo -V | awk '{ print $2 }') is up: node $HOST idle, $CPUS CPUs; a trivial job ran"

# ---- The plan -------------------------------------------------------------------------------------
GRID=$WORKDIR/grid
rm -rf "$GRID"
"$NTT_BIN" experiment --out "$GRID" --datasets synthetic --models 'dense(16),relu,dense(10)' --densities 0.1 \
    --initializations ntt random dense --seeds 0 1 --transfer-iterations 4 --train-iterations 4 --evaluate-every 2 \
    --plan ||
    { echo "FAIL: ntt experiment --plan failed" >&2; exit 1; }
mapfile -t CELLS < <(grep -v '^#' "$GRID/plan/commands.txt" | sed -E "s/.* --cell '?([^' ]+)'?\$/\1/")
say "plan: ${#CELLS[@]} cells; running plan/submit.sh"

failure=""
JOBS=$(cd / && NTT="$NTT_BIN" "$GRID/plan/submit.sh" 2>&1) || failure="plan/submit.sh failed: $JOBS"
JOBS=$(echo "$JOBS" | grep -E '^[0-9]+$' | tr '\n' ' ')
say "submitted job arrays: $JOBS"

# Wait until no job is left in the queue; a job that can never start fails at once.
start=$SECONDS
while [ -z "$failure" ]; do
    queue=$(squeue -h -o '%i %T %r' 2>&1)
    [ -z "$queue" ] && break
    if echo "$queue" | grep -q DependencyNeverSatisfied; then
        failure="a job waits forever for a failed dependency (DependencyNeverSatisfied): $(echo "$queue" | tr '\n' ';')"
    elif [ $(( SECONDS - start )) -ge "$TIMEOUT" ]; then
        failure="jobs still queued after $TIMEOUT s: $(echo "$queue" | tr '\n' ';')"
    else
        sleep 1
    fi
done
say "queue empty after $(( SECONDS - start )) s"

echo "job states (one line per array task):"
# Every job the cluster knows but the trivial one (finished jobs stay for MinJobAge).
while read -r line; do
    echo "$line" | grep -oE '^JobId=[^ ]+|JobName=[^ ]+|JobState=[^ ]+|Reason=[^ ]+|Dependency=[^ ]+|ExitCode=[^ ]+' | paste -sd' ' | sed 's/^/  /'
    if ! echo "$line" | grep -q ' JobState=COMPLETED '; then
        [ -n "$failure" ] || failure="a job did not complete: $(echo "$line" | grep -oE '^JobId=[^ ]+|JobName=[^ ]+|JobState=[^ ]+' | paste -sd' ')"
    fi
done < <(scontrol -o show job 2>/dev/null | grep -v "^JobId=$smoke ")

# ---- The report covers every cell -----------------------------------------------------------------
report=$("$NTT_BIN" report "$GRID" 2>&1) || { [ -n "$failure" ] || failure="ntt report failed: $report"; }
missing=0
for cell in "${CELLS[@]}"; do
    done_json=$GRID/cells/$cell/done.json
    name=$(basename "$cell")
    in_report=no
    case $name in
        transfer-*)
            # results.json lists the transfers; the csv holds training runs only.
            grep -q '"kind" : "transfer"' "$GRID/results.json" 2>/dev/null && in_report=yes ;;
        train-dense-s*)
            # the dense cell of a seed is the row ...,dense,1.0,<seed>,...
            row=$(echo "$name" | sed -E 's/^train-dense-s([0-9]+)$/,dense,1.0,\1,/')
            grep -qF -- "$row" "$GRID/results.csv" 2>/dev/null && in_report=yes ;;
        train-*)
            # train-<initialisation>-d<density>-s<seed> is a row: ...,<initialisation>,<density>,<seed>,...
            row=$(echo "$name" | sed -E 's/^train-(.+)-d([0-9.e-]+)-s([0-9]+)$/,\1,\2,\3,/')
            grep -qF -- "$row" "$GRID/results.csv" 2>/dev/null && in_report=yes ;;
    esac
    if [ -f "$done_json" ] && [ $in_report = yes ]; then
        echo "  ok       $cell"
    else
        echo "  MISSING  $cell (done.json: $([ -f "$done_json" ] && echo yes || echo no), in report: $in_report)"
        missing=$(( missing + 1 ))
    fi
done
transfers=$(printf '%s\n' "${CELLS[@]}" | grep -c '/transfer-')
reported_transfers=$(grep -c '"kind" : "transfer"' "$GRID/results.json" 2>/dev/null)
if [ "${reported_transfers:-0}" -ne "$transfers" ]; then
    missing=$(( missing + 1 ))
    echo "  MISSING  transfers: results.json lists ${reported_transfers:-0} of $transfers"
fi
[ "$missing" -eq 0 ] || [ -n "$failure" ] || failure="$missing cell(s) missing from done.json files or the report"

if [ -n "$failure" ]; then
    echo "--- Slurm task logs ($GRID/logs):"
    for f in "$GRID"/logs/slurm-*.log; do [ -f "$f" ] && { echo "- $f"; tail -n 5 "$f"; }; done
    echo "--- slurmd.log:"
    grep -E 'error|Launching' "$SLURM_DIR/log/slurmd.log" | tail -n 12
    echo "FAIL: $failure"
    exit 1
fi
echo "$report" | sed 's/^/  /'
say "PASS: ${#CELLS[@]} cells ran as Slurm job arrays ($JOBS) and ntt report covers every one"
