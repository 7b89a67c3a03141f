/**
 * The training config: one zod schema holding every default, and the values derived from it
 * (effective batch, absolute lr, step counts), computed once by `resolveTrainConfig`, frozen,
 * and saved in the run directory and in every checkpoint.
 *
 * Learning rate as in MAE: lr = baseLr · effectiveBatch / 256 unless `lr` is given, with
 * effectiveBatch = batchSize · accumSteps. `steps`, when given, overrides `epochs`.
 */
import { z } from "zod";
import { FacepriorError } from "../errors.js";
import { overridesOf, parseConfig } from "../config-schema.js";

const unit = z.number().min(0).lt(1);

export const TrainConfigSchema = z.strictObject({
  /** Peak lr per 256 images; the absolute lr scales it by the effective batch. */
  baseLr: z.number().positive().default(1e-3),
  /** Absolute peak lr; overrides `baseLr` when given. */
  lr: z.number().positive().optional(),
  /** Floor of the cosine decay. */
  minLr: z.number().nonnegative().default(1e-6),
  /** Linear warmup length in optimizer steps; default 5% of the total, rounded. */
  warmupSteps: z.number().int().nonnegative().optional(),
  weightDecay: z.number().nonnegative().default(0.05),
  betas: z.tuple([unit, unit]).default([0.9, 0.999]),
  eps: z.number().positive().default(1e-8),
  /** Global-norm gradient clipping threshold; null turns clipping off. */
  clipNorm: z.number().positive().nullable().default(1),
  /** Layer-wise lr decay (0.75 is MAE's fine-tuning value); 1 turns it off. */
  layerDecay: z.number().positive().max(1).default(1),
  /** Micro-batches averaged into one optimizer step. */
  accumSteps: z.number().int().positive().default(1),
  /** Images per micro-batch. */
  batchSize: z.number().int().positive().default(64),
  epochs: z.number().int().positive().default(1),
  /** Total optimizer steps; overrides `epochs` when given. */
  steps: z.number().int().positive().optional(),
  /** Seeds the model init, the data order of each epoch and the per-step RNG keys. */
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** Save a checkpoint every this many optimizer steps (and always at the end). */
  checkpointEvery: z.number().int().positive().default(500),
  /** Checkpoints kept on disk, newest first; older ones are deleted after each save. */
  keepCheckpoints: z.number().int().min(1).default(2),
});

export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

/**
 * Fields of the train config a run sets over the defaults of its kind (a probe's, a fine-tune's:
 * probe.ts, finetune.ts), checked like the config and kept as given: a config file's `train`.
 */
export const TrainOverridesSchema = overridesOf(TrainConfigSchema);
export type TrainConfig = z.output<typeof TrainConfigSchema>;

export type DerivedTrainValues = {
  datasetSize: number;
  effectiveBatch: number;
  lr: number;
  stepsPerEpoch: number;
  totalSteps: number;
  warmupSteps: number;
};
export type ResolvedTrainConfig = Readonly<TrainConfig & { derived: Readonly<DerivedTrainValues> }>;

/** Parses flags or JSON into a config; the error names each bad field, its value and the rule. */
export function parseTrainConfig(input: unknown, source = "train config"): TrainConfig {
  return parseConfig(TrainConfigSchema, input, source);
}

/** Derives the step counts and the absolute lr for a dataset of `datasetSize` examples. */
export function resolveTrainConfig(input: unknown, datasetSize: number, source = "train config"): ResolvedTrainConfig {
  const config = parseTrainConfig(input, source);
  const effectiveBatch = config.batchSize * config.accumSteps;
  const stepsPerEpoch = Math.floor(datasetSize / effectiveBatch);
  if (stepsPerEpoch === 0) {
    throw new FacepriorError(
      "BAD_CONFIG",
      `${source}: batchSize ${config.batchSize} × accumSteps ${config.accumSteps} = ${effectiveBatch} exceeds the ${datasetSize} training examples. Lower batchSize or accumSteps.`,
    );
  }
  const totalSteps = config.steps ?? config.epochs * stepsPerEpoch;
  const warmupSteps = config.warmupSteps ?? Math.round(0.05 * totalSteps);
  const lr = config.lr ?? (config.baseLr * effectiveBatch) / 256;
  if (warmupSteps > totalSteps) {
    throw new FacepriorError(
      "BAD_CONFIG",
      `${source}: warmupSteps ${warmupSteps} exceeds the ${totalSteps} total steps. Lower warmupSteps.`,
    );
  }
  if (config.minLr > lr) {
    throw new FacepriorError("BAD_CONFIG", `${source}: minLr ${config.minLr} is above the peak lr ${lr}. Lower minLr.`);
  }
  const derived = Object.freeze({ datasetSize, effectiveBatch, lr, stepsPerEpoch, totalSteps, warmupSteps });
  return Object.freeze({ ...config, betas: Object.freeze([...config.betas]) as [number, number], derived });
}

/** Fields that may change between a run and its resumption without changing the math. */
export const RESUMABLE_CHANGES: ReadonlySet<string> = new Set(["checkpointEvery", "keepCheckpoints"]);

/**
 * `input` with its micro-batch capped at `size` examples, so that a few-shot set smaller than the
 * batch still trains (one batch of all of it per step) instead of having no full step.
 */
export function withBatchAtMost(input: TrainConfigInput, size: number): TrainConfigInput {
  return { ...input, batchSize: Math.min(input.batchSize ?? TrainConfigSchema.shape.batchSize.parse(undefined), size) };
}
