#!/usr/bin/env bash
# A real single-node Slurm for `iopfsim sweep --backend slurm`: starts munged, slurmctld and
# slurmd (Debian's slurm-wlm and munge, installed when missing) as root on loopback with a
# generated munge key and slurm.conf in a temporary directory, waits until the node is idle,
# runs tests/data/sweep-small.json through the Slurm backend (waiting, then again with
# --no-wait and --merge) and locally, and checks that points.csv, summary.csv and failed.csv
# are the same bytes. Always stops what it started and removes the temporary directory.
#
#   scripts/slurm-test.sh [BUILD_DIR [SWEEP.json]]   # defaults: build, tests/data/sweep-small.json
#
# Exit status 0 when the files match (a sweep whose runs fail on purpose, such as
# scenarios/sweeps/overcommit.json, is accepted when all three backends fail the same runs).
#
# Every wait is bounded (WAIT_S seconds, chosen). Needs root (daemons, apt-get).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bin=$build/iopfsim
sweep=$(realpath "${2:-$root/tests/data/sweep-small.json}")
WAIT_S=${WAIT_S:-60}
[ -x "$bin" ] || { echo "slurm-test: no $bin (build first)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "slurm-test: needs root (starts slurmctld, slurmd and munged)" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null ||
   ! command -v sbatch >/dev/null; then
  echo "slurm-test: installing slurm-wlm and munge" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

tmp=$(mktemp -d /tmp/iopfsim-slurm.XXXXXX)
pids=()
cleanup() {
  local rc=$?
  if [ -n "${SLURM_CONF:-}" ] && [ -n "${pids[*]}" ]; then
    scancel --quiet --full "--name=iopfsim-small" 2>/dev/null || true
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ $rc -ne 0 ]; then
    for f in slurmctld.log slurmd.log munged.log; do
      [ -f "$tmp/$f" ] && { echo "--- $f (last lines)" >&2; tail -n 20 "$tmp/$f" >&2; }
    done
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until "$@" succeeds, at most WAIT_S seconds.
wait_for() {
  local what=$1; shift
  for _ in $(seq $((WAIT_S * 5))); do "$@" && return 0; sleep 0.2; done
  echo "slurm-test: timed out after ${WAIT_S} s waiting for $what" >&2
  return 1
}
free_port() {
  local p
  for _ in $(seq 100); do
    p=$(shuf -i 20000-29999 -n 1)
    ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
  echo "slurm-test: no free port" >&2; return 1
}

start=$(date +%s.%N)
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/munge"
chmod 755 "$tmp" "$tmp/munge"  # munged wants its socket reachable by all
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munged -F -f --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/munge.socket" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munge/munged.seed" \
  >"$tmp/munged.out" 2>&1 &
pids+=($!)
wait_for "munged's socket" test -S "$tmp/munge/munge.socket"

cpus=$(nproc)
mem_mib=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))  # 90 %: chosen margin
ctld_port=$(free_port)
slurmd_port=$(free_port)
cat >"$tmp/slurm.conf" <<EOF
ClusterName=iopfsimtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=60
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mib State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 &
pids+=($!)
ctld_up() { scontrol ping 2>/dev/null | grep -q "is UP"; }
wait_for "slurmctld (scontrol ping)" ctld_up
slurmd -D -N localhost -f "$SLURM_CONF" >"$tmp/slurmd.out" 2>&1 &
pids+=($!)
node_idle() { [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = idle ]; }
wait_for "the node to be idle (sinfo)" node_idle
up=$(date +%s.%N)

cd "$tmp"
# Exit status 1 (some runs failed) is compared below, not taken as the test's failure.
sweep_rc() { local rc=0; timeout $((WAIT_S * 3)) "$bin" sweep "$sweep" "$@" || rc=$?; [ $rc -le 1 ] || exit $rc; echo $rc; }
rc_slurm=$(sweep_rc --out slurm --backend slurm --partition test --time-limit 5:00 --throttle 2 --runs-per-task 3)
timeout $((WAIT_S * 3)) "$bin" sweep "$sweep" --out deferred --backend slurm --runs-per-task 4 --no-wait
job=$(sed -n 's/.*"job": *"\([0-9]*\)".*/\1/p' deferred/slurm/plan.json)
job_gone() { [ -z "$(squeue -h -j "$job" -o %i 2>/dev/null)" ]; }
wait_for "Slurm job $job" job_gone
rc_merge=0
timeout $WAIT_S "$bin" sweep --merge deferred || rc_merge=$?
rc_local=$(sweep_rc --out local -j 2)
[ "$rc_slurm" = "$rc_local" ] && [ "$rc_merge" = "$rc_local" ] ||
  { echo "slurm-test: exit statuses differ: slurm $rc_slurm, merge $rc_merge, local $rc_local" >&2; exit 1; }
[ -n "${2:-}" ] || [ "$rc_local" = 0 ] || { echo "slurm-test: the small sweep failed (exit status $rc_local)" >&2; exit 1; }
for f in points.csv summary.csv failed.csv; do
  cmp "local/$f" "slurm/$f"
  cmp "local/$f" "deferred/$f"
done
grep -q '^#SBATCH --array=0-[0-9]*%2$' slurm/slurm/sweep.sbatch  # throttle 2
end=$(date +%s.%N)
printf 'slurm-test: ok: points.csv, summary.csv and failed.csv identical (Slurm, Slurm --no-wait + --merge, local); %.1f s (daemons up in %.1f s)\n' \
  "$(echo "$end - $start" | bc -l)" "$(echo "$up - $start" | bc -l)"
