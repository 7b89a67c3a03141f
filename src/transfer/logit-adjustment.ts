/**
 * Post-hoc logit adjustment (Menon et al., "Long-tail learning via logit adjustment", ICLR 2021):
 * a softmax head trained on faces whose classes (expression) or age decades are unevenly common
 * learns their frequencies π_g as a prior and answers the common groups too often: FER2013's
 * training faces are 25% happy and 1.5% disgust, UTKFace's 61% aged 20-39. Subtracting
 *
 *   τ · log π_g(j)          from logit j, g(j) its group (its class; the decade of its age bin)
 *
 * answers, at τ = 1, as if every group were equally common (the Bayes rule under a uniform
 * prior). A head trained with class or decade weights has already moved part of the way, so τ is
 * chosen on the validation faces from `ADJUSTMENT_STRENGTHS` by the task's balanced metric
 * (macro F1; the mean over decades of the per-decade MAE). Rule "best" takes the best strength,
 * ties to the smaller τ. Rule "one-standard-error" takes the smallest τ whose shortfall from the
 * best is within one bootstrap standard error of that shortfall: the same resampled faces score
 * both strengths, so the error is the paired one. A few hundred validation faces cannot tell a
 * 0.003 gain in macro F1 from noise, while a larger τ multiplies the rare classes' answers on
 * every face, also on faces unlike the training ones. The shift is the same for every face, so it
 * goes into the head's bias: the face model, its ONNX export and the browser run it at no cost.
 *
 * π_g = (n_g + 1) / (n + G) from the training faces' groups (add-one, so an empty group stays finite).
 */
import { seededRng } from "../augment/prng.js";
import { numpy as np } from "../engine/jax.js";
import { meanStd, taskMetrics } from "./evaluate.js";
import { groupCounts } from "./tasks/balanced-weights.js";
import { taskError } from "./tasks/definition.js";
import { TRANSFER_TASKS, type TransferTaskName } from "./tasks/index.js";

/** The τ tried on the validation faces; 0 (the head as trained) first. */
export const ADJUSTMENT_STRENGTHS = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5] as const;

/** How τ is chosen from its validation scores (see above). */
export const ADJUSTMENT_RULES = ["best", "one-standard-error"] as const;
export type AdjustmentRule = (typeof ADJUSTMENT_RULES)[number];

/** Resamples of the validation faces behind rule "one-standard-error"'s standard errors, and their seed. */
const BOOTSTRAP_RESAMPLES = 200;
const BOOTSTRAP_SEED = 0x5eed;

/** What was chosen for one head, as metrics.json and the face model record it. */
export type LogitAdjustment = {
  /** The balanced metric τ was chosen by, and its direction. */
  metric: string;
  higherIsBetter: boolean;
  /** The rule that chose it, and the chosen strength. */
  rule: AdjustmentRule;
  tau: number;
  /** log π_g per group (classes, or decades), from the training faces. */
  logPrior: number[];
  /**
   * The balanced metric on the validation faces at each strength tried; under "one-standard-error"
   * also the bootstrap standard error of its shortfall from the best strength's value.
   */
  byStrength: { tau: number; value: number; shortfallError?: number }[];
  valFaces: number;
};

/** log π_g = log((n_g + 1) / (n + G)) for groups [n], each 0..G−1. */
export function logGroupPrior(groups: readonly number[], numGroups: number): number[] {
  return groupCounts(groups, numGroups).map((n) => Math.log((n + 1) / (groups.length + numGroups)));
}

/** The shift of each logit: −τ · log π of its group. */
export function logitShift(logitGroups: readonly number[], logPrior: readonly number[], tau: number): Float32Array {
  return Float32Array.from(logitGroups, (g) => -tau * logPrior[g]!);
}

/** Host logits [N, K] = features [N, D] · weightᵀ [D, K] + bias [K]; weight is [K, D] (timm's head). */
export function hostLogits(features: Float32Array, weight: Float32Array, bias: Float32Array): Float32Array {
  const k = bias.length;
  const d = weight.length / k;
  const n = features.length / d;
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let sum = bias[j]!;
      for (let c = 0; c < d; c++) sum += features[i * d + c]! * weight[j * d + c]!;
      out[i * k + j] = sum;
    }
  }
  return out;
}

