import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "../../engine/jax.js";
import { AU_TASK, positiveWeights } from "./au.js";
import { bceWithLogits } from "./multi-label.js";

/**
 * jax-js computes log to about 1.3e-5 absolute error (measured over 0.007..150, in float32 and
 * float64 alike; exp to 4e-7 relative), so values with a log inside match hand-computed ones to
 * LOG_ERROR, float64 or not. A wrong term is off by far more.
 */
const LOG_ERROR = 2e-5;

/** 12 rows of 4 AUs: 3 positives (ratio 3), none (→ cap), 1 (ratio 11 → cap), all (ratio 0 → floor). */
const TRAIN = Array.from({ length: 12 }, (_, i) => [i < 3 ? 1 : 0, 0, i === 5 ? 1 : 0, 1]);

test("positive weights are negatives/positives, clamped to [1/10, 10]", () => {
  assert.deepEqual(positiveWeights(TRAIN), [3, 10, 10, 0.1]);
  assert.deepEqual(positiveWeights(TRAIN, 5), [3, 5, 5, 0.2]);
});

test("loss options: weights from the training labels unless given, and checked against K", () => {
  assert.deepEqual(AU_TASK.lossOptions(TRAIN), { maxPosWeight: 10, posWeight: [3, 10, 10, 0.1] });
  assert.deepEqual(AU_TASK.lossOptions(TRAIN, { posWeight: [1, 1, 1, 1] }).posWeight, [1, 1, 1, 1]);
  assert.throws(
    () => AU_TASK.lossOptions(TRAIN, { posWeight: [1, 1] }),
    /au loss: posWeight has 2 entries for 4 labels\. Pass one weight per label column/,
  );
  assert.throws(() => positiveWeights(TRAIN, 0.5), /au loss: maxPosWeight is 0\.5\. Pass a finite cap of at least 1/);
});

test("the AU loss is BCE with the resolved weights", () => {
  const options = AU_TASK.lossOptions(TRAIN);
  const logits = [[0.3, -0.7, 1.1, -2]];
  const labels = [[1, 0, 1, 0]];
  const got = AU_TASK.makeLoss(options)(np.array(logits), AU_TASK.targets(labels)).item();
  const want = bceWithLogits(np.array(logits), np.array(labels), options.posWeight).item();
  assert.equal(got, want);
  // and the weights matter: by hand, w·y·softplus(−x) + (1 − y)·softplus(x), averaged over 4.
  const sp = (x: number) => Math.log(1 + Math.exp(x));
  const byHand = (3 * sp(-0.3) + sp(-0.7) + 10 * sp(-1.1) + sp(-2)) / 4;
  assert.ok(Math.abs(got - byHand) < LOG_ERROR, `${got} vs ${byHand}`);
});

test("AU targets are 0/1 rows; anything else names the row", () => {
  assert.deepEqual(
    AU_TASK.targets([
      [1, 0],
      [0, 1],
    ]).js(),
    [
      [1, 0],
      [0, 1],
    ],
  );
  assert.throws(
    () =>
      AU_TASK.targets([
        [1, 0],
        [0, 2],
      ]),
    /au targets, row 1: labels are \[0,2\]\. Each row must hold 2 labels, each 0 or 1/,
  );
  assert.throws(() => AU_TASK.numOutputs([]), /au head: the dataset has no label columns/);
  assert.equal(AU_TASK.numOutputs(["AU1", "AU2", "AU12"]), 3);
});
