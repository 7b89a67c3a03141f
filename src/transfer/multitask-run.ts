/**
 * A multi-task fine-tune run from a config file and a cache list per task: loads each task's
 * data as a transfer run does (task-data.ts; CK+'s subject folds use fold 0), holds out each
 * task's validation faces, trains (multitask-finetune.ts), and writes
 *
 *   config.json       the effective config (tasks, train, recipe, pooling), the encoder and caches
 *   metrics.json      per task: test metrics (class shares, per-decade age error, ...), the
 *                     trivial baseline, face counts and caches; the config; the selection record;
 *                     with `logitAdjustment`, each balanced head's τ and its test metrics as trained
 *   model.safetensors the face model (face-model/face-model.ts): the encoder in fp16 and one head per task
 *                     (and `mirrorAverage` when the config asks), ready for `analyze`, `export` and the demo
 */
import { basename, join } from "node:path";
import { stat } from "node:fs/promises";
import { z } from "zod";
import { readConfigFile, saveRunConfig, type OnConfig } from "../config-schema.js";
import { splitDataset } from "../data/splits.js";
import { FacepriorError } from "../errors.js";
import { writeFaceModel, type ModelHead } from "../face-model/face-model.js";
import { writeJsonAtomic } from "../io/atomic-write.js";
import { facesOfRows, GREY_HEAD_SHARE, greyShare } from "../priors/cache-dataset.js";
import { hostTensorsOf } from "../checkpoint/vit-checkpoint.js";
import { tree } from "../engine/jax.js";
import type { TrainEngineChoice, TrainProgress } from "../train/train-loop.js";
import { parseTrainConfig, TrainOverridesSchema } from "../train/train-config.js";
import { FinetuneRecipeSchema } from "./finetune-recipe.js";
import { loadEncoder, type EncoderSource } from "./features.js";
import { ADJUSTMENT_RULES, adjustable, type AdjustmentRule } from "./logit-adjustment.js";
import { trainMultitask, type MultitaskTask } from "./multitask-finetune.js";
import { loadTaskCaches, metaOfFaces, withVal } from "./task-data.js";
import { recipeLossOverrides, TRANSFER_TASKS, type TransferTaskName } from "./tasks/index.js";
import { TransferConfigSchema, TransferTaskSchema } from "./run-transfer.js";

/** A head's balancing: a rule, `true` for "best", `false` for none. */
const AdjustmentChoiceSchema = z.union([z.boolean(), z.enum(ADJUSTMENT_RULES)]);

const TaskMixSchema = z.strictObject({
  /** Faces of this task in every step's batch. */
  batch: z.number().int().positive(),
  /** Its loss weight. */
  weight: z.number().positive().default(1),
});

/**
 * A meta column of one task's datasets as the labels of one output of another task's sigmoid head,
 * e.g. UTKFace's gender (meta.csv: 0 male, 1 female) as the attribute Male. Its faces are that
 * task's: the training faces train it, the validation faces take part in model selection, the test
 * faces are scored; faces whose meta value is not in `values` are left out.
 */
const MetaLabelSchema = z.strictObject({
  /** The task whose caches give the faces. */
  faces: TransferTaskSchema,
  meta: z.string().min(1),
  /** The label (0 or 1) each meta value stands for. */
  values: z.record(z.string(), z.union([z.literal(0), z.literal(1)])),
  /** The head, and its output (a label name, e.g. "Male") that the meta value labels. */
  head: TransferTaskSchema,
  output: z.string().min(1),
  ...TaskMixSchema.shape,
});
type MetaLabel = z.output<typeof MetaLabelSchema>;

const TaskSchema = z.strictObject({
  ...TaskMixSchema.shape,
  /**
   * Its prior caches by folder name, found in the cache folder a run is given (`multitask
   * --cache-dir`): the first one's splits and test faces, the others add training faces. A run's
   * own caches for the task (`--<task>`) take their place.
   */
  caches: z.array(z.string().min(1)).min(1).optional(),
});

export const MultitaskConfigSchema = z.strictObject({
  tasks: z.partialRecord(TransferTaskSchema, TaskSchema),
  /** By name, extra batch parts labelled from meta columns (MetaLabelSchema). */
  metaLabels: z.record(z.string(), MetaLabelSchema).default({}),
  /** Fields of the train config (train-config.ts) over its defaults; `steps` sets the length, the batch is the tasks' batches together. */
  train: TrainOverridesSchema.default({}),
  recipe: FinetuneRecipeSchema.prefault({}),
  pooling: TransferConfigSchema.shape.pooling,
  /**
   * Balance softmax heads (expression, age) on the validation faces after training
   * (logit-adjustment.ts), choosing τ by a rule: one rule for every such head (`true` is "best"),
   * or per head, e.g. { "age": "one-standard-error" }, heads left out staying as trained.
   */
  logitAdjustment: z.union([AdjustmentChoiceSchema, z.partialRecord(TransferTaskSchema, AdjustmentChoiceSchema)]).default(false),
  /**
   * The model reads each face as the mean of its features and its mirror image's (test-time flip):
   * validation, balancing and test scores are computed so, and the model file says so.
   */
  mirrorAverage: z.boolean().default(false),
});
export type MultitaskConfig = z.output<typeof MultitaskConfigSchema>;

