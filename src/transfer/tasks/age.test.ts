import assert from "node:assert/strict";
import { test } from "node:test";
import { nn, numpy as np } from "../../engine/jax.js";
import { NUM_AGE_BINS } from "../../model/head-activations.js";
import { expectedAge, medianAge } from "../../model/vit.js";
import { decadeOf } from "../metrics.js";
import { AGE_TASK, ageDecades, ageKl, ageTarget, decadeWeightsOf, logAgeTarget } from "./age.js";

/**
 * jax-js computes log to about 1.3e-5 absolute error (measured over 0.007..150, in float32 and
 * float64 alike; exp to 4e-7 relative), so values with a log inside match hand-computed ones to
 * LOG_ERROR, float64 or not. A wrong term is off by far more.
 */
const LOG_ERROR = 2e-5;

const f64 = (values: number[] | number[][]) => np.array(values, { dtype: np.float64 });

/** The age loss's options with σ and no decade weights (β = 0). */
const plain = (sigma: number) => ({ sigma, ageBalance: 0, decadeWeights: null });

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

/** Logits [101] whose softmax is `mass` (age -> probability), the other bins 0 (exp underflows). */
function logitsOf(mass: Record<number, number>): number[] {
  return Array.from({ length: NUM_AGE_BINS }, (_, a) => (a in mass ? Math.log(mass[a]!) : -1e4));
}

/**
 * Bin a spreads its probability over [a − ½, a + ½]. One-hot at 40: half of bin 40 lies below 40.
 * 0.2 at 10 and 0.8 at 20: 0.3 of the 0.8 needed, 0.375 of bin 20, so 19.5 + 0.375 (the mean is 18).
 * Uniform: 50. Half at 20 and half at 30: every age between holds 0.5 below it; the first is 20.5.
 */
test("the median age of a distribution over the bins, by hand, where the mean differs", () => {
  const cases: [Record<number, number>, number][] = [
    [{ 40: 1 }, 40],
    [{ 10: 0.2, 20: 0.8 }, 19.875],
    [Object.fromEntries(Array.from({ length: NUM_AGE_BINS }, (_, a) => [a, 1 / NUM_AGE_BINS])), 50],
    [{ 20: 0.5, 30: 0.5 }, 20.5],
    [{ 0: 1 }, 0],
    [{ 100: 1 }, 100],
  ];
  const got = medianAge(f64(cases.map(([mass]) => logitsOf(mass)))).js() as number[];
  got.forEach((v, i) => assert.ok(Math.abs(v - cases[i]![1]) < 1e-9, `case ${i}: ${v} vs ${cases[i]![1]}`));
  const skewedMean = (expectedAge(f64([logitsOf({ 10: 0.2, 20: 0.8 })])).js() as number[])[0]!;
  assert.ok(Math.abs(skewedMean - 18) < 1e-9, "the expectation of the skewed case is 18");
});

test("the age task predicts the median; a face model's age head says so", () => {
  assert.equal(AGE_TASK.activation, "median-age");
  const logits = f64([logitsOf({ 10: 0.2, 20: 0.8 })]);
  assert.ok(Math.abs((AGE_TASK.predict(logits).js() as number[])[0]! - 19.875) < 1e-9);
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
  const got = AGE_TASK.makeLoss(plain(3))(f64(logits), f64(ages)).item();
  assert.ok(Math.abs(got - want) < LOG_ERROR, `${got} vs ${want}`);
  const perfect = ageKl(logAgeTarget(f64(ages), 3, np.float64), f64(ages), 3).item();
  assert.ok(Math.abs(perfect) < 1e-9, `KL at the target: ${perfect}`);
});

test("the age task: 101 outputs, σ 2 by default, ages as float targets, bad values named", () => {
  assert.equal(AGE_TASK.numOutputs(["age"]), 101);
  assert.deepEqual(AGE_TASK.lossOptions([[30]]), { sigma: 2, ageBalance: 0, decadeWeights: null });
  assert.deepEqual(AGE_TASK.targets([[30], [116]]).js(), [30, 116]);
  assert.throws(() => AGE_TASK.targets([[30], [-1]]), /age targets, row 1: labels are \[-1\]/);
  assert.throws(() => AGE_TASK.makeLoss(plain(0)), /age loss: sigma is 0\. Pass a positive width in years/);
  assert.throws(() => AGE_TASK.lossOptions([[30]], { ageBalance: 1.5 }), /age loss: ageBalance is 1\.5\. Pass β with 0 <= β <= 1/);
  assert.throws(
    () => AGE_TASK.makeLoss({ sigma: 2, ageBalance: 1, decadeWeights: [1, 2] }),
    /age loss: decadeWeights are \[1,2\]\. Pass 8 finite weights >= 0 \(0-9, 10-19, .*, 70\+\), or null/,
  );
  const loss = AGE_TASK.makeLoss(plain(2));
  assert.throws(() => loss(np.zeros([1, 100]), np.array([3])), /age loss: the logits have 100 outputs\. The age head has 101/);
});

/**
 * Eight training ages on decade boundaries: decades 0-9 (0, 9.5), 10-19 (10, 19), 20-29 (25),
 * 60-69 (69.5) and 70+ (70, 116), so counts 2, 2, 1, 1 and 2 of n = 8, K = 8 decades.
 */
const BALANCE_AGES = [0, 9.5, 10, 19, 25, 69.5, 70, 116];
const BALANCE_DECADES = [0, 0, 1, 1, 2, 6, 7, 7];

