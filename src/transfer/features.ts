/**
 * Frozen-encoder features for the linear probe, extracted once per (encoder, cache, pooling) and
 * cached on disk: `<dir>/<key>.safetensors` holds `features` [N, D] and `rows` [N] (the manifest
 * row of each face), key = sha1 of the encoder file (or the scratch seed and architecture), the
 * cache index and the pooling. A probe then trains on host arrays in seconds.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { jit, numpy as np, random, tree, type Array } from "../engine/jax.js";
import { readSafetensors, writeSafetensors } from "../checkpoint/safetensors.js";
import { loadVitCheckpoint, type VitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import type { Normalization } from "../checkpoint/vit-metadata.js";
import { resolveVitPreset, type VitConfig } from "../model/vit-presets.js";
import { initVit, poolTokens, vitFeatures, type VitParams } from "../model/vit.js";
import { cacheIndexPath } from "../priors/prior-cache.js";
import { imageBatch, type CacheDataset } from "../priors/cache-dataset.js";

/** An encoder file, or a randomly initialised one (the `scratch` baseline). */
export type EncoderSource = { checkpoint: string } | { scratch: { arch: string; seed: number } };
export type FeatureSet = { features: Float32Array; rows: Int32Array; dim: number; count: number };
export type Pooling = VitConfig["globalPool"];

/** The normalisation pretraining uses (pretrain-loss.ts), so scratch and pretrained see alike inputs. */
const SCRATCH_NORMALIZATION: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

export async function loadEncoder(source: EncoderSource): Promise<Pick<VitCheckpoint, "params" | "cfg" | "normalization">> {
  if ("checkpoint" in source) return loadVitCheckpoint(source.checkpoint);
  const cfg = resolveVitPreset(source.scratch.arch);
  return { params: initVit(random.key(source.scratch.seed), cfg), cfg, normalization: SCRATCH_NORMALIZATION };
}

async function featureKey(source: EncoderSource, cacheDir: string, pooling: Pooling): Promise<string> {
  const hash = createHash("sha1");
  if ("checkpoint" in source) hash.update(await readFile(source.checkpoint));
  else hash.update(`scratch:${source.scratch.arch}:${source.scratch.seed}`);
  hash.update(await readFile(cacheIndexPath(cacheDir)));
  hash.update(`pool:${pooling}`);
  return hash.digest("hex").slice(0, 16);
}

/**
 * `run` over `faces` in batches of exactly `batch` faces, the last padded with its first face so
 * that a jitted `run` never sees a new shape; the per-face outputs of the real faces, in order.
 */
export async function mapFaceBatches(
  faces: readonly number[],
  batch: number,
  run: (faces: number[]) => Promise<Float32Array>,
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (let start = 0; start < faces.length; start += batch) {
    const real = faces.slice(start, start + batch);
    const padded = [...real, ...new globalThis.Array<number>(batch - real.length).fill(real[0]!)];
    const out = await run(padded);
    parts.push(out.subarray(0, (out.length / batch) * real.length));
    onProgress?.(start + real.length, faces.length);
  }
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  return all;
}

/** Pooled features of every face in `cache`, in batches through one jitted forward pass. */
export async function extractFeatures(
  encoder: Pick<VitCheckpoint, "params" | "cfg" | "normalization">,
  cache: CacheDataset,
  pooling: Pooling,
  { batch = 64, onProgress }: { batch?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<FeatureSet> {
  const { cfg, normalization, params } = encoder;
  const forward = jit((p: VitParams, x: Array) => poolTokens(vitFeatures(p, x, cfg), pooling));
  const size = cache.index.options.size;
  const all = [...cache.rows.keys()];
  try {
    const features = await mapFaceBatches(all, batch, async (faces) => {
      const pixels = imageBatch(cache, faces, normalization.mean, normalization.std);
      return (await forward(tree.ref(params), np.array(pixels).reshape([batch, 3, size, size])).data()) as Float32Array;
    }, onProgress);
    return { features, rows: Int32Array.from(cache.rows), dim: cfg.embedDim, count: cache.count };
  } finally {
    forward.dispose();
  }
}

/** Features from `<featureDir>/<key>.safetensors` if extracted before, else extracted and saved. */
export async function cachedFeatures(
  source: EncoderSource,
  cacheDir: string,
  cache: CacheDataset,
  pooling: Pooling,
  featureDir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<FeatureSet> {
  const file = join(featureDir, `${await featureKey(source, cacheDir, pooling)}.safetensors`);
  const stored = await readSafetensors(file).catch(() => null);
  if (stored?.tensors.features && stored.tensors.rows) {
    const [count, dim] = stored.tensors.features.shape as [number, number];
    return { features: stored.tensors.features.data as Float32Array, rows: stored.tensors.rows.data as Int32Array, dim, count };
  }
  const encoder = await loadEncoder(source);
  let set: FeatureSet;
  try {
    set = await extractFeatures(encoder, cache, pooling, { onProgress });
  } finally {
    tree.dispose(encoder.params);
  }
  await writeSafetensors(
    file,
    { features: { dtype: "F32", shape: [set.count, set.dim], data: set.features }, rows: { dtype: "I32", shape: [set.count], data: set.rows } },
    { source: JSON.stringify(source), cache: cacheDir, pooling },
  );
  return set;
}
