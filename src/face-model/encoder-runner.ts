/**
 * The encoder, and a face model's heads, run over many images: `faceprior embed`, transfer's
 * frozen features and FaceAnalyzer all run it. onnxruntime-node runs the graph onnx-vit.ts
 * builds; jax-js runs the same computation (model/vit.ts), jitted:
 *
 *   pixels [n, 3, S, S], RGB in [0, 1]  -> (x - mean) / std with the encoder's normalisation
 *     pooled    features [n, D] (vitHead) and each head's output ([n, K], or [n] for an age head);
 *               with `mirrorAverage`, the mean of each image's features and its mirror image's
 *     tokens    [n, 1 + N, D], the final norm's output (vitFeatures)
 *     prefix    [n, 1 + N, D], what block `blocks` sees
 *
 * Every run is `batch` images, the last one padded (mapFixedBatches): jax-js compiles once, and an
 * image's outputs do not depend on which images share its batch (matrix kernels round
 * differently at other sizes), so the shards of a sharded run give the bytes of one run.
 */
import type { TensorMap } from "../checkpoint/safetensors.js";
import { hostTensorsOf, vitParamsFromTensors } from "../checkpoint/vit-checkpoint.js";
import type { Normalization } from "../checkpoint/vit-metadata.js";
import { jit, numpy as np, tree, type Array } from "../engine/jax.js";
import { FacepriorError } from "../errors.js";
import { buildFaceOnnx, FEATURES_OUTPUT, PREFIX_OUTPUT, TOKENS_OUTPUT, type OnnxHead } from "./onnx-vit.js";
import { LUMA_WEIGHTS } from "../model/head-activations.js";
import { numPatches, type VitConfig } from "../model/vit-presets.js";
import { activate, block, embedImages, headLogits, vitFeatures, vitHead, type VitHead, type VitParams } from "../model/vit.js";
import type { FaceModel } from "./face-model.js";
import { OnnxSession, type InferenceEngine } from "../engine/onnx-session.js";
import { concatFloat32 } from "../engine/host-arrays.js";

/** Each output's values by name, [n, ...its shape per image] flat. */
export type EncoderOutputs = Record<string, Float32Array>;

/** What the encoder gives per image (the module comment); only pooled features feed heads. */
export type EncoderOutput =
  | { kind: "pooled"; pooling: VitConfig["globalPool"]; mirrorAverage?: boolean }
  | { kind: "tokens" }
  | { kind: "prefix"; blocks: number };

/**
 * The encoder to run: host tensors, of which the runner makes its own arrays, or jax-js
 * parameters, borrowed (still the caller's after `dispose`). `source` names it in messages.
 */
export type EncoderWeights = { cfg: VitConfig; normalization: Normalization; source?: string } & (
  | { tensors: TensorMap }
  | { params: VitParams }
);

export type EncoderRunnerOptions = {
  engine: InferenceEngine;
  /** Images per run; the last run of a call is padded to it. */
  batch: number;
  /** onnxruntime's CPU threads. */
  threads?: number;
  /** Default: pooled features, pooled as the encoder's config says. */
  output?: EncoderOutput;
  heads?: readonly OnnxHead[];
};

export type EncoderRunner = {
  readonly engine: InferenceEngine;
  readonly batch: number;
  /** What it computes; `outputName(output)` names it in the outputs. */
  readonly output: EncoderOutput;
  /** Times the forward pass was compiled (traced and jitted by jax-js, loaded by onnxruntime): one per runner. */
  readonly compiles: number;
  /** `n` images [n, 3, S, S], RGB in [0, 1] -> each output, [n, ...]. */
  run(pixels: Float32Array, n: number): Promise<EncoderOutputs>;
  /**
   * `count` images, fetched a batch at a time by `pixelsOf(start, end)` (images start..end-1),
   * the next while the encoder runs; `onBatch` after each batch with its images and seconds.
   */
  map(count: number, pixelsOf: PixelSource, onBatch?: BatchReport): Promise<EncoderOutputs>;
  dispose(): Promise<void>;
};

type PixelSource = (start: number, end: number) => Float32Array | Promise<Float32Array>;
type BatchReport = (images: number, seconds: number) => void;

/** The normalisation that leaves RGB in [0, 1], as a runner takes it (decoders and caches normalise with it). */
export const UNIT_RGB: Normalization = { mean: [0, 0, 0], std: [1, 1, 1] };

/** The name of the output that holds `output` (heads add their own names to pooled features). */
export function outputName(output: EncoderOutput): string {
  return { pooled: FEATURES_OUTPUT, tokens: TOKENS_OUTPUT, prefix: PREFIX_OUTPUT }[output.kind];
}

/** One image's shape of `output`: [D], or [1 + patches, D]. */
export function outputRowShape(output: EncoderOutput, cfg: VitConfig): number[] {
  return output.kind === "pooled" ? [cfg.embedDim] : [1 + numPatches(cfg), cfg.embedDim];
}

