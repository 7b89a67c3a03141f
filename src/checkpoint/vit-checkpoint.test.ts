import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { numpy as np, random, tree } from "../engine/jax.js";
import { FacepriorError } from "../errors.js";
import { resamplePosEmbed } from "../model/pos-embed.js";
import { VIT_PRESETS } from "../model/vit-presets.js";
import { initVit, vitFeatures } from "../model/vit.js";
import { fakeVitTensors, SMALL_CFG } from "../../test/support/fake-vit.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { encodeSafetensors, readSafetensors, writeSafetensors } from "./safetensors.js";
import { loadVitCheckpoint, readVitCheckpoint, saveVitCheckpoint, vitTensorShapes, writeVitTensors } from "./vit-checkpoint.js";
import { DEFAULT_NORMALIZATION, vitMetadata } from "./vit-metadata.js";

const PARITY = "fixtures/vit-parity";
let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-vitckpt-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FacepriorError, `expected FacepriorError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

test("the parity fixture loads as is and reproduces PyTorch's tokens", { skip: skipUnlessShared(PARITY) }, async () => {
  const ckpt = await loadVitCheckpoint(sharedPath(PARITY, "model.safetensors"));
  assert.deepEqual(ckpt.cfg, {
    imgSize: 112,
    patchSize: 16,
    embedDim: 96,
    depth: 2,
    numHeads: 3,
    mlpRatio: 4,
    qkvBias: true,
    lnEps: 1e-6,
    globalPool: "token",
  });
  assert.deepEqual(ckpt.normalization, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  assert.deepEqual(ckpt.notes, []);
  const expected = await readSafetensors(sharedPath(PARITY, "expected.safetensors"));
  const input = expected.tensors.input_nchw!;
  const tokens = vitFeatures(ckpt.params, np.array(input.data as Float32Array, { shape: input.shape }), ckpt.cfg);
  assert.deepEqual(tokens.shape, [2, 50, 96]);
  const error = maxAbsDiff((await tokens.data()) as Float32Array, expected.tensors.tokens!.data);
  assert.ok(error < 1e-4, `max abs error ${error}`);
});

test("save then load gives back the same float32 tensors and the architecture metadata", async () => {
  const params = initVit(random.key(7), SMALL_CFG);
  const path = join(dir, "roundtrip.safetensors");
  const normalization = { mean: [0.1, 0.2, 0.3] as [number, number, number], std: [0.4, 0.5, 0.6] as [number, number, number] };
  await saveVitCheckpoint(path, params, SMALL_CFG, { normalization, metadata: { step: "1200" } });
  const { tensors, metadata } = await readSafetensors(path);
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(vitTensorShapes(SMALL_CFG)).sort());
  assert.equal(metadata.mean, "0.1,0.2,0.3");
  assert.deepEqual(metadata, { ...vitMetadata(SMALL_CFG, normalization), step: "1200" });
  for (const key of [
    "arch",
    "img_size",
    "patch_size",
    "embed_dim",
    "depth",
    "num_heads",
    "mlp_ratio",
    "qkv_bias",
    "norm_eps",
    "act",
    "class_token",
    "global_pool",
    "mean",
    "std",
    "format_version",
  ]) {
    assert.ok(key in metadata, `metadata lacks ${key}`);
  }
  const loaded = await loadVitCheckpoint(path);
  assert.deepEqual(loaded.cfg, SMALL_CFG);
  assert.deepEqual(loaded.normalization, normalization);
  // saving borrowed the params: they are still usable and equal to what was loaded
  const original = await params.blocks[1]!.mlp.fc2.weight.ref.data();
  assert.deepEqual(await loaded.params.blocks[1]!.mlp.fc2.weight.ref.data(), original);
  tree.dispose(params);
  tree.dispose(loaded.params);
});

test("float16 on disk halves the file and keeps values to half precision", async () => {
  const tensors = fakeVitTensors();
  const path16 = join(dir, "half.safetensors");
  const path32 = join(dir, "full.safetensors");
  await writeVitTensors(path16, tensors, SMALL_CFG, { dtype: "float16" });
  await writeVitTensors(path32, tensors, SMALL_CFG);
  const raw = await readSafetensors(path16);
  assert.ok(Object.values(raw.tensors).every((t) => t.dtype === "F16"));
  const ratio = (await stat(path16)).size / (await stat(path32)).size;
  assert.ok(ratio < 0.55, `fp16 file is ${ratio} of the fp32 one`);
  const back = await readVitCheckpoint(path16);
  for (const [name, t] of Object.entries(tensors)) {
    const error = maxAbsDiff(back.tensors[name]!.data, t.data);
    assert.ok(error <= 0.1 * 2 ** -11, `${name}: error ${error} beyond half precision`);
  }
});

test("a tensor of the wrong shape is named with both shapes and the preset that fits", async () => {
  const path = join(dir, "tiny.safetensors");
  await writeVitTensors(path, fakeVitTensors(VIT_PRESETS.vit_tiny_patch16_112!), VIT_PRESETS.vit_tiny_patch16_112!);
  await rejectsWith(
    readVitCheckpoint(path, { arch: "vit-small" }),
    "BAD_CHECKPOINT",
    /tiny\.safetensors: cls_token is \[1,1,192\], vit_small_patch16_112 expects \[1,1,384\] \(\d+ more tensors differ\)\. Set arch to vit-tiny\.$/,
  );
  const loaded = await readVitCheckpoint(path, { arch: "vit-tiny" });
  assert.equal(loaded.cfg.embedDim, 192);
});

test("missing tensors are named; extra tensors point to faceprior convert", async () => {
  const tensors = fakeVitTensors();
  const metadata = vitMetadata(SMALL_CFG, DEFAULT_NORMALIZATION);
  const missing = Object.fromEntries(Object.entries(tensors).filter(([name]) => !name.startsWith("blocks.0.")));
  await writeSafetensors(join(dir, "missing.safetensors"), missing, metadata);
  await rejectsWith(
    readVitCheckpoint(join(dir, "missing.safetensors")),
    "BAD_CHECKPOINT",
    /missing\.safetensors: missing 12 tensors that its __metadata__ expects: blocks\.0\.norm1\.weight, blocks\.0\.norm1\.bias/,
  );
  const extra = { ...tensors, "decoder_embed.weight": tensors["norm.weight"]! };
  await writeSafetensors(join(dir, "extra.safetensors"), extra, metadata);
  await rejectsWith(
    readVitCheckpoint(join(dir, "extra.safetensors")),
    "BAD_CHECKPOINT",
    /1 tensors are not part of .*decoder_embed\.weight.*faceprior convert/,
  );
});

test("truncated files and unsupported metadata are BAD_CHECKPOINT naming the file", async () => {
  const bytes = encodeSafetensors(fakeVitTensors(), vitMetadata(SMALL_CFG, DEFAULT_NORMALIZATION));
  await writeFile(join(dir, "cut.safetensors"), bytes.subarray(0, bytes.length - 100));
  await rejectsWith(readVitCheckpoint(join(dir, "cut.safetensors")), "BAD_CHECKPOINT", /cut\.safetensors: tensor .* truncated/);
  await writeSafetensors(join(dir, "quick.safetensors"), fakeVitTensors(), {
    ...vitMetadata(SMALL_CFG, DEFAULT_NORMALIZATION),
    act: "quick_gelu",
  });
  await rejectsWith(
    readVitCheckpoint(join(dir, "quick.safetensors")),
    "BAD_CHECKPOINT",
    /__metadata__\.act is "quick_gelu", expected "gelu_erf"/,
  );
  await writeSafetensors(join(dir, "future.safetensors"), fakeVitTensors(), {
    ...vitMetadata(SMALL_CFG, DEFAULT_NORMALIZATION),
    format_version: "9",
  });
  await rejectsWith(readVitCheckpoint(join(dir, "future.safetensors")), "BAD_CHECKPOINT", /format_version 9 is newer/);
});

test("imgSize resamples pos_embed and keeps the class-token row", { skip: skipUnlessShared(PARITY) }, async () => {
  const path = sharedPath(PARITY, "model.safetensors");
  const original = (await readSafetensors(path)).tensors.pos_embed!.data as Float32Array;
  const ckpt = await readVitCheckpoint(path, { imgSize: 224 });
  assert.equal(ckpt.cfg.imgSize, 224);
  const pos = ckpt.tensors.pos_embed!;
  assert.deepEqual(pos.shape, [1, 197, 96]);
  assert.deepEqual(pos.data.subarray(0, 96), original.subarray(0, 96));
  assert.deepEqual(pos.data, resamplePosEmbed(original, 96, 14));
  assert.match(ckpt.notes.join("\n"), /pos_embed resampled \(bicubic\) to 14x14/);
});

test("without metadata the architecture is inferred, with what was assumed in notes", { skip: skipUnlessShared(PARITY) }, async () => {
  const { tensors } = await readSafetensors(sharedPath(PARITY, "model.safetensors"));
  const bare = join(dir, "bare.safetensors");
  await writeSafetensors(bare, tensors);
  await rejectsWith(
    readVitCheckpoint(bare),
    "BAD_CHECKPOINT",
    /bare\.safetensors: cannot tell the number of heads for width 96\. Set numHeads\./,
  );
  const ckpt = await readVitCheckpoint(bare, { numHeads: 3 });
  const fromMetadata = await readVitCheckpoint(sharedPath(PARITY, "model.safetensors"));
  assert.deepEqual(ckpt.cfg, fromMetadata.cfg);
  assert.match(ckpt.notes.join("\n"), /inferred it from the tensor shapes[\s\S]*assuming 0\.5,0\.5,0\.5/);
});

test("qkv_bias false: zero biases are left out on disk and come back as zeros", async () => {
  const cfg = { ...SMALL_CFG, qkvBias: false };
  const params = initVit(random.key(1), cfg);
  const path = join(dir, "nobias.safetensors");
  await saveVitCheckpoint(path, params, cfg);
  tree.dispose(params);
  const { tensors, metadata } = await readSafetensors(path);
  assert.equal(metadata.qkv_bias, "false");
  assert.ok(!Object.keys(tensors).some((n) => n.endsWith("qkv.bias")));
  const loaded = await loadVitCheckpoint(path);
  assert.equal(loaded.cfg.qkvBias, false);
  assert.deepEqual(Array.from(await loaded.params.blocks[0]!.attn.qkv.bias.ref.data()), new Array(192).fill(0));
  tree.dispose(loaded.params);
});
