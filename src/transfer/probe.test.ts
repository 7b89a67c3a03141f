import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { CELEBA_ATTRIBUTES } from "../data/tasks.js";
import { CELEBA, loadedCelebaCache } from "../../test/support/celeba-subset.js";
import { skipUnlessShared } from "../../test/support/shared-data.js";
import { attributeMajorityBaseline } from "./baselines.js";
import { taskMetrics } from "./evaluate.js";
import { cachedFeatures } from "./features.js";
import { featureStandardization, foldStandardization, standardizeFeatures, trainProbe } from "./probe.js";

const needsData = { skip: skipUnlessShared(CELEBA) };
const celeba = loadedCelebaCache("probe", 12, ["--workers", "1"]);

test("a linear probe on frozen features fits the 40 CelebA attributes of its training faces", needsData, async (t) => {
  const { dir, cacheDir, cache } = celeba;
  const features = await cachedFeatures({ scratch: { arch: "vit-tiny", seed: 0 } }, cacheDir, cache, "avg", join(dir, "features"));
  const labels = cache.tensors.labels!.data as Float32Array;
  const faces = Array.from({ length: cache.count }, (_, i) => i);
  const result = await trainProbe({
    task: "attributes",
    features,
    labels,
    labelColumns: CELEBA_ATTRIBUTES,
    trainFaces: faces,
    evalFaces: faces,
    runDir: join(dir, "probe"),
    train: { epochs: 300, lr: 1e-2 },
  });
  assert.equal(result.predictions.length, cache.count * 40);
  const metrics = taskMetrics("attributes", result.predictions, labels, cache.count);
  const majority = attributeMajorityBaseline(labels, labels, 40).accuracy.mean;
  t.diagnostic(`probe mean accuracy ${metrics.headline.value.toFixed(3)}, per-attribute majority ${majority.toFixed(3)}`);
  // Even random-init features separate 12 faces: the probe must beat the per-attribute majority.
  assert.ok(metrics.headline.value > majority + 0.05, `probe ${metrics.headline.value.toFixed(3)}, majority ${majority.toFixed(3)}`);
});

test("features are standardised per dimension with the training faces' statistics only", () => {
  // 3 faces x 2 dims; faces 0 and 1 train: dim 0 mean 2 std 1, dim 1 mean 10 std 0 (floored by eps).
  const set = { features: Float32Array.from([1, 10, 3, 10, 5, 12]), rows: Int32Array.from([0, 1, 2]), dim: 2, count: 3 };
  const out = standardizeFeatures(set, featureStandardization(set, [0, 1]));
  assert.deepEqual(
    Array.from(out.features.subarray(0, 4), (v) => +v.toFixed(4)),
    [-1, 0, 1, 0],
  );
  assert.ok(Math.abs(out.features[4]! - 3) < 1e-5, "face 2 is scaled with the training statistics");
  assert.ok(Math.abs(out.features[5]! - 2 / Math.sqrt(1e-6)) < 1, "a constant training dimension is divided by sqrt(eps), not 0");
});

test("the folded head on raw features gives the logits of the head on standardised features", () => {
  const set = { features: Float32Array.from([1, 10, 3, 11, 5, 12]), rows: Int32Array.from([0, 1, 2]), dim: 2, count: 3 };
  const stats = featureStandardization(set, [0, 1, 2]);
  const standardized = standardizeFeatures(set, stats).features;
  // Head with K = 2 outputs: W [[1, -2], [0.5, 3]], b [0.1, -0.2].
  const weight = Float32Array.from([1, -2, 0.5, 3]);
  const bias = Float32Array.from([0.1, -0.2]);
  const folded = foldStandardization(weight, bias, stats);
  const logit = (w: Float32Array, b: Float32Array, x: Float32Array, face: number, k: number) =>
    b[k]! + w[k * 2]! * x[face * 2]! + w[k * 2 + 1]! * x[face * 2 + 1]!;
  for (let face = 0; face < 3; face++) {
    for (let k = 0; k < 2; k++) {
      assert.ok(
        Math.abs(logit(folded.weight, folded.bias, set.features, face, k) - logit(weight, bias, standardized, face, k)) < 1e-4,
        `face ${face} output ${k}`,
      );
    }
  }
});
