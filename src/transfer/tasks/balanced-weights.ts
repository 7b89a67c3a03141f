/**
 * Loss weights that balance groups of training faces (expression's classes, age's decades): a
 * face in group g weighs
 *
 *   w_g = (n / (K·n_g))^β,   scaled so that the mean weight over the n training faces is 1,
 *
 * from the training set's group counts n_g. β = 0 is the plain mean (every weight 1), β = 1
 * inverse frequency (every group counts alike), values between a compromise. A group without
 * training faces gets the raw weight 1; no training face uses it.
 */

/** n_g: how many of the groups [n] (each 0..K−1) are g, for g = 0..K−1. */
export function groupCounts(groups: readonly number[], k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const g of groups) counts[g]!++;
  return counts;
}

/** w_g for the groups [n] (each 0..K−1) of the training faces, or null for β = 0 (no weighting). */
export function balancedClassWeights(groups: readonly number[], k: number, balance: number): number[] | null {
  if (balance === 0) return null;
  const counts = groupCounts(groups, k);
  const raw = counts.map((n) => (n === 0 ? 1 : (groups.length / (k * n)) ** balance));
  const mean = counts.reduce((sum, n, g) => sum + n * raw[g]!, 0) / groups.length;
  return raw.map((w) => w / mean);
}