/** Per-face KL by hand: the Gaussian target against softmax of the logits row. */
function klByHand(logits: number[], age: number, sigma: number): number {
  const t = targetByHand(age, sigma);
  const logSum = Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
  return t.reduce((s, ta, a) => s + (ta > 0 ? ta * (Math.log(ta) - (logits[a]! - logSum)) : 0), 0);
}

/**
 * Their decade weights by hand. β = 1: n/(K·n_d) = 1/n_d, so ½ for the decades of 2 faces and 1 for
 * those of 1 (and for the empty ones); the mean over the 8 faces is (6·½ + 2·1)/8 = 5/8, so 4/5 and
 * 8/5. β = ½: √½ and 1 over a mean of (6·√½ + 2)/8.
 */
const BALANCE_WEIGHTS: Record<number, number[]> = {
  1: [4 / 5, 4 / 5, 8 / 5, 8 / 5, 8 / 5, 8 / 5, 8 / 5, 4 / 5],
  0.5: [Math.SQRT1_2, Math.SQRT1_2, 1, 1, 1, 1, 1, Math.SQRT1_2].map((w) => w / ((6 * Math.SQRT1_2 + 2) / 8)),
};

const balanceLogits = () => BALANCE_AGES.map((_, b) => Array.from({ length: NUM_AGE_BINS }, (_, a) => Math.cos(0.2 * a + 0.7 * b)));

test("decade weights: inverse decade frequency at β = 1 and its square root at β = ½, mean 1 over the training faces", () => {
  const near = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) < 1e-12, `${what}: ${got} vs ${want}`);
  const inverse = decadeWeightsOf(BALANCE_AGES, 1)!;
  BALANCE_WEIGHTS[1]!.forEach((w, d) => near(inverse[d]!, w, `β 1, decade ${d}`));
  const root = decadeWeightsOf(BALANCE_AGES, 0.5)!;
  BALANCE_WEIGHTS[0.5]!.forEach((w, d) => near(root[d]!, w, `β ½, decade ${d}`));
  for (const weights of [inverse, root]) {
    near(BALANCE_DECADES.reduce((s, d) => s + weights[d]!, 0) / BALANCE_AGES.length, 1, "mean weight over the faces");
  }
  // β = 0: no weights at all, so the loss is the plain mean (every face's weight exactly 1).
  assert.equal(decadeWeightsOf(BALANCE_AGES, 0), null);
  const options = AGE_TASK.lossOptions(
    BALANCE_AGES.map((age) => [age]),
    { ageBalance: 1 },
  );
  assert.deepEqual(options, { sigma: 2, ageBalance: 1, decadeWeights: inverse });
});

test("on device, each age falls in decadeOf's decade, boundaries included", () => {
  const ages = Array.from({ length: 2 * 120 + 1 }, (_, i) => i / 2);
  for (const dtype of [np.float32, np.float64]) {
    assert.deepEqual(ageDecades(np.array(ages, { dtype })).js(), ages.map(decadeOf), dtype);
  }
  assert.deepEqual(ageDecades(f64(BALANCE_AGES)).js(), BALANCE_DECADES);
});

test("the balanced age loss is the mean of each face's KL times its decade's weight, by hand", () => {
  const logits = balanceLogits();
  const perFace = BALANCE_AGES.map((age, b) => klByHand(logits[b]!, age, 2));
  const rows = BALANCE_AGES.map((age) => [age]);
  for (const ageBalance of [1, 0.5]) {
    const weights = BALANCE_WEIGHTS[ageBalance]!;
    const want = perFace.reduce((s, kl, b) => s + weights[BALANCE_DECADES[b]!]! * kl, 0) / BALANCE_AGES.length;
    const got = AGE_TASK.makeLoss(AGE_TASK.lossOptions(rows, { ageBalance }))(f64(logits), f64(BALANCE_AGES)).item();
    assert.ok(Math.abs(got - want) < LOG_ERROR, `β ${ageBalance}: ${got} vs ${want}`);
  }
  // Arbitrary weights per decade, not only the balanced ones.
  const weights = [3, 0, 1, 1, 1, 1, 0.25, 2];
  const want = perFace.reduce((s, kl, b) => s + weights[BALANCE_DECADES[b]!]! * kl, 0) / BALANCE_AGES.length;
  const got = AGE_TASK.makeLoss({ sigma: 2, ageBalance: 1, decadeWeights: weights })(f64(logits), f64(BALANCE_AGES)).item();
  assert.ok(Math.abs(got - want) < LOG_ERROR, `given weights: ${got} vs ${want}`);
});

test("β = 0 gives the loss of before, bit for bit, in float32 and float64; weights of 1 give it too", () => {
  const rows = BALANCE_AGES.map((age) => [age]);
  for (const dtype of [np.float32, np.float64]) {
    const logits = () => np.array(balanceLogits(), { dtype });
    const ages = () => np.array(BALANCE_AGES, { dtype });
    // The age loss as it was before age balance, written out.
    const logT = logAgeTarget(ages(), 2, dtype);
    const before = np
      .exp(logT.ref)
      .mul(logT.sub(nn.logSoftmax(logits(), -1)))
      .sum(-1)
      .mean()
      .item();
    assert.equal(ageKl(logits(), ages(), 2).item(), before, `${dtype}, ageKl`);
    const options = AGE_TASK.lossOptions(rows, { ageBalance: 0 });
    assert.deepEqual(options, { sigma: 2, ageBalance: 0, decadeWeights: null });
    assert.equal(AGE_TASK.makeLoss(options)(logits(), ages()).item(), before, dtype);
    const ones = AGE_TASK.makeLoss({ sigma: 2, ageBalance: 1, decadeWeights: new Array(8).fill(1) })(logits(), ages()).item();
    assert.equal(ones, before, `${dtype}, weights of 1`);
  }
});
