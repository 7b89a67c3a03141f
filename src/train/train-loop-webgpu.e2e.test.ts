/**
 * The train loop on WebGPU (in CI, Mesa's software adapter): the tiny ViT classifier trains in
 * child processes on `--device webgpu`, is stopped by the NaN guard, resumes from the checkpoint
 * it wrote there, and ends on the same losses as the same run on wasm.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { assertSameTraining, readLog, runTiny, spawnTiny } from "../../test/fixtures/train/run-tiny.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { skipUnlessWebGpu } from "../../test/support/webgpu.js";

// Measured on llvmpipe: within 4.2e-6 of wasm (relative); float sums run in another order there.
const ACROSS_DEVICES = 1e-4;

test("on WebGPU, a NaN loss stops the run at its step; resumed from the step-4 checkpoint it ends where wasm does", {
  skip: await skipUnlessWebGpu(),
}, async (t) => {
  const [wasm, webgpu] = [await scratchDir("faceprior-wasm-"), await scratchDir("faceprior-webgpu-")];
  let started = performance.now();
  await runTiny(wasm, "--device", "wasm");
  const reference = await readLog(wasm);
  assert.ok(reference[11]!.loss! < reference[0]!.loss! * 0.6, "the tiny model must learn, or equal losses prove little");
  t.diagnostic(`wasm: 12 steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  started = performance.now();
  const stopped = await spawnTiny(webgpu, "--device", "webgpu", "--poison-batch", "5");
  t.diagnostic(`webgpu: 5 steps, the last NaN, in ${((performance.now() - started) / 1000).toFixed(1)} s (shader compiles included)`);
  assert.equal(stopped.code, 1, stopped.stderr);
  assert.match(stopped.stderr, /code: 'NON_FINITE_LOSS'/);
  assert.match(stopped.stderr, /step 5 has a non-finite loss \(loss NaN, ce NaN, l2 [0-9.]+, grad norm NaN\)/);
  assert.match(stopped.stderr, /The last good checkpoint, .*step-00000004\.safetensors, is intact/);
  assert.equal(JSON.parse(await readFile(join(webgpu, "latest.json"), "utf8")).step, 4);

  started = performance.now();
  assert.deepEqual(JSON.parse((await runTiny(webgpu, "--device", "webgpu")).stdout), { step: 12, resumedFrom: 4 });
  t.diagnostic(`webgpu: steps 5-12 resumed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const resumed = await readLog(webgpu);
  assert.ok(resumed.every((line) => Number.isFinite(line.loss)));
  assertSameTraining(resumed, reference, ACROSS_DEVICES);
});
