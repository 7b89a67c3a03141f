/**
 * How fast `faceprior merge` joins the shards of a sharded prepare, for docs/SCALE.md's
 * projection, on real prepared faces and without running the teacher again: a prepared cache
 * is laid out as the n folders `prepare --shard i/n` would write (the same plans, from
 * prepare's own planning; each shard file filled with the faces the cache already holds), then
 * merged, and the merged shard files are checked against the cache's own.
 *
 *   npm run build && node dist/bench/merge-throughput.js [--cache ../cache/celebahq_attr] [--shards 3,30,300] [--scratch dir]
 *
 * The cache's dataset must be where its cache.json says, unchanged (its plan is recomputed
 * from it; caches prepared before shard fingerprints were recorded get them). The shard files are freshly written, so the merge reads them from the page cache:
 * the rates are the merge's own work, not a shared filesystem's. Results also go to
 * bench/results/merge-throughput.json.
 */
import "./errors-without-stack.js";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { TensorMap } from "../src/checkpoint/safetensors.js";
import { writeSafetensors } from "../src/checkpoint/safetensors.js";
import type { DatasetFormat } from "../src/data/dataset.js";
import { loadDataset } from "../src/data/load-dataset.js";
import { writeFileAtomic, writeJsonAtomic } from "../src/io/atomic-write.js";
import { mergeCacheShards } from "../src/priors/cache-merge.js";
import { gather, loadCacheDataset, type CacheDataset } from "../src/priors/cache-dataset.js";
import { planJobShard } from "../src/priors/prepare.js";
import {
  cacheIndexPath,
  cacheIndexText,
  readCacheIndex,
  readShard,
  shardMetadata,
  wholeIndexPath,
  type CacheIndex,
  type ShardFailure,
} from "../src/priors/prior-cache.js";

const { values: args } = parseArgs({
  options: {
    cache: { type: "string", default: "../cache/celebahq_attr" },
    shards: { type: "string", default: "3,30,300" },
    scratch: { type: "string", default: tmpdir() },
  },
});

/** Every failure of the cache with its manifest row: the rows of its shard file that hold no face, in order. */
async function failuresByRow(dir: string, index: CacheIndex, cache: CacheDataset): Promise<Map<number, ShardFailure>> {
  const faces = new Set(cache.rows);
  const byRow = new Map<number, ShardFailure>();
  for (const block of index.shards) {
    const { info } = await readShard(join(dir, block.file));
    const rows = Array.from({ length: block.rowCount }, (_, i) => block.firstRow + i).filter((row) => !faces.has(row));
    info.failures.forEach((failure, i) => byRow.set(rows[i]!, { ...failure, row: rows[i]! }));
  }
  return byRow;
}

/** Writes job shard `index` of `count` as prepare --shard would lay it out, filled from `cache`. */
async function writeJobShard(
  out: string,
  source: {
    dir: string;
    index: CacheIndex;
    cache: CacheDataset;
    failures: Map<number, ShardFailure>;
    dataset: Awaited<ReturnType<typeof loadDataset>>;
  },
  index: number,
  count: number,
): Promise<void> {
  const { part, index: plan, whole } = planJobShard(source.dataset, source.index.options, { index, count });
  // Caches prepared before fingerprints were recorded lack them; the layout must still match.
  const layout = (plan: CacheIndex) => JSON.stringify(plan.shards.map(({ file, firstRow, rowCount }) => [file, firstRow, rowCount]));
  if (layout(whole) !== layout(source.index))
    throw new Error(
      `${source.dir}: its shard files are not the ones prepare plans for ${source.index.dataset.root} today; the manifest changed since`,
    );
  const faceOf = new Map(Array.from(source.cache.rows, (row, face) => [row, face]));
  for (const block of plan.shards) {
    const rows = part.rows.slice(block.firstRow, block.firstRow + block.rowCount).map((r) => r.index);
    const faces = rows.filter((row) => faceOf.has(row)).map((row) => faceOf.get(row)!);
    const tensors: TensorMap = Object.fromEntries(Object.entries(source.cache.tensors).map(([name, t]) => [name, gather(t, faces)]));
    const info = {
      paths: faces.map((f) => source.cache.paths[f]!),
      failures: rows.filter((row) => !faceOf.has(row)).map((row) => source.failures.get(row)!),
      seconds: 0,
    };
    await writeSafetensors(join(out, block.file), tensors, shardMetadata(info));
  }
  await writeJsonAtomic(cacheIndexPath(out), plan);
  await writeFileAtomic(wholeIndexPath(out), cacheIndexText(whole));
  await writeFileAtomic(join(out, "splits.json"), await readFile(join(source.dir, "splits.json")));
}

/** Throws unless every merged shard file holds the cache's tensors and paths. */
async function checkMerged(merged: string, source: { dir: string; index: CacheIndex }): Promise<void> {
  for (const block of source.index.shards) {
    const [a, b] = await Promise.all([readShard(join(merged, block.file)), readShard(join(source.dir, block.file))]);
    for (const [name, t] of Object.entries(b.tensors)) {
      if (
        !Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(
          Buffer.from(a.tensors[name]!.data.buffer, a.tensors[name]!.data.byteOffset, a.tensors[name]!.data.byteLength),
        )
      )
        throw new Error(`${block.file}: ${name} differs`);
    }
    if (JSON.stringify(a.info.paths) !== JSON.stringify(b.info.paths)) throw new Error(`${block.file}: paths differ`);
  }
}

const dir = args.cache!;
const index = (await readCacheIndex(dir))!;
const cache = await loadCacheDataset(dir);
const dataset = await loadDataset(index.dataset.root, index.dataset.format as DatasetFormat);
const source = { dir, index, cache, dataset, failures: await failuresByRow(dir, index, cache) };
const bytes = Object.values(cache.tensors).reduce((n, t) => n + t.data.byteLength, 0);
const results = [];
for (const count of args.shards!.split(",").map(Number)) {
  const scratch = await mkdtemp(join(args.scratch!, "faceprior-merge-bench-"));
  try {
    const shardDirs = Array.from({ length: count }, (_, i) => join(scratch, `shard-${i}`));
    for (const [i, shardDir] of shardDirs.entries()) await writeJobShard(shardDir, source, i, count);
    const load = loadavg()[0]!;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    await mergeCacheShards(shardDirs, join(scratch, "merged"));
    const seconds = (performance.now() - start) / 1000;
    // CPU time does not depend on what else the machine runs; wall time does.
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    await checkMerged(join(scratch, "merged"), source);
    const result = {
      shards: count,
      rows: index.dataset.rows,
      faces: cache.count,
      bytes,
      seconds,
      cpu_seconds: cpuSeconds,
      faces_per_s: cache.count / seconds,
      faces_per_cpu_s: cache.count / cpuSeconds,
      mb_per_s: bytes / 1e6 / seconds,
      load_average: load,
    };
    console.log(
      `merge of ${count} shards: ${cache.count} faces (${(bytes / 1e6).toFixed(0)} MB) in ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU: ` +
        `${result.faces_per_s.toFixed(0)} faces/s, ${result.faces_per_cpu_s.toFixed(0)} faces per CPU second (load average ${load.toFixed(1)}); merged files equal the cache's`,
    );
    results.push(result);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
const fingerprint = createHash("sha256")
  .update(await readFile(cacheIndexPath(dir)))
  .digest("hex")
  .slice(0, 12);
await writeJsonAtomic(join("bench", "results", "merge-throughput.json"), {
  cache: dir,
  cache_fingerprint: fingerprint,
  results,
  date: new Date().toISOString(),
});
