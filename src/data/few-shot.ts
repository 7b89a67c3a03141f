/**
 * Few-shot subsets of a train split (METHOD §3), deterministic per seed:
 * - `full`: the whole train split.
 * - `ratio:<f>`: round(f x N) rows, at least 1. Rows are ranked once by `unitHash(seed, path)`;
 *   ahead of that ranking go a few "coverage" rows: for each label column (AU, attribute) or
 *   class (expression) in order, the best-ranked train row positive for it, unless a row picked
 *   before already covers it. Every subset is a prefix of this one order, so for a seed the
 *   subsets of growing ratios are nested, and each holds a positive of every label once it has
 *   at least as many rows as coverage rows (when the split has a positive at all).
 * - `kshot:<k>`: for class tasks (expression), the k best-ranked rows of each class; a class
 *   with fewer than k train rows is an error that names it. Nested in k too.
 * Subsets are saved as JSON (protocol, seed, split, sorted indices and their paths), and a
 * saved subset is checked against the dataset's paths when read back.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { FacepriorError, invalidArgument } from "../errors.js";
import { writeJsonAtomic } from "../io/atomic-write.js";
import type { Dataset } from "./dataset.js";
import { unitHash } from "./splits.js";
import { TASKS, TASK_NAMES } from "./tasks.js";

export type FewShotProtocol = { kind: "full" } | { kind: "ratio"; ratio: number } | { kind: "kshot"; k: number };

const PROTOCOL_FORMS = '"full", "ratio:<f>" with 0 < f <= 1 (e.g. ratio:0.01), or "kshot:<k>" with k a positive integer (e.g. kshot:5)';

export function parseProtocol(text: string, argument = "protocol"): FewShotProtocol {
  const trimmed = typeof text === "string" ? text.trim() : "";
  if (trimmed === "full") return { kind: "full" };
  const match = /^(ratio|kshot):(.+)$/.exec(trimmed);
  if (match && match[1] === "ratio" && /^(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(match[2])) {
    const ratio = Number(match[2]);
    if (ratio > 0 && ratio <= 1) return { kind: "ratio", ratio };
  }
  if (match && match[1] === "kshot" && /^[1-9]\d*$/.test(match[2])) return { kind: "kshot", k: Number(match[2]) };
  throw invalidArgument(argument, PROTOCOL_FORMS, text);
}

export function formatProtocol(protocol: FewShotProtocol): string {
  if (protocol.kind === "full") return "full";
  return protocol.kind === "ratio" ? `ratio:${protocol.ratio}` : `kshot:${protocol.k}`;
}

/** For each coverage group (label column or class), whether a row is positive for it. */
function coverageGroups(dataset: Dataset): ((labels: number[]) => boolean)[] {
  const label = TASKS[dataset.task].label;
  if (label.kind === "class") return label.classes.map((_, c) => (labels) => labels[0] === c);
  if (label.kind === "binary") return dataset.labelColumns.map((_, j) => (labels) => labels[j] === 1);
  return [];
}

function ranked(dataset: Dataset, train: readonly number[], seed: number): number[] {
  for (const index of train) {
    if (!Number.isInteger(index) || !dataset.rows[index]) {
      throw invalidArgument("train", `row indices of ${dataset.name} (0-${dataset.rows.length - 1})`, index);
    }
  }
  const keyed = [...new Set(train)].map((index) => ({ index, u: unitHash(seed, dataset.rows[index].path) }));
  return keyed.sort((a, b) => a.u - b.u || a.index - b.index).map((item) => item.index);
}

/** The one order all ratio subsets of a seed are prefixes of: coverage rows, then the ranking. */
function ratioOrder(dataset: Dataset, order: number[]): number[] {
  const groups = coverageGroups(dataset);
  const covered = new Array<boolean>(groups.length).fill(false);
  const first: number[] = [];
  groups.forEach((positive, g) => {
    if (covered[g]) return;
    const index = order.find((i) => positive(dataset.rows[i].labels));
    if (index === undefined) return;
    first.push(index);
    groups.forEach((other, h) => (covered[h] ||= other(dataset.rows[index].labels)));
  });
  const chosen = new Set(first);
  return [...first, ...order.filter((index) => !chosen.has(index))];
}