/** Whether a task's head can be balanced this way (a softmax over groups). */
export function adjustable(task: TransferTaskName): boolean {
  return TRANSFER_TASKS[task].balance !== undefined;
}

/** The row indices of `count` bootstrap resamples of n faces, from the seeded stream "bootstrap" (augment/prng.ts). */
export function bootstrapResamples(n: number, count: number, seed: number): Uint32Array[] {
  const uniform = seededRng(seed, "bootstrap");
  return Array.from({ length: count }, () => Uint32Array.from({ length: n }, () => Math.floor(uniform() * n)));
}

/** Rows `rows` of a row-major array whose rows are `width` wide. */
function gatherRows(values: Float32Array, width: number, rows: Uint32Array): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, i) => out.set(values.subarray(row * width, (row + 1) * width), i * width));
  return out;
}

/**
 * Chooses τ for one head from its validation logits [N, K] and labels [N, C], knowing the training
 * labels [n, C] (the prior), by `rule`.
 */
export async function chooseAdjustment(
  task: TransferTaskName,
  valLogits: Float32Array,
  valLabels: Float32Array,
  trainLabels: Float32Array,
  rule: AdjustmentRule = "best",
): Promise<LogitAdjustment> {
  const def = TRANSFER_TASKS[task];
  const balance = def.balance;
  if (!balance)
    throw taskError("logit adjustment", `the ${task} head is not a softmax over groups`, "Adjust only expression and age heads");
  const k = balance.logitGroups.length;
  const count = valLogits.length / k;
  const logPrior = logGroupPrior(Array.from(trainLabels, balance.groupOf), balance.numGroups);
  const predictions: Float32Array[] = [];
  for (const tau of ADJUSTMENT_STRENGTHS) {
    const shift = logitShift(balance.logitGroups, logPrior, tau);
    const shifted = valLogits.map((v, i) => v + shift[i % k]!);
    predictions.push((await def.predict(np.array(shifted).reshape([count, k])).data()) as Float32Array);
  }
  const scoreOf = (p: Float32Array, labels: Float32Array, n: number) => balance.metric.of(taskMetrics(task, p, labels, n));
  const byStrength: LogitAdjustment["byStrength"] = ADJUSTMENT_STRENGTHS.map((tau, s) => ({
    tau,
    value: scoreOf(predictions[s]!, valLabels, count),
  }));
  // Signed so that a worse strength falls short by a positive amount.
  const shortfall = (best: number, value: number) => (balance.metric.higherIsBetter ? best - value : value - best);
  const best = byStrength.reduce((top, s) => (shortfall(top.value, s.value) < 0 ? s : top));
  let chosen = best;
  if (rule === "one-standard-error") {
    const bestIndex = byStrength.indexOf(best);
    const predictionWidth = predictions[0]!.length / count;
    const labelWidth = valLabels.length / count;
    const resampled = bootstrapResamples(count, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED).map((rows) => {
      const labels = gatherRows(valLabels, labelWidth, rows);
      return predictions.map((p) => scoreOf(gatherRows(p, predictionWidth, rows), labels, count));
    });
    byStrength.forEach((s, i) => {
      s.shortfallError = meanStd(resampled.map((values) => shortfall(values[bestIndex]!, values[i]!))).std;
    });
    chosen = byStrength.find((s) => shortfall(best.value, s.value) <= s.shortfallError!)!;
  }
  return {
    metric: balance.metric.name,
    higherIsBetter: balance.metric.higherIsBetter,
    rule,
    tau: chosen.tau,
    logPrior,
    byStrength,
    valFaces: count,
  };
}

/** The head's bias with the chosen shift added. */
export function adjustedBias(task: TransferTaskName, bias: Float32Array, adjustment: LogitAdjustment): Float32Array {
  const shift = logitShift(TRANSFER_TASKS[task].balance!.logitGroups, adjustment.logPrior, adjustment.tau);
  return bias.map((b, j) => b + shift[j]!);
}
