import assert from "node:assert/strict";
import { test } from "node:test";
import { headlineOverSeeds, meanStd, taskMetrics } from "./evaluate.js";

test("expression metrics come from the argmax of the probabilities, with a confusion matrix", () => {
  // 3 faces, 7 classes: predicted 3 (happy), 6 (neutral), 3; true 3, 3, 3.
  const probabilities = new Float32Array(21);
  [3, 6, 3].forEach((c, i) => (probabilities[i * 7 + c] = 0.9));
  const metrics = taskMetrics("expression", probabilities, Float32Array.from([3, 3, 3]), 3);
  assert.deepEqual(metrics.headline, { name: "accuracy", value: 2 / 3, higherIsBetter: true });
  const confusion = metrics.confusion as { matrix: number[][] };
  assert.equal(confusion.matrix[3]![3], 2);
  assert.equal(confusion.matrix[3]![6], 1);
});

test("age metrics: MAE in years (lower is better) and CS@5", () => {
  const metrics = taskMetrics("age", Float32Array.from([20, 30, 50]), Float32Array.from([22, 40, 50]), 3);
  assert.deepEqual(metrics.headline, { name: "MAE (years)", value: 4, higherIsBetter: false });
  assert.equal(metrics.cs5, 2 / 3);
});

test("AU metrics: mean F1 over the AUs that occur", () => {
  // 2 faces x 2 AUs; AU A: one true positive, one true negative (F1 1); AU B never occurs (left out).
  const metrics = taskMetrics("au", Float32Array.from([0.9, 0.2, 0.1, 0.7]), Float32Array.from([1, 0, 0, 0]), 2);
  assert.equal(metrics.headline.value, 1);
});

test("mean ± std over seeds uses the sample standard deviation", () => {
  const { mean, std, n } = meanStd([1, 2, 3, 6]);
  assert.equal(mean, 3);
  assert.ok(Math.abs(std - Math.sqrt(14 / 3)) < 1e-12);
  assert.equal(n, 4);
});

test("the headline over seeds averages each seed's folds first, then takes mean ± std over seeds", () => {
  const run = (seed: number, value: number) => ({ seed, metrics: { headline: { value } } });
  // Seed 1 listed first; seed 0 has folds 0.2 and 0.4 (mean 0.3), seed 1 has 0.5 and 0.7 (mean 0.6).
  const result = headlineOverSeeds([run(1, 0.5), run(0, 0.2), run(1, 0.7), run(0, 0.4)]);
  assert.deepEqual(
    result.perSeed.map((v) => +v.toFixed(12)),
    [0.3, 0.6],
  );
  assert.ok(Math.abs(result.mean - 0.45) < 1e-12);
  assert.ok(Math.abs(result.std - Math.sqrt(0.045)) < 1e-12, "sample std of 0.3 and 0.6");
  assert.equal(result.n, 2, "n counts seeds, not folds");
});
