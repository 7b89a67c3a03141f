/**
 * A fine-tuning run that has finished is kept as its outcome, not its weights: `finished.json`
 * holds its test predictions (float32, base64), its model selection record and its training time.
 * A resumed transfer run reads it instead of loading the best checkpoint and predicting again, and
 * a milestone folder (selection-milestones.ts) that keeps it drops the run's float16 weights, so
 * that a study's records hold weights only for the run still training.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { configChanges } from "../config-changes.js";
import { FacepriorError } from "../errors.js";
import { writeJsonAtomic } from "../io/atomic-write.js";
import { readJsonFileIfExists } from "../io/json-file.js";
import { BEST_FILE, RECORD_FILE, type SelectionRecord } from "./model-selection.js";
import { LOG_FILE } from "../train/run-state.js";
import { MILESTONE_FILE } from "./selection-milestones.js";

export const FINISHED_FILE = "finished.json";

export type FinishedRun = {
  /** The test faces' predictions, face by face. */
  predictions: Float32Array;
  selection: SelectionRecord | null;
  augmented: boolean;
  /** How long the run took when it trained. */
  seconds: number;
};

const FinishedRunSchema = z.strictObject({
  /** The training config the run was given; another config trains again, as a checkpoint would refuse it. */
  train: z.record(z.string(), z.unknown()),
  testFaces: z.number().int().positive(),
  predictions: z.base64(),
  selection: z.custom<SelectionRecord>((value) => value === null || typeof value === "object").nullable(),
  augmented: z.boolean(),
  seconds: z.number().nonnegative(),
});

/** The float32 values `base64` holds, or null when its bytes are not whole float32 values. */
function predictionsOf(base64: string): Float32Array | null {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.byteLength % 4 !== 0) return null;
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The run a finished.json belongs to: its training config and its number of test faces. */
export type FinishedRunIdentity = { train: object; testFaces: number };

/** Why `raw` is not the outcome of the run `identity`, or its outcome. */
function checkFinishedRun(raw: unknown, { train, testFaces }: FinishedRunIdentity): FinishedRun | string {
  const parsed = FinishedRunSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `${issue.path.join(".") || "the file"}: ${issue.message}`;
  }
  const changed = configChanges(parsed.data.train, train);
  if (changed.length > 0) return `it was trained under another config: ${changed.join(", ")}`;
  const predictions = predictionsOf(parsed.data.predictions);
  if (parsed.data.testFaces !== testFaces || !predictions || predictions.length === 0 || predictions.length % testFaces !== 0)
    return `its predictions are not for the run's ${testFaces} test faces`;
  const { selection, augmented, seconds } = parsed.data;
  return { predictions, selection, augmented, seconds };
}

/**
 * The run kept in the first of `folders` that has one, checked against the run's training config
 * and test faces; undefined when none has. A file of another run is an error naming it.
 */
export async function readFinishedRun(folders: readonly string[], identity: FinishedRunIdentity): Promise<FinishedRun | undefined> {
  for (const folder of folders) {
    const path = join(folder, FINISHED_FILE);
    const fix = "Delete it to train the run again.";
    const raw = await readJsonFileIfExists(path, { code: "RUN_STATE", fix });
    if (raw === undefined) continue;
    const run = checkFinishedRun(raw, identity);
    if (typeof run === "string") throw new FacepriorError("RUN_STATE", `${path}: is not this run's outcome (${run}). ${fix}`);
    return run;
  }
  return undefined;
}

/**
 * Writes `run` to every folder of `folders` (atomically); from a milestone folder it then removes
 * the run's weights, which nothing needs any more.
 */
export async function keepFinishedRun(
  run: FinishedRun,
  { train, testFaces }: FinishedRunIdentity,
  folders: { runDir: string; milestone?: string },
) {
  const bytes = Buffer.from(run.predictions.buffer, run.predictions.byteOffset, run.predictions.byteLength);
  const record = {
    train,
    testFaces,
    predictions: bytes.toString("base64"),
    selection: run.selection,
    augmented: run.augmented,
    seconds: run.seconds,
  };
  await writeJsonAtomic(join(folders.runDir, FINISHED_FILE), record);
  if (!folders.milestone) return;
  await mkdir(folders.milestone, { recursive: true });
  await writeJsonAtomic(join(folders.milestone, FINISHED_FILE), record);
  for (const file of [MILESTONE_FILE, BEST_FILE, RECORD_FILE, LOG_FILE]) await rm(join(folders.milestone, file), { force: true });
}
