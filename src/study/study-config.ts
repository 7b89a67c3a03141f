/**
 * A study as plain data: which encoders, which labelled caches, and a grid of (mode, encoders,
 * tasks, protocols) blocks, all over the same seeds. Paths are relative to the config file.
 *
 *   {
 *     "name": "default-cpu",
 *     "seeds": 3,
 *     "encoders": { "scratch": "scratch", "mae": "../../runs/pretrain/mae/encoder.safetensors" },
 *     "pretrainLogs": { "mae": "../../runs/pretrain/mae/log.jsonl" },
 *     "data": { "au": "../../cache/ckplus_au", "expression": "../../cache/fer2013" },
 *     "grid": [{ "mode": "probe", "protocols": ["full", "ratio:0.01"] }]
 *   }
 *
 * A grid block's `encoders` and `tasks` default to all of them; `train` overrides the mode's
 * training defaults (probe.ts, finetune.ts), and a finetune block's `recipe` the fine-tuning
 * recipe (finetune-recipe.ts).
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { parseConfig } from "../config-schema.js";
import { FacepriorError } from "../errors.js";
import { parseProtocol } from "../data/few-shot.js";
import { TrainConfigSchema } from "../train/train-config.js";
import { FinetuneRecipeSchema, type FinetuneRecipe } from "../transfer/finetune-recipe.js";
import { TRANSFER_TASK_NAMES, type TransferTaskName } from "../transfer/tasks/index.js";

const TaskName = z.enum(TRANSFER_TASK_NAMES as [TransferTaskName, ...TransferTaskName[]]);
const Protocol = z.string().refine((p) => {
  try {
    parseProtocol(p);
    return true;
  } catch {
    return false;
  }
}, "a protocol: full, ratio:<f> or kshot:<k>");

const GridBlockSchema = z.strictObject({
  mode: z.enum(["probe", "finetune"]),
  encoders: z.array(z.string()).min(1).optional(),
  tasks: z.array(TaskName).min(1).optional(),
  protocols: z.array(Protocol).min(1),
  /** finetune: train only the last k blocks over cached tokens of the others. */
  tuneBlocks: z.number().int().positive().optional(),
  train: z.record(z.string(), z.unknown()).optional(),
  /** finetune: the recipe (finetune-recipe.ts); fields left out take its defaults. */
  recipe: FinetuneRecipeSchema.optional(),
});

export const StudyConfigSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  seeds: z.number().int().min(1).max(100).default(3),
  pooling: z.enum(["avg", "token"]).default("avg"),
  /** Architecture of the `scratch` encoder. */
  arch: z.string().default("vit-tiny"),
  /** Encoder name -> checkpoint file, or "scratch". The report keeps this order. */
  encoders: z.record(z.string(), z.string()).refine((e) => Object.keys(e).length > 0, "at least one encoder"),
  /** Encoder name -> its pretraining log.jsonl, for the loss curves; optional. */
  pretrainLogs: z.record(z.string(), z.string()).default({}),
  /** Task -> prior cache of its labelled dataset (faceprior prepare). */
  data: z.partialRecord(TaskName, z.string()),
  grid: z.array(GridBlockSchema).min(1),
});

export type StudyConfig = z.output<typeof StudyConfigSchema>;
export type GridBlock = z.output<typeof GridBlockSchema>;

/** One transfer run of the grid. */
export type StudyCell = {
  mode: GridBlock["mode"];
  encoder: string;
  task: TransferTaskName;
  protocol: string;
  tuneBlocks?: number;
  train?: Record<string, unknown>;
  recipe?: FinetuneRecipe;
};

/** Reads, validates and resolves a study config; paths become absolute. */
export async function loadStudyConfig(path: string): Promise<StudyConfig> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `--config ${path}: ${error.code === "ENOENT" ? "no such file" : error.message}. Pass a study JSON file (see studies/).`,
    );
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FacepriorError("BAD_CONFIG", `${path}: not valid JSON (${(error as Error).message}).`);
  }
  const config = parseConfig(StudyConfigSchema, json, path);
  const base = dirname(resolve(path));
  const absolute = (p: string) => resolve(base, p);
  checkGridNames(config, path);
  config.grid.forEach((block, i) => block.train && parseConfig(TrainConfigSchema, block.train, `${path}: grid.${i}.train`));
  return {
    ...config,
    encoders: Object.fromEntries(Object.entries(config.encoders).map(([name, file]) => [name, file === "scratch" ? file : absolute(file)])),
    pretrainLogs: Object.fromEntries(Object.entries(config.pretrainLogs).map(([name, file]) => [name, absolute(file)])),
    data: Object.fromEntries(Object.entries(config.data).map(([task, dir]) => [task, absolute(dir!)])),
  };
}

function checkGridNames(config: StudyConfig, path: string): void {
  config.grid.forEach((block, i) => {
    const unknownEncoder = block.encoders?.find((e) => !(e in config.encoders));
    if (unknownEncoder) {
      throw new FacepriorError(
        "BAD_CONFIG",
        `${path}: grid.${i}.encoders names "${unknownEncoder}", which is not in "encoders" (${Object.keys(config.encoders).join(", ")}).`,
      );
    }
    const noData = (block.tasks ?? TRANSFER_TASK_NAMES).find((t) => block.tasks && !config.data[t]);
    if (noData) throw new FacepriorError("BAD_CONFIG", `${path}: grid.${i}.tasks names "${noData}", which has no cache in "data".`);
  });
}

/** Every run of the grid, in config order: block, then task, protocol, encoder. */
export function studyCells(config: StudyConfig): StudyCell[] {
  return config.grid.flatMap((block) => {
    const tasks = block.tasks ?? TRANSFER_TASK_NAMES.filter((t) => config.data[t]);
    const encoders = block.encoders ?? Object.keys(config.encoders);
    return tasks.flatMap((task) =>
      block.protocols.flatMap((protocol) =>
        encoders.map((encoder) => ({
          mode: block.mode,
          encoder,
          task,
          protocol,
          tuneBlocks: block.tuneBlocks,
          train: block.train,
          recipe: block.recipe,
        })),
      ),
    );
  });
}

/** The cell's run folder under the study's output, e.g. `probe/expression/ratio-0.1/mae+pix`. */
export function cellDir(cell: StudyCell): string {
  const mode = cell.mode === "finetune" && cell.tuneBlocks !== undefined ? `finetune-last${cell.tuneBlocks}` : cell.mode;
  return [mode, cell.task, cell.protocol.replace(":", "-"), cell.encoder].join("/");
}
