import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readSafetensors, writeSafetensors } from "../checkpoint/safetensors.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { skipUnlessOnnxRuntime } from "../../test/support/onnx-runtime.js";
import { needsParity, parityModelPath, readParityFixture } from "../../test/support/vit-parity.js";
import { tree } from "../engine/jax.js";
import { DEFAULT_MODEL_PATH } from "../inference/face-analyzer.js";
import { loadEncoder } from "../transfer/features.js";
import { readEncoderOf, readFaceModel, writeFaceModel, type FaceModel, type ModelHead } from "./face-model.js";
import { createModelRunner } from "./encoder-runner.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-face-model-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Heads of each activation on the parity encoder (width 96), with fixed pseudo-random values. */
function sampleHeads(dim: number): ModelHead[] {
  const values = (n: number, seed: number, scale: number) =>
    Float32Array.from({ length: n }, (_, i) => scale * Math.sin(seed * 997 + 1.3 * i));
  const head = (name: string, activation: ModelHead["activation"], labels: string[], k: number, seed: number): ModelHead => ({
    name,
    activation,
    labels,
    weight: values(k * dim, seed, 0.2),
    bias: values(k, seed + 1, 0.3),
  });
  return [
    head("smile", "softmax", ["no", "yes"], 2, 1),
    head("au", "sigmoid", ["AU1", "AU2", "AU4"], 3, 2),
    head("age", "expected-age", ["age"], 101, 3),
  ];
}

async function parityFaceModel(): Promise<FaceModel> {
  const { checkpoint } = await readParityFixture();
  return {
    source: parityModelPath(),
    cfg: checkpoint.cfg,
    normalization: checkpoint.normalization,
    tensors: checkpoint.tensors,
    heads: sampleHeads(checkpoint.cfg.embedDim),
    about: { note: "test" },
  };
}

test("a face model round-trips through its file: encoder in fp16, heads and their labels exact", needsParity, async () => {
  const model = await parityFaceModel();
  const path = join(dir, "model.safetensors");
  await writeFaceModel(path, model);
  const back = await readFaceModel(path);
  assert.deepEqual(back.cfg, model.cfg);
  assert.deepEqual(
    back.heads.map((h) => [h.name, h.activation, h.labels]),
    model.heads.map((h) => [h.name, h.activation, h.labels]),
  );
  assert.deepEqual(back.heads[1]!.weight, model.heads[1]!.weight);
  assert.equal(back.tensors["blocks.0.attn.qkv.weight"]!.dtype, "F16");
  assert.ok(
    maxAbsDiff(back.tensors["pos_embed"]!.data as Float32Array, model.tensors["pos_embed"]!.data as Float32Array) < 1e-3,
    "fp16 keeps about 3 digits",
  );
  assert.deepEqual(back.about, { note: "test" });
});

test("a file that is not a face model, or whose head does not fit its labels, is refused with the fix", needsParity, async () => {
  await assert.rejects(readFaceModel(parityModelPath()), /not a face model \(no faceprior\.heads in its metadata\)/);
  const model = await parityFaceModel();
  const path = join(dir, "bad.safetensors");
  await writeFaceModel(path, { ...model, heads: [{ ...model.heads[0]!, labels: ["no", "yes", "maybe"] }] });
  await assert.rejects(
    readFaceModel(path),
    /head "smile" has weight \[2,96\] and bias \[2\]; it needs weight \[3, 96\] and bias \[3\] for its 3 labels/,
  );
  await writeSafetensors(join(dir, "junk.safetensors"), {}, { arch: "vit" });
  await assert.rejects(readFaceModel(join(dir, "junk.safetensors")), /junk\.safetensors/);
});

test("jax-js and onnxruntime give the same features and head outputs for a face model", {
  skip: needsParity.skip || (await skipUnlessOnnxRuntime()),
}, async (t) => {
  const model = await parityFaceModel();
  const { inputNchw } = await readParityFixture();
  // The fixture's input is normalised with mean = std = 0.5; the runners take [0, 1] pixels.
  const pixels = inputNchw.map((v) => v * 0.5 + 0.5);
  const jax = await createModelRunner(model, "jax", 1);
  const onnx = await createModelRunner(model, "onnx", 1);
  const [a, b] = [await jax.run(pixels, 2), await onnx.run(pixels, 2)];
  await jax.dispose();
  await onnx.dispose();
  for (const name of ["features", "smile", "au", "age"]) {
    const error = maxAbsDiff(a[name]!, b[name]!);
    t.diagnostic(`${name}: max abs difference ${error.toExponential(2)}`);
    assert.ok(error < 1e-4, `${name}: ${error}`);
  }
  assert.equal(a.age!.length, 2);
  assert.ok(Math.abs(a.smile![0]! + a.smile![1]! - 1) < 1e-5, "softmax rows sum to 1");
});

