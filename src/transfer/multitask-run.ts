/**
 * A multi-task fine-tune run from a config file and a cache list per task: loads each task's
 * data as a transfer run does (task-data.ts; CK+'s subject folds use fold 0), holds out each
 * task's validation faces, trains (multitask-finetune.ts), and writes
 *
 *   config.json       the effective config (tasks, train, recipe, pooling), the encoder and caches
 *   metrics.json      per task: test metrics (class shares, per-decade age error, ...), the
 *                     trivial baseline, face counts and caches; the config; the selection record;
 *                     with `logitAdjustment`, each balanced head's τ and its test metrics as trained
 *   model.safetensors the face model (face-model/face-model.ts): the encoder in fp16 and one head per task,
 *                     ready for `analyze`, `export` and the demo
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
import { trainMultitask, type MultitaskTask } from "./multitask-finetune.js";
import { loadTaskCaches, withVal } from "./task-data.js";
import { recipeLossOverrides, TRANSFER_TASKS, type TransferTaskName } from "./tasks/index.js";
import { TransferConfigSchema, TransferTaskSchema } from "./run-transfer.js";

const TaskMixSchema = z.strictObject({
  /** Faces of this task in every step's batch. */
  batch: z.number().int().positive(),
  /** Its loss weight. */
  weight: z.number().positive().default(1),
});

export const MultitaskConfigSchema = z.strictObject({
  tasks: z.partialRecord(TransferTaskSchema, TaskMixSchema),
  /** Fields of the train config (train-config.ts) over its defaults; `steps` sets the length, the batch is the tasks' batches together. */
  train: TrainOverridesSchema.default({}),
  recipe: FinetuneRecipeSchema.prefault({}),
  pooling: TransferConfigSchema.shape.pooling,
  /** Balance the expression and age heads on the validation faces after training (logit-adjustment.ts). */
  logitAdjustment: z.boolean().default(false),
});
export type MultitaskConfig = z.output<typeof MultitaskConfigSchema>;

export function readMultitaskConfig(path: string): Promise<MultitaskConfig> {
  return readConfigFile(MultitaskConfigSchema, path, "config");
}

export type MultitaskRunOptions = {
  config: MultitaskConfig;
  /** Per task, its caches (the first one's splits and test faces). */
  data: Partial<Record<TransferTaskName, string[]>>;
  init: EncoderSource;
  out: string;
  engine?: TrainEngineChoice;
  description?: string;
  onProgress?: (progress: TrainProgress) => void;
  onConfig?: OnConfig;
};

async function taskOf(task: TransferTaskName, dirs: string[], config: MultitaskConfig): Promise<MultitaskTask> {
  const data = await loadTaskCaches(task, dirs);
  const { seed } = parseTrainConfig(config.train);
  const base = data.dataset.split.kind === "folds" ? splitDataset(data.dataset, { fold: 0 }) : splitDataset(data.dataset);
  const selection = config.recipe.selection;
  const split = selection ? withVal(data.dataset, base, selection.valFraction, seed) : base;
  const mix = config.tasks[task]!;
  return {
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

export async function runMultitask(options: MultitaskRunOptions) {
  const { config, out } = options;
  const names = Object.keys(config.tasks) as TransferTaskName[];
  const missing = names.find((t) => !options.data[t]?.length);
  if (names.length === 0)
    throw new FacepriorError("BAD_CONFIG", 'multitask config: no tasks. List each task with its batch under "tasks".');
  if (missing)
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `data.${missing}: no caches given, but the config trains ${missing}. Give its caches, or take it out of the config's tasks.`,
      { option: `data.${missing}` },
    );
  if (config.logitAdjustment && !config.recipe.selection) {
    throw new FacepriorError(
      "BAD_CONFIG",
      'multitask config: "logitAdjustment" chooses its strength on validation faces, but "recipe.selection" is null. Give the recipe a selection, or set "logitAdjustment": false.',
    );
  }
  await saveRunConfig(join(out, "config.json"), { ...config, init: options.init, data: options.data }, options.onConfig);
  const tasks = await Promise.all(names.map((t) => taskOf(t, options.data[t]!, config)));
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
      logitAdjustment: config.logitAdjustment,
      onProgress: options.onProgress,
    });
    const perTask = Object.fromEntries(
      result.results.map((r, i) => {
        const t = tasks[i]!;
        const faces = { train: t.trainFaces.length, val: t.valFaces.length, test: t.testFaces.length };
        return [r.task, { data: options.data[r.task], faces, metrics: r.metrics, baseline: r.baseline }];
      }),
    );
    const { heads: headParams, ...vit } = result.params;
    const heads: ModelHead[] = [];
    for (const t of tasks) {
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
    const headAbout = Object.fromEntries(
      result.results.map((r, i) => {
        const t = tasks[i]!;
        const split = t.data.dataset.split.kind === "folds" ? "test split of fold0" : "test split";
        const heldOut = Object.fromEntries(Object.entries(r.metrics).filter(([key]) => key !== "confusion"));
        return [
          r.task,
          {
            task: r.task,
            // The test faces are the first cache's; the others only add training faces.
            data: basename(options.data[r.task]![0]!),
            trainingData: options.data[r.task]!.map((dir) => basename(dir)).join(" + "),
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
    });
    tree.dispose([headParams, vit]);
    const summary = { ...about, selection: result.selection, modelBytes: (await stat(join(out, "model.safetensors"))).size };
    await writeJsonAtomic(join(out, "metrics.json"), summary);
    return summary;
  } finally {
    tree.dispose(encoder.params);
  }
}
