/**
 * One pretraining run, like MAE's main_pretrain: caches in, encoder out.
 *
 *   <out>/config.json                           the effective config: pretraining, loss weights, training
 *   <out>/run.json, log.jsonl, checkpoints/     the train loop's (resumable; see src/train/)
 *   <out>/pool.json                             the faces each cache gave (pretraining-pool.ts: never a test face)
 *   <out>/previews/epoch-NNN.png                held-out faces each epoch (pretrain-preview.ts)
 *   <out>/loss.png                              every loss part against the step
 *   <out>/encoder.safetensors                   the encoder alone, timm layout, with its config
 *   <out>/summary.json                          budget, time and the final losses
 *
 * A checkpoint is written each epoch unless the train config says more often; previews and the loss
 * plot are drawn each epoch. The last `previewFaces` faces of the pool are held out of training and
 * drawn in the previews.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { random, tree } from "../engine/jax.js";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic-write.js";
import { saveVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { lossCurveSpec, requireCharts, writeChartPng } from "../plot/render-chart.js";
import type { CacheDataset } from "../priors/cache-dataset.js";
import { loadPretrainingPool } from "./pretraining-pool.js";
import { readRunState, restoreMilestone } from "../train/run-state.js";
import { resolveTrainConfig, type TrainConfigInput } from "../train/train-config.js";
import { train, type TrainEngineChoice, type TrainProgress } from "../train/train-loop.js";
import { saveRunConfig, type OnConfig } from "../config-schema.js";
import { resolvePretrainConfig, type ResolvedPretrainConfig } from "./config.js";
import { encoderParams, initMae, type MaeParams } from "./mae.js";
import { checkCacheFits, makePretrainLoss, pretrainBatch, PRETRAIN_MEAN, PRETRAIN_STD } from "./pretrain-loss.js";
import { previewPretraining, previewSheet } from "./pretrain-preview.js";

export type PretrainRunOptions = {
  caches: string[];
  out: string;
  /** PretrainConfigSchema input: variant, arch, decoder, mask ratio, λ overrides. */
  pretrain: unknown;
  /** TrainConfigSchema input: epochs or steps, batch, lr, seed... */
  train: TrainConfigInput;
  previewFaces?: number;
  onProgress?: (progress: TrainProgress) => void;
  /** Lines worth telling the user (a warm restart). */
  onNote?: (note: string) => void;
  /** Told the effective config once it is known (after the pool is read), and its file. */
  onConfig?: OnConfig;
  /** The training engine (jax-js by default); a run may resume on the other one. */
  engine?: TrainEngineChoice;
  /** Write a float16 milestone here at every checkpoint (src/train/run-state.ts), e.g. a path in the repository. */
  milestone?: string;
  /** Start from this milestone when the run folder has no checkpoint (a warm restart). */
  warmStart?: string;
};

export type PretrainSummary = {
  variant: string;
  encoder: string;
  steps: number;
  epochs: number;
  images_seen: number;
  train_faces: number;
  /** Time in training steps, summed over every run that resumed this one (from log.jsonl). */
  train_seconds: number;
  /** Median over steps, so that the first step's compile does not count. */
  images_per_second: number;
  final_losses: Record<string, number>;
};

type LogLine = { step: number; loss: number; parts: Record<string, number>; imagesPerSecond: number };

async function readLog(path: string): Promise<LogLine[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogLine);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Mean of each loss part over the last `window` logged steps. */
function finalLosses(lines: LogLine[], window = 20): Record<string, number> {
  const tail = lines.slice(-window);
  const names = Object.keys(tail[0]?.parts ?? {});
  return Object.fromEntries(names.map((n) => [n, tail.reduce((s, l) => s + l.parts[n]!, 0) / tail.length]));
}

async function drawLossCurves(out: string, lines: LogLine[], variant: string): Promise<void> {
  if (lines.length === 0) return;
  const parts = Object.keys(lines[0]!.parts);
  const records = lines.map((l) => ({ step: l.step, ...l.parts }));
  await writeChartPng(join(out, "loss.png"), lossCurveSpec(records, parts, `pretraining losses (${variant})`));
}

