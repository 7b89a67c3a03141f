/**
 * `faceprior finetune --mode probe` end to end on a prior cache of real CelebA-HQ faces: the run
 * folder's files, more caches adding training faces, and the errors a user gets before any
 * training for a wrong task or protocol.
 */
import assert from "node:assert/strict";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { CELEBA, preparedCelebaCache } from "../../test/support/celeba-subset.js";
import { assertNoStack, printedConfig, runCli } from "../../test/support/run-cli.js";
import { skipUnlessShared } from "../../test/support/shared-data.js";
import { readSafetensors } from "../checkpoint/safetensors.js";
import { pathExists } from "../io/path-exists.js";
import { saveVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import type { DatasetFormat } from "../data/dataset.js";
import { loadDataset } from "../data/load-dataset.js";
import { splitDataset } from "../data/splits.js";
import { facesOfRows, loadCacheDataset } from "../priors/cache-dataset.js";
import { random, tree } from "../engine/jax.js";
import { resolveVitPreset } from "../model/vit-presets.js";
import { initVit } from "../model/vit.js";
import { PROBE_DEFAULTS } from "./probe.js";

const needsData = { skip: skipUnlessShared(CELEBA) };
let dir = "";
let cache = "";
/** The arguments of every attributes run here on the small CelebA-HQ cache, from a random encoder. */
const scratchAttributes = () => ["finetune", "--task", "attributes", "--data", cache, "--init", "scratch"];

before(async () => {
  if (needsData.skip) return;
  ({ dir, cacheDir: cache } = await preparedCelebaCache("finetune", 30));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The paths of a cache's training, validation and test faces, from its dataset's split rule. */
async function splitPaths(cacheDir: string): Promise<{ train: string[]; val: string[]; test: string[] }> {
  const loaded = await loadCacheDataset(cacheDir);
  const { root, format } = loaded.index.dataset;
  const split = splitDataset(await loadDataset(root, format as DatasetFormat));
  const paths = (rows: number[]) => facesOfRows(loaded, rows).map((face) => loaded.paths[face]!);
  return { train: paths(split.train), val: paths(split.val), test: paths(split.test) };
}

test("a probe run writes metrics over seeds with the trivial baseline, predictions, subsets and a plot", needsData, async () => {
  const out = join(dir, "attr");
  const run = await runCli([...scratchAttributes(), "--protocol", "ratio:0.5", "--seeds", "2", "--out", out], dir);
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^attributes \(ratio:0\.5, probe\): mean accuracy \d\.\d{4} ± \d\.\d{4} over 2 seeds; trivial baseline \(per-attribute majority, mean accuracy\) \d\.\d{4}\./,
  );
  const config = await printedConfig(run, "finetune");
  assert.deepEqual(
    [config.task, config.mode, config.protocol, config.seeds, config.pooling, config.recipe, config.data],
    ["attributes", "probe", "ratio:0.5", 2, "avg", null, [cache]],
  );
  assert.deepEqual(config.train, { ...PROBE_DEFAULTS }, "the probe's training defaults, none overridden");
  const metrics = JSON.parse(await readFile(join(out, "metrics.json"), "utf8"));
  assert.equal(metrics.runs.length, 2);
  assert.deepEqual(
    metrics.runs.map((r: { seed: number }) => r.seed),
    [0, 1],
  );
  const [a, b] = metrics.runs;
  assert.equal(a.testFaces, b.testFaces);
  assert.ok(a.trainFaces < 30 && a.trainFaces > 0);
  const csv = (await readFile(join(out, "predictions.csv"), "utf8")).trim().split("\n");
  assert.equal(csv.length, 1 + 2 * a.testFaces);
  assert.equal(csv[1]!.split(",").at(-1)!.split(" ").length, 40);
  assert.deepEqual((await readdir(join(out, "subsets"))).sort(), ["all-seed0.json", "all-seed1.json"]);
  const subset = JSON.parse(await readFile(join(out, "subsets", "all-seed0.json"), "utf8"));
  assert.equal(subset.protocol, "ratio:0.5");
  assert.equal((await sharp(join(out, "attribute-accuracy.png")).metadata()).format, "png");
});

test("a task that does not match the cache's labels is refused before any training", needsData, async () => {
  const run = await runCli(["finetune", "--task", "expression", "--data", cache, "--init", "scratch", "--out", join(dir, "x")], dir);
  assertNoStack(run);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--task expression: the cache .* holds attributes labels\. Use the task attributes\./);
});

test("fine-tuning trains the encoder with the head and writes the same run folder", needsData, async () => {
  const out = join(dir, "attr-ft");
  const run = await runCli(
    [...scratchAttributes(), "--mode", "finetune", "--epochs", "1", "--batch", "4", "--seeds", "1", "--out", out],
    dir,
  );
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^attributes \(full, finetune\): mean accuracy \d\.\d{4} ± \d\.\d{4} over 1 seeds/);
  const metrics = JSON.parse(await readFile(join(out, "metrics.json"), "utf8"));
  assert.equal(metrics.mode, "finetune");
  const trainFaces = metrics.runs[0].trainFaces;
  const log = (await readFile(join(out, "finetunes", "all-seed0", "log.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(log.length, Math.floor(trainFaces / 4), "one epoch of batches of 4");
  assert.ok(log.every((l) => Number.isFinite(l.loss) && l.gradNorm > 0));
  const csv = (await readFile(join(out, "predictions.csv"), "utf8")).trim().split("\n");
  assert.equal(csv.length, 1 + metrics.runs[0].testFaces);
  assert.equal(metrics.recipe.augment.grayscaleProbability, 0.2, "the default recipe augments");
  assert.equal(metrics.readout, "sigmoid", "the record says how the head's outputs became predictions");
  assert.equal(metrics.runs[0].augmented, true);
  assert.ok(metrics.runs[0].valFaces > 0, "full protocol: validation faces held out of training");
  assert.deepEqual(
    metrics.runs[0].selection.history.map((h: { step: number }) => h.step),
    [log.length],
    "scored once per epoch",
  );
  assert.equal(JSON.parse(await readFile(join(out, "finetunes", "all-seed0", "selection.json"), "utf8")).best.step, log.length);
});

test(
  "a finished fine-tune keeps its outcome, not its weights, and an empty run folder takes it without training again",
  needsData,
  async () => {
    const milestones = join(dir, "ft-milestones");
    const args = [...scratchAttributes(), "--mode", "finetune"];
    const tail = ["--epochs", "1", "--batch", "4", "--seeds", "1", "--milestone", milestones];
    const first = await runCli([...args, ...tail, "--out", join(dir, "ft-m1")], dir);
    assertNoStack(first);
    assert.equal(first.code, 0, first.stderr);
    const kept = join(milestones, "all-seed0");
    assert.deepEqual(await readdir(kept), ["finished.json"], "the weights went once the run finished");
    const second = await runCli([...args, ...tail, "--out", join(dir, "ft-m2")], dir);
    assert.equal(second.code, 0, second.stderr);
    const [a, b] = await Promise.all(
      ["ft-m1", "ft-m2"].map(async (run) => JSON.parse(await readFile(join(dir, run, "metrics.json"), "utf8"))),
    );
    const withoutSubset = (runs: { subset: string }[]) => runs.map(({ subset, ...rest }) => rest);
    assert.deepEqual(withoutSubset(b.runs), withoutSubset(a.runs), "the same metrics, selection record and training time");
    assert.equal(
      await readFile(join(dir, "ft-m2", "predictions.csv"), "utf8"),
      await readFile(join(dir, "ft-m1", "predictions.csv"), "utf8"),
    );
    assert.equal(await pathExists(join(dir, "ft-m2", "finetunes")), false, "no run folder: no step ran again");
    const record = join(kept, "finished.json");
    const outcome = JSON.parse(await readFile(record, "utf8"));
    // A resumed cell's time counts the runs finished before it: here one recorded as 10,000 s.
    await writeFile(record, JSON.stringify({ ...outcome, seconds: 10_000 }));
    const resumed = await runCli([...args, ...tail, "--out", join(dir, "ft-m2b")], dir);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(JSON.parse(await readFile(join(dir, "ft-m2b", "metrics.json"), "utf8")).seconds >= 10_000);
    await writeFile(record, JSON.stringify({ ...outcome, testFaces: outcome.testFaces + 1 }));
    const damaged = await runCli([...args, ...tail, "--out", join(dir, "ft-m3")], dir);
    assertNoStack(damaged);
    assert.notEqual(damaged.code, 0);
    assert.ok(damaged.stderr.includes(`${record}: is not this run's outcome`), damaged.stderr);
    assert.match(damaged.stderr, /Delete it to train the run again\./);
    const probe = await runCli([...scratchAttributes(), "--milestone", milestones, "--out", join(dir, "x")], dir);
    assertNoStack(probe);
    assert.equal(probe.code, 2);
    assert.match(probe.stderr, /--milestone: only fine-tuning keeps milestones; a probe trains in seconds\./);
  },
);

test("more caches add their training and validation faces to a full fine-tune; a recipe file sets the recipe", needsData, async () => {
  const out = join(dir, "attr-extra");
  const recipe = join(dir, "recipe.json");
  await writeFile(recipe, JSON.stringify({ augment: { flipProbability: 1 }, dropPath: 0, selection: null }));
  const args = [
    "finetune",
    "--task",
    "attributes",
    "--init",
    "scratch",
    "--mode",
    "finetune",
    "--epochs",
    "1",
    "--batch",
    "4",
    "--seeds",
    "1",
  ];
  const single = JSON.parse(await readFile(join(dir, "attr-ft", "metrics.json"), "utf8"));
  const run = await runCli([...args, "--data", `${cache},${cache}`, "--recipe", recipe, "--out", out], dir);
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    /^finetune: all seed 0\n(finetune: \d+\/\d+ steps.*\n)*finetune: \d+ steps in \d+\.\d s/m,
    "the run's steps as they go",
  );
  const metrics = JSON.parse(await readFile(join(out, "metrics.json"), "utf8"));
  assert.deepEqual([metrics.recipe.augment.flipProbability, metrics.recipe.dropPath, metrics.recipe.selection], [1, 0, null]);
  assert.equal(metrics.runs[0].valFaces, 0);
  assert.equal(metrics.runs[0].testFaces, single.runs[0].testFaces, "test faces are the first cache's only");
  const { train, val } = await splitPaths(cache);
  assert.deepEqual([metrics.extraData, metrics.extraFaces], [[cache], [train.length + val.length]]);
  assert.equal(
    metrics.runs[0].trainFaces,
    train.length + train.length + val.length,
    "the first cache's training faces, the other's training and validation faces",
  );
  const lastBlock = await runCli([...args, "--tune-blocks", "1", "--data", `${cache},${cache}`, "--out", join(dir, "p")], dir);
  assertNoStack(lastBlock);
  assert.equal(lastBlock.code, 2);
  assert.match(
    lastBlock.stderr,
    /^faceprior \[BAD_ARGUMENT\]: --tune-blocks 1: more than one cache \(extraCacheDirs\) adds training faces to a probe or a fine-tune of every block, not to the last blocks/m,
  );
  await writeFile(recipe, JSON.stringify({ dropPath: 1.5, augment: { flip: 1 } }));
  const bad = await runCli([...args, "--data", cache, "--recipe", recipe, "--out", join(dir, "q")], dir);
  assertNoStack(bad);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /recipe\.json: augment: Unrecognized key: "flip"; dropPath: .*\(got 1\.5\)/);
});

test(
  "a probe with two caches trains on the other's training and validation faces, never its test faces; few-shot protocols refuse two caches",
  needsData,
  async () => {
    const out = join(dir, "attr-probe-extra");
    const features = join(dir, "probe-features");
    const args = ["finetune", "--task", "attributes", "--init", "scratch", "--seeds", "1", "--features-dir", features];
    const run = await runCli([...args, "--data", `${cache},${cache}`, "--out", out], dir);
    assertNoStack(run);
    assert.equal(run.code, 0, run.stderr);
    const { train, val, test: testPaths } = await splitPaths(cache);
    const usable = [...train, ...val];
    const metrics = JSON.parse(await readFile(join(out, "metrics.json"), "utf8"));
    assert.deepEqual([metrics.mode, metrics.extraData, metrics.extraFaces], ["probe", [cache], [usable.length]]);
    const [only] = metrics.runs;
    assert.equal(
      only.trainFaces,
      train.length + usable.length,
      "the first cache's training faces and the other's training and validation faces",
    );
    assert.equal(only.testFaces, testPaths.length, "test faces are the first cache's only");
    const state = JSON.parse(await readFile(join(out, "probes", "all-seed0", "run.json"), "utf8"));
    assert.equal(
      state.config.batchSize,
      only.trainFaces,
      "the head trained on all of them: one batch of every face, under the 128 default",
    );
    // One features file per cache: every face of the first; of the other, only the faces it adds, listed.
    const files = await Promise.all((await readdir(features)).map((file) => readSafetensors(join(features, file))));
    const [whole, extra] = [files.find((f) => !f.metadata.inputs)!, files.find((f) => f.metadata.inputs)!];
    assert.equal(files.length, 2);
    assert.equal(whole.tensors.output!.shape[0], train.length + val.length + testPaths.length);
    const inputs = JSON.parse(extra.metadata.inputs!) as string[];
    assert.deepEqual([...inputs].sort(), [...usable].sort());
    assert.equal(extra.tensors.output!.shape[0], usable.length);
    assert.deepEqual(
      inputs.filter((path) => testPaths.includes(path)),
      [],
      "no test face of the other cache went through the encoder",
    );
    const again = await runCli([...args, "--data", `${cache},${cache}`, "--out", join(dir, "attr-probe-extra-again")], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await readdir(features)).length, 2, "a second run reuses both feature files");
    for (const protocol of ["ratio:0.5", "kshot:1"]) {
      const fewShot = await runCli([...args, "--protocol", protocol, "--data", `${cache},${cache}`, "--out", join(dir, "few")], dir);
      assertNoStack(fewShot);
      assert.equal(fewShot.code, 2);
      assert.match(
        fewShot.stderr,
        new RegExp(
          `^faceprior \\[BAD_ARGUMENT\\]: --protocol ${protocol}: more than one cache \\(extraCacheDirs\\) adds training faces only under protocol full; a few-shot protocol draws its training faces from the first cache's training split alone\\. Use protocol full, or pass one cache\\.`,
          "m",
        ),
      );
    }
  },
);

