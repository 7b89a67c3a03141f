/**
 * One encoder, several heads: a multi-task fine-tune. Every step's batch holds `batch` faces of
 * each task (drawn from that task's own seeded epoch orders, so tasks of different sizes mix at
 * fixed rates), the encoder runs once over all of them, and each task's linear head reads its
 * rows of the pooled features:
 *
 *   loss = Σ_t weight_t · loss_t(head_t(pool(encoder(images_t))), targets_t)
 *
 * The heads are plain linear layers on the pooled features, the face model's head format
 * (face-model/face-model.ts), so the result packs into a face model as it is. The recipe is the per-task
 * fine-tune's (augmentation drawn from `exampleSeed`, DropPath, class and age balance); model selection
 * scores each checkpoint on every task's validation faces, as the mean over tasks of the
 * improvement over that task's trivial baseline (accuracy / baseline accuracy, baseline MAE /
 * MAE), since the tasks' metrics have different units. With `logitAdjustment`, the softmax heads
 * (expression, age) are then balanced on the validation faces (logit-adjustment.ts) before the
 * test faces are scored; their test metrics as trained are kept beside.
 */
import { jit, numpy as np, tree, type Array } from "../engine/jax.js";
import { linear, poolTokens, vitFeatures, type Linear, type VitParams } from "../model/vit.js";
import { imageBatch } from "../priors/cache-dataset.js";
import { augmentImage, type AugmentConfig } from "../augment/augment.js";
import { train, type TrainEngineChoice, type TrainProgress } from "../train/train-loop.js";
import { epochOrder, exampleSeed } from "../train/seeding.js";
import { resolveTrainConfig, type TrainConfigInput } from "../train/train-config.js";
import type { LossFn, LossParts } from "../train/train-step.js";
import { random } from "../engine/jax.js";
import { pooledFeaturesOf, type Encoder, type Pooling } from "./features.js";
import { FINETUNE_INIT_STD, initTaskHead } from "./heads.js";
import { taskMetrics, type TaskMetrics } from "./evaluate.js";
import { openModelSelection, type SelectionRecord } from "./model-selection.js";
import type { TaskCaches } from "./task-data.js";
import { labelRowsOf, TRANSFER_TASKS, taskLoss, type LossOptionsOf, type TaskLoss, type TransferTaskName } from "./tasks/index.js";
import { concatFloat32 } from "../engine/host-arrays.js";
import { restoreSelectionMilestones, selectionHooks } from "./selection-milestones.js";
import { type AdjustmentRule, adjustedBias, chooseAdjustment, hostLogits, type LogitAdjustment } from "./logit-adjustment.js";

/**
 * One part of every step's batch: a task's faces for its head, or (with `output`) faces that
 * label only one output of another task's head, e.g. UTKFace's gender for the attribute Male
 * (multitask-run.ts `metaLabels`); such a part has no head of its own.
 */
export type MultitaskTask = {
  /** The task's name, or the meta label's. */
  name: string;
  /** The task whose head it trains, and whose loss, targets and metrics it takes. */
  task: TransferTaskName;
  /** The one output of that head it labels; absent: all of them, and the part owns the head. */
  output?: number;
  data: TaskCaches;
  trainFaces: readonly number[];
  valFaces: readonly number[];
  testFaces: readonly number[];
  /** This task's faces in every step's batch. */
  batch: number;
  weight: number;
  lossOverrides?: Partial<LossOptionsOf[TransferTaskName]>;
};

export type MultitaskOptions = {
  /** Borrowed: training starts from these weights. */
  encoder: Encoder;
  tasks: MultitaskTask[];
  pooling: Pooling;
  runDir: string;
  /** TrainConfigSchema input; `steps` sets the length, and the batch is the tasks' batches together. */
  train: TrainConfigInput;
  engine?: TrainEngineChoice;
  augment?: AugmentConfig;
  dropPath?: number;
  /** Score on the validation faces at every checkpoint and keep the best; `patience` checkpoints without a better score stop the run. */
  selection?: { patience: number | null };
  /** Keep float16 milestones in this folder (selection-milestones.ts), and start from them when `runDir` has no checkpoint. */
  milestone?: string;
  /** The heads to balance on the validation faces after training, each with the rule that chooses its τ (needs `selection`'s validation faces). */
  logitAdjustment?: Partial<Record<TransferTaskName, AdjustmentRule>>;
  /** Score (validation, balancing, test) on the mean of each face's features and its mirror image's, as the model will run. */
  mirrorAverage?: boolean;
  onProgress?: (progress: TrainProgress) => void;
};

