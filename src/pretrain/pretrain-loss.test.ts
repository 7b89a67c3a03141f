import assert from "node:assert/strict";
import { test } from "node:test";
import { grad, jit, numpy as np, random, tree, valueAndGrad, type Array as JaxArray } from "../engine/jax.js";
import { syntheticPretrainBatch } from "../../test/support/synthetic-pretrain-batch.js";
import { namedLeaves } from "../train/tree-names.js";
import { initMae, type MaeParams } from "./mae.js";
import { makePretrainLoss } from "./pretrain-loss.js";
import { PRETRAIN_VARIANTS, type LossWeights } from "./variants.js";
import { tinyMaeConfig } from "../../test/support/tiny-mae.js";

const MAE = tinyMaeConfig();
const ALL_HEADS = { pixel: true, patch: true, component: true };
const lossFor = (weights: LossWeights) => makePretrainLoss({ mae: MAE, weights, temperature: 0.1, jitter: 0.4 });
const FULL = { ...PRETRAIN_VARIANTS.full };
const ALL_PARTS = ["mim", "pix", "patch_ce", "patch_offset", "patch_hist", "comp_nce", "comp_desc", "total"];

const syntheticBatch = () => syntheticPretrainBatch(2);

const scalars = (parts: Record<string, JaxArray>) => Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.js() as number]));
const norm = (a: JaxArray) => Math.sqrt(np.square(a).sum().js() as number);

test("the total is L_mim plus the λ-weighted terms, and only the enabled terms are computed and logged", () => {
  const params = initMae(random.key(0), MAE, ALL_HEADS);
  const [full, fullParts] = lossFor(FULL)(tree.ref(params), syntheticBatch(), random.key(1));
  const f = scalars(fullParts);
  assert.deepEqual(Object.keys(f).sort(), [...ALL_PARTS].sort());
  ALL_PARTS.forEach((name) => assert.ok(Number.isFinite(f[name]) && f[name]! >= 0, `${name} = ${f[name]}`));
  assert.ok(Math.abs((full.js() as number) - f.total!) < 1e-6);
  const sum = f.mim! + f.pix! + f.patch_ce! + f.patch_offset! + f.patch_hist! + f.comp_nce! + f.comp_desc!;
  assert.ok(Math.abs(f.total! - sum) < 1e-5 * sum, `${f.total} vs ${sum}`);

  const [, someParts] = lossFor({ pix: 0.5, patch: 2, comp: 0 })(tree.ref(params), syntheticBatch(), random.key(1));
  const p = scalars(someParts);
  assert.deepEqual(Object.keys(p).sort(), ["mim", "patch_ce", "patch_hist", "patch_offset", "pix", "total"]);
  // Same key, same view-1 mask: the shared terms agree with the full run.
  for (const name of ["mim", "pix", "patch_ce"]) assert.ok(Math.abs(p[name]! - f[name]!) < 1e-5, name);
  const weighted = p.mim! + 0.5 * p.pix! + 2 * (p.patch_ce! + p.patch_offset! + p.patch_hist!);
  assert.ok(Math.abs(p.total! - weighted) < 1e-5 * weighted);

  const [, maeParts] = lossFor(PRETRAIN_VARIANTS.mae)(params, syntheticBatch(), random.key(1));
  assert.deepEqual(Object.keys(scalars(maeParts)).sort(), ["mim", "total"]);
});

test("the key decides the masks: same key, same loss; another key, another loss", () => {
  const params = initMae(random.key(2), MAE, ALL_HEADS);
  const run = (key: number) => lossFor(FULL)(tree.ref(params), syntheticBatch(), random.key(key))[1].total!.js() as number;
  assert.equal(run(5), run(5));
  assert.notEqual(run(5), run(6));
  tree.dispose(params);
});

/** The gradient of one loss part alone w.r.t. the params. */
function partGradient(params: MaeParams, weights: LossWeights, part: string): MaeParams {
  const loss = lossFor(weights);
  return grad((p: MaeParams) => {
    const [total, parts] = loss(p, syntheticBatch(), random.key(3));
    const chosen = parts[part]!;
    tree.dispose([total, Object.values(parts).filter((a) => a !== chosen)]);
    return chosen;
  })(params);
}

test("every auxiliary term sends gradient into the encoder; under `mae` the heads get none", () => {
  const params = initMae(random.key(4), MAE, ALL_HEADS);
  for (const part of ["mim", "pix", "patch_ce", "patch_offset", "patch_hist", "comp_nce", "comp_desc"]) {
    const g = partGradient(tree.ref(params), FULL, part);
    const encoderGrad = norm(g.blocks[0]!.attn.qkv.weight.ref);
    assert.ok(encoderGrad > 1e-8, `${part}: encoder block 0 qkv gradient ${encoderGrad}`);
    tree.dispose(g);
  }
  const g = partGradient(params, PRETRAIN_VARIANTS.mae, "total");
  const leaves = namedLeaves(g);
  const heads = Object.keys(leaves).filter((name) => /^(pixel_head|patch_head|component_proj|descriptor_head)\./.test(name));
  assert.equal(heads.length, 15); // pixel_head 2, patch_head 7, component_proj 4, descriptor_head 2
  for (const name of heads) assert.equal(norm(leaves[name]!.ref), 0, `${name} has a gradient under mae`);
  assert.ok(norm(leaves["blocks.0.attn.qkv.weight"]!.ref) > 0);
  tree.dispose(g);
});

test("the jitted loss and gradients equal the eager ones", () => {
  const params = initMae(random.key(6), MAE, ALL_HEADS);
  const vg = valueAndGrad(lossFor(FULL), { hasAux: true });
  const [[eager, eagerParts], eagerGrad] = vg(tree.ref(params), syntheticBatch(), random.key(7));
  const compiled = jit(vg);
  const [[jitted, jittedParts], jittedGrad] = compiled(params, syntheticBatch(), random.key(7));
  compiled.dispose();
  const [e, j] = [scalars(eagerParts), scalars(jittedParts)];
  for (const name of ALL_PARTS)
    assert.ok(Math.abs(e[name]! - j[name]!) <= 1e-5 * Math.max(1, Math.abs(e[name]!)), `${name}: ${e[name]} vs ${j[name]}`);
  assert.ok(Math.abs((eager.js() as number) - (jitted.js() as number)) < 1e-5 * e.total!);
  const [ge, gj] = [namedLeaves(eagerGrad), namedLeaves(jittedGrad)];
  for (const name of ["blocks.0.attn.qkv.weight", "mask_token", "patch_head.landmark_queries", "component_proj.fc1.weight"]) {
    const [a, b] = [ge[name]!.ref.dataSync() as Float32Array, gj[name]!.ref.dataSync() as Float32Array];
    const scale = Math.max(...Array.from(a, Math.abs));
    const diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
    assert.ok(diff <= 1e-4 * scale, `${name}: max diff ${diff}, scale ${scale}`);
  }
  tree.dispose([eagerGrad, jittedGrad]);
});

test("a λ whose head the params lack fails with how to build them", () => {
  const params = initMae(random.key(8), MAE, { pixel: false, patch: false, component: false });
  assert.throws(
    () => lossFor({ pix: 1, patch: 0, comp: 0 })(params, syntheticBatch(), random.key(9)),
    /pretrain loss: λ_pix is 1 but the params have no pixel_head\. Build them with initMae\(key, cfg, headsFor\(weights\)\)\./,
  );
});
