/**
 * `faceprior multitask` end to end on real faces: FER2013 expressions and CelebA-HQ attributes
 * trained on one encoder, written as a face model that `analyze` then runs.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { preparedCelebaCache } from "../../test/support/celeba-subset.js";
import { preparedSharedSubset } from "../../test/support/shared-subset.js";
import { assertNoStack, printedConfig, runCli } from "../../test/support/run-cli.js";
import { skipUnlessShared, sharedPath } from "../../test/support/shared-data.js";
import { saveVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { random } from "../engine/jax.js";
import { readFaceModel } from "../face-model/face-model.js";
import { readSafetensors } from "../checkpoint/safetensors.js";
import { resolveVitPreset } from "../model/vit-presets.js";
import { initVit } from "../model/vit.js";
import { ADJUSTMENT_STRENGTHS } from "./logit-adjustment.js";
import { readMultitaskConfig } from "./multitask-run.js";
import { fileURLToPath } from "node:url";

const needsData = { skip: skipUnlessShared("data/fer2013") || skipUnlessShared("data/celebahq_attr") };
const needsUtk = { skip: needsData.skip || skipUnlessShared("data/utkface") };
let utkPrepared: Promise<string> | undefined;
/** A small UTKFace cache with its meta (gender), prepared once for the tests that use it. */
const utkCache = () => (utkPrepared ??= preparedSharedSubset("utkface", dir, 30, ["--pad", "0.2"]));
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
      tasks: { expression: { batch: 3, caches: [basename(fer)] }, attributes: { batch: 2, weight: 0.5 } },
      train: { steps: 4, lr: 1e-4, checkpointEvery: 2 },
      recipe: { selection: { valFraction: 0.2 } },
      logitAdjustment: "one-standard-error",
      mirrorAverage: true,
    }),
  );
  const out = join(dir, "run");
  const run = await runCli(
    [
      ...["multitask", "--config", config, "--init", encoder, "--cache-dir", dirname(fer), "--attributes", celeba],
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
  assert.deepEqual(effective.data, { expression: [fer], attributes: [celeba] }, "expression's cache named by the config");
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
  assert.equal(adjusted.expression.rule, "one-standard-error");
  assert.ok(
    adjusted.expression.byStrength.every((s: { shortfallError: number }) => s.shortfallError >= 0),
    "each strength's shortfall from the best has its bootstrap error",
  );
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
  assert.equal(model.mirrorAverage, true, "scored with mirror averaging, so the model runs with it");
  const photo = sharedPath("data/celebahq_attr", "images/00001.jpg");
  const analyzed = await runCli(["analyze", "--model", join(out, "model.safetensors"), "--json", join(dir, "a.json"), photo], dir);
  assertNoStack(analyzed);
  assert.equal(analyzed.code, 0, analyzed.stderr);
  assert.match(analyzed.stdout, /expression/);
  const info = await runCli(["info", join(out, "model.safetensors")], dir);
  assert.match(info.stdout, /test model: expression and attributes/, "the description in the model's metadata");
  assert.match(info.stdout, /preset +vit_tiny_patch16_112 \(--arch vit-tiny\)/, "the size's preset, whatever the pooling");
  assert.match(info.stdout, /features +the mean of each face's and its mirror image's/);
  assert.match(
    info.stdout,
    /head expression +softmax, 7 outputs .*; held out \(test split of fer2013-cache\): accuracy \d\.\d{3}; balanced at τ [\d.]+ \(rule one-standard-error\)\n/,
  );
  assert.match(info.stdout, /head attributes +sigmoid, 40 outputs .*accuracy \d\.\d{3}\n/, "a sigmoid head is not balanced");
});

