/**
 * The one outer training loop. It only feeds, logs and checkpoints; the math is the jitted step.
 *
 * - Data order: epoch e visits `epochOrder(seed, e, n)`; each step takes the next
 *   batchSize · accumSteps examples (the tail of an epoch that does not fill a step is skipped).
 * - Randomness: the model starts from `init(random.key(seed))`; step s gets `stepKey(seed, s)`.
 *   Both are functions of the seed, so a resumed run replays an uninterrupted one exactly.
 * - `<runDir>/log.jsonl` gets one JSON line per step: step, epoch, lr, loss, parts, gradNorm,
 *   imagesPerSecond, engine. `<runDir>/run.json` holds the resolved config.
 * - The engine (step-engines.ts: jax-js, or the step lowered to onnxruntime) is not part of the
 *   config: a run may resume on the other engine, and each log line says which one ran it.
 * - A checkpoint every `checkpointEvery` steps and at the end (see run-state.ts). When the run
 *   directory holds one, training resumes from it and log lines past it are dropped.
 * - A milestone (run-state.ts: float16 parameters, no optimizer state) is written every
 *   `milestone.every` steps when asked, after a copy of the log beside it (`log.jsonl`). A run directory whose latest checkpoint is a milestone
 *   restarts warm from it: its parameters and position, fresh AdamW moments; the first log line
 *   after it says so (`warmStartFrom`).
 * - A non-finite loss or gradient norm stops the run with NON_FINITE_LOSS, naming the step,
 *   the loss parts and the last good checkpoint, which is left as it was.
 */
