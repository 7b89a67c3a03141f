/**
 * The ViT encoder as pure functions over a timm-layout parameter tree.
 *
 * Shapes: B batch, L = 1 + patches tokens, N patches, D width, H heads, P = 3·p·p.
 * Ownership: functions consume their array arguments (jax-js convention); callers that keep
 * `params` across calls pass `tree.ref(params)`.
 */
import { nn, numpy as np, random, type Array } from "../engine/jax.js";
import { MAX_PREDICTED_AGE, NUM_AGE_BINS, type HeadActivation } from "./head-activations.js";
import { numPatches, type VitConfig } from "./vit-presets.js";
import { sincosPosEmbed } from "./pos-embed.js";

export type Linear = { weight: Array; bias: Array };
export type LayerNorm = { weight: Array; bias: Array };
export type Block = {
  norm1: LayerNorm;
  attn: { qkv: Linear; proj: Linear };
  norm2: LayerNorm;
  mlp: { fc1: Linear; fc2: Linear };
};
export type VitParams = {
  patch_embed: { proj: Linear };
  cls_token: Array;
  pos_embed: Array;
  blocks: Block[];
  norm: LayerNorm;
};

// ---- init (MAE's recipe: xavier-uniform linears, sin-cos position table, normal tokens) ----

function xavierLinear(key: Array, outDim: number, inDim: number, fanShape: number[] = [outDim, inDim]): Linear {
  const limit = Math.sqrt(6 / (inDim + outDim));
  return {
    weight: random.uniform(key, fanShape, { minval: -limit, maxval: limit }),
    bias: np.zeros([outDim]),
  };
}

export function initLayerNorm(dim: number): LayerNorm {
  return { weight: np.ones([dim]), bias: np.zeros([dim]) };
}

export function initLinear(key: Array, outDim: number, inDim: number): Linear {
  return xavierLinear(key, outDim, inDim);
}

export function initBlock(key: Array, dim: number, mlpRatio: number): Block {
  const [k1, k2, k3, k4] = np.unstack(random.split(key, 4));
  const hidden = Math.round(dim * mlpRatio);
  return {
    norm1: initLayerNorm(dim),
    attn: { qkv: xavierLinear(k1!, 3 * dim, dim), proj: xavierLinear(k2!, dim, dim) },
    norm2: initLayerNorm(dim),
    mlp: { fc1: xavierLinear(k3!, hidden, dim), fc2: xavierLinear(k4!, dim, hidden) },
  };
}

export function initVit(key: Array, cfg: VitConfig): VitParams {
  const { embedDim: d, patchSize: p } = cfg;
  const keys = np.unstack(random.split(key, cfg.depth + 2));
  const grid = cfg.imgSize / p;
  return {
    patch_embed: { proj: xavierLinear(keys[0]!, d, 3 * p * p, [d, 3, p, p]) },
    cls_token: random.normal(keys[1]!, [1, 1, d]).mul(0.02),
    pos_embed: np.array(sincosPosEmbed(d, grid)).reshape([1, 1 + grid * grid, d]),
    blocks: keys.slice(2).map((k) => initBlock(k, d, cfg.mlpRatio)),
    norm: initLayerNorm(d),
  };
}

// ---- layers ----

/**
 * The same values, laid out contiguously. jax-js fuses view ops (transpose, reshape) into the
 * loads of whatever consumes them; a matmul that reads through a transpose runs about 40x slower
 * on wasm. A non-view op makes jax-js write its result out in its own layout; negating twice is
 * one it does not fold away (it does fold a multiply by 1).
 */
export function contiguous(x: Array): Array {
  return np.negative(np.negative(x));
}

/** x [..., in] -> [..., out] with a timm-layout weight [out, in]. */
export function linear(p: Linear, x: Array): Array {
  return np.matmul(x, p.weight.transpose()).add(p.bias);
}

export function layerNorm(p: LayerNorm, x: Array, eps: number): Array {
  const mean = x.ref.mean(-1, { keepdims: true });
  const centred = x.sub(mean);
  const variance = np.square(centred.ref).mean(-1, { keepdims: true });
  return centred
    .mul(np.reciprocal(np.sqrt(variance.add(eps))))
    .mul(p.weight)
    .add(p.bias);
}

/**
 * x [B, L, D] -> [B, L, D], multi-head self-attention, computed heads-first ([B, H, L, D/H]).
 * The output projection runs per head and sums over heads: on the wasm backend, projecting the
 * re-interleaved [B, L, D] attention output instead is about 20x slower (the fused matmul then
 * reads it through a transposed view).
 */