/** The sorted row indices of a few-shot subset of `train`. */
export function fewShotIndices(dataset: Dataset, train: readonly number[], protocol: FewShotProtocol, seed: number): number[] {
  if (!Number.isSafeInteger(seed)) throw invalidArgument("seed", "an integer", seed);
  const order = ranked(dataset, train, seed);
  let picked: number[];
  if (protocol.kind === "full") {
    picked = order;
  } else if (protocol.kind === "ratio") {
    picked = ratioOrder(dataset, order).slice(0, Math.max(1, Math.round(protocol.ratio * order.length)));
  } else {
    const label = TASKS[dataset.task].label;
    if (label.kind !== "class") {
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `protocol "${formatProtocol(protocol)}": k-shot needs a class task (expression), ${dataset.name} holds ${dataset.task} labels. Use ratio:<f>.`,
      );
    }
    picked = label.classes.flatMap((name, c) => {
      const rows = order.filter((index) => dataset.rows[index].labels[0] === c);
      if (rows.length < protocol.k) {
        throw new FacepriorError(
          "BAD_ARGUMENT",
          `protocol "${formatProtocol(protocol)}": class "${name}" has ${rows.length} rows in the train split of ${dataset.name}, fewer than ${protocol.k}. Use a smaller k, or ratio:<f>.`,
        );
      }
      return rows.slice(0, protocol.k);
    });
  }
  return picked.sort((a, b) => a - b);
}

export const SUBSET_FORMAT = "faceprior-subset/1";

const subsetSchema = z.object({
  format: z.literal(SUBSET_FORMAT),
  dataset: z.string(),
  task: z.enum(TASK_NAMES),
  protocol: z.string(),
  seed: z.number().int(),
  split: z.string(),
  indices: z.array(z.number().int().nonnegative()),
  paths: z.array(z.string()),
});

/** A saved subset: what made it, the sorted row indices, and their paths (for readers and checks). */
export type FewShotSubset = z.infer<typeof subsetSchema>;

/** `split` says where `train` came from, e.g. `describeSplit(dataset, { seed })`. */
export function makeFewShotSubset(
  dataset: Dataset,
  train: readonly number[],
  protocol: FewShotProtocol | string,
  seed: number,
  split: string,
): FewShotSubset {
  const parsed = typeof protocol === "string" ? parseProtocol(protocol) : protocol;
  const indices = fewShotIndices(dataset, train, parsed, seed);
  return {
    format: SUBSET_FORMAT,
    dataset: dataset.name,
    task: dataset.task,
    protocol: formatProtocol(parsed),
    seed,
    split,
    indices,
    paths: indices.map((index) => dataset.rows[index].path),
  };
}

export async function saveFewShotSubset(file: string, subset: FewShotSubset): Promise<void> {
  await writeJsonAtomic(file, subset);
}

function badSubset(file: string, problem: string, fix: string): FacepriorError {
  return new FacepriorError("BAD_DATASET", `${file}: ${problem}. ${fix}`);
}

/** Reads a saved subset and checks that it still fits `dataset`: same task, indices in range and sorted, same paths. */
export async function loadFewShotSubset(file: string, dataset: Dataset): Promise<FewShotSubset> {
  const text = await readFile(file, "utf8").catch((error) => {
    throw badSubset(file, `cannot be read (${(error as Error).message})`, "Pass a subset file that makeFewShotSubset saved.");
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw badSubset(file, `is not JSON (${(error as Error).message})`, "Regenerate the subset.");
  }
  const parsed = subsetSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badSubset(file, `field "${issue.path.join(".")}" is invalid (${issue.message})`, "Regenerate the subset.");
  }
  const subset = parsed.data;
  parseProtocol(subset.protocol, `${file}: protocol`);
  const regenerate = `Regenerate the subset for this dataset (seed ${subset.seed}, ${subset.protocol}).`;
  if (subset.task !== dataset.task)
    throw badSubset(
      file,
      `is a subset for the ${subset.task} task, ${dataset.name} holds ${dataset.task} labels`,
      "Pass the dataset the subset was made from.",
    );
  if (subset.paths.length !== subset.indices.length) {
    throw badSubset(file, `has ${subset.indices.length} indices but ${subset.paths.length} paths`, regenerate);
  }
  subset.indices.forEach((index, k) => {
    if (k > 0 && index <= subset.indices[k - 1])
      throw badSubset(file, `indices are not sorted and distinct (${subset.indices[k - 1]} then ${index})`, regenerate);
  });
  subset.indices.forEach((index, k) => {
    const row = dataset.rows[index];
    if (!row) throw badSubset(file, `index ${index} is past the last row of ${dataset.name} (${dataset.rows.length} rows)`, regenerate);
    if (row.path !== subset.paths[k]) {
      throw badSubset(
        file,
        `row ${index} is "${subset.paths[k]}" in the subset but "${row.path}" in ${dataset.name} (the dataset changed)`,
        regenerate,
      );
    }
  });
  return subset;
}
