/**
 * The four downstream tasks as one frozen table (METHOD §3), and `taskLoss`, which resolves a
 * task's loss options for a training set and builds the loss from them. Each task is one file
 * holding its `TaskDefinition` (definition.ts); adding a task is a new file and its line in
 * `DEFINITIONS` (its label schema, what a manifest holds, is in data/tasks.ts).
 *
 * | task       | K                 | loss                                    | predict            | headline        |
 * | ---------- | ----------------- | --------------------------------------- | ------------------ | --------------- |
 * | au         | AU columns        | BCE, per-AU positive weights (cap 10)   | sigmoid            | mean F1 ↑       |
 * | expression | 7                 | CE, label smoothing 0.1                 | softmax            | accuracy ↑      |
 * | age        | 101 (ages 0..100) | KL to a Gaussian over ages, σ = 2 (DLDL) | expectation, years | MAE (years) ↓   |
 * | attributes | 40                | BCE                                     | sigmoid            | mean accuracy ↑ |
 */
import type { FinetuneRecipe } from "../finetune-recipe.js";
import type { TaskDefinition, LabelRows, TaskLoss, TransferTaskName } from "./definition.js";
import { AGE_TASK } from "./age.js";
import { ATTRIBUTES_TASK } from "./attributes.js";
import { AU_TASK } from "./au.js";
import { EXPRESSION_TASK } from "./expression.js";

export type { LabelRows, TaskDefinition, TaskLoss, TransferTaskName } from "./definition.js";
export { labelRowsOf } from "./definition.js";

/** One line per task, in the order of tables and of `--task`'s choices. */
const DEFINITIONS = { au: AU_TASK, expression: EXPRESSION_TASK, age: AGE_TASK, attributes: ATTRIBUTES_TASK };

/** Each task's loss options, read off its definition. */
export type LossOptionsOf = { [T in TransferTaskName]: (typeof DEFINITIONS)[T] extends TaskDefinition<infer O> ? O : never };

export type TransferTasks = { readonly [T in TransferTaskName]: TaskDefinition<LossOptionsOf[T]> };

export const TRANSFER_TASKS: TransferTasks = Object.freeze(DEFINITIONS);

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

/** The loss options a fine-tuning recipe sets for `task` (label smoothing and class balance for expression, age balance for age). */
export function recipeLossOverrides<T extends TransferTaskName>(task: T, recipe: FinetuneRecipe): Partial<LossOptionsOf[T]> {
  const definition: TaskDefinition<LossOptionsOf[T]> = TRANSFER_TASKS[task];
  return definition.recipeLossOverrides?.(recipe) ?? {};
}
