import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "../engine/jax.js";
import { patchifyLabels, pixelLoss, NUM_PARSING_CLASSES } from "./loss-pixel.js";

const K = NUM_PARSING_CLASSES;

test("parsing labels are patchified row-major inside each patch, patches row-major", () => {
  const labels = np
    .array(
      Int32Array.from({ length: 16 }, (_, i) => i),
      { dtype: np.int32 },
    )
    .reshape([1, 4, 4]);
  assert.deepEqual(patchifyLabels(labels, 2).js(), [
    [
      [0, 1, 4, 5],
      [2, 3, 6, 7],
      [8, 9, 12, 13],
      [10, 11, 14, 15],
    ],
  ]);
});

test("L_pix equals the hand-computed cross-entropy over the pixels of masked patches", () => {
  // 4x4 parsing map, patch 2 (L = 4, p·p = 4), decoder width 3.
  const [dd, pp] = [3, 4];
  const parsing = [
    [1, 2, 0, 9],
    [4, 6, 7, 7],
    [8, 3, 5, 1],
    [0, 0, 2, 6],
  ];
  const tokens = Array.from({ length: 4 }, (_, l) => Array.from({ length: dd }, (_, d) => Math.sin(1 + l * 3 + d)));
  const weight = Array.from({ length: pp * K }, (_, o) => Array.from({ length: dd }, (_, d) => Math.cos(0.37 * o + 1.1 * d) * 0.8));
  const bias = Array.from({ length: pp * K }, (_, o) => 0.05 * Math.sin(o));
  const mask = [0, 1, 1, 0];
  let sum = 0;
  for (let l = 0; l < 4; l++) {
    if (mask[l] === 0) continue;
    const [row, col] = [Math.floor(l / 2), l % 2];
    let patchCe = 0;
    for (let q = 0; q < pp; q++) {
      const label = parsing[2 * row + Math.floor(q / 2)]![2 * col + (q % 2)]!;
      const logits = Array.from({ length: K }, (_, k) => weight[q * K + k]!.reduce((s, w, d) => s + w * tokens[l]![d]!, bias[q * K + k]!));
      const logSum = Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
      patchCe += (logSum - logits[label]!) / pp;
    }
    sum += patchCe;
  }
  const expected = sum / 2;
  const got = pixelLoss(
    { weight: np.array(weight), bias: np.array(bias) },
    np.array([tokens]),
    np.array([parsing], { dtype: np.int32 }),
    np.array([mask]),
    2,
  ).js() as number;
  assert.ok(Math.abs(got - expected) < 1e-5 * expected, `${got} vs ${expected}`);
});
