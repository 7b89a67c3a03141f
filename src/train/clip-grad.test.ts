import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np, tree } from "../engine/jax.js";
import { startEngine } from "../engine/engine.js";
import { clipByGlobalNorm, globalNorm } from "./clip-grad.js";
import { hostValues } from "../../test/fixtures/train/host-tree.js";

await startEngine();

// Leaves [3, 4] and [[12]]: the global norm is sqrt(9 + 16 + 144) = 13, though no leaf reaches it.
const grads = () => ({ head: { weight: np.array([[12]]), bias: np.array([3, 4]) } });

test("globalNorm is the norm over every element of every leaf", async () => {
  assert.equal(await globalNorm(grads()).jsAsync(), 13);
});

test("clipping above the threshold scales every leaf so the global norm equals the threshold", async () => {
  const [clipped, norm] = clipByGlobalNorm(grads(), 6.5);
  assert.equal(await norm.jsAsync(), 13);
  assert.ok(Math.abs((await globalNorm(tree.ref(clipped)).jsAsync()) - 6.5) < 1e-6);
  assert.deepEqual(await hostValues(clipped), { "head.weight": [6], "head.bias": [1.5, 2] });
  tree.dispose(clipped);
});

test("gradients inside the threshold come back unchanged", async () => {
  const [clipped, norm] = clipByGlobalNorm(grads(), 20);
  norm.dispose();
  assert.deepEqual(await hostValues(clipped), { "head.weight": [12], "head.bias": [3, 4] });
  tree.dispose(clipped);
});

test("a NaN gradient gives a NaN norm, so the step's finite flag can catch it", async () => {
  const [clipped, norm] = clipByGlobalNorm({ w: np.array([1, NaN]) }, 1);
  assert.ok(Number.isNaN(await norm.jsAsync()));
  tree.dispose(clipped);
});
