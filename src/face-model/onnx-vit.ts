/**
 * The face encoder, and optionally task heads, as one ONNX model (opset 17), built from host
 * tensors with timm's names. The graph computes what src/model/vit.ts computes:
 *
 *   image [N, 3, S, S], RGB in [0, 1]
 *     -> (x - mean) / std -> patch conv + pos_embed, class token -> blocks -> norm   tokens [N, L, D]   vitFeatures
 *     -> the class token or the mean of the patch tokens (cfg.globalPool)          features [N, D]    vitHead
 *     -> per head: fc_norm? -> linear -> sigmoid | softmax | expected age          <task> [N, K] or [N]  headLogits, activate
 *
 * A head with `greyInput` (trained on grey faces only: FER2013, CK+) reads the features of the
 * grey copy of each image (Rec. 601 luma in all three channels): the encoder then runs once over
 * the colour and grey images together, [2N, ...], and `features` are the colour half's. With
 * `mirrorAverage` each image also runs mirrored (left-right), and its features are the mean of the
 * two, so that a face and its mirror image get the same answers (test-time flip).
 *
 * N is dynamic. Changed layouts, all folded here once, in float32: linear weights are stored
 * transposed ([in, out], for MatMul), qkv is split into q, k and v with the attention scale
 * 1/sqrt(D/H) folded into q, and the class token is stored with its position embedding added.
 * Exact GELU is written as x·(1 + erf(x/√2))/2, the pattern onnxruntime fuses into one op.
 */
import { checkVitTensors } from "../checkpoint/vit-checkpoint.js";
import type { TensorMap } from "../checkpoint/safetensors.js";
import type { Normalization } from "../checkpoint/vit-metadata.js";
import { FacepriorError } from "../errors.js";
import {
  HEAD_ACTIVATIONS,
  LUMA_WEIGHTS,
  MAX_PREDICTED_AGE,
  NUM_AGE_BINS,
  predictsAge,
  type HeadActivation,
} from "../model/head-activations.js";
import { numPatches, type VitConfig } from "../model/vit-presets.js";
import { HEAD_LN_EPS } from "../model/vit.js";
import { OnnxGraphBuilder } from "../engine/onnx-graph.js";
import { encodeOnnxModel, type OnnxValueInfo } from "../engine/onnx-proto.js";

export const IMAGE_INPUT = "image";
export const FEATURES_OUTPUT = "features";
export const TOKENS_OUTPUT = "tokens";
export const PREFIX_OUTPUT = "prefix_tokens";

/** Graph names a head may not take. */
const RESERVED_NAMES = [IMAGE_INPUT, FEATURES_OUTPUT, TOKENS_OUTPUT, PREFIX_OUTPUT];

/** A head on pooled features, in timm's layout; its output is named `name` (a task, or a user's head). */
export type OnnxHead = {
  name: string;
  /** `head.weight` [K, D]. */
  weight: Float32Array;
  /** `head.bias` [K]. */
  bias: Float32Array;
  /** `fc_norm`, a LayerNorm (eps 1e-6) before the linear layer. */
  fcNorm?: { weight: Float32Array; bias: Float32Array };
  /** What the logits become (model/head-activations.ts); expected-age gives years, [N]. */
  activation: HeadActivation;
  /** Read the features of the grey copy of the image (a head trained on grey faces only). */
  greyInput?: boolean;
};

export type FaceOnnxInput = {
  /** The encoder's tensors with timm's names, float32 (F16 files are converted when read). */
  tensors: TensorMap;
  cfg: VitConfig;
  normalization: Normalization;
  heads?: readonly OnnxHead[];
  /** Also output `tokens` [N, 1 + patches, D], the final norm's output. */
  tokens?: boolean;
  /** Also output `prefix_tokens` [N, 1 + patches, D], what block `prefixBlocks` sees (1..depth-1). */
  prefixBlocks?: number;
  /** Features are the mean of each image's and its mirror image's (FaceModel.mirrorAverage). */
  mirrorAverage?: boolean;
  /** Names the tensors in error messages (the checkpoint's path). */
  source?: string;
};

type Linear = { weight: Float32Array; bias?: Float32Array };
type Norm = { weight: Float32Array; bias: Float32Array };