export type MultitaskParams = VitParams & { heads: Record<string, Linear> };
type Batch = { images: Array; targets: Record<string, Array> };
type TaskResult = {
  name: string;
  task: TransferTaskName;
  predictions: Float32Array;
  metrics: TaskMetrics;
  baseline: { name: string; value: number };
};
/** A balanced head's adjustment, with its test metrics as trained (before the adjustment). */
export type HeadAdjustment = LogitAdjustment & { testUnadjusted: TaskMetrics };
export type MultitaskResult = {
  params: MultitaskParams;
  results: TaskResult[];
  steps: number;
  selection: SelectionRecord | null;
  logitAdjustment: Partial<Record<TransferTaskName, HeadAdjustment>> | null;
};

/** The logits of the head's output `output` alone [B, 1], or all of them. */
function logitsOf(head: Linear, pooled: Array, output: number | undefined): Array {
  const logits = linear(head, pooled);
  return output === undefined ? logits : logits.slice([], [output, output + 1]);
}

function multitaskLoss(
  tasks: { name: string; task: string; output?: number; loss: TaskLoss; batch: number; weight: number }[],
  encoder: Encoder,
  pooling: Pooling,
  dropPath: number,
): LossFn<MultitaskParams, Batch> {
  return (params, batch, key) => {
    const { heads, ...vit } = params;
    const drop = dropPath > 0 ? { rate: dropPath, key } : (key.dispose(), undefined);
    const pooled = poolTokens(vitFeatures(vit, batch.images, encoder.cfg, drop), pooling);
    const parts: LossParts = {};
    let total: Array | null = null;
    let offset = 0;
    for (const { name, task, output, loss, batch: size, weight } of tasks) {
      // A head may serve several parts (its task's, meta labels'): each use takes a reference.
      const value = loss(logitsOf(tree.ref(heads[task]!), pooled.ref.slice([offset, offset + size], []), output), batch.targets[name]!);
      offset += size;
      parts[name] = value.ref;
      total = total ? total.add(value.mul(weight)) : value.mul(weight);
    }
    pooled.dispose();
    tree.dispose(heads);
    return [total!, parts];
  };
}

/** The faces task `index` contributes to draw `draw`: positions draw·size.. of its endless sequence of seeded epoch orders. */
function taskDraws(seed: number, index: number, faces: readonly number[], size: number): (draw: number) => number[] {
  const taskSeed = (seed ^ Math.imul(0x9e3779b9, index + 1)) >>> 0;
  let order: { epoch: number; indices: Uint32Array } = { epoch: -1, indices: new Uint32Array() };
  return (draw) =>
    globalThis.Array.from({ length: size }, (_, i) => {
      const position = draw * size + i;
      const epoch = Math.floor(position / faces.length);
      if (order.epoch !== epoch) order = { epoch, indices: epochOrder(taskSeed, epoch, faces.length) };
      return faces[order.indices[position % faces.length]!]!;
    });
}

