import assert from "node:assert/strict";
import { test } from "node:test";
import { FacepriorError } from "../errors.js";
import { parseTrainConfig, resolveTrainConfig, withBatchAtMost } from "./train-config.js";

test("every field has a default", () => {
  assert.deepEqual(parseTrainConfig({}), {
    baseLr: 1e-3,
    minLr: 1e-6,
    weightDecay: 0.05,
    betas: [0.9, 0.999],
    eps: 1e-8,
    clipNorm: 1,
    layerDecay: 1,
    accumSteps: 1,
    batchSize: 64,
    epochs: 1,
    seed: 0,
    checkpointEvery: 500,
    keepCheckpoints: 2,
  });
});

test("derived values: effective batch, lr scaled by batch / 256, steps from epochs, 5% warmup", () => {
  const resolved = resolveTrainConfig({ batchSize: 32, accumSteps: 4, epochs: 10, baseLr: 1.5e-4 }, 1000);
  assert.deepEqual(resolved.derived, {
    datasetSize: 1000,
    effectiveBatch: 128,
    lr: 7.5e-5,
    stepsPerEpoch: 7,
    totalSteps: 70,
    warmupSteps: 4,
  });
  assert.ok(Object.isFrozen(resolved) && Object.isFrozen(resolved.derived));
});

test("explicit lr, steps and warmupSteps override the derived ones", () => {
  const { derived } = resolveTrainConfig({ batchSize: 8, lr: 0.01, steps: 30, warmupSteps: 0, epochs: 99 }, 100);
  assert.equal(derived.lr, 0.01);
  assert.equal(derived.totalSteps, 30);
  assert.equal(derived.warmupSteps, 0);
});

test("bad values are quoted back with the field name", () => {
  assert.throws(
    () => parseTrainConfig({ batchSize: 0, betas: [0.9, 1.5], lrr: 1 }),
    (error: FacepriorError) =>
      error.code === "BAD_CONFIG" &&
      /batchSize: .* \(got 0\)/.test(error.message) &&
      /betas\.1: .* \(got 1\.5\)/.test(error.message) &&
      error.message.includes("lrr"),
  );
});

test("a batch larger than the dataset is refused with the numbers", () => {
  assert.throws(
    () => resolveTrainConfig({ batchSize: 32, accumSteps: 2 }, 50),
    (error: FacepriorError) => error.code === "BAD_CONFIG" && error.message.includes("32 × accumSteps 2 = 64 exceeds the 50"),
  );
});

test("a batch larger than the training set is capped at the set, so 5 few-shot faces still train", () => {
  assert.equal(withBatchAtMost({ batchSize: 16, steps: 100 }, 5).batchSize, 5);
  assert.equal(withBatchAtMost({ batchSize: 16 }, 500).batchSize, 16);
  assert.equal(withBatchAtMost({}, 10).batchSize, 10, "the schema's default 64 is capped too");
  assert.equal(resolveTrainConfig(withBatchAtMost({ batchSize: 16, steps: 100 }, 5), 5).derived.totalSteps, 100);
});