/** The model as ONNX bytes, ready for onnxruntime or a file. */
export function buildFaceOnnx({
  tensors,
  cfg,
  normalization,
  heads = [],
  tokens = false,
  prefixBlocks,
  mirrorAverage = false,
  source = "tensors",
}: FaceOnnxInput): Uint8Array {
  checkVitTensors(tensors, cfg, source, "its config");
  checkHeads(heads, cfg.embedDim);
  const g = new OnnxGraphBuilder();
  const param = (name: string) => tensors[name]!.data as Float32Array;
  if (prefixBlocks !== undefined && !(Number.isInteger(prefixBlocks) && prefixBlocks >= 1 && prefixBlocks < cfg.depth)) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `prefixBlocks ${prefixBlocks}: the encoder has ${cfg.depth} blocks. Pass 1 to ${cfg.depth - 1}.`,
    );
  }
  const grey = heads.some((h) => h.greyInput);
  if ((grey || mirrorAverage) && (tokens || prefixBlocks !== undefined)) {
    const what = grey ? "heads with grey input" : "mirror averaging";
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `buildFaceOnnx: ${what} and token outputs together are not supported. Export tokens without heads or mirror averaging.`,
    );
  }
  const views = mirrorAverage ? g.op("Concat", [IMAGE_INPUT, mirrored(g, IMAGE_INPUT)], { axis: { int: 0 } }) : IMAGE_INPUT;
  const pixels = grey ? g.op("Concat", [views, greyCopy(g, views)], { axis: { int: 0 } }) : views;
  const tokensName = encodeImage(g, param, cfg, normalize(g, pixels, normalization), tokens ? TOKENS_OUTPUT : undefined, prefixBlocks);
  const single = !grey && !mirrorAverage;
  const pooled = pool(g, tokensName, cfg.globalPool, single ? FEATURES_OUTPUT : undefined);
  const perImage = mirrorAverage ? mirrorMean(g, pooled, grey ? 2 : 1, cfg.embedDim, grey ? undefined : FEATURES_OUTPUT) : pooled;
  const [features, greyFeatures] = grey ? splitHalves(g, perImage, IMAGE_INPUT, FEATURES_OUTPUT) : [perImage, perImage];
  for (const head of heads) headOutput(g, head, head.greyInput ? greyFeatures : features, cfg.embedDim);

  const n = "N";
  const outputs: OnnxValueInfo[] = [
    { name: FEATURES_OUTPUT, shape: [n, cfg.embedDim] },
    ...(tokens ? [{ name: TOKENS_OUTPUT, shape: [n, 1 + numPatches(cfg), cfg.embedDim] }] : []),
    ...(prefixBlocks !== undefined ? [{ name: PREFIX_OUTPUT, shape: [n, 1 + numPatches(cfg), cfg.embedDim] }] : []),
    ...heads.map((h) => ({ name: h.name, shape: predictsAge(h.activation) ? [n] : [n, h.bias.length] })),
  ];
  const graph = g.build("faceprior_vit", [{ name: IMAGE_INPUT, shape: [n, 3, cfg.imgSize, cfg.imgSize] }], outputs);
  return encodeOnnxModel({
    graph,
    producerName: "faceprior",
    docString: `${IMAGE_INPUT}: float32 [N, 3, ${cfg.imgSize}, ${cfg.imgSize}], RGB in [0, 1], normalised inside the graph.`,
    metadata: { "faceprior.config": JSON.stringify(cfg), "faceprior.normalization": JSON.stringify(normalization) },
  });
}

