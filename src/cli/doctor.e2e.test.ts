/**
 * `faceprior doctor` as a user runs it: the adapter and engines it reports, and, with the Vulkan
 * loader pointed at no driver, how a machine without an adapter is told what to do.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { findWebGpu } from "../engine/webgpu-adapter.js";
import { loadOnnxRuntime } from "../engine/onnxruntime.js";
import { runCli } from "../../test/support/run-cli.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { skipUnlessWebGpu } from "../../test/support/webgpu.js";

const NO_DRIVER = { VK_DRIVER_FILES: "/nonexistent/no_icd.json" };
const dawnMissing = await import("webgpu").then(
  () => false,
  () => "the optional package 'webgpu' is not installed",
);

test("doctor names the WebGPU adapter and the engine each command picks on either device", { skip: await skipUnlessWebGpu() }, async () => {
  const run = await runCli(["doctor", "--json"], await scratchDir("faceprior-doctor-"));
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  const status = await findWebGpu();
  assert.ok(status.available);
  assert.equal(report.webgpu.adapter.description, status.adapter.description);
  assert.ok(report.webgpu.adapters.length >= 1, "Dawn lists at least the adapter it found");
  const onnx = (await loadOnnxRuntime()) ? "onnxruntime-node (CPU)" : "jax-js on wasm";
  assert.equal(report.engines.wasm["analyze, embed, pretrain, finetune, study"], onnx);
  assert.equal(report.engines.webgpu["analyze, embed, pretrain, finetune, study"], "jax-js on webgpu");
  assert.equal(report.engines.webgpu["add-head"], "features jax-js on webgpu; head jax-js on webgpu");

  const text = await runCli(["doctor"], await scratchDir("faceprior-doctor-"));
  assert.match(text.stdout, new RegExp(`^  webgpu +${status.adapter.description.replace(/[().+]/g, "\\$&")}`, "m"));
  assert.match(text.stdout, /^with --device webgpu:\n  analyze, embed, pretrain, finetune, study +jax-js on webgpu$/m);
});

test("without an adapter, doctor says how to get one and --device webgpu stops with NO_DEVICE naming the fix", {
  skip: dawnMissing,
}, async () => {
  const cwd = await scratchDir("faceprior-doctor-");
  const doctor = await runCli(["doctor"], cwd, { env: NO_DRIVER });
  assert.equal(doctor.code, 0, doctor.stderr);
  const unwrapped = doctor.stdout.replace(/\s+/g, " ");
  assert.match(
    unwrapped,
    / webgpu unavailable: no WebGPU adapter was found\. On NVIDIA, install libvulkan1 and set VK_DRIVER_FILES to the NVIDIA ICD .* adapters none /,
  );
  assert.match(doctor.stdout, /jax-js on webgpu \(no adapter here: NO_DEVICE\)/);
  const pretrain = await runCli(["--device", "webgpu", "pretrain", "--data", "cache", "--out", "run"], cwd, { env: NO_DRIVER });
  // Dawn's own warnings about the missing driver name a C++ line; no JavaScript stack may follow.
  assert.doesNotMatch(pretrain.stderr, /^\s+at .*(file:|node:)/m);
  assert.equal(pretrain.code, 1);
  assert.match(
    pretrain.stderr,
    /\[NO_DEVICE\]: --device webgpu: no WebGPU adapter was found\. .*apt-get install -t bookworm-backports mesa-vulkan-drivers.*\. Or use the CPU \(wasm\)\./,
  );
});