test(
  "UTKFace's gender trains the attribute Male beside CelebA-HQ, and the run restarts from its committed milestones",
  needsUtk,
  async () => {
    const utk = await utkCache();
    const config = join(dir, "gender.json");
    await writeFile(
      config,
      JSON.stringify({
        tasks: { age: { batch: 2 }, attributes: { batch: 2 } },
        metaLabels: {
          "utkface-gender": { faces: "age", meta: "gender", values: { "0": 1, "1": 0 }, head: "attributes", output: "Male", batch: 2 },
        },
        train: { steps: 4, lr: 1e-4, checkpointEvery: 2 },
        recipe: { selection: { valFraction: 0.2 } },
      }),
    );
    const milestones = join(dir, "milestones");
    const args = ["multitask", "--config", config, "--init", encoder, "--age", utk, "--attributes", celeba, "--milestone", milestones];
    const first = await runCli([...args, "--out", join(dir, "gender-1")], dir);
    assertNoStack(first);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /\nutkface-gender: test mean accuracy \d\.\d{4}; trivial baseline \(per-attribute majority, mean accuracy\)/,
    );
    const metrics = JSON.parse(await readFile(join(dir, "gender-1", "metrics.json"), "utf8"));
    // Every UTKFace face has a gender, so the part has the age task's faces, split as they are.
    assert.deepEqual(metrics.tasks["utkface-gender"].faces, metrics.tasks.age.faces);
    assert.deepEqual(metrics.tasks["utkface-gender"].data, [utk]);
    assert.match(metrics.heads.attributes.trainingData, /; Male also from utkface-cache \(meta gender\)$/);
    const log = (await readFile(join(dir, "gender-1", "run", "log.jsonl"), "utf8")).trim().split("\n");
    assert.ok(
      log.every((line) => Number.isFinite(JSON.parse(line).parts["utkface-gender"])),
      "each step logs the part's loss",
    );
    const model = await readFaceModel(join(dir, "gender-1", "model.safetensors"));
    assert.deepEqual(
      model.heads.map((h) => h.name),
      ["age", "attributes"],
      "the part trains the attributes head, it has none of its own",
    );

    // The milestones: the latest and the best checkpoint in float16, and the selection record.
    const latest = await readSafetensors(join(milestones, "milestone.safetensors"));
    assert.equal(JSON.parse(latest.metadata.run!).step, 4);
    assert.equal(latest.tensors["cls_token"]!.dtype, "F16");
    assert.ok(
      Object.keys(latest.tensors).every((name) => !name.startsWith("opt.")),
      "no optimizer state",
    );
    assert.deepEqual(JSON.parse(await readFile(join(milestones, "selection.json"), "utf8")), metrics.selection);
    assert.deepEqual((await readFile(join(milestones, "log.jsonl"), "utf8")).trim().split("\n"), log, "the log beside them");
    // A new machine: an empty run folder starts from them, trains no step again, and keeps the best.
    const second = await runCli([...args, "--out", join(dir, "gender-2")], dir);
    assert.equal(second.code, 0, second.stderr);
    const restartLog = (await readFile(join(dir, "gender-2", "run", "log.jsonl"), "utf8")).trim().split("\n");
    assert.deepEqual(restartLog, log, "the log came with the milestone, and no step was trained again");
    const again = JSON.parse(await readFile(join(dir, "gender-2", "metrics.json"), "utf8"));
    assert.deepEqual(again.selection, metrics.selection);
    const restored = await readFaceModel(join(dir, "gender-2", "model.safetensors"));
    const [a, b] = [model.heads[1]!.weight, restored.heads[1]!.weight];
    assert.ok(
      a.every((w, i) => Math.abs(w - b[i]!) <= 1e-3 * Math.max(1, Math.abs(w))),
      "the best checkpoint's attributes head, to float16",
    );
  },
);

test("a meta label for an output its head does not have, or with values no face has, is refused naming the fix", needsUtk, async () => {
  const config = join(dir, "bad-output.json");
  const label = { faces: "age", meta: "gender", values: { "0": 1 }, head: "attributes", output: "male", batch: 2 };
  await writeFile(config, JSON.stringify({ tasks: { age: { batch: 2 }, attributes: { batch: 2 } }, metaLabels: { g: label } }));
  const utk = await utkCache();
  const args = ["multitask", "--config", config, "--init", encoder, "--age", utk, "--attributes", celeba, "--out", join(dir, "z")];
  const run = await runCli(args, dir);
  assertNoStack(run);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /metaLabels\.g: the attributes head has no output "male"\. Its outputs: 5_o_Clock_Shadow, /);
  await writeFile(
    config,
    JSON.stringify({
      tasks: { age: { batch: 2 }, attributes: { batch: 2 } },
      metaLabels: { g: { ...label, output: "Male", values: { m: 1 } } },
    }),
  );
  const unlabelled = await runCli(args, dir);
  assertNoStack(unlabelled);
  assert.match(
    unlabelled.stderr,
    /metaLabels\.g: no training face of .*utkface.* has a meta "gender" among \["m"\]\. Check the column's name and values/,
  );
  await writeFile(config, JSON.stringify({ tasks: { attributes: { batch: 2 } }, metaLabels: { g: label } }));
  const absent = await runCli(
    args.filter((a, i) => a !== "--age" && args[i - 1] !== "--age"),
    dir,
  );
  assert.match(absent.stderr, /metaLabels\.g uses the task age, which "tasks" does not train\. Add it there\./);
});

