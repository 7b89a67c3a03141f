import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_NORMALIZATION } from "../checkpoint/vit-metadata.js";
import type { OnnxHead } from "./onnx-vit.js";
import { fakeVitTensors, SMALL_CFG } from "../../test/support/fake-vit.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { skipUnlessOnnxRuntime } from "../../test/support/onnx-runtime.js";
import { createEncoderRunner, type EncoderOutput, type EncoderOutputs, type EncoderRunner } from "./encoder-runner.js";
import type { InferenceEngine } from "../engine/onnx-session.js";

const D = SMALL_CFG.embedDim;
const PLANE = 3 * SMALL_CFG.imgSize * SMALL_CFG.imgSize;
const encoder = { cfg: SMALL_CFG, normalization: DEFAULT_NORMALIZATION, tensors: fakeVitTensors(SMALL_CFG, 3) };

const values = (n: number, seed: number, scale = 1, offset = 0) =>
  Float32Array.from({ length: n }, (_, i) => offset + scale * Math.sin(seed + 1.3 * i));

/** `n` faces of pixels in [0, 1], each its own. */
const faces = (n: number) => values(n * PLANE, 7, 0.5, 0.5);

/** One head of each activation, one with fc_norm, one reading the grey copy. */
const HEADS: OnnxHead[] = [
  { name: "smile", activation: "softmax", weight: values(2 * D, 1, 0.2), bias: values(2, 2), greyInput: true },
  {
    name: "au",
    activation: "sigmoid",
    weight: values(3 * D, 3, 0.2),
    bias: values(3, 4),
    fcNorm: { weight: values(D, 5, 0.1, 1), bias: values(D, 6, 0.1) },
  },
  { name: "age", activation: "expected-age", weight: values(101 * D, 7, 0.2), bias: values(101, 8) },
  { name: "age_median", activation: "median-age", weight: values(101 * D, 7, 0.2), bias: values(101, 8) },
];

async function withRunner<T>(
  engine: InferenceEngine,
  output: EncoderOutput | undefined,
  work: (runner: EncoderRunner) => Promise<T>,
): Promise<T> {
  const runner = await createEncoderRunner(encoder, { engine, batch: 4, threads: 1, output, heads: output ? [] : HEADS });
  try {
    return await work(runner);
  } finally {
    await runner.dispose();
  }
}

/** Row `i` of each output, for `n` images. */
function rowOf(outputs: EncoderOutputs, n: number, i: number): EncoderOutputs {
  return Object.fromEntries(
    Object.entries(outputs).map(([name, rows]) => [name, rows.subarray((i * rows.length) / n, ((i + 1) * rows.length) / n)]),
  );
}

for (const engine of ["jax", "onnx"] as const) {
  test(`${engine}: 1, 3 and 7 faces compile the encoder once, and a face's outputs do not depend on the others in its batch`, {
    skip: engine === "onnx" && (await skipUnlessOnnxRuntime()),
  }, async () => {
    await withRunner(engine, undefined, async (runner) => {
      const first = rowOf(await runner.run(faces(1), 1), 1, 0);
      for (const n of [1, 3, 7]) {
        const got = await runner.run(faces(n), n);
        assert.deepEqual(Object.keys(got), ["features", "smile", "au", "age", "age_median"]);
        assert.equal(got.features!.length, n * D);
        assert.equal(got.age!.length, n, "expected-age gives one number per face");
        assert.equal(got.age_median!.length, n, "median-age gives one number per face");
        assert.deepEqual(rowOf(got, n, 0), first, `face 0 among ${n} faces`);
      }
      assert.equal(runner.compiles, 1);
    });
  });
}

test("onnxruntime and jax-js runners agree on a small model: features, heads, tokens and prefix tokens", {
  skip: await skipUnlessOnnxRuntime(),
}, async (t) => {
  const pixels = faces(5);
  const outputs: (EncoderOutput | undefined)[] = [
    undefined,
    { kind: "pooled", pooling: "avg" },
    { kind: "pooled", pooling: "avg", mirrorAverage: true },
    { kind: "tokens" },
    { kind: "prefix", blocks: 1 },
  ];
  for (const output of outputs) {
    const jax = await withRunner("jax", output, (runner) => runner.run(pixels, 5));
    const onnx = await withRunner("onnx", output, (runner) => runner.run(pixels, 5));
    assert.deepEqual(Object.keys(jax), Object.keys(onnx));
    for (const name of Object.keys(jax)) {
      const error = maxAbsDiff(jax[name]!, onnx[name]!) / Math.max(1, ...jax[name]!.map(Math.abs)); // ages are in years
      t.diagnostic(
        `${output?.kind ?? "pooled with heads"}${output && "mirrorAverage" in output ? " mirrored" : ""} ${name}: max difference ${error.toExponential(2)} of the largest value`,
      );
      assert.ok(error < 1e-5, `${output?.kind ?? "heads"} ${name}: ${error}`);
    }
  }
});

test("a runner with heads refuses token outputs, and no faces give empty outputs", async () => {
  await assert.rejects(
    createEncoderRunner(encoder, { engine: "jax", batch: 2, output: { kind: "tokens" }, heads: HEADS }),
    /createEncoderRunner: heads read pooled features, but the output is tokens\. Ask for pooled features, or leave out the heads\./,
  );
  const none = await withRunner("jax", undefined, (runner) => runner.run(new Float32Array(0), 0));
  assert.deepEqual(
    Object.entries(none).map(([name, rows]) => [name, rows.length]),
    [
      ["features", 0],
      ["smile", 0],
      ["au", 0],
      ["age", 0],
      ["age_median", 0],
    ],
  );
});
