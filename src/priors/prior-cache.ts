/**
 * The versioned prior cache that `faceprior prepare` writes and training reads:
 *
 *   <cache>/cache.json                   format, options, dataset, task, label columns, shard plan
 *   <cache>/shards/shard-00000.safetensors  one per block of manifest rows, written atomically
 *   <cache>/report.json, overlays.png, splits.json
 *
 * A shard holds, for the rows of its block whose face was found (n of them):
 *   images [n,S,S,3] U8, parsing [n,S,S] U8, landmarks68 [n,68,2] F32, mesh [n,478,2] F32,
 *   component_boxes [n,6,4] F32, descriptors [n,8] F32, patch_hist [n,L,K] F32,
 *   landmark_patch [n,68] I32, landmark_offset [n,68,2] F32, labels [n,C] F32, rows [n] I32,
 *   score [n] F32; and in its metadata the JSON lists `paths` (of the n rows) and `failures`
 *   ({path, reason} for the block's other rows) and `seconds`.
 * A shard file exists only once complete, so a killed run resumes at the first missing shard.
 * The plan records each shard's fingerprint (its rows and the options, `shardFingerprint`): a
 * shard whose rows changed since it was written is redone, not kept.
 *
 * `prepare --shard i/n` (one part of a job spread over machines) writes the same layout for its
 * part of the rows, plus `jobShard` in cache.json and whole-cache.json, the cache.json of the
 * whole dataset that `faceprior merge` writes when it joins the parts (cache-merge.ts).
 * ("Shard" without "job" is one file of rows, as it always was.)
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import { FacepriorError } from "../errors.js";
import type { DatasetRow } from "../data/dataset.js";
import { parseJson, readJsonFileIfExists } from "../io/json-file.js";
import { readSafetensors, writeSafetensors, type HostTensor, type TensorMap } from "../checkpoint/safetensors.js";
import { componentBoxes, componentDescriptors, COMPONENT_DESCRIPTORS, TASK_COMPONENTS } from "./components.js";
import { PARSING_CLASSES, type FaceSample } from "./face-sample.js";
import { landmarkPatches, patchClassHistograms } from "./patch-labels.js";

export const CACHE_FORMAT = "faceprior-prior-cache";
export const CACHE_VERSION = 1;
export const MESH_POINTS = 478;

/** The options that decide a cache's contents; resuming with others is refused. */
export const CacheOptionsSchema = z.strictObject({
  size: z.number().int().min(32).max(512).default(112),
  pad: z.number().min(0).max(2).default(0),
  patchSize: z.number().int().positive().default(16),
  minScore: z.number().min(0).max(1).default(0.5),
  shardSize: z.number().int().positive().default(256),
});
export type CacheOptions = z.infer<typeof CacheOptionsSchema>;

const CacheIndexSchema = z.object({
  format: z.literal(CACHE_FORMAT),
  version: z.literal(CACHE_VERSION),
  options: CacheOptionsSchema,
  dataset: z.object({
    root: z.string(),
    name: z.string(),
    format: z.string(),
    task: z.string(),
    labelColumns: z.array(z.string()),
    rows: z.number().int(),
  }),
  // fingerprint: absent in caches written before it was recorded.
  shards: z.array(
    z.object({ file: z.string(), firstRow: z.number().int(), rowCount: z.number().int(), fingerprint: z.string().optional() }),
  ),
  /** Which part of a sharded prepare this cache is; `whole`: the SHA-256 of its whole-cache.json. */
  jobShard: z.object({ index: z.number().int(), count: z.number().int(), whole: z.string() }).optional(),
});
export type CacheIndex = z.infer<typeof CacheIndexSchema>;

export const cacheIndexPath = (dir: string) => join(dir, "cache.json");
export const wholeIndexPath = (dir: string) => join(dir, "whole-cache.json");

/** The text of cache.json as prepare writes it (writeJsonAtomic's form), for fingerprints that must match byte for byte. */
export const cacheIndexText = (index: CacheIndex) => JSON.stringify(index, null, 2) + "\n";

export async function readCacheIndex(dir: string): Promise<CacheIndex | null> {
  const json = await readJsonFileIfExists(cacheIndexPath(dir), {
    code: "BAD_CONFIG",
    fix: "Delete it to prepare the cache anew, or use another output folder.",
  });
  return json === undefined ? null : checkCacheIndex(json, cacheIndexPath(dir));
}

/** `json` (read from `shown`) as a cache index, or an error naming the file. */
export function checkCacheIndex(json: unknown, shown: string): CacheIndex {
  const parsed = CacheIndexSchema.safeParse(json);
  if (!parsed.success) {
    throw new FacepriorError(
      "BAD_CONFIG",
      `${shown}: not a faceprior prior cache of version ${CACHE_VERSION} (${parsed.error.issues[0]?.message}). Use an empty output folder.`,
    );
  }
  return parsed.data;
}

/**
 * What a shard's contents are made from: its rows (position, path, labels, pixels held inline)
 * and the options. The same fingerprint means the shard on disk is still right.
 */
export function shardFingerprint(rows: readonly DatasetRow[], options: CacheOptions): string {
  const hash = createHash("sha256").update(JSON.stringify(options, Object.keys(options).sort()));
  for (const row of rows) {
    hash.update(JSON.stringify([row.index, row.path, row.labels]));
    if (row.pixels) hash.update(row.pixels.data);
  }
  return hash.digest("hex");
}

/** One prepared face, ready to be stored: the sample, its labels and where it came from. */
export type CachedFace = { sample: FaceSample; labels: number[]; row: number; path: string; score: number };

