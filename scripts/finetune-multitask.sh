#!/usr/bin/env bash
# The multi-task fine-tune of the shipped model (RECIPE, default recipes/finetune-multitask.json):
# one encoder, four heads, on every labelled cache (FER2013 + its extra faces, UTKFace + its extra
# faces, CelebA-HQ, CK+ fold 0: each task's `caches` in the recipe), on onnxruntime. Run it again after any stop: it resumes from its
# last checkpoint in <run dir>. The records (metrics, log, selection, config) go to
# results/multitask/<name>/ (RECORDS=<dir> puts them elsewhere). With MILESTONES=1 that folder also
# keeps float16 milestones (the latest and the best checkpoint, written at every checkpoint), from
# which a run folder lost with its machine restarts warm.
#
#   scripts/finetune-multitask.sh <encoder> <run dir> [cache dir, default ../cache] [more multitask flags, e.g. --description text]
set -euo pipefail
cd "$(dirname "$0")/.."
encoder=$1
out=$2
cache=${3:-../cache}
record="${RECORDS:-results/multitask}/$(basename "$out")"
echo "== multitask $encoder -> $out"
mkdir -p "$record"
milestone=()
[ "${MILESTONES:-0}" = 1 ] && milestone=(--milestone "$record")
node dist/src/cli/main.js multitask --config "${RECIPE:-recipes/finetune-multitask.json}" --init "$encoder" --engine onnx "${milestone[@]}" \
  --cache-dir "$cache" --out "$out" "${@:4}"
cp "$out/metrics.json" "$out/run/log.jsonl" "$out/run/run.json" "$record/"
[ -f "$out/run/selection.json" ] && cp "$out/run/selection.json" "$record/"
