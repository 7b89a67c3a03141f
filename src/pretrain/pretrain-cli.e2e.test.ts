/**
 * `faceprior pretrain` end to end, as a user runs it: a prior cache of real faces, a short run of
 * the real ViT-Tiny, and what lands in the run folder.
 */
import assert from "node:assert/strict";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { loadVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { loadPretrainingPool } from "./pretraining-pool.js";
import { CELEBA, preparedCelebaCache } from "../../test/support/celeba-subset.js";
import { assertNoStack, printedConfig, runCli } from "../../test/support/run-cli.js";
import { skipUnlessShared } from "../../test/support/shared-data.js";

const needsData = { skip: skipUnlessShared(CELEBA) };
let dir = "";
let cache = "";

before(async () => {
  if (needsData.skip) return;
  ({ dir, cacheDir: cache } = await preparedCelebaCache("pretrain-cli", 10, ["--workers", "1"]));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("pretrain writes the log, curves, previews and a loadable ViT-Tiny encoder, and resumes as a no-op", needsData, async () => {
  const out = join(dir, "run");
  const args = [
    "pretrain",
    "--data",
    cache,
    "--variant",
    "mae+patch",
    "--steps",
    "2",
    "--batch",
    "4",
    "--preview-faces",
    "2",
    "--out",
    out,
  ];
  const run = await runCli(args, dir);
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  // 10 CelebA-HQ photos: the pool leaves out the hash split's test faces, then 2 are held out for the previews.
  const pool = JSON.parse(await readFile(join(out, "pool.json"), "utf8"));
  assert.equal(pool.sources[0].faces + pool.sources[0].testFaces, pool.sources[0].facesInCache);
  const trainFaces = pool.faces - 2;
  const config = (await printedConfig(run, "pretrain")) as { pretrain: { variant: string }; train: { derived: { datasetSize: number } } };
  assert.equal(config.pretrain.variant, "mae+patch");
  assert.equal(config.train.derived.datasetSize, trainFaces);
  assert.match(
    run.stdout,
    new RegExp(`^Pretrained mae\\+patch: 2 steps \\(${(2 / Math.floor(trainFaces / 4)).toFixed(2)} epochs over ${trainFaces} faces\\)`),
  );
  assert.match(
    run.stdout,
    /Final losses \(mean of the last 20 steps\): mim [\d.]+, patch_ce [\d.]+, patch_offset [\d.]+, patch_hist [\d.]+, total [\d.]+\./,
  );

  const log = (await readFile(join(out, "log.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    log.map((l) => l.step),
    [1, 2],
  );
  const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
  assert.equal(summary.images_seen, 8);
  const encoder = await loadVitCheckpoint(join(out, "encoder.safetensors"));
  assert.equal(encoder.cfg.embedDim, 192);
  assert.equal(encoder.cfg.depth, 12);
  assert.equal(encoder.metadata.pretrain_variant, "mae+patch");
  const preview = await sharp(join(out, "previews", "epoch-001.png")).metadata();
  assert.deepEqual([preview.width, preview.height], [5 * 112, 2 * 112]); // 5 tiles for each of 2 faces
  assert.equal((await sharp(join(out, "loss.png")).metadata()).format, "png");

  const before = (await stat(join(out, "encoder.safetensors"))).size;
  const again = await runCli(args, dir);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await readFile(join(out, "log.jsonl"), "utf8")).trim().split("\n").length, 2, "a finished run trained again");
  assert.equal((await stat(join(out, "encoder.safetensors"))).size, before);
});

test("pretrain refuses a cache whose crops do not fit the architecture, before training", needsData, async () => {
  const run = await runCli(["pretrain", "--data", cache, "--arch", "vit_tiny_patch16_224", "--steps", "1", "--out", join(dir, "bad")], dir);
  assertNoStack(run);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /crops are 112px with 16px patch labels, the encoder takes 224px with 16px patches\. Prepare the cache with size 224 and patchSize 16/,
  );
});

test("a run warm-restarts in a new folder from the float16 milestone another run wrote, on the other engine", needsData, async () => {
  const milestone = join(dir, "milestone.safetensors");
  const common = ["pretrain", "--data", cache, "--variant", "mae", "--batch", "4", "--preview-faces", "2"];
  const first = await runCli([...common, "--steps", "2", "--engine", "onnx", "--milestone", milestone, "--out", join(dir, "first")], dir);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /training on onnxruntime-node/);
  const restarted = await runCli(
    [...common, "--steps", "2", "--engine", "jax", "--warm-start", milestone, "--out", join(dir, "second")],
    dir,
  );
  assertNoStack(restarted);
  assert.equal(restarted.code, 0, restarted.stderr);
  assert.match(restarted.stderr, /warm restart from .*milestone\.safetensors: its weights and position, fresh optimizer moments/);
  assert.equal(
    await readFile(join(dir, "second", "log.jsonl"), "utf8"),
    await readFile(join(dir, "log.jsonl"), "utf8"),
    "the log beside the milestone came with it, and a finished milestone trains no more steps",
  );
  assert.equal(await readFile(join(dir, "log.jsonl"), "utf8"), await readFile(join(dir, "first", "log.jsonl"), "utf8"));
  const pool = JSON.parse(await readFile(join(dir, "second", "pool.json"), "utf8"));
  assert.equal(pool.sources[0].rule, "train and val faces; test faces left out");
});

test("previews are drawn each epoch even when checkpoints do not fall on epoch boundaries", needsData, async () => {
  const out = join(dir, "offset");
  const config = join(dir, "offset.json");
  await writeFile(config, JSON.stringify({ train: { checkpointEvery: 2 } }));
  const trainFaces = (await loadPretrainingPool([cache])).cache.count - 2;
  const stepsPerEpoch = Math.floor(trainFaces / 2);
  assert.ok(stepsPerEpoch % 2 === 1, `the test needs an odd number of steps per epoch, got ${stepsPerEpoch}`);
  const run = await runCli(
    [
      "pretrain",
      "--data",
      cache,
      "--variant",
      "mae",
      "--batch",
      "2",
      "--steps",
      String(2 * stepsPerEpoch),
      "--preview-faces",
      "2",
      "--config",
      config,
      "--out",
      out,
    ],
    dir,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual((await readdir(join(out, "previews"))).sort(), ["epoch-001.png", "epoch-002.png"]);
});