import { appendFile, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { availableParallelism } from "node:os";
import { random, tree, type Array } from "../engine/jax.js";
import { configChanges } from "../config-changes.js";
import { FacepriorError } from "../errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic-write.js";
import { adamw, type AdamWState, type Optimizer } from "./adamw.js";
import { isMilestone, loadRunState, LOG_FILE, saveMilestone, saveRunState, type RunState } from "./run-state.js";
import { cosineSchedule } from "./schedule.js";
import { epochOrder, stepKey, stepKeyData } from "./seeding.js";
import { RESUMABLE_CHANGES, resolveTrainConfig, type ResolvedTrainConfig } from "./train-config.js";
import { createStepEngine, type MetricValues, type StepEngine, type TrainEngineName, type TrainState } from "./step-engines.js";
import type { LossFn } from "./train-step.js";
import type { Tree } from "./tree-names.js";

export type TrainData<B> = {
  /** Number of training examples; indices run over 0..size-1. */
  size: number;
  /**
   * The batch of these examples, in this order, for micro-batch `microBatch` of step `step`
   * (0-based): a function of its arguments, so that a resumed run sees the same batches (random
   * augmentation draws from `exampleSeed`).
   */
  batch(indices: number[], at: { step: number; microBatch: number }): B | Promise<B>;
};
export type TrainProgress = { step: number; totalSteps: number; imagesPerSecond: number };
export type TrainLoopOptions<P extends Tree, B extends Tree> = {
  runDir: string;
  /** Parsed by `TrainConfigSchema`; defaults fill what is left out. */
  config: unknown;
  /** Fresh parameters from a key; called only when the run directory has no checkpoint. */
  init: (key: Array) => P;
  loss: LossFn<P, B>;
  data: TrainData<B>;
  onProgress?: (progress: TrainProgress) => void;
  /**
   * Called after each checkpoint is complete and `latest.json` points at it, with the saved
   * parameters (borrowed: `tree.ref` what you keep). Returning "stop" ends the run there, as if
   * it were the last step (early stopping).
   */
  onCheckpoint?: (saved: { step: number; path: string; params: P }) => void | "stop" | Promise<void | "stop">;
  /** Also write a milestone to `path` every `every` steps and at the last, with the log beside it (`log.jsonl`). */
  milestone?: { path: string; every: number };
} & TrainEngineChoice;

/** Which engine runs the steps (default jax), and onnxruntime's threads for the onnx engine (default: every core). */
export type TrainEngineChoice = { engine?: TrainEngineName; threads?: number };
export type TrainResult<P> = {
  /** The trained parameters; the caller owns them. */
  params: P;
  step: number;
  checkpoint: string;
  log: string;
  resumedFrom: number | null;
  config: ResolvedTrainConfig;
};

type Cursor = { step: number; epoch: number; position: number };

export async function train<P extends Tree, B extends Tree>(options: TrainLoopOptions<P, B>): Promise<TrainResult<P>> {
  const { runDir, engine: engineName = "jax" } = options;
  const { config, resumed, logPath } = await openRun(runDir, options.config, options.data.size);
  const { totalSteps, effectiveBatch } = config.derived;
  const [b1, b2] = config.betas;
  const { eps, weightDecay, layerDecay } = config;
  const optimizer = adamw({ b1, b2, eps, weightDecay, layerDecay });
  const warmStartFrom = resumed && isMilestone(resumed.state) ? resumed.path : null;
  const start: TrainState<P> = !resumed
    ? freshState(options.init, optimizer, config.seed)
    : warmStartFrom
      ? { params: resumed.state.params as P, optState: optimizer.init(tree.ref(resumed.state.params)) }
      : { params: resumed.state.params as P, optState: resumed.state.optState as AdamWState };
  const { step: doneSteps = 0, epoch = 0, position = 0 } = resumed?.state.meta ?? {};
  let cursor: Cursor = { step: doneSteps, epoch, position };
  let checkpoint = resumed?.path ?? null;
  const engine: StepEngine<P, B> = createStepEngine(engineName, start, {
    loss: options.loss,
    optimizer,
    step: { clipNorm: config.clipNorm },
    accumSteps: config.accumSteps,
    threads: options.threads ?? availableParallelism(),
  });
  const schedule = cosineSchedule({ peakLr: config.derived.lr, minLr: config.minLr, warmupSteps: config.derived.warmupSteps, totalSteps });
  const feed = batchFeeder(options.data, config);
  try {
    while (cursor.step < totalSteps) {
      const started = performance.now();
      const { batches, next } = await feed(cursor);
      const lr = schedule(cursor.step);
      const values = await engine.step(batches, stepKey(config.seed, cursor.step), lr);
      cursor = next;
      const imagesPerSecond = effectiveBatch / ((performance.now() - started) / 1000);
      const { loss, parts, gradNorm } = values;
      const warm = warmStartFrom && cursor.step === doneSteps + 1 ? { warmStartFrom } : {};
      const line = { ...cursor, lr, loss, parts, gradNorm, imagesPerSecond, engine: engine.name, ...warm };
      await appendFile(logPath, JSON.stringify(line) + "\n");
      if (!values.finite) throw nonFiniteError(logPath, cursor.step, values, checkpoint, config.checkpointEvery);
      options.onProgress?.({ step: cursor.step, totalSteps, imagesPerSecond });
      if (cursor.step % config.checkpointEvery === 0 || cursor.step === totalSteps) {
        const meta = { ...cursor, seed: config.seed, rngKey: stepKeyData(config.seed, cursor.step), config };
        const state = await engine.snapshot();
        let verdict: void | "stop";
        try {
          checkpoint = await saveRunState(runDir, { ...state, meta } as RunState, config.keepCheckpoints);
          verdict = await options.onCheckpoint?.({ step: cursor.step, path: checkpoint, params: state.params });
        } finally {
          tree.dispose(state);
        }
        if (verdict === "stop") break;
      }
      const { milestone } = options;
      if (milestone && (cursor.step % milestone.every === 0 || cursor.step === totalSteps)) {
        // The log first: a milestone never has fewer lines beside it than it has steps.
        await copyLogBeside(logPath, milestone.path);
        const state = await engine.snapshot();
        try {
          await saveMilestone(milestone.path, state.params, {
            ...cursor,
            seed: config.seed,
            rngKey: stepKeyData(config.seed, cursor.step),
            config,
          });
        } finally {
          tree.dispose(state);
        }
      }
    }
    const { params, optState } = await engine.snapshot();
    tree.dispose(optState);
    return { params, step: cursor.step, checkpoint: checkpoint!, log: logPath, resumedFrom: resumed?.state.meta.step ?? null, config };
  } finally {
    await engine.dispose();
  }
}

/** Copies the run's log to `log.jsonl` in the milestone's folder, unless that is the run's own. */
async function copyLogBeside(logPath: string, milestonePath: string): Promise<void> {
  const beside = join(dirname(milestonePath), LOG_FILE);
  if (resolve(beside) !== resolve(logPath)) await writeFileAtomic(beside, await readFile(logPath));
}

/** Resolves the config, finds the checkpoint to resume, saves run.json, trims the log to match. */
async function openRun(runDir: string, input: unknown, datasetSize: number) {
  const config = resolveTrainConfig(input, datasetSize, `${runDir}: config`);
  const resumed = await loadRunState(runDir);
  if (resumed) checkResumable(resumed.state, resumed.path, config);
  await writeJsonAtomic(join(runDir, "run.json"), { config });
  const logPath = join(runDir, LOG_FILE);
  await truncateLog(logPath, resumed?.state.meta.step ?? 0);
  return { config, resumed, logPath };
}

/** The micro-batches of the step at `cursor`, and the cursor after it (rolling into the next epoch when due). */
function batchFeeder<B>(data: TrainData<B>, config: ResolvedTrainConfig): (cursor: Cursor) => Promise<{ batches: B[]; next: Cursor }> {
  const { batchSize, accumSteps, seed } = config;
  const { effectiveBatch } = config.derived;
  let order: { epoch: number; indices: Uint32Array } = { epoch: -1, indices: new Uint32Array() };
  return async (cursor) => {
    const at = cursor.position + effectiveBatch > data.size ? { ...cursor, epoch: cursor.epoch + 1, position: 0 } : cursor;
    if (order.epoch !== at.epoch) order = { epoch: at.epoch, indices: epochOrder(seed, at.epoch, data.size) };
    const batches: B[] = [];
    for (let i = 0; i < accumSteps; i++) {
      const start = at.position + i * batchSize;
      batches.push(await data.batch([...order.indices.subarray(start, start + batchSize)], { step: at.step, microBatch: i }));
    }
    return { batches, next: { step: at.step + 1, epoch: at.epoch, position: at.position + effectiveBatch } };
  };
}

function freshState<P extends Tree>(init: (key: Array) => P, optimizer: Optimizer<AdamWState>, seed: number): TrainState<P> {
  const params = init(random.key(seed));
  return { params, optState: optimizer.init(tree.ref(params)) };
}

function nonFiniteError(logPath: string, step: number, values: MetricValues, checkpoint: string | null, every: number): FacepriorError {
  const parts = Object.entries(values.parts).map(([name, v]) => `${name} ${v}`);
  const shown = [`loss ${values.loss}`, ...parts, `grad norm ${values.gradNorm}`].join(", ");
  const last = checkpoint
    ? `The last good checkpoint, ${checkpoint}, is intact; lower lr or clipNorm (or check the data of step ${step}) and resume from it.`
    : `No checkpoint was written yet (checkpointEvery ${every}); lower lr or clipNorm (or check the data of step ${step}) and start again.`;
  return new FacepriorError("NON_FINITE_LOSS", `${logPath}: step ${step} has a non-finite loss (${shown}). ${last}`);
}

/** A checkpoint resumes only under the config that wrote it, up to `RESUMABLE_CHANGES`. */
function checkResumable(state: RunState, path: string, config: ResolvedTrainConfig): void {
  const changed = configChanges(state.meta.config, config, RESUMABLE_CHANGES);
  if (changed.length > 0) {
    const list = changed.join(", ");
    throw new FacepriorError(
      "RUN_STATE",
      `${path}: was written under another config (${list}). Resume with the saved config or use a new run directory.`,
    );
  }
  const expected = stepKeyData(config.seed, state.meta.step);
  if (state.meta.rngKey.join() !== expected.join()) {
    throw new FacepriorError(
      "RUN_STATE",
      `${path}: RNG key [${state.meta.rngKey}] of step ${state.meta.step} is not [${expected}], the key faceprior derives from seed ${config.seed}. Resume with the faceprior version that wrote it.`,
    );
  }
}

/** Keeps the log lines of steps up to `step`, the state being resumed; drops later or torn ones. */
async function truncateLog(logPath: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(logPath, "utf8");
  } catch {
    return;
  }
  const kept = text.split("\n").filter((line) => {
    try {
      return (JSON.parse(line) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  const rewritten = kept.map((line) => line + "\n").join("");
  if (rewritten !== text) await writeFileAtomic(logPath, rewritten);
}
