#!/usr/bin/env bash
# Pretrains the study's encoders (METHOD.md §2): mae, mae+pix, mae+patch, mae+comp and full, all at
# the same budget, ViT-Tiny 112/16 on the unlabelled faces, seed 0. Deterministic for a given thread
# count; a killed run resumes. Checkpoints go to <runs dir> (default ../runs/pretrain), and the
# small records (summary, config, loss curves, last preview) to results/pretrain/<variant>/.
#
#   scripts/pretrain-study.sh [cache dir, default ../cache] [runs dir] [epochs, default 2]
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${1:-../cache}
runs=${2:-../runs/pretrain}
epochs=${3:-2}
for variant in mae mae+pix mae+patch mae+comp full; do
  out="$runs/$variant"
  echo "== $variant -> $out"
  node dist/src/cli/main.js pretrain --data "$cache/unlabeled_faces" --variant "$variant" --arch vit-tiny \
    --epochs "$epochs" --batch 32 --lr 5e-4 --seed 0 --out "$out"
  record="results/pretrain/$variant"
  mkdir -p "$record"
  cp "$out/summary.json" "$out/run.json" "$out/loss.png" "$record/"
  cp "$(ls "$out"/previews/*.png | tail -n 1)" "$record/preview-last-epoch.png"
done
