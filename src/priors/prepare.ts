/**
 * `prepare`: a dataset in, a prior cache out (see prior-cache.ts). Shards of rows are handed to a
 * pool of worker threads, each with its own teacher; finished shards are not redone, so a
 * killed run resumes where it stopped; log.jsonl records each shard as it lands. A shard on
 * disk is kept only while it reads back whole and its rows are unchanged (its fingerprint);
 * otherwise it is rebuilt. The split is checked before any image is read, and at the end the
 * whole cache is read back once to write report.json, overlays.png and splits.json.
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { FacepriorError } from "../errors.js";
import type { Dataset } from "../data/dataset.js";
import { describeSplit, foldCount, splitDataset, type Split } from "../data/splits.js";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic-write.js";
import { openJsonlLog } from "../io/jsonl-log.js";
import { contactSheet } from "./overlay.js";
import {
  CACHE_FORMAT, CACHE_VERSION, cacheIndexPath, readCacheIndex, readShard, shardFingerprint, shardSample,
  type CacheIndex, type CacheOptions, type ShardFailure,
} from "./prior-cache.js";
import type { FaceSample } from "./face-sample.js";
import type { ShardJob, WorkerMessage } from "./prepare-worker.js";

export type PrepareOptions = CacheOptions & {
  workers: number;
  /** Called after every image with the images done so far (this run and earlier ones) and the total. */
  onProgress?: (done: number, total: number) => void;
};

export type PrepareReport = {
  dataset: string;
  images: number;
  faces_found: number;
  found_fraction: number;
  failures: ShardFailure[];
  failure_reasons: Record<string, number>;
  /** Shards on disk that were redone this run, and why. */
  rebuilt_shards: StaleShard[];
  timings: { this_run_seconds: number; this_run_images: number; this_run_images_per_second: number; total_worker_seconds: number; workers: number };
  options: CacheOptions;
};

function planShards(dataset: Dataset, options: CacheOptions): CacheIndex["shards"] {
  const count = Math.ceil(dataset.rows.length / options.shardSize);
  return Array.from({ length: count }, (_, i) => {
    const firstRow = i * options.shardSize;
    const rowCount = Math.min(options.shardSize, dataset.rows.length - firstRow);
    const fingerprint = shardFingerprint(dataset.rows.slice(firstRow, firstRow + rowCount), options);
    return { file: `shards/shard-${String(i).padStart(5, "0")}.safetensors`, firstRow, rowCount, fingerprint };
  });
}

export type StaleShard = { file: string; reason: string };

/** Why a shard on disk cannot be kept (its rows changed, or it does not read back), or null. */
async function staleReason(out: string, shard: CacheIndex["shards"][number], earlier: CacheIndex | null, i: number): Promise<string | null> {
  const recorded = earlier?.shards[i]?.fingerprint;
  // Caches written before fingerprints were recorded keep their shards, as they always did.
  if (recorded !== undefined && recorded !== shard.fingerprint) return "its rows in the manifest changed";
  try {
    await readShard(join(out, shard.file));
    return null;
  } catch (error) {
    if (error instanceof FacepriorError) return `it is damaged (${error.message})`;
    throw error;
  }
}

/** Deletes the shards on disk that cannot be kept, so that the new plan never vouches for them. */
async function removeStaleShards(out: string, index: CacheIndex, earlier: CacheIndex | null): Promise<StaleShard[]> {
  const stale: StaleShard[] = [];
  for (const [i, shard] of index.shards.entries()) {
    if (!existsSync(join(out, shard.file))) continue;
    const reason = await staleReason(out, shard, earlier, i);
    if (reason === null) continue;
    await rm(join(out, shard.file), { force: true });
    stale.push({ file: shard.file, reason });
  }
  return stale;
}

/**
 * The cache index for this run, checked against one left by an earlier run in `out`; shards
 * of that run that cannot be kept are deleted (and returned) before the new index is written.
 */
async function openIndex(dataset: Dataset, out: string, options: CacheOptions): Promise<{ index: CacheIndex; stale: StaleShard[] }> {
  const index: CacheIndex = {
    format: CACHE_FORMAT,
    version: CACHE_VERSION,
    options,
    dataset: { root: dataset.root, name: dataset.name, format: dataset.format, task: dataset.task, labelColumns: dataset.labelColumns, rows: dataset.rows.length },
    shards: planShards(dataset, options),
  };
  const earlier = await readCacheIndex(out);
  if (earlier) {
    const differs = (["size", "pad", "patchSize", "minScore", "shardSize"] as const).filter((k) => earlier.options[k] !== options[k]);
    if (earlier.dataset.root !== dataset.root || earlier.dataset.rows !== dataset.rows.length) differs.push("dataset" as never);
    if (differs.length > 0) {
      throw new FacepriorError(
        "BAD_CONFIG",
        `${cacheIndexPath(out)}: this cache was prepared with other ${differs.join(", ")} (${JSON.stringify(earlier.options)}, ${earlier.dataset.root}). Use another --out folder, or the same options to resume.`,
      );
    }
  }
  const stale = await removeStaleShards(out, index, earlier);
  await writeJsonAtomic(cacheIndexPath(out), index);
  return { index, stale };
}

type ShardDone = Extract<WorkerMessage, { type: "shard-done" }>;

