import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { FacepriorError } from "../errors.js";
import { VitConfigSchema } from "../model/vit-presets.js";
import { fakeVitTensors, SMALL_CFG, withPrefixAndExtras } from "../../test/support/fake-vit.js";
import { IMAGENET_NORMALIZATION, importTimmCheckpoint, importTimmTensors, inferVitConfig } from "./from-timm.js";
import { writeSafetensors, type TensorMap } from "./safetensors.js";
import { readVitCheckpoint, writeVitTensors } from "./vit-checkpoint.js";
import { DEFAULT_NORMALIZATION, RUN_STATE_FORMAT } from "./vit-metadata.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-timm-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function throwsCheckpoint(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof FacepriorError, String(error));
    assert.equal(error.code, "BAD_CHECKPOINT");
    assert.match(error.message, pattern);
    return true;
  });
}

/** MAE's pretraining state_dict names for a 1-block, width-32 decoder. */
const MAE_DECODER: Record<string, number[]> = {
  mask_token: [1, 1, 32],
  "decoder_embed.weight": [32, 64],
  "decoder_embed.bias": [32],
  decoder_pos_embed: [1, 5, 32],
  "decoder_blocks.0.norm1.weight": [32],
  "decoder_blocks.0.attn.qkv.weight": [96, 32],
  "decoder_norm.weight": [32],
  "decoder_pred.weight": [768, 32],
  "decoder_pred.bias": [768],
};

