/**
 * A jax-js function compiled for onnxruntime-node: traced once (`makeJaxpr`) at the example
 * arguments' shapes, lowered (lower-jaxpr.ts), loaded into one session. A call takes the flat
 * arguments as host typed arrays (the host arguments, such as the PRNG key, as jax-js arrays
 * for the prelude) and returns the flat outputs as host typed arrays, in the function's order.
 *
 * Arrays passed in are read, not kept: the caller may reuse or drop them after the call.
 */
import { makeJaxpr, tree, type Array, type JsTree, type JsTreeDef } from "../jax.js";
import { FacepriorError } from "../../errors.js";
import { requireOnnxRuntime, type OnnxRuntime, type OrtSession, type OrtTensorData } from "../onnxruntime.js";
import { lowerJaxpr, type LoweredFunction } from "./lower-jaxpr.js";

export type HostData = OrtTensorData;

export type OnnxFunction = {
  /** `args`: every flat argument (host ones included, as null); `hostArgs`: the host arguments, consumed. */
  run(args: readonly (HostData | null)[], hostArgs: Array[]): Promise<HostData[]>;
  readonly lowered: LoweredFunction;
  /** The structure of the function's output, for `tree.unflatten` of `run`'s result. */
  readonly outTree: JsTreeDef;
  /** Seconds spent tracing, lowering and loading. */
  readonly compileSeconds: number;
  dispose(): Promise<void>;
};

export type CompileOptions = {
  /** Positions among the function's (top-level) arguments that stay on the host: the PRNG key. */
  hostArguments: readonly number[];
  /** onnxruntime's intra-op threads. */
  threads: number;
  /** onnxruntime's execution providers, in order of preference (default cpu; "webgpu" is bundled on Linux x64). */
  providers?: readonly string[];
  name?: string;
};

/** The flat leaf positions of the top-level arguments at `positions`. */
function flatPositions(args: readonly JsTree<Array>[], positions: readonly number[]): number[] {
  const found: number[] = [];
  let offset = 0;
  args.forEach((arg, i) => {
    const count = tree.leaves(arg).length;
    for (let k = 0; k < count && positions.includes(i); k++) found.push(offset + k);
    offset += count;
  });
  return found;
}

export async function compileForOnnxRuntime<F extends (...args: never[]) => JsTree<Array>>(
  fn: F,
  exampleArgs: Parameters<F>,
  options: CompileOptions,
): Promise<OnnxFunction> {
  const started = performance.now();
  const ort = await requireOnnxRuntime();
  const traced = makeJaxpr(fn as unknown as (...args: JsTree<Array>[]) => JsTree<Array>)(...(exampleArgs as unknown as JsTree<Array>[]));
  let lowered: LoweredFunction;
  try {
    lowered = lowerJaxpr(traced.jaxpr, flatPositions(exampleArgs as unknown as JsTree<Array>[], options.hostArguments), options.name);
  } finally {
    traced.jaxpr.dispose();
  }
  const session = await ort.InferenceSession.create(lowered.model, {
    ...(options.providers ? { executionProviders: options.providers } : {}),
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  return {
    lowered,
    outTree: traced.treedef,
    compileSeconds: (performance.now() - started) / 1000,
    run: (args, hostArgs) => runLowered(ort, session, lowered, args, hostArgs),
    async dispose() {
      lowered.prelude?.dispose();
      await session.release();
    },
  };
}

async function runLowered(
  ort: OnnxRuntime,
  session: OrtSession,
  lowered: LoweredFunction,
  args: readonly (HostData | null)[],
  hostArgs: Array[],
): Promise<HostData[]> {
  const feeds: Record<string, InstanceType<OnnxRuntime["Tensor"]>> = {};
  for (const input of lowered.argInputs) {
    const data = args[input.arg];
    if (!data)
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `onnx function: argument ${input.arg} (${input.name}, [${input.shape}] ${input.type}) was not given.`,
      );
    feeds[input.name] = new ort.Tensor(input.type as "float32", data, input.shape);
  }
  const hostValues = lowered.prelude ? await lowered.prelude.run(hostArgs) : (hostArgs.forEach((a) => a.dispose()), []);
  lowered.hostInputs.forEach((input, k) => {
    feeds[input.name] = new ort.Tensor(input.type as "float32", hostValues[k]!, input.shape);
  });
  const results = await session.run(feeds);
  return lowered.outputs.map((output) => results[output.name]!.data as HostData);
}
