/**
 * The one training step, shared by pretraining and fine-tuning (they differ only in the loss):
 *
 *   step(params, optState, batch, key, lr) => [params, optState, metrics]
 *
 * a single jitted function: loss and gradients (`valueAndGrad` with `hasAux`, so every loss
 * part is returned), clipping by global norm, the optimizer update, and a finite-ness flag
 * computed on device. Nothing inside reads from the host; `lr` is a scalar array, so the
 * schedule never recompiles.
 *
 * Gradient accumulation (N micro-batches, one update) runs as two jitted functions, so only one
 * micro-batch's activations are alive at a time:
 *   gradients(params, microBatch, key_i) => { grads, loss, parts }   N times, summed eagerly
 *   apply(params, optState, sums, lr)    => the update with the mean over the N micro-batches
 * Micro-batch i gets key_i = split(key, N)[i]. For a loss that is a mean over the batch, N
 * micro-batches of B/N give the update of one batch of B, up to float rounding.
 */
import { jit, numpy as np, random, tree, valueAndGrad, type Array, type OwnedFunction } from "../engine/jax.js";
import { applyUpdates, type Optimizer } from "./adamw.js";
import type { Tree } from "./tree-names.js";
import { clipByGlobalNorm, globalNorm } from "./clip-grad.js";

export type LossParts = Record<string, Array>;
/** A pure loss: scalar loss and its named parts (logged each step). Consumes its arguments. */
export type LossFn<P extends Tree, B extends Tree> = (params: P, batch: B, key: Array) => [Array, LossParts];

/** Scalars on device. `finite` is a bool: loss and gradient norm are both finite. */
export type StepMetrics = { loss: Array; parts: LossParts; gradNorm: Array; finite: Array };
export type StepOptions = { clipNorm?: number | null };

type StepFn<P, S, B> = (params: P, optState: S, batch: B, key: Array, lr: Array) => [P, S, StepMetrics];
export type TrainStep<P, S, B> = OwnedFunction<StepFn<P, S, B>>;
export type AccumulatedStep<P, S, B> = ((params: P, optState: S, batches: B[], key: Array, lr: Array) => [P, S, StepMetrics]) & {
  dispose(): void;
};

/** `valueAndGrad` with `hasAux`, typed for a parameter tree P: [[loss, parts], grads]. */
function lossAndGrad<P extends Tree, B extends Tree>(lossFn: LossFn<P, B>): (params: P, batch: B, key: Array) => [[Array, LossParts], P] {
  return valueAndGrad(lossFn as (params: Tree, batch: Tree, key: Array) => [Array, LossParts], { hasAux: true }) as unknown as (
    params: P,
    batch: B,
    key: Array,
  ) => [[Array, LossParts], P];
}

/** Clip, update, apply; the part of a step after the gradients. Consumes everything. */
function finishStep<P extends Tree, S extends Tree>(
  optimizer: Optimizer<S>,
  clipNorm: number | null,
  params: P,
  optState: S,
  grads: P,
  loss: Array,
  parts: LossParts,
  lr: Array,
): [P, S, StepMetrics] {
  const [clipped, gradNorm]: [P, Array] = clipNorm === null ? [grads, globalNorm(tree.ref(grads))] : clipByGlobalNorm(grads, clipNorm);
  const [updates, newState] = optimizer.update<P>(clipped, optState, tree.ref(params), lr);
  const finite = np.logicalAnd(np.isfinite(loss.ref), np.isfinite(gradNorm.ref));
  return [applyUpdates(params, updates), newState, { loss, parts, gradNorm, finite }];
}

/** The step before `jit`, for tests that compare jitted against eager. */
export function trainStepFunction<P extends Tree, S extends Tree, B extends Tree>(
  lossFn: LossFn<P, B>,
  optimizer: Optimizer<S>,
  { clipNorm = null }: StepOptions = {},
): StepFn<P, S, B> {
  return (params, optState, batch, key, lr) => {
    const [[loss, parts], grads] = lossAndGrad(lossFn)(tree.ref(params), batch, key);
    return finishStep(optimizer, clipNorm, params, optState, grads, loss, parts, lr);
  };
}

/** Builds the jitted step once; call `.dispose()` when training ends. */
export function makeTrainStep<P extends Tree, S extends Tree, B extends Tree>(
  lossFn: LossFn<P, B>,
  optimizer: Optimizer<S>,
  options: StepOptions = {},
): TrainStep<P, S, B> {
  return jit(trainStepFunction(lossFn, optimizer, options)) as unknown as TrainStep<P, S, B>;
}

export type Sums<P> = { grads: P; loss: Array; parts: LossParts };

/** One micro-batch's loss parts and gradients, before `jit`; consumes its arguments. */
export function microBatchGradients<P extends Tree, B extends Tree>(lossFn: LossFn<P, B>): (params: P, batch: B, key: Array) => Sums<P> {
  return (params, batch, key) => {
    const [[loss, parts], grads] = lossAndGrad(lossFn)(params, batch, key);
    return { grads, loss, parts };
  };
}

/** The update from summed micro-batch gradients: their mean, then clip and step. Before `jit`. */
export function meanUpdate<P extends Tree, S extends Tree>(
  optimizer: Optimizer<S>,
  { clipNorm = null }: StepOptions,
  count: number,
): (params: P, optState: S, sums: Sums<P>, lr: Array) => [P, S, StepMetrics] {
  return (params, optState, sums, lr) => {
    const mean = tree.map((x: Array) => x.div(count), sums) as Sums<P>;
    return finishStep(optimizer, clipNorm, params, optState, mean.grads, mean.loss, mean.parts, lr);
  };
}

/** One update from `batches.length` micro-batches (see the file comment). */
export function makeAccumulatedStep<P extends Tree, S extends Tree, B extends Tree>(
  lossFn: LossFn<P, B>,
  optimizer: Optimizer<S>,
  options: StepOptions = {},
): AccumulatedStep<P, S, B> {
  const gradients = jit(microBatchGradients(lossFn)) as unknown as OwnedFunction<(params: P, batch: B, key: Array) => Sums<P>>;
  type Apply = (params: P, optState: S, sums: Sums<P>, lr: Array, count: number) => [P, S, StepMetrics];
  const update: Apply = (params, optState, sums, lr, count) => meanUpdate<P, S>(optimizer, options, count)(params, optState, sums, lr);
  const apply = jit(update, { staticArgnums: [4] }) as unknown as OwnedFunction<Apply>;

  const step = (params: P, optState: S, batches: B[], key: Array, lr: Array): [P, S, StepMetrics] => {
    if (batches.length === 0) throw new Error("accumulated step: no micro-batches given");
    const keys = microBatchKeys(key, batches.length);
    let sums: Sums<P> | null = null;
    batches.forEach((batch, i) => {
      const next = gradients(tree.ref(params), batch, keys[i]!);
      sums = sums === null ? next : (tree.map((a: Array, b: Array) => a.add(b), sums, next) as Sums<P>);
    });
    return apply(params, optState, sums!, lr, batches.length);
  };
  return Object.assign(step, {
    dispose() {
      gradients.dispose();
      apply.dispose();
    },
  });
}

/** Micro-batch i's key: split(key, N)[i]. Consumes `key`. */
export function microBatchKeys(key: Array, count: number): Array[] {
  return np.unstack(random.split(key, count));
}