export function readMultitaskConfig(path: string): Promise<MultitaskConfig> {
  return readConfigFile(MultitaskConfigSchema, path, "config");
}

/**
 * Each task's caches: those `given` for it, else the ones its config entry names (`caches`) inside
 * `cacheDir`. A task with neither has none, which `runMultitask` refuses, naming it.
 */
export function taskCacheDirs(
  config: MultitaskConfig,
  given: Partial<Record<TransferTaskName, string[]>>,
  cacheDir?: string,
): Partial<Record<TransferTaskName, string[]>> {
  const named = Object.entries(config.tasks).flatMap(([task, { caches }]) =>
    cacheDir && caches ? [[task, caches.map((name) => join(cacheDir, name))]] : [],
  );
  return { ...Object.fromEntries(named), ...given };
}

export type MultitaskRunOptions = {
  config: MultitaskConfig;
  /** Per task, its caches (the first one's splits and test faces). */
  data: Partial<Record<TransferTaskName, string[]>>;
  init: EncoderSource;
  out: string;
  engine?: TrainEngineChoice;
  description?: string;
  /** A folder for float16 milestones that let the run restart on another machine (selection-milestones.ts). */
  milestone?: string;
  onProgress?: (progress: TrainProgress) => void;
  onConfig?: OnConfig;
};

/** Task `task` of a multi-task run on the caches `dirs`: its faces split as `config` says (its seed carves the validation faces). */
async function loadMultitaskTask(task: TransferTaskName, dirs: readonly string[], config: MultitaskConfig): Promise<MultitaskTask> {
  const data = await loadTaskCaches(task, dirs);
  const { seed } = parseTrainConfig(config.train);
  const base = data.dataset.split.kind === "folds" ? splitDataset(data.dataset, { fold: 0 }) : splitDataset(data.dataset);
  const selection = config.recipe.selection;
  const split = selection ? withVal(data.dataset, base, selection.valFraction, seed) : base;
  const mix = config.tasks[task]!;
  return {
    name: task,
    task,
    data,
    trainFaces: [...facesOfRows(data.primary, split.train), ...data.extraFaces],
    valFaces: facesOfRows(data.primary, split.val),
    testFaces: facesOfRows(data.primary, split.test),
    batch: mix.batch,
    weight: mix.weight,
    lossOverrides: recipeLossOverrides(task, config.recipe),
  };
}

/** The batch part of meta label `name`, from the part of its `faces` task and the part that owns its head. */
function metaLabelTask(name: string, spec: MetaLabel, source: MultitaskTask, owner: MultitaskTask): MultitaskTask {
  const where = `multitask config: metaLabels.${name}`;
  const outputs = TRANSFER_TASKS[spec.head].outputLabels(owner.data.columns);
  const output = outputs.indexOf(spec.output);
  if (TRANSFER_TASKS[spec.head].activation !== "sigmoid")
    throw new FacepriorError(
      "BAD_CONFIG",
      `${where}: the ${spec.head} head is not a sigmoid head, so one output cannot be labelled alone.`,
    );
  if (output < 0)
    throw new FacepriorError(
      "BAD_CONFIG",
      `${where}: the ${spec.head} head has no output "${spec.output}". Its outputs: ${outputs.slice(0, 8).join(", ")}${outputs.length > 8 ? ", ..." : ""}.`,
    );
  const labels = Float32Array.from(metaOfFaces(source.data, spec.meta), (value) =>
    value !== undefined && Object.hasOwn(spec.values, value) ? spec.values[value]! : Number.NaN,
  );
  const labelled = (faces: readonly number[]) => faces.filter((face) => !Number.isNaN(labels[face]!));
  const trainFaces = labelled(source.trainFaces);
  if (trainFaces.length === 0) {
    const caches = [source.data.primary, ...source.data.extras.map((e) => e.cache)].map((c) => c.index.dataset.root);
    throw new FacepriorError(
      "BAD_CONFIG",
      `${where}: no training face of ${caches.join(", ")} has a meta "${spec.meta}" among ${JSON.stringify(Object.keys(spec.values))}. Check the column's name and values in their meta.csv.`,
    );
  }
  const [valFaces, testFaces] = [labelled(source.valFaces), labelled(source.testFaces)];
  const unscored = [
    ["validation", source.valFaces, valFaces],
    ["test", source.testFaces, testFaces],
  ].find(([, all, kept]) => all!.length > 0 && kept!.length === 0)?.[0];
  if (unscored)
    throw new FacepriorError(
      "BAD_CONFIG",
      `${where}: none of the ${unscored} faces (those of ${source.data.primary.index.dataset.root}, the first ${spec.faces} cache) has a meta "${spec.meta}" among ${JSON.stringify(Object.keys(spec.values))}, so the label could not be scored. Put a cache with that meta first.`,
    );
  const labelsOf = (faces: readonly number[]) => Float32Array.from(faces, (face) => labels[face]!);
  return {
    name,
    task: spec.head,
    output,
    data: { ...source.data, columns: [spec.output], labels, labelsOf },
    trainFaces,
    valFaces,
    testFaces,
    batch: spec.batch,
    weight: spec.weight,
  };
}

