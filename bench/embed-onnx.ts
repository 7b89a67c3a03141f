/**
 * Embedding throughput through onnxruntime-node against PyTorch's CPU forward pass, in the same
 * run: ViT-Tiny 112/16 (random init), batch 64, the same thread count for both.
 *
 *   npm run build && node dist/bench/embed-onnx.js [--batch 64] [--threads 2] [--repeats 10]
 *
 * The ONNX graph is built in memory from a checkpoint, as `faceprior embed` builds it; images
 * are random pixels in [0, 1] (decoding is not timed). The PyTorch reference is
 * bench/torch_vit_reference.py (python3-torch); without it the onnxruntime number prints alone.
 * Results go to bench/results/embed-onnx.json.
 */
import "./errors-without-stack.js";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { installNodeShims } from "../src/engine/node-shims.js";
import { runPytorchReference } from "./pytorch-reference.js";

const { values: args } = parseArgs({
  options: {
    batch: { type: "string", default: "64" },
    threads: { type: "string", default: "2" },
    repeats: { type: "string", default: "10" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
});
const batchSize = Number(args.batch);
const threads = Number(args.threads);
const repeats = Number(args.repeats);
installNodeShims(1); // jax-js only initialises the weights

const { random } = await import("../src/engine/jax.js");
const { initVit } = await import("../src/model/vit.js");
const { resolveVitPreset } = await import("../src/model/vit-presets.js");
const { readVitCheckpoint, saveVitCheckpoint } = await import("../src/checkpoint/vit-checkpoint.js");
const { buildFaceOnnx } = await import("../src/face-model/onnx-vit.js");
const { OnnxSession, loadOnnxRuntime } = await import("../src/engine/onnx-session.js");
const { writeJsonAtomic } = await import("../src/io/atomic-write.js");

const ort = await loadOnnxRuntime();
if (!ort) throw new Error("onnxruntime-node is not installed; run `ONNXRUNTIME_NODE_INSTALL=skip npm install` first");

/** ViT-Tiny 112/16 with MAE's init, through a checkpoint file as a user's model would come. */
async function randomCheckpoint() {
  const cfg = resolveVitPreset("vit-tiny");
  const dir = await mkdtemp(join(tmpdir(), "faceprior-bench-"));
  try {
    await saveVitCheckpoint(join(dir, "vit-tiny.safetensors"), initVit(random.key(0), cfg), cfg);
    return await readVitCheckpoint(join(dir, "vit-tiny.safetensors"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ckpt = await randomCheckpoint();
const { cfg } = ckpt;
let start = performance.now();
const session = await OnnxSession.create(buildFaceOnnx(ckpt), { threads });
const sessionSeconds = (performance.now() - start) / 1000;
const images = Float32Array.from({ length: batchSize * 3 * cfg.imgSize * cfg.imgSize }, () => Math.random());
await session.run(images, batchSize); // warm-up: onnxruntime plans its memory on the first run
start = performance.now();
for (let i = 0; i < repeats; i++) await session.run(images, batchSize);
const onnxImagesPerSecond = (batchSize * repeats) / ((performance.now() - start) / 1000);
await session.dispose();

const onnxruntime = {
  engine: `onnxruntime-node ${ort.env.versions.node ?? "?"} cpu, ${threads} threads`,
  forward_images_per_s: onnxImagesPerSecond,
  session_create_s: sessionSeconds,
};
const torch = runPytorchReference<{ engine: string; forward_images_per_s: number }>(args.python!, "bench/torch_vit_reference.py", [
  "--threads",
  String(threads),
  "--batch",
  String(batchSize),
  "--img",
  String(cfg.imgSize),
]);
const ratio = torch ? onnxImagesPerSecond / torch.forward_images_per_s : null;

console.log(`vit-tiny ${cfg.imgSize}x${cfg.imgSize} patch ${cfg.patchSize}, batch ${batchSize}, ${threads} threads, forward only`);
console.log(`onnxruntime-node: ${onnxImagesPerSecond.toFixed(1)} images/s (session created in ${sessionSeconds.toFixed(2)} s)`);
if (torch) console.log(`pytorch cpu:      ${torch.forward_images_per_s.toFixed(1)} images/s (${torch.engine})`);
if (ratio !== null) console.log(`ratio:            ${ratio.toFixed(2)}x (target 1.5x)`);
await writeJsonAtomic("bench/results/embed-onnx.json", {
  config: { arch: "vit-tiny", imgSize: cfg.imgSize, patchSize: cfg.patchSize, batch: batchSize, threads, repeats },
  onnxruntime,
  pytorch: torch,
  ratio,
  load_average_1min: loadavg()[0],
  date: new Date().toISOString(),
});
process.exit(0);
