#!/usr/bin/env bash
# The long runs of issues #11 and #12, in the order their results are needed, each resuming
# where it stopped (restart it first thing in a session with scripts/start-long-runs.sh, which
# runs it in the background from a separate checkout; a finished step passes quickly):
#   0. the seven prior caches (scripts/prepare-shared-data.sh; about 50 minutes on a new machine),
#      or, once steps 1-6 are finished, the four the study reads (about 17 minutes)
#   1. `full` pretraining on the pool (scripts/pretrain-pool.sh)
#   2. the v3 multi-task fine-tune (recipes/finetune-multitask-v3.json): v2.1's encoder (the model of
#      commit a691b43) trained on, with UTKFace's gender labelling Male; its float16 milestones are
#      committed in results/multitask/multitask-v3, so it restarts warm on a new machine. (v2's run,
#      ../runs/multitask-full, is finished: its records are in results/multitask/multitask-full.)
#   3. one fine-tuned encoder per task, its comparison (scripts/finetune-per-task.sh)
#   4. `mae` pretraining on the pool
#   5. the 2-epoch `mae` and `full` encoders (scripts/pretrain-study.sh): the study's probe cells,
#      all finished, used them; its loss plot uses their logs, kept in results/pretrain, so they
#      are pretrained again only on a machine without those logs
#   6. the v4 multi-task fine-tune (recipes/finetune-multitask-v4.json): model v3.3's encoder (the
#      model of commit e88cecd) trained on with layer decay 0.9 and age balance 0.5; float16
#      milestones in results/multitask/multitask-v4, as step 2's; finished, it is the bundled model
#      v4 (scripts/build-default-model.sh)
#   7. the pool-budget study (probes and fine-tuning cells; each finished cell's metrics.json, and
#      for the fine-tuning cell in progress its finished runs' outcomes and the milestones of the run
#      still training, are kept in results/study-pool/runs, so that the study outlives its machine;
#      its report and plots, once it is finished, in results/study-pool)
#   8. the v5 multi-task fine-tune (recipes/finetune-multitask-v5.json): model v4's encoder (the
#      model of commit ecf7f24) trained 8,000 steps more with v4's recipe, to measure what more
#      fine-tuning budget gives (MODEL_CARD.md "Targets" names budget as a limit); float16
#      milestones in results/multitask/multitask-v5. It ships only if it beats v4 on the validation
#      faces (bench/compare-models.ts).
# RECORDS=<checkout> sends the records to the checkout to commit from, when this runs from another.
#
#   scripts/long-runs.sh [cache dir, default ../cache] [runs dir, default ../runs]
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${1:-../cache}
runs=${2:-../runs}
base=${RECORDS:-.}
# Steps 1-4 and 6 are finished when their records say so (each is written only at a run's end).
# On a machine without their runs, the pool encoders are then taken from their committed float16
# milestones, and only the caches still read are prepared: the study's four, and the unlabelled
# faces while the 2-epoch logs are missing (the extra FER2013 and UTKFace faces took 30 of the 50
# minutes of preparing all seven).
before_study_finished() {
  local record
  for record in pretrain-pool/{full,mae}/summary.json multitask/multitask-v{3,4}/metrics.json \
    multitask/per-task/{expression,age,attributes,au}/metrics.json; do
    [ -f "$base/results/$record" ] || return 1
  done
}
two_epoch_logs="$base/results/pretrain/full/log.jsonl"
if before_study_finished; then
  scripts/prepare-shared-data.sh "$cache" "ckplus_au fer2013 utkface celebahq_attr$([ -f "$two_epoch_logs" ] || echo " unlabeled_faces")"
  for variant in full mae; do
    encoder="$runs/pretrain-pool/$variant/encoder.safetensors"
    [ -f "$encoder" ] && continue
    mkdir -p "$(dirname "$encoder")"
    node dist/src/cli/main.js convert "$base/results/pretrain-pool/$variant/milestone.safetensors" --out "$encoder"
  done
else
  scripts/prepare-shared-data.sh "$cache"
  RECORDS="$base/results/pretrain-pool" scripts/pretrain-pool.sh "$cache" "$runs/pretrain-pool" full
  v2="$runs/model-v2.1.safetensors"
  [ -f "$v2" ] || git show a691b43:models/faceprior-default.safetensors > "$v2"
  # A finished multi-task run is skipped: run again, it would rewrite its records (and v4's model) with
  # the short description below, where the shipped ones carry build-default-model.sh's.
  [ -f "$runs/multitask-v3/metrics.json" ] || MILESTONES=1 RECIPE=recipes/finetune-multitask-v3.json RECORDS="$base/results/multitask" \
    scripts/finetune-multitask.sh "$v2" "$runs/multitask-v3" "$cache" --description "multi-task fine-tune v3"
  RECORDS="$base/results/multitask" scripts/finetune-per-task.sh "$runs/pretrain-pool/full/encoder.safetensors" "$runs/per-task-full" "$cache"
  RECORDS="$base/results/pretrain-pool" scripts/pretrain-pool.sh "$cache" "$runs/pretrain-pool" mae
  v33="$runs/model-v3.3.safetensors"
  [ -f "$v33" ] || git show e88cecd:models/faceprior-default.safetensors > "$v33"
  [ -f "$runs/multitask-v4/metrics.json" ] || MILESTONES=1 RECIPE=recipes/finetune-multitask-v4.json RECORDS="$base/results/multitask" \
    scripts/finetune-multitask.sh "$v33" "$runs/multitask-v4" "$cache" --description "multi-task fine-tune v4"
fi
[ -f "$two_epoch_logs" ] || RECORDS="$base/results/pretrain" scripts/pretrain-study.sh "$cache" "$runs/pretrain" "" "mae full"
node dist/src/cli/main.js study --config studies/pool-budget.json --out "$runs/study-pool" --engine onnx \
  --records "$base/results/study-pool/runs"
# The finished study's report (written by the command above) goes beside its records, to commit.
rm -rf "$base/results/study-pool/plots"
cp -r "$runs/study-pool/report.md" "$runs/study-pool/plots" "$base/results/study-pool/"
scripts/prepare-shared-data.sh "$cache" "fer2013_extra utkface_extra"
v4="$runs/model-v4.safetensors"
[ -f "$v4" ] || git show ecf7f24:models/faceprior-default.safetensors > "$v4"
[ -f "$runs/multitask-v5/metrics.json" ] || MILESTONES=1 RECIPE=recipes/finetune-multitask-v5.json RECORDS="$base/results/multitask" \
  scripts/finetune-multitask.sh "$v4" "$runs/multitask-v5" "$cache" --description "multi-task fine-tune v5"