/** The rule of each head the config balances; a head named that is not trained or cannot be balanced is refused. */
export function adjustmentRules({ logitAdjustment, tasks }: MultitaskConfig): Partial<Record<TransferTaskName, AdjustmentRule>> {
  const trained = Object.keys(tasks) as TransferTaskName[];
  const choices: [TransferTaskName, boolean | AdjustmentRule | undefined][] =
    typeof logitAdjustment === "object"
      ? (Object.entries(logitAdjustment) as [TransferTaskName, boolean | AdjustmentRule][])
      : trained.filter(adjustable).map((task) => [task, logitAdjustment]);
  for (const [task] of choices) {
    const problem = !trained.includes(task) ? "is not trained by this config" : !adjustable(task) ? "is not a softmax head" : null;
    if (problem)
      throw new FacepriorError(
        "BAD_CONFIG",
        `multitask config: logitAdjustment.${task}: the ${task} head ${problem}; only trained softmax heads (${trained.filter(adjustable).join(", ") || "none here"}) can be balanced.`,
      );
  }
  return Object.fromEntries(choices.filter(([, choice]) => choice).map(([task, choice]) => [task, choice === true ? "best" : choice]));
}

/** Checks that each meta label names tasks the config trains and a name of its own. */
function checkMetaLabels(config: MultitaskConfig): void {
  for (const [name, spec] of Object.entries(config.metaLabels)) {
    const absent = [spec.faces, spec.head].find((task) => !config.tasks[task]);
    if (absent)
      throw new FacepriorError(
        "BAD_CONFIG",
        `multitask config: metaLabels.${name} uses the task ${absent}, which "tasks" does not train. Add it there.`,
      );
    if (name in config.tasks)
      throw new FacepriorError(
        "BAD_CONFIG",
        `multitask config: metaLabels.${name} has a task's name. Give it its own, e.g. "${name}-meta".`,
      );
  }
}

/** Refuses a task of `config` that `data` gives no caches. */
function checkTaskCaches(config: MultitaskConfig, data: Partial<Record<TransferTaskName, readonly string[]>>): void {
  const missing = (Object.keys(config.tasks) as TransferTaskName[]).find((t) => !data[t]?.length);
  if (missing)
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `data.${missing}: no caches given, but the config trains ${missing}. Give its caches (or name them in the config's tasks.${missing}.caches and give the folder that holds them), or take it out of the config's tasks.`,
      { option: `data.${missing}` },
    );
}

/**
 * Every part of a multi-task run's batches: one per task of `config` (it owns the task's head), then
 * one per meta label (one output of a head, labelled from another task's faces), each split as the
 * run splits it. `data` names each task's caches.
 */
export async function loadMultitaskTasks(
  config: MultitaskConfig,
  data: Partial<Record<TransferTaskName, readonly string[]>>,
): Promise<{ own: MultitaskTask[]; metaParts: MultitaskTask[] }> {
  const names = Object.keys(config.tasks) as TransferTaskName[];
  checkTaskCaches(config, data);
  const own = await Promise.all(names.map((t) => loadMultitaskTask(t, data[t]!, config)));
  const partOf = (task: TransferTaskName) => own.find((t) => t.task === task)!;
  const metaParts = Object.entries(config.metaLabels).map(([name, spec]) =>
    metaLabelTask(name, spec, partOf(spec.faces), partOf(spec.head)),
  );
  return { own, metaParts };
}

