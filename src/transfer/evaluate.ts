/**
 * A task's metrics from host predictions (what `TaskDefinition.predict` gives, read back) and the
 * faces' labels, headline first (METHOD.md §3): AU mean F1, expression accuracy, age MAE,
 * attribute mean accuracy; each with its secondary metrics.
 */
import type { TransferTaskName } from "./tasks/definition.js";
import { EXPRESSION_CLASSES } from "../data/tasks.js";
import { accuracy, argmaxRows, attributeAccuracy, confusionMatrix, cumulativeScore, meanAbsoluteError, meanClassAccuracy, multiLabelF1 } from "./metrics.js";

export type TaskMetrics = {
  /** The headline metric's name and value (a fraction, or years for age). */
  headline: { name: string; value: number; higherIsBetter: boolean };
  [metric: string]: unknown;
};

/**
 * `predictions`: [N, K] probabilities (au, attributes, expression) or [N] ages; `labels`: [N, C]
 * as the cache stores them (0/1 columns, a class index, or years).
 */
export function taskMetrics(task: TransferTaskName, predictions: Float32Array, labels: Float32Array, count: number): TaskMetrics {
  const k = predictions.length / count;
  switch (task) {
    case "au": {
      const f1 = multiLabelF1(predictions, labels, k);
      return { headline: { name: "mean F1", value: f1.mean, higherIsBetter: true }, f1 };
    }
    case "attributes": {
      const acc = attributeAccuracy(predictions, labels, k);
      return { headline: { name: "mean accuracy", value: acc.mean, higherIsBetter: true }, accuracy: acc };
    }
    case "expression": {
      const predicted = argmaxRows(predictions, k);
      return {
        headline: { name: "accuracy", value: accuracy(predicted, labels), higherIsBetter: true },
        meanClassAccuracy: meanClassAccuracy(predicted, labels, k),
        confusion: { classes: EXPRESSION_CLASSES, matrix: confusionMatrix(predicted, labels, k) },
      };
    }
    case "age":
      return {
        headline: { name: "MAE (years)", value: meanAbsoluteError(predictions, labels), higherIsBetter: false },
        cs5: cumulativeScore(predictions, labels),
      };
  }
}
