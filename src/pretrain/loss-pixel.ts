/**
 * L_pix, pixel-level face parsing: `pixel_head` maps each decoder token to p·p·K logits, the
 * parsing classes of that patch's p·p pixels, with cross-entropy against the parsing prior:
 *
 *   logits = pixel_head(tokens)                     [B, L, p·p·K] read as [B, L, p·p, K]
 *   ce_l   = mean over the p·p pixels of -log softmax(logits)[class]
 *   L_pix  = Σ_l mask_l · ce_l / Σ_l mask_l
 *
 * Averaged over the pixels of the masked patches only, the same patches L_mim scores: the model
 * must infer the facial layout it cannot see from the visible evidence (METHOD.md §2). Pixels
 * inside a patch are in row-major (i, j) order, matching one channel of `patchify`.
 *
 * Shapes: B batch, S image side, L patches, Dd decoder width, K parsing classes.
 */
import { nn, type Array } from "../engine/jax.js";
import { contiguous, initLinear, linear, type Linear } from "../model/vit.js";
import { PARSING_CLASSES } from "../priors/face-sample.js";
import type { MaeConfig } from "./mae-config.js";
import { meanOverMasked } from "./masking.js";

export type PixelHead = Linear;

export const NUM_PARSING_CLASSES = PARSING_CLASSES.length;

/** Linear [p·p·K, Dd], xavier-uniform. */
export function initPixelHead(key: Array, cfg: MaeConfig): PixelHead {
  const p = cfg.encoder.patchSize;
  return initLinear(key, p * p * NUM_PARSING_CLASSES, cfg.decoderWidth);
}

/** parsing [B, S, S] class ids -> [B, L, p·p], each patch's pixels row-major. */
export function patchifyLabels(parsing: Array, patchSize: number): Array {
  const [b, h, w] = parsing.shape as [number, number, number];
  const [gh, gw] = [h / patchSize, w / patchSize];
  const patches = parsing.reshape([b, gh, patchSize, gw, patchSize]).transpose([0, 1, 3, 2, 4]);
  return contiguous(patches).reshape([b, gh * gw, patchSize * patchSize]);
}

/** logits [..., K], labels [...] int32 -> cross-entropy [...]. */
export function crossEntropy(logits: Array, labels: Array): Array {
  const k = logits.shape.at(-1)!;
  return nn.logSoftmax(logits, -1).mul(nn.oneHot(labels, k)).sum(-1).neg();
}

/** L_pix from decoder tokens [B, L, Dd], parsing [B, S, S] int32 and mask [B, L]. */
export function pixelLoss(head: PixelHead, tokens: Array, parsing: Array, mask: Array, patchSize: number): Array {
  const [b, l] = tokens.shape as [number, number];
  const logits = linear(head, tokens).reshape([b, l, patchSize * patchSize, NUM_PARSING_CLASSES]);
  const perPixel = crossEntropy(logits, patchifyLabels(parsing, patchSize));
  return meanOverMasked(perPixel.mean(-1), mask);
}
