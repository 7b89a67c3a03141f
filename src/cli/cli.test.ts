/**
 * The real `faceprior` program, spawned in a scratch folder; assertions on its stdout, stderr,
 * exit code and the files it wrote.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readSafetensors, writeSafetensors } from "../checkpoint/safetensors.js";
import { defaultThreads } from "../engine/node-shims.js";
import sharp from "sharp";
import { writeVitTensors } from "../checkpoint/vit-checkpoint.js";
import { fakeVitTensors, SMALL_CFG, withPrefixAndExtras } from "../../test/support/fake-vit.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { assertNoStack, runCli } from "../../test/support/run-cli.js";
import { DEFAULT_MODEL_PATH } from "../inference/face-analyzer.js";

const PARITY = "fixtures/vit-parity";
const needsParity = { skip: skipUnlessShared(PARITY) };
const model = () => sharedPath(PARITY, "model.safetensors");
const input = (i: number) => sharedPath(PARITY, `input${i}.png`);
let dir = "";

const faceprior = (...args: string[]) => runCli(args, dir);
const noStack = assertNoStack;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-cli-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("--help lists the commands and global options; a command's --help its options", async () => {
  const run = await faceprior("--help");
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Usage: faceprior \[global options\] <command> \[options\] <inputs\.\.\.>/);
  for (const command of ["info", "embed", "convert"]) assert.match(run.stdout, new RegExp(`^  ${command} +\\S`, "m"));
  assert.match(run.stdout, /--device <name> +Compute backend: wasm \(CPU\) or webgpu\. \(one of: wasm, webgpu; default: wasm\)/);
  const bare = await faceprior();
  assert.equal(bare.stdout, run.stdout);
  const embed = await faceprior("embed", "--help");
  assert.equal(embed.code, 0);
  assert.match(embed.stdout, /^Usage: faceprior embed \[options\] <images\.\.\.>/);
  assert.match(embed.stdout, /--tokens <cls\|mean\|all> +--crop center: the class token/);
  assert.match(embed.stdout, /--batch <n> +--crop center: images per forward pass\. \(default: 32\)/);
  const version = await faceprior("--version");
  assert.match(version.stdout, /^faceprior \d+\.\d+\.\d+\n$/);
});

test("usage errors quote the bad value with the choices and exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["embedd"],
      /^faceprior \[BAD_ARGUMENT\]: "embedd" is not a faceprior command\. Did you mean embed\? Use one of: analyze, add-head, info, embed, convert, export, demo, prepare, merge, pretrain, finetune, multitask, study, pack, doctor\.\n$/,
    ],
    [
      ["embed", "--model", "m.safetensors", "--crop", "center", "--out", "o.safetensors", "--tokens", "first", "a.png"],
      /--tokens: "first" is not one of the choices\. Use one of: cls, mean, all\./,
    ],
    [["--device", "cuda", "info", "m.safetensors"], /--device: "cuda" is not one of the choices\. Use one of: wasm, webgpu\./],
    [["info", "--threads", "two", "m.safetensors"], /--threads: "two" is not a whole number from 1 to 64\./],
    [["info", "--jsno", "m.safetensors"], /--jsno: not an option of faceprior info\. Did you mean --json\?/],
    [["embed", "--model", "m.safetensors", "--crop", "center", "a.png"], /--out: is required\. Pass --out <file\.safetensors>\./],
    [["embed", "--model", "m.safetensors", "--crop", "center", "--out", "o.npy", "a.png"], /--out: "o\.npy" must end in \.safetensors/],
    [["info"], /<checkpoint>: missing\. Run "faceprior info --help" for usage\./],
  ];
  for (const [args, pattern] of cases) {
    const run = await faceprior(...args);
    assert.equal(run.code, 2, `${args.join(" ")}: exit ${run.code}, stderr ${run.stderr}`);
    assert.match(run.stderr, pattern);
    assert.equal(run.stdout, "");
    noStack(run);
  }
});

test("info prints the parity model's architecture and parameter count", needsParity, async () => {
  const { tensors } = await readSafetensors(model());
  const count = Object.values(tensors).reduce((sum, t) => sum + t.data.length, 0);
  const run = await faceprior("info", model());
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /architecture +ViT, width 96, depth 2, 3 heads, MLP ratio 4/);
  assert.match(run.stdout, /input +112x112, patch 16 \(7x7 = 49 patches \+ class token\)/);
  assert.match(run.stdout, new RegExp(`parameters +${count.toLocaleString("en-US")} in 30 tensors, F32`));
  const json = JSON.parse((await faceprior("info", "--json", model())).stdout);
  assert.equal(json.parameters, count);
  assert.deepEqual([json.config.embedDim, json.config.depth, json.config.numHeads], [96, 2, 3]);
});

test("embed --tokens all reproduces expected.safetensors tokens", needsParity, async () => {
  const run = await faceprior(
    "embed",
    "--tokens",
    "all",
    "--threads",
    "1",
    "--model",
    model(),
    "--crop",
    "center",
    "--out",
    "tokens.safetensors",
    input(0),
    input(1),
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Wrote tokens\.safetensors: "tokens" \[2, 50, 96\] float32 \(all tokens\) for 2 images/);
  const written = await readSafetensors(join(dir, "tokens.safetensors"));
  const expected = await readSafetensors(sharedPath(PARITY, "expected.safetensors"));
  assert.deepEqual(Object.keys(written.tensors), ["tokens"]);
  assert.deepEqual(written.tensors.tokens!.shape, [2, 50, 96]);
  const error = maxAbsDiff(written.tensors.tokens!.data, expected.tensors.tokens!.data);
  assert.ok(error < 1e-4, `max abs error ${error}`);
  assert.deepEqual(JSON.parse(written.metadata.inputs!), [input(0), input(1)]);
  assert.equal(written.metadata.tokens, "all");
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith(".tmp")),
    [],
    "no temporary file left behind",
  );

  const mean = await faceprior(
    "embed",
    "--tokens",
    "mean",
    "--threads",
    "1",
    "--model",
    model(),
    "--crop",
    "center",
    "--out",
    "mean.safetensors",
    input(1),
  );
  assert.equal(mean.code, 0, mean.stderr);
  const want = new Float32Array(96);
  const second = expected.tensors.tokens!.data.subarray(50 * 96);
  for (let t = 1; t < 50; t++) for (let d = 0; d < 96; d++) want[d]! += second[t * 96 + d]! / 49;
  assert.ok(maxAbsDiff((await readSafetensors(join(dir, "mean.safetensors"))).tensors.embeddings!.data, want) < 1e-4);

  const large = await faceprior(
    "embed",
    "--tokens",
    "all",
    "--img-size",
    "224",
    "--threads",
    "1",
    "--model",
    model(),
    "--crop",
    "center",
    "--out",
    "large.safetensors",
    input(0),
  );
  assert.equal(large.code, 0, large.stderr);
  assert.match(large.stderr, /note: .*model\.safetensors: pos_embed resampled \(bicubic\) to 14x14 patches for 224x224 input/);
  assert.deepEqual((await readSafetensors(join(dir, "large.safetensors"))).tensors.tokens!.shape, [1, 197, 96]);
});

test("embed cls over a folder, with a padded last batch, keeps row order and logs JSON lines", needsParity, async () => {
  const folder = join(dir, "faces");
  await mkdir(join(folder, "b"), { recursive: true });
  await copyFile(input(1), join(folder, "a.png"));
  await copyFile(input(0), join(folder, "b", "c.png"));
  await copyFile(input(1), join(folder, "d.png"));
  // A thread count other than the default only works if main.ts sized the pool before loading jax-js.
  const threads = String(defaultThreads() + 1);
  const run = await faceprior(
    "embed",
    "--engine",
    "jax",
    "--threads",
    threads,
    "--batch",
    "2",
    "--log",
    "run.jsonl",
    "--model",
    model(),
    "--crop",
    "center",
    "--out",
    "cls.safetensors",
    folder,
  );
  assert.equal(run.code, 0, run.stderr);
  const written = await readSafetensors(join(dir, "cls.safetensors"));
  const tokens = (await readSafetensors(sharedPath(PARITY, "expected.safetensors"))).tensors.tokens!.data;
  const cls = (i: number) => tokens.subarray(i * 50 * 96, i * 50 * 96 + 96);
  assert.deepEqual(written.tensors.embeddings!.shape, [3, 96]);
  const want = Float32Array.from([...cls(1), ...cls(0), ...cls(1)]);
  assert.ok(maxAbsDiff(written.tensors.embeddings!.data, want) < 1e-4);
  assert.deepEqual(
    JSON.parse(written.metadata.inputs!),
    ["a.png", "b/c.png", "d.png"].map((f) => join(folder, f)),
  );
  const log = (await readFile(join(dir, "run.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    log.map((r) => r.event),
    ["start", "batch", "batch", "done"],
  );
  assert.deepEqual(
    log.filter((r) => r.event === "batch").map((r) => r.images),
    [2, 1],
  );
});

/** A small generated checkpoint (32x32 input) and a 40x40 photo-like PNG, no shared data needed. */
async function smallModelAndImage(): Promise<{ ckpt: string; image: string }> {
  const ckpt = join(dir, "small.safetensors");
  await writeVitTensors(ckpt, fakeVitTensors(), SMALL_CFG);
  const pixels = new Uint8Array(40 * 40 * 3).map((_, i) => (i * 37) % 256);
  await sharp(pixels, { raw: { width: 40, height: 40, channels: 3 } })
    .png()
    .toFile(join(dir, "face.png"));
  return { ckpt, image: join(dir, "face.png") };
}

