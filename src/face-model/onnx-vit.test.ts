import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readVitCheckpoint, vitParamsFromTensors, writeVitTensors, type HostVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { numpy as np } from "../engine/jax.js";
import { OnnxSession } from "../engine/onnx-session.js";
import { headLogits as taskHeadLogits, poolTokens, vitFeatures } from "../model/vit.js";
import type { VitConfig } from "../model/vit-presets.js";
import type { TaskHead } from "../transfer/heads.js";
import { TRANSFER_TASKS, TRANSFER_TASK_NAMES, type TransferTaskName } from "../transfer/tasks/index.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { skipUnlessOnnxRuntime } from "../../test/support/onnx-runtime.js";
import { needsParity, readParityFixture } from "../../test/support/vit-parity.js";
import { TASK_ACTIVATIONS } from "../transfer/tasks/activations.js";
import { buildFaceOnnx, type OnnxHead } from "./onnx-vit.js";

const skip = needsParity.skip || (await skipUnlessOnnxRuntime());
const D = 96;
const PLANE = 3 * 112 * 112;
const TOKENS = 50;

/** The fixture's input as pixels in [0, 1]: the ONNX graph applies the normalisation itself. */
function pixelsOf(inputNchw: Float32Array, { normalization }: HostVitCheckpoint): Float32Array {
  const plane = PLANE / 3;
  return inputNchw.map((v, i) => {
    const c = Math.floor(i / plane) % 3;
    return v * normalization.std[c]! + normalization.mean[c]!;
  });
}

/** Rows `order` of a batch of rows of `size` values. */
function pick(rows: Float32Array, size: number, order: number[]): Float32Array {
  return Float32Array.from(order.flatMap((r) => [...rows.subarray(r * size, (r + 1) * size)]));
}

/** jax-js's pooled features [2, D] for the fixture's two inputs. */
function jaxFeatures(ckpt: HostVitCheckpoint, inputNchw: Float32Array, cfg: VitConfig) {
  const tokens = vitFeatures(vitParamsFromTensors(ckpt.tensors, cfg), np.array(inputNchw, { shape: [2, 3, 112, 112] }), cfg);
  return poolTokens(tokens, cfg.globalPool);
}

/** PyTorch's pooled features, from its tokens [2, 50, D]. */
function torchFeatures(tokens: Float32Array, pool: VitConfig["globalPool"]): Float32Array {
  const out = new Float32Array(2 * D);
  for (let b = 0; b < 2; b++) {
    for (let t = pool === "token" ? 0 : 1; t < (pool === "token" ? 1 : TOKENS); t++) {
      for (let d = 0; d < D; d++) out[b * D + d]! += tokens[(b * TOKENS + t) * D + d]! / (pool === "token" ? 1 : TOKENS - 1);
    }
  }
  return out;
}

async function runOnnx(model: Uint8Array, pixels: Float32Array, order: number[]): Promise<Record<string, Float32Array>> {
  const session = await OnnxSession.create(model, { threads: 1 });
  try {
    return await session.run(pick(pixels, PLANE, order), order.length);
  } finally {
    await session.dispose();
  }
}

for (const pool of ["token", "avg"] as const) {
  test(`ONNX features (${pool} pooling) and tokens match jax-js and PyTorch within 1e-4, at batch 1, 2 and 3`, { skip }, async (t) => {
    const { checkpoint, inputNchw, tokens } = await readParityFixture();
    const cfg = { ...checkpoint.cfg, globalPool: pool };
    const model = buildFaceOnnx({ ...checkpoint, cfg, tokens: true });
    const jax = jaxFeatures(checkpoint, inputNchw, cfg).dataSync() as Float32Array;
    const torch = torchFeatures(tokens, pool);
    const errors = { jax: 0, torch: 0, tokens: 0 };
    for (const order of [[1], [0, 1], [0, 1, 0]]) {
      const out = await runOnnx(model, pixelsOf(inputNchw, checkpoint), order);
      errors.jax = Math.max(errors.jax, maxAbsDiff(out.features!, pick(jax, D, order)));
      errors.torch = Math.max(errors.torch, maxAbsDiff(out.features!, pick(torch, D, order)));
      errors.tokens = Math.max(errors.tokens, maxAbsDiff(out.tokens!, pick(tokens, TOKENS * D, order)));
    }
    const shown = Object.entries(errors)
      .map(([k, v]) => `${k} ${v.toExponential(2)}`)
      .join(", ");
    t.diagnostic(`max abs error of ONNX (${pool}) against jax-js features, PyTorch features and PyTorch tokens: ${shown}`);
    for (const [what, error] of Object.entries(errors)) assert.ok(error <= 1e-4, `${what}: max abs error ${error}`);
  });
}

