/**
 * Gradient clipping by global norm (optax's `clip_by_global_norm`, torch's
 * `clip_grad_norm_`): the norm is over all leaves at once, ‖g‖ = sqrt(Σ_leaves Σ g²), and
 * every leaf is scaled by maxNorm / max(‖g‖, maxNorm), so the clipped norm is at most maxNorm
 * and gradients already inside the ball are left exactly as they are. A NaN norm gives NaN
 * gradients, which the train step's finite-ness flag then reports.
 */
import { numpy as np, tree, type Array } from "../engine/jax.js";
import type { Tree } from "./tree-names.js";

/** sqrt of the sum of squares of every element of every leaf, a scalar; consumes `t`. */
export function globalNorm(t: Tree): Array {
  const squares = tree.leaves(t).map((leaf) => np.square(leaf).sum());
  if (squares.length === 0) return np.zeros([]);
  return np.sqrt(squares.reduce((total, s) => total.add(s)));
}

/** Returns the clipped gradients and the norm before clipping; consumes `grads`. */
export function clipByGlobalNorm<G extends Tree>(grads: G, maxNorm: number): [G, Array] {
  const norm = globalNorm(tree.ref(grads));
  const scale = np.reciprocal(np.maximum(norm.ref, maxNorm)).mul(maxNorm);
  const clipped = tree.map((g: Array) => g.mul(scale.ref), grads) as G;
  scale.dispose();
  return [clipped, norm];
}
