import assert from "node:assert/strict";
import { test } from "node:test";
import { attributeMajorityBaseline, constantF1, majorityClassBaseline, meanAgeBaseline } from "./baselines.js";

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual}, expected ${expected}`);

// Three labels over four samples: positive rates 1/4, 0 and 1.
const AU_TARGETS = [
  [1, 0, 1],
  [0, 0, 1],
  [0, 0, 1],
  [0, 0, 1],
].flat();

test("all-present AU baseline: F1 = 2p/(1+p) per label, labels without a positive left out", () => {
  const p = 1 / 4;
  const result = constantF1(AU_TARGETS, 3, 1);
  close(result.perLabel[0]!, (2 * p) / (1 + p), "label 0");
  assert.ok(Number.isNaN(result.perLabel[1]!));
  close(result.perLabel[2]!, 1, "label 2 (p = 1)");
  close(result.mean, (0.4 + 1) / 2, "mean");
  assert.deepEqual(result.excluded, [1]);
});

test("all-absent AU baseline: F1 = 0 on every scored label", () => {
  const result = constantF1(AU_TARGETS, 3, 0);
  assert.deepEqual([result.perLabel[0], result.perLabel[2], result.mean], [0, 0, 0]);
  assert.deepEqual(result.excluded, [1]);
});

test("majority-class baseline: the training majority, scored on the test set", () => {
  const result = majorityClassBaseline([2, 2, 1, 0, 2, 1], [2, 0, 1, 2], 3);
  assert.equal(result.predictedClass, 2);
  close(result.accuracy, 0.5, "accuracy");
  close(result.meanClassAccuracy.mean, 1 / 3, "mean class accuracy");
  assert.equal(majorityClassBaseline([1, 0, 1, 0], [0], 2).predictedClass, 0, "a tie goes to the lower class");
});

test("mean-age baseline: MAE and CS@5 of always predicting the training mean", () => {
  const result = meanAgeBaseline([20, 30, 40], [30, 36, 10]);
  assert.equal(result.predictedAge, 30);
  close(result.mae, 26 / 3, "MAE");
  close(result.cs5, 1 / 3, "CS@5");
});

test("attribute majority baseline: per attribute the training majority (a tie predicts 0)", () => {
  const train = [1, 0, 1, 1, 0, 0, 1, 1];
  const test_ = [1, 1, 1, 0, 1, 1];
  const result = attributeMajorityBaseline(train, test_, 2);
  assert.deepEqual(result.predicted, [1, 0]);
  assert.deepEqual(result.accuracy.perLabel, [1, 1 / 3]);
  close(result.accuracy.mean, 2 / 3, "mean accuracy");
});

test("baselines refuse empty training labels and out-of-range classes", () => {
  assert.throws(() => meanAgeBaseline([], [3]), /training ages are empty/);
  assert.throws(() => majorityClassBaseline([0, 7], [0], 3), /target 1 is 7\. Class indices must be integers 0-2/);
  assert.throws(() => attributeMajorityBaseline([1, 0, 1], [1, 0], 2), /3 training values do not make rows of 2 labels/);
});
