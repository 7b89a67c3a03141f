import assert from "node:assert/strict";
import { test } from "node:test";
import { skipUnlessOnnxRuntime } from "../../../test/support/onnx-runtime.js";
import { maxAbsDiff } from "../../../test/support/numerics.js";
import { jit, lax, makeJaxpr, numpy as np, type Array as JaxArray } from "../jax.js";
import { FacepriorError } from "../../errors.js";
import { lowerJaxpr } from "./lower-jaxpr.js";
import { compileForOnnxRuntime } from "./onnx-function.js";

const skip = await skipUnlessOnnxRuntime();
const ramp = (shape: number[], seed: number) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(Float32Array.from({ length: n }, (_, k) => Math.sin(k * 0.37 + seed))).reshape(shape);
};

test("a primitive without an ONNX rule is refused by name, with the way out", () => {
  const conv = (x: JaxArray, w: JaxArray) => lax.conv(x, w, [1, 1], "VALID");
  const { jaxpr } = makeJaxpr(conv)(ramp([1, 2, 5, 5], 0), ramp([3, 2, 3, 3], 1));
  assert.throws(
    () => lowerJaxpr(jaxpr, []),
    (error: FacepriorError) =>
      error.code === "BAD_ARGUMENT" &&
      /primitive "conv" \(float32\[1,3,3,3\]\) has no ONNX rule\. Train with the jax engine/.test(error.message),
  );
  jaxpr.dispose();
});

test("layout moves around dots lower to the values jax-js computes: broadcasts, transposes through reshapes, batched matmuls", {
  skip,
}, async () => {
  // Each case is one pattern of the backward pass: a broadcast operand, a transposed and merged
  // operand (weight gradients), batch axes on both sides, and a negated operand folded into a Sub.
  const cases: [string, (...xs: JaxArray[]) => JaxArray, JaxArray[]][] = [
    [
      "broadcast then dot",
      (a, b) =>
        np
          .broadcastTo(a.reshape([4, 1, 6]), [4, 5, 6])
          .mul(b)
          .sum(-1),
      [ramp([4, 6], 1), ramp([5, 6], 2)],
    ],
    [
      "weight gradient",
      (dy, x) => np.matmul(np.transpose(dy, [2, 0, 1]).reshape([7, 12]), x.reshape([12, 5])),
      [ramp([3, 4, 7], 3), ramp([3, 4, 5], 4)],
    ],
    ["batched attention", (q, k) => np.matmul(q, np.transpose(k, [0, 1, 3, 2])), [ramp([2, 3, 5, 4], 5), ramp([2, 3, 6, 4], 6)]],
    ["a - b and -(a b)", (a, b) => a.ref.sub(b.ref).add(a.mul(b.neg())), [ramp([3, 4], 7), ramp([3, 4], 8)]],
  ];
  for (const [name, fn, args] of cases) {
    const compiled = await compileForOnnxRuntime(fn, args as never, { hostArguments: [], threads: 1 });
    const host = await Promise.all(args.map((a) => a.ref.data() as Promise<Float32Array>));
    const [lowered] = await compiled.run(host, []);
    const expected = (await (jit(fn) as (...xs: JaxArray[]) => JaxArray)(...args).data()) as Float32Array;
    assert.ok(maxAbsDiff(lowered as Float32Array, expected) < 1e-5, `${name}: ${maxAbsDiff(lowered as Float32Array, expected)}`);
    await compiled.dispose();
  }
});
