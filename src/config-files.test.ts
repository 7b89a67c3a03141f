/**
 * The config files the repository ships parse through the schema of their run kind, and the
 * configs of the recorded runs (results/) follow from them unchanged: editing a schema must not
 * change what a shipped recipe means, nor what a run in progress resumes with.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { z } from "zod";
import { REPO_ROOT } from "../test/support/shared-data.js";
import { readConfigFile } from "./config-schema.js";
import { PretrainRunConfigSchema, resolvePretrainConfig } from "./pretrain/config.js";
import { loadStudyConfig, studyCells } from "./study/study-config.js";
import { resolveTrainConfig } from "./train/train-config.js";
import { FinetuneRecipeSchema } from "./transfer/finetune-recipe.js";
import { MultitaskConfigSchema, readMultitaskConfig } from "./transfer/multitask-run.js";

const recipe = (name: string) => join(REPO_ROOT, "recipes", name);
const readJson = async (path: string) => JSON.parse(await readFile(join(REPO_ROOT, path), "utf8"));
const readPretrainRecipe = (name: string) => readConfigFile(PretrainRunConfigSchema, recipe(name), "config");

/** A recipe's run kind, by the start of its name. */
const RECIPE_KINDS: [string, z.ZodType][] = [
  ["pretrain-", PretrainRunConfigSchema],
  ["finetune-multitask", MultitaskConfigSchema],
  ["finetune-per-task", FinetuneRecipeSchema],
];

test("every recipe parses through the schema of its run kind", async () => {
  for (const name of await readdir(join(REPO_ROOT, "recipes"))) {
    const schema = RECIPE_KINDS.find(([prefix]) => name.startsWith(prefix))?.[1];
    assert.ok(schema, `recipes/${name}: name it after a kind listed in RECIPE_KINDS, or add its kind there`);
    const config = await readConfigFile(schema, recipe(name), "config");
    if (schema === PretrainRunConfigSchema) resolvePretrainConfig((config as z.output<typeof PretrainRunConfigSchema>).pretrain);
  }
});

test("every study parses, and expands to the grid of the committed report", async () => {
  for (const name of await readdir(join(REPO_ROOT, "studies"))) {
    const config = await loadStudyConfig(join(REPO_ROOT, "studies", name));
    assert.ok(studyCells(config).length > 0, name);
  }
  const report = await readJson("results/study/report.json");
  const config = await loadStudyConfig(join(REPO_ROOT, "studies", "default-cpu.json"));
  assert.equal(JSON.stringify(config.grid), JSON.stringify(report.config.grid), "the grid a study resumes by, keys in order");
  assert.equal(JSON.stringify(studyCells(config)), JSON.stringify(report.results.map(cellFields)), "the cells, as the report lists them");
});

test("the pool-budget study fine-tunes with the shipped model's recipe", async () => {
  const config = await loadStudyConfig(join(REPO_ROOT, "studies", "pool-budget.json"));
  const shipped = await readConfigFile(FinetuneRecipeSchema, recipe("finetune-per-task.json"), "recipe");
  const finetuneCells = studyCells(config).filter((cell) => cell.mode === "finetune");
  assert.ok(finetuneCells.length > 0);
  for (const cell of finetuneCells) assert.deepEqual(FinetuneRecipeSchema.parse(cell.recipe), shipped, `${cell.task} ${cell.protocol}`);
});

const cellFields = ({ mode, encoder, task, protocol, tuneBlocks, train, recipe }: Record<string, unknown>) => ({
  mode,
  encoder,
  task,
  protocol,
  tuneBlocks,
  train,
  recipe,
});

test("the recorded runs' training configs follow from their recipes unchanged", async () => {
  const recorded = async (path: string) => (await readJson(path)).config;
  const pool = await readPretrainRecipe("pretrain-pool-full.json");
  assert.deepEqual(resolveTrainConfig(pool.train, 56849), await recorded("results/pretrain-pool/full/run.json"));

  // pretrain-study.sh: a checkpoint each epoch (153 steps of 32 over 4,905 faces), the recipe's 2 epochs.
  const study = await readPretrainRecipe("pretrain-study.json");
  assert.deepEqual(resolveTrainConfig({ checkpointEvery: 153, ...study.train }, 4905), await recorded("results/pretrain/mae/run.json"));
  assert.deepEqual(resolvePretrainConfig({ ...study.pretrain, variant: "mae" }).config.arch, "vit-tiny");

  // The multi-task fine-tune: the tasks' batches together (24 + 16 + 16 + 8) over 74,112 faces.
  const multitask = await readMultitaskConfig(recipe("finetune-multitask.json"));
  assert.deepEqual(multitask.train, (await readJson("recipes/finetune-multitask.json")).train, "train is kept as written");
  const batch = Object.values(multitask.tasks).reduce((n, task) => n + task!.batch, 0);
  assert.deepEqual(
    resolveTrainConfig({ ...multitask.train, batchSize: batch }, 74112),
    await recorded("results/multitask/multitask-full/run.json"),
  );
});
