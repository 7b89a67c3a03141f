/**
 * A prepared prior cache in memory, for training: all shards read once, then batches gathered by
 * row position. Images come out as float32 [B, 3, S, S] normalised with a mean and std, the
 * layout the encoder takes; the priors come out as they are stored.
 */
import { join } from "node:path";
import { FacepriorError } from "../errors.js";
import type { HostTensor } from "../checkpoint/safetensors.js";
import { readCacheIndex, readShard, type CacheIndex } from "./prior-cache.js";

/** The per-face tensors of a cache, concatenated over shards. */
export type CacheTensors = Record<string, HostTensor>;

export type CacheDataset = {
  index: CacheIndex;
  /** Faces in the cache (images where a face was found). */
  count: number;
  /** Manifest row of each face, to map splits and subsets (which name rows) onto faces. */
  rows: Int32Array;
  paths: string[];
  tensors: CacheTensors;
};

function concat(parts: HostTensor[]): HostTensor {
  const first = parts[0]!;
  const total = parts.reduce((n, p) => n + p.shape[0]!, 0);
  const itemSize = first.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = new (first.data.constructor as new (n: number) => HostTensor["data"])(total * itemSize);
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { dtype: first.dtype, shape: [total, ...first.shape.slice(1)], data };
}

export async function loadCacheDataset(dir: string): Promise<CacheDataset> {
  const index = await readCacheIndex(dir);
  if (!index)
    throw new FacepriorError(
      "BAD_CONFIG",
      `${dir}: no cache.json, so not a prior cache. If it is a dataset folder, prepare a cache of it (\`faceprior prepare\`) and pass that cache folder instead.`,
    );
  const shards = await Promise.all(
    index.shards.map((s) =>
      readShard(join(dir, s.file)).catch((cause) => {
        throw new FacepriorError(
          "BAD_CONFIG",
          `${join(dir, s.file)}: missing or unreadable (${(cause as Error).message}). Run faceprior prepare again with the same options to finish the cache.`,
          { cause },
        );
      }),
    ),
  );
  const names = Object.keys(shards[0]!.tensors);
  const tensors = Object.fromEntries(names.map((name) => [name, concat(shards.map((s) => s.tensors[name]!))]));
  return {
    index,
    count: tensors.rows!.shape[0]!,
    rows: tensors.rows!.data as Int32Array,
    paths: shards.flatMap((s) => s.info.paths),
    tensors,
  };
}

/** Faces whose manifest row is in `rows` (a split or few-shot subset), as face positions. */
export function facesOfRows(cache: CacheDataset, rows: readonly number[]): number[] {
  const wanted = new Set(rows);
  const out: number[] = [];
  cache.rows.forEach((row, face) => {
    if (wanted.has(row)) out.push(face);
  });
  return out;
}

/** Gathers faces `faces` of a per-face tensor into a new [B, ...] tensor. */
export function gather(tensor: HostTensor, faces: readonly number[]): HostTensor {
  const itemSize = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new (tensor.data.constructor as new (n: number) => HostTensor["data"])(faces.length * itemSize);
  faces.forEach((face, i) => out.set(tensor.data.subarray(face * itemSize, (face + 1) * itemSize), i * itemSize));
  return { dtype: tensor.dtype, shape: [faces.length, ...tensor.shape.slice(1)], data: out };
}

/**
 * [B, S, S, 3] bytes of faces `faces` -> [B, 3, S, S] floats, (x / 255 - mean) / std. `transform`
 * (augmentation) gets each face's [S, S, 3] bytes and its position in the batch, and returns the
 * bytes to use instead.
 */
export function imageBatch(
  cache: CacheDataset,
  faces: readonly number[],
  mean: readonly number[],
  std: readonly number[],
  transform?: (image: Uint8Array, position: number) => Uint8Array,
): Float32Array {
  const size = cache.index.options.size;
  const plane = size * size;
  const images = cache.tensors.images!.data as Uint8Array;
  const out = new Float32Array(faces.length * 3 * plane);
  const scale = [0, 1, 2].map((c) => 1 / (255 * std[c]!));
  const shift = [0, 1, 2].map((c) => -mean[c]! / std[c]!);
  faces.forEach((face, b) => {
    const stored = images.subarray(face * plane * 3, (face + 1) * plane * 3);
    const image = transform ? transform(stored, b) : stored;
    const dst = b * 3 * plane;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[dst + c * plane + p] = image[3 * p + c]! * scale[c]! + shift[c]!;
    }
  });
  return out;
}

/**
 * Several caches as one, faces in order; all must share crop size and patch size. Face `rows`
 * become positions in the joint set and `paths` are prefixed with each dataset's name, since
 * manifest rows and paths only mean something within their own dataset.
 */
export function concatCaches(caches: CacheDataset[]): CacheDataset {
  const first = caches[0];
  if (!first) throw new Error("concatCaches: no caches");
  if (caches.length === 1) return first;
  for (const c of caches) {
    const [a, b] = [c.index.options, first.index.options];
    if (a.size !== b.size || a.patchSize !== b.patchSize) {
      throw new FacepriorError(
        "BAD_CONFIG",
        `${c.index.dataset.root}: its cache has ${a.size}px crops with ${a.patchSize}px patches, ${first.index.dataset.root} has ${b.size}px with ${b.patchSize}px. Prepare them with the same size and patchSize.`,
      );
    }
  }
  const shared = Object.keys(first.tensors).filter((name) => caches.every((c) => c.tensors[name]) && name !== "labels");
  const tensors = Object.fromEntries(shared.map((name) => [name, concat(caches.map((c) => c.tensors[name]!))]));
  const count = caches.reduce((n, c) => n + c.count, 0);
  const rows = Int32Array.from({ length: count }, (_, i) => i);
  tensors.rows = { dtype: "I32", shape: [count], data: rows };
  return { index: first.index, count, rows, paths: caches.flatMap((c) => c.paths.map((p) => `${c.index.dataset.name}/${p}`)), tensors };
}

/**
 * The share of `faces` whose stored image is grey (R = G = B at every pixel): FER2013 and CK+
 * are grey, UTKFace and CelebA-HQ colour. A head trained on grey faces only reads grey input.
 */
export function greyShare(cache: CacheDataset, faces: readonly number[]): number {
  const size = cache.index.options.size;
  const images = cache.tensors.images!.data as Uint8Array;
  const bytes = size * size * 3;
  const isGrey = (face: number) => {
    for (let at = face * bytes; at < (face + 1) * bytes; at += 3)
      if (images[at] !== images[at + 1] || images[at] !== images[at + 2]) return false;
    return true;
  };
  return faces.length === 0 ? 0 : faces.filter(isGrey).length / faces.length;
}

/** The share of grey training faces from which a head reads the grey copy of each face. */
export const GREY_HEAD_SHARE = 0.95;
