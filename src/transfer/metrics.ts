/**
 * The downstream metrics (METHOD §3), on the host, over plain arrays read back from the device.
 *
 * Layout: a multi-label input is row-major [N, K] (N samples, K labels) given flat, with K passed
 * alongside; a class or age input is [N]. Binary targets are 0/1. Probabilities come from the
 * task's `predict` (sigmoid or softmax); a probability p counts as a positive prediction when
 * p >= 0.5 (logit >= 0), the same rule for AUs and attributes.
 *
 * Rates are fractions in [0, 1] (the report prints percent); MAE is in years. A value that is
 * undefined for the data (a label with no positive, a class with no sample) is NaN, left out of
 * the mean, and its index listed in `excluded`, so a report can say how many were scored. NaN
 * becomes null in JSON.
 *
 * The trivial baselines a report quotes next to these are in baselines.ts.
 */
import { FacepriorError } from "../errors.js";

/** The one threshold on probabilities (AU detection, attributes). */
export const POSITIVE_THRESHOLD = 0.5;

/** CS@5 counts a prediction within this many years of the true age (inclusive). */
export const CS_YEARS = 5;

/** Per-label values with their mean over the labels where the value is defined. */
export type PerLabel = {
  /** One value per label (or class); NaN where undefined. */
  perLabel: number[];
  /** Mean over the defined values; NaN when none is defined. */
  mean: number;
  /** Indices of the labels left out of the mean (their value is NaN). */
  excluded: number[];
};

export type BinaryCounts = { tp: number; fp: number; fn: number; tn: number };

// ---- validation at the boundary ----

function metricError(name: string, problem: string, fix: string): FacepriorError {
  return new FacepriorError("BAD_ARGUMENT", `${name}: ${problem}. ${fix}.`);
}

/** N for a flat [N, K] input; throws unless both inputs hold the same N·K values with N >= 1. */
function rowsOf(name: string, a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  if (!Number.isInteger(k) || k < 1) throw metricError(name, `the number of labels is ${k}`, "Pass a positive integer");
  if (a.length !== b.length) {
    throw metricError(name, `predictions hold ${a.length} values and targets ${b.length}`, "Pass both as the same [N, K] shape");
  }
  if (a.length === 0) throw metricError(name, "there are no samples", "Evaluate on a split with at least one sample");
  if (a.length % k !== 0) {
    throw metricError(name, `${a.length} values do not split into rows of ${k} labels`, "Pass row-major [N, K] arrays");
  }
  return a.length / k;
}

function checkBinary(name: string, targets: ArrayLike<number>): void {
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] !== 0 && targets[i] !== 1) {
      throw metricError(name, `target ${i} is ${targets[i]}`, "Binary targets must be 0 or 1");
    }
  }
}

function checkClasses(name: string, values: ArrayLike<number>, k: number, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const c = values[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= k) {
      throw metricError(name, `${what} ${i} is ${c}`, `Class indices must be integers 0-${k - 1}`);
    }
  }
}

/** Mean over the finite entries, NaN for none; with the indices of the NaN ones. */
export function meanOfDefined(values: number[]): PerLabel {
  const excluded = values.flatMap((v, i) => (Number.isNaN(v) ? [i] : []));
  const defined = values.filter((v) => !Number.isNaN(v));
  const mean = defined.length === 0 ? NaN : defined.reduce((s, v) => s + v, 0) / defined.length;
  return { perLabel: values, mean, excluded };
}

// ---- multi-label: AU detection ----

/** TP, FP, FN, TN per label at `POSITIVE_THRESHOLD`; probabilities and targets [N, K]. */
export function binaryCounts(probabilities: ArrayLike<number>, targets: ArrayLike<number>, numLabels: number): BinaryCounts[] {
  return countBinary("binaryCounts", probabilities, targets, numLabels);
}

/** `binaryCounts`, with the caller's name in messages. */
function countBinary(name: string, probabilities: ArrayLike<number>, targets: ArrayLike<number>, numLabels: number): BinaryCounts[] {
  const n = rowsOf(name, probabilities, targets, numLabels);
  checkBinary(name, targets);
  const counts = Array.from({ length: numLabels }, () => ({ tp: 0, fp: 0, fn: 0, tn: 0 }));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < numLabels; j++) {
      const predicted = probabilities[i * numLabels + j]! >= POSITIVE_THRESHOLD;
      const actual = targets[i * numLabels + j] === 1;
      const c = counts[j]!;
      if (predicted && actual) c.tp++;
      else if (predicted) c.fp++;
      else if (actual) c.fn++;
      else c.tn++;
    }
  }
  return counts;
}

