/**
 * ViT encoder throughput against PyTorch on CPU, in the same run: images/s for the forward pass
 * and for a training step (cross-entropy through a linear head, clipping, AdamW) on both training
 * engines (jax-js, and the step lowered to onnxruntime-node), and peak RSS.
 *
 *   npm run build && node dist/bench/vit-throughput.js [--arch vit-tiny] [--batch 64] [--threads 2]
 *
 * The onnx engine runs the whole batch in one step; jax-js runs it as micro-batches (see below).
 * Peak RSS is the process's, after both engines ran; `--engines onnx` measures one alone (and
 * writes bench/results/vit-throughput-onnx.json). `--device webgpu` runs jax-js on WebGPU (whole
 * batches; onnxruntime-node is left out) and reports the GPU memory it held; `--torch-device cuda`
 * runs the PyTorch reference on CUDA. `--out` names the results file.
 *
 * The PyTorch reference (bench/torch_vit_reference.py) needs Debian's python3-torch and
 * libopenblas0-pthread; without it the jax-js numbers print alone. Results are also written as
 * JSON to bench/results/vit-throughput.json.
 */
import "./errors-without-stack.js";
import { parseArgs } from "node:util";
import { installNodeShims } from "../src/engine/node-shims.js";
import { benchDevice, DEVICE_OPTIONS, memoryReport, torchReference } from "./bench-device.js";

const { values: args } = parseArgs({
  options: {
    arch: { type: "string", default: "vit-tiny" },
    batch: { type: "string", default: "64" },
    // A whole ViT-Tiny step at batch 64 needs more than wasm's 4 GiB, so it runs as accumulated
    // micro-batches: one optimizer update per batch, as a user's training does (default 16 on wasm).
    "micro-batch": { type: "string" },
    threads: { type: "string", default: "2" },
    repeats: { type: "string", default: "3" },
    python: { type: "string", default: "/usr/bin/python3" },
    engines: { type: "string" },
    // onnxruntime's execution providers for the onnx engine: cpu, or webgpu (its own Dawn).
    "ort-providers": { type: "string", default: "cpu" },
    ...DEVICE_OPTIONS,
  },
});
const device = benchDevice(args.device);
// onnxruntime-node runs on the CPU, so on WebGPU only jax-js is measured.
const engines = (args.engines ?? (device === "webgpu" ? "jax" : "jax,onnx")).split(",");
const batchSize = Number(args.batch);
const microBatch = Number(args["micro-batch"] ?? (device === "webgpu" ? batchSize : 16));
if (batchSize % microBatch !== 0) throw new Error(`--micro-batch ${microBatch} must divide --batch ${batchSize}`);
const repeats = Number(args.repeats);
const threads = installNodeShims(Number(args.threads));

const { jit, nn, numpy: np, random, tree } = await import("../src/engine/jax.js");
type Array = import("../src/engine/jax.js").Array;
const { startEngine } = await import("../src/engine/engine.js");
const { initLinear, initVit, linear, poolTokens, vitFeatures } = await import("../src/model/vit.js");
const { resolveVitPreset } = await import("../src/model/vit-presets.js");
const { adamw } = await import("../src/train/adamw.js");
const { createStepEngine } = await import("../src/train/step-engines.js");
const { writeJsonAtomic } = await import("../src/io/atomic-write.js");

const { adapter } = await startEngine({ device });
const cfg = resolveVitPreset(args.arch!);
const classes = 7;

/** Mean seconds per call after one warm-up call (which includes the jit compile). */
async function secondsPerCall(run: () => Promise<void>): Promise<{ seconds: number; firstCallSeconds: number }> {
  let start = performance.now();
  await run();
  const firstCallSeconds = (performance.now() - start) / 1000;
  start = performance.now();
  for (let i = 0; i < repeats; i++) await run();
  return { seconds: (performance.now() - start) / 1000 / repeats, firstCallSeconds };
}

const images = () => random.normal(random.key(1), [batchSize, 3, cfg.imgSize, cfg.imgSize]);
const params = { ...initVit(random.key(0), cfg), head: initLinear(random.key(2), classes, cfg.embedDim) };

const forward = jit((p: typeof params, x: Array) => vitFeatures(p, x, cfg));
const fwd = await secondsPerCall(async () => {
  await forward(tree.ref(params), images()).data();
});

type Params = typeof params;
type Batch = { images: Array; labels: Array };
const lossFn = (p: Params, batch: Batch): [Array, Record<string, Array>] => {
  const { head, ...vit } = p;
  const logits = linear(head, poolTokens(vitFeatures(vit, batch.images, cfg), cfg.globalPool));
  const ce = nn.logSoftmax(logits, -1).mul(nn.oneHot(batch.labels, classes)).sum(-1).mean().neg();
  return [ce, {}];
};
const optimizer = adamw({ weightDecay: 0.05 });
const batchOf = (size: number, m: number): Batch => ({
  images: random.normal(random.key(10 + m), [size, 3, cfg.imgSize, cfg.imgSize]),
  labels: np.array(
    Int32Array.from({ length: size }, (_, i) => (m + i) % classes),
    { dtype: np.int32 },
  ),
});

