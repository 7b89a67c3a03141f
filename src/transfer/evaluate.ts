/**
 * A task's metrics from host predictions (what `TaskDefinition.predict` gives, read back) and the
 * faces' labels, headline first (METHOD.md §3): its name and direction from the task table, its
 * value and the secondary metrics from the task's `score` (tasks/<task>.ts).
 */
import { TRANSFER_TASKS, type TransferTaskName } from "./tasks/index.js";

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
  const { headline, score } = TRANSFER_TASKS[task];
  const { value, secondary } = score(predictions, labels, predictions.length / count);
  return { headline: { name: headline.name, higherIsBetter: headline.higherIsBetter, value }, ...secondary };
}

export type SeedStat = { mean: number; std: number; n: number };

/** Mean and sample standard deviation. */
export function meanStd(values: number[]): SeedStat {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, std, n: values.length };
}

/** A transfer run's headline over seeds: each seed's value averaged over its folds first, seeds in order. */
export function headlineOverSeeds(
  runs: readonly { seed: number; metrics: { headline: { value: number } } }[],
): { perSeed: number[] } & SeedStat {
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const perSeed = seeds.map((seed) => meanStd(runs.filter((r) => r.seed === seed).map((r) => r.metrics.headline.value)).mean);
  return { perSeed, ...meanStd(perSeed) };
}