function checkHeads(heads: readonly OnnxHead[], d: number): void {
  const seen = new Set<string>();
  heads.forEach((head, i) => {
    const bad = (problem: string, fix: string) => new FacepriorError("BAD_ARGUMENT", `heads[${i}] (${head.name}): ${problem}. ${fix}.`);
    if (!/^[a-z][a-z0-9_]*$/i.test(head.name) || RESERVED_NAMES.includes(head.name)) {
      throw bad("is not a usable head name", `Use letters, digits and _ starting with a letter, other than ${RESERVED_NAMES.join(", ")}`);
    }
    if (seen.has(head.name)) throw bad("a second head with this name", "Give each head its own name");
    seen.add(head.name);
    const k = head.bias.length;
    if (k === 0 || head.weight.length !== k * d) {
      throw bad(
        `weight has ${head.weight.length} values and bias ${k}`,
        `Pass weight [K, D] and bias [K] with K > 0 and D = ${d}, the encoder's width`,
      );
    }
    if (head.fcNorm && (head.fcNorm.weight.length !== d || head.fcNorm.bias.length !== d)) {
      throw bad(`fcNorm has ${head.fcNorm.weight.length} weights and ${head.fcNorm.bias.length} biases`, `Pass ${d} of each`);
    }
    if (!HEAD_ACTIVATIONS.includes(head.activation))
      throw bad(`activation "${head.activation}" is unknown`, `Use one of ${HEAD_ACTIVATIONS.join(", ")}`);
    if (predictsAge(head.activation) && k !== NUM_AGE_BINS)
      throw bad(`${head.activation} needs ${NUM_AGE_BINS} logits (ages 0-100), got ${k}`, "Pass the age head");
  });
}

// ---- folding layouts on the host ----

/** [rows, cols] -> [cols, rows]. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

function scaled(data: Float32Array, factor: number): Float32Array {
  return data.map((v) => v * factor);
}

/** timm's fused qkv ([3D, D] weight, rows q then k then v) as three linears, q pre-scaled. */
function splitQkv(param: (name: string) => Float32Array, prefix: string, cfg: VitConfig): [Linear, Linear, Linear] {
  const d = cfg.embedDim;
  const weight = param(`${prefix}.weight`);
  const bias = cfg.qkvBias ? param(`${prefix}.bias`) : undefined;
  const part = (i: number): Linear => ({ weight: weight.subarray(i * d * d, (i + 1) * d * d), bias: bias?.subarray(i * d, (i + 1) * d) });
  const scale = 1 / Math.sqrt(d / cfg.numHeads);
  const q = part(0);
  return [{ weight: scaled(q.weight, scale), bias: q.bias && scaled(q.bias, scale) }, part(1), part(2)];
}

// ---- graph pieces; each takes input names and returns its output's name ----

function normalize(g: OnnxGraphBuilder, image: string, { mean, std }: Normalization): string {
  const centred = g.op("Sub", [image, g.weight("normalization.mean", [1, 3, 1, 1], Float32Array.from(mean))]);
  return g.op("Div", [centred, g.weight("normalization.std", [1, 3, 1, 1], Float32Array.from(std))]);
}

/** x [..., in] -> [..., out] for a timm weight [out, in]. */
function linear(g: OnnxGraphBuilder, name: string, p: Linear, x: string, inDim: number, outDim: number): string {
  const product = g.op("MatMul", [x, g.weight(`${name}.weight_t`, [inDim, outDim], transposed(p.weight, outDim, inDim))]);
  return p.bias ? g.op("Add", [product, g.weight(`${name}.bias`, [outDim], p.bias)]) : product;
}

function layerNorm(g: OnnxGraphBuilder, name: string, p: Norm, x: string, eps: number, output?: string): string {
  const dims = [p.weight.length];
  const inputs = [x, g.weight(`${name}.weight`, dims, p.weight), g.weight(`${name}.bias`, dims, p.bias)];
  return g.op("LayerNormalization", inputs, { axis: { int: -1 }, epsilon: { float: eps } }, output);
}

/** pixels [N, 3, S, S] -> tokens [N, 1 + patches, D] after the final norm; block `prefixBlocks`' input is output PREFIX_OUTPUT. */
function encodeImage(
  g: OnnxGraphBuilder,
  param: (name: string) => Float32Array,
  cfg: VitConfig,
  pixels: string,
  output?: string,
  prefixBlocks?: number,
): string {
  const x = embed(g, param, cfg, pixels);
  const norm = (name: string) => ({ weight: param(`${name}.weight`), bias: param(`${name}.bias`) });
  const hidden = Math.round(cfg.embedDim * cfg.mlpRatio);
  const d = cfg.embedDim;
  const blocks = Array.from({ length: cfg.depth }, (_, i) => `blocks.${i}`);
  const encoded = blocks.reduce((h, b, i) => {
    const lin = (name: string) => ({ weight: param(`${b}.${name}.weight`), bias: param(`${b}.${name}.bias`) });
    const attended = g.op("Add", [h, attention(g, b, param, cfg, layerNorm(g, `${b}.norm1`, norm(`${b}.norm1`), h, cfg.lnEps))]);
    const normed = layerNorm(g, `${b}.norm2`, norm(`${b}.norm2`), attended, cfg.lnEps);
    const mlp = linear(g, `${b}.mlp.fc2`, lin("mlp.fc2"), gelu(g, linear(g, `${b}.mlp.fc1`, lin("mlp.fc1"), normed, d, hidden)), hidden, d);
    return g.op("Add", [attended, mlp], {}, i + 1 === prefixBlocks ? PREFIX_OUTPUT : undefined);
  }, x);
  return layerNorm(g, "norm", norm("norm"), encoded, cfg.lnEps, output);
}