test("a corrupt image stops embed before any compute, naming the file, without a stack", async () => {
  const { ckpt, image } = await smallModelAndImage();
  const png = await readFile(image);
  await writeFile(join(dir, "cut.png"), png.subarray(0, png.length / 2));
  await writeFile(join(dir, "notes.jpg"), "not a picture");
  const args = ["embed", "--threads", "1", "--model", ckpt, "--crop", "center", "--out", "bad.safetensors", image, "cut.png", "notes.jpg"];
  const run = await faceprior(...args);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /^faceprior \[BAD_IMAGE\]: 2 of 3 images cannot be decoded; nothing was computed\. Fix or remove them, or pass --skip-bad/m,
  );
  assert.match(run.stderr, /^ {2}cut\.png: is truncated or corrupt \(.+\)\. Re-export or re-download it\.$/m);
  assert.match(run.stderr, /^ {2}notes\.jpg: is not an image sharp can read\./m);
  noStack(run);
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith("bad.") || f.startsWith(".bad.")),
    [],
  );
  const debug = await faceprior(...args, "--debug");
  assert.match(debug.stderr, /^\s+at /m, "--debug adds the stack");

  const skipping = await faceprior(...args, "--skip-bad");
  assert.equal(skipping.code, 0, skipping.stderr);
  assert.match(skipping.stderr, /^skipped cut\.png: is truncated or corrupt/m);
  assert.match(skipping.stdout, /"embeddings" \[1, 64\] float32 \(class token\) for 1 images[\s\S]*Skipped 2 images that failed to decode/);
  const written = await readSafetensors(join(dir, "bad.safetensors"));
  assert.deepEqual(JSON.parse(written.metadata.inputs!), [image]);
  assert.deepEqual(
    JSON.parse(written.metadata.skipped!).map((s: { path: string }) => s.path),
    ["cut.png", "notes.jpg"],
  );
});

