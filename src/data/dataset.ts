/**
 * The in-memory dataset every loader returns (`manifest.csv` folders and the benchmark
 * adapters alike): rows of a relative path, the absolute file, numeric labels and free-form
 * meta, plus the rule that splits it. Images are not decoded here.
 */
import { access } from "node:fs/promises";
import { FacepriorError } from "../errors.js";
import type { TaskName } from "./tasks.js";

export const DATASET_FORMATS = [
  "manifest",
  "celeba",
  "lfwa",
  "rafdb",
  "affectnet",
  "fer2013-csv",
  "fer2013-folders",
  "utkface",
  "agedb",
  "morph",
  "bp4d",
  "disfa",
  "ckplus",
] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Pixels held in memory, for sources that store them in a table rather than as files (FER2013's csv). */
export type InlinePixels = { width: number; height: number; channels: 1 | 3; data: Uint8Array };

export type DatasetRow = {
  /** Position in `rows`; split and subset files refer to rows by it. */
  index: number;
  /** Relative to the dataset root, forward slashes (for inline pixels: `<table>#<line>`). */
  path: string;
  /** Absolute image file (for inline pixels: the table file). */
  file: string;
  /** One number per label column: 0/1, a class index, or years. Empty for the `none` task. */
  labels: number[];
  meta: Record<string, string>;
  pixels?: InlinePixels;
};

/**
 * How a dataset is split (interpreted by `splits.ts`), chosen by the loader:
 * - `all-train`: unlabelled pretraining data, every row trains.
 * - `meta`: an official split written in a meta column, e.g. `fer2013_usage` or `split`.
 * - `hash`: 80/10/10 (or `fractions`) by a seeded hash of the file name or of `meta.subject`.
 * - `folds`: subject-exclusive folds by `meta.subject`; fixed subject lists, or a count for
 *   sorted subjects dealt round-robin.
 */
export type SplitRule =
  | { kind: "all-train" }
  | { kind: "meta"; column: string; train: readonly string[]; val: readonly string[]; test: readonly string[] }
  | { kind: "hash"; by: "file" | "subject"; fractions: readonly [number, number, number] }
  | { kind: "folds"; source: string; folds: number | readonly (readonly string[])[] };

export type Dataset = {
  /** Absolute folder the row paths are relative to. */
  root: string;
  /** The folder's name, used in messages. */
  name: string;
  format: DatasetFormat;
  task: TaskName;
  labelColumns: string[];
  rows: DatasetRow[];
  split: SplitRule;
  /** Problems that did not stop loading (skipped lines, rows without meta), each in error form. */
  warnings: string[];
};

export const DEFAULT_HASH_FRACTIONS = [0.8, 0.1, 0.1] as const;

/** A place in a source file, for messages: `fer2013/manifest.csv line 14`. */
export type SourceLine = { file: string; line?: number };

export function where(at: SourceLine | string): string {
  if (typeof at === "string") return at;
  return at.line === undefined ? at.file : `${at.file} line ${at.line}`;
}

/** `<file, line>: <problem>. <fix>` as a FacepriorError with code BAD_DATASET. */
export function datasetError(at: SourceLine | string, problem: string, fix: string): FacepriorError {
  return new FacepriorError("BAD_DATASET", `${where(at)}: ${problem}. ${fix}`);
}

/** Up to `limit` quoted names and how many more, for messages about long lists. */
export function someOf(names: readonly string[], limit = 5): string {
  const shown = names
    .slice(0, limit)
    .map((name) => `"${name}"`)
    .join(", ");
  return names.length > limit ? `${shown} and ${names.length - limit} more` : shown;
}

/**
 * Rows whose image file is not on disk (rows with inline pixels never are). Loading does not
 * check this; preparation reports it per image.
 */
export async function findMissingImages(dataset: Dataset, concurrency = 64): Promise<DatasetRow[]> {
  const missing: boolean[] = new Array(dataset.rows.length).fill(false);
  let next = 0;
  const worker = async () => {
    while (next < dataset.rows.length) {
      const row = dataset.rows[next++];
      if (row.pixels) continue;
      await access(row.file).catch(() => (missing[row.index] = true));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return dataset.rows.filter((row) => missing[row.index]);
}