/**
 * F1 of one label: 2·TP / (2·TP + FP + FN), the harmonic mean of precision TP/(TP+FP) and
 * recall TP/(TP+FN).
 * - No positive in the targets (TP + FN = 0): recall is 0/0, so F1 is undefined: NaN. This is
 *   the AU protocols' convention (BP4D, DISFA): F1 is reported for the AUs that occur in the
 *   test fold, and the mean runs over those. It holds whatever the predictions: false positives
 *   on an absent label are not scored as F1 = 0.
 * - Positives but no positive prediction (TP + FP = 0): precision is 0/0 but F1 is 0 (every
 *   positive was missed), which the formula gives.
 */
export function f1FromCounts({ tp, fp, fn }: BinaryCounts): number {
  if (tp + fn === 0) return NaN;
  return (2 * tp) / (2 * tp + fp + fn);
}

/**
 * Per-label F1 and the mean F1 over labels (the AU headline metric): probabilities and targets
 * [N, K]. Labels without a positive in the targets are NaN and listed in `excluded` (see
 * `f1FromCounts`).
 */
export function multiLabelF1(probabilities: ArrayLike<number>, targets: ArrayLike<number>, numLabels: number): PerLabel {
  return meanOfDefined(countBinary("multiLabelF1", probabilities, targets, numLabels).map(f1FromCounts));
}

// ---- single-label classes: expression ----

/**
 * The predicted class of each row of probabilities (or logits) [N, K]: the first index of the
 * largest value, so ties go to the lower class index.
 */