test("a library error about an option names the flag that set it (imgSize is --img-size), as a usage error", async () => {
  const { ckpt, image } = await smallModelAndImage();
  const run = await faceprior("embed", "--img-size", "40", "--model", ckpt, "--crop", "center", "--out", "sized.safetensors", image);
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /^faceprior \[BAD_ARGUMENT\]: --img-size: expected a positive multiple of .*small\.safetensors's patch size 16, got 40 \(number\)\.$/m,
  );
  noStack(run);
});

test("a truncated or mismatched checkpoint is BAD_CHECKPOINT naming the file", async () => {
  const { ckpt, image } = await smallModelAndImage();
  const bytes = await readFile(ckpt);
  await writeFile(join(dir, "cut.safetensors"), bytes.subarray(0, 5000));
  for (const command of [
    ["info", "cut.safetensors"],
    ["embed", "--model", "cut.safetensors", "--crop", "center", "--out", "x.safetensors", image],
  ]) {
    const run = await faceprior(...command);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^faceprior \[BAD_CHECKPOINT\]: cut\.safetensors: tensor \S+ spans bytes .* the file is truncated/);
    noStack(run);
  }
  const wrong = await faceprior("info", "--arch", "vit-small", ckpt);
  assert.equal(wrong.code, 1);
  assert.match(
    wrong.stderr,
    /\[BAD_CHECKPOINT\]: .*small\.safetensors: cls_token is \[1,1,64\], vit_small_patch16_112 expects \[1,1,384\]/,
  );
  const missing = await faceprior("info", "nowhere.safetensors");
  assert.match(missing.stderr, /\[BAD_CHECKPOINT\]: nowhere\.safetensors: cannot be read/);
});

