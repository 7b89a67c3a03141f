/**
 * `faceprior multitask` end to end on real faces: FER2013 expressions and CelebA-HQ attributes
 * trained on one encoder, written as a face model that `analyze` then runs.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { preparedCelebaCache } from "../../test/support/celeba-subset.js";
import { preparedSharedSubset } from "../../test/support/shared-subset.js";
import { assertNoStack, printedConfig, runCli } from "../../test/support/run-cli.js";
import { skipUnlessShared, sharedPath } from "../../test/support/shared-data.js";
import { saveVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { random } from "../engine/jax.js";
import { readFaceModel } from "../face-model/face-model.js";
import { resolveVitPreset } from "../model/vit-presets.js";
import { initVit } from "../model/vit.js";
import { ADJUSTMENT_STRENGTHS } from "./logit-adjustment.js";
import { readMultitaskConfig } from "./multitask-run.js";
import { fileURLToPath } from "node:url";

const needsData = { skip: skipUnlessShared("data/fer2013") || skipUnlessShared("data/celebahq_attr") };
let dir = "";
let fer = "";
let celeba = "";
let encoder = "";

before(async () => {
  if (needsData.skip) return;
  dir = await mkdtemp(join(tmpdir(), "faceprior-multitask-"));
  fer = await preparedSharedSubset("fer2013", dir, 60, ["--pad", "0.5"]);
  ({ cacheDir: celeba } = await preparedCelebaCache("multitask", 30));
  encoder = join(dir, "encoder.safetensors");
  const cfg = resolveVitPreset("vit-tiny");
  await saveVitCheckpoint(encoder, initVit(random.key(0), cfg), cfg);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("one encoder fine-tuned for expression and attributes at once becomes a face model that analyze runs", needsData, async () => {
  const config = join(dir, "multitask.json");
  await writeFile(
    config,
    JSON.stringify({
      tasks: { expression: { batch: 3 }, attributes: { batch: 2, weight: 0.5 } },
      train: { steps: 4, lr: 1e-4, checkpointEvery: 2 },
      recipe: { selection: { valFraction: 0.2 } },
      logitAdjustment: true,
    }),
  );
  const out = join(dir, "run");
  const run = await runCli(
    [
      ...["multitask", "--config", config, "--init", encoder, "--expression", fer, "--attributes", celeba],
      ...["--description", "test model: expression and attributes", "--out", out],
    ],
    dir,
  );
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^expression: test accuracy \d\.\d{4}; trivial baseline \(majority class, accuracy\) \d\.\d{4}\nattributes: test mean accuracy \d\.\d{4};/,
  );
  const effective = await printedConfig(run, "multitask");
  assert.deepEqual(effective.train, { steps: 4, lr: 1e-4, checkpointEvery: 2 }, "train as written");
  assert.equal((effective.recipe as { dropPath: number }).dropPath, 0.1, "the recipe with its defaults");
  const metrics = JSON.parse(await readFile(join(out, "metrics.json"), "utf8"));
  assert.deepEqual(Object.keys(metrics.tasks), ["expression", "attributes"]);
  assert.ok(metrics.tasks.expression.faces.test > 0 && metrics.tasks.expression.faces.val > 0);
  assert.equal(metrics.tasks.expression.metrics.predictedShare.length, 7);
  assert.deepEqual(
    metrics.selection.history.map((h: { step: number }) => h.step),
    [2, 4],
    "scored at each checkpoint",
  );
  const adjusted = metrics.logitAdjustment;
  assert.deepEqual(Object.keys(adjusted), ["expression"], "only the softmax head is balanced");
  assert.equal(adjusted.expression.valFaces, metrics.tasks.expression.faces.val, "τ is chosen on the validation faces");
  assert.deepEqual(
    adjusted.expression.byStrength.map((s: { tau: number }) => s.tau),
    [...ADJUSTMENT_STRENGTHS],
  );
  assert.ok(ADJUSTMENT_STRENGTHS.includes(adjusted.expression.tau));
  assert.equal(adjusted.expression.testUnadjusted.predictedShare.length, 7, "the test metrics as trained are kept beside");
  const log = (await readFile(join(out, "run", "log.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(log.length, 4);
  assert.ok(
    log.every((l) => Number.isFinite(l.parts.expression) && Number.isFinite(l.parts.attributes)),
    "each step logs both task losses",
  );
  const model = await readFaceModel(join(out, "model.safetensors"));
  assert.deepEqual(
    model.heads.map((h) => [h.name, h.labels.length, h.greyInput ?? false]),
    [
      ["expression", 7, true],
      ["attributes", 40, false],
    ],
    "FER2013's grey faces: its head reads grey input",
  );
  const photo = sharedPath("data/celebahq_attr", "images/00001.jpg");
  const analyzed = await runCli(["analyze", "--model", join(out, "model.safetensors"), "--json", join(dir, "a.json"), photo], dir);
  assertNoStack(analyzed);
  assert.equal(analyzed.code, 0, analyzed.stderr);
  assert.match(analyzed.stdout, /expression/);
  const info = await runCli(["info", join(out, "model.safetensors")], dir);
  assert.match(info.stdout, /test model: expression and attributes/, "the description in the model's metadata");
  assert.match(info.stdout, /preset +vit_tiny_patch16_112 \(--arch vit-tiny\)/, "the size's preset, whatever the pooling");
  assert.match(info.stdout, /head expression +softmax, 7 outputs .*; held out \(test split of fer2013-cache\): accuracy \d\.\d{3}/);
});

test("a task in the config without caches is refused before any training", needsData, async () => {
  const config = join(dir, "two.json");
  await writeFile(config, JSON.stringify({ tasks: { expression: { batch: 2 }, age: { batch: 2 } }, train: { steps: 2 } }));
  const run = await runCli(["multitask", "--config", config, "--init", encoder, "--expression", fer, "--out", join(dir, "x")], dir);
  assertNoStack(run);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--age: no caches given, but the config trains age\./, "the library's data.age is the flag --age");
});

test("a logit adjustment without validation faces is refused before any training", needsData, async () => {
  const config = join(dir, "no-val.json");
  await writeFile(config, JSON.stringify({ tasks: { expression: { batch: 2 } }, recipe: { selection: null }, logitAdjustment: true }));
  const run = await runCli(["multitask", "--config", config, "--init", encoder, "--expression", fer, "--out", join(dir, "y")], dir);
  assertNoStack(run);
  assert.equal(run.code, 1, "a config file problem, not a usage error");
  assert.match(
    run.stderr,
    /\[BAD_CONFIG\]: multitask config: "logitAdjustment" chooses its strength on validation faces, but "recipe\.selection" is null/,
  );
});

test("the shipped multi-task recipe parses, with every task, a validation split and patience", async () => {
  const config = await readMultitaskConfig(fileURLToPath(new URL("../../../recipes/finetune-multitask.json", import.meta.url)));
  assert.deepEqual(Object.keys(config.tasks).sort(), ["age", "attributes", "au", "expression"]);
  assert.ok(config.recipe.selection && config.recipe.selection.patience !== null);
  assert.equal(config.recipe.augment.affine.rotationDeg, 10, "left-out fields take the defaults");
  assert.equal(config.logitAdjustment, true, "the shipped heads are balanced on validation faces");
});
