import assert from "node:assert/strict";
import { test } from "node:test";
import { grad, jit, numpy as np, random, type Array } from "../engine/jax.js";
import { gatherTokens, keptCount, meanOverMasked, randomMasking, unshuffleTokens, type Masking } from "./masking.js";

type HostMasking = { keep: number[][]; restore: number[][]; mask: number[][] };
const host = (m: Masking): HostMasking => ({ keep: m.idsKeep.js(), restore: m.idsRestore.js(), mask: m.mask.js() });

test("keptCount follows MAE's int(L·(1 - ratio)), never below one visible patch", () => {
  assert.equal(keptCount(196, 0.75), 49);
  assert.equal(keptCount(49, 0.75), 12);
  assert.equal(keptCount(16, 0.75), 4);
  assert.equal(keptCount(16, 0.99), 1);
  assert.throws(() => keptCount(16, 1), /mask ratio 1 must be in \[0, 1\)/);
});

test("random masking keeps exactly Lk patches per sample, and idsRestore inverts the shuffle", () => {
  const [b, l] = [5, 16];
  const { keep, restore, mask } = host(randomMasking(random.key(3), b, l, 0.75));
  for (let i = 0; i < b; i++) {
    assert.equal(keep[i]!.length, 4);
    assert.equal(
      mask[i]!.reduce((s, v) => s + v, 0),
      12,
      `sample ${i}: 12 of 16 masked`,
    );
    // The kept patches are exactly the visible ones.
    const visible = mask[i]!.flatMap((v, p) => (v === 0 ? [p] : []));
    assert.deepEqual(
      [...keep[i]!].sort((x, y) => x - y),
      visible,
    );
    // idsRestore is a permutation, and the k-th kept patch sits at rank k of the shuffle.
    assert.deepEqual(
      [...restore[i]!].sort((x, y) => x - y),
      globalThis.Array.from({ length: l }, (_, p) => p),
    );
    keep[i]!.forEach((patch, k) => assert.equal(restore[i]![patch], k));
  }
  // Samples get different masks, and the key decides them.
  assert.notDeepEqual(mask[0], mask[1]);
  assert.deepEqual(host(randomMasking(random.key(3), b, l, 0.75)).mask, mask);
  assert.notDeepEqual(host(randomMasking(random.key(4), b, l, 0.75)).mask, mask);
});

test("jitted masking equals eager masking for the same key", () => {
  const masking = jit((key: Array) => randomMasking(key, 3, 16, 0.75));
  const jitted = host(masking(random.key(7)));
  masking.dispose();
  assert.deepEqual(jitted, host(randomMasking(random.key(7), 3, 16, 0.75)));
});

test("gather then unshuffle round-trips the visible tokens and puts the mask token everywhere else", () => {
  const [b, l, d] = [3, 8, 4];
  const { idsKeep, idsRestore, mask } = randomMasking(random.key(11), b, l, 0.5);
  const x = random.normal(random.key(12), [b, l, d]);
  const token = np.array([9, 8, 7, 6]).reshape([1, 1, d]);
  const xs = x.ref.js() as number[][][];
  const visible = gatherTokens(x, idsKeep.ref).js() as number[][][];
  const keep = idsKeep.js() as number[][];
  keep.forEach((row, i) => row.forEach((patch, k) => assert.deepEqual(visible[i]![k], xs[i]![patch])));
  const full = unshuffleTokens(np.array(visible), token, idsRestore).js() as number[][][];
  const m = mask.js() as number[][];
  for (let i = 0; i < b; i++) {
    for (let p = 0; p < l; p++) assert.deepEqual(full[i]![p], m[i]![p] === 1 ? [9, 8, 7, 6] : xs[i]![p], `sample ${i} patch ${p}`);
  }
});

test("gradients flow through gather and unshuffle, to the tokens and the mask token, eager and jitted (float64)", () => {
  const [b, l, d] = [2, 6, 3];
  const m = randomMasking(random.key(21), b, l, 0.5);
  const [keep, restore, mask] = [m.idsKeep.js() as number[][], m.idsRestore, m.mask.js() as number[][]];
  const weights = random.normal(random.key(22), [b, l, d]).astype(np.float64);
  const w = weights.ref.js() as number[][][];
  // f(x, t) = Σ w · unshuffle(gather(x)², t): df/dx = 2x·w at visible patches, 0 at masked ones;
  // df/dt = Σ of w over the masked places.
  const f = ({ x, t }: { x: Array; t: Array }, ids: Array, back: Array, wt: Array) =>
    unshuffleTokens(np.square(gatherTokens(x, ids)), t, back)
      .mul(wt)
      .sum();
  const x = random.normal(random.key(23), [b, l, d]).astype(np.float64);
  const xs = x.ref.js() as number[][][];
  const inputs = () => ({ x: x.ref, t: np.zeros([1, 1, d], { dtype: np.float64 }) });
  const expectedX = xs.map((rows, i) => rows.map((row, p) => row.map((v, c) => (mask[i]![p] === 0 ? 2 * v * w[i]![p]![c]! : 0))));
  const expectedT = [0, 1, 2].map((c) =>
    w.reduce((s, rows, i) => s + rows.reduce((t, row, p) => t + (mask[i]![p] === 1 ? row[c]! : 0), 0), 0),
  );
  const gradient = grad(f);
  const jitted = jit(grad(f));
  for (const [name, g] of [
    ["eager", gradient],
    ["jit", jitted],
  ] as const) {
    const out = g(inputs(), np.array(keep, { dtype: np.int32 }), restore.ref, weights.ref);
    const gx = out.x.js() as number[][][];
    const gt = (out.t.js() as number[][][])[0]![0]!;
    gx.flat(2).forEach((v, i) =>
      assert.ok(Math.abs(v - expectedX.flat(2)[i]!) < 1e-12, `${name} dx[${i}]: ${v} vs ${expectedX.flat(2)[i]}`),
    );
    gt.forEach((v, c) => assert.ok(Math.abs(v - expectedT[c]!) < 1e-12, `${name} dt[${c}]: ${v} vs ${expectedT[c]}`));
  }
  jitted.dispose();
  [x, weights, restore].forEach((a) => a.dispose());
});

test("meanOverMasked averages over masked patches only", () => {
  const values = np.array([
    [1, 2, 3, 4],
    [10, 20, 30, 40],
  ]);
  const mask = np.array([
    [1, 0, 1, 0],
    [0, 0, 0, 1],
  ]);
  assert.ok(Math.abs((meanOverMasked(values, mask).js() as number) - (1 + 3 + 40) / 3) < 1e-6);
  // No masked patch at all: 0, not NaN.
  assert.equal(meanOverMasked(np.array([[1, 2]]), np.zeros([1, 2])).js(), 0);
});
