#!/usr/bin/env bash
# Linear probe with all of each dataset's training labels, on one encoder, for the four tasks (the
# study's full-probe cell: 100 epochs, batch 512, lr 0.02, mean-pooled tokens, 3 seeds; CK+ over
# its subject folds). Issue #11's targets for the pool-trained encoders. A finished task is skipped.
#
#   scripts/probe-all-labels.sh <encoder> <runs dir> [cache dir, default ../cache] [record dir]
set -euo pipefail
cd "$(dirname "$0")/.."
encoder=$1
runs=$2
cache=${3:-../cache}
record=${4:-}
for pair in expression:fer2013 age:utkface attributes:celebahq_attr au:ckplus_au; do
  task=${pair%%:*}
  data=${pair#*:}
  if [ ! -f "$runs/$task/metrics.json" ]; then
    node dist/src/cli/main.js finetune --mode probe --task "$task" --data "$cache/$data" --init "$encoder" --protocol full \
      --epochs 100 --batch 512 --lr 0.02 --seeds 3 --pool avg --engine onnx --features-dir "$runs/features" --out "$runs/$task"
  fi
  if [ -n "$record" ]; then mkdir -p "$record/$task" && cp "$runs/$task/metrics.json" "$record/$task/"; fi
done
