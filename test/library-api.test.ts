import assert from "node:assert/strict";
import { test } from "node:test";
import { sharedPath, skipUnlessShared } from "./support/shared-data.js";
import { maxAbsDiff } from "./support/numerics.js";

test("the README's library example embeds the parity images through the public API", {
  skip: skipUnlessShared("fixtures/vit-parity"),
}, async () => {
  const { jax, startEngine, loadVitCheckpoint, decodeImageBatch, vitFeatures, readSafetensors } = await import("../src/research.js");
  await startEngine();
  const model = await loadVitCheckpoint(sharedPath("fixtures/vit-parity/model.safetensors"));
  const { cfg, normalization } = model;
  const files = ["input0.png", "input1.png"].map((f) => sharedPath("fixtures/vit-parity", f));
  const pixels = await decodeImageBatch(files, { size: cfg.imgSize, ...normalization });
  const tokens = vitFeatures(model.params, jax.numpy.array(pixels).reshape([2, 3, cfg.imgSize, cfg.imgSize]), cfg);
  const expected = await readSafetensors(sharedPath("fixtures/vit-parity/expected.safetensors"));
  assert.ok(maxAbsDiff(tokens.dataSync(), expected.tensors.tokens!.data) < 1e-4);
});
