/**
 * The pretraining objective as ONE loss for the shared train step (src/train/train-step.ts):
 *
 *   L = L_mim + λ_pix·L_pix + λ_patch·L_patch + λ_comp·L_comp
 *   L_patch = patch_ce + patch_offset + patch_hist        L_comp = comp_nce + comp_desc
 *
 * `(params, batch, key) => [L, parts]`. The key gives view 1's mask, and, only when λ_comp > 0,
 * view 2's mask and jitter (the second encoder pass runs only then). View 2 is a target view,
 * as in SimSiam and MoCo: its tokens are taken under a stop-gradient, so the component task
 * costs one extra forward pass of the encoder rather than a forward and a backward (measured:
 * 1.74x the time per image of plain MAE with gradients through both views). Only the terms whose λ is
 * above 0 are computed, and `parts` holds exactly those, unweighted, plus `total` (= L): a `mae`
 * run logs { mim, total }, a `full` run { mim, pix, patch_ce, patch_offset, patch_hist, comp_nce,
 * comp_desc, total }.
 *
 * `pretrainBatch` builds the batch on the host from a prior cache (src/priors/cache-dataset.ts).
 * Shapes: B batch, S image side, L patches, K parsing classes.
 */
import { lax, numpy as np, random, tree, type Array } from "../engine/jax.js";
import { FacepriorError } from "../errors.js";
import { numPatches } from "../model/vit-presets.js";
import { gather, imageBatch, type CacheDataset } from "../priors/cache-dataset.js";
import { columnMoments } from "../train/column-stats.js";
import type { LossFn, LossParts } from "../train/train-step.js";
import { componentCoverage, componentLoss, jitterImages } from "./loss-component.js";
import { mimLoss } from "./loss-mim.js";
import { patchLoss } from "./loss-patch.js";
import { pixelLoss } from "./loss-pixel.js";
import { encoderParams, forwardDecoder, forwardEncoder, type MaeConfig, type MaeParams } from "./mae.js";
import { gatherTokens, randomMasking } from "./masking.js";
import type { LossWeights } from "./variants.js";

/** The encoder's input normalisation for pretraining: (x / 255 - 0.5) / 0.5, pixels in [-1, 1]. */
export const PRETRAIN_MEAN = [0.5, 0.5, 0.5] as const;
export const PRETRAIN_STD = [0.5, 0.5, 0.5] as const;

export type PretrainBatch = {
  /** [B, 3, S, S] float32, normalised with PRETRAIN_MEAN / PRETRAIN_STD. */
  images: Array;
  /** [B, S, S] int32 parsing classes (PARSING_CLASSES). */
  parsing: Array;
  /** [B, L, K] float32: each patch's class fractions. */
  patch_hist: Array;
  /** [B, 68] int32: the patch holding each landmark, -1 outside the crop. */
  landmark_patch: Array;
  /** [B, 68, 2] float32: the landmark's place inside its patch, 0..1. */
  landmark_offset: Array;
  /** [B, 8] float32: COMPONENT_DESCRIPTORS, standardised per descriptor over the cache. */
  descriptors: Array;
};

/** What the loss needs to know; a ResolvedPretrainConfig (config.ts) is one. */
export type PretrainLossConfig = { mae: MaeConfig; weights: LossWeights; temperature: number; jitter: number };

/** The head a λ needs, or an error that says how to build the params. */
function requireHead<T>(head: T | undefined, name: string, lambda: string, value: number): T {
  if (head !== undefined) return head;
  throw new FacepriorError(
    "BAD_ARGUMENT",
    `pretrain loss: ${lambda} is ${value} but the params have no ${name}. Build them with initMae(key, cfg, headsFor(weights)).`,
  );
}

