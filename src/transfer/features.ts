/**
 * Frozen-encoder outputs, computed once per (encoder, cache, what) and cached on disk as
 * `<dir>/<key>.safetensors` (one tensor `output`), key = sha1 of the encoder file (or the scratch
 * seed and architecture), the cache index and what was computed (for millions of faces, in
 * shards on several machines that `faceprior merge` joins into that file: `extractFeatureShard`).
 * A file holds every face of the cache, or only some (an extra dataset's training and validation
 * faces: `cachedFeaturesOfFaces`), which its key then adds and its metadata lists by path:
 *
 *   pooled features [faces, D]    for the linear probe, which then trains on host arrays in seconds
 *   prefix tokens [faces, L, D]   the frozen blocks' output, when only the last blocks are fine-tuned
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { random, tree } from "../engine/jax.js";
import { readSafetensors, writeSafetensors } from "../checkpoint/safetensors.js";
import { hostTensorsOf, vitParamsFromTensors, type HostVitCheckpoint, type VitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import { readEncoderOf } from "../face-model/face-model.js";
import {
  createEncoderRunner,
  outputName,
  outputRowShape,
  UNIT_RGB,
  type EncoderOutput,
  type EncoderRunner,
  type EncoderWeights,
} from "../face-model/encoder-runner.js";
import type { InferenceEngine } from "../engine/onnx-session.js";
import { FacepriorError } from "../errors.js";
import type { Normalization } from "../checkpoint/vit-metadata.js";
import { resolveVitPreset, type VitConfig } from "../model/vit-presets.js";
import { initVit } from "../model/vit.js";
import { cacheIndexPath } from "../priors/prior-cache.js";
import { imageBatch, type CacheDataset } from "../priors/cache-dataset.js";
import { openItemShard, planItemShard } from "../shard/item-shard.js";
import { rowChunkFingerprint, rowOutputMetadata, writeRowChunk, type RowOutput } from "../shard/row-chunks.js";
import type { ShardSpec } from "../shard/shard-spec.js";

/**
 * An encoder file (its position embeddings resampled to `imgSize` when given), or a randomly
 * initialised one (the `scratch` baseline).
 */
export type EncoderSource = { checkpoint: string; imgSize?: number } | { scratch: { arch: string; seed: number } };
export type FeatureSet = { features: Float32Array; rows: Int32Array; dim: number; count: number };
/** Tokens [count, length, D] per face. */
export type TokenSet = { tokens: Float32Array; count: number; length: number; dim: number };
export type Encoder = Pick<VitCheckpoint, "params" | "cfg" | "normalization">;
export type Pooling = VitConfig["globalPool"];

/** The normalisation pretraining uses (pretrain-loss.ts), so scratch and pretrained see alike inputs. */
const SCRATCH_NORMALIZATION: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const EXTRACT_BATCH = 64;

export async function loadEncoder(source: EncoderSource): Promise<Encoder> {
  if ("checkpoint" in source) {
    const { tensors, cfg, normalization } = await readEncoderOf(source.checkpoint, { imgSize: source.imgSize });
    return { params: vitParamsFromTensors(tensors, cfg), cfg, normalization };
  }
  const cfg = resolveVitPreset(source.scratch.arch);
  return { params: initVit(random.key(source.scratch.seed), cfg), cfg, normalization: SCRATCH_NORMALIZATION };
}

/** The encoder's architecture, read without making arrays. */
export async function encoderConfig(source: EncoderSource): Promise<VitConfig> {
  if ("scratch" in source) return resolveVitPreset(source.scratch.arch);
  return (await readEncoderOf(source.checkpoint, { imgSize: source.imgSize })).cfg;
}

/** Checks, before any work, that the encoder takes the cache's face size. */
export async function checkEncoderFitsCache(source: EncoderSource, cache: CacheDataset, cacheDir: string): Promise<VitConfig> {
  const cfg = await encoderConfig(source);
  const size = cache.index.options.size;
  if (cfg.imgSize === size) return cfg;
  const scratch = "scratch" in source;
  const what = scratch ? `arch ${source.scratch.arch}` : source.checkpoint;
  const fix = scratch
    ? `Pick an architecture for ${size}x${size} input, or prepare the cache at ${cfg.imgSize}`
    : `Set imgSize to ${size} to resample its position embeddings, or prepare the cache at ${cfg.imgSize}`;
  throw new FacepriorError(
    scratch ? "BAD_ARGUMENT" : "BAD_CHECKPOINT",
    `${what} is a ${cfg.imgSize}x${cfg.imgSize} encoder, but the cache ${cacheDir} holds ${size}x${size} faces. ${fix}.`,
    scratch ? { option: "arch" } : undefined,
  );
}

