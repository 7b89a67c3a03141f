/**
 * What a downstream task is, one `TaskDefinition` per task (the table is in index.ts), for every
 * stage that needs to know: training (how many logits the head gives, how the head starts, the
 * loss, how host labels become targets, how logits become predictions), evaluation (the scored
 * label columns, the metrics, the headline with its direction, the trivial baseline, chance, the
 * run's plot), the study report (title, digits) and the face model (the head's activation and
 * output names). Nothing else switches on a task's name.
 *
 * Device functions (`makeLoss(...)`, `predict`) are pure jax-js, consume their arguments, never
 * read from the host and never branch on data, so they may run inside `jit`. Their static
 * choices (label smoothing, σ, positive weights as plain numbers) are closed over, and arrays
 * built from those numbers become constants of the trace. They work in the dtype of the logits
 * (float32 in training, float64 in the gradient tests).
 *
 * Shapes: B batch, D pooled feature width, K logits per image.
 */
import { numpy as np, type Array } from "../../engine/jax.js";
import type { TaskName } from "../../data/tasks.js";
import { FacepriorError } from "../../errors.js";
import type { HeadActivation } from "../../model/head-activations.js";
import type { ChartSpec } from "../../plot/render-chart.js";
import type { FinetuneRecipe } from "../finetune-recipe.js";
import type { HeadOptions, TaskHead } from "../heads.js";

/** The four labelled tasks. */
export type TransferTaskName = Exclude<TaskName, "none">;

/** Host labels of a batch: one `DatasetRow.labels` per sample. */
export type LabelRows = readonly (readonly number[])[];

/** The label rows of `faces` from labels stored flat as [faces, width]. */
export function labelRowsOf(labels: Float32Array, width: number, faces: readonly number[]): LabelRows {
  return faces.map((f) => [...labels.subarray(f * width, (f + 1) * width)]);
}

/** loss(logits [B, K], targets) => scalar, the mean over the batch; consumes both. */
export type TaskLoss = (logits: Array, targets: Array) => Array;

/** The headline metric (METHOD §3): its name, its direction, and the decimals tables print it with. */
export type Headline = { readonly name: string; readonly higherIsBetter: boolean; readonly digits: number };

/** The headline's value and the secondary metrics, in the order metrics.json stores them. */
export type TaskScores = { value: number; secondary: Record<string, unknown> };

/** What a run's plot draws from: the test faces' predictions and labels, and their metrics. */
export type ScoredFaces = {
  columns: readonly string[];
  /** What `predict` gives, read back: [N, K] or [N]. */
  predictions: Float32Array;
  /** As the cache stores them: [N, C]. */
  labels: Float32Array;
  metrics: Readonly<Record<string, unknown>>;
};

/**
 * How a softmax head's outputs fall into groups that training faces hold unevenly (expression's
 * classes, age's decades), for post-hoc logit adjustment (logit-adjustment.ts).
 */
export type GroupBalance = {
  /** The group of each logit. */
  readonly logitGroups: readonly number[];
  readonly numGroups: number;
  /** A label value's group. */
  groupOf(label: number): number;
  /** The balanced metric to choose the adjustment by, read from the task's metrics. */
  readonly metric: { readonly name: string; readonly higherIsBetter: boolean; of(metrics: Readonly<Record<string, unknown>>): number };
};

