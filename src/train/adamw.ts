/**
 * AdamW as a small optax-shaped state machine over parameter trees: `init(params)` gives the
 * state, `update(grads, state, params, lr)` gives `[updates, state]`, `applyUpdates` adds them.
 *
 * Per leaf p with gradient g, at step t = count + 1 (Loshchilov & Hutter, decoupled decay):
 *   mu = b1·mu + (1 - b1)·g              nu = b2·nu + (1 - b2)·g²
 *   u  = -lr·scale·( (mu / (1 - b1^t)) / (sqrt(nu / (1 - b2^t)) + eps) + wd·decay·p )
 * `decay` (0 or 1) and `scale` (layer-wise lr decay) are static per leaf, read from the leaf's
 * timm name, so `jit` bakes them in. `lr` can be a scalar array fed in each step, so a schedule
 * never forces a recompile.
 *
 * Ownership: every function consumes its arguments (jax-js convention); pass `tree.ref(params)`
 * to keep the parameters.
 */
import { numpy as np, tree, type Array } from "../engine/jax.js";
import { leafNames, type Tree } from "./tree-names.js";

export type { Tree } from "./tree-names.js";
export type AdamWState = { count: Array; mu: Tree; nu: Tree };

export type AdamWOptions = {
  /** Used when `update` is called without an `lr`. */
  lr?: number;
  b1?: number;
  b2?: number;
  eps?: number;
  weightDecay?: number;
  /** Which leaves get weight decay, by timm name and shape. Default: `timmDecayMask`. */
  decayMask?: (name: string, shape: number[]) => boolean;
  /** Layer-wise lr decay factor (BEiT/MAE fine-tuning); 1 turns it off. */
  layerDecay?: number;
};

export type Optimizer<S extends Tree> = {
  init(params: Tree): S;
  update<P extends Tree>(grads: P, state: S, params: P, lr?: Array | number): [P, S];
};

/**
 * timm's no-decay set: 1-D leaves (norm weights, biases), `*.bias`, norm layers, and the token
 * and position tables (`cls_token`, `mask_token`, `*_token`, `pos_embed`, `decoder_pos_embed`).
 */
export function timmDecayMask(name: string, shape: number[]): boolean {
  if (shape.length <= 1 || name.endsWith(".bias")) return false;
  const parts = name.split(".");
  const leaf = parts.at(-1)!;
  if (leaf.endsWith("_token") || leaf.endsWith("pos_embed")) return false;
  return !parts.slice(0, -1).some((part) => /norm\d*$/.test(part));
}

/**
 * The lr multiplier of one leaf under layer decay (MAE's `param_groups_lrd`): with L = depth + 1
 * layers, `patch_embed`, `cls_token` and `pos_embed` are layer 0, `blocks.{i}` is layer i + 1,
 * everything else (final norm, heads, decoder) is layer L; the scale is decay^(L - layer).
 */
export function layerDecayScale(name: string, depth: number, decay: number): number {
  if (decay === 1) return 1;
  const block = /^blocks\.(\d+)\./.exec(name);
  if (block) return decay ** (depth - Number(block[1]));
  if (/^(patch_embed|cls_token|pos_embed)(\.|$)/.test(name)) return decay ** (depth + 1);
  return 1;
}

/** The encoder depth implied by the names: one more than the largest `blocks.{i}`. */
export function depthFromNames(names: string[]): number {
  return names.reduce((depth, name) => {
    const block = /^blocks\.(\d+)\./.exec(name);
    return block ? Math.max(depth, Number(block[1]) + 1) : depth;
  }, 0);
}

export function adamw(options: AdamWOptions = {}): Optimizer<AdamWState> {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, weightDecay = 0, decayMask = timmDecayMask, layerDecay = 1 } = options;
  return {
    init(params) {
      const zeros = () => tree.map((p: Array) => np.zeros(p.shape, { dtype: p.dtype }), params);
      const state = { count: np.zeros([], { dtype: np.int32 }), mu: zeros(), nu: zeros() };
      tree.dispose(params);
      return state;
    },

    update(grads, state, params, lr = options.lr) {
      if (lr === undefined) throw new Error("adamw.update: no lr given and no default lr in the options");
      const names = leafNames(grads);
      const depth = depthFromNames(names);
      const [g, def] = tree.flatten(grads);
      for (const [what, t] of [
        ["mu", state.mu],
        ["nu", state.nu],
        ["params", params],
      ] as const) {
        const other = leafNames(t);
        if (other.join() !== names.join()) throw new Error(`adamw.update: ${what} has leaves [${other}], the gradients [${names}]`);
      }
      const [mu, nu, p] = [tree.leaves(state.mu), tree.leaves(state.nu), tree.leaves(params)];
      const count = state.count.add(1);
      const t = count.ref.astype(np.float32);
      // 1 - b^t as -expm1(t·ln b): 1 - exp(·) cancels to ~1e-5 relative error at b2 = 0.999.
      const correction1 = np.expm1(t.ref.mul(Math.log(b1))).neg();
      const correction2 = np.expm1(t.mul(Math.log(b2))).neg();
      const updates: Array[] = [];
      const newMu: Array[] = [];
      const newNu: Array[] = [];
      g.forEach((gi, i) => {
        const m = mu[i]!.mul(b1).add(gi.ref.mul(1 - b1));
        const v = nu[i]!.mul(b2).add(np.square(gi).mul(1 - b2));
        const mHat = m.ref.div(correction1.ref);
        const vHat = v.ref.div(correction2.ref);
        let u = mHat.div(np.sqrt(vHat).add(eps));
        const pi = p[i]!;
        if (weightDecay > 0 && decayMask(names[i]!, pi.shape)) u = u.add(pi.mul(weightDecay));
        else pi.dispose();
        const scale = -layerDecayScale(names[i]!, depth, layerDecay);
        updates.push(u.mul(typeof lr === "number" ? lr * scale : lr.ref.mul(scale)));
        newMu.push(m);
        newNu.push(v);
      });
      correction1.dispose();
      correction2.dispose();
      if (typeof lr !== "number") lr.dispose();
      const rebuild = (leaves: Array[]) => tree.unflatten(def, leaves) as Tree;
      return [rebuild(updates) as typeof grads, { count, mu: rebuild(newMu), nu: rebuild(newNu) }];
    },
  };
}

/** params + updates, leaf by leaf; consumes both. */
export function applyUpdates<P extends Tree>(params: P, updates: P): P {
  return tree.map((p: Array, u: Array) => p.add(u), params, updates) as P;
}
