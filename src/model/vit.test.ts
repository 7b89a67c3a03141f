import assert from "node:assert/strict";
import { test } from "node:test";
import { jit, numpy as np, random, tree, type Array } from "../engine/jax.js";
import { readSafetensors } from "../checkpoint/safetensors.js";
import { unflattenNamed } from "../checkpoint/param-names.js";
import { checkGradient } from "../../test/support/finite-differences.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import {
  attention,
  block,
  embedPatches,
  initBlock,
  initLinear,
  initVit,
  layerNorm,
  linear,
  mlp,
  poolTokens,
  vitFeatures,
  type VitParams,
} from "./vit.js";
import { VitConfigSchema } from "./vit-presets.js";

const PARITY = "fixtures/vit-parity";

test("vitFeatures reproduces the PyTorch tokens of the parity fixture within 1e-4", { skip: skipUnlessShared(PARITY) }, async (t) => {
  const model = await readSafetensors(sharedPath(PARITY, "model.safetensors"));
  const expected = await readSafetensors(sharedPath(PARITY, "expected.safetensors"));
  const flat = Object.fromEntries(
    Object.entries(model.tensors).map(([name, t]) => [name, np.array(t.data as Float32Array).reshape(t.shape)]),
  );
  const params = unflattenNamed(flat) as unknown as VitParams;
  const cfg = VitConfigSchema.parse({ imgSize: 112, patchSize: 16, embedDim: 96, depth: 2, numHeads: 3 });
  const input = expected.tensors.input_nchw!;
  const tokens = vitFeatures(params, np.array(input.data as Float32Array).reshape(input.shape), cfg);
  assert.deepEqual(tokens.shape, [2, 50, 96]);
  const err = maxAbsDiff(tokens.dataSync() as Float32Array, expected.tensors.tokens!.data);
  t.diagnostic(`max abs error against PyTorch: ${err.toExponential(2)}`);
  assert.ok(err < 1e-4, `max abs error ${err}`);
});

// ---- finite differences, in float64 ----
// jax-js evaluates exp, erf and tanh in float64 only to float32-like accuracy (measured), which
// bounds what differences can resolve through them: layers without transcendental ops are held to
// 1e-10 of |grad|, the others to 1e-4 (measured: up to 7.5e-6). A wrong or missing gradient term
// is off by far more.
const EXACT = { step: 1e-3, tolerance: 1e-10 };
const TRANSCENDENTAL = { step: 3e-3, tolerance: 1e-4 };

const TINY = VitConfigSchema.parse({ imgSize: 16, patchSize: 8, embedDim: 8, depth: 2, numHeads: 2 });

function toFloat64<T>(t: T): T {
  return tree.map((x: Array) => x.astype(np.float64), t as never) as T;
}

/** A scalar readout that weighs every output element differently, so no gradient cancels. */
function readout(y: Array): Array {
  const weights = np.sin(np.arange(y.size).astype(np.float64).mul(0.37)).reshape(y.shape);
  return y.mul(weights).sum();
}

const x = (seed: number, shape: number[]) => random.normal(random.key(seed), shape).astype(np.float64);

test("finite differences: linear", () => {
  const p = toFloat64(initLinear(random.key(1), 5, 4));
  checkGradient("linear", ({ p, h }) => readout(linear(p, h)), { p, h: x(2, [3, 4]) }, EXACT);
});

test("finite differences: layer norm", () => {
  const p = { weight: x(3, [6]), bias: x(4, [6]) };
  checkGradient("layerNorm", ({ p, h }) => readout(layerNorm(p, h, 1e-6)), { p, h: x(5, [2, 3, 6]) }, EXACT);
});

test("finite differences: attention", () => {
  const p = toFloat64(initBlock(random.key(6), 8, 2)).attn;
  checkGradient("attention", ({ p, h }) => readout(attention(p, h, 2)), { p, h: x(7, [2, 5, 8]) }, TRANSCENDENTAL);
});

test("finite differences: MLP with exact GELU", () => {
  const p = toFloat64(initBlock(random.key(8), 8, 2)).mlp;
  checkGradient("mlp", ({ p, h }) => readout(mlp(p, h)), { p, h: x(9, [2, 5, 8]) }, TRANSCENDENTAL);
});

test("finite differences: transformer block", () => {
  const p = toFloat64(initBlock(random.key(10), 8, 2));
  checkGradient("block", ({ p, h }) => readout(block(p, h, TINY)), { p, h: x(11, [2, 5, 8]) }, TRANSCENDENTAL);
});

