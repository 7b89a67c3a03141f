import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "../../engine/jax.js";
import { EXPRESSION_TASK, smoothedCrossEntropy } from "./expression.js";

/**
 * jax-js computes log to about 1.3e-5 absolute error (measured over 0.007..150, in float32 and
 * float64 alike; exp to 4e-7 relative), so values with a log inside match hand-computed ones to
 * LOG_ERROR, float64 or not. A wrong term is off by far more.
 */
const LOG_ERROR = 2e-5;

const LOGITS = [
  [1, 2, 3],
  [0.5, -1, 0],
];
const CLASSES = [2, 0];

/** −Σ_c t_c log softmax_c, t = (1 − ε)·onehot + ε/K, averaged over the rows; by hand. */
function byHand(eps: number): number {
  const rows = LOGITS.map((z, b) => {
    const logSum = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    return -z.reduce((s, v, c) => s + ((c === CLASSES[b] ? 1 - eps : 0) + eps / z.length) * (v - logSum), 0);
  });
  return (rows[0]! + rows[1]!) / 2;
}

const run = (eps: number) =>
  smoothedCrossEntropy(np.array(LOGITS, { dtype: np.float64 }), np.array(CLASSES, { dtype: np.int32 }), eps).item();

test("label-smoothed cross-entropy equals the hand-computed value on 2 samples x 3 classes", () => {
  for (const eps of [0.1, 0.3]) {
    const want = byHand(eps);
    assert.ok(Math.abs(run(eps) - want) < LOG_ERROR, `ε = ${eps}: ${run(eps)} vs ${want}`);
  }
});

test("ε = 0 is plain cross-entropy, −log softmax of the true class", () => {
  const plain = (-(3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))) - (0.5 - Math.log(Math.exp(0.5) + Math.exp(-1) + 1))) / 2;
  assert.ok(Math.abs(run(0) - plain) < LOG_ERROR, `${run(0)} vs ${plain}`);
});

test("the expression task: 7 outputs, default ε 0.1, softmax predictions, checked targets", () => {
  assert.equal(EXPRESSION_TASK.numOutputs(["expression"]), 7);
  assert.deepEqual(EXPRESSION_TASK.lossOptions([]), { labelSmoothing: 0.1 });
  const probs = EXPRESSION_TASK.predict(np.array([[0, Math.log(3), 0, 0, 0, 0, 0]])).js() as number[][];
  assert.ok(Math.abs(probs[0]![1]! - 3 / 9) < 1e-6, `p(disgust) ${probs[0]![1]}`);
  assert.deepEqual(EXPRESSION_TASK.targets([[3], [6]]).js(), [3, 6]);
  assert.throws(() => EXPRESSION_TASK.targets([[3], [7]]), /expression targets, row 1: labels are \[7\]\. Each row must hold one label, an expression class index 0-6/);
  assert.throws(() => EXPRESSION_TASK.makeLoss({ labelSmoothing: 1 }), /expression loss: labelSmoothing is 1\. Pass ε with 0 <= ε < 1/);
  assert.throws(() => EXPRESSION_TASK.numOutputs(["age"]), /expression head: the dataset's label columns are \["age"\]/);
});
