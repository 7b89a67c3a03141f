/**
 * The files that close a prior cache: report.json (faces found, every failure with its reason,
 * timings), splits.json and overlays.png (priors drawn on an even sample of faces). The summary
 * is gathered block by block, from the shard files as prepare reads them back or as merge
 * writes them, so both produce the same report from the same blocks.
 */
import { join } from "node:path";
import type { Dataset } from "../data/dataset.js";
import { describeSplit, foldCount, splitDataset, type Split } from "../data/splits.js";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic-write.js";
import { contactSheet } from "./overlay.js";
import { shardSample, type CacheIndex, type CacheOptions, type Shard, type ShardFailure } from "./prior-cache.js";
import type { FaceSample } from "./face-sample.js";

const OVERLAY_FACES = 48;

export type StaleShard = { file: string; reason: string };

export type PrepareReport = {
  dataset: string;
  images: number;
  faces_found: number;
  found_fraction: number;
  failures: ShardFailure[];
  failure_reasons: Record<string, number>;
  /** Shards on disk that were redone this run, and why. */
  rebuilt_shards: StaleShard[];
  timings: {
    this_run_seconds: number;
    this_run_images: number;
    this_run_images_per_second: number;
    total_worker_seconds: number;
    workers: number;
  };
  options: CacheOptions;
  /** A cache that `faceprior merge` joined: how many job shards, and the merge's own seconds. */
  merged?: { shards: number; seconds: number };
};

/** What one run did, for the report's timings. */
export type CacheRun = { seconds: number; images: number; workers: number; rebuilt: StaleShard[]; merged?: PrepareReport["merged"] };

export type CacheSplits = { description: string; splits: Record<string, Split> };

export function splitsOf(dataset: Dataset): CacheSplits {
  if (dataset.split.kind !== "folds") return { description: describeSplit(dataset), splits: { default: splitDataset(dataset) } };
  const folds = Array.from({ length: foldCount(dataset) }, (_, fold) => [`fold${fold}`, splitDataset(dataset, { fold })] as const);
  return { description: describeSplit(dataset, { fold: 0 }).replace(/, test fold 0$/, ""), splits: Object.fromEntries(folds) };
}

function countReasons(failures: ShardFailure[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { reason } of failures) {
    // Group "x.jpg: is truncated (...). Re-export it." and "low-confidence face (score 0.31 ...)" by kind.
    const kind = reason
      .replace(/^\S*: /, "")
      .replace(/\s*\(.*$/, "")
      .replace(/\. .*$/, "")
      .replace(/\.$/, "");
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

export type CacheSummary = { index: CacheIndex; failures: ShardFailure[]; overlay: FaceSample[]; faces: number; workerSeconds: number };

export const newSummary = (index: CacheIndex): CacheSummary => ({ index, failures: [], overlay: [], faces: 0, workerSeconds: 0 });

/** Adds one shard file's faces and failures, in plan order; the first faces of each shard go to the overlay sample. */
export function addToSummary(summary: CacheSummary, shard: Shard): void {
  const n = shard.tensors.rows!.shape[0]!;
  const perShard = Math.max(1, Math.ceil(OVERLAY_FACES / summary.index.shards.length));
  summary.faces += n;
  summary.workerSeconds += shard.info.seconds;
  summary.failures.push(...shard.info.failures);
  for (let i = 0; i < Math.min(perShard, n) && summary.overlay.length < OVERLAY_FACES; i++) {
    const s = shardSample(shard, Math.floor((i * n) / perShard), summary.index.options.size);
    summary.overlay.push({
      ...s,
      image: s.image.slice(),
      parsing: s.parsing.slice(),
      landmarks68: s.landmarks68.slice(),
      mesh: s.mesh.slice(),
    });
  }
}

/** Writes report.json, splits.json and overlays.png into `out`; returns the report. */
export async function writeCacheReport(summary: CacheSummary, out: string, splits: CacheSplits, run: CacheRun): Promise<PrepareReport> {
  const { index } = summary;
  const images = index.dataset.rows;
  const report: PrepareReport = {
    dataset: index.dataset.root,
    images,
    faces_found: summary.faces,
    found_fraction: images === 0 ? 0 : summary.faces / images,
    failures: summary.failures,
    failure_reasons: countReasons(summary.failures),
    rebuilt_shards: run.rebuilt,
    timings: {
      this_run_seconds: run.seconds,
      this_run_images: run.images,
      this_run_images_per_second: run.images / run.seconds,
      total_worker_seconds: summary.workerSeconds,
      workers: run.workers,
    },
    options: index.options,
    ...(run.merged ? { merged: run.merged } : {}),
  };
  await writeJsonAtomic(join(out, "report.json"), report);
  await writeJsonAtomic(join(out, "splits.json"), splits);
  if (summary.overlay.length > 0) await writeFileAtomic(join(out, "overlays.png"), await contactSheet(summary.overlay, 8));
  return report;
}
