#!/usr/bin/env bash
# Pretrains the study's encoders (METHOD.md §2): mae, mae+pix, mae+patch, mae+comp and full, all at
# the same budget (recipes/pretrain-study.json: ViT-Tiny 112/16 on the unlabelled faces, 2 epochs,
# seed 0). Deterministic for a given thread count; a killed run resumes. Checkpoints go to <runs dir>
# (default ../runs/pretrain), and the small records (summary, config, log, loss curves, last preview)
# to results/pretrain/<variant>/ (RECORDS=<dir> puts them elsewhere).
#
#   scripts/pretrain-study.sh [cache dir, default ../cache] [runs dir] [epochs, default the recipe's 2] [variants, default all five]
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${1:-../cache}
runs=${2:-../runs/pretrain}
epochs=(${3:+--epochs "$3"})
for variant in ${4:-mae mae+pix mae+patch mae+comp full}; do
  out="$runs/$variant"
  echo "== $variant -> $out"
  node dist/src/cli/main.js pretrain --config recipes/pretrain-study.json --data "$cache/unlabeled_faces" --variant "$variant" \
    "${epochs[@]}" --out "$out"
  record="${RECORDS:-results/pretrain}/$variant"
  mkdir -p "$record"
  cp "$out/summary.json" "$out/config.json" "$out/run.json" "$out/log.jsonl" "$out/loss.png" "$record/"
  cp "$(ls "$out"/previews/*.png | tail -n 1)" "$record/preview-last-epoch.png"
done
