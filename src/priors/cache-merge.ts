/**
 * `faceprior merge` of prior-cache shards: the folders `prepare --shard i/n` wrote, joined into
 * the cache one `prepare` over the whole dataset writes. Each shard folder is a prior cache of
 * its part of the rows (with their dataset-wide numbers in `rows`, and failures with theirs),
 * plus the whole dataset's cache.json in whole-cache.json. The merge regroups faces into the
 * whole plan's shard files of `shardSize` rows, reading each face's bytes where they lie in the
 * part's files: memory holds one output file's faces, whatever the number of parts. The files
 * written equal a single run's byte for byte, but for the seconds each shard file records
 * (here the parts' seconds, shared out by rows) and report.json's timings.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { FacepriorError } from "../errors.js";
import {
  openSafetensors,
  writeSafetensors,
  type HostTensor,
  type SafetensorsReader,
  type StoredTensor,
  type TensorMap,
} from "../checkpoint/safetensors.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { parseJson } from "../io/json-file.js";
import { checkShardSet, type ShardMember } from "../shard/shard-set.js";
import { shardName } from "../shard/shard-spec.js";
import { addToSummary, newSummary, writeCacheReport, type CacheSplits, type PrepareReport } from "./cache-report.js";
import {
  cacheIndexPath,
  cacheIndexText,
  checkCacheIndex,
  readCacheIndex,
  shardInfo,
  shardMetadata,
  wholeIndexPath,
  type CacheIndex,
  type ShardFailure,
  type ShardInfo,
} from "./prior-cache.js";

type Part = { dir: string; index: CacheIndex & { jobShard: NonNullable<CacheIndex["jobShard"]> } };

const WORDS = { command: "prepare", inputs: "manifest" };

async function readPart(dir: string): Promise<Part> {
  const index = await readCacheIndex(dir);
  if (!index)
    throw new FacepriorError(
      "BAD_SHARDS",
      `${dir}: has no cache.json, so it is not a shard of a prepare job. Pass the folders that prepare's shards wrote.`,
    );
  if (!index.jobShard)
    throw new FacepriorError(
      "BAD_SHARDS",
      `${cacheIndexPath(dir)}: a whole prior cache, not a shard of a prepare job. Merge joins the folders that prepare's shards wrote.`,
    );
  return { dir, index: index as Part["index"] };
}

const member = ({ dir, index }: Part): ShardMember => ({
  dir,
  shard: index.jobShard,
  settings: index.options,
  inputs: index.jobShard.whole,
  inputsShown: `dataset ${index.dataset.root} with plan ${index.jobShard.whole.slice(0, 12)}`,
});

function checkComplete({ dir, index }: Part): void {
  const missing = index.shards.filter((s) => !existsSync(join(dir, s.file)));
  if (missing.length === 0) return;
  throw new FacepriorError(
    "BAD_SHARDS",
    `${dir} (shard ${shardName(index.jobShard)}): is incomplete, ${missing.length} of its ${index.shards.length} shard files are missing (${missing[0]!.file}${missing.length > 1 ? ", ..." : ""}). ` +
      `Run prepare shard ${shardName(index.jobShard)} again to finish it, then merge.`,
  );
}

/** The whole dataset's index, checked against the fingerprint the part recorded. */
async function readWholeIndex({ dir, index }: Part): Promise<CacheIndex> {
  const path = wholeIndexPath(dir);
  const text = await readFile(path, "utf8").catch((cause) => {
    throw new FacepriorError(
      "BAD_SHARDS",
      `${path}: cannot be read (${(cause as Error).message}). Run prepare shard ${shardName(index.jobShard)} again.`,
      { cause },
    );
  });
  if (createHash("sha256").update(text).digest("hex") !== index.jobShard.whole) {
    throw new FacepriorError(
      "BAD_SHARDS",
      `${path}: does not match the fingerprint in its cache.json; the folder was changed after prepare wrote it. Run prepare shard ${shardName(index.jobShard)} again.`,
    );
  }
  return checkCacheIndex(parseJson(text, path, { code: "BAD_SHARDS", fix: "Run that shard's prepare again." }), path);
}