/** sha1 of the encoder file (or scratch seed and architecture), the cache index and `what`. */
async function featureKey(source: EncoderSource, cacheDir: string, what: string): Promise<string> {
  const hash = createHash("sha1");
  if ("checkpoint" in source) hash.update(await readFile(source.checkpoint));
  else hash.update(`scratch:${source.scratch.arch}:${source.scratch.seed}`);
  if ("checkpoint" in source && source.imgSize !== undefined) hash.update(`size:${source.imgSize}`);
  hash.update(await readFile(cacheIndexPath(cacheDir)));
  hash.update(what);
  return hash.digest("hex").slice(0, 16);
}

/** What of the frozen encoder is kept per face: pooled features, or the tokens block `blocks` sees. */
export type FrozenOutput = { kind: "pooled"; pooling: Pooling } | { kind: "prefix"; blocks: number };

/** jax-js, or onnxruntime-node (several times faster on CPU; see bench/README.md). */
export type ExtractOptions = { engine?: InferenceEngine; threads?: number; onProgress?: (done: number, total: number) => void };

const outputKey = (output: FrozenOutput) => (output.kind === "pooled" ? `pool:${output.pooling}` : `prefix:${output.blocks}`);

/** `runner`'s output for these faces of the cache, [faces, ...rowShape] flattened, a batch at a time. */
async function runOnFaces(
  runner: EncoderRunner,
  cache: CacheDataset,
  faces: readonly number[],
  onProgress?: ExtractOptions["onProgress"],
): Promise<Float32Array> {
  let done = 0;
  const outputs = await runner.map(
    faces.length,
    (start, end) => imageBatch(cache, faces.slice(start, end), UNIT_RGB.mean, UNIT_RGB.std),
    (images) => onProgress?.((done += images), faces.length),
  );
  return outputs[outputName(runner.output)]!;
}

/** `work` with a runner of `encoder` for `output`, closed after. */
async function withRunner<T>(
  encoder: EncoderWeights,
  output: EncoderOutput,
  { engine = "jax", threads = 1 }: ExtractOptions,
  work: (runner: EncoderRunner) => Promise<T>,
): Promise<T> {
  const runner = await createEncoderRunner(encoder, { engine, threads, batch: EXTRACT_BATCH, output });
  try {
    return await work(runner);
  } finally {
    await runner.dispose();
  }
}

/**
 * Pooled features [faces, D] of these faces under these parameters (borrowed), on onnxruntime
 * (a graph built from the parameters as they are now, for scoring checkpoints during training)
 * or jax-js; with `mirrorAverage`, each the mean of the face's and its mirror image's.
 */
export async function pooledFeaturesOf(
  encoder: Encoder,
  cache: CacheDataset,
  faces: readonly number[],
  { pooling, mirrorAverage = false }: { pooling: Pooling; mirrorAverage?: boolean },
  options: ExtractOptions = {},
): Promise<Float32Array> {
  return withRunner(encoder, { kind: "pooled", pooling, mirrorAverage }, options, (runner) => runOnFaces(runner, cache, faces));
}

/** The encoder as host tensors, which the runner makes its arrays or its ONNX graph from. */
async function hostEncoder(source: EncoderSource): Promise<Pick<HostVitCheckpoint, "tensors" | "cfg" | "normalization">> {
  if ("checkpoint" in source) return readEncoderOf(source.checkpoint, { imgSize: source.imgSize });
  const { params, cfg, normalization } = await loadEncoder(source);
  try {
    return { tensors: await hostTensorsOf(params), cfg, normalization };
  } finally {
    tree.dispose(params);
  }
}

/**
 * The file of `output` for a cache, or for these faces of it: its path, and what it holds (the one
 * tensor "output", fixed metadata, and the faces' paths when not all of them).
 */
async function featureFile(
  source: EncoderSource,
  cacheDir: string,
  output: FrozenOutput,
  featureDir: string,
  faces: readonly number[] | null = null,
): Promise<{ file: string; key: string; rows: RowOutput }> {
  const what = outputKey(output);
  const key = await featureKey(source, cacheDir, faces === null ? what : `${what}\nfaces:${faces.join(",")}`);
  const rows: RowOutput = {
    tensor: "output",
    rowShape: outputRowShape(output, await encoderConfig(source)),
    metadata: { source: JSON.stringify(source), cache: cacheDir, output: what },
    listsInputs: faces !== null,
  };
  return { file: join(featureDir, `${key}.safetensors`), key, rows };
}

/**
 * `output` for `faces` of the cache (every face when null), from `<featureDir>/<key>.safetensors`
 * if computed before, else computed and saved atomically: [faces, ...rowShape].
 */
async function cachedOutputOfFaces(
  source: EncoderSource,
  cacheDir: string,
  cache: CacheDataset,
  faces: readonly number[] | null,
  output: FrozenOutput,
  featureDir: string,
  options: ExtractOptions,
): Promise<{ data: Float32Array; shape: number[] }> {
  const { file, rows } = await featureFile(source, cacheDir, output, featureDir, faces);
  const stored = (await readSafetensors(file).catch(() => null))?.tensors.output;
  if (stored) return { data: stored.data as Float32Array, shape: stored.shape };
  const chosen = faces ?? [...cache.rows.keys()];
  const shape = [chosen.length, ...rows.rowShape];
  const data = await withRunner(await hostEncoder(source), output, options, (runner) =>
    runOnFaces(runner, cache, chosen, options.onProgress),
  );
  const inputs = faces === null ? [] : faces.map((face) => ({ key: cache.paths[face]! }));
  await writeSafetensors(file, { output: { dtype: "F32", shape, data } }, rowOutputMetadata(rows, inputs, []));
  return { data, shape };
}