/** pixels [N, 3, S, S] -> [N, 1 + patches, D]: the class token, then the patch tokens, with positions. */
function embed(g: OnnxGraphBuilder, param: (name: string) => Float32Array, cfg: VitConfig, pixels: string): string {
  const { embedDim: d, patchSize: p } = cfg;
  const kernel = g.weight("patch_embed.proj.weight", [d, 3, p, p], param("patch_embed.proj.weight"));
  const conv = g.op("Conv", [pixels, kernel, g.weight("patch_embed.proj.bias", [d], param("patch_embed.proj.bias"))], {
    kernel_shape: { ints: [p, p] },
    strides: { ints: [p, p] },
  });
  const patches = g.op("Transpose", [g.op("Reshape", [conv, g.int64s([0, d, -1])])], { perm: { ints: [0, 2, 1] } });
  const pos = param("pos_embed");
  const placed = g.op("Add", [patches, g.weight("pos_embed.patches", [1, numPatches(cfg), d], pos.subarray(d))]);
  const clsWithPos = param("cls_token").map((v, i) => v + pos[i]!);
  const batch = g.op("Shape", [pixels], { start: { int: 0 }, end: { int: 1 } });
  const clsShape = g.op("Concat", [batch, g.int64s([1, d])], { axis: { int: 0 } });
  const cls = g.op("Expand", [g.weight("cls_token.with_pos", [1, 1, d], clsWithPos), clsShape]);
  return g.op("Concat", [cls, placed], { axis: { int: 1 } });
}

/** x [N, L, D] -> [N, L, D], multi-head self-attention. */
function attention(g: OnnxGraphBuilder, block: string, param: (name: string) => Float32Array, cfg: VitConfig, x: string): string {
  const d = cfg.embedDim;
  const h = cfg.numHeads;
  const [q, k, v] = splitQkv(param, `${block}.attn.qkv`, cfg);
  const split = g.int64s([0, 0, h, d / h]);
  // [N, L, D] -> [N, L, H, D/H] -> heads-first; keys go straight to [N, H, D/H, L] for q·kᵀ.
  const heads = (name: string, p: Linear, perm: number[]) =>
    g.op("Transpose", [g.op("Reshape", [linear(g, `${block}.attn.${name}`, p, x, d, d), split])], { perm: { ints: perm } });
  const scores = g.op("MatMul", [heads("q", q, [0, 2, 1, 3]), heads("k", k, [0, 2, 3, 1])]);
  const mixed = g.op("MatMul", [g.op("Softmax", [scores], { axis: { int: -1 } }), heads("v", v, [0, 2, 1, 3])]);
  const merged = g.op("Reshape", [g.op("Transpose", [mixed], { perm: { ints: [0, 2, 1, 3] } }), g.int64s([0, 0, d])]);
  const proj = { weight: param(`${block}.attn.proj.weight`), bias: param(`${block}.attn.proj.bias`) };
  return linear(g, `${block}.attn.proj`, proj, merged, d, d);
}

/** Exact GELU, x·(1 + erf(x/√2))/2. */
function gelu(g: OnnxGraphBuilder, x: string): string {
  const erf = g.op("Erf", [g.op("Div", [x, g.scalar(Math.SQRT2)])]);
  return g.op("Mul", [g.op("Mul", [x, g.op("Add", [erf, g.scalar(1)])]), g.scalar(0.5)]);
}