/**
 * The batching rule of every run over many inputs: `count` items in batches of exactly `batch`.
 * `prepare(start, end)` gives the input of items start..end-1, padded to `batch` (zeros, or
 * copies of an item); it is called for the next batch while `run` works on this one. `run`
 * returns each output for the whole batch, and the padding rows are dropped.
 */
export async function mapFixedBatches<I>(
  count: number,
  batch: number,
  prepare: (start: number, end: number) => Promise<I>,
  run: (input: I) => Promise<EncoderOutputs>,
  onBatch?: BatchReport,
): Promise<EncoderOutputs> {
  const parts: EncoderOutputs[] = [];
  let next = count > 0 ? prepare(0, Math.min(batch, count)) : null;
  for (let start = 0; start < count; start += batch) {
    const t0 = performance.now();
    const end = Math.min(start + batch, count);
    const input = await next!;
    if (end < count) {
      next = prepare(end, Math.min(end + batch, count));
      next.catch(() => {}); // awaited next turn; not an unhandled rejection if this turn throws
    }
    const outputs = await run(input);
    parts.push(mapValues(outputs, (rows) => rows.subarray(0, (rows.length / batch) * (end - start))));
    onBatch?.(end - start, (performance.now() - t0) / 1000);
  }
  return mapValues(parts[0] ?? {}, (_, name) => concatFloat32(parts.map((part) => part[name]!))); // {} for no items
}

function mapValues<T, U>(record: Record<string, T>, f: (value: T, key: string) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value, key)]));
}

/** `images` padded with zeros to `length` values. */
function zeroPadded(images: Float32Array, length: number): Float32Array {
  if (images.length === length) return images;
  const padded = new Float32Array(length);
  padded.set(images);
  return padded;
}

/** One padded batch [batch, 3, S, S] -> each output for the whole batch. */
type BatchForward = { run(pixels: Float32Array): Promise<EncoderOutputs>; compiles(): number; dispose(): Promise<void> };

/** What a runner computes: `names` are its outputs, `outputName(output)` then the heads'. */
type RunSpec = { output: EncoderOutput; heads: readonly OnnxHead[]; batch: number; names: string[] };

/** onnxruntime on the graph of onnx-vit.ts, with only the asked outputs kept. */
async function onnxForward(encoder: EncoderWeights, { output, heads, batch, names }: RunSpec, threads: number): Promise<BatchForward> {
  const tensors = "tensors" in encoder ? encoder.tensors : await hostTensorsOf(encoder.params);
  const cfg = output.kind === "pooled" ? { ...encoder.cfg, globalPool: output.pooling } : encoder.cfg;
  const prefixBlocks = output.kind === "prefix" ? output.blocks : undefined;
  const mirrorAverage = output.kind === "pooled" && output.mirrorAverage;
  const graph = buildFaceOnnx({ ...encoder, tensors, cfg, heads, tokens: output.kind === "tokens", prefixBlocks, mirrorAverage });
  const session = await OnnxSession.create(graph, { threads });
  return {
    run: async (pixels) => {
      const all = await session.run(pixels, batch);
      return Object.fromEntries(names.map((name) => [name, all[name]!]));
    },
    compiles: () => 1,
    dispose: () => session.dispose(),
  };
}

/** What the jitted forward reads besides the parameters and the pixels. */
type Constants = { mean: Array; std: Array; luma: Array; heads: VitHead[] };

/**
 * pixels [B, 3, S, S] in [0, 1] -> the outputs, as the ONNX graph computes them: grey-input heads
 * read the features of the grey copies, and mirror averaging adds the mirror images, all run in
 * one batch [colour, colour mirrored, grey, grey mirrored].
 */
function forwardOf(cfg: VitConfig, { output, heads }: RunSpec) {
  const grey = heads.some((h) => h.greyInput);
  const mirror = output.kind === "pooled" && output.mirrorAverage === true;
  return (p: VitParams, c: Constants, x: Array): Array[] => {
    const n = x.shape[0]!;
    const views = mirror ? np.concatenate([x.ref, np.flip(x, 3)], 0) : x;
    const greyCopy = () => np.broadcastTo(views.ref.mul(c.luma).sum(1, { keepdims: true }), views.shape);
    const pixels = grey ? np.concatenate([views, greyCopy()], 0) : (c.luma.dispose(), views);
    const images = pixels.sub(c.mean).div(c.std);
    if (output.kind === "tokens") return [vitFeatures(p, images, cfg)];
    if (output.kind === "prefix") return [p.blocks.slice(0, output.blocks).reduce((h, b) => block(b, h, cfg), embedImages(p, images, cfg))];
    const groups = grey ? 2 : 1;
    const all = vitHead(vitFeatures(p, images, cfg), output.pooling);
    const pooled = mirror
      ? all
          .reshape([groups, 2, n, cfg.embedDim])
          .mean(1)
          .reshape([groups * n, cfg.embedDim])
      : all;
    const features = grey ? pooled.ref.slice([0, n], []) : pooled.ref;
    const greyFeatures = grey ? pooled.ref.slice([n, 2 * n], []) : pooled.ref;
    pooled.dispose();
    const outputs = heads.map((spec, i) =>
      activate(spec.activation, headLogits(c.heads[i]!, (spec.greyInput ? greyFeatures : features).ref)),
    );
    greyFeatures.dispose();
    return [features, ...outputs];
  };
}

