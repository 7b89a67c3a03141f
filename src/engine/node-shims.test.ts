import assert from "node:assert/strict";
import { test } from "node:test";
import { init, numpy as np, nn } from "./jax.js";

test("jax-js's einsum and attention run on the shimmed iterator helpers, whatever the Node version", async () => {
  await init("wasm");
  const product = np.einsum("ij,jk->ik", np.array([[1, 2]]), np.array([[3], [4]]));
  assert.deepEqual(await product.data(), new Float32Array([11]));
  const tokens = np.ones([1, 2, 1, 4]); // [B, L, N, H]
  const attended = nn.dotProductAttention(tokens.ref, tokens.ref, tokens);
  assert.deepEqual(attended.shape, [1, 2, 1, 4]);
  attended.dispose();
});
