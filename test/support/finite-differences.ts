/**
 * Gradient checks by central finite differences in float64: ⟨∇f(x), v⟩ against the
 * Richardson-extrapolated difference quotient along a random unit direction v and along
 * ∇f/|∇f|, the error measured relative to |∇f| (along a random v the derivative itself can be
 * near 0). jax-js evaluates exp to ~4e-7 relative and log to ~1.3e-5 absolute even in float64,
 * so losses built on them need steps near 3e-2 and tolerances near 5e-4; exact arithmetic can
 * be held far tighter.
 */
import assert from "node:assert/strict";
import { grad, numpy as np, random, tree, type Array as JaxArray, type JsTree } from "../../src/engine/jax.js";

export type DifferenceCheck = { step: number; tolerance: number };

type Leaves = JsTree<JaxArray>;

/** Unit-norm copies of `leaves`, as one vector over all of them. */
function unit(leaves: JaxArray[]): JaxArray[] {
  const norm = Math.sqrt(leaves.reduce((s, leaf) => s + np.vdot(leaf.ref.ravel(), leaf.ref.ravel()).item(), 0));
  return leaves.map((leaf) => leaf.mul(1 / norm));
}

/**
 * For v a random unit direction and v = ∇f/|∇f|: ⟨∇f(x), v⟩ against (f(x + hv) − f(x − hv)) / 2h,
 * Richardson-extrapolated, the error taken relative to |∇f| (along a random v the derivative
 * itself can be near 0). Along ∇f/|∇f| both sides are |∇f|, so that check is fully relative.
 */
export function checkGradient<T extends Leaves>(name: string, f: (x: T) => JaxArray, x: T, { step, tolerance }: DifferenceCheck): void {
  const [leaves, structure] = tree.flatten(x) as [JaxArray[], ReturnType<typeof tree.structure>];
  const keys = np.unstack(random.split(random.key(42), leaves.length));
  const gradients = tree.leaves(grad(f as (x: Leaves) => JaxArray)(tree.ref(x) as Leaves) as Leaves) as JaxArray[];
  const gradNorm = Math.sqrt(gradients.reduce((s, g) => s + np.vdot(g.ref.ravel(), g.ref.ravel()).item(), 0));
  const directions = {
    random: unit(leaves.map((leaf, i) => random.normal(keys[i]!, leaf.shape).astype(np.float64))),
    gradient: unit(gradients.map((g) => g.ref)),
  };
  for (const [which, v] of Object.entries(directions)) {
    const analytic = gradients.reduce((s, g, i) => s + np.vdot(g.ref.ravel(), v[i]!.ref.ravel()).item(), 0);
    const at = (h: number) =>
      f(
        tree.unflatten(
          structure,
          leaves.map((leaf, i) => leaf.ref.add(v[i]!.ref.mul(h))),
        ) as T,
      ).item();
    const quotient = (h: number) => (at(h) - at(-h)) / (2 * h);
    const numeric = (4 * quotient(step / 2) - quotient(step)) / 3;
    const error = Math.abs(analytic - numeric) / gradNorm;
    assert.ok(
      error < tolerance,
      `${name}, ${which} direction: grad ${analytic}, differences ${numeric}, error ${error} of |grad| ${gradNorm}`,
    );
  }
  tree.dispose([leaves, gradients, directions]);
}
