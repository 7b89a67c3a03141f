/**
 * jax-js on WebGPU, in this process, on whatever adapter the machine has (in CI, Mesa's software
 * llvmpipe): it starts, the ViT encoder on it reproduces PyTorch's tokens as wasm does, and the
 * GPU memory it holds is counted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { vitParamsFromTensors } from "../checkpoint/vit-checkpoint.js";
import { vitFeatures } from "../model/vit.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { needsParity, readParityFixture } from "../../test/support/vit-parity.js";
import { skipUnlessWebGpu, webGpuRequired } from "../../test/support/webgpu.js";
import { startEngine } from "./engine.js";
import { numpy as np } from "./jax.js";
import { findWebGpu } from "./webgpu-adapter.js";
import { gpuMemory } from "./webgpu-memory.js";

const skip = await skipUnlessWebGpu();

test("with FACEPRIOR_REQUIRE_WEBGPU=1 (as in CI) a WebGPU adapter exists", {
  skip: !webGpuRequired() && "FACEPRIOR_REQUIRE_WEBGPU is not 1",
}, async () => {
  const status = await findWebGpu();
  assert.ok(status.available, status.available ? "" : `FACEPRIOR_REQUIRE_WEBGPU=1 but ${status.reason}`);
});

test("jax-js starts on the WebGPU adapter and the ViT encoder reproduces PyTorch's tokens within 1e-4", {
  skip: skip || needsParity.skip,
}, async (t) => {
  const started = performance.now();
  const info = await startEngine({ device: "webgpu" });
  assert.equal(info.device, "webgpu");
  t.diagnostic(
    `adapter: ${info.adapter!.description} (${info.adapter!.software ? "software" : "hardware"}), started in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const { checkpoint, inputNchw, tokens } = await readParityFixture();
  const params = vitParamsFromTensors(checkpoint.tensors, checkpoint.cfg);
  const features = vitFeatures(params, np.array(inputNchw).reshape([2, 3, 112, 112]), checkpoint.cfg);
  assert.deepEqual(features.shape, [2, 50, 96]);
  const error = maxAbsDiff((await features.data()) as Float32Array, tokens);
  t.diagnostic(`max abs error against PyTorch on WebGPU: ${error.toExponential(2)}`);
  assert.ok(error < 1e-4, `max abs error ${error}`);
});

test("the GPU memory jax-js holds is counted: an array of 4 MiB raises it by 4 MiB", { skip }, async () => {
  await startEngine({ device: "webgpu" });
  const before = gpuMemory()!;
  // A size no earlier buffer had, so that jax-js's pool of freed buffers cannot serve it.
  const values = new Float32Array(1024 * 1024 + 3).fill(0.5);
  const array = np.array(values);
  assert.equal((await array.ref.sum().data())[0], values.length / 2);
  const during = gpuMemory()!;
  assert.ok(during.heldBytes - before.heldBytes >= values.byteLength, `${during.heldBytes} bytes held, ${before.heldBytes} before`);
  assert.ok(during.peakBytes >= during.heldBytes);
  array.dispose();
});
