import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "../../engine/jax.js";
import { balancedClassWeights } from "./balanced-weights.js";
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
  assert.deepEqual(EXPRESSION_TASK.lossOptions([]), { labelSmoothing: 0.1, classBalance: 0, classWeights: null });
  const probs = EXPRESSION_TASK.predict(np.array([[0, Math.log(3), 0, 0, 0, 0, 0]])).js() as number[][];
  assert.ok(Math.abs(probs[0]![1]! - 3 / 9) < 1e-6, `p(disgust) ${probs[0]![1]}`);
  assert.deepEqual(EXPRESSION_TASK.targets([[3], [6]]).js(), [3, 6]);
  assert.throws(
    () => EXPRESSION_TASK.targets([[3], [7]]),
    /expression targets, row 1: labels are \[7\]\. Each row must hold one label, an expression class index 0-6/,
  );
  assert.throws(
    () => EXPRESSION_TASK.makeLoss({ labelSmoothing: 1, classBalance: 0, classWeights: null }),
    /expression loss: labelSmoothing is 1\. Pass ε with 0 <= ε < 1/,
  );
  assert.throws(
    () => EXPRESSION_TASK.lossOptions([[0]], { classBalance: 2 }),
    /expression loss: classBalance is 2\. Pass β with 0 <= β <= 1/,
  );
  assert.throws(
    () => EXPRESSION_TASK.makeLoss({ labelSmoothing: 0, classBalance: 1, classWeights: [1, 2] }),
    /expression loss: classWeights are \[1,2\]\. Pass 7 finite weights/,
  );
  assert.throws(() => EXPRESSION_TASK.numOutputs(["age"]), /expression head: the dataset's label columns are \["age"\]/);
});

test("class weights: inverse frequency at β = 1 (mean 1 over the training set), its square root at β = ½", () => {
  const classes = [0, 0, 0, 1];
  const inverse = balancedClassWeights(classes, 3, 1)!;
  // n/(K·n_c) = 4/9 and 4/3, and 1 for the empty class; mean over faces (3·4/9 + 4/3)/4 = 2/3; so 2/3, 2 and 3/2.
  [2 / 3, 2, 3 / 2].forEach((w, c) => assert.ok(Math.abs(inverse[c]! - w) < 1e-12, `class ${c}: ${inverse[c]} vs ${w}`));
  const root = balancedClassWeights(classes, 3, 0.5)!;
  assert.ok(Math.abs((3 * root[0]! + root[1]!) / 4 - 1) < 1e-12 && Math.abs(root[1]! / root[0]! - Math.sqrt(3)) < 1e-12);
  assert.equal(balancedClassWeights(classes, 3, 0), null);
  assert.deepEqual(
    EXPRESSION_TASK.lossOptions([[0], [0], [0], [1]], { classBalance: 1 })
      .classWeights!.slice(0, 2)
      .map((w) => +w.toFixed(6)),
    [0.666667, 2],
  );
});

test("weighted cross-entropy is the mean of each face's loss times its class weight, by hand", () => {
  const weights = [2, 1, 0.5];
  const perRow = (eps: number) =>
    LOGITS.map((z, b) => {
      const logSum = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
      return -z.reduce((s, v, c) => s + ((c === CLASSES[b] ? 1 - eps : 0) + eps / z.length) * (v - logSum), 0);
    });
  const [l0, l1] = perRow(0.1);
  const want = (weights[CLASSES[0]!]! * l0! + weights[CLASSES[1]!]! * l1!) / 2;
  const got = smoothedCrossEntropy(np.array(LOGITS, { dtype: np.float64 }), np.array(CLASSES, { dtype: np.int32 }), 0.1, weights).item();
  assert.ok(Math.abs(got - want) < LOG_ERROR, `${got} vs ${want}`);
});
