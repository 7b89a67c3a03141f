/**
 * A task's labelled data as the transfer runs use it: the caches of one or more datasets with the
 * same labels (the first one's splits and test faces; the others add training faces), and the
 * label columns a task scores.
 */
import { loadDataset } from "../data/load-dataset.js";
import type { Dataset, DatasetFormat } from "../data/dataset.js";
import { holdOutVal, splitDataset, type Split } from "../data/splits.js";
import { FacepriorError } from "../errors.js";
import { concatCaches, facesOfRows, gather, loadCacheDataset, type CacheDataset } from "../priors/cache-dataset.js";
import { TRANSFER_TASKS, type TransferTaskName } from "./tasks/index.js";

export function checkTask(cache: CacheDataset, task: TransferTaskName): void {
  const holds = cache.index.dataset.task;
  if (holds === task) return;
  const fix = holds === "none" ? "Use the cache of a labelled dataset" : `Use the task ${holds}`;
  throw new FacepriorError(
    "BAD_ARGUMENT",
    `task ${task}: the cache ${cache.index.dataset.root} holds ${holds === "none" ? "no labels" : `${holds} labels`}. ${fix}.`,
    { option: "task" },
  );
}

/** The label columns a task scores (its `scoredColumns`, e.g. the AUs with enough positives), else all. */
export function scoredColumns(task: TransferTaskName, labels: Float32Array, columns: readonly string[], minPositives?: number): number[] {
  return TRANSFER_TASKS[task].scoredColumns?.(labels, columns, minPositives) ?? columns.map((_, c) => c);
}

/** Keeps columns `keep` of labels [N, C]. */
function selectColumns(labels: Float32Array, width: number, keep: number[]): Float32Array {
  const count = labels.length / width;
  const out = new Float32Array(count * keep.length);
  for (let i = 0; i < count; i++) keep.forEach((c, j) => (out[i * keep.length + j] = labels[i * width + c]!));
  return out;
}

/** The split with a validation part: the dataset's own, else `fraction` of train held out (by file or subject). */
export function withVal(dataset: Dataset, split: Split, fraction: number, seed: number): Split {
  return split.val.length > 0 ? split : holdOutVal(dataset, split, fraction, seed);
}

/** Labels of `cache` in `keep` columns, checking they are the columns of the first dataset. */
function scoredLabels(cache: CacheDataset, columns: readonly string[], keep: number[]): Float32Array {
  const own = cache.index.dataset.labelColumns;
  if (own.join() !== columns.join()) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `${cache.index.dataset.root}: has label columns ${JSON.stringify(own)}, the first dataset ${JSON.stringify(columns)}. Combine datasets with the same labels.`,
    );
  }
  return selectColumns(cache.tensors.labels!.data as Float32Array, own.length, keep);
}

/** An extra dataset's cache with its dataset and its training and validation faces, in its own numbering; never its test faces. */
async function extraTrainingFaces(cache: CacheDataset): Promise<{ dataset: Dataset; faces: number[] }> {
  const dataset = await loadDataset(cache.index.dataset.root, cache.index.dataset.format as DatasetFormat);
  if (dataset.split.kind === "folds") {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `${cache.index.dataset.root}: ${dataset.name} is split by subject folds, so it has no one training part to add. Use it as the first dataset.`,
    );
  }
  const split = splitDataset(dataset);
  return { dataset, faces: facesOfRows(cache, [...split.train, ...split.val]) };
}

/** An extra dataset's cache: its folder, where its faces start in the joint cache, and the faces it adds (its own numbering). */
export type ExtraCache = { dir: string; cache: CacheDataset; dataset: Dataset; offset: number; faces: number[] };

/** One task's caches loaded and joined: faces 0..primary.count-1 are the first dataset's. */
export type TaskCaches = {
  primary: CacheDataset;
  dataset: Dataset;
  /** The joint cache (the primary alone when there are no extras). */
  cache: CacheDataset;
  /** The scored label columns and the joint labels [cache.count, columns.length]. */
  columns: string[];
  labels: Float32Array;
  /** The extra datasets' training and validation faces, in the joint cache. */
  extraFaces: number[];
  /** The same faces per extra dataset, in its own cache. */
  extras: ExtraCache[];
  labelsOf(faces: readonly number[]): Float32Array;
};

export async function loadTaskCaches(task: TransferTaskName, cacheDirs: readonly string[]): Promise<TaskCaches> {
  const [primary, ...extras] = await Promise.all(cacheDirs.map(loadCacheDataset));
  if (!primary) throw new FacepriorError("BAD_ARGUMENT", `${task}: no cache given. Pass at least one.`);
  [primary, ...extras].forEach((c) => checkTask(c, task));
  const dataset = await loadDataset(primary.index.dataset.root, primary.index.dataset.format as DatasetFormat);
  const allColumns = primary.index.dataset.labelColumns;
  const keep = scoredColumns(task, primary.tensors.labels!.data as Float32Array, allColumns);
  const columns = keep.map((c) => allColumns[c]!);
  const cache = concatCaches([primary, ...extras]);
  const labels = Float32Array.from([primary, ...extras].flatMap((c) => [...scoredLabels(c, allColumns, keep)]));
  let offset = primary.count;
  const extraCaches: ExtraCache[] = [];
  for (const [i, extra] of extras.entries()) {
    extraCaches.push({ dir: cacheDirs[i + 1]!, cache: extra, offset, ...(await extraTrainingFaces(extra)) });
    offset += extra.count;
  }
  const extraFaces = extraCaches.flatMap(({ offset, faces }) => faces.map((face) => face + offset));
  const labelsOf = (faces: readonly number[]) =>
    gather({ dtype: "F32", shape: [cache.count, columns.length], data: labels }, faces).data as Float32Array;
  return { primary, dataset, cache, columns, labels, extraFaces, extras: extraCaches, labelsOf };
}

/** The meta column `column` (meta.csv) of each face of the joint cache, undefined where its row has none. */
export function metaOfFaces(data: TaskCaches, column: string): (string | undefined)[] {
  const parts = [{ cache: data.primary, dataset: data.dataset }, ...data.extras];
  return parts.flatMap(({ cache, dataset }) => Array.from(cache.rows, (row) => dataset.rows[row]?.meta[column]));
}
