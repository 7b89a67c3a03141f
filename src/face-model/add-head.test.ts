import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fakeVitTensors, SMALL_CFG } from "../../test/support/fake-vit.js";
import { addHead, readFaceModel, writeFaceModel, type FaceModel, type ModelHead } from "./face-model.js";

const D = SMALL_CFG.embedDim;

function head(name: string, labels: string[], fill: number): ModelHead {
  return {
    name,
    activation: "softmax",
    labels,
    weight: new Float32Array(labels.length * D).fill(fill),
    bias: new Float32Array(labels.length).fill(fill),
  };
}

const model: FaceModel = {
  source: "base.safetensors",
  cfg: SMALL_CFG,
  normalization: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  tensors: fakeVitTensors(),
  heads: [head("au", ["AU1", "AU2"], 1), head("age", ["young", "old"], 2)],
  about: { description: "base", heads: { au: { data: "ckplus" } } },
};

test("a new head is added after the model's heads and survives a write and read, its provenance beside the others", async () => {
  const smile = {
    ...head("smile", ["neutral", "smiling"], 0),
    weight: Float32Array.from({ length: 2 * D }, (_, i) => i / 7),
    about: "fitted on 20 photos",
  };
  const added = addHead(model, smile, { about: { photos: 20 } });
  const dir = await mkdtemp(join(tmpdir(), "faceprior-face-model-"));
  try {
    await writeFaceModel(join(dir, "smile.safetensors"), added);
    const read = await readFaceModel(join(dir, "smile.safetensors"));
    assert.deepEqual(
      read.heads.map((h) => [h.name, h.labels, h.about]),
      [
        ["au", ["AU1", "AU2"], undefined],
        ["age", ["young", "old"], undefined],
        ["smile", ["neutral", "smiling"], "fitted on 20 photos"],
      ],
    );
    assert.deepEqual(read.heads[2]!.weight, smile.weight, "head weights are stored in float32, exactly");
    assert.deepEqual(read.about, { description: "base", heads: { au: { data: "ckplus" }, smile: { photos: 20 } } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a head name the model has is refused unless replace, which keeps the head's place", () => {
  assert.throws(() => addHead(model, head("age", ["a", "b"], 3)), {
    message: 'name: base.safetensors already has a head "age" (its heads: au, age). Choose another name, or set replace to overwrite it.',
  });
  const replaced = addHead(model, head("age", ["a", "b"], 3), { replace: true });
  assert.deepEqual(
    replaced.heads.map((h) => [h.name, h.bias[0]]),
    [
      ["au", 1],
      ["age", 3],
    ],
  );
});

test("a head name must be letters, digits and _, and the head must fit the encoder's width", () => {
  assert.throws(() => addHead(model, head("smile-2", ["a", "b"], 0)), {
    message: 'name: expected a head name of letters, digits and _, starting with a letter, got "smile-2" (string).',
  });
  const narrow = { ...head("smile", ["a", "b"], 0), weight: new Float32Array(2 * 32) };
  assert.throws(() => addHead(model, narrow), {
    message:
      /head "smile": weight has 64 and bias 2 values; on this 64-wide encoder with 2 outputs they need 128 and 2\. Fit the head on this model's features\./,
  });
});