test("a task in the config without caches is refused before any training", needsData, async () => {
  const config = join(dir, "two.json");
  const tasks = { expression: { batch: 2, caches: [basename(fer)] }, age: { batch: 2 } };
  await writeFile(config, JSON.stringify({ tasks, train: { steps: 2 } }));
  const out = join(dir, "x");
  const run = await runCli(["multitask", "--config", config, "--init", encoder, "--cache-dir", dirname(fer), "--out", out], dir);
  assertNoStack(run);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--age: no caches given, but the config trains age\./, "the library's data.age is the flag --age");
  assert.doesNotMatch(run.stderr, /--expression: no caches/, "expression's named cache is found in --cache-dir");
  await assert.rejects(stat(out), "nothing is written");
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
  assert.equal(config.logitAdjustment, true, "the heads are balanced on validation faces");
  const v3 = await readMultitaskConfig(fileURLToPath(new URL("../../../recipes/finetune-multitask-v3.json", import.meta.url)));
  const v31 = await readMultitaskConfig(fileURLToPath(new URL("../../../recipes/finetune-multitask-v3.1.json", import.meta.url)));
  assert.deepEqual({ ...v31, logitAdjustment: v3.logitAdjustment }, v3, "v3.1 is v3 but for how τ is chosen");
  assert.equal(v31.logitAdjustment, "one-standard-error");
  const v33 = await readMultitaskConfig(fileURLToPath(new URL("../../../recipes/finetune-multitask-v3.3.json", import.meta.url)));
  assert.deepEqual(
    { ...v33, mirrorAverage: false, logitAdjustment: v31.logitAdjustment },
    v31,
    "v3.3 is v3.1 but for mirror averaging and which heads are balanced",
  );
  assert.equal(v33.mirrorAverage, true);
  assert.deepEqual(v33.logitAdjustment, { age: "one-standard-error" }, "the expression head keeps its training prior");
  const v4 = await readMultitaskConfig(fileURLToPath(new URL("../../../recipes/finetune-multitask-v4.json", import.meta.url)));
  const v4Changes = { train: v33.train, recipe: { ...v4.recipe, ageBalance: 0, selection: v33.recipe.selection } };
  assert.deepEqual(
    { ...v4, ...v4Changes },
    v33,
    "v4, the shipped model's recipe, is v3.3 but for its training run, age balance and patience",
  );
  assert.deepEqual([v4.train.layerDecay, v4.recipe.ageBalance], [0.9, 0.5], "the lower blocks learn faster; rare decades count more");
  // The seed carves the validation faces of a dataset without a validation split (CK+ fold 0's):
  // v4 starts from v3's encoder, so it selects on v3's validation faces, which v3 never trained on.
  assert.equal(v4.train.seed, v3.train.seed, "v4 keeps v3's validation faces");
  const v5 = await readMultitaskConfig(fileURLToPath(new URL("../../../recipes/finetune-multitask-v5.json", import.meta.url)));
  assert.deepEqual({ ...v5, train: { ...v5.train, steps: v4.train.steps } }, v4, "v5 is v4 run longer, from v4's encoder");
  assert.equal(v5.train.steps, 8000);
  assert.deepEqual(
    v3.metaLabels["utkface-gender"],
    { faces: "age", meta: "gender", values: { "0": 1, "1": 0 }, head: "attributes", output: "Male", batch: 8, weight: 1 },
    "UTKFace's gender code (0 male, 1 female; its SOURCE.md) labels Male",
  );
});
