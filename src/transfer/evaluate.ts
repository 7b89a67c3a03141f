/**
 * A task's metrics from host predictions (what `TaskDefinition.predict` gives, read back) and the
 * faces' labels, headline first (METHOD.md §3): AU mean F1, expression accuracy, age MAE,
 * attribute mean accuracy; each with its secondary metrics.
 */
import type { TransferTaskName } from "./tasks/definition.js";
import { EXPRESSION_CLASSES } from "../data/tasks.js";
import { accuracy, argmaxRows, attributeAccuracy, classShares, confusionMatrix, maeByDecade, cumulativeScore, meanAbsoluteError, meanClassAccuracy, multiLabelF1 } from "./metrics.js";

export type TaskMetrics = {
  /** The headline metric's name and value (a fraction, or years for age). */
  headline: { name: string; value: number; higherIsBetter: boolean };
  [metric: string]: unknown;
};

/** Each task's headline metric (METHOD.md §3) and its direction. */
export const HEADLINES: Readonly<Record<TransferTaskName, { name: string; higherIsBetter: boolean }>> = Object.freeze({
  au: { name: "mean F1", higherIsBetter: true },
  attributes: { name: "mean accuracy", higherIsBetter: true },
  expression: { name: "accuracy", higherIsBetter: true },
  age: { name: "MAE (years)", higherIsBetter: false },
});

/**
 * `predictions`: [N, K] probabilities (au, attributes, expression) or [N] ages; `labels`: [N, C]
 * as the cache stores them (0/1 columns, a class index, or years).
 */
export function taskMetrics(task: TransferTaskName, predictions: Float32Array, labels: Float32Array, count: number): TaskMetrics {
  const k = predictions.length / count;
  switch (task) {
    case "au": {
      const f1 = multiLabelF1(predictions, labels, k);
      return { headline: { ...HEADLINES.au, value: f1.mean }, f1 };
    }
    case "attributes": {
      const acc = attributeAccuracy(predictions, labels, k);
      return { headline: { ...HEADLINES.attributes, value: acc.mean }, accuracy: acc };
    }
    case "expression": {
      const predicted = argmaxRows(predictions, k);
      return {
        headline: { ...HEADLINES.expression, value: accuracy(predicted, labels) },
        /** Balanced accuracy: the mean per-class recall (perLabel: each class's recall). */
        meanClassAccuracy: meanClassAccuracy(predicted, labels, k),
        predictedShare: classShares(predicted, k),
        trueShare: classShares(labels, k),
        confusion: { classes: EXPRESSION_CLASSES, matrix: confusionMatrix(predicted, labels, k) },
      };
    }
    case "age":
      return {
        headline: { ...HEADLINES.age, value: meanAbsoluteError(predictions, labels) },
        cs5: cumulativeScore(predictions, labels),
        perDecade: maeByDecade(predictions, labels),
      };
  }
}

export type SeedStat = { mean: number; std: number; n: number };

/** Mean and sample standard deviation. */
export function meanStd(values: number[]): SeedStat {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, std, n: values.length };
}

/** A transfer run's headline over seeds: each seed's value averaged over its folds first, seeds in order. */
export function headlineOverSeeds(runs: readonly { seed: number; metrics: { headline: { value: number } } }[]): { perSeed: number[] } & SeedStat {
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const perSeed = seeds.map((seed) => meanStd(runs.filter((r) => r.seed === seed).map((r) => r.metrics.headline.value)).mean);
  return { perSeed, ...meanStd(perSeed) };
}
