/**
 * The learning-rate schedule: linear warmup from 0 to the peak, then a half cosine down to the
 * minimum (MAE's `adjust_learning_rate`, per step rather than per fractional epoch).
 *
 *   step < W:  lr(step) = peak · step / W
 *   step ≥ W:  lr(step) = min + (peak - min) · (1 + cos(π · (step - W) / (T - W))) / 2
 *
 * W warmup steps, T total steps; `step` counts optimizer updates already done, so the first
 * update (step 0) runs at lr 0 when W > 0, as in MAE and optax. Past T it stays at the minimum.
 */
export type CosineSchedule = { peakLr: number; minLr: number; warmupSteps: number; totalSteps: number };

export function cosineSchedule({ peakLr, minLr, warmupSteps, totalSteps }: CosineSchedule): (step: number) => number {
  return (step) => {
    if (step < warmupSteps) return (peakLr * step) / warmupSteps;
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    return minLr + (peakLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}
