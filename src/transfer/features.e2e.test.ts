import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { test } from "node:test";
import { numpy as np, tree } from "../engine/jax.js";
import { encodeTokens, poolTokens, vitFeatures } from "../model/vit.js";
import { imageBatch } from "../priors/cache-dataset.js";
import { CELEBA, loadedCelebaCache } from "../../test/support/celeba-subset.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { skipUnlessShared } from "../../test/support/shared-data.js";
import { skipUnlessOnnxRuntime } from "../../test/support/onnx-runtime.js";
import { runCli } from "../../test/support/run-cli.js";
import { cachedFeatures, cachedPrefixTokens, loadEncoder } from "./features.js";

const needsData = { skip: skipUnlessShared(CELEBA) };
const celeba = loadedCelebaCache("features", 3, ["--workers", "1"]);

test("probe features are the encoder's pooled tokens per face, extracted once and then read from disk", needsData, async () => {
  const { dir, cacheDir, cache } = celeba;
  const source = { scratch: { arch: "vit-tiny", seed: 3 } };
  const featureDir = join(dir, "features");
  const first = await cachedFeatures(source, cacheDir, cache, "avg", featureDir);
  assert.deepEqual([first.count, first.dim, [...first.rows]], [3, 192, [0, 1, 2]]);

  // The same numbers as running the encoder on face 2 alone (batch padding changes nothing).
  const encoder = await loadEncoder(source);
  const pixels = np.array(imageBatch(cache, [2], encoder.normalization.mean, encoder.normalization.std)).reshape([1, 3, 112, 112]);
  const alone = poolTokens(vitFeatures(tree.ref(encoder.params), pixels, encoder.cfg), "avg").dataSync();
  tree.dispose(encoder.params);
  assert.ok(maxAbsDiff(first.features.subarray(2 * 192, 3 * 192), alone) < 1e-5);

  const files = await readdir(featureDir);
  assert.equal(files.length, 1);
  const again = await cachedFeatures(source, cacheDir, cache, "avg", featureDir);
  assert.deepEqual(again.features, first.features);
  assert.equal((await readdir(featureDir)).length, 1, "the second call extracted again");
  await cachedFeatures(source, cacheDir, cache, "token", featureDir);
  assert.equal((await readdir(featureDir)).length, 2, "another pooling must get its own file");
});

test("the frozen blocks' cached tokens, run through the remaining blocks, give the whole encoder's tokens", needsData, async () => {
  const { dir, cacheDir, cache } = celeba;
  const source = { scratch: { arch: "vit-tiny", seed: 4 } };
  const prefix = await cachedPrefixTokens(source, cacheDir, cache, 10, join(dir, "features"));
  assert.deepEqual([prefix.count, prefix.length, prefix.dim], [3, 50, 192]);
  const encoder = await loadEncoder(source);
  const { params, cfg, normalization } = encoder;
  const pixels = np.array(imageBatch(cache, [0, 1, 2], normalization.mean, normalization.std)).reshape([3, 3, 112, 112]);
  const whole = vitFeatures(tree.ref(params), pixels, cfg).dataSync();
  const rest = encodeTokens(
    { blocks: params.blocks.slice(10), norm: params.norm },
    np.array(prefix.tokens).reshape([3, 50, 192]),
    cfg,
  ).dataSync();
  tree.dispose({
    patch_embed: params.patch_embed,
    cls_token: params.cls_token,
    pos_embed: params.pos_embed,
    blocks: params.blocks.slice(0, 10),
  });
  assert.ok(maxAbsDiff(rest, whole) < 1e-4, `max abs diff ${maxAbsDiff(rest, whole)}`);
});

test("onnxruntime extracts the same features and frozen tokens as jax-js", {
  skip: needsData.skip || (await skipUnlessOnnxRuntime()),
}, async (t) => {
  const { dir, cacheDir, cache } = celeba;
  const source = { scratch: { arch: "vit-tiny", seed: 5 } };
  const jaxDir = join(dir, "jax");
  const onnxDir = join(dir, "onnx");
  const onnx = { engine: "onnx" as const, threads: 1 };
  const pooledJax = await cachedFeatures(source, cacheDir, cache, "token", jaxDir);
  const pooledOnnx = await cachedFeatures(source, cacheDir, cache, "token", onnxDir, onnx);
  const prefixJax = await cachedPrefixTokens(source, cacheDir, cache, 6, jaxDir);
  const prefixOnnx = await cachedPrefixTokens(source, cacheDir, cache, 6, onnxDir, onnx);
  const pooledError = maxAbsDiff(pooledOnnx.features, pooledJax.features);
  const prefixError = maxAbsDiff(prefixOnnx.tokens, prefixJax.tokens);
  t.diagnostic(`onnx vs jax: pooled features ${pooledError.toExponential(2)}, block-6 tokens ${prefixError.toExponential(2)}`);
  assert.equal(prefixOnnx.tokens.length, 3 * 50 * 192);
  assert.ok(pooledError < 1e-4 && prefixError < 1e-4);
});

test("finetune --shard extracts probe features in shards that merge joins into the file one extraction writes", {
  skip: needsData.skip || (await skipUnlessOnnxRuntime()),
  timeout: 300_000,
}, async () => {
  const { dir, cacheDir, cache } = celeba;
  const featureDir = join(dir, "sharded-features");
  const shardArgs = (i: number) => [
    "finetune",
    "--task",
    "attributes",
    "--data",
    cacheDir,
    "--init",
    "scratch",
    "--seed",
    "7",
    "--engine",
    "onnx",
    "--threads",
    "1",
    "--features-dir",
    featureDir,
    "--out",
    join(dir, "run"),
    "--shard",
    `${i}/3`,
  ];
  const runs = await Promise.all([0, 1, 2].map((i) => runCli(shardArgs(i), dir)));
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  const [, pattern, out] = /faceprior merge (\S+) --out (\S+)/.exec(runs[0]!.stdout)!;
  const dirs = (await readdir(featureDir))
    .filter((name) => name.startsWith(basename(pattern!).split("*")[0]!))
    .map((name) => join(featureDir, name));
  assert.equal(dirs.length, 3, `shard folders: ${dirs}`);
  const merged = await runCli(["merge", ...dirs, "--out", out!], dir);
  assert.equal(merged.code, 0, merged.stderr);
  const source = { scratch: { arch: "vit-tiny", seed: 7 } };
  await cachedFeatures(source, cacheDir, cache, "avg", join(dir, "single-features"), { engine: "onnx", threads: 1 });
  const single = join(dir, "single-features", basename(out!));
  assert.ok((await readFile(out!)).equals(await readFile(single)), "the merged features differ from one extraction's");
  // What finetune without --shard calls reads the merged file instead of extracting again.
  const written = (await stat(out!)).mtimeMs;
  const read = await cachedFeatures(source, cacheDir, cache, "avg", featureDir, { engine: "onnx", threads: 1 });
  assert.equal((await stat(out!)).mtimeMs, written, "the features were extracted again");
  assert.equal(read.count, 3);
});
