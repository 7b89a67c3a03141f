import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { grad, numpy as np, random, tree, type Array } from "../engine/jax.js";
import { loadVitCheckpoint, saveVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { vitFeatures } from "../model/vit.js";
import { leafNames } from "../train/tree-names.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { encoderParams, forwardDecoder, forwardEncoder, initMae, type MaeParams } from "./mae.js";
import { randomMasking } from "./masking.js";
import { tinyMaeConfig } from "../../test/support/tiny-mae.js";

const CFG = tinyMaeConfig();
const ENCODER = CFG.encoder;
const ALL = { pixel: true, patch: true, component: true };
const NONE = { pixel: false, patch: false, component: false };

function decoderOf(p: MaeParams) {
  const { decoder_embed, mask_token, decoder_pos_embed, decoder_blocks, decoder_norm } = p;
  return { decoder_embed, mask_token, decoder_pos_embed, decoder_blocks, decoder_norm };
}

test("the params tree has MAE's decoder names, the task heads, and an encoder that saves and loads alone as a timm ViT", async () => {
  const params = initMae(random.key(0), CFG, ALL);
  const top = Object.keys(params);
  assert.deepEqual(top, [
    "patch_embed",
    "cls_token",
    "pos_embed",
    "blocks",
    "norm",
    "decoder_embed",
    "mask_token",
    "decoder_pos_embed",
    "decoder_blocks",
    "decoder_norm",
    "decoder_pred",
    "pixel_head",
    "patch_head",
    "component_proj",
    "descriptor_head",
  ]);
  const dir = await mkdtemp(join(tmpdir(), "faceprior-mae-"));
  try {
    const path = join(dir, "encoder.safetensors");
    await saveVitCheckpoint(path, encoderParams(params), ENCODER);
    const loaded = await loadVitCheckpoint(path);
    const images = random.normal(random.key(1), [2, 3, 32, 32]);
    const original = vitFeatures(tree.ref(encoderParams(params)), images.ref, ENCODER).dataSync();
    const reloaded = vitFeatures(loaded.params, images, loaded.cfg).dataSync();
    assert.equal(maxAbsDiff(original, reloaded), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
    tree.dispose(params);
  }
});

test("one seed gives the same encoder and decoder whichever heads are on", () => {
  const full = initMae(random.key(5), CFG, ALL);
  const bare = initMae(random.key(5), CFG, NONE);
  assert.deepEqual(
    Object.keys(bare).filter((k) => k.includes("head") || k.includes("proj")),
    [],
  );
  const { pixel_head, patch_head, component_proj, descriptor_head, ...core } = full;
  assert.deepEqual(leafNames(core), leafNames(bare));
  const [a, b] = [tree.leaves(bare), tree.leaves(core)];
  a.forEach((leaf, i) => assert.equal(maxAbsDiff(leaf.ref.dataSync(), b[i]!.ref.dataSync()), 0, leafNames(bare)[i]));
  assert.ok(pixel_head && patch_head && component_proj && descriptor_head);
  tree.dispose([full, bare]);
});

test("with every patch kept, in any order, the encoder gives vitFeatures' tokens in that order", () => {
  const params = initMae(random.key(2), CFG, NONE);
  const images = random.normal(random.key(3), [2, 3, 32, 32]);
  const order = [
    [5, 0, 15, 3, 9, 1, 2, 4, 6, 7, 8, 10, 11, 12, 13, 14],
    [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
  ];
  const ids = np.array(order, { dtype: np.int32 });
  const tokens = forwardEncoder(tree.ref(encoderParams(params)), images.ref, ids, ENCODER).js() as number[][][];
  const reference = vitFeatures(tree.ref(encoderParams(params)), images, ENCODER).js() as number[][][];
  for (let b = 0; b < 2; b++) {
    assert.ok(maxAbsDiff(tokens[b]![0]!, reference[b]![0]!) < 1e-5, "class token");
    order[b]!.forEach((patch, k) =>
      assert.ok(maxAbsDiff(tokens[b]![1 + k]!, reference[b]![1 + patch]!) < 1e-5, `sample ${b}, patch ${patch}`),
    );
  }
  tree.dispose(params);
});

/** Decoder tokens [B, L, Dd] for images under a fixed mask. */
function decode(params: MaeParams, images: Array, key: number): number[] {
  const m = randomMasking(random.key(key), images.shape[0]!, 16, CFG.maskRatio);
  const latent = forwardEncoder(tree.ref(encoderParams(params)), images, m.idsKeep, ENCODER);
  m.mask.dispose();
  return [...forwardDecoder(tree.ref(decoderOf(params)), latent, m.idsRestore, CFG).dataSync()];
}

test("the pixels of masked patches never reach the decoder; those of visible patches do", () => {
  const params = initMae(random.key(4), CFG, NONE);
  const images = random.normal(random.key(5), [1, 3, 32, 32]);
  const mask = randomMasking(random.key(6), 1, 16, CFG.maskRatio).mask.js() as number[][];
  const masked = mask[0]!.indexOf(1);
  const visible = mask[0]!.indexOf(0);
  const before = decode(params, images.ref, 6);
  const shifted = (patch: number) => {
    const [row, col] = [Math.floor(patch / 4), patch % 4];
    const bump = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => {
      const [y, x] = [Math.floor(i / 32) % 32, i % 32];
      return Math.floor(y / 8) === row && Math.floor(x / 8) === col ? 3 : 0;
    });
    return images.ref.add(np.array(bump).reshape([1, 3, 32, 32]));
  };
  assert.equal(maxAbsDiff(decode(params, shifted(masked), 6), before), 0, "a masked patch leaked into the decoder");
  assert.ok(maxAbsDiff(decode(params, shifted(visible), 6), before) > 1e-3, "a visible patch must change the output");
  images.dispose();
  tree.dispose(params);
});

test("the decoder's sin-cos position table gets no gradient; the rest of the decoder does", () => {
  const params = initMae(random.key(7), CFG, NONE);
  const images = random.normal(random.key(8), [2, 3, 32, 32]);
  const m = randomMasking(random.key(9), 2, 16, CFG.maskRatio);
  m.mask.dispose();
  const latent = forwardEncoder(tree.ref(encoderParams(params)), images, m.idsKeep, ENCODER);
  const weights = random.normal(random.key(10), [2, 16, 32]);
  const f = (dec: ReturnType<typeof decoderOf>) => forwardDecoder(dec, latent.ref, m.idsRestore.ref, CFG).mul(weights.ref).sum();
  const g = grad(f)(tree.ref(decoderOf(params)));
  const norm = (a: Array) => Math.sqrt(np.square(a.ref).sum().js() as number);
  assert.equal(norm(g.decoder_pos_embed), 0);
  for (const [name, leaf] of [
    ["mask_token", g.mask_token],
    ["decoder_embed.weight", g.decoder_embed.weight],
    ["decoder_blocks.0.attn.qkv.weight", g.decoder_blocks[0]!.attn.qkv.weight],
  ] as const) {
    assert.ok(norm(leaf) > 0, `${name} has no gradient`);
  }
  tree.dispose([g, params, latent, weights, m.idsRestore]);
});
