#!/usr/bin/env bash
# One fine-tuned encoder per task, the comparison for the multi-task model (issue #12): the same
# init, recipe (recipes/finetune-per-task.json = finetune-multitask.json's recipe), peak lr, layer
# decay and caches as scripts/finetune-multitask.sh, and about as many images of each task as the
# multi-task run's 6,000 steps gave it (expression 24/step = 144k, age and attributes 16/step =
# 96k, AUs 8/step = 48k), one seed. Resumes after any stop; records go to results/multitask/per-task/<task>/.
# A task in progress keeps float16 milestones in its records' milestones/ (committed, so that it
# restarts warm on a new machine); when it finishes, their weights are deleted and the logs kept.
#
#   scripts/finetune-per-task.sh <encoder> <runs dir> [cache dir, default ../cache] [tasks, default "expression age attributes au"]
set -euo pipefail
cd "$(dirname "$0")/.."
encoder=$1
runs=$2
cache=${3:-../cache}
tasks=${4:-expression age attributes au}
record="${RECORDS:-results/multitask}/per-task"
declare -A DATA=([expression]="$cache/fer2013,$cache/fer2013_extra" [age]="$cache/utkface,$cache/utkface_extra"
  [attributes]="$cache/celebahq_attr" [au]="$cache/ckplus_au")
# Epochs of each task's training faces (after its validation hold-out) that match the images above.
declare -A EPOCHS=([expression]=5 [age]=5 [attributes]=24 [au]=100)
for task in $tasks; do
  out="$runs/$task"
  # A finished task's records stay: its run folder may be gone with an earlier machine.
  if [ -f "$record/$task/metrics.json" ]; then echo "== per-task $task: done ($record/$task/metrics.json)"; continue; fi
  echo "== per-task $task -> $out"
  node dist/src/cli/main.js finetune --mode finetune --task "$task" --data "${DATA[$task]}" --init "$encoder" \
    --recipe recipes/finetune-per-task.json --epochs "${EPOCHS[$task]}" --batch 32 --lr 0.0005 --seeds 1 --engine onnx \
    --milestone "$record/$task/milestones" --out "$out"
  cp "$out/metrics.json" "$record/$task/"
  rm -f "$record/$task"/milestones/*/*.safetensors
done
