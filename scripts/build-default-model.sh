#!/usr/bin/env bash
# Builds the bundled default model (models/faceprior-default.safetensors, MODEL_CARD.md): the
# `full` encoder from scripts/pretrain-study.sh with the four full-shot linear-probe heads that the
# default study trained on it (seed 0; for CK+ the head of subject fold 0), packed in fp16.
#
#   scripts/build-default-model.sh [pretrain runs, default ../runs/pretrain] [study dir, default ../runs/study]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-../runs/pretrain}
study=${2:-../runs/study}
heads=""
for task in au expression age attributes; do
  heads="$heads${heads:+,}$study/probe/$task/full/full"
done
node dist/src/cli/main.js pack --encoder "$runs/full/encoder.safetensors" --heads "$heads" \
  --description "faceprior default: ViT-Tiny 112/16 pretrained with MIM and the pixel, patch and component face priors on 4,905 unlabelled faces; linear heads for CK+ AUs, FER2013 expression, UTKFace age and CelebA-HQ attributes. See MODEL_CARD.md." \
  --out models/faceprior-default.safetensors
node dist/src/cli/main.js info models/faceprior-default.safetensors