/** Runs `jobs` on `workers` threads; resolves when all are written. */
function runPool(jobs: ShardJob[], workers: number, onImage: () => void, onShard: (done: ShardDone) => void): Promise<number> {
  if (jobs.length === 0) return Promise.resolve(0);
  const queue = [...jobs];
  let workerSeconds = 0;
  let running = 0;
  return new Promise((resolve, reject) => {
    const threads: Worker[] = [];
    const fail = (error: Error) => {
      for (const t of threads) void t.terminate();
      reject(error);
    };
    const feed = (thread: Worker) => {
      const job = queue.shift();
      if (job) return thread.postMessage(job);
      void thread.terminate();
      if (--running === 0) resolve(workerSeconds);
    };
    for (let i = 0; i < Math.min(workers, jobs.length); i++) {
      const thread = new Worker(new URL("./prepare-worker.js", import.meta.url));
      threads.push(thread);
      running++;
      thread.on("error", fail);
      thread.on("message", (message: WorkerMessage) => {
        if (message.type === "ready") feed(thread);
        else if (message.type === "image") onImage();
        else if (message.type === "shard-done") {
          workerSeconds += message.seconds;
          onShard(message);
          feed(thread);
        } else fail(new Error(`prepare worker: ${message.message}`));
      });
    }
  });
}

function countReasons(failures: ShardFailure[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { reason } of failures) {
    // Group "x.jpg: is truncated (...). Re-export it." and "low-confidence face (score 0.31 ...)" by kind.
    const kind = reason.replace(/^\S*: /, "").replace(/\s*\(.*$/, "").replace(/\. .*$/, "").replace(/\.$/, "");
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

function splitsOf(dataset: Dataset): { description: string; splits: Record<string, Split> } {
  if (dataset.split.kind !== "folds") return { description: describeSplit(dataset), splits: { default: splitDataset(dataset) } };
  const folds = Array.from({ length: foldCount(dataset) }, (_, fold) => [`fold${fold}`, splitDataset(dataset, { fold })] as const);
  return { description: describeSplit(dataset, { fold: 0 }).replace(/, test fold 0$/, ""), splits: Object.fromEntries(folds) };
}

/** Reads every shard back: failures, found faces, and an even sample of faces for the overlays. */
async function summarise(index: CacheIndex, out: string, overlayCount: number) {
  const failures: ShardFailure[] = [];
  const overlay: FaceSample[] = [];
  let faces = 0;
  let workerSeconds = 0;
  const perShard = Math.max(1, Math.ceil(overlayCount / index.shards.length));
  for (const shard of index.shards) {
    const read = await readShard(join(out, shard.file));
    const n = read.tensors.rows!.shape[0]!;
    faces += n;
    workerSeconds += read.info.seconds;
    failures.push(...read.info.failures);
    for (let i = 0; i < Math.min(perShard, n) && overlay.length < overlayCount; i++) {
      const copy = (s: FaceSample): FaceSample => ({ ...s, image: s.image.slice(), parsing: s.parsing.slice(), landmarks68: s.landmarks68.slice(), mesh: s.mesh.slice() });
      overlay.push(copy(shardSample(read, Math.floor((i * n) / perShard), index.options.size)));
    }
  }
  return { failures, overlay, faces, workerSeconds };
}

export async function prepareCache(dataset: Dataset, out: string, options: PrepareOptions): Promise<PrepareReport> {
  const start = performance.now();
  const { workers, onProgress, ...cacheOptions } = options;
  const splits = splitsOf(dataset); // a bad split value fails here, before any image is read
  const { index, stale } = await openIndex(dataset, out, cacheOptions);
  const pending = index.shards.map((s, i) => ({ ...s, i })).filter((s) => !existsSync(join(out, s.file)));
  const total = dataset.rows.length;
  let done = total - pending.reduce((n, s) => n + s.rowCount, 0);
  onProgress?.(done, total);
  const jobs: ShardJob[] = pending.map((s) => ({
    shard: s.i,
    file: join(out, s.file),
    rows: dataset.rows.slice(s.firstRow, s.firstRow + s.rowCount),
    options: cacheOptions,
    labelCount: dataset.labelColumns.length,
  }));
  const thisRunImages = total - done;
  const log = await openJsonlLog(join(out, "log.jsonl"));
  try {
    log.write({ event: "start", images: total, pending_shards: jobs.length, pending_images: thisRunImages, workers, options: cacheOptions });
    for (const shard of stale) log.write({ event: "rebuild", ...shard });
    await runPool(jobs, workers, () => onProgress?.(++done, total), ({ shard, faces, failures, seconds }) =>
      log.write({ event: "shard", shard, faces, failures: failures.length, seconds, images_per_s: (faces + failures.length) / seconds }),
    );
    log.write({ event: "done", seconds: (performance.now() - start) / 1000 });
  } finally {
    await log.close();
  }
  const seconds = (performance.now() - start) / 1000;

  const summary = await summarise(index, out, 48);
  const report: PrepareReport = {
    dataset: dataset.root,
    images: total,
    faces_found: summary.faces,
    found_fraction: summary.faces / total,
    failures: summary.failures,
    failure_reasons: countReasons(summary.failures),
    rebuilt_shards: stale,
    timings: {
      this_run_seconds: seconds,
      this_run_images: thisRunImages,
      this_run_images_per_second: thisRunImages / seconds,
      total_worker_seconds: summary.workerSeconds,
      workers,
    },
    options: cacheOptions,
  };
  await writeJsonAtomic(join(out, "report.json"), report);
  await writeJsonAtomic(join(out, "splits.json"), splits);
  if (summary.overlay.length > 0) await writeFileAtomic(join(out, "overlays.png"), await contactSheet(summary.overlay, 8));
  return report;
}