/** Refuses an `out` that is one of the parts, or a cache other than the one this merge writes. */
async function checkOut(out: string, parts: Part[], whole: CacheIndex): Promise<void> {
  const part = parts.find((p) => resolve(p.dir) === resolve(out));
  if (part)
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `out ${out}: is shard ${shardName(part.index.jobShard)}, one of the inputs. Merge into a new folder.`,
      { option: "out" },
    );
  const existing = await readFile(cacheIndexPath(out), "utf8").catch(() => null);
  if (existing !== null && existing !== cacheIndexText(whole)) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `out ${out}: already holds another prior cache (its cache.json differs from this merge's). Merge into a new folder.`,
      { option: "out" },
    );
  }
}

/** One part's faces and failures below some row, in row order, with each tensor's bytes. */
type Taken = { rows: number[]; bytes: Record<string, Uint8Array[]>; paths: string[]; failures: ShardFailure[]; seconds: number };

type OpenFile = { reader: SafetensorsReader; rows: Int32Array; info: ShardInfo; face: number; failure: number };

/** The tensors every shard file holds, taken from the first one opened; the others must agree. */
type Layout = Record<string, StoredTensor>;

/** An open that failed for the process's open-file limit, as an error that says how to raise it. */
function openFileLimit(error: unknown): unknown {
  if ((error as NodeJS.ErrnoException).code !== "EMFILE") return error;
  return new FacepriorError(
    "BAD_SHARDS",
    "too many files open at once (EMFILE): merge holds one file of each shard open, more than this process may. Raise the limit (ulimit -n 65536) and merge again.",
    { cause: error },
  );
}

async function openShardFile(file: string, layout: Layout): Promise<OpenFile> {
  const reader = await openSafetensors(file).catch((error) => {
    throw openFileLimit(error);
  });
  for (const [name, t] of Object.entries(reader.tensors)) layout[name] ??= t;
  const same = (a?: StoredTensor, b?: StoredTensor) =>
    a && b && a.dtype === b.dtype && a.itemBytes === b.itemBytes && a.shape.length === b.shape.length;
  const names = new Set([...Object.keys(layout), ...Object.keys(reader.tensors)]);
  if (![...names].every((name) => same(layout[name], reader.tensors[name]))) {
    await reader.close();
    throw new FacepriorError(
      "BAD_SHARDS",
      `${file}: its tensors differ from the other shards' (${Object.keys(reader.tensors).join(", ")}). Run that shard's prepare again.`,
    );
  }
  const count = reader.tensors.rows!.shape[0]!;
  const rows = new Int32Array(reader.readItems("rows", 0, count).buffer, 0, count);
  const info = shardInfo(reader.metadata, file);
  if (info.failures.some((f) => !Number.isInteger(f.row))) {
    await reader.close();
    throw new FacepriorError(
      "BAD_SHARDS",
      `${file}: its failures have no row numbers (an older prepare wrote it). Run that shard's prepare again.`,
    );
  }
  return { reader, rows, info, face: 0, failure: 0 };
}

/** Takes what one open file holds below row `end` into `taken`; true when the file is used up. */
function takeFromFile(file: OpenFile, end: number, taken: Taken): boolean {
  const [face, failure] = [file.face, file.failure];
  while (file.face < file.rows.length && file.rows[file.face]! < end) file.face++;
  while (file.failure < file.info.failures.length && file.info.failures[file.failure]!.row < end) file.failure++;
  const faces = file.face - face;
  if (faces > 0) {
    for (const name of Object.keys(file.reader.tensors)) (taken.bytes[name] ??= []).push(file.reader.readItems(name, face, faces));
  }
  taken.rows.push(...file.rows.subarray(face, file.face));
  taken.paths.push(...file.info.paths.slice(face, file.face));
  taken.failures.push(...file.info.failures.slice(failure, file.failure));
  const rows = file.rows.length + file.info.failures.length;
  taken.seconds += (file.info.seconds * (faces + file.failure - failure)) / rows;
  return file.face === file.rows.length && file.failure === file.info.failures.length;
}

