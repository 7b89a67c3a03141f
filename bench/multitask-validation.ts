/**
 * The validation faces of the shipped model's multi-task run, for the benches that judge models on
 * them (mirror-average.ts, compare-models.ts): each task's caches as scripts/finetune-multitask.sh
 * passes them, split as the run split them (the recipe's seed carves the validation faces), so a
 * bench scores exactly the faces the run chose its checkpoint on, and never a test face.
 */
import type { MultitaskTask } from "../src/transfer/multitask-finetune.js";
import { loadMultitaskTasks, readMultitaskConfig } from "../src/transfer/multitask-run.js";
import type { TransferTaskName } from "../src/transfer/tasks/index.js";

/** Each task's caches, first the one whose validation and test faces count. */
const MULTITASK_CACHES: Record<TransferTaskName, string[]> = {
  expression: ["fer2013", "fer2013_extra"],
  age: ["utkface", "utkface_extra"],
  attributes: ["celebahq_attr"],
  au: ["ckplus_au"],
};

/** The parts of the run of recipe `recipePath` on the caches under `cacheDir`: its tasks, then its meta labels. */
export async function validationTasks(recipePath: string, cacheDir: string): Promise<{ own: MultitaskTask[]; metaParts: MultitaskTask[] }> {
  const recipe = await readMultitaskConfig(recipePath);
  const data = Object.fromEntries(
    Object.entries(MULTITASK_CACHES).map(([task, names]) => [task, names.map((name) => `${cacheDir}/${name}`)]),
  );
  return loadMultitaskTasks(recipe, data);
}