export async function runMultitask(options: MultitaskRunOptions) {
  const { config, out } = options;
  const names = Object.keys(config.tasks) as TransferTaskName[];
  if (names.length === 0)
    throw new FacepriorError("BAD_CONFIG", 'multitask config: no tasks. List each task with its batch under "tasks".');
  checkTaskCaches(config, options.data);
  const balancing = adjustmentRules(config);
  if (Object.keys(balancing).length > 0 && !config.recipe.selection) {
    throw new FacepriorError(
      "BAD_CONFIG",
      'multitask config: "logitAdjustment" chooses its strength on validation faces, but "recipe.selection" is null. Give the recipe a selection, or set "logitAdjustment": false.',
    );
  }
  checkMetaLabels(config);
  await saveRunConfig(join(out, "config.json"), { ...config, init: options.init, data: options.data }, options.onConfig);
  const { own, metaParts } = await loadMultitaskTasks(config, options.data);
  const tasks = [...own, ...metaParts];
  const encoder = await loadEncoder(options.init);
  const { recipe } = config;
  try {
    const result = await trainMultitask({
      encoder,
      tasks,
      pooling: config.pooling,
      runDir: join(out, "run"),
      train: config.train,
      engine: options.engine,
      augment: recipe.augment,
      dropPath: recipe.dropPath,
      selection: recipe.selection ? { patience: recipe.selection.patience } : undefined,
      logitAdjustment: balancing,
      mirrorAverage: config.mirrorAverage,
      milestone: options.milestone,
      onProgress: options.onProgress,
    });
    // A meta label's faces are its `faces` task's.
    const dataOf = (t: MultitaskTask) => options.data[t.output === undefined ? t.task : config.metaLabels[t.name]!.faces]!;
    const perTask = Object.fromEntries(
      result.results.map((r, i) => {
        const t = tasks[i]!;
        const faces = { train: t.trainFaces.length, val: t.valFaces.length, test: t.testFaces.length };
        return [r.name, { data: dataOf(t), faces, metrics: r.metrics, baseline: r.baseline }];
      }),
    );
    const { heads: headParams, ...vit } = result.params;
    const heads: ModelHead[] = [];
    for (const t of own) {
      const head = headParams[t.task]!;
      const greyInput = greyShare(t.data.cache, t.trainFaces) >= GREY_HEAD_SHARE;
      const { activation, outputLabels } = TRANSFER_TASKS[t.task];
      heads.push({
        name: t.task,
        activation,
        labels: outputLabels(t.data.columns),
        weight: (await head.weight.ref.data()) as Float32Array,
        bias: (await head.bias.ref.data()) as Float32Array,
        ...(greyInput ? { greyInput } : {}),
      });
    }
    // Each head's provenance in the form `faceprior info` and `pack` use: data, split, held-out metrics.
    const names = (dirs: string[]) => dirs.map((dir) => basename(dir)).join(" + ");
    const alsoFrom = (task: TransferTaskName) =>
      metaParts
        .filter((part) => part.task === task)
        .map((part) => `; ${part.data.columns[0]} also from ${names(dataOf(part))} (meta ${config.metaLabels[part.name]!.meta})`)
        .join("");
    const headAbout = Object.fromEntries(
      result.results.slice(0, own.length).map((r, i) => {
        const t = tasks[i]!;
        const split = t.data.dataset.split.kind === "folds" ? "test split of fold0" : "test split";
        const heldOut = Object.fromEntries(Object.entries(r.metrics).filter(([key]) => key !== "confusion"));
        return [
          r.task,
          {
            task: r.task,
            // The test faces are the first cache's; the others only add training faces.
            data: basename(options.data[r.task]![0]!),
            trainingData: names(options.data[r.task]!) + alsoFrom(r.task),
            split,
            trainFaces: t.trainFaces.length,
            testFaces: t.testFaces.length,
            heldOut,
          },
        ];
      }),
    );
    const about = {
      description: options.description ?? "multi-task fine-tune",
      init: options.init,
      config,
      heads: headAbout,
      tasks: perTask,
      steps: result.steps,
      ...(result.logitAdjustment ? { logitAdjustment: result.logitAdjustment } : {}),
    };
    await writeFaceModel(join(out, "model.safetensors"), {
      cfg: { ...encoder.cfg, globalPool: config.pooling },
      normalization: encoder.normalization,
      tensors: await hostTensorsOf(vit),
      heads,
      about,
      ...(config.mirrorAverage ? { mirrorAverage: true } : {}),
    });
    tree.dispose([headParams, vit]);
    const summary = { ...about, selection: result.selection, modelBytes: (await stat(join(out, "model.safetensors"))).size };
    await writeJsonAtomic(join(out, "metrics.json"), summary);
    return summary;
  } finally {
    tree.dispose(encoder.params);
  }
}
