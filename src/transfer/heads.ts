/**
 * The task head on pooled encoder features, shared by the four tasks (the linear probe's loss on
 * it is in probe.ts).
 *
 *   logits = head(fc_norm(pooled))        pooled [B, D] -> logits [B, K]
 *
 * Keys are timm's: `fc_norm` is the optional LayerNorm timm puts after mean pooling, `head` the
 * linear layer (weight [K, D], bias [K]). Merged into the encoder's tree they give timm's
 * state_dict names (`fc_norm.weight`, `head.weight`).
 *
 * Init: head weight ~ N(0, initStd²), bias 0, as MAE (std 0.01 for the linear probe, 2e-5 for
 * fine-tuning; MAE truncates at ±2, which at these stds never binds). fc_norm starts as the
 * identity affine (weight 1, bias 0).
 */
import { numpy as np, random, type Array } from "../engine/jax.js";
import { initLayerNorm, type VitHead } from "../model/vit.js";

/** A task's head is timm's (vit.ts `vitHead` runs it). */
export type TaskHead = VitHead;

export type HeadOptions = {
  /** A LayerNorm on the pooled features before the linear layer (timm's fc_norm). */
  fcNorm?: boolean;
  /** Standard deviation of the head weight. */
  initStd?: number;
};

/** MAE's head init for the linear probe. */
export const PROBE_INIT_STD = 0.01;
/** MAE's head init for fine-tuning. */
export const FINETUNE_INIT_STD = 2e-5;

/** A head for pooled features [B, D] -> K logits. */
export function initTaskHead(
  key: Array,
  dim: number,
  numOutputs: number,
  { fcNorm = false, initStd = PROBE_INIT_STD }: HeadOptions = {},
): TaskHead {
  const head = { weight: random.normal(key, [numOutputs, dim]).mul(initStd), bias: np.zeros([numOutputs]) };
  return fcNorm ? { fc_norm: initLayerNorm(dim), head } : { head };
}
