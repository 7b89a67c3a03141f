/**
 * Runs a study's grid (study-config.ts): one transfer run per cell into
 * `<out>/<mode>/<task>/<protocol>/<encoder>/`, then the report (report.ts). A cell whose
 * metrics.json exists is done and skipped, so a killed study resumes where it stopped; one made,
 * or started, under settings the config has changed since (cell-settings.ts) is moved aside and
 * run again. The encoders' features and frozen tokens are shared by every cell through
 * `<out>/features/`. With `records`, finished cells and the one in progress are also kept
 * elsewhere (study-records.ts), so that the study outlives its folder.
 */
import { join } from "node:path";
import { pathExists } from "../io/path-exists.js";
import { FacepriorError } from "../errors.js";
import { saveRunConfig, type OnConfig } from "../config-schema.js";
import { readJsonFileIfExists } from "../io/json-file.js";
import { runTransfer } from "../transfer/run-transfer.js";
import type { EncoderSource, ExtractOptions } from "../transfer/features.js";
import { CELL_SETTINGS_FILE, readCellRecord, writeCellSettings } from "./cell-settings.js";
import { copyIfMissing, dropProgressRecords, exchangeRecords, MILESTONES_FOLDER, setAside } from "./study-records.js";
import { cellDir, studyCells, type StudyCell, type StudyConfig } from "./study-config.js";

export type StudyProgress = {
  index: number;
  total: number;
  cell: StudyCell;
  state: "skipped" | "changed" | "started" | "done";
  /** How long the cell took: done, and skipped as its metrics.json records. */
  seconds?: number;
  headline?: string;
  /** Changed: how the settings it was made under differ from the config's, whether it had finished, and where it was moved. */
  changes?: string[];
  finished?: boolean;
  aside?: string;
};

export type StudyOptions = {
  config: StudyConfig;
  out: string;
  /** How frozen features and tokens are extracted (engine, threads). */
  extract?: ExtractOptions;
  /**
   * A folder (in the repository, say) that keeps each finished cell's metrics.json, and for the
   * fine-tuning cell in progress its finished runs' outcomes and the float16 milestones of the run
   * still training: a study folder lost with its machine takes its finished cells and runs from
   * here and restarts the run in progress warm.
   */
  records?: string;
  /** Global seed of the scratch encoder. */
  scratchSeed?: number;
  onProgress?: (progress: StudyProgress) => void;
  onStage?: (stage: string) => void;
  /** Told the study's config, defaults filled and paths absolute, and study.json, which keeps it. */
  onConfig?: OnConfig;
};

/**
 * For a report without running anything: each cell finished in `records` under the config's
 * settings but not in the study folder `out` is copied into it (the records are only read).
 * Returns how many were, and how many records were left out, made under settings changed since.
 */
export async function takeRecords(
  config: StudyConfig,
  out: string,
  records: string,
  onConfig?: OnConfig,
): Promise<{ taken: number; changed: number }> {
  await claimOutput(out, config, onConfig);
  let [taken, changed] = [0, 0];
  for (const cell of studyCells(config)) {
    const [from, to] = [join(records, cellDir(cell)), join(out, cellDir(cell))];
    const kept = await readCellRecord(join(from, "metrics.json"), cell, config);
    if (kept.state === "changed") changed++;
    if (kept.state !== "current") continue;
    if ((await readCellRecord(join(to, "metrics.json"), cell, config)).state === "changed") await setAside(to);
    if (await copyIfMissing(join(from, "metrics.json"), join(to, "metrics.json"))) taken++;
  }
  return { taken, changed };
}

/**
 * Refuses to resume into a folder that holds another study (by name); saves the config in
 * study.json. The same study's config may have changed: its cells are checked one by one.
 */
async function claimOutput(out: string, config: StudyConfig, onConfig?: OnConfig): Promise<void> {
  const file = join(out, "study.json");
  const previous = (await readJsonFileIfExists(file, {
    code: "BAD_CONFIG",
    fix: "Delete it, then run the same study again to resume, or use a new output folder.",
  })) as StudyConfig | undefined;
  if (previous && previous.name !== config.name) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `out ${out}: holds another study, "${previous.name}" (${file}), not "${config.name}". Use a new output folder, or that study's config to resume it.`,
      { option: "out" },
    );
  }
  await saveRunConfig(file, config, onConfig);
}

function encoderSource(config: StudyConfig, name: string, scratchSeed: number): EncoderSource {
  const file = config.encoders[name]!;
  return file === "scratch" ? { scratch: { arch: config.arch, seed: scratchSeed } } : { checkpoint: file };
}