test("fine-tuning only the last block trains it over cached tokens of the frozen blocks", needsData, async () => {
  const out = join(dir, "attr-last");
  const run = await runCli(
    [
      ...scratchAttributes(),
      "--mode",
      "finetune",
      "--tune-blocks",
      "1",
      "--epochs",
      "2",
      "--batch",
      "4",
      "--seeds",
      "1",
      "--features-dir",
      join(dir, "tokens"),
      "--out",
      out,
    ],
    dir,
  );
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  const metrics = JSON.parse(await readFile(join(out, "metrics.json"), "utf8"));
  assert.equal(metrics.tuneBlocks, 1);
  assert.equal(metrics.runs[0].augmented, false, "cached tokens: nothing to augment, and the run says so");
  const state = JSON.parse(await readFile(join(out, "finetunes", "all-seed0", "run.json"), "utf8"));
  assert.equal(state.config.epochs, 2);
  const log = (await readFile(join(out, "finetunes", "all-seed0", "log.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.ok(log.at(-1).loss < log[0].loss, `loss ${log[0].loss} -> ${log.at(-1).loss}`);
  assert.equal((await readdir(join(dir, "tokens"))).length, 1, "one token cache for the frozen 11 blocks");
});

test("an encoder for another input size, or too many tuned blocks, is refused before any work", needsData, async () => {
  const wrongSize = await runCli([...scratchAttributes(), "--arch", "vit_tiny_patch16_224", "--out", join(dir, "y")], dir);
  assertNoStack(wrongSize);
  assert.equal(wrongSize.code, 2);
  assert.match(wrongSize.stderr, /--arch vit_tiny_patch16_224 is a 224x224 encoder, but the cache .* holds 112x112 faces\./);
  const tooMany = await runCli([...scratchAttributes(), "--mode", "finetune", "--tune-blocks", "13", "--out", join(dir, "z")], dir);
  assertNoStack(tooMany);
  assert.equal(tooMany.code, 2);
  assert.match(tooMany.stderr, /--tune-blocks 13: the encoder has 12 blocks\. Use 1 to 12\./);
});

test("a checkpoint for another input size is refused before any work, naming the fix", needsData, async () => {
  const cfg = resolveVitPreset("vit_tiny_patch16_224");
  const params = initVit(random.key(1), cfg);
  const checkpoint = join(dir, "tiny224.safetensors");
  await saveVitCheckpoint(checkpoint, params, cfg);
  tree.dispose(params);
  const run = await runCli(["finetune", "--task", "attributes", "--data", cache, "--init", checkpoint, "--out", join(dir, "w")], dir);
  assertNoStack(run);
  assert.notEqual(run.code, 0);
  assert.match(
    run.stderr,
    /tiny224\.safetensors is a 224x224 encoder, but the cache .* holds 112x112 faces\. Set imgSize to 112 to resample its position embeddings/,
  );
  assert.deepEqual(await readdir(join(dir, "w")).catch(() => []), [], "nothing was written");
});

test("a dataset whose test split has no faces is refused before any work", needsData, async () => {
  // Two photos: the 80/10/10 split by file-name hash leaves no test face.
  const { dir: small, cacheDir } = await preparedCelebaCache("finetune-empty", 2);
  try {
    const run = await runCli(
      ["finetune", "--task", "attributes", "--data", cacheDir, "--init", "scratch", "--out", join(small, "x")],
      small,
    );
    assertNoStack(run);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /the (test|training) split has no faces\. Check the split rule/);
  } finally {
    await rm(small, { recursive: true, force: true });
  }
});