test("convert imports an MAE checkpoint, reports what it dropped, and info reads the result", async () => {
  const mae = withPrefixAndExtras(fakeVitTensors(), "model.", {
    "model.mask_token": [1, 1, 32],
    "model.decoder_embed.weight": [32, 64],
    "model.decoder_pred.bias": [768],
  });
  await writeSafetensors(join(dir, "mae.safetensors"), mae);
  const run = await faceprior("convert", "mae.safetensors", "--out", "encoder.safetensors", "--num-heads", "4", "--dtype", "float16");
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Wrote encoder\.safetensors: ViT width 64, depth 2, 4 heads, patch 16, 32x32 input/);
  assert.match(run.stdout, /Stripped the prefix "model\."/);
  assert.match(run.stdout, /Dropped 3 tensors \(MAE decoder\): model\.decoder_embed\.weight, model\.decoder_pred\.bias, model\.mask_token/);
  assert.match(run.stdout, /Assumed: normalisation not given; assuming ImageNet mean\/std \(MAE's\)/);
  const info = await faceprior("info", "--json", "encoder.safetensors");
  assert.equal(info.code, 0, info.stderr);
  const summary = JSON.parse(info.stdout);
  assert.equal(summary.dtype, "F16");
  assert.equal(summary.metadata.converted_from, "mae.safetensors");
  assert.deepEqual(summary.normalization.mean, [0.485, 0.456, 0.406]);
  const unconverted = await faceprior("info", "mae.safetensors");
  assert.equal(unconverted.code, 1);
  assert.match(
    unconverted.stderr,
    /mae\.safetensors: \d+ tensors are not part of faceprior's ViT encoder: .*Convert it first \(`faceprior convert`\), which strips wrapper prefixes/,
  );
});

test("convert takes the bundled face model's encoder, without its heads", async () => {
  const run = await faceprior("convert", DEFAULT_MODEL_PATH, "--out", "bundled-encoder.safetensors");
  noStack(run);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Wrote bundled-encoder\.safetensors: ViT width 192, depth 12, 3 heads, patch 16, 112x112 input/);
  assert.match(run.stdout, /Dropped 8 tensors \(a face model's task heads\): heads\./);
  const info = await faceprior("info", "--json", "bundled-encoder.safetensors");
  assert.equal(info.code, 0, info.stderr);
  const summary = JSON.parse(info.stdout);
  assert.equal(summary.heads, undefined, "an encoder, not a face model");
  assert.deepEqual(summary.normalization.mean, [0.5, 0.5, 0.5], "the face model's normalisation");
});

test("the built bin runs directly, as npx and an installed package run it (shebang, executable)", async () => {
  const { execFile } = await import("node:child_process");
  const { CLI_MAIN } = await import("../../test/support/run-cli.js");
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(CLI_MAIN, ["--version"], (error, out) => (error ? reject(error) : resolve(out))),
  );
  assert.match(stdout, /^faceprior \d+\.\d+\.\d+\n$/);
});
