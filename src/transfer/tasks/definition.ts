/**
 * What a downstream task is to the transfer code, one `TaskDefinition` per task (the table is in
 * index.ts): how many logits the head gives, how the head starts, the loss, how host labels
 * become targets, and how logits become predictions.
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

/** O: the loss options, plain data that a run logs and saves. */
export type TaskDefinition<O> = {
  readonly task: TransferTaskName;
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
};

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
