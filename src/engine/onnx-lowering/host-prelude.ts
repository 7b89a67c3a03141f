/**
 * The host part of a lowered function: the equations computed from the PRNG key alone (masks,
 * noise, jitter draws), replayed with jax-js's public ops under `jit`, so they give exactly the
 * values that the jax-js engine computes inside its own step. Their results are read back and
 * fed to the ONNX graph as inputs.
 *
 * Only the primitives that random sampling and mask building produce have a replay here; any
 * other is refused by name when the prelude is built.
 */
import { jit, lax, numpy as np, random, type Array } from "../jax.js";
import { FacepriorError } from "../../errors.js";
import { isLiteral, type JaxprAtom, type JaxprEqn, type JaxprVar } from "./lowered-graph.js";

type Replay = (inputs: Array[], params: Record<string, unknown>) => Array[];
type HostArray = Float32Array | Int32Array | Uint32Array | Uint8Array;

export type HostPrelude = {
  /** The graph's host inputs from the host arguments (consumed), as typed arrays. */
  run(args: Array[]): Promise<HostArray[]>;
  dispose(): void;
};

const one =
  (f: (...xs: Array[]) => Array): Replay =>
  (xs) => [f(...xs)];

/** random_bits through the public PRNG: bits() is mode "xor", split()'s two halves modes 0 and 1. */
const randomBits: Replay = ([k0, k1], params) => {
  const { shape, mode } = params as { shape: number[]; mode: "xor" | 0 | 1 };
  if (k0!.ndim !== 0)
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `onnx lowering: random_bits over a batch of keys (shape [${k0!.shape}]) is not supported on the host.`,
    );
  const key = np.stack([k0!, k1!]);
  if (mode === "xor") return [random.bits(key, shape)];
  const halves = random.split(key, shape);
  return [halves.slice(...shape.map(() => [] as []), mode)];
};

const REDUCERS: Record<string, (x: Array, axis: number[]) => Array> = {
  Add: (x, axis) => np.sum(x, axis),
  Max: (x, axis) => np.max(x, axis),
  Min: (x, axis) => np.min(x, axis),
  Mul: (x, axis) => np.prod(x, axis),
};

const COMPARES: Record<string, (x: Array, y: Array) => Array> = {
  less: np.less,
  equal: np.equal,
  not_equal: np.notEqual,
  less_equal: np.lessEqual,
};

const REPLAYS: Readonly<Record<string, Replay>> = {
  random_bits: randomBits,
  bitcast: ([x], { dtype }) => [lax.bitcastConvertType(x!, dtype as Array["dtype"])],
  add: one(np.add),
  mul: one(np.multiply),
  min: one(np.minimum),
  max: one(np.maximum),
  idiv: ([x, y]) => {
    if (x!.dtype !== "uint32")
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `onnx lowering: integer division of ${x!.dtype} on the host is not supported (uint32 only).`,
      );
    return [np.floorDivide(x!, y!)];
  },
  neg: one(np.negative),
  reciprocal: one(np.reciprocal),
  floor: one(np.floor),
  ceil: one(np.ceil),
  sin: one(np.sin),
  cos: one(np.cos),
  exp: one(np.exp),
  log: one(np.log),
  sqrt: one(np.sqrt),
  erf: one(lax.erf),
  erfc: one(lax.erfc),
  stop_gradient: ([x]) => [x!],
  cast: ([x], { dtype }) => [x!.astype(dtype as Array["dtype"])],
  compare: ([x, y], { op }) => [COMPARES[op as string]!(x!, y!)],
  where: one(np.where),
  reduce: ([x], { op, axis }) => [(axis as number[]).length === 0 ? x! : REDUCERS[op as string]!(x!, axis as number[])],
  transpose: ([x], { perm }) => [np.transpose(x!, perm as number[])],
  reshape: ([x], { shape }) => [x!.reshape(shape as number[])],
  broadcast: ([x], { shape, axis }) => [
    np.broadcastTo((axis as number[]).length ? np.expandDims(x!, axis as number[]) : x!, shape as number[]),
  ],
  shrink: ([x], { slice }) => [x!.slice(...(slice as [number, number][]))],
  pad: ([x], { width }) => [np.pad(x!, width as [number, number][])],
  concatenate: (xs, { axis }) => [np.concatenate(xs, axis as number)],
  split: ([x], { axis, sizes }) => {
    const cuts = (sizes as number[]).slice(0, -1).map((_, i, all) => all.slice(0, i + 1).reduce((a, b) => a + b, 0));
    return np.split(x!, cuts, axis as number);
  },
  argsort: ([x]) => [np.sort(x!.ref, -1), np.argsort(x!, -1)],
  // One-hot rows of an identity constant (nn.oneHot) are the common case: a take along one axis.
  gather: ([x, ...indices], { axis, outDim }) => {
    const axes = axis as number[];
    if (axes.length !== 1 || outDim !== axes[0]) {
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `onnx lowering: gather over axes [${axes}] into position ${String(outDim)} is not supported on the host.`,
      );
    }
    return [np.take(x!, indices[0]!, axes[0])];
  },
  sort: ([x]) => [np.sort(x!, -1)],
};

/**
 * The prelude of `eqns` (in order): arguments `args` (the host arguments' variables), the
 * jaxpr's constants (kept by reference until `dispose`), results `outs`.
 */
export function makeHostPrelude(
  eqns: JaxprEqn[],
  args: JaxprVar[],
  constVars: JaxprVar[],
  consts: readonly Array[],
  outs: JaxprVar[],
): HostPrelude {
  for (const eqn of eqns) {
    if (!REPLAYS[eqn.primitive]) {
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `onnx lowering: primitive "${eqn.primitive}" is computed from the PRNG key alone, and the host cannot replay it. Train with the jax engine.`,
      );
    }
  }
  const used = new Set(eqns.flatMap((eqn) => eqn.inputs));
  const kept = constVars.flatMap((v, i) => (used.has(v) ? [{ v, value: consts[i]!.ref }] : []));
  const replay = (...values: Array[]): Array[] => {
    const env = new Map<JaxprVar, Array>();
    // A literal's dtype is already the promoted one, so a strongly typed array stands for it.
    const read = (atom: JaxprAtom): Array => (isLiteral(atom) ? np.array(atom.value, { dtype: atom.aval.dtype }) : env.get(atom)!.ref);
    args.forEach((v, i) => env.set(v, values[i]!));
    for (const { v, value } of kept) env.set(v, value.ref);
    for (const eqn of eqns) {
      REPLAYS[eqn.primitive]!(eqn.inputs.map(read), eqn.params).forEach((value, i) => env.set(eqn.outBinders[i]!, value));
    }
    const results = outs.map((v) => env.get(v)!.ref);
    for (const value of env.values()) value.dispose();
    return results;
  };
  const compiled = jit(replay);
  return {
    async run(args) {
      const results = compiled(...args);
      return Promise.all(results.map((a) => a.data() as Promise<HostArray>));
    },
    dispose() {
      compiled.dispose();
      for (const { value } of kept) value.dispose();
    },
  };
}
