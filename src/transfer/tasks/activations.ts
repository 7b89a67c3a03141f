/**
 * Each task's head activation, read off the task table, for the package's main entry (src/index.ts):
 * typed by the labelled tasks of data/tasks.ts, since the table's own types reach jax-js's,
 * which the main entry's types stay clear of.
 */
import type { TaskName } from "../../data/tasks.js";
import type { HeadActivation } from "../../model/head-activations.js";
import { TRANSFER_TASK_NAMES, TRANSFER_TASKS } from "./index.js";

export const TASK_ACTIVATIONS: Readonly<Record<Exclude<TaskName, "none">, HeadActivation>> = Object.freeze(
  Object.fromEntries(TRANSFER_TASK_NAMES.map((task) => [task, TRANSFER_TASKS[task].activation])) as Record<
    Exclude<TaskName, "none">,
    HeadActivation
  >,
);
