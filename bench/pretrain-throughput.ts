/**
 * Pretraining throughput per variant on CPU, against a PyTorch MAE step of the same shape in the
 * same run (bench/torch_mae_reference.py): ViT-Tiny 112/16, decoder 128 x 2, mask 0.75, batch 64.
 * `--engine onnx` (the default) runs the whole batch in one lowered step on onnxruntime-node;
 * `--engine jax` runs it as micro-batches of 16 (a whole step at 64 does not fit wasm's 4 GiB).
 *
 *   npm run build && node dist/bench/pretrain-throughput.js [--cache ../cache/unlabeled_faces] [--engine onnx|jax]
 *
 * Needs a prior cache for the batches. Target: the auxiliary tasks cost at most 1.6x the time per
 * image of plain MAE. Results also go to bench/results/pretrain-throughput.json.
 */
import { parseArgs } from "node:util";
import { installNodeShims } from "../src/engine/node-shims.js";
import { runPytorchReference } from "./pytorch-reference.js";

const { values: args } = parseArgs({
  options: {
    cache: { type: "string", default: "../cache/unlabeled_faces" },
    batch: { type: "string", default: "64" },
    "micro-batch": { type: "string" },
    engine: { type: "string", default: "onnx" },
    threads: { type: "string", default: "2" },
    repeats: { type: "string", default: "3" },
    variants: { type: "string", default: "mae,mae+pix,mae+patch,mae+comp,full" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
});
const threads = installNodeShims(Number(args.threads));
const engine = args.engine as "onnx" | "jax";
const [batchSize, repeats] = [Number(args.batch), Number(args.repeats)];
const microBatch = Number(args["micro-batch"] ?? (engine === "jax" ? 16 : batchSize));

const { random, tree } = await import("../src/engine/jax.js");
const { startEngine } = await import("../src/engine/engine.js");
const { loadCacheDataset } = await import("../src/priors/cache-dataset.js");
const { resolvePretrainConfig } = await import("../src/pretrain/config.js");
const { initMae } = await import("../src/pretrain/mae.js");
const { makePretrainLoss, pretrainBatch } = await import("../src/pretrain/pretrain-loss.js");
const { adamw } = await import("../src/train/adamw.js");
const { createStepEngine } = await import("../src/train/step-engines.js");
const { writeJsonAtomic } = await import("../src/io/atomic-write.js");

await startEngine({ device: "wasm" });
const cache = await loadCacheDataset(args.cache!);

async function variantImagesPerSecond(variant: string): Promise<{ images_per_s: number; first_step_s: number }> {
  const resolved = resolvePretrainConfig({ variant });
  const optimizer = adamw({ weightDecay: 0.05 });
  const params = initMae(random.key(0), resolved.mae, resolved.heads);
  const accumSteps = batchSize / microBatch;
  const stepper = createStepEngine(engine, { params: tree.ref(params), optState: optimizer.init(params) }, {
    loss: makePretrainLoss(resolved),
    optimizer,
    step: { clipNorm: 1 },
    accumSteps,
    threads,
  });
  const run = async (r: number) => {
    const batches = Array.from({ length: accumSteps }, (_, m) =>
      pretrainBatch(cache, Array.from({ length: microBatch }, (_, i) => (r * batchSize + m * microBatch + i) % cache.count), resolved),
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
  console.error(`${variant}: ${results[variant]!.images_per_s.toFixed(1)} images/s, first step ${results[variant]!.first_step_s.toFixed(1)} s`);
}

const torch = runPytorchReference<{ mae_step_images_per_s: number; peak_rss_mb?: number }>(args.python!, "bench/torch_mae_reference.py", [
  "--threads", String(threads), "--batch", String(batchSize), "--repeats", String(repeats),
]);

const mae = results.mae?.images_per_s;
console.log(`pretraining step on ${engine}, vit-tiny 112/16, batch ${batchSize} (micro-batches of ${microBatch}), ${threads} threads`);
console.log(`${"variant".padEnd(12)}${"images/s".padStart(10)}${"time/image vs mae".padStart(20)}${"vs pytorch mae".padStart(16)}`);
for (const [variant, r] of Object.entries(results)) {
  const cost = mae ? `${(mae / r.images_per_s).toFixed(2)}x` : "-";
  const ratio = torch ? `${(r.images_per_s / torch.mae_step_images_per_s).toFixed(2)}x` : "-";
  console.log(`${variant.padEnd(12)}${r.images_per_s.toFixed(1).padStart(10)}${cost.padStart(20)}${ratio.padStart(16)}`);
}
if (torch) console.log(`${"pytorch mae".padEnd(12)}${torch.mae_step_images_per_s.toFixed(1).padStart(10)}`);
const peakRssMb = process.resourceUsage().maxRSS / 1024;
console.log(`peak RSS: ${peakRssMb.toFixed(0)} MB here${torch?.peak_rss_mb ? `, ${torch.peak_rss_mb.toFixed(0)} MB PyTorch's MAE step` : ""}`);
await writeJsonAtomic("bench/results/pretrain-throughput.json", { config: { engine, batchSize, microBatch, threads, repeats, cache: args.cache }, [engine === "jax" ? "jaxjs" : "onnx"]: results, peak_rss_mb: peakRssMb, pytorch: torch, date: new Date().toISOString() });
process.exit(0);
