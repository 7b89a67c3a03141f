/**
 * The CLI's onnxruntime paths, spawned for real in a scratch folder: `faceprior export`, and
 * `faceprior embed --engine`.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readSafetensors, writeSafetensors } from "../checkpoint/safetensors.js";
import { decodeImageBatch } from "../data/image.js";
import { OnnxSession } from "../engine/onnx-session.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { skipUnlessOnnxRuntime } from "../../test/support/onnx-runtime.js";
import { assertNoStack, runCli } from "../../test/support/run-cli.js";
import { needsParity, parityImagePath, parityModelPath, readParityFixture } from "../../test/support/vit-parity.js";

const skip = needsParity.skip || (await skipUnlessOnnxRuntime());
let dir = "";
const faceprior = (...args: string[]) => runCli(args, dir);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-onnx-cli-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("export writes the parity encoder as ONNX whose features match PyTorch's class tokens within 1e-4", { skip }, async () => {
  const run = await faceprior("export", "--model", parityModelPath(), "--onnx", "encoder.onnx");
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Wrote encoder\.onnx: ViT width 96, depth 2, ONNX opset 17, [\d.]+ MB\.$/m);
  assert.match(run.stdout, /^Input "image" float32 \[N, 3, 112, 112\], RGB in \[0, 1\]; output "features" \[N, 96\] \(class token\)\.$/m);
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith(".tmp")),
    [],
    "no temporary file left behind",
  );

  const pixels = await decodeImageBatch([parityImagePath(0), parityImagePath(1)], { size: 112, mean: [0, 0, 0], std: [1, 1, 1] });
  const session = await OnnxSession.create(join(dir, "encoder.onnx"), { threads: 1 });
  const { features } = await session.run(pixels, 2).finally(() => session.dispose());
  const { tokens } = await readParityFixture();
  const classTokens = Float32Array.from([...tokens.subarray(0, 96), ...tokens.subarray(50 * 96, 50 * 96 + 96)]);
  const error = maxAbsDiff(features!, classTokens);
  assert.ok(error <= 1e-4, `max abs error ${error}`);
});

test("export refuses a missing, foreign or misnamed file, naming it, and writes nothing", async () => {
  await writeSafetensors(join(dir, "head.safetensors"), { "head.weight": { dtype: "F32", shape: [2, 2], data: new Float32Array(4) } });
  const cases: [string[], number, RegExp][] = [
    [["--model", "nowhere.safetensors", "--onnx", "a.onnx"], 1, /^faceprior \[BAD_CHECKPOINT\]: nowhere\.safetensors: cannot be read/],
    [
      ["--model", "head.safetensors", "--onnx", "b.onnx"],
      1,
      /^faceprior \[BAD_CHECKPOINT\]: head\.safetensors: 1 tensors are not part of faceprior's ViT encoder: head\.weight\. Convert it first \(`faceprior convert`\)/,
    ],
    [["--model", "m.safetensors", "--onnx", "c.bin"], 2, /^faceprior \[BAD_ARGUMENT\]: --onnx: "c\.bin" must end in \.onnx\./],
  ];
  for (const [args, code, pattern] of cases) {
    const run = await faceprior("export", ...args);
    assert.equal(run.code, code, run.stderr);
    assert.match(run.stderr, pattern);
    assertNoStack(run);
  }
  assert.deepEqual(
    (await readdir(dir)).filter((f) => /^\.?[abc]\./.test(f)),
    [],
  );
});

test("embed's two engines agree within 1e-4, and auto picks onnxruntime when it is installed", { skip }, async (t) => {
  const embedded: Record<string, Float32Array> = {};
  for (const engine of ["jax", "onnx", "auto"]) {
    const out = `tokens-${engine}.safetensors`;
    const run = await faceprior(
      "embed",
      "--engine",
      engine,
      "--tokens",
      "all",
      "--threads",
      "1",
      "--model",
      parityModelPath(),
      "--crop",
      "center",
      "--out",
      out,
      parityImagePath(0),
      parityImagePath(1),
    );
    assert.equal(run.code, 0, run.stderr);
    const written = await readSafetensors(join(dir, out));
    assert.equal(written.metadata.engine, engine === "auto" ? "onnx" : engine);
    embedded[engine] = written.tensors.tokens!.data as Float32Array;
  }
  const error = maxAbsDiff(embedded.jax!, embedded.onnx!);
  t.diagnostic(`embed --tokens all, max abs difference between --engine jax and --engine onnx: ${error.toExponential(2)}`);
  assert.ok(error <= 1e-4, `max abs difference between the engines ${error}`);
  const mismatch = await faceprior(
    "--device",
    "webgpu",
    "embed",
    "--engine",
    "onnx",
    "--model",
    "m.safetensors",
    "--crop",
    "center",
    "--out",
    "x.safetensors",
    "a.png",
  );
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /--engine onnx runs on the CPU; --device webgpu is for jax-js\. Pass one of them\./);
});
