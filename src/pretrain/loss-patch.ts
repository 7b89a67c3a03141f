/**
 * L_patch, patch-level landmark geometry, from the decoder tokens [B, L, Dd] (`patch_head`):
 *
 *  (a) patch_ce: for each of the 68 landmarks, a softmax over the L patch tokens. Logit (l, m) is
 *      ⟨landmark_queries_m, key_proj(token_l)⟩ / sqrt(Dd); cross-entropy against the patch that
 *      holds landmark m, averaged over the landmarks inside the crop (landmark_patch -1 is left
 *      out).
 *  (b) patch_offset: where the landmark sits inside its true patch, (x, y) in 0..1, predicted
 *      from the token of that patch by landmark m's own linear map and a sigmoid; L1 against
 *      landmark_offset, averaged over coordinates and the same landmarks.
 *  (c) patch_hist: each patch's parsing-class histogram: KL(target ‖ softmax(hist(token))),
 *      averaged over the masked patches (as L_pix: the visible ones show their own pixels).
 *
 * L_patch = patch_ce + patch_offset + patch_hist; the three are returned apart for logging.
 * (a) and (b) use every landmark in the crop, visible or masked: the softmax in (a) runs over
 * all L tokens either way.
 *
 * Shapes: B batch, L patches, Dd decoder width, M = 68 landmarks, K parsing classes.
 */
import { nn, numpy as np, random, type Array } from "../engine/jax.js";
import { initLinear, linear, type Linear } from "../model/vit.js";
import type { MaeConfig } from "./mae-config.js";
import { gatherTokens, meanOverMasked } from "./masking.js";
import { NUM_PARSING_CLASSES } from "./loss-pixel.js";

export const NUM_LANDMARKS = 68;

export type PatchHead = {
  /** [M, Dd]: one query per landmark. */
  landmark_queries: Array;
  /** Linear [Dd, Dd]: decoder tokens -> keys for the landmark queries. */
  key_proj: Linear;
  /** Linear [M·2, Dd]: rows 2m, 2m+1 map a token to landmark m's offset logits. */
  offset: Linear;
  /** Linear [K, Dd]: a token's parsing-class histogram logits. */
  hist: Linear;
};

export type PatchTargets = {
  /** [B, M] int32: the patch holding each landmark, -1 outside the crop. */
  landmark_patch: Array;
  /** [B, M, 2]: position inside that patch, 0..1. */
  landmark_offset: Array;
  /** [B, L, K]: class fractions per patch. */
  patch_hist: Array;
};

export type PatchParts = { patch_ce: Array; patch_offset: Array; patch_hist: Array };

export function initPatchHead(key: Array, cfg: MaeConfig): PatchHead {
  const dd = cfg.decoderWidth;
  const [q, k, o, h] = np.unstack(random.split(key, 4)) as Array[];
  return {
    landmark_queries: random.normal(q!, [NUM_LANDMARKS, dd]).mul(0.02),
    key_proj: initLinear(k!, dd, dd),
    offset: initLinear(o!, NUM_LANDMARKS * 2, dd),
    hist: initLinear(h!, NUM_PARSING_CLASSES, dd),
  };
}

/** mean of values [B, M] over the entries where weights [B, M] is 1; 0 when there are none. */
function weightedMean(values: Array, weights: Array): Array {
  return values.mul(weights.ref).sum().div(np.maximum(weights.sum(), 1));
}

/** KL(target ‖ softmax(logits)) over the last axis; target entries of 0 contribute 0. */
export function klFromLogits(target: Array, logits: Array): Array {
  const logTarget = np.log(np.maximum(target.ref, 1e-12));
  return target.mul(logTarget.sub(nn.logSoftmax(logits, -1))).sum(-1);
}

/** The three parts of L_patch (see the file comment); mask [B, L] as in masking.ts. */
export function patchLoss(head: PatchHead, tokens: Array, targets: PatchTargets, mask: Array): PatchParts {
  const [b, l, dd] = tokens.shape as [number, number, number];
  const m = NUM_LANDMARKS;
  const inside = np.greaterEqual(targets.landmark_patch.ref, 0).astype(np.float32); // [B, M]
  const truePatch = np.maximum(targets.landmark_patch, 0); // [B, M], 0 stands in for -1 (weighted out)

  // (a) which patch: logits [B, L, M], a softmax over L for each landmark.
  const keys = linear(head.key_proj, tokens.ref);
  const logits = np.matmul(keys, head.landmark_queries.transpose()).mul(1 / Math.sqrt(dd));
  const onTrue = nn.oneHot(truePatch.ref, l).transpose([0, 2, 1]); // [B, L, M], 1 at the true patch
  const picked = nn.logSoftmax(logits, 1).mul(onTrue).sum(1); // [B, M]
  const patch_ce = weightedMean(picked.neg(), inside.ref);

  // (b) offset inside the true patch, from that patch's token, landmark m's own map.
  const atTrue = gatherTokens(tokens.ref, truePatch).reshape([b, m, 1, dd]);
  const weight = head.offset.weight.reshape([1, m, 2, dd]);
  const offsetLogits = atTrue
    .mul(weight)
    .sum(-1)
    .add(head.offset.bias.reshape([1, m, 2]));
  const l1 = np.abs(nn.sigmoid(offsetLogits).sub(targets.landmark_offset)).mean(-1);
  const patch_offset = weightedMean(l1, inside);

  // (c) class histogram per patch, over the masked patches.
  const kl = klFromLogits(targets.patch_hist, linear(head.hist, tokens));
  const patch_hist = meanOverMasked(kl, mask);
  return { patch_ce, patch_offset, patch_hist };
}
