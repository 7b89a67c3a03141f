/**
 * Binary cross-entropy with logits, for the multi-label tasks (AU detection, attributes), with
 * optional per-label positive weights, as PyTorch's BCEWithLogitsLoss(pos_weight):
 *
 *   ℓ(x, y) = −[ w·y·log σ(x) + (1 − y)·log(1 − σ(x)) ]
 *           = w·y·softplus(−x) + (1 − y)·softplus(x)
 *           = (w·y + 1 − y)·softplus(x) − w·y·x            (softplus(−x) = softplus(x) − x)
 *
 * With w = 1 this is max(x, 0) − x·y + log(1 + exp(−|x|)). The loss is the mean of ℓ over all
 * B·K entries (PyTorch's "mean"; the weights are not renormalised).
 *
 * Shapes: logits and targets [B, K]; positive weights [K], one per label.
 */
import { nn, numpy as np, type Array } from "../../engine/jax.js";
import { taskError, type TaskLoss, type TransferTaskName } from "./definition.js";

/**
 * softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)), finite for any finite x. Both
 * halves are chosen with one `where` on x > 0, so the gradient at x = 0 is exactly σ(0) = 1/2
 * whatever gradient the engine gives max and abs at their kinks (a zero-initialised head gives
 * logits of exactly 0).
 */
export function softplus(x: Array): Array {
  const positive = np.greater(x.ref, 0);
  const upper = np.where(positive.ref, x.ref, 0); // max(x, 0)
  const lower = np.where(positive, 0, x); // min(x, 0)
  return upper.ref.add(np.log1p(np.exp(lower.sub(upper)))); // lower − upper = −|x|
}

/** Mean BCE with logits over [B, K]; `posWeight` [K] as plain numbers, or null for w = 1. */
export function bceWithLogits(logits: Array, targets: Array, posWeight: readonly number[] | null): Array {
  const y = targets.astype(logits.dtype);
  if (posWeight === null) return softplus(logits.ref).sub(logits.mul(y)).mean();
  const wy = y.ref.mul(np.array(posWeight as number[], { dtype: logits.dtype }));
  return wy.ref.add(1).sub(y).mul(softplus(logits.ref)).sub(wy.mul(logits)).mean();
}

/** Checks positive weights against K: finite and above 0. */
export function checkPositiveWeights(task: TransferTaskName, posWeight: readonly number[], numLabels?: number): void {
  if (numLabels !== undefined && posWeight.length !== numLabels) {
    const problem = `posWeight has ${posWeight.length} entries for ${numLabels} labels`;
    throw taskError(`${task} loss`, problem, "Pass one weight per label column");
  }
  const bad = posWeight.findIndex((w) => !Number.isFinite(w) || w <= 0);
  if (bad >= 0) throw taskError(`${task} loss`, `posWeight[${bad}] is ${posWeight[bad]}`, "Weights must be finite and above 0");
}

/** The multi-label loss with fixed weights; checks that K matches them on the first call's shape. */
export function multiLabelLoss(task: TransferTaskName, posWeight: readonly number[] | null): TaskLoss {
  if (posWeight !== null) checkPositiveWeights(task, posWeight);
  const weights = posWeight === null ? null : [...posWeight];
  return (logits, targets) => {
    const k = logits.shape[logits.shape.length - 1]!;
    if (weights !== null && weights.length !== k) {
      throw taskError(
        `${task} loss`,
        `posWeight has ${weights.length} entries but the logits have ${k}`,
        "Compute the weights from the same label columns as the head",
      );
    }
    return bceWithLogits(logits, targets, weights);
  };
}

/** logits [B, K] -> probabilities [B, K], independent per label. */
export function sigmoidPredict(logits: Array): Array {
  return nn.sigmoid(logits);
}
