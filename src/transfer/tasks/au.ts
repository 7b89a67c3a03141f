/**
 * AU detection (METHOD §3): K = one output per AU column of the dataset (12 for BP4D, 8 for
 * DISFA, the AUs with at least 20 positives for ckplus_au; choosing those columns is the
 * protocol's job). Multi-label BCE with logits and per-AU positive weights; predictions are
 * sigmoid probabilities, an AU counting as present at p >= 0.5 (metrics.ts).
 *
 * Positive weights, computed on the host from the training labels, per AU j:
 *
 *   w_j = clamp(negatives_j / positives_j, 1 / maxPosWeight, maxPosWeight),  maxPosWeight = 10
 *
 * so a rare AU's few positives count up to 10 times a negative. An AU with no training positive
 * gets maxPosWeight (its ratio is infinite), and one with no training negative 1 / maxPosWeight
 * (its ratio is 0, which would drop its positives from the loss).
 */
import { FacepriorError } from "../../errors.js";
import { initTaskHead } from "../heads.js";
import { binaryLabelMatrix, oneOutputPerColumn, taskError, type LabelRows, type TaskDefinition } from "./definition.js";
import { checkPositiveWeights, multiLabelLoss, sigmoidPredict } from "./multi-label.js";

export const DEFAULT_MAX_POS_WEIGHT = 10;

export type AuLossOptions = {
  /** The cap on the positive weights (and 1 / cap the floor). */
  maxPosWeight: number;
  /** One weight per AU column. */
  posWeight: readonly number[];
};

/** Per-label w_j (see the file comment) from training labels: rows of K values 0/1. */
export function positiveWeights(trainLabels: LabelRows, maxPosWeight = DEFAULT_MAX_POS_WEIGHT): number[] {
  if (!Number.isFinite(maxPosWeight) || maxPosWeight < 1) {
    throw taskError("au loss", `maxPosWeight is ${maxPosWeight}`, "Pass a finite cap of at least 1");
  }
  if (trainLabels.length === 0) {
    throw new FacepriorError("BAD_ARGUMENT", "au loss: the training set has no rows. Positive weights need training labels.");
  }
  const k = trainLabels[0]!.length;
  return Array.from({ length: k }, (_, j) => {
    const positives = trainLabels.reduce((n, row) => n + (row[j] === 1 ? 1 : 0), 0);
    const negatives = trainLabels.length - positives;
    if (positives === 0) return maxPosWeight;
    return Math.min(maxPosWeight, Math.max(1 / maxPosWeight, negatives / positives));
  });
}

export const AU_TASK: TaskDefinition<AuLossOptions> = Object.freeze({
  task: "au",
  outputs: "one logit per AU column, sigmoid → probability the AU is present",
  numOutputs: (labelColumns: readonly string[]) => oneOutputPerColumn("au", labelColumns),
  initHead: initTaskHead,
  lossOptions(trainLabels: LabelRows, overrides: Partial<AuLossOptions> = {}): AuLossOptions {
    const maxPosWeight = overrides.maxPosWeight ?? DEFAULT_MAX_POS_WEIGHT;
    const posWeight = overrides.posWeight ?? positiveWeights(trainLabels, maxPosWeight);
    const k = trainLabels[0]?.length;
    checkPositiveWeights("au", posWeight, k);
    return { maxPosWeight, posWeight };
  },
  makeLoss: ({ posWeight }: AuLossOptions) => multiLabelLoss("au", posWeight),
  targets: (labels: LabelRows) => binaryLabelMatrix("au", labels),
  predict: sigmoidPredict,
});
