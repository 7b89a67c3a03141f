import assert from "node:assert/strict";
import { test } from "node:test";
import { jit, numpy as np, tree, type Array as JaxArray } from "../engine/jax.js";
import { startEngine } from "../engine/engine.js";
import { adamw, applyUpdates, layerDecayScale, timmDecayMask, type AdamWState, type Tree } from "./adamw.js";
import { assertTreesClose, deviceTree, hostValues, type HostLeaf } from "../../test/fixtures/train/host-tree.js";

await startEngine();

/** A miniature timm ViT (depth 2) plus head, keys deliberately not in sorted order. */
const SHAPES: Record<string, number[]> = {
  cls_token: [1, 1, 2],
  pos_embed: [1, 2, 2],
  "patch_embed.proj.weight": [2, 3],
  "patch_embed.proj.bias": [2],
  "blocks.0.norm1.weight": [2],
  "blocks.0.attn.qkv.weight": [2, 2],
  "blocks.0.attn.qkv.bias": [2],
  "blocks.1.mlp.fc1.weight": [2, 2],
  "norm.weight": [2],
  "head.weight": [3, 2],
  "head.bias": [3],
};
// Written out by hand from timm's rule, not computed by the code under test.
const DECAYED = new Set(["patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "blocks.1.mlp.fc1.weight", "head.weight"]);
const HALF_DECAY_SCALE: Record<string, number> = {
  cls_token: 0.125,
  pos_embed: 0.125,
  "patch_embed.proj.weight": 0.125,
  "patch_embed.proj.bias": 0.125,
  "blocks.0.norm1.weight": 0.25,
  "blocks.0.attn.qkv.weight": 0.25,
  "blocks.0.attn.qkv.bias": 0.25,
  "blocks.1.mlp.fc1.weight": 0.5,
  "norm.weight": 1,
  "head.weight": 1,
  "head.bias": 1,
};
const LRS = [0.1, 0.05, 0.02];
const [B1, B2, EPS] = [0.9, 0.999, 1e-8];

function hostTree(value: (leaf: number, k: number) => number): Record<string, number[]> {
  return Object.fromEntries(
    Object.entries(SHAPES).map(([name, shape], j) => [
      name,
      Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => value(j, k)),
    ]),
  );
}
const initial = hostTree((j, k) => Math.sin(7 * j + 1.3 * k));
// Gradients of very different sizes per leaf and step, some crossing zero.
const gradsAt = (t: number) => hostTree((j, k) => Math.cos(3 * j + 0.7 * k + t) * (1 + j) * 10 ** ((k % 3) - 1));

function toDevice(values: Record<string, number[]>): Tree {
  const leaves: Record<string, HostLeaf> = {};
  for (const [name, shape] of Object.entries(SHAPES)) leaves[name] = { shape, values: values[name]! };
  return deviceTree(leaves);
}

/** AdamW in plain doubles, straight from the formula in adamw.ts's header. */
function referenceAdamW(weightDecay: number, scale: (name: string) => number): Record<string, number[]> {
  const p = structuredClone(initial);
  const m = hostTree(() => 0);
  const v = hostTree(() => 0);
  LRS.forEach((lr, i) => {
    const t = i + 1;
    const g = gradsAt(i);
    for (const name of Object.keys(SHAPES)) {
      p[name] = p[name]!.map((pk, k) => {
        const gk = g[name]![k]!;
        m[name]![k] = B1 * m[name]![k]! + (1 - B1) * gk;
        v[name]![k] = B2 * v[name]![k]! + (1 - B2) * gk * gk;
        const mHat = m[name]![k]! / (1 - B1 ** t);
        const vHat = v[name]![k]! / (1 - B2 ** t);
        const decay = DECAYED.has(name) ? weightDecay * pk : 0;
        return pk - lr * scale(name) * (mHat / (Math.sqrt(vHat) + EPS) + decay);
      });
    }
  });
  return p;
}

async function runEager(options: Parameters<typeof adamw>[0]): Promise<Record<string, number[]>> {
  const opt = adamw(options);
  let params = toDevice(initial);
  let state = opt.init(tree.ref(params));
  for (const [i, lr] of LRS.entries()) {
    const [updates, next] = opt.update(toDevice(gradsAt(i)), state, tree.ref(params), np.array(lr));
    params = applyUpdates(params, updates);
    state = next;
  }
  assert.equal(await state.count.ref.jsAsync(), LRS.length);
  tree.dispose(state);
  const out = await hostValues(params);
  tree.dispose(params);
  return out;
}

test("plain Adam (no weight decay, no layer decay) matches a float64 reference over 3 steps", async () => {
  assertTreesClose(
    await runEager({ b1: B1, b2: B2, eps: EPS }),
    referenceAdamW(0, () => 1),
  );
});

test("weight decay reaches exactly the leaves timm decays", async () => {
  const actual = await runEager({ b1: B1, b2: B2, eps: EPS, weightDecay: 0.1 });
  assertTreesClose(
    actual,
    referenceAdamW(0.1, () => 1),
  );
  // The decayed run must differ from the undecayed one where decay applies, or the check above proves nothing.
  const undecayed = referenceAdamW(0, () => 1);
  assert.ok(Math.abs(actual["head.weight"]![0]! - undecayed["head.weight"]![0]!) > 1e-3);
});

test("layer decay scales each leaf's step by decay^(depth - layer)", async () => {
  const actual = await runEager({ b1: B1, b2: B2, eps: EPS, weightDecay: 0.1, layerDecay: 0.5 });
  assertTreesClose(
    actual,
    referenceAdamW(0.1, (name) => HALF_DECAY_SCALE[name]!),
  );
});

test("a jitted update equals the eager one, with lr fed in as an array each step", async () => {
  const opt = adamw({ weightDecay: 0.05, layerDecay: 0.75 });
  const step = jit((params: Tree, state: AdamWState, grads: Tree, lr: JaxArray): [Tree, AdamWState] => {
    const [updates, next] = opt.update(grads, state, tree.ref(params), lr);
    return [applyUpdates(params, updates), next];
  });
  let [eagerParams, jitParams] = [toDevice(initial), toDevice(initial)];
  let [eagerState, jitState] = [opt.init(tree.ref(eagerParams)), opt.init(tree.ref(jitParams))];
  for (const [i, lr] of LRS.entries()) {
    const [updates, next] = opt.update(toDevice(gradsAt(i)), eagerState, tree.ref(eagerParams), np.array(lr));
    [eagerParams, eagerState] = [applyUpdates(eagerParams, updates), next];
    [jitParams, jitState] = step(jitParams, jitState, toDevice(gradsAt(i)), np.array(lr));
  }
  assertTreesClose(await hostValues(jitParams), await hostValues(eagerParams), 1e-6, 2e-7); // a few ulps of O(1) values
  assertTreesClose(await hostValues(jitState.nu), await hostValues(eagerState.nu), 1e-6, 1e-12);
  step.dispose();
  tree.dispose([eagerParams, jitParams, eagerState, jitState]);
});

test("timmDecayMask follows timm's no-decay set, MAE decoder names included", () => {
  const cases: [string, number[], boolean][] = [
    ["blocks.3.attn.qkv.weight", [96, 32], true],
    ["blocks.3.attn.qkv.bias", [96], false],
    ["blocks.3.norm1.weight", [32], false],
    ["patch_embed.proj.weight", [32, 3, 8, 8], true],
    ["cls_token", [1, 1, 32], false],
    ["pos_embed", [1, 17, 32], false],
    ["mask_token", [1, 1, 16], false],
    ["decoder_pos_embed", [1, 17, 16], false],
    ["decoder_embed.weight", [16, 32], true],
    ["decoder_norm.weight", [16], false],
    ["fc_norm.weight", [32], false],
    ["head.weight", [7, 32], true],
  ];
  for (const [name, shape, decayed] of cases) assert.equal(timmDecayMask(name, shape), decayed, name);
});

test("layerDecayScale gives MAE's per-layer multipliers", () => {
  assert.equal(layerDecayScale("blocks.11.mlp.fc2.weight", 12, 0.75), 0.75);
  assert.equal(layerDecayScale("blocks.0.attn.qkv.weight", 12, 0.75), 0.75 ** 12);
  assert.equal(layerDecayScale("patch_embed.proj.weight", 12, 0.75), 0.75 ** 13);
  assert.equal(layerDecayScale("cls_token", 12, 0.75), 0.75 ** 13);
  assert.equal(layerDecayScale("head.weight", 12, 0.75), 1);
  assert.equal(layerDecayScale("decoder_blocks.0.attn.qkv.weight", 12, 0.75), 1);
});
