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
 * Each cell of the grid is one transfer run: the study's `seeds` and `pooling` and a block's `mode`,
 * `tuneBlocks`, `train` (over the mode's training defaults) and `recipe` (mode finetune) are fields
 * of the transfer config (run-transfer.ts), the one `faceprior finetune` parses its flags into. A
 * block's `encoders` and `tasks` default to all of them.
 */
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { readConfigFile } from "../config-schema.js";
import { FacepriorError } from "../errors.js";
import { DEFAULT_ARCH } from "../model/vit-presets.js";
import { ProtocolSchema, TransferConfigSchema, TransferTaskSchema, type TransferConfig } from "../transfer/run-transfer.js";
import { TRANSFER_TASK_NAMES } from "../transfer/tasks/index.js";

/** A block of the grid: one transfer config (run-transfer.ts) over lists of encoders, tasks and protocols. */
const { mode, tuneBlocks, train, recipe, seeds, pooling } = TransferConfigSchema.shape;
const GridBlockSchema = z.strictObject({
  mode,
  encoders: z.array(z.string()).min(1).optional(),
  tasks: z.array(TransferTaskSchema).min(1).optional(),
  protocols: z.array(ProtocolSchema).min(1),
  tuneBlocks,
  train,
  recipe,
});

export const StudyConfigSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  seeds,
  pooling,
  /** Architecture of the `scratch` encoder. */
  arch: z.string().default(DEFAULT_ARCH),
  /** Encoder name -> checkpoint file, or "scratch". The report keeps this order. */
  encoders: z.record(z.string(), z.string()).refine((e) => Object.keys(e).length > 0, "at least one encoder"),
  /** Encoder name -> its pretraining log.jsonl, for the loss curves; optional. */
  pretrainLogs: z.record(z.string(), z.string()).default({}),
  /** Task -> prior cache of its labelled dataset (faceprior prepare). */
  data: z.partialRecord(TransferTaskSchema, z.string()),
  grid: z.array(GridBlockSchema).min(1),
  /**
   * Pairs of encoders the report sets side by side, e.g. `full` against `mae` at two budgets: per
   * cell, each pair's difference and the change of the first pair's difference against the others'.
   */
  contrasts: z
    .array(z.strictObject({ name: z.string().min(1), encoder: z.string(), reference: z.string() }))
    .min(1)
    .optional(),
});

export type StudyConfig = z.output<typeof StudyConfigSchema>;
export type GridBlock = z.output<typeof GridBlockSchema>;

/** One transfer run of the grid: its encoder, and the fields of its transfer config that the grid sets. */
export type StudyCell = Pick<TransferConfig, "mode" | "task" | "protocol" | "tuneBlocks" | "train" | "recipe"> & { encoder: string };

/** Reads, validates and resolves a study config; paths become absolute. */
export async function loadStudyConfig(path: string): Promise<StudyConfig> {
  const config = await readConfigFile(StudyConfigSchema, path, "config");
  const base = dirname(resolve(path));
  const absolute = (p: string) => resolve(base, p);
  checkGridNames(config, path);
  return {
    ...config,
    encoders: Object.fromEntries(Object.entries(config.encoders).map(([name, file]) => [name, file === "scratch" ? file : absolute(file)])),
    pretrainLogs: Object.fromEntries(Object.entries(config.pretrainLogs).map(([name, file]) => [name, absolute(file)])),
    data: Object.fromEntries(Object.entries(config.data).map(([task, dir]) => [task, absolute(dir!)])),
  };
}

function checkGridNames(config: StudyConfig, path: string): void {
  config.contrasts?.forEach((contrast, i) => {
    const unknown = [contrast.encoder, contrast.reference].find((e) => !(e in config.encoders));
    if (unknown) {
      throw new FacepriorError(
        "BAD_CONFIG",
        `${path}: contrasts.${i} names "${unknown}", which is not in "encoders" (${Object.keys(config.encoders).join(", ")}).`,
      );
    }
  });
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
