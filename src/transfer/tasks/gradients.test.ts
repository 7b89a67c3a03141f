/**
 * Gradients of the four task losses: central finite differences in float64 against `grad`, the
 * closed forms of the softmax losses, and jit against eager.
 *
 * jax-js computes log to about 1.3e-5 absolute error, in float64 as in float32 (exp to 4e-7
 * relative; both measured), and a difference quotient divides that by its step. So: steps of
 * 3e-2 and 1.5e-2 with Richardson extrapolation for the O(h²) term, and a tolerance of 5e-4
 * of |∇f| (see checkGradient; measured errors up to 2e-5 of |∇f|, the age loss). A missing or wrong term is off by far
 * more. The closed forms are held to 1e-7 absolute for the same reason.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { grad, jit, nn, numpy as np, random, tree, type Array as JaxArray } from "../../engine/jax.js";
import { initTaskHead, type TaskHead } from "../heads.js";
import { probeLoss } from "../probe.js";
import { ageTarget } from "./age.js";
import { TRANSFER_TASKS, type TaskLoss } from "./index.js";
import { checkGradient } from "../../../test/support/finite-differences.js";

const DIFFERENCES = { step: 3e-2, tolerance: 5e-4 };

/** A deterministic, non-degenerate [rows, cols] table of values in [-scale, scale]. */
const table = (rows: number, cols: number, seed: number, scale = 2) =>
  Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => scale * Math.sin(seed + 1.3 * r + 0.7 * c + 0.11 * r * c)));

type Case = { loss: TaskLoss; logits: number[][]; targets: () => JaxArray };
const B = 3;

const CASES: Record<string, Case> = {
  "au (positive weights)": {
    loss: TRANSFER_TASKS.au.makeLoss({ maxPosWeight: 10, posWeight: [2, 0.5, 7] }),
    logits: table(B, 3, 1),
    targets: () =>
      TRANSFER_TASKS.au.targets([
        [1, 0, 1],
        [0, 1, 0],
        [1, 1, 0],
      ]),
  },
  "expression (ε 0.1)": {
    loss: TRANSFER_TASKS.expression.makeLoss({ labelSmoothing: 0.1, classBalance: 0, classWeights: null }),
    logits: table(B, 7, 2),
    targets: () => TRANSFER_TASKS.expression.targets([[0], [3], [6]]),
  },
  "expression (ε 0.1, class weights)": {
    loss: TRANSFER_TASKS.expression.makeLoss({ labelSmoothing: 0.1, classBalance: 1, classWeights: [0.5, 1, 1.5, 2, 1, 3, 0.7] }),
    logits: table(B, 7, 2),
    targets: () => TRANSFER_TASKS.expression.targets([[0], [3], [6]]),
  },
  "age (DLDL, σ 2)": {
    loss: TRANSFER_TASKS.age.makeLoss({ sigma: 2, ageBalance: 0, decadeWeights: null }),
    logits: table(B, 101, 3),
    targets: () => TRANSFER_TASKS.age.targets([[3], [45], [116]]),
  },
  "age (DLDL, σ 2, decade weights)": {
    loss: TRANSFER_TASKS.age.makeLoss({ sigma: 2, ageBalance: 1, decadeWeights: [0.5, 1, 1.5, 2, 1, 3, 0.7, 1.2] }),
    logits: table(B, 101, 3),
    targets: () => TRANSFER_TASKS.age.targets([[3], [45], [116]]),
  },
  attributes: {
    loss: TRANSFER_TASKS.attributes.makeLoss({ posWeight: null }),
    logits: table(B, 40, 4),
    targets: () => TRANSFER_TASKS.attributes.targets(table(B, 40, 5).map((row) => row.map((v) => (v > 0 ? 1 : 0)))),
  },
};

for (const [name, { loss, logits, targets }] of Object.entries(CASES)) {
  test(`finite differences: ${name} loss`, () => {
    const y = targets();
    checkGradient(name, (x: JaxArray) => loss(x, y.ref), np.array(logits, { dtype: np.float64 }), DIFFERENCES);
    y.dispose();
  });

  test(`jitted ${name} loss equals eager`, () => {
    const eager = loss(np.array(logits), targets()).item();
    const compiled = jit(loss);
    const jitted = compiled(np.array(logits), targets()).item();
    compiled.dispose();
    assert.ok(Math.abs(eager - jitted) < 1e-6 * Math.abs(eager), `eager ${eager}, jit ${jitted}`);
  });
}

test("softmax losses have the closed-form gradient (softmax − target) / B", () => {
  const logits = table(B, 101, 6);
  const ages = [10, 50.5, 90];
  const g = grad((x: JaxArray) => CASES["age (DLDL, σ 2)"]!.loss(x, np.array(ages, { dtype: np.float64 })))(
    np.array(logits, { dtype: np.float64 }),
  );
  const want = nn
    .softmax(np.array(logits, { dtype: np.float64 }), -1)
    .sub(ageTarget(np.array(ages), 2, np.float64))
    .div(B);
  const diff = np.abs(g.sub(want)).max().item();
  assert.ok(diff < 1e-7, `age: max |grad − (q − t)/B| = ${diff}`);

  const classes = [1, 0, 6];
  const eps = 0.1;
  const ce = grad((x: JaxArray) => CASES["expression (ε 0.1)"]!.loss(x, np.array(classes, { dtype: np.int32 })))(
    np.array(table(B, 7, 7), { dtype: np.float64 }),
  ).js() as number[][];
  table(B, 7, 7).forEach((z, b) => {
    const sum = z.reduce((s, v) => s + Math.exp(v), 0);
    z.forEach((v, c) => {
      const t = (c === classes[b] ? 1 - eps : 0) + eps / 7;
      assert.ok(Math.abs(ce[b]![c]! - (Math.exp(v) / sum - t) / B) < 1e-7, `expression [${b}, ${c}]`);
    });
  });
});

test("finite differences: linear probe with fc_norm, through the expression loss, in head and features", () => {
  const head = tree.map((x: JaxArray) => x.astype(np.float64), initTaskHead(random.key(9), 6, 7, { fcNorm: true, initStd: 0.5 }));
  // fc_norm starts as the identity affine; move it off so its gradient is exercised in general.
  head.fc_norm = {
    weight: np.array(table(1, 6, 10)[0]!, { dtype: np.float64 }).add(1),
    bias: np.array(table(1, 6, 11)[0]!, { dtype: np.float64 }),
  };
  const lossFn = probeLoss("expression", CASES["expression (ε 0.1)"]!.loss);
  const targets = TRANSFER_TASKS.expression.targets([[2], [5], [0]]);
  const f = ({ head, features }: { head: TaskHead; features: JaxArray }) => {
    const [loss, parts] = lossFn(head, { features, targets: targets.ref }, random.key(0));
    tree.dispose(parts);
    return loss;
  };
  checkGradient("probe", f, { head, features: np.array(table(B, 6, 12), { dtype: np.float64 }) }, DIFFERENCES);
  targets.dispose();
});
