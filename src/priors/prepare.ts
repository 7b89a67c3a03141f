/**
 * `prepare`: a dataset in, a prior cache out (see prior-cache.ts). Shards of rows are handed to a
 * pool of worker threads, each with its own teacher; finished shards are not redone, so a
 * killed run resumes where it stopped; log.jsonl records each shard as it lands. A shard on
 * disk is kept only while it reads back whole and its rows are unchanged (its fingerprint);
 * otherwise it is rebuilt. The split is checked before any image is read, and at the end the
 * whole cache is read back once to write report.json, overlays.png and splits.json.
 *
 * With `shard` (one part of a job spread over machines) only that part's rows are prepared,
 * and the folder also gets whole-cache.json, the cache.json `faceprior merge` writes for the
 * whole dataset (prior-cache.ts, cache-merge.ts). splits.json is always the whole dataset's.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { FacepriorError } from "../errors.js";
import type { Dataset } from "../data/dataset.js";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic-write.js";
import { openJsonlLog } from "../io/jsonl-log.js";
import { itemsOfShard, shardName, type ShardSpec } from "../shard/shard-spec.js";
import { addToSummary, newSummary, splitsOf, writeCacheReport, type PrepareReport, type StaleShard } from "./cache-report.js";
import {
  CACHE_FORMAT,
  CACHE_VERSION,
  cacheIndexPath,
  cacheIndexText,
  readCacheIndex,
  readShard,
  shardFingerprint,
  wholeIndexPath,
  type CacheIndex,
  type CacheOptions,
} from "./prior-cache.js";
import type { ShardJob, WorkerMessage } from "./prepare-worker.js";

export type { PrepareReport, StaleShard } from "./cache-report.js";

export type PrepareOptions = CacheOptions & {
  workers: number;
  /** Prepare only this part of the rows, for `faceprior merge` to join with the others. */
  shard?: ShardSpec;
  /** Called after every image with the images done so far (this run and earlier ones) and the total. */
  onProgress?: (done: number, total: number) => void;
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

/** Why a shard on disk cannot be kept (its rows changed, or it does not read back), or null. */
async function staleReason(
  out: string,
  shard: CacheIndex["shards"][number],
  earlier: CacheIndex | null,
  i: number,
): Promise<string | null> {
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

function planIndex(dataset: Dataset, options: CacheOptions): CacheIndex {
  return {
    format: CACHE_FORMAT,
    version: CACHE_VERSION,
    options,
    dataset: {
      root: dataset.root,
      name: dataset.name,
      format: dataset.format,
      task: dataset.task,
      labelColumns: dataset.labelColumns,
      rows: dataset.rows.length,
    },
    shards: planShards(dataset, options),
  };
}

/**
 * The rows of job shard `shard` as a dataset of their own (rows keep their numbers), its index,
 * and the index of the whole dataset, whose SHA-256 the part's index records.
 */
export function planJobShard(
  dataset: Dataset,
  options: CacheOptions,
  shard: ShardSpec,
): { part: Dataset; index: CacheIndex; whole: CacheIndex } {
  const whole = planIndex(dataset, options);
  const part = { ...dataset, rows: itemsOfShard(dataset.rows, shard, (row) => row.path).map(({ item }) => item) };
  const jobShard = { ...shard, whole: createHash("sha256").update(cacheIndexText(whole)).digest("hex") };
  return { part, whole, index: { ...planIndex(part, options), jobShard } };
}

/** What differs between the cache on disk and this run, so that resuming would mix two caches. */
function resumeConflicts(earlier: CacheIndex, index: CacheIndex): string[] {
  const differs: string[] = (["size", "pad", "patchSize", "minScore", "shardSize"] as const).filter(
    (k) => earlier.options[k] !== index.options[k],
  );
  // With fingerprints, rows added to or removed from the manifest only redo the shards they touch.
  const fingerprinted = earlier.shards.every((s) => s.fingerprint !== undefined);
  if (earlier.dataset.root !== index.dataset.root || (!fingerprinted && earlier.dataset.rows !== index.dataset.rows))
    differs.push("dataset");
  const [was, now] = [earlier.jobShard, index.jobShard];
  if (was?.index !== now?.index || was?.count !== now?.count)
    differs.push(`shard (it is ${was ? `shard ${shardName(was)}` : "not sharded"})`);
  return differs;
}

/**
 * Writes this run's cache index into `out`, after checking it against one left by an earlier
 * run; shards of that run that cannot be kept are deleted (and returned) first.
 */
async function openIndex(index: CacheIndex, out: string): Promise<StaleShard[]> {
  const earlier = await readCacheIndex(out);
  const differs = earlier ? resumeConflicts(earlier, index) : [];
  if (earlier && differs.length > 0) {
    throw new FacepriorError(
      "BAD_CONFIG",
      `${cacheIndexPath(out)}: this cache was prepared with other ${differs.join(", ")} (${JSON.stringify(earlier.options)}, ${earlier.dataset.root}). Use another output folder, or the same options to resume.`,
    );
  }
  const stale = await removeStaleShards(out, index, earlier);
  await writeJsonAtomic(cacheIndexPath(out), index);
  return stale;
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

export async function prepareCache(dataset: Dataset, out: string, options: PrepareOptions): Promise<PrepareReport> {
  const start = performance.now();
  const { workers, onProgress, shard, ...cacheOptions } = options;
  const splits = splitsOf(dataset); // a bad split value fails here, before any image is read
  const { part, index, whole } = shard
    ? planJobShard(dataset, cacheOptions, shard)
    : { part: dataset, index: planIndex(dataset, cacheOptions), whole: null };
  const stale = await openIndex(index, out);
  if (whole) await writeFileAtomic(wholeIndexPath(out), cacheIndexText(whole));
  const pending = index.shards.map((s, i) => ({ ...s, i })).filter((s) => !existsSync(join(out, s.file)));
  const total = part.rows.length;
  let done = total - pending.reduce((n, s) => n + s.rowCount, 0);
  onProgress?.(done, total);
  const jobs: ShardJob[] = pending.map((s) => ({
    shard: s.i,
    file: join(out, s.file),
    rows: part.rows.slice(s.firstRow, s.firstRow + s.rowCount),
    options: cacheOptions,
    labelCount: part.labelColumns.length,
  }));
  const thisRunImages = total - done;
  const log = await openJsonlLog(join(out, "log.jsonl"));
  try {
    log.write({
      event: "start",
      images: total,
      pending_shards: jobs.length,
      pending_images: thisRunImages,
      workers,
      options: cacheOptions,
      ...(shard ? { job_shard: shard } : {}),
    });
    for (const s of stale) log.write({ event: "rebuild", ...s });
    await runPool(
      jobs,
      workers,
      () => onProgress?.(++done, total),
      ({ shard: i, faces, failures, seconds }) =>
        log.write({
          event: "shard",
          shard: i,
          faces,
          failures: failures.length,
          seconds,
          images_per_s: (faces + failures.length) / seconds,
        }),
    );
    log.write({ event: "done", seconds: (performance.now() - start) / 1000 });
  } finally {
    await log.close();
  }
  const seconds = (performance.now() - start) / 1000;
  const summary = newSummary(index);
  for (const s of index.shards) addToSummary(summary, await readShard(join(out, s.file)));
  return writeCacheReport(summary, out, splits, { seconds, images: thisRunImages, workers, rebuilt: stale });
}
