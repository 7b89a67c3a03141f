/**
 * The four downstream tasks as one frozen table (METHOD §3), and `taskLoss`, which resolves a
 * task's loss options for a training set and builds the loss from them:
 *
 * | task       | K                 | loss                                    | predict            |
 * | ---------- | ----------------- | --------------------------------------- | ------------------ |
 * | au         | AU columns        | BCE, per-AU positive weights (cap 10)   | sigmoid            |
 * | expression | 7                 | CE, label smoothing 0.1                 | softmax            |
 * | age        | 101 (ages 0..100) | KL to a Gaussian over ages, σ = 2 (DLDL) | expectation, years |
 * | attributes | 40                | BCE                                     | sigmoid            |
 */
import type { TaskDefinition, LabelRows, TaskLoss, TransferTaskName } from "./definition.js";
import { AGE_TASK, type AgeLossOptions } from "./age.js";
import { ATTRIBUTES_TASK, type AttributeLossOptions } from "./attributes.js";
import { AU_TASK, type AuLossOptions } from "./au.js";
import { EXPRESSION_TASK, type ExpressionLossOptions } from "./expression.js";

export type { LabelRows, TaskDefinition, TaskLoss, TransferTaskName } from "./definition.js";
export { labelRowsOf } from "./definition.js";
export type { AgeLossOptions, AttributeLossOptions, AuLossOptions, ExpressionLossOptions };

export type LossOptionsOf = {
  au: AuLossOptions;
  expression: ExpressionLossOptions;
  age: AgeLossOptions;
  attributes: AttributeLossOptions;
};

export type TransferTasks = { readonly [T in TransferTaskName]: TaskDefinition<LossOptionsOf[T]> };

export const TRANSFER_TASKS: TransferTasks = Object.freeze({
  au: AU_TASK,
  expression: EXPRESSION_TASK,
  age: AGE_TASK,
  attributes: ATTRIBUTES_TASK,
});

export const TRANSFER_TASK_NAMES = Object.freeze(Object.keys(TRANSFER_TASKS) as TransferTaskName[]);

/**
 * The loss for `task` on a training set: its options (defaults, data-dependent ones from
 * `trainLabels`, then `overrides`), to log and save, and the loss built from them.
 */
export function taskLoss<T extends TransferTaskName>(
  task: T,
  trainLabels: LabelRows,
  overrides: Partial<LossOptionsOf[T]> = {},
): { options: LossOptionsOf[T]; loss: TaskLoss } {
  const definition: TaskDefinition<LossOptionsOf[T]> = TRANSFER_TASKS[task];
  const options = definition.lossOptions(trainLabels, overrides);
  return { options, loss: definition.makeLoss(options) };
}
