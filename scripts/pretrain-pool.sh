#!/usr/bin/env bash
# The real-budget pretraining (recipes/pretrain-pool-<variant>.json): `full`, then `mae`, on the
# pretraining pool of every prepared cache, on onnxruntime. Run it again after any stop: a run
# resumes from its last checkpoint in <runs dir>, or, on a machine without one, warm-restarts from
# the float16 milestone committed under results/pretrain-pool/<variant>/ (written each epoch).
# The small records (log, loss curves, previews, pool and config) are copied to that folder
# (RECORDS=<dir> puts them elsewhere, e.g. the checkout to commit from when the run uses another).
#
#   scripts/pretrain-pool.sh [cache dir, default ../cache] [runs dir, default ../runs/pretrain-pool] [variants, default "full mae"]
#   scripts/pretrain-pool.sh --records [runs dir] [variants]     copy the records of runs in progress
set -euo pipefail
cd "$(dirname "$0")/.."
records_only=0
if [ "${1:-}" = "--records" ]; then records_only=1; shift; set -- ../cache "$@"; fi
cache=${1:-../cache}
runs=${2:-../runs/pretrain-pool}
variants=${3:-"full mae"}
datasets=${DATASETS:-"unlabeled_faces fer2013 fer2013_extra utkface utkface_extra celebahq_attr ckplus_au"}
data=$(for d in $datasets; do printf '%s/%s,' "$cache" "$d"; done); data=${data%,}

copy_records() { # run folder, record folder
  mkdir -p "$2/previews"
  for f in config.json run.json pool.json summary.json log.jsonl loss.png; do [ -f "$1/$f" ] && cp "$1/$f" "$2/"; done
  [ -d "$1/previews" ] && cp "$1"/previews/*.png "$2/previews/" 2>/dev/null || true
}

for variant in $variants; do
  out="$runs/$variant"
  record="${RECORDS:-results/pretrain-pool}/$variant"
  if [ "$records_only" = 0 ]; then
    echo "== $variant -> $out"
    warm=()
    [ -f "$record/milestone.safetensors" ] && warm=(--warm-start "$record/milestone.safetensors")
    node dist/src/cli/main.js pretrain --config "recipes/pretrain-pool-$variant.json" --data "$data" --out "$out" \
      --engine onnx --milestone "$record/milestone.safetensors" "${warm[@]}"
  fi
  copy_records "$out" "$record"
done