test("an MAE checkpoint under model. keeps the encoder, drops and reports the decoder", async () => {
  const encoder = fakeVitTensors();
  const mae = withPrefixAndExtras(encoder, "model.", Object.fromEntries(Object.entries(MAE_DECODER).map(([k, v]) => [`model.${k}`, v])));
  const source = join(dir, "mae.safetensors");
  await writeSafetensors(source, mae);
  const imported = await importTimmCheckpoint(source);
  assert.equal(imported.prefix, "model.");
  assert.deepEqual(Object.keys(imported.tensors).sort(), Object.keys(encoder).sort());
  assert.deepEqual(imported.tensors["blocks.1.mlp.fc2.weight"], encoder["blocks.1.mlp.fc2.weight"]);
  assert.deepEqual(imported.dropped, [
    {
      reason: "MAE decoder",
      names: Object.keys(MAE_DECODER)
        .map((k) => `model.${k}`)
        .sort(),
    },
  ]);
  // width 64 is not in timm's table: one head of 64, and that is said
  assert.deepEqual(imported.cfg, { ...SMALL_CFG, numHeads: 1 });
  assert.deepEqual(imported.normalization, IMAGENET_NORMALIZATION);
  assert.match(imported.notes.join("\n"), /1 heads assumed \(head dim 64\)[\s\S]*ImageNet mean\/std \(MAE's\)/);
  // the result is a checkpoint that loads with the inferred architecture and normalisation
  const out = join(dir, "mae-encoder.safetensors");
  await writeVitTensors(out, imported.tensors, imported.cfg, { normalization: imported.normalization });
  const loaded = await readVitCheckpoint(out);
  assert.deepEqual(loaded.cfg, imported.cfg);
  assert.deepEqual(loaded.normalization, IMAGENET_NORMALIZATION);
});

test("a classifier under module.: head and fc_norm dropped, heads option used", () => {
  const encoder = fakeVitTensors();
  const withHead = withPrefixAndExtras(encoder, "module.", {
    "module.head.weight": [10, 64],
    "module.head.bias": [10],
    "module.fc_norm.weight": [64],
  });
  const imported = importTimmTensors(withHead, { numHeads: 4 });
  assert.deepEqual(imported.cfg, SMALL_CFG);
  assert.deepEqual(imported.dropped, [
    { reason: "classifier head", names: ["module.head.weight", "module.head.bias", "module.fc_norm.weight"] },
  ]);
  assert.match(imported.notes.join("\n"), /mean\/std 0\.5 \(timm's ViT default\)/);
});

test("visual.trunk. is stripped and the rest of a CLIP file is dropped as outside the encoder", () => {
  const clip = withPrefixAndExtras(fakeVitTensors(), "visual.trunk.", { logit_scale: [], "visual.head.proj.weight": [32, 64] });
  const imported = importTimmTensors(clip, { numHeads: 4 });
  assert.equal(imported.prefix, "visual.trunk.");
  assert.deepEqual(imported.dropped, [
    { reason: `outside the encoder's prefix "visual.trunk."`, names: ["logit_scale", "visual.head.proj.weight"] },
  ]);
});

test("fc_norm without norm (global_pool avg) is refused", () => {
  const tensors: TensorMap = { ...fakeVitTensors(), "fc_norm.weight": fakeVitTensors()["norm.weight"]! };
  delete tensors["norm.weight"];
  delete tensors["norm.bias"];
  throwsCheckpoint(() => importTimmTensors(tensors, { source: "ft.safetensors" }), /^ft\.safetensors: it has fc_norm but no norm/);
});

test("foreign layouts are refused by name", () => {
  const clip = withPrefixAndExtras({}, "", {
    class_embedding: [64],
    "conv1.weight": [64, 3, 16, 16],
    "transformer.resblocks.0.ln_1.weight": [64],
  });
  throwsCheckpoint(
    () => importTimmTensors(clip, { source: "clip.safetensors" }),
    /clip\.safetensors: it looks like an OpenAI\/OpenCLIP ViT \(class_embedding\)\. faceprior imports timm's plain ViT layout/,
  );
  const hf = withPrefixAndExtras({}, "", { "vit.embeddings.patch_embeddings.projection.weight": [64, 3, 16, 16] });
  throwsCheckpoint(() => importTimmTensors(hf), /Hugging Face transformers ViT/);
  const dino = withPrefixAndExtras(fakeVitTensors(), "", { "blocks.0.ls1.gamma": [64] });
  throwsCheckpoint(() => importTimmTensors(dino), /layer scale \(DINOv2, CaiT\) \(blocks\.0\.ls1\.gamma\)/);
  const odd = withPrefixAndExtras(fakeVitTensors(), "", { "blocks.0.attn.weird": [64] });
  throwsCheckpoint(
    () => importTimmTensors(odd),
    /1 tensors are neither encoder, MAE decoder, classifier nor faceprior pretraining head: blocks\.0\.attn\.weird/,
  );
});

test("an unknown prefix needs --prefix; two encoders need a choice", () => {
  const wrapped = withPrefixAndExtras(fakeVitTensors(), "image_tower.", {});
  throwsCheckpoint(() => importTimmTensors(wrapped, { numHeads: 4 }), /"image_tower" is not a known wrapper .*set prefix to image_tower\./);
  assert.equal(importTimmTensors(wrapped, { numHeads: 4, prefix: "image_tower" }).prefix, "image_tower.");
  const dino = { ...withPrefixAndExtras(fakeVitTensors(), "student.", {}), ...withPrefixAndExtras(fakeVitTensors(), "teacher.", {}) };
  throwsCheckpoint(
    () => importTimmTensors(dino, { numHeads: 4 }),
    /it holds 2 encoders \(student\.patch_embed\.proj\.weight, teacher\.patch_embed\.proj\.weight\)/,
  );
});

test("inferVitConfig reads every field off the shapes and uses timm's head table", () => {
  const cfg = VitConfigSchema.parse({ imgSize: 64, patchSize: 8, embedDim: 384, depth: 3, numHeads: 6, mlpRatio: 2, qkvBias: false });
  const { cfg: inferred, notes } = inferVitConfig(fakeVitTensors(cfg));
  assert.deepEqual(inferred, cfg);
  assert.match(notes.join("\n"), /6 heads assumed, timm's default for width 384/);
  const narrow = VitConfigSchema.parse({ imgSize: 32, patchSize: 16, embedDim: 96, depth: 1, numHeads: 3 });
  throwsCheckpoint(
    () => inferVitConfig(fakeVitTensors(narrow), { source: "n.safetensors" }),
    /^n\.safetensors: cannot tell the number of heads for width 96\. Set numHeads\.$/,
  );
  throwsCheckpoint(() => inferVitConfig(fakeVitTensors(narrow), { numHeads: 5 }), /\(5 does not divide it\)/);
});

test("a faceprior pretraining checkpoint gives its encoder, without decoder, prior heads or optimizer state, at mean/std 0.5", async () => {
  const encoder = fakeVitTensors();
  const extras = {
    ...MAE_DECODER,
    "pixel_head.weight": [32, 64],
    "component_proj.fc1.weight": [16, 64],
    "opt.mu.cls_token": [1, 1, 64],
    "opt.count": [],
  };
  const source = join(dir, "step-00000004.safetensors");
  await writeSafetensors(source, withPrefixAndExtras(encoder, "", extras), { format: RUN_STATE_FORMAT });
  const imported = await importTimmCheckpoint(source);
  assert.deepEqual(Object.keys(imported.tensors).sort(), Object.keys(encoder).sort());
  assert.deepEqual(imported.dropped.map((d) => [d.reason, d.names.length]).sort(), [
    ["MAE decoder", 9],
    ["faceprior pretraining heads", 2],
    ["optimizer state", 2],
  ]);
  assert.deepEqual(imported.normalization, DEFAULT_NORMALIZATION);
  assert.match(imported.notes.join("\n"), /a faceprior pretraining checkpoint: the normalisation pretraining uses/);
});
