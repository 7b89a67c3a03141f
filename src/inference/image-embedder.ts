/**
 * Image files -> ViT features, for `faceprior embed`. The encoder runs in onnxruntime-node (a
 * graph built in memory from the checkpoint) or in jax-js, jitted once for one batch shape.
 * Every batch is run at the full batch size, the last one padded: jax-js then never compiles
 * again, and an image's features do not depend on how many others share its batch (matrix
 * kernels round differently for other sizes), so the shards of a sharded run give the same
 * bytes as one run. Batches are decoded one ahead while the model runs.
 */
import { vitParamsFromTensors, type HostVitCheckpoint } from "../checkpoint/vit-checkpoint.js";
import type { Normalization } from "../checkpoint/vit-metadata.js";
import { decodeImageBatch, type DecodeImageOptions } from "../data/image.js";
import { jit, numpy as np, tree, type Array } from "../engine/jax.js";
import { buildFaceOnnx, FEATURES_OUTPUT, TOKENS_OUTPUT } from "../export/onnx-vit.js";
import type { JsonlLog } from "../io/jsonl-log.js";
import { numPatches } from "../model/vit-presets.js";
import { poolTokens, vitFeatures, type VitParams } from "../model/vit.js";
import { OnnxSession, type InferenceEngine } from "./onnx-session.js";

/** The class token, the mean of the patch tokens, or all tokens. */
export type TokenKind = "cls" | "mean" | "all";

/** A forward pass over batches of `batch` images [batch, 3, S, S]; `rowShape` is one image's output. */
export type ImageEncoder = {
  batch: number;
  rowShape: number[];
  encode(pixels: Float32Array): Promise<Float32Array>;
  dispose(): Promise<void>;
};

/** The output shape of one image: [D], or [1 + patches, D] for all tokens. */
export function embeddingRowShape(ckpt: HostVitCheckpoint, kind: TokenKind): number[] {
  return kind === "all" ? [1 + numPatches(ckpt.cfg), ckpt.cfg.embedDim] : [ckpt.cfg.embedDim];
}

/** jax-js, jitted once for batches of `batch`. */
function jaxEncoder(ckpt: HostVitCheckpoint, kind: TokenKind, batch: number): ImageEncoder {
  const { cfg } = ckpt;
  const params: VitParams = vitParamsFromTensors(ckpt.tensors, cfg);
  const forward = jit((p: VitParams, x: Array) => {
    const tokens = vitFeatures(p, x, cfg);
    return kind === "all" ? tokens : poolTokens(tokens, kind === "cls" ? "token" : "avg");
  });
  return {
    batch,
    rowShape: embeddingRowShape(ckpt, kind),
    encode: async (pixels) =>
      (await forward(tree.ref(params), np.array(pixels, { shape: [batch, 3, cfg.imgSize, cfg.imgSize] })).data()) as Float32Array,
    dispose: async () => {
      tree.dispose(params);
      forward.dispose();
    },
  };
}

/**
 * onnxruntime on the graph built in memory from the checkpoint. The pixels arrive normalised,
 * as jax-js takes them, so the graph's own normalisation is the identity.
 */
async function onnxEncoder(ckpt: HostVitCheckpoint, kind: TokenKind, batch: number, threads: number): Promise<ImageEncoder> {
  const cfg = { ...ckpt.cfg, globalPool: kind === "mean" ? ("avg" as const) : ("token" as const) };
  const normalization: Normalization = { mean: [0, 0, 0], std: [1, 1, 1] };
  const session = await OnnxSession.create(buildFaceOnnx({ ...ckpt, cfg, normalization, tokens: kind === "all" }), { threads });
  const output = kind === "all" ? TOKENS_OUTPUT : FEATURES_OUTPUT;
  return {
    batch,
    rowShape: embeddingRowShape(ckpt, kind),
    encode: async (pixels) => (await session.run(pixels, batch))[output]!,
    dispose: () => session.dispose(),
  };
}

export type ImageEncoderOptions = { kind: TokenKind; batch: number; engine: InferenceEngine; threads: number };

export function openImageEncoder(ckpt: HostVitCheckpoint, { kind, batch, engine, threads }: ImageEncoderOptions): Promise<ImageEncoder> {
  return engine === "onnx" ? onnxEncoder(ckpt, kind, batch, threads) : Promise.resolve(jaxEncoder(ckpt, kind, batch));
}

export type EmbedFilesOptions = { decode: DecodeImageOptions; log: JsonlLog | null; onBatch?: (images: number) => void };

/** Runs `encoder` over `files` in its batches; returns their rows, [N, ...rowShape] flattened. */
export async function embedFiles(
  encoder: ImageEncoder,
  files: string[],
  { decode, log, onBatch }: EmbedFilesOptions,
): Promise<Float32Array> {
  const { batch } = encoder;
  const rowSize = encoder.rowShape.reduce((a, b) => a * b, 1);
  const plane = 3 * decode.size * decode.size;
  const result = new Float32Array(files.length * rowSize);
  const decodeBatch = async (start: number) => {
    const pixels = new Float32Array(batch * plane); // the tail stays zero: padding for the last batch
    pixels.set(await decodeImageBatch(files.slice(start, start + batch), decode));
    return pixels;
  };
  let next = decodeBatch(0);
  for (let start = 0; start < files.length; start += batch) {
    const t0 = performance.now();
    const pixels = await next;
    if (start + batch < files.length) {
      next = decodeBatch(start + batch); // decode ahead while the model runs
      next.catch(() => {}); // awaited next turn; not an unhandled rejection if this turn throws
    }
    const count = Math.min(batch, files.length - start);
    const values = await encoder.encode(pixels);
    result.set(values.subarray(0, count * rowSize), start * rowSize);
    const seconds = (performance.now() - t0) / 1000;
    log?.write({ event: "batch", start, images: count, seconds, images_per_s: count / seconds });
    onBatch?.(count);
  }
  return result;
}
