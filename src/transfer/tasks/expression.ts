/**
 * Expression (METHOD §3): K = 7 classes in the order of `EXPRESSION_CLASSES`. Cross-entropy
 * against label-smoothed targets, PyTorch's and timm's convention (ε spread over all K classes,
 * the true one included):
 *
 *   t_c = (1 − ε)·[c = y] + ε / K,      loss = mean_b −Σ_c t_c · log softmax(x)_c
 *
 * ε = 0.1 by default; ε = 0 is plain cross-entropy. Predictions are softmax probabilities
 * [B, K]; the predicted class is their argmax (metrics.ts `argmaxRows`).
 *
 * Class balance β (0 by default) weights each face's loss by w_y = (n / (K·n_y))^β, from the
 * training set's class counts n_y, scaled so that the mean weight over the training set is 1
 * (balanced-weights.ts): β = 1 is inverse frequency (every class counts alike), β = 0 the plain
 * mean. FER2013 has 16x more "happy" than "disgust" faces; without it, rare classes are almost
 * never predicted. After training, a multi-task run may also balance the head by class
 * (`balance`, logit-adjustment.ts).
 *
 * Headline: accuracy, with the mean class accuracy (balanced accuracy), macro F1, the predicted and true class shares and the
 * confusion matrix; the trivial baseline predicts the majority training class.
 */
import { nn, numpy as np, type Array } from "../../engine/jax.js";
import { EXPRESSION_CLASSES } from "../../data/tasks.js";
import { majorityClassBaseline } from "../baselines.js";
import { initTaskHead } from "../heads.js";
import {
  accuracy,
  argmaxRows,
  classShares,
  confusionMatrix,
  macroF1OfConfusion,
  meanClassAccuracyOfConfusion,
  type PerLabel,
} from "../metrics.js";
import { confusionSpec } from "../transfer-plots.js";
import { balancedClassWeights } from "./balanced-weights.js";
import { defineTask, fixedOutputs, singleLabels, taskError, type LabelRows, type TaskLoss } from "./definition.js";

export const NUM_EXPRESSIONS = EXPRESSION_CLASSES.length;
export const DEFAULT_LABEL_SMOOTHING = 0.1;

export type ExpressionLossOptions = {
  labelSmoothing: number;
  classBalance: number;
  /** Per-class loss weights from the training labels and `classBalance`; null when β = 0. */
  classWeights: number[] | null;
};

/** Mean label-smoothed cross-entropy: logits [B, K], classes [B] int32; each face weighted by its class's weight when given. */
export function smoothedCrossEntropy(
  logits: Array,
  classes: Array,
  labelSmoothing: number,
  classWeights: readonly number[] | null = null,
): Array {
  const k = logits.shape[1]!;
  const logProbs = nn.logSoftmax(logits, -1);
  const oneHot = nn.oneHot(classes, k).astype(logProbs.dtype);
  const target = oneHot.ref.mul(1 - labelSmoothing).add(labelSmoothing / k);
  const perFace = target.mul(logProbs).sum(-1).neg();
  if (!classWeights) {
    oneHot.dispose();
    return perFace.mean();
  }
  const weights = oneHot.mul(np.array(classWeights, { dtype: perFace.dtype })).sum(-1);
  return perFace.mul(weights).mean();
}

function expressionLoss({ labelSmoothing, classWeights }: ExpressionLossOptions): TaskLoss {
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw taskError("expression loss", `labelSmoothing is ${labelSmoothing}`, "Pass ε with 0 <= ε < 1 (0.1 is the default)");
  }
  if (classWeights && (classWeights.length !== NUM_EXPRESSIONS || classWeights.some((w) => !(w >= 0 && Number.isFinite(w))))) {
    throw taskError(
      "expression loss",
      `classWeights are ${JSON.stringify(classWeights)}`,
      `Pass ${NUM_EXPRESSIONS} finite weights >= 0, or null`,
    );
  }
  return (logits, classes) => smoothedCrossEntropy(logits, classes, labelSmoothing, classWeights);
}

export const EXPRESSION_TASK = defineTask<ExpressionLossOptions>({
  task: "expression",
  title: "Expression",
  outputs: `one logit per class (${EXPRESSION_CLASSES.join(", ")}), softmax → class probabilities`,
  numOutputs: (labelColumns: readonly string[]) => fixedOutputs("expression", "expression", NUM_EXPRESSIONS, labelColumns),
  initHead: initTaskHead,
  lossOptions(trainLabels: LabelRows, overrides: Partial<ExpressionLossOptions> = {}): ExpressionLossOptions {
    const classBalance = overrides.classBalance ?? 0;
    if (!(classBalance >= 0 && classBalance <= 1)) {
      throw taskError(
        "expression loss",
        `classBalance is ${classBalance}`,
        "Pass β with 0 <= β <= 1 (0: plain mean, 1: inverse class frequency)",
      );
    }
    const classes = trainLabels.map((row) => row[0]!);
    return {
      labelSmoothing: overrides.labelSmoothing ?? DEFAULT_LABEL_SMOOTHING,
      classBalance,
      classWeights: overrides.classWeights ?? balancedClassWeights(classes, NUM_EXPRESSIONS, classBalance),
    };
  },
  makeLoss: expressionLoss,
  targets(labels: LabelRows): Array {
    const what = `an expression class index 0-${NUM_EXPRESSIONS - 1}`;
    const classes = singleLabels("expression", labels, what, (v) => Number.isInteger(v) && v >= 0 && v < NUM_EXPRESSIONS);
    return np.array(Int32Array.from(classes), { dtype: np.int32 });
  },
  predict: (logits: Array) => nn.softmax(logits, -1),
  activation: "softmax",
  outputLabels: () => [...EXPRESSION_CLASSES],
  recipeLossOverrides: (recipe) => ({
    classBalance: recipe.classBalance,
    ...(recipe.labelSmoothing === undefined ? {} : { labelSmoothing: recipe.labelSmoothing }),
  }),
  headline: { name: "accuracy", higherIsBetter: true, digits: 3 },
  score(probabilities, classes, k) {
    const predicted = argmaxRows(probabilities, k);
    const matrix = confusionMatrix(predicted, classes, k);
    const secondary = {
      /** Balanced accuracy: the mean per-class recall (perLabel: each class's recall). */
      meanClassAccuracy: meanClassAccuracyOfConfusion(matrix),
      /** Macro F1 (perLabel: each class's F1), which over-answering a class lowers too. */
      macroF1: macroF1OfConfusion(matrix),
      predictedShare: classShares(predicted, k),
      trueShare: classShares(classes, k),
      confusion: { classes: EXPRESSION_CLASSES, matrix },
    };
    return { value: accuracy(predicted, classes), secondary };
  },
  /** A uniform guess over the classes. */
  chance: 1 / NUM_EXPRESSIONS,
  balance: {
    logitGroups: EXPRESSION_CLASSES.map((_, c) => c),
    numGroups: NUM_EXPRESSIONS,
    groupOf: (label) => label,
    // Macro F1 rather than balanced accuracy: the latter gains by answering a rare class far too often.
    metric: { name: "macro F1", higherIsBetter: true, of: (metrics) => (metrics.macroF1 as PerLabel).mean },
  },
  trivialBaseline: (train, test) => ({
    name: "majority class, accuracy",
    value: majorityClassBaseline(train, test, NUM_EXPRESSIONS).accuracy,
  }),
  plot({ metrics }) {
    const { classes, matrix } = metrics.confusion as { classes: readonly string[]; matrix: number[][] };
    return { file: "confusion.png", spec: confusionSpec(classes, matrix, "expression: confusion (rows true)") };
  },
});