export async function trainMultitask(options: MultitaskOptions): Promise<MultitaskResult> {
  const { encoder, tasks, pooling, mirrorAverage = false } = options;
  const { cfg, normalization } = encoder;
  const total = tasks.reduce((n, t) => n + t.batch, 0);
  const config = { ...options.train, batchSize: total };
  const { seed, accumSteps, checkpointEvery } = resolveTrainConfig(config, total);
  if (options.milestone) await restoreSelectionMilestones(options.runDir, options.milestone);
  const losses = tasks.map((t) => ({
    name: t.name,
    task: t.task,
    output: t.output,
    batch: t.batch,
    weight: t.weight,
    loss: taskLoss(t.task, labelRowsOf(t.data.labels, t.data.columns.length, t.trainFaces), t.lossOverrides as never).loss,
  }));
  const draws = tasks.map((t, i) => taskDraws(seed, i, t.trainFaces, t.batch));
  const owners = tasks.filter((t) => t.output === undefined);
  const heads = Object.fromEntries(
    owners.map((t) => [t.task, jit((head: Linear, pooled: Array) => TRANSFER_TASKS[t.task].predict(linear(head, pooled)))]),
  );
  const size = (t: MultitaskTask) => t.data.cache.index.options.size;
  const pooledOf = (params: MultitaskParams, t: MultitaskTask, faces: readonly number[]) => {
    const { heads: _, ...vit } = params;
    return pooledFeaturesOf({ params: vit, cfg, normalization }, t.data.cache, faces, { pooling, mirrorAverage }, options.engine);
  };
  /**
   * Each task's pooled test features under fixed params. The end of a run scores them twice,
   * before and after logit adjustment, but encodes them once, and once for the parts that share
   * their faces (a meta label's part and the part of its `faces` task).
   */
  const testPooledOnce = (params: MultitaskParams) => {
    const encoded: { t: MultitaskTask; pooled: Promise<Float32Array> }[] = [];
    const sameFaces = (a: MultitaskTask, b: MultitaskTask) =>
      a.data.cache === b.data.cache && a.testFaces.length === b.testFaces.length && a.testFaces.every((f, i) => f === b.testFaces[i]);
    return (t: MultitaskTask) => {
      const done = encoded.find((e) => sameFaces(e.t, t));
      if (done) return done.pooled;
      const pooled = pooledOf(params, t, t.testFaces);
      encoded.push({ t, pooled });
      return pooled;
    };
  };
  const predict = async (params: MultitaskParams, t: MultitaskTask, pooled: Float32Array, faces: readonly number[]) => {
    const all = (await heads[t.task]!(
      tree.ref(params.heads[t.task]!),
      np.array(pooled).reshape([faces.length, cfg.embedDim]),
    ).data()) as Float32Array;
    return t.output === undefined ? all : columnOf(all, all.length / faces.length, t.output);
  };
  const evaluate = async (
    params: MultitaskParams,
    facesOf: (t: MultitaskTask) => readonly number[],
    among: readonly MultitaskTask[] = tasks,
    pooledFor: (t: MultitaskTask) => Promise<Float32Array> = (t) => pooledOf(params, t, facesOf(t)),
  ): Promise<TaskResult[]> => {
    const results: TaskResult[] = [];
    for (const t of among) {
      const faces = [...facesOf(t)];
      const labels = t.data.labelsOf(faces);
      const predictions = await predict(params, t, await pooledFor(t), faces);
      const width = t.data.columns.length;
      results.push({
        name: t.name,
        task: t.task,
        predictions,
        metrics: taskMetrics(t.task, predictions, labels, faces.length),
        baseline: TRANSFER_TASKS[t.task].trivialBaseline(t.data.labelsOf(t.trainFaces), labels, width),
      });
    }
    return results;
  };
  /** Chooses each listed head's adjustment on its validation faces by its rule and moves it into the head's bias. */
  const adjustHeads = async (
    params: MultitaskParams,
    testPooled: (t: MultitaskTask) => Promise<Float32Array>,
    rules: Partial<Record<TransferTaskName, AdjustmentRule>>,
  ) => {
    const balanced = owners.filter((t) => rules[t.task] !== undefined);
    const unadjusted = await evaluate(params, (t) => t.testFaces, balanced, testPooled);
    const chosen: Partial<Record<TransferTaskName, HeadAdjustment>> = {};
    for (const [i, t] of balanced.entries()) {
      const head = params.heads[t.task]!;
      const weight = (await head.weight.ref.data()) as Float32Array;
      const bias = (await head.bias.ref.data()) as Float32Array;
      const logits = hostLogits(await pooledOf(params, t, t.valFaces), weight, bias);
      const [valLabels, trainLabels] = [t.data.labelsOf(t.valFaces), t.data.labelsOf(t.trainFaces)];
      const adjustment = await chooseAdjustment(t.task, logits, valLabels, trainLabels, rules[t.task]);
      head.bias.dispose();
      head.bias = np.array(adjustedBias(t.task, bias, adjustment));
      chosen[t.task] = { ...adjustment, testUnadjusted: unadjusted[i]!.metrics };
    }
    return chosen;
  };
  const selector = options.selection
    ? await openModelSelection<MultitaskParams>({
        runDir: options.runDir,
        metric: "validation improvement over the trivial baselines (mean over tasks)",
        higherIsBetter: true,
        valFaces: tasks.reduce((n, t) => n + t.valFaces.length, 0),
        patience: options.selection.patience,
        score: async (params) => meanImprovement(await evaluate(params, (t) => t.valFaces)),
      })
    : null;
  try {
    await selector?.catchUp();
    let params: MultitaskParams;
    let steps = selector?.record.stoppedAt ?? 0;
    if (selector?.record.stoppedAt == null) {
      const result = await train<MultitaskParams, Batch>({
        runDir: options.runDir,
        ...options.engine,
        config,
        init: (key) => {
          const keys = np.unstack(random.split(key, owners.length));
          const own = Object.fromEntries(
            owners.map((t, i) => [
              t.task,
              initTaskHead(keys[i]!, cfg.embedDim, TRANSFER_TASKS[t.task].numOutputs(t.data.columns), { initStd: FINETUNE_INIT_STD }).head,
            ]),
          );
          return { ...tree.ref(encoder.params), heads: own };
        },
        loss: multitaskLoss(losses, encoder, pooling, options.dropPath ?? 0),
        data: {
          // One "epoch" in the log is one pass over the task that takes the most steps to go round.
          size: total * Math.max(...tasks.map((t) => Math.ceil(t.trainFaces.length / t.batch))),
          batch: (_indices, at) => {
            const draw = at.step * accumSteps + at.microBatch;
            let offset = 0;
            const images: Float32Array[] = [];
            const targets: Record<string, Array> = {};
            tasks.forEach((t, i) => {
              const faces = draws[i]!(draw);
              const start = offset;
              const augment =
                options.augment &&
                ((image: Uint8Array, position: number) =>
                  augmentImage(image, size(t), exampleSeed(seed, at, start + position), options.augment!));
              images.push(imageBatch(t.data.cache, faces, normalization.mean, normalization.std, augment || undefined));
              targets[t.name] = TRANSFER_TASKS[t.task].targets(labelRowsOf(t.data.labels, t.data.columns.length, faces));
              offset += faces.length;
            });
            const s = size(tasks[0]!);
            return { images: np.array(concatFloat32(images)).reshape([total, 3, s, s]), targets };
          },
        },
        ...selectionHooks(selector, options.milestone, checkpointEvery),
        onProgress: options.onProgress,
      });
      steps = result.step;
      params = selector ? (tree.dispose(result.params), await selector.bestParams()) : result.params;
    } else {
      params = await selector!.bestParams();
    }
    const testPooled = testPooledOnce(params);
    const rules = options.logitAdjustment ?? {};
    const logitAdjustment = Object.keys(rules).length > 0 ? await adjustHeads(params, testPooled, rules) : null;
    const results = await evaluate(params, (t) => t.testFaces, tasks, testPooled);
    return { params, results, steps, selection: selector?.record ?? null, logitAdjustment };
  } finally {
    Object.values(heads).forEach((f) => f.dispose());
  }
}

/** Column `column` of a row-major [N, width] matrix. */
export function columnOf(matrix: Float32Array, width: number, column: number): Float32Array {
  return Float32Array.from({ length: matrix.length / width }, (_, i) => matrix[i * width + column]!);
}

/** Mean over tasks of value / baseline (baseline / value where lower is better). */
export function meanImprovement(results: readonly Pick<TaskResult, "task" | "metrics" | "baseline">[]): number {
  const ratios = results.map(({ task, metrics, baseline }) =>
    TRANSFER_TASKS[task].headline.higherIsBetter ? metrics.headline.value / baseline.value : baseline.value / metrics.headline.value,
  );
  return ratios.reduce((a, b) => a + b, 0) / ratios.length;
}
