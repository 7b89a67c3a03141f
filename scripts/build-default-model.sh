#!/usr/bin/env bash
# Builds the bundled default model (models/faceprior-default.safetensors): the multi-task fine-tune
# of scripts/finetune-multitask.sh (one encoder, four heads; the checkpoint its validation faces
# chose) on the pool-pretrained `full` encoder of scripts/pretrain-pool.sh, encoder in fp16, its
# expression and age heads balanced on the validation faces (the recipe's logitAdjustment). Runs
# that script once more on the finished run folder: it trains nothing, balances the heads,
# evaluates the chosen checkpoint on the test splits again and writes the model with its description.
#
#   scripts/build-default-model.sh [multitask run dir, default ../runs/multitask-full] [cache dir, default ../cache] [encoder]
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-../runs/multitask-full}
cache=${2:-../cache}
encoder=${3:-../runs/pretrain-pool/full/encoder.safetensors}
[ -f "$run/metrics.json" ] || { echo "build-default-model: $run has no metrics.json; run scripts/finetune-multitask.sh to the end first" >&2; exit 1; }
scripts/finetune-multitask.sh "$encoder" "$run" "$cache" --description "faceprior default v2.1: ViT-Tiny 112/16 pretrained with \
MIM and the pixel, patch and component face priors on 56,849 faces (1,000,000 images seen), then fine-tuned end to end for CK+ \
AUs, FER2013 expression, UTKFace age and CelebA-HQ attributes at once; expression and age heads balanced on validation faces \
(logit adjustment). See MODEL_CARD.md."
cp "$run/model.safetensors" models/faceprior-default.safetensors
node dist/src/cli/main.js info models/faceprior-default.safetensors
