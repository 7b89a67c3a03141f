/**
 * A fine-tune with model selection, kept restartable on a new machine: a folder (in the
 * repository, say) holds float16 copies of what the run folder needs to go on,
 *
 *   milestone.safetensors   the latest checkpoint's weights and position (train-loop.ts writes it)
 *   best.safetensors        the best checkpoint so far, as model selection chose it
 *   selection.json          the selection's record (model-selection.ts)
 *   log.jsonl               the run's log up to the milestone (train-loop.ts copies it)
 *
 * A run folder without a checkpoint starts from them: it restarts warm from the milestone (fresh
 * AdamW moments), and selection goes on with the same record and best weights.
 */
import { copyFile, mkdir } from "node:fs/promises";
import { pathExists } from "../io/path-exists.js";
import { join } from "node:path";
import { writeJsonAtomic } from "../io/atomic-write.js";
import { readJsonFileIfExists } from "../io/json-file.js";
import { milestoneOfCheckpoint, restoreMilestone } from "../train/run-state.js";
import type { Tree } from "../train/tree-names.js";
import { BEST_FILE, RECORD_FILE, type ModelSelection, type SelectionRecord } from "./model-selection.js";

export const MILESTONE_FILE = "milestone.safetensors";

/** Starts `runDir` from the milestones in `folder` when it has no checkpoint of its own and the folder has a milestone. */
export async function restoreSelectionMilestones(runDir: string, folder: string): Promise<void> {
  const milestone = join(folder, MILESTONE_FILE);
  if (!(await pathExists(milestone)) || !(await restoreMilestone(runDir, milestone))) return;
  const record = (await readJsonFileIfExists(join(folder, RECORD_FILE), {
    code: "RUN_STATE",
    fix: `Delete it and ${BEST_FILE} there to select again from the milestone on.`,
  })) as SelectionRecord | undefined;
  if (record && (await pathExists(join(folder, BEST_FILE)))) {
    await copyFile(join(folder, BEST_FILE), join(runDir, BEST_FILE));
    await writeJsonAtomic(join(runDir, RECORD_FILE), record);
  }
}

/** After selection scored the checkpoint at `path`: the best in float16 when it is the new best, and the record. */
async function mirrorSelection(folder: string, record: SelectionRecord, saved: { step: number; path: string }): Promise<void> {
  await mkdir(folder, { recursive: true });
  if (record.best?.step === saved.step) await milestoneOfCheckpoint(saved.path, join(folder, BEST_FILE));
  await writeJsonAtomic(join(folder, RECORD_FILE), record);
}

/**
 * The train loop's checkpoint hook and milestone for a run with model selection (or without, null)
 * that keeps its milestones in `folder` (or none, undefined): selection scores each checkpoint,
 * then the folder gets the best and the record; the loop writes the milestone every `every` steps.
 */
export function selectionHooks<P extends Tree>(selector: ModelSelection<P> | null, folder: string | undefined, every: number) {
  return {
    onCheckpoint: selector
      ? async (saved: { step: number; path: string; params: P }) => {
          const verdict = await selector.onCheckpoint(saved);
          if (folder) await mirrorSelection(folder, selector.record, saved);
          return verdict;
        }
      : undefined,
    ...(folder ? { milestone: { path: join(folder, MILESTONE_FILE), every } } : {}),
  };
}