export function makePretrainLoss(cfg: PretrainLossConfig): LossFn<MaeParams, PretrainBatch> {
  const { mae, weights } = cfg;
  const enc = mae.encoder;
  const patches = numPatches(enc);
  return (params, batch, key) => {
    const batchSize = batch.images.shape[0]!;
    const [maskKey1, maskKey2, jitterKey] = np.unstack(random.split(key, 3)) as Array[];
    // Every consumer below gets its own reference; `params` and `batch` are released at the end.
    const view1 = randomMasking(maskKey1!, batchSize, patches, mae.maskRatio);
    const latent1 = forwardEncoder(tree.ref(encoderParams(params)), batch.images.ref, view1.idsKeep.ref, enc);
    const { decoder_embed, mask_token, decoder_pos_embed, decoder_blocks, decoder_norm } = params;
    const decoder = tree.ref({ decoder_embed, mask_token, decoder_pos_embed, decoder_blocks, decoder_norm });
    const decoded = forwardDecoder(decoder, latent1.ref, view1.idsRestore, mae);
    const { patchSize } = enc;
    const parts: LossParts = {};
    parts.mim = mimLoss(tree.ref(params.decoder_pred), decoded.ref, batch.images.ref, view1.mask.ref, {
      patchSize,
      normPixLoss: mae.normPixLoss,
    });
    if (weights.pix > 0) {
      const head = requireHead(params.pixel_head, "pixel_head", "λ_pix", weights.pix);
      parts.pix = pixelLoss(tree.ref(head), decoded.ref, batch.parsing.ref, view1.mask.ref, patchSize);
    }
    if (weights.patch > 0) {
      const head = requireHead(params.patch_head, "patch_head", "λ_patch", weights.patch);
      const { landmark_patch, landmark_offset, patch_hist } = batch;
      const targets = { landmark_patch: landmark_patch.ref, landmark_offset: landmark_offset.ref, patch_hist: patch_hist.ref };
      Object.assign(parts, patchLoss(tree.ref(head), decoded.ref, targets, view1.mask.ref));
    }
    if (weights.comp > 0) {
      const proj = requireHead(params.component_proj, "component_proj", "λ_comp", weights.comp);
      const descriptorHead = requireHead(params.descriptor_head, "descriptor_head", "λ_comp", weights.comp);
      const view2 = randomMasking(maskKey2!, batchSize, patches, mae.maskRatio);
      const jittered = jitterImages(jitterKey!, batch.images.ref, cfg.jitter);
      const latent2 = lax.stopGradient(forwardEncoder(tree.ref(encoderParams(params)), jittered, view2.idsKeep.ref, enc));
      const coverage = componentCoverage(batch.patch_hist.ref);
      const one = { tokens: latent1.ref.slice([], [1], []), coverage: gatherTokens(coverage.ref, view1.idsKeep.ref) };
      const two = { tokens: latent2.slice([], [1], []), coverage: gatherTokens(coverage, view2.idsKeep) };
      const heads = tree.ref({ component_proj: proj, descriptor_head: descriptorHead });
      Object.assign(parts, componentLoss(heads, one, two, batch.descriptors.ref, cfg.temperature));
      tree.dispose([view2.idsRestore, view2.mask]);
    } else {
      tree.dispose([maskKey2!, jitterKey!]);
    }
    tree.dispose([latent1, decoded, view1.idsKeep, view1.mask, params, batch]);
    const total = weightedTotal(parts, weights);
    parts.total = total.ref;
    return [total, parts];
  };
}

/** L from the unweighted parts; borrows them. */
function weightedTotal(parts: LossParts, weights: LossWeights): Array {
  const terms: [string[], number][] = [
    [["pix"], weights.pix],
    [["patch_ce", "patch_offset", "patch_hist"], weights.patch],
    [["comp_nce", "comp_desc"], weights.comp],
  ];
  return terms.reduce(
    (sum, [names, lambda]) => (lambda > 0 ? names.reduce((s, name) => s.add(parts[name]!.ref.mul(lambda)), sum) : sum),
    parts.mim!.ref,
  );
}

const descriptorStatsMemo = new WeakMap<CacheDataset, { mean: Float64Array; std: Float64Array }>();

/** Per-descriptor mean and std over the whole cache (computed once per loaded cache). */
function descriptorStats(cache: CacheDataset): { mean: Float64Array; std: Float64Array } {
  const known = descriptorStatsMemo.get(cache);
  if (known) return known;
  const t = cache.tensors.descriptors!;
  const { mean, variance } = columnMoments(t.data, t.shape[1]!);
  const stats = { mean, std: Float64Array.from(variance, (v) => Math.max(Math.sqrt(v), 1e-6)) };
  descriptorStatsMemo.set(cache, stats);
  return stats;
}

/** Throws, saying how to fix it, unless the cache's crops and patch labels fit the encoder. */
export function checkCacheFits(cache: CacheDataset, mae: MaeConfig): void {
  const { imgSize, patchSize } = mae.encoder;
  const { size, patchSize: cachePatch } = cache.index.options;
  if (size === imgSize && cachePatch === patchSize) return;
  throw new FacepriorError(
    "BAD_CONFIG",
    `prior cache of ${cache.index.dataset.root}: crops are ${size}px with ${cachePatch}px patch labels, the encoder takes ${imgSize}px with ${patchSize}px patches. Prepare the cache with size ${imgSize} and patchSize ${patchSize}, or pick a matching arch.`,
  );
}

/**
 * The batch of faces `faces` (positions in the cache) for the encoder of `cfg.mae`. Descriptors
 * are standardised with the cache's per-descriptor mean and std: raw, they are ratios to the
 * inter-ocular distance whose spread is 0.01-0.2, which would leave comp_desc ~100x smaller than
 * the other terms at λ = 1.
 */
export function pretrainBatch(cache: CacheDataset, faces: readonly number[], cfg: { mae: MaeConfig }): PretrainBatch {
  checkCacheFits(cache, cfg.mae);
  const { size } = cache.index.options;
  const b = faces.length;
  const t = cache.tensors;
  const floats = (name: string) => np.array(gather(t[name]!, faces).data as Float32Array).reshape([b, ...t[name]!.shape.slice(1)]);
  const ints = (name: string) => {
    const g = gather(t[name]!, faces);
    return np.array(Int32Array.from(g.data), { dtype: np.int32 }).reshape([b, ...t[name]!.shape.slice(1)]);
  };
  const { mean, std } = descriptorStats(cache);
  const raw = gather(t.descriptors!, faces).data;
  const k = mean.length;
  const descriptors = Float32Array.from(raw, (v, i) => (v - mean[i % k]!) / std[i % k]!);
  return {
    images: np.array(imageBatch(cache, faces, PRETRAIN_MEAN, PRETRAIN_STD)).reshape([b, 3, size, size]),
    parsing: ints("parsing"),
    patch_hist: floats("patch_hist"),
    landmark_patch: ints("landmark_patch"),
    landmark_offset: floats("landmark_offset"),
    descriptors: np.array(descriptors).reshape([b, k]),
  };
}
