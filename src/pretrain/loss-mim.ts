/**
 * L_mim, MAE's masked pixel reconstruction (models_mae.py, forward_loss):
 *
 *   target = patchify(images)                        [B, L, P], P = 3·p·p in (c, i, j) order
 *   target = (target - mean) / sqrt(var + 1e-6)      per patch, when normPixLoss (norm_pix_loss)
 *   L_mim  = Σ_l mask_l · mean_P (pred - target)²  /  Σ_l mask_l
 *
 * `var` is the unbiased variance over the P values of a patch, as torch's `Tensor.var` that MAE
 * calls. Images arrive normalised for the encoder (mean and std 0.5); the target is that input,
 * patchified with the encoder's own `patchify`. `mask` follows masking.ts.
 */
import { numpy as np, type Array } from "../engine/jax.js";
import { patchify, type Linear } from "../model/vit.js";
import { predictPixels } from "./decoder.js";
import { meanOverMasked } from "./masking.js";

export const NORM_PIX_EPS = 1e-6;

/** images [B, 3, S, S] -> reconstruction targets [B, L, P], per-patch standardised if `normPix`. */
export function pixelTargets(images: Array, patchSize: number, normPix: boolean): Array {
  const target = patchify(images, patchSize);
  if (!normPix) return target;
  const count = target.shape[2]!;
  const mean = target.ref.mean(-1, { keepdims: true });
  const centred = target.sub(mean);
  const variance = np
    .square(centred.ref)
    .sum(-1, { keepdims: true })
    .div(count - 1);
  return centred.mul(np.reciprocal(np.sqrt(variance.add(NORM_PIX_EPS))));
}

/** pred, target [B, L, P], mask [B, L] -> per-patch MSE, averaged over the masked patches. */
export function maskedMse(pred: Array, target: Array, mask: Array): Array {
  return meanOverMasked(np.square(pred.sub(target)).mean(-1), mask);
}

/** L_mim from decoder tokens [B, L, Dd] through `decoder_pred`, against images [B, 3, S, S]. */
export function mimLoss(
  decoderPred: Linear,
  tokens: Array,
  images: Array,
  mask: Array,
  { patchSize, normPixLoss }: { patchSize: number; normPixLoss: boolean },
): Array {
  return maskedMse(predictPixels(decoderPred, tokens), pixelTargets(images, patchSize, normPixLoss), mask);
}
