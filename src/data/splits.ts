/**
 * Train/val/test row indices (METHOD §3), by the rule each loader attached to its dataset:
 * - `meta`: the official split in a meta column (FER2013 usage; CelebA, RAF-DB, AffectNet).
 * - `hash`: a row goes to train/val/test by `unitHash(seed, key)` against the cumulative
 *   fractions (80/10/10), key = the file's base name or `meta.subject`. A row's split depends
 *   only on its own key and the seed, so adding rows never moves others; sizes are close to,
 *   not exactly, the fractions.
 * - `folds`: subject-exclusive folds; `fold` f is the test set, the other folds train, val is
 *   empty. Count folds deal the sorted distinct subjects round-robin (subject i to fold i mod k);
 *   list folds (BP4D, DISFA) are the published subject lists.
 * - `all-train`: everything trains (pretraining data).
 * Where a protocol has no val set, `holdOutVal` moves a seeded share of train into val.
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";
import { FacepriorError, invalidArgument } from "../errors.js";
import { datasetError, type Dataset, type DatasetRow, type SplitRule } from "./dataset.js";

export type Split = { train: number[]; val: number[]; test: number[] };
export type SplitOptions = {
  /** Seed of hash splits (default 0). */
  seed?: number;
  /** Test fold of fold splits, 0-based; required for them. */
  fold?: number;
};

