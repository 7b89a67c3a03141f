/**
 * A prepare worker thread: loads its own teacher, then turns each shard job it is sent into a
 * shard file (see prior-cache.ts), reporting every image as it goes. One per core.
 */
import { parentPort } from "node:worker_threads";
import type { DatasetRow } from "../data/dataset.js";
import { decodeImageUpright } from "../data/image.js";
import { rowImageInput } from "../data/row-image.js";
import { computeFacePriors } from "./face-priors.js";
import { writeShard, type CachedFace, type CacheOptions, type ShardFailure } from "./prior-cache.js";
import { loadTeacher, type Teacher } from "./teacher.js";

export type ShardJob = { shard: number; file: string; rows: DatasetRow[]; options: CacheOptions; labelCount: number };
export type WorkerMessage =
  | { type: "ready" }
  | { type: "image"; shard: number }
  | { type: "shard-done"; shard: number; faces: number; failures: ShardFailure[]; seconds: number }
  | { type: "error"; message: string };

/** One row to a prepared face, or the reason (in words a user can act on) why not. */
async function prepareRow(row: DatasetRow, teacher: Teacher, options: CacheOptions): Promise<CachedFace | ShardFailure> {
  try {
    const image = await decodeImageUpright(await rowImageInput(row));
    const result = await computeFacePriors(image, teacher, options);
    if (!result.ok) return { path: row.path, row: row.index, reason: result.reason };
    return { sample: result.sample, labels: row.labels, row: row.index, path: row.path, score: result.score };
  } catch (error) {
    // The message names the file and the problem (FacepriorError from decoding, e.g. corrupt).
    return { path: row.path, row: row.index, reason: (error as Error).message };
  }
}

async function runShard(job: ShardJob, teacher: Teacher, port: NonNullable<typeof parentPort>): Promise<void> {
  const start = performance.now();
  const faces: CachedFace[] = [];
  const failures: ShardFailure[] = [];
  for (const row of job.rows) {
    const outcome = await prepareRow(row, teacher, job.options);
    if ("sample" in outcome) faces.push(outcome);
    else failures.push(outcome);
    port.postMessage({ type: "image", shard: job.shard } satisfies WorkerMessage);
  }
  const seconds = (performance.now() - start) / 1000;
  await writeShard(job.file, faces, failures, seconds, job.options, job.labelCount);
  port.postMessage({ type: "shard-done", shard: job.shard, faces: faces.length, failures, seconds } satisfies WorkerMessage);
}

if (parentPort) {
  const port = parentPort;
  const teacher = await loadTeacher();
  port.on("message", (job: ShardJob) => {
    runShard(job, teacher, port).catch((error: Error) =>
      port.postMessage({ type: "error", message: error.message } satisfies WorkerMessage),
    );
  });
  port.postMessage({ type: "ready" } satisfies WorkerMessage);
}