test("a grey-input head reads the grey copy of each face, on both engines, and the flag survives the file", {
  skip: needsParity.skip || (await skipUnlessOnnxRuntime()),
}, async (t) => {
  const plain = await parityFaceModel();
  const model = { ...plain, heads: plain.heads.map((h) => (h.name === "smile" ? { ...h, greyInput: true } : h)) };
  const { inputNchw } = await readParityFixture();
  const colour = inputNchw.map((v) => v * 0.5 + 0.5);
  const plane = colour.length / 6;
  // Rec. 601 luma of each pixel, in all three channels, for both images.
  const grey = colour.map((_, i) => {
    const [image, p] = [Math.floor(i / (3 * plane)), i % plane];
    const at = (c: number) => colour[image * 3 * plane + c * plane + p]!;
    return 0.299 * at(0) + 0.587 * at(1) + 0.114 * at(2);
  });
  const path = join(dir, "grey.safetensors");
  await writeFaceModel(path, model);
  const stored = await readFaceModel(path);
  assert.deepEqual(
    stored.heads.map((h) => h.greyInput ?? false),
    [true, false, false],
  );
  for (const engine of ["jax", "onnx"] as const) {
    const [withGrey, reference] = [
      await createModelRunner(stored, engine, 1),
      await createModelRunner({ ...stored, heads: plain.heads }, engine, 1),
    ];
    const [out, onColour, onGrey] = [await withGrey.run(colour, 2), await reference.run(colour, 2), await reference.run(grey, 2)];
    await withGrey.dispose();
    await reference.dispose();
    const errors = {
      smile: maxAbsDiff(out.smile!, onGrey.smile!),
      age: maxAbsDiff(out.age!, onColour.age!),
      features: maxAbsDiff(out.features!, onColour.features!),
    };
    t.diagnostic(
      `${engine}: grey head vs the plain head on grey images ${errors.smile.toExponential(2)}; colour head and features vs the plain model ${errors.age.toExponential(2)}, ${errors.features.toExponential(2)}`,
    );
    for (const [what, error] of Object.entries(errors)) assert.ok(error < 1e-5, `${engine} ${what}: ${error}`);
    assert.ok(maxAbsDiff(onColour.smile!, onGrey.smile!) > 1e-3, "the test images are colour: grey changes the head's answer");
  }
});

/** Images [n, 3, S, S] with each row of pixels reversed: their mirror images. */
function mirrorImages(pixels: Float32Array, size: number): Float32Array {
  return pixels.map((_, i) => {
    const column = i % size;
    return pixels[i - column + (size - 1 - column)]!;
  });
}

test("a mirror-averaging model answers a face and its mirror image alike, on both engines, and the flag survives the file", {
  skip: needsParity.skip || (await skipUnlessOnnxRuntime()),
}, async (t) => {
  const plain = await parityFaceModel();
  // A grey-input head too: the mirror images then run in both the colour and the grey batch.
  const heads = plain.heads.map((h) => (h.name === "smile" ? { ...h, greyInput: true } : h));
  const path = join(dir, "mirror.safetensors");
  await writeFaceModel(path, { ...plain, heads, mirrorAverage: true });
  const stored = await readFaceModel(path);
  assert.equal(stored.mirrorAverage, true);
  assert.equal((await readFaceModel(join(dir, "model.safetensors"))).mirrorAverage, undefined, "a model without the flag");
  const { inputNchw } = await readParityFixture();
  const colour = inputNchw.map((v) => v * 0.5 + 0.5);
  const flipped = mirrorImages(colour, plain.cfg.imgSize);
  for (const engine of ["jax", "onnx"] as const) {
    const [mirror, reference] = [
      await createModelRunner(stored, engine, 1),
      await createModelRunner({ ...stored, mirrorAverage: false }, engine, 1),
    ];
    const [out, outFlipped, onColour, onFlipped] = [
      await mirror.run(colour, 2),
      await mirror.run(flipped, 2),
      await reference.run(colour, 2),
      await reference.run(flipped, 2),
    ];
    await mirror.dispose();
    await reference.dispose();
    const meanFeatures = onColour.features!.map((v, i) => (v + onFlipped.features![i]!) / 2);
    const errors = {
      "features vs the mean of the plain model's": maxAbsDiff(out.features!, meanFeatures),
      ...Object.fromEntries(
        ["features", "smile", "au", "age"].map((name) => [
          `${name}, image vs mirror`,
          maxAbsDiff(out[name]!, outFlipped[name]!) / Math.max(1, ...out[name]!.map(Math.abs)),
        ]),
      ),
    };
    t.diagnostic(
      `${engine}: ${Object.entries(errors)
        .map(([what, e]) => `${what} ${e.toExponential(2)}`)
        .join("; ")}`,
    );
    for (const [what, error] of Object.entries(errors)) assert.ok(error < 1e-5, `${engine} ${what}: ${error}`);
    assert.ok(maxAbsDiff(onColour.smile!, onFlipped.smile!) > 1e-4, "without the flag, the mirror image gets another answer");
  }
});

test("a face model whose mirror flag is not true or false is refused, naming the key", needsParity, async () => {
  const model = await parityFaceModel();
  const path = join(dir, "bad-mirror.safetensors");
  await writeFaceModel(path, model);
  const { tensors, metadata } = await readSafetensors(path);
  await writeSafetensors(path, tensors, { ...metadata, "faceprior.mirrorAverage": "yes" });
  await assert.rejects(
    readFaceModel(path),
    /bad-mirror\.safetensors: __metadata__\.faceprior\.mirrorAverage is "yes", expected "true" or "false"\. Re-export the model\./,
  );
});

test("training can start from the bundled face model: its encoder is read without the heads", async () => {
  const model = await readFaceModel(DEFAULT_MODEL_PATH);
  const encoder = await readEncoderOf(DEFAULT_MODEL_PATH);
  assert.deepEqual(encoder.cfg, model.cfg);
  assert.deepEqual(Object.keys(encoder.tensors).sort(), Object.keys(model.tensors).sort(), "the encoder's tensors, no head's");
  assert.ok(!Object.keys(encoder.tensors).some((name) => name.startsWith("heads.")));
  const loaded = await loadEncoder({ checkpoint: DEFAULT_MODEL_PATH });
  assert.equal(loaded.params.blocks.length, model.cfg.depth);
  tree.dispose(loaded.params);
});
