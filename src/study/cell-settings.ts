/**
 * Whether a cell was made under the settings its cell has now. A finished cell's metrics.json
 * records its training overrides, fine-tuning recipe, seeds and pooling; when the study's config
 * has changed them since (a block's training budget, say), the cell's numbers no longer answer for
 * it: the study runs it again and the report leaves the old numbers out. A cell in progress keeps
 * the same settings in CELL_SETTINGS_FILE from its start, so that a change made before it finishes
 * restarts it too, instead of its runs' checkpoints refusing the new config.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { configChanges } from "../config-changes.js";
import { writeJsonAtomic } from "../io/atomic-write.js";
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

/** The file in a cell's folders (run folder, records) that holds the settings it was started under. */
export const CELL_SETTINGS_FILE = "cell-settings.json";

/** Records in each of `dirs` the settings `cell` starts under. */
export async function writeCellSettings(dirs: readonly string[], cell: StudyCell, config: StudyConfig): Promise<void> {
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true });
    await writeJsonAtomic(join(dir, CELL_SETTINGS_FILE), settingsOf(cell, config));
  }
}

/**
 * A cell's metrics.json or CELL_SETTINGS_FILE at `file`: absent, or its content, made under the cell's settings
 * (current) or under others (changed: `changes` lists them, e.g. "train.steps (unset) -> 300").
 */
export type CellRecord = { state: "absent" } | { state: "current" | "changed"; content: unknown; changes: string[] };

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
  return { state: changes.length === 0 ? "current" : "changed", content: recorded, changes };
}