/** O: the loss options, plain data that a run logs and saves. */
export type TaskDefinition<O> = {
  readonly task: TransferTaskName;
  /** The task's name in tables and plots. */
  readonly title: string;
  /** What the K outputs are, for messages and the report. */
  readonly outputs: string;
  /** K for a dataset with these label columns; throws when they do not fit the task. */
  numOutputs(labelColumns: readonly string[]): number;
  /** The head on pooled features [B, D] (heads.ts), with K = `numOutputs`. */
  initHead(key: Array, dim: number, numOutputs: number, options?: HeadOptions): TaskHead;
  /**
   * The loss options for a training set: the defaults, with `overrides` on top; options that
   * depend on the data (AU positive weights) are computed from `trainLabels` unless overridden.
   */
  lossOptions(trainLabels: LabelRows, overrides?: Partial<O>): O;
  /** The loss with these options; throws on an option out of range. */
  makeLoss(options: O): TaskLoss;
  /** Host labels -> the targets `makeLoss` takes (float32 [B, K] 0/1, int32 [B] classes, or float32 [B] years). */
  targets(labels: LabelRows): Array;
  /** logits [B, K] -> predictions on device: probabilities [B, K], or ages [B] in years. */
  predict(logits: Array): Array;
  /** What `predict` is in an exported or packed model (face-model/onnx-vit.ts builds it into the graph). */
  readonly activation: HeadActivation;
  /** The names of the head's outputs in a face model, from the scored label columns. */
  outputLabels(labelColumns: readonly string[]): string[];
  /**
   * The label columns a run scores (indices into `columns`), from every face's labels [N, C];
   * `minPositives` overrides the task's own threshold. Absent: every column.
   */
  scoredColumns?(labels: Float32Array, columns: readonly string[], minPositives?: number): number[];
  /** The loss options a fine-tuning recipe sets (finetune-recipe.ts). Absent: none. */
  recipeLossOverrides?(recipe: FinetuneRecipe): Partial<O>;
  readonly headline: Headline;
  /** predictions [N, K] (probabilities; K = 1 for ages [N]) and labels [N, C] -> the task's metrics. */
  score(predictions: Float32Array, labels: Float32Array, k: number): TaskScores;
  /** The headline of a uniform random guess, where that is one number whatever the data. */
  readonly chance?: number;
  /** The trivial baseline of METHOD §3 on `test` labels, knowing the `train` ones; both [N, width]. */
  trivialBaseline(train: Float32Array, test: Float32Array, width: number): { name: string; value: number };
  /** Its groups, where its answers can be balanced after training. Absent: not adjustable. */
  readonly balance?: GroupBalance;
  /** The run's picture: its file name in the run folder and its chart. */
  plot(faces: ScoredFaces): { file: string; spec: ChartSpec };
};

/** A task's definition, frozen; O is given, so the methods are typed from `TaskDefinition`. */
export function defineTask<O>(definition: TaskDefinition<O>): TaskDefinition<O> {
  return Object.freeze(definition);
}

export function taskError(where: string, problem: string, fix: string): FacepriorError {
  return new FacepriorError("BAD_ARGUMENT", `${where}: ${problem}. ${fix}.`);
}

/**
 * One value per row from rows of exactly one label each (class or age), checked by `accepts`;
 * `what` names the value in messages ("an expression class index 0-6").
 */
export function singleLabels(task: TransferTaskName, labels: LabelRows, what: string, accepts: (v: number) => boolean): number[] {
  return labels.map((row, i) => {
    if (row.length !== 1 || !accepts(row[0]!)) {
      throw taskError(`${task} targets, row ${i}`, `labels are ${JSON.stringify(row)}`, `Each row must hold one label, ${what}`);
    }
    return row[0]!;
  });
}

/** Rows of K labels, each 0 or 1, as float32 [B, K]. */
export function binaryLabelMatrix(task: TransferTaskName, labels: LabelRows): Array {
  if (labels.length === 0) throw taskError(`${task} targets`, "there are no rows", "Pass at least one row of labels");
  const k = labels[0]!.length;
  const data = new Float32Array(labels.length * k);
  labels.forEach((row, i) => {
    if (row.length !== k || row.some((v) => v !== 0 && v !== 1)) {
      throw taskError(`${task} targets, row ${i}`, `labels are ${JSON.stringify(row)}`, `Each row must hold ${k} labels, each 0 or 1`);
    }
    data.set(row, i * k);
  });
  return np.array(data).reshape([labels.length, k]);
}

/** K = the number of label columns, for multi-label tasks; at least one. */
export function oneOutputPerColumn(task: TransferTaskName, labelColumns: readonly string[]): number {
  if (labelColumns.length === 0) {
    throw taskError(`${task} head`, "the dataset has no label columns", `Load a ${task} dataset; its label columns set the outputs`);
  }
  return labelColumns.length;
}

/** K fixed by the task, for single-column tasks: checks that the dataset has that one column. */
export function fixedOutputs(task: TransferTaskName, column: string, k: number, labelColumns: readonly string[]): number {
  if (labelColumns.length !== 1 || labelColumns[0] !== column) {
    const problem = `the dataset's label columns are ${JSON.stringify(labelColumns)}`;
    throw taskError(`${task} head`, problem, `A ${task} dataset has the one column "${column}"`);
  }
  return k;
}