/** A head with fixed pseudo-random values; K outputs, fc_norm on some. */
function sampleHead(task: TransferTaskName, k: number, seed: number, fcNorm: boolean): OnnxHead & { task: TransferTaskName } {
  const values = (n: number, scale: number, offset = 0) =>
    Float32Array.from({ length: n }, (_, i) => offset + scale * Math.sin(seed * 1000 + 1.7 * i));
  return {
    name: task,
    task,
    weight: values(k * D, 0.3),
    bias: values(k, 0.5),
    activation: TASK_ACTIVATIONS[task],
    ...(fcNorm ? { fcNorm: { weight: values(D, 0.2, 1), bias: values(D, 0.1) } } : {}),
  };
}

function jaxHead(head: OnnxHead): TaskHead {
  const k = head.bias.length;
  const linear = { weight: np.array(head.weight, { shape: [k, D] }), bias: np.array(head.bias) };
  return head.fcNorm
    ? { fc_norm: { weight: np.array(head.fcNorm.weight), bias: np.array(head.fcNorm.bias) }, head: linear }
    : { head: linear };
}

test("ONNX heads match taskHeadLogits + each task's predict within 1e-4: sigmoid, softmax, median age", { skip }, async (t) => {
  const { checkpoint, inputNchw } = await readParityFixture();
  const sizes = { au: 12, expression: 7, age: 101, attributes: 40 };
  const heads = TRANSFER_TASK_NAMES.map((task, i) => sampleHead(task, sizes[task], i + 1, i % 2 === 0));
  const out = await runOnnx(buildFaceOnnx({ ...checkpoint, heads }), pixelsOf(inputNchw, checkpoint), [0, 1]);
  const features = jaxFeatures(checkpoint, inputNchw, checkpoint.cfg);
  for (const head of heads) {
    const want = TRANSFER_TASKS[head.task].predict(taskHeadLogits(jaxHead(head), features.ref)).dataSync() as Float32Array;
    const error = maxAbsDiff(out[head.task]!, want);
    t.diagnostic(`${head.task} (${head.activation}${head.fcNorm ? ", fc_norm" : ""}): max abs error ${error.toExponential(2)}`);
    assert.ok(error <= 1e-4, `${head.task}: max abs error ${error}`);
  }
  assert.equal(out.age!.length, 2, "age is one number per image");
  features.dispose();
});

test("an F16 checkpoint exports as float32 weights that compute what jax-js computes from the same file", { skip }, async () => {
  const { checkpoint, inputNchw } = await readParityFixture();
  const dir = await mkdtemp(join(tmpdir(), "faceprior-onnx-"));
  try {
    const path = join(dir, "half.safetensors");
    await writeVitTensors(path, checkpoint.tensors, checkpoint.cfg, { dtype: "float16", normalization: checkpoint.normalization });
    const half = await readVitCheckpoint(path);
    const out = await runOnnx(buildFaceOnnx(half), pixelsOf(inputNchw, half), [0, 1]);
    const error = maxAbsDiff(out.features!, jaxFeatures(half, inputNchw, half.cfg).dataSync());
    assert.ok(error <= 1e-4, `max abs error ${error}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a head that does not fit is refused, naming the head and the fix", { skip: needsParity.skip }, async () => {
  const { checkpoint } = await readParityFixture();
  const build = (heads: OnnxHead[]) => () => buildFaceOnnx({ ...checkpoint, heads });
  const au = sampleHead("au", 12, 1, false);
  assert.throws(
    build([{ ...au, weight: au.weight.subarray(1) }]),
    /heads\[0\] \(au\): weight has 1151 values and bias 12\. Pass weight \[K, D\] and bias \[K\] with K > 0 and D = 96/,
  );
  assert.throws(build([au, au]), /heads\[1\] \(au\): a second head with this name\. Give each head its own name\./);
  assert.throws(build([sampleHead("age", 100, 2, false)]), /heads\[0\] \(age\): median-age needs 101 logits \(ages 0-100\), got 100/);
  assert.throws(build([{ ...au, name: "features" }]), /heads\[0\] \(features\): is not a usable head name\./);
  assert.throws(build([{ ...au, name: "smile-2" }]), /heads\[0\] \(smile-2\): is not a usable head name\./);
});