test("finite differences: patch embedding with position embedding", () => {
  const { patch_embed, pos_embed } = toFloat64(initVit(random.key(12), TINY));
  checkGradient(
    "embedPatches",
    ({ p, images }) => readout(embedPatches(p, images, TINY)),
    { p: { patch_embed, pos_embed }, images: x(13, [2, 3, 16, 16]) },
    EXACT,
  );
});

for (const pool of ["token", "avg"] as const) {
  test(`finite differences: whole encoder, ${pool} pooling`, () => {
    const params = toFloat64(initVit(random.key(14), TINY));
    checkGradient(
      `vitFeatures+${pool}`,
      ({ params, images }) => readout(poolTokens(vitFeatures(params, images, TINY), pool)),
      { params, images: x(15, [2, 3, 16, 16]) },
      TRANSCENDENTAL,
    );
  });
}

test("jitted vitFeatures equals eager", () => {
  const params = initVit(random.key(16), TINY);
  const images = random.normal(random.key(17), [2, 3, 16, 16]);
  const eager = vitFeatures(tree.ref(params), images.ref, TINY).dataSync() as Float32Array;
  const compiled = jit((p: VitParams, im: Array) => vitFeatures(p, im, TINY));
  const jitted = compiled(params, images).dataSync() as Float32Array;
  compiled.dispose();
  assert.ok(maxAbsDiff(eager, jitted) < 1e-5, `max abs diff ${maxAbsDiff(eager, jitted)}`);
});

test("mean pooling averages the patch tokens and skips the class token", () => {
  const tokens = np.array([
    [
      [100, 100],
      [1, 2],
      [3, 6],
    ],
  ]);
  assert.deepEqual(poolTokens(tokens.ref, "avg").js(), [[2, 4]]);
  assert.deepEqual(poolTokens(tokens, "token").js(), [[100, 100]]);
});

test("DropPath drops each residual branch per sample at its rate and scales the kept ones by 1/(1 − rate)", () => {
  const cfg = TINY;
  const p = initBlock(random.key(20), cfg.embedDim, cfg.mlpRatio);
  const x = random.normal(random.key(21), [64, 3, cfg.embedDim]);
  const rate = 0.5;
  const out = block(tree.ref(p), x.ref, cfg, { rate, keys: [random.key(22), random.key(23)] }).js() as number[][][];
  const branch = (s1: number, s2: number) => {
    const y = x.ref.add(attention(tree.ref(p.attn), layerNorm(tree.ref(p.norm1), x.ref, cfg.lnEps), cfg.numHeads).mul(s1));
    return y.ref.add(mlp(tree.ref(p.mlp), layerNorm(tree.ref(p.norm2), y, cfg.lnEps)).mul(s2)).js() as number[][][];
  };
  const candidates = [
    [0, 0],
    [0, 2],
    [2, 0],
    [2, 2],
  ].map(([s1, s2]) => branch(s1!, s2!));
  const seen = [0, 0, 0, 0];
  out.forEach((sample, b) => {
    const match = candidates.findIndex((c) => maxAbsDiff(Float32Array.from(c[b]!.flat()), Float32Array.from(sample.flat())) < 1e-4);
    assert.ok(match >= 0, `sample ${b} is none of: both kept, either dropped, both dropped`);
    seen[match]!++;
  });
  assert.ok(
    seen.every((n) => n >= 6),
    `each of the four outcomes happens at p = 0.25 over 64 samples: ${seen}`,
  );
});

test("DropPath's rate grows linearly with depth from 0, and rate 0 is the plain encoder", () => {
  const params = initVit(random.key(24), TINY);
  const images = random.normal(random.key(25), [4, 3, 16, 16]);
  const plain = vitFeatures(tree.ref(params), images.ref, TINY).dataSync() as Float32Array;
  const zero = vitFeatures(tree.ref(params), images.ref, TINY, { rate: 0, key: random.key(1) }).dataSync() as Float32Array;
  assert.ok(maxAbsDiff(plain, zero) < 1e-6);
  const firstOnly = { ...params, blocks: params.blocks.slice(0, 1) };
  const oneBlock = (drop?: { rate: number; key: Array }) =>
    vitFeatures(tree.ref(firstOnly), images.ref, TINY, drop).dataSync() as Float32Array;
  assert.ok(maxAbsDiff(oneBlock(), oneBlock({ rate: 0.9, key: random.key(2) })) < 1e-6, "block 0 of the depth is never dropped");
  const dropped = vitFeatures(tree.ref(params), images, TINY, { rate: 0.9, key: random.key(2) }).dataSync() as Float32Array;
  assert.ok(maxAbsDiff(plain, dropped) > 1e-3, "deeper blocks are");
  tree.dispose(params);
});