/** Draws the held-out faces with the parameters of checkpoint `path`. */
async function drawPreview(
  path: string,
  file: string,
  cache: CacheDataset,
  faces: number[],
  resolved: ResolvedPretrainConfig,
): Promise<void> {
  const { params, optState } = await readRunState(path);
  tree.dispose(optState);
  try {
    const batch = pretrainBatch(cache, faces, resolved);
    const landmarks = Float32Array.from(faces.flatMap((f) => [...cache.tensors.landmarks68!.data.subarray(f * 136, (f + 1) * 136)]));
    const data = await previewPretraining(params as MaeParams, batch, resolved.mae, random.key(12345), landmarks);
    await writeFileAtomic(file, await previewSheet(data));
  } finally {
    tree.dispose(params);
  }
}

export async function runPretraining(options: PretrainRunOptions): Promise<PretrainSummary> {
  const { out, previewFaces = 8 } = options;
  const resolved = resolvePretrainConfig(options.pretrain);
  // Loss curves are drawn at every epoch's end: without vega, fail now rather than after the first epoch.
  await requireCharts();
  if (options.warmStart && (await restoreMilestone(out, options.warmStart))) {
    options.onNote?.(`warm restart from ${options.warmStart}: its weights and position, fresh optimizer moments`);
  }
  const { cache, sources } = await loadPretrainingPool(options.caches);
  checkCacheFits(cache, resolved.mae);
  await writeJsonAtomic(join(out, "pool.json"), { faces: cache.count, sources });
  const heldOut = Array.from({ length: Math.min(previewFaces, cache.count - 1) }, (_, i) => cache.count - 1 - i);
  const trainFaces = cache.count - heldOut.length;
  const stepsPerEpoch = resolveTrainConfig(options.train, trainFaces).derived.stepsPerEpoch;
  const trainConfig = { checkpointEvery: stepsPerEpoch, ...options.train };
  const resolvedTrain = resolveTrainConfig(trainConfig, trainFaces);
  const effective = { pretrain: resolved.config, weights: resolved.weights, train: resolvedTrain };
  await saveRunConfig(join(out, "config.json"), effective, options.onConfig);
  const variant = resolved.config.variant;
  let drawnStep = -1;
  const newEpochSince = (last: number, step: number) => last < 0 || Math.floor(step / stepsPerEpoch) > Math.floor(last / stepsPerEpoch);
  const drawPictures = async (step: number, checkpoint: string) => {
    if (step === drawnStep) return;
    drawnStep = step;
    const epoch = Math.ceil(step / stepsPerEpoch);
    await drawPreview(checkpoint, join(out, "previews", `epoch-${String(epoch).padStart(3, "0")}.png`), cache, heldOut, resolved);
    await drawLossCurves(out, await readLog(join(out, "log.jsonl")), variant);
  };

  const result = await train<MaeParams, ReturnType<typeof pretrainBatch>>({
    runDir: out,
    ...options.engine,
    ...(options.milestone ? { milestone: { path: options.milestone, every: resolvedTrain.checkpointEvery } } : {}),
    config: trainConfig,
    init: (key) => initMae(key, resolved.mae, resolved.heads),
    loss: makePretrainLoss(resolved),
    data: { size: trainFaces, batch: (faces) => pretrainBatch(cache, faces, resolved) },
    onProgress: options.onProgress,
    // The first checkpoint of each epoch draws: checkpoints need not fall on epoch boundaries.
    onCheckpoint: ({ step, path }) => (newEpochSince(drawnStep, step) ? drawPictures(step, path) : undefined),
  });
  // Again at the end, so that a run resumed after a crash in the drawing still gets its pictures.
  await drawPictures(result.step, result.checkpoint);

  const encoder = join(out, "encoder.safetensors");
  const metadata = {
    pretrain_variant: variant,
    pretrain_config: JSON.stringify(resolved.config),
    train_config: JSON.stringify(result.config),
    pretrain_steps: String(result.step),
    pretrain_caches: JSON.stringify(options.caches),
  };
  await saveVitCheckpoint(encoder, encoderParams(result.params), resolved.mae.encoder, {
    normalization: { mean: [...PRETRAIN_MEAN], std: [...PRETRAIN_STD] },
    metadata,
  });
  tree.dispose(result.params);
  const { effectiveBatch } = result.config.derived;
  const log = await readLog(result.log);
  const summary: PretrainSummary = {
    variant,
    encoder,
    steps: result.step,
    epochs: result.step / stepsPerEpoch,
    images_seen: result.step * effectiveBatch,
    train_faces: trainFaces,
    train_seconds: log.reduce((s, l) => s + effectiveBatch / l.imagesPerSecond, 0),
    images_per_second: median(log.map((l) => l.imagesPerSecond)),
    final_losses: finalLosses(log),
  };
  await writeJsonAtomic(join(out, "summary.json"), summary);
  return summary;
}
