/**
 * MAE's random masking, from an explicit key, and the two index moves that go with it: the
 * encoder keeps only the visible tokens, the decoder puts them back in place among mask tokens.
 *
 * Shapes: B batch, L patches, Lk = visible patches per sample, D width.
 * Mask convention for all of src/pretrain: 1 = masked (hidden from the encoder), 0 = visible.
 *
 * Both moves are gathers written as one-hot matmuls (see `gatherTokens`), so gradients flow back
 * through them to the tokens (and, for the unshuffle, to the mask token) inside `jit` too.
 * Functions consume their array arguments.
 */
import { nn, numpy as np, random, type Array } from "../engine/jax.js";

export type Masking = {
  /** [B, Lk] int32: the visible patches, in the order the encoder sees them. */
  idsKeep: Array;
  /** [B, L] int32: where patch l sits in the shuffled order; inverts the shuffle. */
  idsRestore: Array;
  /** [B, L] float32 in patch order, by the convention above. */
  mask: Array;
};

/** Visible patches per sample, MAE's `int(L * (1 - ratio))`; at least one. */
export function keptCount(numPatches: number, maskRatio: number): number {
  if (!(maskRatio >= 0 && maskRatio < 1)) throw new Error(`keptCount: mask ratio ${maskRatio} must be in [0, 1)`);
  return Math.max(1, Math.floor(numPatches * (1 - maskRatio)));
}

/**
 * Per-sample uniform noise, argsort (a random permutation per sample), keep the first Lk.
 * Two calls with the same key give the same masks; nothing is read from the host.
 */
export function randomMasking(key: Array, batch: number, numPatches: number, maskRatio: number): Masking {
  const kept = keptCount(numPatches, maskRatio);
  const noise = random.uniform(key, [batch, numPatches]);
  const idsShuffle = np.argsort(noise, 1);
  const idsRestore = np.argsort(idsShuffle.ref, 1);
  const idsKeep = idsShuffle.slice([], [0, kept]);
  // Patch l is visible exactly when its rank in the shuffle is below Lk.
  const mask = np.greaterEqual(idsRestore.ref, kept).astype(np.float32);
  return { idsKeep, idsRestore, mask };
}

/**
 * x [B, L, D], ids [B, Lk] -> [B, Lk, D]: the rows of x named by ids, per sample, computed as
 * one-hot(ids) [B, Lk, L] @ x. A matmul rather than `np.takeAlongAxis`: the gradient of a gather
 * is a scatter, which jax-js 0.1.25's `jit` cannot compile ("routine primitive scatter input is
 * not imm"); the gradient of this matmul is a matmul. It costs B·Lk·L·D multiply-adds, small
 * beside one attention layer.
 */
export function gatherTokens(x: Array, ids: Array): Array {
  const patches = x.shape[1]!;
  return np.matmul(nn.oneHot(ids, patches).astype(x.dtype), x);
}

/**
 * The decoder's unshuffle: visible [B, Lk, D] plus a mask token [1, 1, D] (broadcast to the
 * L - Lk masked places) -> [B, L, D] in patch order, using idsRestore [B, L].
 */
export function unshuffleTokens(visible: Array, maskToken: Array, idsRestore: Array): Array {
  const [b, kept, d] = visible.shape as [number, number, number];
  const patches = idsRestore.shape[1]!;
  if (maskToken.size !== d) throw new Error(`unshuffleTokens: mask token has ${maskToken.size} values, tokens are ${d} wide`);
  const fill = np.broadcastTo(maskToken.reshape([1, 1, d]), [b, patches - kept, d]);
  return gatherTokens(np.concatenate([visible, fill], 1), idsRestore);
}

/**
 * values [B, L], mask [B, L] -> the mean of the values at masked patches (mask 1), a scalar:
 * sum(values · mask) / sum(mask), as MAE averages its loss. Consumes both.
 */
export function meanOverMasked(values: Array, mask: Array): Array {
  return values.mul(mask.ref).sum().div(np.maximum(mask.sum(), 1));
}
