/**
 * The validation faces of the shipped model's multi-task run, for the benches that judge models on
 * them (mirror-average.ts, compare-models.ts): each task's caches as its recipe names them, split
 * as the run split them (the recipe's seed carves the validation faces), so a bench scores exactly
 * the faces the run chose its checkpoint on, and never a test face.
 */
import type { MultitaskTask } from "../src/transfer/multitask-finetune.js";
import { loadMultitaskTasks, readMultitaskConfig, taskCacheDirs } from "../src/transfer/multitask-run.js";

/** The parts of the run of recipe `recipePath` on the caches under `cacheDir`: its tasks, then its meta labels. */
export async function validationTasks(recipePath: string, cacheDir: string): Promise<{ own: MultitaskTask[]; metaParts: MultitaskTask[] }> {
  const recipe = await readMultitaskConfig(recipePath);
  return loadMultitaskTasks(recipe, taskCacheDirs(recipe, {}, cacheDir));
}
