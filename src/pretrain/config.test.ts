import assert from "node:assert/strict";
import { test } from "node:test";
import { FacepriorError } from "../errors.js";
import { VIT_PRESETS } from "../model/vit-presets.js";
import { resolvePretrainConfig } from "./config.js";
import { headsFor, variantWeights, VARIANT_NAMES } from "./variants.js";

test("the variants are rows of loss weights; scratch is recognised as no pretraining", () => {
  assert.deepEqual(VARIANT_NAMES, ["scratch", "mae", "mae+pix", "mae+patch", "mae+comp", "full"]);
  assert.equal(variantWeights("scratch"), null);
  assert.deepEqual(variantWeights("mae"), { pix: 0, patch: 0, comp: 0 });
  assert.deepEqual(variantWeights("mae+patch"), { pix: 0, patch: 1, comp: 0 });
  assert.deepEqual(variantWeights("full"), { pix: 1, patch: 1, comp: 1 });
  assert.deepEqual(headsFor({ pix: 0, patch: 0.5, comp: 1 }), { pixel: false, patch: true, component: true });
  assert.throws(
    () => variantWeights("mae+parsing"),
    (e: FacepriorError) =>
      e.code === "BAD_ARGUMENT" &&
      e.option === "variant" &&
      e.message === 'variant: unknown pretraining variant "mae+parsing". Use one of: scratch, mae, mae+pix, mae+patch, mae+comp, full.',
  );
});

test("an empty config resolves to the full variant on vit-tiny with MAE's defaults", () => {
  const r = resolvePretrainConfig({});
  assert.equal(r.config.variant, "full");
  assert.deepEqual(r.mae, {
    encoder: VIT_PRESETS.vit_tiny_patch16_112,
    decoderWidth: 128,
    decoderDepth: 2,
    decoderHeads: 4,
    maskRatio: 0.75,
    normPixLoss: true,
    componentDim: 128,
  });
  assert.deepEqual(r.weights, { pix: 1, patch: 1, comp: 1 });
  assert.deepEqual(r.heads, { pixel: true, patch: true, component: true });
  assert.equal(r.temperature, 0.1);
  assert.equal(r.jitter, 0.4);
  assert.ok(Object.isFrozen(r));
});

test("λ in the config override the variant's row one by one, and decide the heads", () => {
  const r = resolvePretrainConfig({ variant: "mae+pix", lambdas: { pix: 0.5, comp: 2 }, arch: "vit_small_patch16_224" });
  assert.deepEqual(r.weights, { pix: 0.5, patch: 0, comp: 2 });
  assert.deepEqual(r.heads, { pixel: true, patch: false, component: true });
  assert.equal(r.mae.encoder.embedDim, 384);
  assert.deepEqual(resolvePretrainConfig({ variant: "full", lambdas: { patch: 0 } }).heads, { pixel: true, patch: false, component: true });
});

test("arch may be a ViT config of its own, for small test models", () => {
  const arch = { imgSize: 112, patchSize: 16, embedDim: 32, depth: 2, numHeads: 2 };
  const r = resolvePretrainConfig({ arch });
  assert.deepEqual(r.mae.encoder, { ...arch, mlpRatio: 4, qkvBias: true, lnEps: 1e-6, globalPool: "token" });
});

test("bad configs fail naming the field, the value and the fix", () => {
  assert.throws(
    () => resolvePretrainConfig({ variant: "scratch" }),
    /variant "scratch" is the no-pretraining baseline, so there is nothing to pretrain\. Use it in a study, or pretrain one of: mae, mae\+pix/,
  );
  assert.throws(() => resolvePretrainConfig({ maskRatio: 1 }), /pretrain config: maskRatio: .* \(got 1\)\. Fix these fields/);
  assert.throws(() => resolvePretrainConfig({ lambdas: { pix: -1 } }), /lambdas\.pix: .* \(got -1\)/);
  assert.throws(
    () => resolvePretrainConfig({ decoderWidth: 130 }),
    /decoderWidth 130 must be divisible by 4 \(the sin-cos table\) and by decoderHeads 4/,
  );
  assert.throws(() => resolvePretrainConfig({ arch: "vit-huge" }), /^FacepriorError: arch: unknown architecture "vit-huge"/);
  assert.throws(
    () => resolvePretrainConfig({ arch: { imgSize: 112, patchSize: 16, embedDim: 30, depth: 1, numHeads: 2 } }),
    /arch \{"imgSize":112,.*\} needs imgSize divisible by patchSize, and embedDim divisible by 4/,
  );
  assert.throws(() => resolvePretrainConfig({ temperatur: 0.2 }), /temperatur/);
});
