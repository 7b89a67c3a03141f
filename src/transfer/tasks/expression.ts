/**
 * Expression (METHOD §3): K = 7 classes in the order of `EXPRESSION_CLASSES`. Cross-entropy
 * against label-smoothed targets, PyTorch's and timm's convention (ε spread over all K classes,
 * the true one included):
 *
 *   t_c = (1 − ε)·[c = y] + ε / K,      loss = mean_b −Σ_c t_c · log softmax(x)_c
 *
 * ε = 0.1 by default; ε = 0 is plain cross-entropy. Predictions are softmax probabilities
 * [B, K]; the predicted class is their argmax (metrics.ts `argmaxRows`).
 */
import { nn, numpy as np, type Array } from "../../engine/jax.js";
import { EXPRESSION_CLASSES } from "../../data/tasks.js";
import { initTaskHead } from "../heads.js";
import { fixedOutputs, singleLabels, taskError, type LabelRows, type TaskDefinition, type TaskLoss } from "./definition.js";

export const NUM_EXPRESSIONS = EXPRESSION_CLASSES.length;
export const DEFAULT_LABEL_SMOOTHING = 0.1;

export type ExpressionLossOptions = { labelSmoothing: number };

/** Mean label-smoothed cross-entropy: logits [B, K], classes [B] int32. */
export function smoothedCrossEntropy(logits: Array, classes: Array, labelSmoothing: number): Array {
  const k = logits.shape[1]!;
  const logProbs = nn.logSoftmax(logits, -1);
  const target = nn.oneHot(classes, k).astype(logProbs.dtype).mul(1 - labelSmoothing).add(labelSmoothing / k);
  return target.mul(logProbs).sum(-1).mean().neg();
}

function expressionLoss({ labelSmoothing }: ExpressionLossOptions): TaskLoss {
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw taskError("expression loss", `labelSmoothing is ${labelSmoothing}`, "Pass ε with 0 <= ε < 1 (0.1 is the default)");
  }
  return (logits, classes) => smoothedCrossEntropy(logits, classes, labelSmoothing);
}

export const EXPRESSION_TASK: TaskDefinition<ExpressionLossOptions> = Object.freeze({
  task: "expression",
  outputs: `one logit per class (${EXPRESSION_CLASSES.join(", ")}), softmax → class probabilities`,
  numOutputs: (labelColumns: readonly string[]) => fixedOutputs("expression", "expression", NUM_EXPRESSIONS, labelColumns),
  initHead: initTaskHead,
  lossOptions: (_trainLabels: LabelRows, overrides: Partial<ExpressionLossOptions> = {}): ExpressionLossOptions => ({
    labelSmoothing: overrides.labelSmoothing ?? DEFAULT_LABEL_SMOOTHING,
  }),
  makeLoss: expressionLoss,
  targets(labels: LabelRows): Array {
    const what = `an expression class index 0-${NUM_EXPRESSIONS - 1}`;
    const classes = singleLabels("expression", labels, what, (v) => Number.isInteger(v) && v >= 0 && v < NUM_EXPRESSIONS);
    return np.array(Int32Array.from(classes), { dtype: np.int32 });
  },
  predict: (logits: Array) => nn.softmax(logits, -1),
});
