#!/usr/bin/env bash
# Builds the bundled default model (models/faceprior-default.safetensors), v4: model v3.3's encoder
# (the file of commit e88cecd; see MODEL_CARD.md for how v3.3 was made) fine-tuned 6,000 steps
# more with recipes/finetune-multitask-v4.json: layer-wise lr decay 0.9 instead of 0.75 (the
# fine-tuned encoders underfit; results/multitask/pilot-layer-decay), each face's age loss
# weighted towards rare decades (ageBalance 0.5), new heads, the checkpoint its validation faces
# chose (every face read with its mirror image), the age head balanced by logit adjustment (rule
# "one-standard-error") and read as the median of its distribution, the expression head as trained.
# That run is step 6 of scripts/long-runs.sh. This runs scripts/finetune-multitask.sh once more on
# its finished run folder with the same recipe: it trains nothing, balances the age head again,
# evaluates the chosen checkpoint on the test splits and writes the model with its description;
# the records go to results/multitask/multitask-v4.
#
#   scripts/build-default-model.sh [v4 run dir, default ../runs/multitask-v4] [cache dir, default ../cache]
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-../runs/multitask-v4}
cache=${2:-../cache}
v33="$(dirname "$run")/model-v3.3.safetensors"
[ -f "$run/metrics.json" ] || { echo "build-default-model: $run has no metrics.json; run step 6 of scripts/long-runs.sh to the end first" >&2; exit 1; }
[ -f "$v33" ] || git show e88cecd:models/faceprior-default.safetensors > "$v33"
RECIPE=recipes/finetune-multitask-v4.json scripts/finetune-multitask.sh "$v33" "$run" "$cache" --description "faceprior default v4: \
ViT-Tiny 112/16 pretrained with MIM and the pixel, patch and component face priors on 56,849 faces (1,000,000 images seen), then \
fine-tuned end to end for CK+ AUs, FER2013 expression, UTKFace age and CelebA-HQ attributes at once (UTKFace's gender also teaching \
Male) in three runs (v2, v3, v4), the last with layer-wise lr decay 0.9 and the age loss weighted towards rare decades; \
each face read with its mirror image (features averaged); age head balanced on validation faces (logit adjustment, τ by the \
one-standard-error rule) and read as the median of its distribution; expression head as trained. See MODEL_CARD.md."
cp "$run/model.safetensors" models/faceprior-default.safetensors
node dist/src/cli/main.js info models/faceprior-default.safetensors
