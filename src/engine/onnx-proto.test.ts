import assert from "node:assert/strict";
import { test } from "node:test";
import { OnnxSession } from "./onnx-session.js";
import { skipUnlessOnnxRuntime } from "../../test/support/onnx-runtime.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { encodeOnnxModel, encodeVarint, type OnnxModel } from "./onnx-proto.js";

test("varints: 7 bits a byte, low first; negative int64 as ten bytes of two's complement", () => {
  assert.deepEqual([...encodeVarint(0)], [0]);
  assert.deepEqual([...encodeVarint(127)], [0x7f]);
  assert.deepEqual([...encodeVarint(300)], [0xac, 0x02]);
  assert.deepEqual([...encodeVarint(2 ** 35)], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  assert.deepEqual([...encodeVarint(-1)], [...Array(9).fill(0xff), 0x01]);
});

/**
 * y = transpose(layerNorm(reshape(x, [N, 3, 4])), [0, 2, 1]), x [N, 3, 2, 2] shaped like images:
 * float, int and ints attributes, float and int64 constants, a symbolic batch size.
 */
const MODEL: OnnxModel = {
  producerName: "faceprior-test",
  graph: {
    name: "tiny",
    inputs: [{ name: "x", shape: ["N", 3, 2, 2] }],
    outputs: [{ name: "y", shape: ["N", 4, 3] }],
    initializers: [
      { name: "shape", dims: [3], data: BigInt64Array.of(0n, 3n, 4n) },
      { name: "w", dims: [4], data: Float32Array.of(1, 2, 1, 2) },
      { name: "b", dims: [4], data: Float32Array.of(0, 0, 0, 1) },
    ],
    nodes: [
      { opType: "Reshape", inputs: ["x", "shape"], outputs: ["rows"] },
      {
        opType: "LayerNormalization",
        inputs: ["rows", "w", "b"],
        outputs: ["normed"],
        attributes: { axis: { int: -1 }, epsilon: { float: 0.25 } },
      },
      { opType: "Transpose", inputs: ["normed"], outputs: ["y"], attributes: { perm: { ints: [0, 2, 1] } } },
    ],
  },
};

/** The same by hand, for x as rows of 4. */
function expected(x: number[]): number[] {
  const [w, b] = [
    [1, 2, 1, 2],
    [0, 0, 0, 1],
  ];
  const out: number[] = [];
  for (let n = 0; n < x.length / 12; n++) {
    const rows = [0, 1, 2].map((c) => x.slice(n * 12 + c * 4, n * 12 + c * 4 + 4));
    const normed = rows.map((row) => {
      const mean = row.reduce((s, v) => s + v, 0) / 4;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / 4;
      return row.map((v, i) => ((v - mean) / Math.sqrt(variance + 0.25)) * w[i]! + b[i]!);
    });
    for (let i = 0; i < 4; i++) for (let c = 0; c < 3; c++) out.push(normed[c]![i]!);
  }
  return out;
}

test("an encoded model loads in onnxruntime and computes what its nodes say, at any batch size", {
  skip: await skipUnlessOnnxRuntime(),
}, async () => {
  const session = await OnnxSession.create(encodeOnnxModel(MODEL), { threads: 1 });
  try {
    assert.deepEqual(session.outputNames, ["y"]);
    const x = Array.from({ length: 36 }, (_, i) => Math.sin(i) * 3);
    for (const n of [1, 3]) {
      const { y } = await session.run(Float32Array.from(x.slice(0, 12 * n)), n);
      assert.ok(maxAbsDiff(y!, expected(x.slice(0, 12 * n))) < 1e-5, `batch ${n}: ${[...y!]}`);
    }
  } finally {
    await session.dispose();
  }
});
