#!/usr/bin/env bash
# The pilot that chose the peak lr of recipes/pretrain-pool-*.json: `full` on the pretraining pool
# for a short budget (default 300 steps of 64, the recipe's schedule compressed into it) at each
# candidate lr. Records go to results/pretrain-pool/pilot/lr-<lr>/ (summary, loss curves, log).
#
#   [DATASETS="..."] scripts/pretrain-pilot.sh [cache dir, default ../cache] [runs dir, default ../runs/pretrain-pilot] [steps] [lrs]
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${1:-../cache}
runs=${2:-../runs/pretrain-pilot}
steps=${3:-300}
lrs=${4:-"3e-4 1e-3 3e-3"}
datasets=${DATASETS:-"unlabeled_faces fer2013 fer2013_extra utkface utkface_extra celebahq_attr ckplus_au"}
data=$(for d in $datasets; do printf '%s/%s,' "$cache" "$d"; done); data=${data%,}
for lr in $lrs; do
  out="$runs/lr-$lr"
  echo "== lr $lr -> $out"
  node dist/src/cli/main.js pretrain --config recipes/pretrain-pool-full.json --data "$data" --out "$out" \
    --engine onnx --steps "$steps" --lr "$lr"
  record="results/pretrain-pool/pilot/lr-$lr"
  mkdir -p "$record"
  cp "$out/summary.json" "$out/config.json" "$out/run.json" "$out/loss.png" "$out/log.jsonl" "$record/"
done