type CellStatus =
  | { state: "pending" }
  | { state: "finished"; seconds?: number }
  | { state: "changed"; changes: string[]; finished: boolean };

/**
 * Where a cell stands: finished when its metrics.json, in its run folder or in the records, was
 * made under the cell's settings (with the time it records); changed when either was made under
 * others, or when it was started under others and has not finished.
 */
async function cellStatus(config: StudyConfig, out: string, cell: StudyCell, records?: string): Promise<CellStatus> {
  const dirs = [out, ...(records ? [records] : [])].map((root) => join(root, cellDir(cell)));
  const read = (file: string) => Promise.all(dirs.map((dir) => readCellRecord(join(dir, file), cell, config)));
  const [finished, started] = await Promise.all([read("metrics.json"), read(CELL_SETTINGS_FILE)]);
  for (const record of finished) if (record.state === "changed") return { state: "changed", changes: record.changes, finished: true };
  for (const record of finished) {
    if (record.state === "current") return { state: "finished", seconds: (record.content as { seconds?: number }).seconds };
  }
  for (const record of started) if (record.state === "changed") return { state: "changed", changes: record.changes, finished: false };
  return { state: "pending" };
}

/**
 * Checks the encoder files and cache folders of the cells still to run, before the first runs: a
 * resumed study needs nothing of the cells it has finished (on a new machine, say, the encoders of
 * its finished probe cells).
 */
async function checkInputs(config: StudyConfig, pending: StudyCell[]): Promise<void> {
  for (const name of new Set(pending.map((cell) => cell.encoder))) {
    const file = config.encoders[name]!;
    if (file !== "scratch" && !(await pathExists(file))) {
      throw new FacepriorError(
        "BAD_CONFIG",
        `encoder "${name}": ${file} does not exist. Pretrain it first (scripts/pretrain-study.sh) or fix the path in the study config.`,
      );
    }
  }
  for (const task of new Set(pending.map((cell) => cell.task))) {
    const dir = config.data[task]!;
    if (!(await pathExists(join(dir, "cache.json")))) {
      throw new FacepriorError(
        "BAD_CONFIG",
        `data.${task}: ${dir} is not a prior cache (no cache.json). Make it with faceprior prepare (scripts/prepare-shared-data.sh).`,
      );
    }
  }
}

export async function runStudy(options: StudyOptions): Promise<{ cells: StudyCell[]; ran: number; skipped: number }> {
  const { config, out, scratchSeed = 0 } = options;
  const cells = studyCells(config);
  const statuses = await Promise.all(cells.map((cell) => cellStatus(config, out, cell, options.records)));
  const pending = cells.filter((_, i) => statuses[i]!.state !== "finished");
  await checkInputs(config, pending);
  await claimOutput(out, config, options.onConfig);
  let ran = 0;
  for (const [index, cell] of cells.entries()) {
    const dir = join(out, cellDir(cell));
    const kept = options.records && join(options.records, cellDir(cell));
    const status = statuses[index]!;
    if (status.state === "changed") {
      const aside = await setAside(dir, kept);
      const { changes, finished } = status;
      options.onProgress?.({ index, total: cells.length, cell, state: "changed", changes, finished, aside });
    } else if (kept) await exchangeRecords(dir, kept);
    if (status.state === "finished") {
      options.onProgress?.({ index, total: cells.length, cell, state: "skipped", seconds: status.seconds });
      continue;
    }
    options.onProgress?.({ index, total: cells.length, cell, state: "started" });
    await writeCellSettings(kept ? [dir, kept] : [dir], cell, config);
    const { encoder, ...transferConfig } = cell;
    const summary = await runTransfer({
      ...transferConfig,
      seeds: config.seeds,
      pooling: config.pooling,
      cacheDir: config.data[cell.task]!,
      init: encoderSource(config, encoder, scratchSeed),
      out: dir,
      featureDir: join(out, "features"),
      extract: options.extract,
      onStage: options.onStage,
      ...(kept && cell.mode === "finetune" ? { milestone: join(kept, MILESTONES_FOLDER) } : {}),
    });
    if (kept) {
      await exchangeRecords(dir, kept);
      await dropProgressRecords(kept);
    }
    ran++;
    const { name, mean, std } = summary.headline;
    options.onProgress?.({
      index,
      total: cells.length,
      cell,
      state: "done",
      seconds: summary.seconds,
      headline: `${name} ${mean.toFixed(4)} ± ${std.toFixed(4)}`,
    });
  }
  return { cells, ran, skipped: cells.length - ran };
}
