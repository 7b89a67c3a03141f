/**
 * Pretraining throughput per variant, against a PyTorch MAE step of the same shape in the same
 * run (bench/torch_mae_reference.py): ViT-Tiny 112/16, decoder 128 x 2, mask 0.75, batch 64.
 * On CPU, `--engine onnx` (the default) runs the whole batch in one lowered step on
 * onnxruntime-node; `--engine jax` runs it as micro-batches of 16 (a whole step at 64 does not fit
 * wasm's 4 GiB). `--device webgpu` runs jax-js on WebGPU, whole batches, and reports the GPU memory
 * it held; `--torch-device cuda` runs the PyTorch reference on CUDA (scripts/gpu-run.sh does both).
 *
 *   npm run build && node dist/bench/pretrain-throughput.js [--cache ../cache/unlabeled_faces] [--engine onnx|jax]
 *        [--device wasm|webgpu] [--torch-device cpu|cuda] [--out file.json]
 *
 * Needs a prior cache for the batches. Target: the auxiliary tasks cost at most 1.6x the time per
 * image of plain MAE. Results also go to bench/results/pretrain-throughput.json (or --out).
 */
import "./errors-without-stack.js";
import { parseArgs } from "node:util";
import { installNodeShims } from "../src/engine/node-shims.js";
import { benchDevice, DEVICE_OPTIONS, memoryReport, torchReference } from "./bench-device.js";

const { values: args } = parseArgs({
  options: {
    cache: { type: "string", default: "../cache/unlabeled_faces" },
    batch: { type: "string", default: "64" },
    "micro-batch": { type: "string" },
    engine: { type: "string" },
    threads: { type: "string", default: "2" },
    repeats: { type: "string", default: "3" },
    variants: { type: "string", default: "mae,mae+pix,mae+patch,mae+comp,full" },
    python: { type: "string", default: "/usr/bin/python3" },
    ...DEVICE_OPTIONS,
  },
});
const threads = installNodeShims(Number(args.threads));
const device = benchDevice(args.device);
// onnxruntime-node runs on the CPU; on WebGPU the step runs in jax-js.
const engine = (args.engine ?? (device === "webgpu" ? "jax" : "onnx")) as "onnx" | "jax";
if (engine === "onnx" && device === "webgpu")
  throw new Error("--engine onnx runs on the CPU; --device webgpu runs jax-js. Pass one of them.");
const [batchSize, repeats] = [Number(args.batch), Number(args.repeats)];
const microBatch = Number(args["micro-batch"] ?? (engine === "jax" && device === "wasm" ? 16 : batchSize));

const { random, tree } = await import("../src/engine/jax.js");
const { startEngine } = await import("../src/engine/engine.js");
const { loadCacheDataset } = await import("../src/priors/cache-dataset.js");
const { resolvePretrainConfig } = await import("../src/pretrain/config.js");
const { initMae } = await import("../src/pretrain/mae.js");
const { makePretrainLoss, pretrainBatch } = await import("../src/pretrain/pretrain-loss.js");
const { adamw } = await import("../src/train/adamw.js");
const { createStepEngine } = await import("../src/train/step-engines.js");
const { writeJsonAtomic } = await import("../src/io/atomic-write.js");

const { adapter } = await startEngine({ device });
const cache = await loadCacheDataset(args.cache!);

async function variantImagesPerSecond(variant: string): Promise<{ images_per_s: number; first_step_s: number }> {
  const resolved = resolvePretrainConfig({ variant });
  const optimizer = adamw({ weightDecay: 0.05 });
  const params = initMae(random.key(0), resolved.mae, resolved.heads);
  const accumSteps = batchSize / microBatch;
  const stepper = createStepEngine(
    engine,
    { params: tree.ref(params), optState: optimizer.init(params) },
    {
      loss: makePretrainLoss(resolved),
      optimizer,
      step: { clipNorm: 1 },
      accumSteps,
      threads,
    },
  );
  const run = async (r: number) => {
    const batches = Array.from({ length: accumSteps }, (_, m) =>
      pretrainBatch(
        cache,
        Array.from({ length: microBatch }, (_, i) => (r * batchSize + m * microBatch + i) % cache.count),
        resolved,
      ),
    );
    await stepper.step(batches, random.key(r), 1e-4);
  };
  let start = performance.now();
  await run(0);
  const firstStep = (performance.now() - start) / 1000;
  start = performance.now();
  for (let r = 1; r <= repeats; r++) await run(r);
  const seconds = (performance.now() - start) / 1000 / repeats;
  await stepper.dispose();
  return { images_per_s: batchSize / seconds, first_step_s: firstStep };
}

const results: Record<string, { images_per_s: number; first_step_s: number }> = {};
for (const variant of args.variants!.split(",")) {
  results[variant] = await variantImagesPerSecond(variant);
  console.error(
    `${variant}: ${results[variant]!.images_per_s.toFixed(1)} images/s, first step ${results[variant]!.first_step_s.toFixed(1)} s`,
  );
}

const torch = torchReference<{ mae_step_images_per_s: number; peak_rss_mb?: number; peak_gpu_mb?: number }>(
  args,
  "bench/torch_mae_reference.py",
  ["--threads", String(threads), "--batch", String(batchSize), "--repeats", String(repeats)],
);

const mae = results.mae?.images_per_s;
console.log(
  `pretraining step on ${engine} (${device}${adapter ? `: ${adapter.description}` : ""}), vit-tiny 112/16, batch ${batchSize} (micro-batches of ${microBatch}), ${threads} threads`,
);
console.log(`${"variant".padEnd(12)}${"images/s".padStart(10)}${"time/image vs mae".padStart(20)}${"vs pytorch mae".padStart(16)}`);
for (const [variant, r] of Object.entries(results)) {
  const cost = mae ? `${(mae / r.images_per_s).toFixed(2)}x` : "-";
  const ratio = torch ? `${(r.images_per_s / torch.mae_step_images_per_s).toFixed(2)}x` : "-";
  console.log(`${variant.padEnd(12)}${r.images_per_s.toFixed(1).padStart(10)}${cost.padStart(20)}${ratio.padStart(16)}`);
}
if (torch) console.log(`${"pytorch mae".padEnd(12)}${torch.mae_step_images_per_s.toFixed(1).padStart(10)}`);
const memory = memoryReport();
const gpuPeak = memory.peak_gpu_mb === undefined ? "" : `, GPU buffers ${memory.peak_gpu_mb.toFixed(0)} MB`;
const torchGpu = torch?.peak_gpu_mb === undefined ? "" : ` (CUDA ${torch.peak_gpu_mb.toFixed(0)} MB)`;
console.log(
  `peak memory: RSS ${memory.peak_rss_mb.toFixed(0)} MB${gpuPeak} here${torch?.peak_rss_mb ? `; RSS ${torch.peak_rss_mb.toFixed(0)} MB${torchGpu} PyTorch's MAE step` : ""}`,
);
await writeJsonAtomic(args.out ?? "bench/results/pretrain-throughput.json", {
  config: { engine, device, adapter, batchSize, microBatch, threads, repeats, cache: args.cache },
  [engine === "jax" ? "jaxjs" : "onnx"]: results,
  ...memory,
  pytorch: torch,
  date: new Date().toISOString(),
});
process.exit(0);