/** Walks one part's shard files in order; `take(end)` hands out everything below row `end`. */
function partCursor({ dir, index }: Part, layout: Layout) {
  const files = index.shards.map((s) => join(dir, s.file));
  let next = 0;
  let open: OpenFile | null = null;
  return {
    async take(end: number): Promise<Taken> {
      const taken: Taken = { rows: [], bytes: {}, paths: [], failures: [], seconds: 0 };
      for (;;) {
        if (!open) {
          if (next === files.length) return taken;
          open = await openShardFile(files[next++]!, layout);
        }
        if (!takeFromFile(open, end, taken)) return taken;
        await open.reader.close();
        open = null;
      }
    },
    finished: () => open === null && next === files.length,
  };
}

function typed(bytes: Uint8Array, dtype: HostTensor["dtype"]): HostTensor["data"] {
  if (dtype === "U8") return bytes;
  if (dtype === "F32") return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  if (dtype === "I32") return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  throw new Error(`cache merge: a shard tensor of dtype ${dtype}; prepare writes U8, F32 and I32 only`);
}

/** The faces the parts hand out for one output file, interleaved by row, as its tensors and info. */
function assemble(taken: Taken[], layout: Layout): { tensors: TensorMap; info: ShardInfo } {
  const order = taken.flatMap((t, part) => t.rows.map((row, i) => ({ row, part, i }))).sort((a, b) => a.row - b.row);
  const tensors: TensorMap = {};
  for (const [name, { dtype, shape, itemBytes }] of Object.entries(layout)) {
    const sources = taken.map((t) => Buffer.concat(t.bytes[name] ?? []));
    const out = new Uint8Array(order.length * itemBytes);
    order.forEach(({ part, i }, at) => out.set(sources[part]!.subarray(i * itemBytes, (i + 1) * itemBytes), at * itemBytes));
    tensors[name] = { dtype, shape: [order.length, ...shape.slice(1)], data: typed(out, dtype) };
  }
  const info: ShardInfo = {
    paths: order.map(({ part, i }) => taken[part]!.paths[i]!),
    failures: taken.flatMap((t) => t.failures).sort((a, b) => a.row - b.row),
    seconds: taken.reduce((s, t) => s + t.seconds, 0),
  };
  return { tensors, info };
}

export type MergeProgress = (rowsDone: number, rowsTotal: number) => void;

/** Joins the folders of a sharded prepare into the whole dataset's cache in `out`. */
export async function mergeCacheShards(dirs: string[], out: string, onProgress?: MergeProgress): Promise<PrepareReport> {
  const start = performance.now();
  const parts = await Promise.all(dirs.map(readPart));
  checkShardSet(parts.map(member), WORDS);
  parts.forEach(checkComplete);
  const whole = await readWholeIndex(parts[0]!);
  await checkOut(out, parts, whole);
  const splitsPath = join(parts[0]!.dir, "splits.json");
  const splits = parseJson(await readFile(splitsPath, "utf8"), splitsPath, {
    code: "BAD_SHARDS",
    fix: "Run that shard's prepare again.",
  }) as CacheSplits;
  const layout: Layout = {};
  const cursors = parts.map((p) => partCursor(p, layout));
  const summary = newSummary(whole);
  for (const block of whole.shards) {
    const end = block.firstRow + block.rowCount;
    const shard = assemble(await Promise.all(cursors.map((c) => c.take(end))), layout);
    const held = shard.info.paths.length + shard.info.failures.length;
    if (held !== block.rowCount) {
      throw new FacepriorError(
        "BAD_SHARDS",
        `rows ${block.firstRow} to ${end - 1}: the shards hold ${held} of these ${block.rowCount} rows; a shard folder was changed after prepare wrote it. Run the shards of prepare again.`,
      );
    }
    await writeSafetensors(join(out, block.file), shard.tensors, shardMetadata(shard.info));
    addToSummary(summary, shard);
    onProgress?.(end, whole.dataset.rows);
  }
  const left = parts.find((_, i) => !cursors[i]!.finished());
  if (left)
    throw new FacepriorError(
      "BAD_SHARDS",
      `${left.dir}: holds rows past the end of the dataset's plan; the folder was changed after prepare wrote it. Run its shard of prepare again.`,
    );
  const seconds = (performance.now() - start) / 1000;
  const report = await writeCacheReport(summary, out, splits, {
    seconds,
    images: 0,
    workers: 0,
    rebuilt: [],
    merged: { shards: parts.length, seconds },
  });
  await writeFileAtomic(cacheIndexPath(out), cacheIndexText(whole)); // last: a folder with cache.json is a finished cache
  return report;
}
