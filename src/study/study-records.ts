/**
 * A study's records: a folder outside the study folder (in the repository, say) that keeps, per
 * cell, the finished cell's metrics.json, or for the cell in progress the settings it started
 * under, its finished runs' outcomes (finished-run.ts) and the float16 milestones of the run still
 * training (selection-milestones.ts). A study folder lost with its machine takes its cells from
 * here, and a cell made under changed settings is moved aside with its records.
 */
import { cp, mkdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../io/atomic-write.js";
import { pathExists } from "../io/path-exists.js";
import { CELL_SETTINGS_FILE } from "./cell-settings.js";

/** The folder of a cell's records that holds the milestones of its runs while it is in progress. */
export const MILESTONES_FOLDER = "milestones";

/** Copies file `from` to `to` when `from` exists and `to` does not; whether it did. */
export async function copyIfMissing(from: string, to: string): Promise<boolean> {
  if ((await pathExists(to)) || !(await pathExists(from))) return false;
  await mkdir(dirname(to), { recursive: true });
  await writeFileAtomic(to, await readFile(from));
  return true;
}

/** A cell's metrics.json copied to whichever of its run folder and its records lacks it. */
export async function exchangeRecords(dir: string, kept: string): Promise<void> {
  const [here, there] = [join(dir, "metrics.json"), join(kept, "metrics.json")];
  if (!(await copyIfMissing(here, there))) await copyIfMissing(there, here);
}

/**
 * Moves a cell made under changed settings out of the way, keeping it: its run folder becomes
 * `<folder>.superseded-<time>`, and its records (metrics.json, milestones) move into that folder's
 * `records/`. Returns the new folder.
 */
export async function setAside(dir: string, kept?: string): Promise<string> {
  const aside = `${dir}.superseded-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  if (await pathExists(dir)) await rename(dir, aside);
  if (kept && (await pathExists(kept))) {
    await cp(kept, join(aside, "records"), { recursive: true });
    await rm(kept, { recursive: true, force: true });
  }
  return aside;
}

/** Removes from a finished cell's records what only its time in progress needed. */
export async function dropProgressRecords(kept: string): Promise<void> {
  for (const file of [MILESTONES_FOLDER, CELL_SETTINGS_FILE]) await rm(join(kept, file), { recursive: true, force: true });
}
