/**
 * Where the training state lives between steps, and what runs a step:
 *
 *   jax    jax-js arrays; the jitted step of train-step.ts (the reference, and WebGPU's path)
 *   onnx   host typed arrays fed to onnxruntime-node; the same step functions traced once,
 *          lowered to ONNX (src/engine/onnx-lowering/), with the PRNG key's prelude on jax-js
 *
 * Both take the same step functions (train-step.ts), keys and schedule, so a run may switch
 * engines at a checkpoint. The state goes back to jax-js arrays only to be saved or returned.
 * Gradient accumulation on onnxruntime runs two graphs, as on jax-js: per micro-batch
 * gradients (summed on the host, in float32), then the update from their mean.
 */
import { numpy as np, tree, type Array } from "../engine/jax.js";
import { compileForOnnxRuntime, type HostData, type OnnxFunction } from "../engine/onnx-lowering/onnx-function.js";
import type { AdamWState, Optimizer } from "./adamw.js";
import {
  makeAccumulatedStep,
  makeTrainStep,
  meanUpdate,
  microBatchGradients,
  microBatchKeys,
  trainStepFunction,
  type LossFn,
  type StepMetrics,
  type StepOptions,
} from "./train-step.js";
import type { Tree } from "./tree-names.js";

export const TRAIN_ENGINES = ["jax", "onnx"] as const;
export type TrainEngineName = (typeof TRAIN_ENGINES)[number];

export type TrainState<P> = { params: P; optState: AdamWState };
export type MetricValues = { loss: number; parts: Record<string, number>; gradNorm: number; finite: boolean };

export type StepEngine<P, B> = {
  readonly name: TrainEngineName;
  /** One optimizer step over the micro-batches; consumes them and the key. */
  step(batches: B[], key: Array, lr: number): Promise<MetricValues>;
  /** A copy of the state as jax-js arrays, which the caller owns. */
  snapshot(): Promise<TrainState<P>>;
  /** Frees what the engine holds. */
  dispose(): Promise<void>;
};

export type StepEngineOptions<P extends Tree, B extends Tree> = {
  loss: LossFn<P, B>;
  optimizer: Optimizer<AdamWState>;
  step: StepOptions;
  accumSteps: number;
  /** onnxruntime's threads (onnx engine). */
  threads: number;
  /** onnxruntime's execution providers (onnx engine; default cpu). */
  providers?: readonly string[];
};

/** Starts `engine` on `state`, which it takes over. */
export function createStepEngine<P extends Tree, B extends Tree>(
  engine: TrainEngineName,
  state: TrainState<P>,
  options: StepEngineOptions<P, B>,
): StepEngine<P, B> {
  return engine === "jax" ? jaxEngine(state, options) : onnxEngine(state, options);
}

function jaxEngine<P extends Tree, B extends Tree>(state: TrainState<P>, options: StepEngineOptions<P, B>): StepEngine<P, B> {
  const { loss, optimizer, accumSteps } = options;
  const stepper = accumSteps > 1 ? makeAccumulatedStep<P, AdamWState, B>(loss, optimizer, options.step) : singleBatchStepper<P, B>(options);
  let live: TrainState<P> | null = state;
  return {
    name: "jax",
    async step(batches, key, lr) {
      const { params, optState } = live!;
      live = null; // the step consumes them
      const [newParams, newOptState, metrics] = stepper(params, optState, batches, key, np.array(lr));
      live = { params: newParams, optState: newOptState };
      return readMetrics(metrics);
    },
    async snapshot() {
      return tree.ref(live!);
    },
    async dispose() {
      stepper.dispose();
      if (live) tree.dispose(live);
      live = null;
    },
  };
}

/** The one-batch step behind the accumulated step's signature. */
function singleBatchStepper<P extends Tree, B extends Tree>({ loss, optimizer, step }: StepEngineOptions<P, B>) {
  const single = makeTrainStep<P, AdamWState, B>(loss, optimizer, step);
  const stepper = (params: P, optState: AdamWState, batches: B[], key: Array, lr: Array) => single(params, optState, batches[0]!, key, lr);
  return Object.assign(stepper, { dispose: () => single.dispose() });
}

async function readMetrics(metrics: StepMetrics): Promise<MetricValues> {
  const scalar = async (a: Array) => (await a.data())[0]!;
  const parts: Record<string, number> = {};
  for (const [name, value] of Object.entries(metrics.parts)) parts[name] = await scalar(value);
  return {
    loss: await scalar(metrics.loss),
    parts,
    gradNorm: await scalar(metrics.gradNorm),
    finite: (await scalar(metrics.finite)) !== 0,
  };
}

type Leaf = { shape: number[]; dtype: Array["dtype"] };

type HostTree = { data: HostData[]; leaves: Leaf[]; def: ReturnType<typeof tree.flatten>[1] };

/** Host copies of a tree's leaves (consumed), with what it takes to rebuild the arrays. */
async function toHost(t: Tree): Promise<HostTree> {
  const [arrays, def] = tree.flatten(t);
  const leaves = (arrays as Array[]).map((a) => ({ shape: [...a.shape], dtype: a.dtype }));
  const data = await Promise.all((arrays as Array[]).map((a) => a.data() as Promise<HostData>));
  return { data, leaves, def };
}

function toArrays(data: readonly HostData[], leaves: readonly Leaf[], def: ReturnType<typeof tree.flatten>[1]): Tree {
  return tree.unflatten(
    def,
    data.map((d, i) => np.array(d, { dtype: leaves[i]!.dtype }).reshape(leaves[i]!.shape)),
  ) as Tree;
}

