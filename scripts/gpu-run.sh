#!/usr/bin/env bash
# The GPU check in one command, run inside the folder scripts/gpu-bundle.sh builds, on a Linux x64
# machine with Node 20 and a GPU driver (no npm needed). Under 8 minutes on one GPU:
#
#   ./gpu-run.sh [results dir, default ./gpu-results]
#
#   1. faceprior doctor: which WebGPU adapter Dawn finds (it stops here without one)
#   2. a `full` pretraining of ViT-Tiny for STEPS steps of BATCH faces on --device webgpu, into
#      <results>/pretrain-gpu/full (the layout studies/gpu.json reads under ../runs)
#   3. the throughput benches (pretraining mae and full; ViT forward and training step) on WebGPU,
#      against PyTorch on CUDA where python3 has torch with CUDA
#   4. <results>/gpu-run.json: all of it in one file, with each stage's seconds
#
# Settings (environment): STEPS (default 100), BATCH (default 256), REPEATS (bench steps, default 5),
# PYTHON (default python3). On NVIDIA, VK_DRIVER_FILES is set to the ICD that METHOD.md §5 names
# when it is unset and that file exists; the bundled Vulkan loader serves when the system has none.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
results=$(mkdir -p "${1:-gpu-results}" && cd "${1:-gpu-results}" && pwd)
steps=${STEPS:-100}
batch=${BATCH:-256}
repeats=${REPEATS:-5}
python=${PYTHON:-python3}
cd "$here"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || { echo "gpu-run: needs Node 20 or later on PATH (found: $(node --version 2>/dev/null || echo none))." >&2; exit 1; }
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then export VK_DRIVER_FILES=$nvidia_icd; fi
if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1 ' > /dev/null; then export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi

stage() { # name, file for its stdout (- for the terminal), command; its seconds go to stages.jsonl
  local name=$1 out=$2 started=$SECONDS; shift 2
  echo "== $name"
  if [ "$out" = - ]; then "$@"; else "$@" > "$out"; fi
  echo "{\"stage\": \"$name\", \"seconds\": $((SECONDS - started))}" >> "$results/stages.jsonl"
}

rm -f "$results/stages.jsonl"
stage doctor "$results/doctor.json" node faceprior.mjs doctor --json
node -e 'const r = require(process.argv[1]); if (!r.webgpu.available) { console.error(`gpu-run: ${r.webgpu.reason}`); process.exit(1); } console.log(`adapter: ${r.webgpu.adapter.description}`)' "$results/doctor.json"

# One checkpoint, at the end: with 264 faces an epoch is one step, and previews are drawn per epoch.
echo "{\"train\": {\"checkpointEvery\": $steps}}" > "$results/pretrain-config.json"
stage pretrain "$results/pretrain-summary.json" node faceprior.mjs --device webgpu pretrain --data cache --variant full \
  --steps "$steps" --batch "$batch" --config "$results/pretrain-config.json" --out "$results/pretrain-gpu/full" --json

torch_device=none
if "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then torch_device=cuda; fi
echo "PyTorch CUDA reference: $([ $torch_device = cuda ] && echo yes || echo "no ($python has no torch with CUDA)")"
bench=(--device webgpu --torch-device "$torch_device" --python "$python" --batch "$batch" --repeats "$repeats")
stage bench-pretrain - node bench/pretrain-throughput.mjs --cache cache --variants mae,full "${bench[@]}" --out "$results/pretrain-throughput.json"
stage bench-vit - node bench/vit-throughput.mjs "${bench[@]}" --out "$results/vit-throughput.json"

node -e '
  const fs = require("node:fs");
  const [dir] = process.argv.slice(1);
  const read = (f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8"));
  const stages = fs.readFileSync(`${dir}/stages.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const summary = { date: new Date().toISOString(), doctor: read("doctor.json"), pretrain: read("pretrain-summary.json"),
    pretrain_throughput: read("pretrain-throughput.json"), vit_throughput: read("vit-throughput.json"), stages };
  fs.writeFileSync(`${dir}/gpu-run.json`, JSON.stringify(summary, null, 2) + "\n");
  const seconds = stages.reduce((s, x) => s + x.seconds, 0);
  console.log(`gpu-run: ${seconds} s; full pretraining ${summary.pretrain.images_per_second.toFixed(1)} images/s; wrote ${dir}/gpu-run.json`);
' "$results"
