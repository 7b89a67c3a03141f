#!/usr/bin/env bash
# Sharded `faceprior prepare` on Slurm: a job array of N tasks, one shard each, and a merge job
# that starts when every task has succeeded (docs/SCALE.md). Run it on a login node:
#
#   deploy/slurm-prepare.sh <dataset dir> <work dir> [shards] [cpus per task]
#
# It submits itself twice: as the array (each task runs `prepare --shard auto`, which reads
# SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT) and as the merge (sbatch --dependency=afterok).
# Shards go to <work dir>/shards/<name>-<i>, the merged cache to <work dir>/cache/<name>. Both
# folders must be on a filesystem every node mounts at the same path (Lustre, GPFS, NFS, CephFS).
# A failed task resumes where it stopped when resubmitted: sbatch --array=<i> with the same script.
#
# How faceprior is run: FACEPRIOR, e.g. "apptainer exec --bind /scratch faceprior.sif faceprior"
# for the image deploy/Dockerfile builds, or "node /opt/faceprior/dist/src/cli/main.js".
# Extra sbatch options (partition, account, time): SBATCH_EXTRA, e.g. "--partition=cpu --time=12:00:00".
#SBATCH --job-name=faceprior-prepare
#SBATCH --output=faceprior-%x-%A_%a.log
set -euo pipefail

FACEPRIOR=${FACEPRIOR:-faceprior}
read -ra RUNNER <<<"$FACEPRIOR" # the command may be several words (apptainer exec ...)

run_shard() {
  local data=$1 shards=$2
  # The array was submitted as 0..N-1, so the task id is the shard index merge expects.
  exec "${RUNNER[@]}" prepare --data "$data" --out "$shards-$SLURM_ARRAY_TASK_ID" --shard auto --workers "${SLURM_CPUS_PER_TASK:-1}"
}

run_merge() {
  local shards=$1 cache=$2
  # merge holds one file of each shard open at once: lift the soft open-file limit to the hard one.
  ulimit -n "$(ulimit -Hn)"
  exec "${RUNNER[@]}" merge "$shards"-* --out "$cache"
}

submit() {
  local data work count cpus name shards script array merge
  data=$(realpath "$1")
  work=$(realpath "$2")
  count=${3:-100}
  cpus=${4:-4}
  name=$(basename "$data")
  shards="$work/shards/$name"
  script=$(realpath "$0")
  mkdir -p "$work/shards" "$work/cache"
  export FACEPRIOR # the tasks run it as given here
  # SBATCH_EXTRA is split into words on purpose: it holds several sbatch options.
  # shellcheck disable=SC2086
  array=$(sbatch --parsable ${SBATCH_EXTRA:-} --array="0-$((count - 1))" --cpus-per-task="$cpus" --mem-per-cpu=1G \
    --export=ALL "$script" --shard "$data" "$shards")
  # shellcheck disable=SC2086
  merge=$(sbatch --parsable ${SBATCH_EXTRA:-} --job-name=faceprior-merge --dependency="afterok:${array%%;*}" --cpus-per-task=1 --mem=4G \
    --export=ALL "$script" --merge "$shards" "$work/cache/$name")
  echo "Submitted $count prepare shards as job ${array%%;*} and the merge as job ${merge%%;*}; it writes $work/cache/$name once every shard has succeeded."
}

case "${1:-}" in
  --shard) run_shard "$2" "$3" ;;
  --merge) run_merge "$2" "$3" ;;
  "" | -h | --help) sed -n '2,18p' "$0" ;;
  *) submit "$@" ;;
esac