/** A graph head's tensors as jax-js arrays. */
function jaxHead({ weight, bias, fcNorm }: OnnxHead, dim: number): VitHead {
  const head = { weight: np.array(weight, { shape: [bias.length, dim] }), bias: np.array(bias) };
  return fcNorm ? { fc_norm: { weight: np.array(fcNorm.weight), bias: np.array(fcNorm.bias) }, head } : { head };
}

/** jax-js, jitted once for batches of `batch`. */
function jaxForward(encoder: EncoderWeights, spec: RunSpec): BatchForward {
  const { cfg, normalization } = encoder;
  const owned = "tensors" in encoder;
  const params = owned ? vitParamsFromTensors(encoder.tensors, cfg) : encoder.params;
  const channels = (values: readonly number[]) => np.array(Float32Array.from(values)).reshape([1, 3, 1, 1]);
  const constants: Constants = {
    mean: channels(normalization.mean),
    std: channels(normalization.std),
    luma: channels(LUMA_WEIGHTS),
    heads: spec.heads.map((h) => jaxHead(h, cfg.embedDim)),
  };
  const forwardBatch = forwardOf(cfg, spec);
  let compiles = 0;
  const forward = jit((p: VitParams, c: Constants, x: Array) => {
    compiles++; // the body runs when jax-js traces it: once per input shape
    return forwardBatch(p, c, x);
  });
  return {
    async run(pixels) {
      const x = np.array(pixels, { shape: [spec.batch, 3, cfg.imgSize, cfg.imgSize] });
      const arrays = forward(tree.ref(params), tree.ref(constants), x) as Array[];
      const values = await Promise.all(arrays.map(async (a) => (await a.data()) as Float32Array));
      return Object.fromEntries(spec.names.map((name, i) => [name, values[i]!]));
    },
    compiles: () => compiles,
    async dispose() {
      forward.dispose();
      tree.dispose(owned ? [constants, params] : constants);
    },
  };
}

/** Runs `encoder` with `engine` (onnx needs onnxruntime-node; see chooseEngine). */
export async function createEncoderRunner(encoder: EncoderWeights, options: EncoderRunnerOptions): Promise<EncoderRunner> {
  const { engine, batch, threads = 1, heads = [] } = options;
  const output = options.output ?? { kind: "pooled", pooling: encoder.cfg.globalPool };
  if (heads.length > 0 && output.kind !== "pooled") {
    const fix = "Ask for pooled features, or leave out the heads";
    throw new FacepriorError("BAD_ARGUMENT", `createEncoderRunner: heads read pooled features, but the output is ${output.kind}. ${fix}.`);
  }
  const spec = { output, heads, batch, names: [outputName(output), ...heads.map((h) => h.name)] };
  const forward = engine === "onnx" ? await onnxForward(encoder, spec, threads) : jaxForward(encoder, spec);
  const plane = 3 * encoder.cfg.imgSize * encoder.cfg.imgSize;
  const none = () => Object.fromEntries(spec.names.map((name) => [name, new Float32Array(0)]));
  const map = async (count: number, pixelsOf: PixelSource, onBatch?: BatchReport) =>
    count === 0
      ? none()
      : mapFixedBatches(count, batch, async (start, end) => zeroPadded(await pixelsOf(start, end), batch * plane), forward.run, onBatch);
  return {
    engine,
    batch,
    output,
    get compiles() {
      return forward.compiles();
    },
    run: (pixels, n) => map(n, (start, end) => pixels.subarray(start * plane, end * plane)),
    map,
    dispose: forward.dispose,
  };
}

/** Faces per run of a face model: most photos hold one face, and a padded run costs a full batch. */
export const FACE_BATCH = 1;

/**
 * A face model as it runs: every head, mirror-averaged if the model says so, `batch` faces at a
 * time (FaceAnalyzer: FACE_BATCH).
 */
export function createModelRunner(model: FaceModel, engine: InferenceEngine, threads: number, batch = FACE_BATCH): Promise<EncoderRunner> {
  const output: EncoderOutput = { kind: "pooled", pooling: model.cfg.globalPool, mirrorAverage: model.mirrorAverage ?? false };
  return createEncoderRunner(model, { engine, threads, batch, heads: model.heads, output });
}