const f32 = (shape: number[], data: Float32Array): HostTensor => ({ dtype: "F32", shape, data });

/** Concatenates per-face arrays into one tensor of shape [n, ...itemShape]. */
function stack<T extends Float32Array | Uint8Array | Int32Array>(
  items: T[],
  itemShape: number[],
  dtype: HostTensor["dtype"],
  make: (n: number) => T,
): HostTensor {
  const itemSize = itemShape.reduce((a, b) => a * b, 1);
  const data = make(items.length * itemSize);
  items.forEach((item, i) => data.set(item, i * itemSize));
  return { dtype, shape: [items.length, ...itemShape], data };
}

/** The tensors of one shard (see the file comment), computing the derived priors. */
export function shardTensors(faces: CachedFace[], options: CacheOptions, labelCount: number): TensorMap {
  const { size, patchSize } = options;
  const patches = (size / patchSize) ** 2;
  const K = PARSING_CLASSES.length;
  const perPatch = faces.map((f) => landmarkPatches(f.sample.landmarks68, size, patchSize));
  const toF32 = (n: number) => new Float32Array(n);
  return {
    images: stack(
      faces.map((f) => f.sample.image),
      [size, size, 3],
      "U8",
      (n) => new Uint8Array(n),
    ),
    parsing: stack(
      faces.map((f) => f.sample.parsing),
      [size, size],
      "U8",
      (n) => new Uint8Array(n),
    ),
    landmarks68: stack(
      faces.map((f) => f.sample.landmarks68),
      [68, 2],
      "F32",
      toF32,
    ),
    mesh: stack(
      faces.map((f) => f.sample.mesh),
      [MESH_POINTS, 2],
      "F32",
      toF32,
    ),
    component_boxes: stack(
      faces.map((f) => componentBoxes(f.sample.mesh)),
      [TASK_COMPONENTS.length, 4],
      "F32",
      toF32,
    ),
    descriptors: stack(
      faces.map((f) => componentDescriptors(f.sample.landmarks68)),
      [COMPONENT_DESCRIPTORS.length],
      "F32",
      toF32,
    ),
    patch_hist: stack(
      faces.map((f) => patchClassHistograms(f.sample.parsing, size, patchSize, K)),
      [patches, K],
      "F32",
      toF32,
    ),
    landmark_patch: stack(
      perPatch.map((p) => p.patchIndex),
      [68],
      "I32",
      (n) => new Int32Array(n),
    ),
    landmark_offset: stack(
      perPatch.map((p) => p.offset),
      [68, 2],
      "F32",
      toF32,
    ),
    labels: f32([faces.length, labelCount], Float32Array.from(faces.flatMap((f) => f.labels))),
    rows: { dtype: "I32", shape: [faces.length], data: Int32Array.from(faces.map((f) => f.row)) },
    score: f32([faces.length], Float32Array.from(faces.map((f) => f.score))),
  };
}

/** A row left out, with its manifest row and why. */
export type ShardFailure = { path: string; row: number; reason: string };
export type ShardInfo = { paths: string[]; failures: ShardFailure[]; seconds: number };

/** A shard file's metadata; prepare and merge both write it, so their files match byte for byte. */
export function shardMetadata({ paths, failures, seconds }: ShardInfo): Record<string, string> {
  return { paths: JSON.stringify(paths), failures: JSON.stringify(failures), seconds: String(seconds) };
}

export async function writeShard(
  file: string,
  faces: CachedFace[],
  failures: ShardFailure[],
  seconds: number,
  options: CacheOptions,
  labelCount: number,
): Promise<void> {
  const metadata = shardMetadata({ paths: faces.map((f) => f.path), failures, seconds });
  await writeSafetensors(file, shardTensors(faces, options, labelCount), metadata);
}

export type Shard = { tensors: TensorMap; info: ShardInfo };

export async function readShard(file: string): Promise<Shard> {
  const { tensors, metadata } = await readSafetensors(file);
  for (const name of ["images", "parsing", "landmarks68", "labels", "rows"]) {
    if (!tensors[name]) throw new FacepriorError("BAD_CONFIG", `${file}: the shard has no "${name}" tensor. ${REBUILD}`);
  }
  return { tensors, info: shardInfo(metadata, file) };
}

const REBUILD = "Run prepare again with the same options to rebuild it.";

/** The faces' paths, the failures and the seconds recorded in a shard file's metadata. */
export function shardInfo(metadata: Record<string, string>, file: string): ShardInfo {
  const list = (key: string) => parseJson(metadata[key] ?? "[]", `${file}: __metadata__.${key}`, { code: "BAD_CONFIG", fix: REBUILD });
  return { paths: list("paths") as string[], failures: list("failures") as ShardFailure[], seconds: Number(metadata.seconds ?? 0) };
}

/** The FaceSample of face `i` of a shard, as views into the shard's tensors. */
export function shardSample(shard: Shard, i: number, size: number): FaceSample {
  const t = shard.tensors;
  const slice = <T extends Float32Array | Uint8Array | Int32Array>(data: T, itemSize: number) =>
    data.subarray(i * itemSize, (i + 1) * itemSize) as T;
  return {
    size,
    image: slice(t.images!.data as Uint8Array, size * size * 3),
    parsing: slice(t.parsing!.data as Uint8Array, size * size),
    landmarks68: slice(t.landmarks68!.data as Float32Array, 68 * 2),
    mesh: slice(t.mesh!.data as Float32Array, MESH_POINTS * 2),
  };
}