const metricValues = (m: { loss: HostData; parts: Record<string, HostData>; gradNorm: HostData; finite: HostData }): MetricValues => ({
  loss: m.loss[0]!,
  parts: Object.fromEntries(Object.entries(m.parts).map(([k, v]) => [k, v[0]!])),
  gradNorm: m.gradNorm[0]!,
  finite: m.finite[0] !== 0,
});

/**
 * The onnx engine. Graphs are compiled at the first step, from that step's arrays (their shapes
 * are the graph's); the state stays in host arrays that each step's outputs replace.
 */
function onnxEngine<P extends Tree, B extends Tree>(state: TrainState<P>, options: StepEngineOptions<P, B>): StepEngine<P, B> {
  const { loss, optimizer, accumSteps, threads, providers } = options;
  let host: { params: HostData[]; opt: HostData[] } | null = null;
  // Shapes, dtypes and tree structure only, to rebuild jax-js arrays from `host` (no data kept).
  let layout: { params: Omit<HostTree, "data">; opt: Omit<HostTree, "data"> } | null = null;
  let pending: TrainState<P> | null = state;
  let graphs: { single?: OnnxFunction; gradients?: OnnxFunction; apply?: OnnxFunction } = {};

  /** The first step traces with the live jax-js state, then moves it to the host. */
  async function start(batches: B[], key: Array, lr: number): Promise<void> {
    const { params, optState } = pending!;
    const lrArray = np.array(lr);
    if (accumSteps === 1) {
      const fn = trainStepFunction<P, AdamWState, B>(loss, optimizer, options.step);
      graphs.single = await compileForOnnxRuntime(fn, [params, optState, batches[0]!, key, lrArray], {
        hostArguments: [3],
        threads,
        providers,
        name: "train_step",
      });
    } else {
      const gradients = microBatchGradients<P, B>(loss);
      graphs.gradients = await compileForOnnxRuntime(gradients, [params, batches[0]!, key], {
        hostArguments: [2],
        threads,
        providers,
        name: "gradients",
      });
      // The update's example sums have the gradients' output structure and shapes.
      const zeros = graphs.gradients.lowered.outputs.map((o) => np.zeros(o.shape));
      const sums = tree.unflatten(graphs.gradients.outTree, zeros) as never;
      graphs.apply = await compileForOnnxRuntime(
        meanUpdate<P, AdamWState>(optimizer, options.step, accumSteps),
        [params, optState, sums, lrArray],
        {
          hostArguments: [],
          threads,
          providers,
          name: "apply",
        },
      );
      tree.dispose(sums);
    }
    lrArray.dispose();
    pending = null;
    const [{ data: paramData, ...paramLayout }, { data: optData, ...optLayout }] = [await toHost(params), await toHost(optState)];
    layout = { params: paramLayout, opt: optLayout };
    host = { params: paramData, opt: optData };
  }

  const batchData = async (batch: B) => (await toHost(batch)).data;

  async function singleStep(batches: B[], key: Array, lr: number): Promise<MetricValues> {
    const fn = graphs.single!;
    const [p, s] = [host!.params.length, host!.opt.length];
    const batch = await batchData(batches[0]!);
    const keyLeaves = tree.leaves(key) as Array[];
    const args = [...host!.params, ...host!.opt, ...batch, ...keyLeaves.map(() => null), Float32Array.of(lr)];
    const out = await fn.run(args, keyLeaves);
    host = { params: out.slice(0, p), opt: out.slice(p, p + s) };
    return metricValues(stepMetrics(fn, out));
  }

  async function accumulatedStep(batches: B[], key: Array, lr: number): Promise<MetricValues> {
    const { gradients, apply } = graphs as Required<typeof graphs>;
    const keys = microBatchKeys(key, batches.length);
    let sums: Float32Array[] | null = null;
    for (const [i, batch] of batches.entries()) {
      const data = await batchData(batch);
      const out = (await gradients.run([...host!.params, ...data, null], [keys[i]!])) as Float32Array[];
      // float32 sums, as jax-js adds the micro-batches' arrays.
      sums = sums === null ? out : sums.map((a, k) => a.map((x, j) => x + out[k]![j]!));
    }
    const [p, s] = [host!.params.length, host!.opt.length];
    const out = await apply.run([...host!.params, ...host!.opt, ...sums!, Float32Array.of(lr)], []);
    host = { params: out.slice(0, p), opt: out.slice(p, p + s) };
    return metricValues(stepMetrics(apply, out));
  }

  return {
    name: "onnx",
    async step(batches, key, lr) {
      if (pending) await start(batches, key, lr);
      return accumSteps === 1 ? singleStep(batches, key, lr) : accumulatedStep(batches, key, lr);
    },
    async snapshot() {
      if (pending) return tree.ref(pending);
      return {
        params: toArrays(host!.params, layout!.params.leaves, layout!.params.def) as P,
        optState: toArrays(host!.opt, layout!.opt.leaves, layout!.opt.def) as AdamWState,
      };
    },
    async dispose() {
      if (pending) tree.dispose(pending);
      pending = null;
      await Promise.all(Object.values(graphs).map((g) => g?.dispose()));
      graphs = {};
    },
  };
}

/** The metrics of a step's outputs `[params, optState, metrics]`, by the traced output structure. */
function stepMetrics(fn: OnnxFunction, out: HostData[]) {
  const [, , metrics] = tree.unflatten(fn.outTree, out) as unknown as [
    unknown,
    unknown,
    { loss: HostData; parts: Record<string, HostData>; gradNorm: HostData; finite: HostData },
  ];
  return metrics;
}