export function argmaxRows(scores: ArrayLike<number>, numClasses: number): Int32Array {
  const n = rowsOf("argmaxRows", scores, scores, numClasses);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (scores[i * numClasses + c]! > scores[i * numClasses + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** Counts [K][K], rows = true class, columns = predicted class; predicted and targets [N]. */
export function confusionMatrix(predicted: ArrayLike<number>, targets: ArrayLike<number>, numClasses: number): number[][] {
  rowsOf("confusionMatrix", predicted, targets, 1);
  checkClasses("confusionMatrix", predicted, numClasses, "prediction");
  checkClasses("confusionMatrix", targets, numClasses, "target");
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < targets.length; i++) matrix[targets[i]!]![predicted[i]!]!++;
  return matrix;
}

/** Fraction of predicted [N] equal to targets [N]. */
export function accuracy(predicted: ArrayLike<number>, targets: ArrayLike<number>): number {
  rowsOf("accuracy", predicted, targets, 1);
  let right = 0;
  for (let i = 0; i < targets.length; i++) if (predicted[i] === targets[i]) right++;
  return right / targets.length;
}

/**
 * Mean class accuracy: the mean over classes of per-class recall, correct_c / count_c, from
 * predicted and targets [N]. A class that never occurs in the targets has no recall (0/0): it is
 * NaN and excluded from the mean, listed in `excluded`, even if it was predicted (those
 * predictions already lower the recall of the classes they were taken from).
 */
export function meanClassAccuracy(predicted: ArrayLike<number>, targets: ArrayLike<number>, numClasses: number): PerLabel {
  return meanClassAccuracyOfConfusion(confusionMatrix(predicted, targets, numClasses));
}

/** Mean class accuracy from a confusion matrix (rows true, columns predicted). */
export function meanClassAccuracyOfConfusion(matrix: readonly (readonly number[])[]): PerLabel {
  const recall = matrix.map((row, c) => {
    const count = row.reduce((s, v) => s + v, 0);
    return count === 0 ? NaN : row[c]! / count;
  });
  return meanOfDefined(recall);
}

/**
 * Macro F1 of a single-label classifier, from its confusion matrix (rows true, columns
 * predicted): per class, F1 = 2·TP / (2·TP + FP + FN) with the class as the positive; the mean
 * over classes that occur in the targets. Unlike the mean class accuracy it also falls when a
 * class is predicted too often.
 */
export function macroF1OfConfusion(matrix: readonly (readonly number[])[]): PerLabel {
  return meanOfDefined(
    matrix.map((row, c) => {
      const tp = row[c]!;
      const fn = row.reduce((s, v) => s + v, 0) - tp;
      const fp = matrix.reduce((s, other) => s + other[c]!, 0) - tp;
      return f1FromCounts({ tp, fp, fn, tn: 0 });
    }),
  );
}

/** The fraction of rows in each class, from classes [N]: how often a class is predicted, or occurs. */
export function classShares(classes: ArrayLike<number>, numClasses: number): number[] {
  checkClasses("classShares", classes, numClasses, "class");
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < classes.length; i++) counts[classes[i]!]!++;
  return counts.map((n) => (classes.length === 0 ? NaN : n / classes.length));
}

// ---- age ----

/** Age groups by decade: 0-9, 10-19, ..., 60-69, and 70+ (few faces are older). */
export const AGE_DECADES = ["0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+"] as const;

/** The index in `AGE_DECADES` of an age in years. */
export function decadeOf(age: number): number {
  return Math.min(Math.max(0, Math.floor(age / 10)), AGE_DECADES.length - 1);
}

/** One decade of true ages: its faces, the MAE on them and the mean predicted age (pull to the middle shows here). */
export type DecadeError = { decade: string; faces: number; mae: number; meanPredicted: number };

/** MAE per decade of true age (`AGE_DECADES`), decades without faces left out. */
export function maeByDecade(predicted: ArrayLike<number>, targets: ArrayLike<number>): DecadeError[] {
  checkAges("maeByDecade", predicted, targets);
  const groups = AGE_DECADES.map(() => ({ faces: 0, error: 0, predicted: 0 }));
  for (let i = 0; i < targets.length; i++) {
    const g = groups[decadeOf(targets[i]!)]!;
    g.faces++;
    g.error += Math.abs(predicted[i]! - targets[i]!);
    g.predicted += predicted[i]!;
  }
  return groups.flatMap((g, d) =>
    g.faces === 0 ? [] : [{ decade: AGE_DECADES[d]!, faces: g.faces, mae: g.error / g.faces, meanPredicted: g.predicted / g.faces }],
  );
}

function checkAges(name: string, predicted: ArrayLike<number>, targets: ArrayLike<number>): void {
  rowsOf(name, predicted, targets, 1);
  for (let i = 0; i < predicted.length; i++) {
    if (!Number.isFinite(predicted[i]) || !Number.isFinite(targets[i])) {
      throw metricError(name, `age ${i} is ${predicted[i]} predicted, ${targets[i]} true`, "Pass finite ages in years");
    }
  }
}

/** Mean absolute error in years, mean_i |predicted_i − target_i|, ages [N]. */
export function meanAbsoluteError(predicted: ArrayLike<number>, targets: ArrayLike<number>): number {
  checkAges("meanAbsoluteError", predicted, targets);
  let sum = 0;
  for (let i = 0; i < targets.length; i++) sum += Math.abs(predicted[i]! - targets[i]!);
  return sum / targets.length;
}

/**
 * Cumulative score CS@θ: the fraction of samples with |predicted − target| <= θ years
 * (inclusive; θ = 5 by default, CS@5). Predictions are expectations, so not whole years.
 */
export function cumulativeScore(predicted: ArrayLike<number>, targets: ArrayLike<number>, years = CS_YEARS): number {
  checkAges("cumulativeScore", predicted, targets);
  let within = 0;
  for (let i = 0; i < targets.length; i++) if (Math.abs(predicted[i]! - targets[i]!) <= years) within++;
  return within / targets.length;
}

// ---- attributes ----

/**
 * Per-attribute accuracy, (TP + TN) / N at `POSITIVE_THRESHOLD`, and its mean over the K
 * attributes (the headline: K = 40). Always defined for N >= 1, so nothing is excluded.
 */
export function attributeAccuracy(probabilities: ArrayLike<number>, targets: ArrayLike<number>, numLabels: number): PerLabel {
  const counts = countBinary("attributeAccuracy", probabilities, targets, numLabels);
  return meanOfDefined(counts.map(({ tp, fp, fn, tn }) => (tp + tn) / (tp + fp + fn + tn)));
}

/**
 * The Wilson score interval of a proportion: `successes` of `n` trials, at z standard errors
 * (1.96: 95%). Unlike p ± z·SE it stays inside [0, 1] and does not shrink to a point at 0 or n
 * successes, which matters for the few held-out photos a new head is measured on. [0, 1] for n = 0.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): [low: number, high: number] {
  if (n === 0) return [0, 1];
  const p = successes / n;
  const z2 = (z * z) / n;
  const centre = (p + z2 / 2) / (1 + z2);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n))) / (1 + z2);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
