import assert from "node:assert/strict";
import { test } from "node:test";
import { grad, numpy as np, type Array as JaxArray } from "../engine/jax.js";
import { klFromLogits, NUM_LANDMARKS, patchLoss, type PatchHead, type PatchTargets } from "./loss-patch.js";
import { NUM_PARSING_CLASSES } from "./loss-pixel.js";

const [L, DD, M, K] = [4, 4, NUM_LANDMARKS, NUM_PARSING_CLASSES];
const table = (rows: number, cols: number, seed: number) =>
  Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => Math.sin(seed + 1.7 * r + 0.9 * c + 0.13 * r * c)));
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);

const host = {
  tokens: table(L, DD, 1),
  queries: table(M, DD, 2),
  keyW: table(DD, DD, 3),
  keyB: table(1, DD, 4)[0]!,
  offW: table(2 * M, DD, 5),
  offB: table(1, 2 * M, 6)[0]!,
  histW: table(K, DD, 7),
  histB: table(1, K, 8)[0]!,
};

function head(): PatchHead {
  return {
    landmark_queries: np.array(host.queries),
    key_proj: { weight: np.array(host.keyW), bias: np.array(host.keyB) },
    offset: { weight: np.array(host.offW), bias: np.array(host.offB) },
    hist: { weight: np.array(host.histW), bias: np.array(host.histB) },
  };
}

/** Landmarks 3 (in patch 2) and 40 (in patch 0) inside the crop, all others at -1. */
const PATCH_OF = new Map([
  [3, 2],
  [40, 0],
]);
const hist = [
  [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0],
  [0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
  [0.25, 0.25, 0, 0, 0.5, 0, 0, 0, 0, 0],
  [0, 0, 0, 0, 0, 0, 0.1, 0.9, 0, 0],
];
const offsets = (outsideValue: number) =>
  Array.from({ length: M }, (_, m) => (PATCH_OF.has(m) ? [0.25 + m / 200, 0.75 - m / 300] : [outsideValue, outsideValue]));

function targets(outsideOffset = 0): PatchTargets {
  return {
    landmark_patch: np.array([Array.from({ length: M }, (_, m) => PATCH_OF.get(m) ?? -1)], { dtype: np.int32 }),
    landmark_offset: np.array([offsets(outsideOffset)]),
    patch_hist: np.array([hist]),
  };
}
const MASK = [1, 0, 0, 1];
const values = (parts: Record<string, JaxArray>) => Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.js() as number]));

test("L_patch equals the hand-computed landmark CE, offset L1 and histogram KL", () => {
  const keys = host.tokens.map((t) => host.keyW.map((w, o) => dot(w, t) + host.keyB[o]!));
  let ce = 0;
  let l1 = 0;
  for (const [m, patch] of PATCH_OF) {
    const logits = keys.map((k) => dot(k, host.queries[m]!) / Math.sqrt(DD));
    ce += Math.log(logits.reduce((s, v) => s + Math.exp(v), 0)) - logits[patch]!;
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    const pred = [0, 1].map((a) => sigmoid(dot(host.offW[2 * m + a]!, host.tokens[patch]!) + host.offB[2 * m + a]!));
    l1 += pred.reduce((s, v, a) => s + Math.abs(v - offsets(0)[m]![a]!), 0) / 2;
  }
  let kl = 0;
  MASK.forEach((masked, l) => {
    if (!masked) return;
    const logits = host.histW.map((w, k) => dot(w, host.tokens[l]!) + host.histB[k]!);
    const logSum = Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
    kl += hist[l]!.reduce((s, t, k) => s + (t > 0 ? t * (Math.log(t) - (logits[k]! - logSum)) : 0), 0) / 2;
  });
  const got = values(patchLoss(head(), np.array([host.tokens]), targets(), np.array([MASK])));
  const expected = { patch_ce: ce / 2, patch_offset: l1 / 2, patch_hist: kl };
  for (const [name, want] of Object.entries(expected)) {
    assert.ok(Math.abs(got[name]! - want) < 1e-5 * Math.abs(want), `${name}: ${got[name]} vs ${want}`);
  }
});

test("landmarks marked -1 are ignored: their targets change nothing and their queries get no gradient", () => {
  const base = values(patchLoss(head(), np.array([host.tokens]), targets(0), np.array([MASK])));
  const moved = values(patchLoss(head(), np.array([host.tokens]), targets(0.9), np.array([MASK])));
  assert.deepEqual(moved, base);
  const g = grad((h: PatchHead) => {
    const parts = patchLoss(h, np.array([host.tokens]), targets(), np.array([MASK]));
    parts.patch_hist.dispose();
    return parts.patch_ce.add(parts.patch_offset);
  })(head());
  const rows = np.abs(g.landmark_queries).sum(1).js() as number[];
  const offsetRows = np.abs(g.offset.weight).sum(1).js() as number[];
  rows.forEach((v, m) => assert.equal(v > 0, PATCH_OF.has(m), `query ${m}: gradient ${v}`));
  offsetRows.forEach((v, r) => assert.equal(v > 0, PATCH_OF.has(Math.floor(r / 2)), `offset row ${r}: gradient ${v}`));
  g.key_proj.weight.dispose();
  [g.key_proj.bias, g.offset.bias, g.hist.weight, g.hist.bias].forEach((a) => a.dispose());
});

test("a face with every landmark outside the crop gives 0, not NaN", () => {
  const t = targets();
  t.landmark_patch.dispose();
  t.landmark_patch = np.full([1, M], -1, { dtype: np.int32 });
  const got = values(patchLoss(head(), np.array([host.tokens]), t, np.array([MASK])));
  assert.equal(got.patch_ce, 0);
  assert.equal(got.patch_offset, 0);
  assert.ok(Number.isFinite(got.patch_hist));
});

test("the histogram KL is zero when the prediction is the target, zero classes included", () => {
  const target = np.array(hist);
  const kl = klFromLogits(target.ref, np.log(np.maximum(target, 1e-12))).js() as number[];
  kl.forEach((v, l) => assert.ok(Math.abs(v) < 1e-5, `patch ${l}: ${v}`));
});
