/**
 * Whether a finished cell was made under the settings its cell has now. A cell's metrics.json
 * records its training overrides, fine-tuning recipe, seeds and pooling; when the study's config
 * has changed them since (a block's training budget, say), the cell's numbers no longer answer for
 * it: the study runs it again and the report leaves the old numbers out.
 */
import { configChanges } from "../config-changes.js";
import { readJsonFileIfExists } from "../io/json-file.js";
import { DEFAULT_FINETUNE_RECIPE } from "../transfer/finetune-recipe.js";
import type { StudyCell, StudyConfig } from "./study-config.js";

/** The settings of a cell that its metrics.json records (run-transfer.ts), as the config gives them now. */
function settingsOf(cell: StudyCell, config: StudyConfig) {
  return {
    train: cell.train ?? {},
    recipe: cell.mode === "finetune" ? (cell.recipe ?? DEFAULT_FINETUNE_RECIPE) : null,
    seeds: config.seeds,
    pooling: config.pooling,
  };
}

/**
 * A finished cell's metrics.json at `file`: absent, or its content, made under the cell's settings
 * (current) or under others (changed: `changes` lists them, e.g. "train.steps (unset) -> 300").
 */
export type CellRecord = { state: "absent" } | { state: "current" | "changed"; metrics: unknown; changes: string[] };

export async function readCellRecord(file: string, cell: StudyCell, config: StudyConfig): Promise<CellRecord> {
  const recorded = await readJsonFileIfExists(file, {
    code: "BAD_CONFIG",
    fix: "Delete the cell's folder, and run the study again to redo that cell.",
  });
  if (recorded === undefined) return { state: "absent" };
  const expected = settingsOf(cell, config);
  const fields = typeof recorded === "object" && recorded !== null ? (recorded as Record<string, unknown>) : {};
  const saved = Object.fromEntries(Object.keys(expected).map((key) => [key, fields[key]]));
  const changes = configChanges(saved, expected);
  return { state: changes.length === 0 ? "current" : "changed", metrics: recorded, changes };
}
