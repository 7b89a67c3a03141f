/**
 * Model selection on a validation split while fine-tuning: at each checkpoint (one per epoch) the
 * parameters are scored on validation faces; the best checkpoint is copied to
 * `<runDir>/best.safetensors`, and with `patience` the run stops after that many checkpoints
 * without improvement. `<runDir>/selection.json` records every score, the best and where the run
 * stopped, so a resumed run continues the same selection (and a stopped one does not train again).
 * Test faces never take part.
 */
import { copyFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { FacepriorError } from "../errors.js";
import { writeJsonAtomic } from "../io/atomic-write.js";
import { readJsonFileIfExists } from "../io/json-file.js";
import { loadRunState, readRunState } from "../train/run-state.js";
import type { Tree } from "../train/tree-names.js";
import { tree } from "../engine/jax.js";

export type SelectionRecord = {
  metric: string;
  higherIsBetter: boolean;
  valFaces: number;
  history: { step: number; value: number }[];
  best: { step: number; value: number } | null;
  /** The step the run stopped early at, or null. */
  stoppedAt: number | null;
};

export type SelectionOptions<P> = {
  runDir: string;
  metric: string;
  higherIsBetter: boolean;
  valFaces: number;
  /** Stop after this many checkpoints without a better score; null: train to the end. */
  patience: number | null;
  /** The validation score of these parameters (borrowed). */
  score: (params: P) => Promise<number>;
};

export const BEST_FILE = "best.safetensors";
export const RECORD_FILE = "selection.json";

export type ModelSelection<P> = {
  record: SelectionRecord;
  /** For the train loop's `onCheckpoint`. */
  onCheckpoint(saved: { step: number; path: string; params: P }): Promise<void | "stop">;
  /** Scores the run's latest checkpoint if a stop between saving and scoring it left it unscored; call before resuming. */
  catchUp(): Promise<void>;
  /** The parameters of the best checkpoint; the caller owns them. */
  bestParams(): Promise<P>;
};

const isBetter = (value: number, best: number, higher: boolean) => (higher ? value > best : value < best);

export async function openModelSelection<P extends Tree>(options: SelectionOptions<P>): Promise<ModelSelection<P>> {
  const { runDir, patience } = options;
  const record = (await readRecord(runDir, options.metric)) ?? {
    metric: options.metric,
    higherIsBetter: options.higherIsBetter,
    valFaces: options.valFaces,
    history: [],
    best: null,
    stoppedAt: null,
  };
  const onCheckpoint = async ({ step, path, params }: { step: number; path: string; params: P }): Promise<void | "stop"> => {
    const value = await options.score(params);
    if (!Number.isFinite(value))
      throw new FacepriorError("NON_FINITE_LOSS", `${runDir}: the validation ${record.metric} at step ${step} is ${value}.`);
    record.history = [...record.history.filter((h) => h.step < step), { step, value }];
    if (!record.best || isBetter(value, record.best.value, record.higherIsBetter)) {
      await copyFile(path, join(runDir, `${BEST_FILE}.tmp`));
      await rename(join(runDir, `${BEST_FILE}.tmp`), join(runDir, BEST_FILE));
      record.best = { step, value };
    }
    const sinceBest = record.history.filter((h) => h.step > record.best!.step).length;
    if (patience !== null && sinceBest >= patience) record.stoppedAt = step;
    await writeJsonAtomic(join(runDir, RECORD_FILE), record);
    return record.stoppedAt === null ? undefined : "stop";
  };
  return {
    record,
    onCheckpoint,
    async catchUp() {
      const latest = await loadRunState(runDir);
      if (!latest) return;
      try {
        const { step } = latest.state.meta;
        if (step > 0 && !record.history.some((h) => h.step === step))
          await onCheckpoint({ step, path: latest.path, params: latest.state.params as P });
      } finally {
        tree.dispose([latest.state.params, latest.state.optState]);
      }
    },
    async bestParams() {
      if (!record.best)
        throw new FacepriorError("RUN_STATE", `${runDir}: no checkpoint was scored on the validation faces, so there is no best one.`);
      const state = await readRunState(join(runDir, BEST_FILE));
      tree.dispose(state.optState);
      return state.params as P;
    },
  };
}

async function readRecord(runDir: string, metric: string): Promise<SelectionRecord | null> {
  const path = join(runDir, RECORD_FILE);
  const record = (await readJsonFileIfExists(path, {
    code: "RUN_STATE",
    fix: `Delete it and ${BEST_FILE} to select again from the next checkpoint.`,
  })) as SelectionRecord | undefined;
  if (!record) return null;
  if (record.metric !== metric)
    throw new FacepriorError("RUN_STATE", `${path}: selects by ${record.metric}, this run by ${metric}. Use a new run directory.`);
  return record;
}