/** tokens [N, L, D] -> features [N, D]. */
function pool(g: OnnxGraphBuilder, tokens: string, globalPool: VitConfig["globalPool"], output?: string): string {
  if (globalPool === "token") return g.op("Gather", [tokens, g.int64s([0], [])], { axis: { int: 1 } }, output);
  const patches = g.op("Slice", [tokens, g.int64s([1]), g.int64s([Number.MAX_SAFE_INTEGER]), g.int64s([1])]);
  return g.op("ReduceMean", [patches], { axes: { ints: [1] }, keepdims: { int: 0 } }, output);
}

/** image [N, 3, S, S] -> its grey copy, luma in each channel. */
function greyCopy(g: OnnxGraphBuilder, image: string): string {
  const luma = g.op(
    "ReduceSum",
    [g.op("Mul", [image, g.weight("luma_weights", [1, 3, 1, 1], Float32Array.from(LUMA_WEIGHTS))]), g.int64s([1])],
    { keepdims: { int: 1 } },
  );
  return g.op("Concat", [luma, luma, luma], { axis: { int: 1 } });
}

/** image [N, C, H, W] -> its mirror image (columns reversed). */
function mirrored(g: OnnxGraphBuilder, image: string): string {
  const last = g.int64s([Number.MIN_SAFE_INTEGER]); // clamped to "before column 0" when stepping backwards
  return g.op("Slice", [image, g.int64s([-1]), last, g.int64s([3]), g.int64s([-1])]);
}

/**
 * pooled [G·2N, D], G groups (colour, grey) each of N images then their N mirror images -> [G·N, D],
 * each image's features the mean of its own and its mirror's.
 */
function mirrorMean(g: OnnxGraphBuilder, pooled: string, groups: number, d: number, output?: string): string {
  const paired = g.op("Reshape", [pooled, g.int64s([groups, 2, -1, d])]);
  const mean = g.op("ReduceMean", [paired], { axes: { ints: [1] }, keepdims: { int: 0 } });
  return g.op("Reshape", [mean, g.int64s([-1, d])], {}, output);
}

/** x [2N, D] -> its first N rows (output `firstName`) and its last N, N being the batch of `image`. */
function splitHalves(g: OnnxGraphBuilder, x: string, image: string, firstName: string): [string, string] {
  const n = g.op("Slice", [g.op("Shape", [image]), g.int64s([0]), g.int64s([1])]);
  const first = g.op("Slice", [x, g.int64s([0]), n, g.int64s([0])], {}, firstName);
  const second = g.op("Slice", [x, n, g.int64s([Number.MAX_SAFE_INTEGER]), g.int64s([0])]);
  return [first, second];
}

/** features [N, D] -> the head's predictions, output `head.name`. */
function headOutput(g: OnnxGraphBuilder, head: OnnxHead, features: string, d: number): string {
  const k = head.bias.length;
  const normed = head.fcNorm ? layerNorm(g, `${head.name}.fc_norm`, head.fcNorm, features, HEAD_LN_EPS) : features;
  const logits = linear(g, `${head.name}.head`, head, normed, d, k);
  const softmax = (output?: string) => g.op("Softmax", [logits], { axis: { int: -1 } }, output);
  switch (head.activation) {
    case "sigmoid":
      return g.op("Sigmoid", [logits], {}, head.name);
    case "softmax":
      return softmax(head.name);
    case "expected-age": {
      // [N, K] · ages [K] -> [N], years
      const ages = g.weight(
        `${head.name}.bin_ages`,
        [k],
        Float32Array.from({ length: k }, (_, a) => a),
      );
      return g.op("MatMul", [softmax(), ages], {}, head.name);
    }
    case "median-age": {
      // vit.ts medianAge: each bin's share below the median, clipped to [0, 1], summed, − ½.
      const p = softmax();
      const below = g.op("CumSum", [p, g.int64s([1], [])], { exclusive: { int: 1 } });
      const share = g.op("Div", [g.op("Sub", [g.scalar(0.5), below]), g.op("Add", [p, g.scalar(1e-30)])]);
      const clipped = g.op("Clip", [share, g.scalar(0), g.scalar(1)]);
      const years = g.op("Sub", [g.op("ReduceSum", [clipped, g.int64s([-1])], { keepdims: { int: 0 } }), g.scalar(0.5)]);
      return g.op("Clip", [years, g.scalar(0), g.scalar(MAX_PREDICTED_AGE)], {}, head.name);
    }
  }
}