/**
 * `output` for every face of the cache, from `<featureDir>/<key>.safetensors` if computed before
 * (by this function, or joined by `faceprior merge` from the shards of `extractFeatureShard`),
 * else computed and saved atomically: [faces, ...rowShape].
 */
export async function cachedEncoderOutput(
  source: EncoderSource,
  cacheDir: string,
  cache: CacheDataset,
  output: FrozenOutput,
  featureDir: string,
  options: ExtractOptions = {},
): Promise<{ data: Float32Array; shape: number[] }> {
  return cachedOutputOfFaces(source, cacheDir, cache, null, output, featureDir, options);
}

const FEATURE_CHUNK = 4096;

/**
 * One shard of `cachedEncoderOutput`: the faces of shard `shard` (by a hash of each face's path),
 * in chunk files under `<featureDir>/<key>.shard-<i>-of-<n>/` (src/shard/item-shard.ts), kept by
 * a rerun. Returns that folder and the file `faceprior merge` of all n folders must write, which
 * `cachedEncoderOutput` then reads.
 */
export async function extractFeatureShard(
  source: EncoderSource,
  cacheDir: string,
  cache: CacheDataset,
  output: FrozenOutput,
  featureDir: string,
  shard: ShardSpec,
  options: ExtractOptions = {},
): Promise<{ dir: string; merged: string; faces: number; keptChunks: number }> {
  const { file, key, rows } = await featureFile(source, cacheDir, output, featureDir);
  const dir = join(featureDir, `${key}.shard-${shard.index}-of-${shard.count}`);
  const settings = { output: rows, key, engine: options.engine ?? "jax" };
  const { plan, chunks } = planItemShard({
    kind: "features",
    shard,
    settings,
    keys: cache.paths,
    chunkSize: FEATURE_CHUNK,
    extension: ".safetensors",
  });
  const pending = await openItemShard(dir, plan, chunks, rowChunkFingerprint);
  if (pending.length > 0) {
    await withRunner(await hostEncoder(source), output, options, async (runner) => {
      for (const chunk of pending) {
        const data = await runOnFaces(
          runner,
          cache,
          chunk.items.map((i) => i.position),
          options.onProgress,
        );
        await writeRowChunk(join(dir, chunk.file), chunk.fingerprint, rows.rowShape, { rows: data, items: chunk.items, skipped: [] });
      }
    });
  }
  return { dir, merged: file, faces: chunks.reduce((n, c) => n + c.items.length, 0), keptChunks: chunks.length - pending.length };
}

/** Pooled features of every face in the cache, extracted once per encoder, cache and pooling. */
export async function cachedFeatures(
  source: EncoderSource,
  cacheDir: string,
  cache: CacheDataset,
  pooling: Pooling,
  featureDir: string,
  options: ExtractOptions = {},
): Promise<FeatureSet> {
  const { data, shape } = await cachedEncoderOutput(source, cacheDir, cache, { kind: "pooled", pooling }, featureDir, options);
  return { features: data, rows: Int32Array.from(cache.rows), dim: shape[1]!, count: shape[0]! };
}

/**
 * Pooled features [faces.length, D] of only these faces of the cache, in their order (an extra
 * dataset's training and validation faces, so that its test faces never meet the encoder), cached
 * like `cachedFeatures` under a key that adds the faces; the file's metadata "inputs" lists their paths.
 */
export async function cachedFeaturesOfFaces(
  source: EncoderSource,
  cacheDir: string,
  cache: CacheDataset,
  faces: readonly number[],
  pooling: Pooling,
  featureDir: string,
  options: ExtractOptions = {},
): Promise<Float32Array> {
  return (await cachedOutputOfFaces(source, cacheDir, cache, faces, { kind: "pooled", pooling }, featureDir, options)).data;
}

/**
 * The tokens [faces, L, D] that block `frozenBlocks` of the encoder sees, for every face in the
 * cache: the output of the frozen part when only the last blocks are fine-tuned.
 */
export async function cachedPrefixTokens(
  source: EncoderSource,
  cacheDir: string,
  cache: CacheDataset,
  frozenBlocks: number,
  featureDir: string,
  options: ExtractOptions = {},
): Promise<TokenSet> {
  const { data, shape } = await cachedEncoderOutput(source, cacheDir, cache, { kind: "prefix", blocks: frozenBlocks }, featureDir, options);
  const [count, length, dim] = shape as [number, number, number];
  return { tokens: data, count, length, dim };
}