export function attention(p: Block["attn"], x: Array, numHeads: number): Array {
  const [b, l, d] = x.shape as [number, number, number];
  const headDim = d / numHeads;
  const qkv = contiguous(linear(p.qkv, x).reshape([b, l, 3, numHeads, headDim]).transpose([2, 0, 3, 1, 4]));
  const [q, k, v] = np.unstack(qkv, 0) as [Array, Array, Array];
  const scores = np.matmul(q.mul(1 / Math.sqrt(headDim)), k.transpose([0, 1, 3, 2]));
  const heads = np.matmul(nn.softmax(scores, -1), v);
  const projPerHead = p.proj.weight.reshape([d, numHeads, headDim]).transpose([1, 2, 0]).reshape([1, numHeads, headDim, d]);
  return np.matmul(heads, projPerHead).sum(1).add(p.proj.bias);
}

export function mlp(p: Block["mlp"], x: Array): Array {
  return linear(p.fc2, nn.gelu(linear(p.fc1, x), { approximate: false }));
}

/**
 * Stochastic depth for training (timm's DropPath): each residual branch of block i is dropped for
 * a whole sample with probability rate · i / (depth − 1), and kept ones are scaled by 1/(1 − that),
 * so the expected output is the full network's. `firstBlock` is the depth index of the first
 * block run (fine-tuning the last blocks alone keeps their rates).
 */
export type DropPath = { rate: number; key: Array; firstBlock?: number };

/** branch [B, L, D] with whole samples zeroed with probability `rate` and the rest scaled up; consumes both. */
function dropSamples(branch: Array, rate: number, key: Array): Array {
  if (rate === 0) {
    key.dispose();
    return branch;
  }
  const keep = random.bernoulli(key, 1 - rate, [branch.shape[0]!, 1, 1]).astype(branch.dtype);
  return branch.mul(keep.mul(1 / (1 - rate)));
}

/** One pre-norm block; with `drop` (a rate and two keys) its residual branches take DropPath. */
export function block(p: Block, x: Array, cfg: VitConfig, drop?: { rate: number; keys: [Array, Array] }): Array {
  const branch = (value: Array, i: 0 | 1) => (drop ? dropSamples(value, drop.rate, drop.keys[i]) : value);
  const y = x.ref.add(branch(attention(p.attn, layerNorm(p.norm1, x, cfg.lnEps), cfg.numHeads), 0));
  return y.ref.add(branch(mlp(p.mlp, layerNorm(p.norm2, y, cfg.lnEps)), 1));
}

/** images [B, 3, S, S] -> patches [B, N, P], rows in (c, i, j) order to match the conv kernel. */
export function patchify(images: Array, patchSize: number): Array {
  const [b, c, h, w] = images.shape as [number, number, number, number];
  const gh = h / patchSize;
  const gw = w / patchSize;
  const patches = images.reshape([b, c, gh, patchSize, gw, patchSize]).transpose([0, 2, 4, 1, 3, 5]);
  return contiguous(patches).reshape([b, gh * gw, c * patchSize * patchSize]);
}

/** images [B, 3, S, S] -> patch tokens [B, N, D] with position embeddings added. */
export function embedPatches(params: Pick<VitParams, "patch_embed" | "pos_embed">, images: Array, cfg: VitConfig): Array {
  const { weight, bias } = params.patch_embed.proj;
  const d = cfg.embedDim;
  const flatKernel = weight.reshape([d, 3 * cfg.patchSize * cfg.patchSize]);
  const tokens = linear({ weight: flatKernel, bias }, patchify(images, cfg.patchSize));
  const patchPos = params.pos_embed.slice([], [1, 1 + numPatches(cfg)], []);
  return tokens.add(patchPos);
}

/** The class token with its position embedding, [B, 1, D]. */
export function classToken(params: Pick<VitParams, "cls_token" | "pos_embed">, batch: number, d: number): Array {
  const token = params.cls_token.add(params.pos_embed.slice([], [0, 1], []));
  return np.broadcastTo(token, [batch, 1, d]);
}

/** Runs the blocks and the final norm over tokens [B, L, D]; consumes `blocks`, `norm` and the DropPath key. */
export function encodeTokens(params: Pick<VitParams, "blocks" | "norm">, tokens: Array, cfg: VitConfig, dropPath?: DropPath): Array {
  const n = params.blocks.length;
  const keys = dropPath ? np.unstack(random.split(dropPath.key, 2 * n)) : [];
  const rateOf = (i: number) => (dropPath!.rate * ((dropPath!.firstBlock ?? 0) + i)) / Math.max(1, cfg.depth - 1);
  const x = params.blocks.reduce(
    (h, p, i) => block(p, h, cfg, dropPath ? { rate: rateOf(i), keys: [keys[2 * i]!, keys[2 * i + 1]!] } : undefined),
    tokens,
  );
  return layerNorm(params.norm, x, cfg.lnEps);
}