/**
 * Seconds per optimizer step of `engine` over one batch of `batchSize`, in micro-batches of
 * `micro`, and the loss of each step: the same for every engine up to rounding (each step but the
 * first follows an update, so they check the backward pass and AdamW too).
 */
async function trainStep(engine: "jax" | "onnx", micro: number) {
  const accumSteps = batchSize / micro;
  const stepper = createStepEngine<Params, Batch>(
    engine,
    { params: tree.ref(params), optState: optimizer.init(tree.ref(params)) },
    {
      loss: lossFn,
      optimizer,
      step: { clipNorm: 1 },
      accumSteps,
      threads,
      providers: args["ort-providers"].split(","),
    },
  );
  const losses: number[] = [];
  try {
    const timing = await secondsPerCall(async () => {
      const { loss } = await stepper.step(
        Array.from({ length: accumSteps }, (_, m) => batchOf(micro, m)),
        random.key(3),
        1e-4,
      );
      losses.push(loss);
    });
    return { ...timing, losses };
  } finally {
    await stepper.dispose();
  }
}

const train = engines.includes("jax") ? await trainStep("jax", microBatch) : null;
const jaxMemory = memoryReport();
const onnxTrain = engines.includes("onnx") ? await trainStep("onnx", batchSize) : null;

const jaxResult = {
  engine: device === "webgpu" ? `@jax-js/jax webgpu (${adapter!.description})` : `@jax-js/jax wasm, ${threads} threads`,
  forward_images_per_s: batchSize / fwd.seconds,
  train_step_images_per_s: train ? batchSize / train.seconds : null,
  first_train_step_s: train?.firstCallSeconds ?? null,
  step_losses: train?.losses ?? null,
  ...jaxMemory,
};
const onnxResult = onnxTrain && {
  engine: `onnxruntime-node (lowered step), execution providers ${args["ort-providers"]}, ${threads} threads, whole batch`,
  train_step_images_per_s: batchSize / onnxTrain.seconds,
  first_train_step_s: onnxTrain.firstCallSeconds,
  step_losses: onnxTrain.losses,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
};

const torch = torchReference<Record<string, number | string>>(args, "bench/torch_vit_reference.py", [
  "--threads",
  String(threads),
  "--batch",
  String(batchSize),
  "--img",
  String(cfg.imgSize),
  "--repeats",
  String(repeats),
]);

const rows: [string, number | null, unknown][] = [
  ["forward (jax-js)", jaxResult.forward_images_per_s, torch?.forward_images_per_s],
  ["train step (jax-js)", jaxResult.train_step_images_per_s, torch?.train_step_images_per_s],
  ["train step (onnx)", onnxResult?.train_step_images_per_s ?? null, torch?.train_step_images_per_s],
  ["peak RSS MB (jax-js)", jaxResult.peak_rss_mb, torch?.peak_rss_mb],
  ["peak RSS MB (+onnx)", onnxResult?.peak_rss_mb ?? null, torch?.peak_rss_mb],
  ["peak GPU MB (jax-js)", jaxResult.peak_gpu_mb ?? null, torch?.peak_gpu_mb],
];
console.log(
  `${args.arch} ${cfg.imgSize}x${cfg.imgSize} patch ${cfg.patchSize}, batch ${batchSize} (jax-js training in micro-batches of ${microBatch}), ${threads} threads`,
);
console.log(`${"".padEnd(22)}${"ours".padStart(10)}${"pytorch".padStart(10)}${"ratio".padStart(8)}`);
for (const [name, ours, theirs] of rows) {
  if (ours === null) continue;
  const ratio = typeof theirs === "number" ? (ours / theirs).toFixed(2) + "x" : "-";
  const fmt = (v: unknown) => (typeof v === "number" ? v.toFixed(1) : "-").padStart(10);
  console.log(`${name.padEnd(22)}${fmt(ours)}${fmt(theirs)}${ratio.padStart(8)}`);
}
for (const r of [jaxResult, onnxResult])
  if (r?.first_train_step_s)
    console.log(
      `first training step, compile included (${r.engine}): ${r.first_train_step_s.toFixed(1)} s; losses ${r.step_losses!.join(", ")}`,
    );
// One engine alone (for its own peak RSS) writes beside the full comparison, not over it.
const resultFile = args.out ?? `bench/results/vit-throughput${engines.length === 1 ? `-${engines[0]}` : ""}.json`;
await writeJsonAtomic(resultFile, {
  config: { arch: args.arch, device, batch: batchSize, microBatch, threads, repeats, imgSize: cfg.imgSize, patchSize: cfg.patchSize },
  jaxjs: jaxResult,
  onnx: onnxResult,
  pytorch: torch,
  date: new Date().toISOString(),
});
process.exit(0);
