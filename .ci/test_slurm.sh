#!/usr/bin/env bash
# `make test-slurm`: the smoke workflow's mfeat part through profiles/slurm on a one-node SLURM
# cluster on 127.0.0.1, compared with a local run of the same targets.
#
# Needs root and apt-get (as on CI): installs Debian's slurm-wlm and munge when missing, starts
# munged (if none runs), slurmctld and slurmd with a slurm.conf in a scratch directory,
# and stops only the daemons it started. Where it cannot run it fails with the
# reason; it never passes silently.
#
# Which part: config/smoke.yaml with search and DMF on mfeat only (every rule but AV-MNIST's and
# MNIST halves' data preparation runs: prepare_data, train_backbone, extract_features,
# search_level, summarize_search, search_random, the DMF models and evaluations, every table).
# The AV-MNIST speech synthesis alone takes minutes on 2 cores and adds no SLURM code path.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
SNAKEMAKE="$VENV/bin/snakemake"
PYTHON="$VENV/bin/python"
TARGETS=(results/tables/unimodal.md results/tables/search.md results/tables/dmf_svm.md
  results/tables/dmf_retrieval.md)

fail() { echo "test-slurm: FAILED: $*" >&2; exit 1; }
say() { echo "test-slurm: $*" >&2; }

[ "$(id -u)" = 0 ] || fail "needs root (installs slurm-wlm and munge, starts slurmctld and slurmd as root); run it on CI or in a container"
[ -x "$SNAKEMAKE" ] || fail "no $SNAKEMAKE: run make install first"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || fail "slurm-wlm/munge missing and no apt-get to install them (Debian/Ubuntu only)"
  say "installing slurm-wlm and munge (apt-get)"
  apt-get update -qq || fail "apt-get update failed (no network?)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null \
    || fail "apt-get install slurm-wlm munge failed"
fi
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
  fail "a slurmctld or slurmd already runs on this machine; this test starts its own one-node cluster"
fi
# Jobs' own srun calls read the default config path (the plugin's job step drops SLURM_*
# variables, SLURM_CONF included), so the config goes to /etc/slurm/slurm.conf for the run.
ETC_CONF=/etc/slurm/slurm.conf
[ -e "$ETC_CONF" ] && fail "$ETC_CONF exists: this machine has its own SLURM setup; not touching it"

WORK="$(mktemp -d /tmp/mfas-slurm.XXXXXX)"
STARTED=()  # pid files of the daemons this script started
cleanup() {
  local pidfile pid
  [ -n "${ETC_CONF_OURS:-}" ] && rm -f "$ETC_CONF"
  for pidfile in "${STARTED[@]}"; do
    if [ -s "$pidfile" ]; then
      pid="$(cat "$pidfile")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
  say "stopped the daemons it started, removed $ETC_CONF; scratch directory $WORK kept for inspection"
}
trap cleanup EXIT

# munge: reuse a running munged, else start one (root; --force: the key and socket folders of a container belong to root).
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
      || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
  munged --force --pid-file="$WORK/munged.pid" || fail "munged did not start"
  STARTED+=("$WORK/munged.pid")
  munge -n </dev/null | unmunge >/dev/null || fail "munge credentials do not verify"
fi

HOST="$(hostname -s)"
NCPU="$(nproc)"
MEM_MB="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
mkdir -p "$WORK/state" "$WORK/spool"
SLURM_CONF="$WORK/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=mfasci
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
mkdir -p /etc/slurm && cp "$SLURM_CONF" "$ETC_CONF" && ETC_CONF_OURS=1

slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start (see $WORK/slurmctld.log)"
for _ in $(seq 50); do [ -s "$WORK/slurmctld.pid" ] && break; sleep 0.1; done
STARTED+=("$WORK/slurmctld.pid")
slurmd -f "$SLURM_CONF" || fail "slurmd did not start (see $WORK/slurmd.log)"
for _ in $(seq 50); do [ -s "$WORK/slurmd.pid" ] && break; sleep 0.1; done
STARTED+=("$WORK/slurmd.pid")
for i in $(seq 60); do
  state="$(sinfo -h -N -o %t 2>/dev/null | head -1)"
  [ "$state" = idle ] && break
  [ "$i" = 60 ] && fail "node not idle after 60 s (state '$state'; see $WORK/slurmctld.log)"
  sleep 1
done
say "one-node cluster up: $HOST, $NCPU CPUs, ${MEM_MB} MB ($ETC_CONF, removed at the end)"

# Two fresh copies of the workflow: one for SLURM, one for the local reference run.
cat >"$WORK/mfeat_only.yaml" <<EOF
search:
  datasets: [mfeat]
dmf:
  datasets: [mfeat]
EOF
for dir in slurm local; do
  mkdir -p "$WORK/$dir"
  cp -r "$REPO"/{Snakefile,rules,workflow_scripts,config,profiles,report} "$WORK/$dir/"
done
export PYTHONPATH="$REPO" HDF5_USE_FILE_LOCKING=FALSE
CONFIG=(--configfile config/smoke.yaml "$WORK/mfeat_only.yaml")

say "SLURM run: snakemake --profile profiles/slurm ${CONFIG[*]} -- ${TARGETS[*]}"
start=$(date +%s)
(cd "$WORK/slurm" && timeout --kill-after=30 "${SLURM_RUN_TIMEOUT:-3600}" "$SNAKEMAKE" --profile profiles/slurm "${CONFIG[@]}" -- "${TARGETS[@]}") \
  >"$WORK/slurm.out" 2>&1 || { tail -40 "$WORK/slurm.out" >&2; fail "the SLURM run failed or ran past ${SLURM_RUN_TIMEOUT:-3600} s (log: $WORK/slurm.out)"; }
slurm_s=$(( $(date +%s) - start ))
say "SLURM run finished in $slurm_s s"

say "local run: snakemake --cores 2 ${CONFIG[*]} -- ${TARGETS[*]}"
start=$(date +%s)
(cd "$WORK/local" && "$SNAKEMAKE" --cores 2 "${CONFIG[@]}" -- "${TARGETS[@]}") \
  >"$WORK/local.out" 2>&1 || { tail -40 "$WORK/local.out" >&2; fail "the local run failed (log: $WORK/local.out)"; }
local_s=$(( $(date +%s) - start ))
say "local run finished in $local_s s"
say "SLURM-to-local wall ratio: $(awk -v a="$slurm_s" -v b="$local_s" 'BEGIN { printf "%.2f", a / b }') ($slurm_s s / $local_s s)"

"$PYTHON" "$REPO/.ci/compare_slurm_run.py" "$WORK/slurm" "$WORK/local" "${TARGETS[@]}" \
  || fail "SLURM run differs from the local run (see above)"
say "PASSED"