/** A number in [0, 1) from sha1 of `${seed}:${key}`: stable across runs, machines and Node versions. */
export function unitHash(seed: number, key: string): number {
  const digest = createHash("sha1").update(`${seed}:${key}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** Sorted distinct subjects dealt round-robin into k folds. */
export function roundRobinFolds(subjects: Iterable<string>, k: number): string[][] {
  const sorted = [...new Set(subjects)].sort();
  const folds: string[][] = Array.from({ length: k }, () => []);
  sorted.forEach((subject, i) => folds[i % k].push(subject));
  return folds;
}

function metaValue(dataset: Dataset, row: DatasetRow, column: string): string {
  const value = row.meta[column];
  if (value === undefined || value === "") {
    throw datasetError(
      `${dataset.name} row ${row.index} "${row.path}"`,
      `has no ${column} in its meta`,
      `Add ${column} for it (meta.csv), the ${describeRule(dataset.split)} split needs it.`,
    );
  }
  return value;
}

/** The folds of a fold rule as subject lists. */
export function subjectFolds(dataset: Dataset): string[][] {
  const rule = dataset.split;
  if (rule.kind !== "folds")
    throw invalidArgument("dataset", `a dataset split into folds (${dataset.name} splits by ${rule.kind})`, dataset.name);
  if (typeof rule.folds !== "number") return rule.folds.map((fold) => [...fold]);
  return roundRobinFolds(
    dataset.rows.map((row) => metaValue(dataset, row, "subject")),
    rule.folds,
  );
}

/** How many folds a dataset has (1 when its split is not fold-based). */
export function foldCount(dataset: Dataset): number {
  const rule = dataset.split;
  if (rule.kind !== "folds") return 1;
  return typeof rule.folds === "number" ? rule.folds : rule.folds.length;
}

function describeRule(rule: SplitRule): string {
  switch (rule.kind) {
    case "all-train":
      return "all-train";
    case "meta":
      return `${rule.column} (train ${rule.train.join("/")}, val ${rule.val.join("/") || "none"}, test ${rule.test.join("/")})`;
    case "hash":
      return `${rule.fractions.map((f) => Math.round(f * 100)).join("/")} by hash of ${rule.by === "file" ? "file name" : "subject"}`;
    case "folds":
      return `${typeof rule.folds === "number" ? rule.folds : rule.folds.length} subject folds (${rule.source})`;
  }
}

/** The split in words, saved with few-shot subsets: rule, plus seed or fold where they matter. */
export function describeSplit(dataset: Dataset, options: SplitOptions = {}): string {
  const rule = dataset.split;
  const text = `${dataset.name}: ${describeRule(rule)}`;
  if (rule.kind === "hash") return `${text}, seed ${options.seed ?? 0}`;
  if (rule.kind === "folds" && options.fold !== undefined) return `${text}, test fold ${options.fold}`;
  return text;
}

export function splitDataset(dataset: Dataset, options: SplitOptions = {}): Split {
  const rule = dataset.split;
  switch (rule.kind) {
    case "all-train":
      return { train: dataset.rows.map((row) => row.index), val: [], test: [] };
    case "meta":
      return metaSplit(dataset, rule);
    case "hash":
      return hashSplit(dataset, rule, checkSeed(options.seed ?? 0));
    case "folds":
      return foldSplit(dataset, rule, options.fold);
  }
}

function metaSplit(dataset: Dataset, rule: Extract<SplitRule, { kind: "meta" }>): Split {
  const split: Split = { train: [], val: [], test: [] };
  for (const row of dataset.rows) {
    const value = metaValue(dataset, row, rule.column);
    const part = rule.train.includes(value) ? "train" : rule.val.includes(value) ? "val" : rule.test.includes(value) ? "test" : undefined;
    if (!part) {
      const known = [...rule.train, ...rule.val, ...rule.test].join(", ");
      throw datasetError(
        `${dataset.name} row ${row.index} "${row.path}"`,
        `has ${rule.column} "${value}", expected one of ${known}`,
        "Fix the value in its meta.",
      );
    }
    split[part].push(row.index);
  }
  return split;
}

function hashSplit(dataset: Dataset, rule: Extract<SplitRule, { kind: "hash" }>, seed: number): Split {
  const split: Split = { train: [], val: [], test: [] };
  const [train, val] = rule.fractions;
  for (const row of dataset.rows) {
    const key = rule.by === "file" ? basename(row.path) : metaValue(dataset, row, "subject");
    const u = unitHash(seed, key);
    split[u < train ? "train" : u < train + val ? "val" : "test"].push(row.index);
  }
  return split;
}

function foldSplit(dataset: Dataset, rule: Extract<SplitRule, { kind: "folds" }>, fold: number | undefined): Split {
  const folds = subjectFolds(dataset);
  if (fold === undefined || !Number.isInteger(fold) || fold < 0 || fold >= folds.length) {
    throw invalidArgument("fold", `the test fold, an integer 0-${folds.length - 1}, for ${dataset.name}'s ${describeRule(rule)}`, fold);
  }
  const foldOf = new Map<string, number>();
  folds.forEach((subjects, f) => subjects.forEach((subject) => foldOf.set(subject, f)));
  const split: Split = { train: [], val: [], test: [] };
  for (const row of dataset.rows) {
    const subject = metaValue(dataset, row, "subject");
    const f = foldOf.get(subject);
    if (f === undefined) {
      throw datasetError(
        `${dataset.name} row ${row.index} "${row.path}"`,
        `has subject "${subject}", which is in none of the ${folds.length} folds`,
        "Check the subject name, or drop the row.",
      );
    }
    split[f === fold ? "test" : "train"].push(row.index);
  }
  return split;
}

function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw invalidArgument("seed", "an integer", seed);
  return seed;
}

/**
 * Moves a seeded `fraction` of train into val (for protocols without a val set). Rows with a
 * `meta.subject` move by subject, so val stays subject-exclusive; others move by file name.
 */
export function holdOutVal(dataset: Dataset, split: Split, fraction: number, seed = 0): Split {
  if (!(fraction > 0 && fraction < 1)) throw invalidArgument("fraction", "a number between 0 and 1 (exclusive)", fraction);
  checkSeed(seed);
  const train: number[] = [];
  const val = [...split.val];
  for (const index of split.train) {
    const row = dataset.rows[index];
    if (!row)
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `split.train: index ${index} is not a row of ${dataset.name} (${dataset.rows.length} rows). Split this dataset again.`,
      );
    const key = row.meta.subject ? `subject:${row.meta.subject}` : basename(row.path);
    (unitHash(seed, `val:${key}`) < fraction ? val : train).push(index);
  }
  return { train, val: val.sort((a, b) => a - b), test: [...split.test] };
}
