import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { numpy as np, tree } from "../engine/jax.js";
import { startEngine } from "../engine/engine.js";
import { FacepriorError } from "../errors.js";
import { adamw, applyUpdates, type AdamWState } from "./adamw.js";
import { checkpointPath, loadRunState, readRunState, saveRunState, type RunMeta } from "./run-state.js";
import { resolveTrainConfig } from "./train-config.js";
import { leafNames } from "./tree-names.js";
import { deviceTree, hostValues } from "../../test/fixtures/train/host-tree.js";
import { scratchDir } from "../../test/support/scratch-dir.js";

await startEngine();

const config = resolveTrainConfig({ batchSize: 2, seed: 5 }, 10);
const meta = (step: number): RunMeta => ({ step, epoch: 1, position: 4, seed: 5, rngKey: [123, step], config });

/** Parameters in timm's (unsorted) order, and AdamW state after one real update. */
function state() {
  const params = deviceTree({
    pos_embed: { shape: [1, 2, 2], values: [0.1, 0.2, 0.3, 0.4] },
    cls_token: { shape: [1, 1, 2], values: [-1, 1] },
    "blocks.0.attn.qkv.weight": { shape: [2, 2], values: [1 / 3, 2 / 3, -1e-30, 3e38] },
    "blocks.1.norm1.bias": { shape: [2], values: [0, -0] },
    "head.weight": { shape: [1, 2], values: [5, 6] },
  });
  const optimizer = adamw({ weightDecay: 0.1 });
  const optState = optimizer.init(tree.ref(params));
  const grads = tree.map((p: ReturnType<typeof np.array>) => p.mul(0.5).add(0.25), tree.ref(params));
  const [updates, next] = optimizer.update(grads, optState, tree.ref(params), 0.01);
  return { params: applyUpdates(params, updates), optState: next as AdamWState };
}

test("a saved run state loads back bit for bit, with the trees' key order and the metadata", async () => {
  const runDir = await scratchDir("faceprior-run-state-");
  const saved = state();
  const path = await saveRunState(runDir, { ...saved, meta: meta(3) });
  assert.equal(path, checkpointPath(runDir, 3));
  const loaded = await loadRunState(runDir);
  assert.ok(loaded);
  assert.equal(loaded.path, path);
  assert.deepEqual(loaded.state.meta, JSON.parse(JSON.stringify(meta(3))));
  assert.deepEqual(leafNames(loaded.state.params), leafNames(saved.params));
  assert.deepEqual(leafNames(loaded.state.optState), leafNames(saved.optState));
  assert.deepEqual(leafNames(loaded.state.optState).slice(0, 3), ["count", "mu.pos_embed", "mu.cls_token"]);
  assert.deepEqual(await hostValues(loaded.state.params), await hostValues(saved.params));
  assert.deepEqual(await hostValues(loaded.state.optState), await hostValues(saved.optState));
  const count = (loaded.state.optState as AdamWState).count;
  assert.equal(count.dtype, np.int32);
  assert.equal(await count.ref.jsAsync(), 1);
  const bytes = await readFile(path);
  const header = bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0)));
  const names = Object.keys(JSON.parse(new TextDecoder().decode(header)));
  assert.ok(names.includes("opt.mu.blocks.0.attn.qkv.weight") && names.includes("blocks.0.attn.qkv.weight"));
  tree.dispose([saved, loaded.state.params, loaded.state.optState]);
});

test("latest.json follows the newest checkpoint and only the newest `keep` files stay", async () => {
  const runDir = await scratchDir("faceprior-run-state-");
  const saved = state();
  for (const step of [2, 4, 6]) await saveRunState(runDir, { ...saved, meta: meta(step) }, 2);
  assert.deepEqual((await readdir(join(runDir, "checkpoints"))).sort(), ["step-00000004.safetensors", "step-00000006.safetensors"]);
  assert.deepEqual(JSON.parse(await readFile(join(runDir, "latest.json"), "utf8")), {
    checkpoint: "checkpoints/step-00000006.safetensors",
    step: 6,
  });
  const loaded = await readRunState(checkpointPath(runDir, 4));
  assert.equal(loaded.meta.step, 4);
  tree.dispose([saved, loaded.params, loaded.optState]);
});

test("a run directory without a checkpoint loads as null; a dangling pointer is a RUN_STATE error", async () => {
  const runDir = await scratchDir("faceprior-run-state-");
  assert.equal(await loadRunState(runDir), null);
  await writeFile(join(runDir, "latest.json"), JSON.stringify({ checkpoint: "checkpoints/step-00000009.safetensors", step: 9 }));
  await assert.rejects(loadRunState(runDir), (error: FacepriorError) => {
    assert.equal(error.code, "RUN_STATE");
    assert.ok(error.message.includes("latest.json: points at") && error.message.includes("step-00000009.safetensors"), error.message);
    return true;
  });
});