/** images [B, 3, S, S] -> the tokens the first block sees, [B, 1 + N, D] (class token first). */
export function embedImages(params: Pick<VitParams, "patch_embed" | "cls_token" | "pos_embed">, images: Array, cfg: VitConfig): Array {
  const batch = images.shape[0]!;
  const patches = embedPatches({ patch_embed: params.patch_embed, pos_embed: params.pos_embed.ref }, images, cfg);
  return np.concatenate([classToken(params, batch, cfg.embedDim), patches], 1);
}

/** timm's forward_features: images [B, 3, S, S] -> tokens [B, 1 + N, D] after the final norm. */
export function vitFeatures(params: VitParams, images: Array, cfg: VitConfig, dropPath?: DropPath): Array {
  return encodeTokens(params, embedImages(params, images, cfg), cfg, dropPath);
}

/** timm's pooling: tokens [B, 1 + N, D] -> [B, D], the class token or the mean of patch tokens. */
export function poolTokens(tokens: Array, pool: VitConfig["globalPool"]): Array {
  if (pool === "token") return tokens.slice([], 0, []);
  return tokens.slice([], [1], []).mean(1);
}

// ---- head (timm's forward_head) ----

/** timm's head keys: `fc_norm`, the optional LayerNorm on the pooled features, then `head`, a linear [K, D]. */
export type VitHead = { fc_norm?: LayerNorm; head: Linear };

/** timm's LayerNorm eps for ViTs, which fc_norm keeps whatever the encoder's. */
export const HEAD_LN_EPS = 1e-6;

/** pooled [B, D] -> logits [B, K] through `fc_norm` (when present) and `head`. */
export function headLogits(p: VitHead, pooled: Array, lnEps = HEAD_LN_EPS): Array {
  const normed = p.fc_norm ? layerNorm(p.fc_norm, pooled, lnEps) : pooled;
  return linear(p.head, normed);
}

/**
 * timm's forward_head: tokens [B, 1 + N, D] (from vitFeatures, timm's forward_features) ->
 * pooled [B, D] -> logits [B, K] through `head`. Without a head, the pooled features: timm's
 * pre_logits, what probes and embeddings read.
 */
export function vitHead(tokens: Array, pool: VitConfig["globalPool"], head?: VitHead, lnEps = HEAD_LN_EPS): Array {
  const pooled = poolTokens(tokens, pool);
  return head ? headLogits(head, pooled, lnEps) : pooled;
}

/** The ages 0..100 of an expected-age head's bins, [101] in `dtype`. */
export function binAges(dtype: Array["dtype"]): Array {
  return np.arange(0, NUM_AGE_BINS, 1, { dtype });
}

/** logits [B, 101] -> expected age [B] in years: softmax over the age bins, then the expectation. */
export function expectedAge(logits: Array): Array {
  const ages = binAges(logits.dtype);
  return nn.softmax(logits, -1).mul(ages).sum(-1);
}

/**
 * logits [B, 101] -> median age [B] in years: the age below which half of the softmax's probability
 * lies, bin a spreading its probability evenly over [a − ½, a + ½], clamped to 0..100. The median
 * minimises the expected absolute error, the MAE a user meets; the mean minimises the squared error
 * and a wide distribution pulls it towards the middle of the ages. The share of bin a below the
 * median is (½ − P(age < a)) / p_a clipped to [0, 1], and those shares sum to the median + ½.
 */
export function medianAge(logits: Array): Array {
  const p = nn.softmax(logits, -1);
  const below = np.cumsum(p.ref, -1).sub(p.ref);
  // + 1e-30: a bin whose probability underflowed to 0 lies wholly on one side (share 0 or 1).
  const share = np.clip(below.neg().add(0.5).div(p.add(1e-30)), 0, 1);
  return np.clip(share.sum(-1).sub(0.5), 0, MAX_PREDICTED_AGE);
}

/** logits [B, K] -> a head's output (head-activations.ts): probabilities [B, K], or ages [B] in years. */
export function activate(activation: HeadActivation, logits: Array): Array {
  if (activation === "sigmoid") return nn.sigmoid(logits);
  if (activation === "softmax") return nn.softmax(logits, -1);
  return activation === "median-age" ? medianAge(logits) : expectedAge(logits);
}
