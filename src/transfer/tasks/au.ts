/**
 * AU detection (METHOD §3): K = one output per scored AU column of the dataset, the AUs with at
 * least 20 positives in it (all 12 of BP4D, 8 of DISFA, fewer of ckplus_au). Multi-label BCE with
 * logits and per-AU positive weights; predictions are sigmoid probabilities, an AU counting as
 * present at p >= 0.5 (metrics.ts). Headline: mean F1 over the AUs with a test positive; the
 * trivial baseline predicts every AU present.
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
import { constantF1 } from "../baselines.js";
import { initTaskHead } from "../heads.js";
import { multiLabelF1, type PerLabel } from "../metrics.js";
import { perLabelSpec } from "../transfer-plots.js";
import { binaryLabelMatrix, defineTask, oneOutputPerColumn, taskError, type LabelRows } from "./definition.js";
import { checkPositiveWeights, multiLabelLoss, sigmoidPredict } from "./multi-label.js";

export const DEFAULT_MAX_POS_WEIGHT = 10;

/** METHOD §3: AU detection uses the AUs with at least this many positives in the dataset. */
const MIN_AU_POSITIVES = 20;

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

/** The AU columns with at least `minPositives` positives in labels [N, C]; throws when none has. */
function auColumnsWithPositives(labels: Float32Array, columns: readonly string[], minPositives = MIN_AU_POSITIVES): number[] {
  const all = columns.map((_, c) => c);
  const positives = all.map((c) => labels.filter((v, i) => i % columns.length === c && v === 1).length);
  const kept = all.filter((c) => positives[c]! >= minPositives);
  if (kept.length === 0) {
    throw new FacepriorError(
      "BAD_DATASET",
      `AU labels: no AU has ${minPositives} positives (most: ${Math.max(...positives)}). Use a larger AU dataset.`,
    );
  }
  return kept;
}

export const AU_TASK = defineTask<AuLossOptions>({
  task: "au",
  title: "AU detection",
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
  activation: "sigmoid",
  outputLabels: (labelColumns) => [...labelColumns],
  scoredColumns: auColumnsWithPositives,
  headline: { name: "mean F1", higherIsBetter: true, digits: 3 },
  score(predictions, labels, k) {
    const f1 = multiLabelF1(predictions, labels, k);
    return { value: f1.mean, secondary: { f1 } };
  },
  trivialBaseline: (_train, test, width) => ({ name: "every AU predicted present, mean F1", value: constantF1(test, width, 1).mean }),
  plot: ({ columns, metrics }) => ({
    file: "per-au-f1.png",
    spec: perLabelSpec(columns, (metrics.f1 as PerLabel).perLabel, "F1", "per-AU F1"),
  }),
});
