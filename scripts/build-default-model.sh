#!/usr/bin/env bash
# Builds the bundled default model (models/faceprior-default.safetensors), v3: model v2.1 (the file
# of commit a691b43: the pool-pretrained `full` encoder fine-tuned 6,000 steps for the four tasks)
# fine-tuned 4,000 steps more with recipes/finetune-multitask-v3.json, UTKFace's gender also teaching
# `Male`; the checkpoint its validation faces chose, encoder in fp16, expression and age heads
# balanced on the validation faces (logit adjustment). Runs scripts/finetune-multitask.sh once more
# on the finished run folder: it trains nothing, balances the heads, evaluates the chosen checkpoint
# on the test splits again and writes the model with its description.
#
#   scripts/build-default-model.sh [multitask run dir, default ../runs/multitask-v3] [cache dir, default ../cache]
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-../runs/multitask-v3}
cache=${2:-../cache}
v2="$(dirname "$run")/model-v2.1.safetensors"
[ -f "$run/metrics.json" ] || { echo "build-default-model: $run has no metrics.json; run step 2 of scripts/long-runs.sh to the end first" >&2; exit 1; }
[ -f "$v2" ] || git show a691b43:models/faceprior-default.safetensors > "$v2"
MILESTONES=1 RECIPE=recipes/finetune-multitask-v3.json scripts/finetune-multitask.sh "$v2" "$run" "$cache" --description "faceprior default v3: \
ViT-Tiny 112/16 pretrained with MIM and the pixel, patch and component face priors on 56,849 faces (1,000,000 images seen), then \
fine-tuned end to end for CK+ AUs, FER2013 expression, UTKFace age and CelebA-HQ attributes at once: v2's 6,000 steps, then 4,000 \
more with UTKFace's gender also teaching Male; expression and age heads balanced on validation faces (logit adjustment). See MODEL_CARD.md."
cp "$run/model.safetensors" models/faceprior-default.safetensors
node dist/src/cli/main.js info models/faceprior-default.safetensors
