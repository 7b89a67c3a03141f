import assert from "node:assert/strict";
import { test } from "node:test";
import { grad, numpy as np, type Array as JaxArray } from "../../engine/jax.js";
import { bceWithLogits, multiLabelLoss, softplus } from "./multi-label.js";

const LOGITS = [
  [0.5, -1, 2],
  [3, 0, -2],
];
const TARGETS = [
  [1, 0, 1],
  [0, 1, 0],
];
const WEIGHTS = [2, 2, 10];
/**
 * jax-js computes log to about 1.3e-5 absolute error (measured over 0.007..150, in float32 and
 * float64 alike; exp to 4e-7 relative), so values with a log inside match hand-computed ones to
 * LOG_ERROR, float64 or not. A wrong term is off by far more.
 */
const LOG_ERROR = 2e-5;
const f64 = (rows: number[][]) => np.array(rows, { dtype: np.float64 });
const sigma = (x: number) => 1 / (1 + Math.exp(-x));

/** −[w·y·log σ(x) + (1−y)·log(1−σ(x))], the textbook form, averaged over all entries. */
function textbookBce(weights: number[]): number {
  const terms = LOGITS.flatMap((row, i) =>
    row.map((x, j) => {
      const y = TARGETS[i]![j]!;
      return -(weights[j]! * y * Math.log(sigma(x)) + (1 - y) * Math.log(1 - sigma(x)));
    }),
  );
  return terms.reduce((s, v) => s + v, 0) / terms.length;
}

test("BCE with positive weights equals the textbook value on a 2 x 3 example", () => {
  const got = bceWithLogits(f64(LOGITS), f64(TARGETS), WEIGHTS).item();
  const want = textbookBce(WEIGHTS);
  assert.ok(Math.abs(got - want) < LOG_ERROR, `${got} vs ${want}`);
});

test("BCE without weights equals max(x,0) − x·y + log(1 + exp(−|x|)), averaged", () => {
  const got = bceWithLogits(f64(LOGITS), f64(TARGETS), null).item();
  const want = textbookBce([1, 1, 1]);
  const stableForm =
    LOGITS.flat().reduce((s, x, i) => s + Math.max(x, 0) - x * TARGETS.flat()[i]! + Math.log(1 + Math.exp(-Math.abs(x))), 0) / 6;
  assert.ok(Math.abs(want - stableForm) < 1e-12);
  assert.ok(Math.abs(got - want) < LOG_ERROR, `${got} vs ${want}`);
});

test("BCE stays finite for logits ±100 in float32: value and gradient", () => {
  const logits = [[100, -100, 100, -100]];
  const targets = [[0, 1, 1, 0]];
  // The confidently wrong entries cost 100 each (×2 for the weighted positive), the right ones ~0.
  const value = bceWithLogits(np.array(logits), np.array(targets), [1, 2, 1, 1]).item();
  assert.ok(Math.abs(value - (100 + 200) / 4) < 1e-4, `loss ${value}`);
  const g = grad((x: JaxArray) => bceWithLogits(x, np.array(targets), [1, 2, 1, 1]))(np.array(logits)).js() as number[][];
  // d/dx = ((w·y + 1 − y)·σ(x) − w·y) / (B·K)
  assert.deepEqual(
    g[0]!.map((v) => Math.round(v * 1e6) / 1e6),
    [0.25, -0.5, 0, 0],
  );
  assert.ok(Number.isFinite(softplus(np.array([1000])).item()));
});

test("at logits of exactly 0 (a zero-initialised head) the gradient is ((w·y + 1 − y)/2 − w·y) / (B·K)", () => {
  const g = grad((x: JaxArray) => bceWithLogits(x, f64(TARGETS), WEIGHTS))(np.zeros([2, 3], { dtype: np.float64 })).js() as number[][];
  const want = TARGETS.map((row) => row.map((y, j) => ((WEIGHTS[j]! * y + 1 - y) / 2 - WEIGHTS[j]! * y) / 6));
  g.flat().forEach((v, i) => assert.ok(Math.abs(v - want.flat()[i]!) < 1e-12, `entry ${i}: ${v} vs ${want.flat()[i]}`));
});

test("the multi-label loss refuses weights that do not match the logits", () => {
  const loss = multiLabelLoss("au", [1, 2]);
  assert.throws(() => loss(f64(LOGITS), f64(TARGETS)), /au loss: posWeight has 2 entries but the logits have 3/);
  assert.throws(() => multiLabelLoss("attributes", [1, 0]), /attributes loss: posWeight\[1\] is 0\. Weights must be finite and above 0/);
});
