/**
 * The task head on pooled encoder features, shared by the four tasks, and the linear-probe loss
 * on features computed once by the frozen encoder.
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
import { headLogits, HEAD_LN_EPS, initLayerNorm, type VitHead } from "../model/vit.js";
import type { LossFn } from "../train/train-step.js";
import type { TaskLoss } from "./tasks/definition.js";

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

/** A batch for the linear probe: features from the frozen encoder, and the task's targets. */
export type ProbeBatch = {
  /** [B, D] pooled features. */
  features: Array;
  /** As the task's `targets` builds them. */
  targets: Array;
};

/**
 * The linear probe's loss in the shape the train step takes: `(head, batch, key) => [loss,
 * { [name]: loss }]`. Deterministic: the key is not used (and is released).
 */
export function probeLoss(name: string, loss: TaskLoss, lnEps = HEAD_LN_EPS): LossFn<TaskHead, ProbeBatch> {
  return (head, batch, key) => {
    key.dispose();
    const value = loss(headLogits(head, batch.features, lnEps), batch.targets);
    return [value.ref, { [name]: value }];
  };
}
