import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "../../engine/jax.js";
import { NUM_AGE_BINS } from "../../model/head-activations.js";
import { expectedAge } from "../../model/vit.js";
import { AGE_TASK, ageKl, ageTarget, logAgeTarget } from "./age.js";

/**
 * jax-js computes log to about 1.3e-5 absolute error (measured over 0.007..150, in float32 and
 * float64 alike; exp to 4e-7 relative), so values with a log inside match hand-computed ones to
 * LOG_ERROR, float64 or not. A wrong term is off by far more.
 */
const LOG_ERROR = 2e-5;

const f64 = (values: number[] | number[][]) => np.array(values, { dtype: np.float64 });

/** The DLDL target for one age by hand: a Gaussian over 0..100 around min(age, 100), normalised. */
function targetByHand(age: number, sigma: number): number[] {
  const y = Math.min(Math.max(age, 0), 100);
  const w = Array.from({ length: NUM_AGE_BINS }, (_, a) => Math.exp(-((a - y) ** 2) / (2 * sigma * sigma)));
  const z = w.reduce((s, v) => s + v, 0);
  return w.map((v) => v / z);
}

test("the DLDL target sums to 1, peaks at the true age, and matches the Gaussian by hand", () => {
  const ages = [0, 37, 100, 52.5];
  const rows = ageTarget(f64(ages), 2, np.float64).js() as number[][];
  rows.forEach((row, i) => {
    const sum = row.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(sum - 1) < 1e-6, `age ${ages[i]}: sums to ${sum}`);
    const hand = targetByHand(ages[i]!, 2);
    row.forEach((v, a) => assert.ok(Math.abs(v - hand[a]!) < LOG_ERROR, `age ${ages[i]}, bin ${a}: ${v} vs ${hand[a]}`));
  });
  const peak = (row: number[]) => row.indexOf(Math.max(...row));
  assert.deepEqual(rows.slice(0, 3).map(peak), [0, 37, 100]);
  assert.ok(Math.abs(rows[1]![36]! - rows[1]![38]!) < 1e-12, "symmetric around 37");
});

test("ages above 100 get the target of 100 (the clip), ages up to 116 included", () => {
  const rows = ageTarget(f64([116, 100]), 2, np.float64).js() as number[][];
  assert.deepEqual(rows[0], rows[1]);
});

test("the expectation of a one-hot distribution is that age", () => {
  const ages = [0, 23, 100];
  const logits = ages.map((age) => Array.from({ length: NUM_AGE_BINS }, (_, a) => (a === age ? 0 : -1e4)));
  const got = expectedAge(f64(logits)).js() as number[];
  got.forEach((v, i) => assert.ok(Math.abs(v - ages[i]!) < 1e-9, `${v} vs ${ages[i]}`));
});

test("the age loss is KL(target ‖ softmax) by hand, and 0 when the logits are log target", () => {
  const ages = [30, 71.2];
  const logits = ages.map((_, b) => Array.from({ length: NUM_AGE_BINS }, (_, a) => Math.sin(0.3 * a + b)));
  const want =
    ages
      .map((age, b) => {
        const t = targetByHand(age, 3);
        const logSum = Math.log(logits[b]!.reduce((s, v) => s + Math.exp(v), 0));
        return t.reduce((s, ta, a) => s + (ta > 0 ? ta * (Math.log(ta) - (logits[b]![a]! - logSum)) : 0), 0);
      })
      .reduce((s, v) => s + v, 0) / 2;
  const got = AGE_TASK.makeLoss({ sigma: 3 })(f64(logits), f64(ages)).item();
  assert.ok(Math.abs(got - want) < LOG_ERROR, `${got} vs ${want}`);
  const perfect = ageKl(logAgeTarget(f64(ages), 3, np.float64), f64(ages), 3).item();
  assert.ok(Math.abs(perfect) < 1e-9, `KL at the target: ${perfect}`);
});

test("the age task: 101 outputs, σ 2 by default, ages as float targets, bad values named", () => {
  assert.equal(AGE_TASK.numOutputs(["age"]), 101);
  assert.deepEqual(AGE_TASK.lossOptions([[30]]), { sigma: 2 });
  assert.deepEqual(AGE_TASK.targets([[30], [116]]).js(), [30, 116]);
  assert.throws(() => AGE_TASK.targets([[30], [-1]]), /age targets, row 1: labels are \[-1\]/);
  assert.throws(() => AGE_TASK.makeLoss({ sigma: 0 }), /age loss: sigma is 0\. Pass a positive width in years/);
  const loss = AGE_TASK.makeLoss({ sigma: 2 });
  assert.throws(() => loss(np.zeros([1, 100]), np.array([3])), /age loss: the logits have 100 outputs\. The age head has 101/);
});
