/**
 * A traced jax-js function (`makeJaxpr`) as one ONNX model plus a host prelude:
 *
 *   host prelude (jax-js)   everything computed from the host arguments alone (the PRNG key:
 *                           masks, noise, jitter), since random_bits and bitcast have no
 *                           opset-17 equivalent; its results enter the graph as inputs
 *   ONNX graph              the rest, primitive by primitive (primitive-rules.ts)
 *
 * Graph inputs are `arg_<i>` for flat argument i (only those the graph reads) and `host_<k>` for
 * the prelude's results; outputs are `out_<i>`, one per flat output, in the traced function's
 * order. Shapes are fixed at trace time.
 */
import type { Array, ClosedJaxpr } from "../jax.js";
import { encodeOnnxModel, type OnnxElementType, type OnnxValueInfo } from "../onnx-proto.js";
import { FacepriorError } from "../../errors.js";
import { makeHostPrelude, type HostPrelude } from "./host-prelude.js";
import { isLiteral, LoweredGraph, onnxTypeOf, typedArrayOf, type JaxprEqn, type JaxprVar } from "./lowered-graph.js";
import { PRIMITIVE_RULES } from "./primitive-rules.js";

export type GraphTensor = { name: string; shape: number[]; type: OnnxElementType };

export type LoweredFunction = {
  /** The ONNX model's bytes. */
  model: Uint8Array;
  /** Graph inputs fed from the flat arguments: `arg` is the argument's flat index. */
  argInputs: (GraphTensor & { arg: number })[];
  /** Graph inputs fed from the prelude's results, in the prelude's output order. */
  hostInputs: GraphTensor[];
  /** One per flat output of the traced function. */
  outputs: GraphTensor[];
  /** Computes `hostInputs` from the host arguments (null when the graph has none). */
  prelude: HostPrelude | null;
  /** How many equations each side got, and which primitives the graph holds. */
  stats: { hostEqns: number; graphEqns: number; primitives: Record<string, number> };
};

/** Primitives that only the host can run; an equation using one must be computable from host arguments. */
const HOST_ONLY = new Set(["random_bits", "bitcast", "bit_combine", "bit_shift", "bit_count"]);

type Partition = { host: Set<JaxprEqn>; hostVars: Set<JaxprVar>; cut: JaxprVar[] };

/** Equations whose variable inputs are all host arguments, host results or constants, and that touch the host side. */
function partition(eqns: readonly JaxprEqn[], outs: ClosedJaxpr["jaxpr"]["outs"], hostArgs: JaxprVar[], consts: Set<JaxprVar>): Partition {
  const hostVars = new Set<JaxprVar>(hostArgs);
  const host = new Set<JaxprEqn>();
  for (const eqn of eqns) {
    const vars = eqn.inputs.filter((atom): atom is JaxprVar => !isLiteral(atom));
    const onHost =
      vars.length > 0 &&
      vars.every((v) => hostVars.has(v) || consts.has(v)) &&
      (vars.some((v) => hostVars.has(v)) || HOST_ONLY.has(eqn.primitive));
    if (onHost) {
      host.add(eqn);
      for (const v of eqn.outBinders) hostVars.add(v);
    }
  }
  const cut = new Set<JaxprVar>();
  const uses = [...eqns.filter((eqn) => !host.has(eqn)).flatMap((eqn) => eqn.inputs), ...outs];
  for (const atom of uses) if (!isLiteral(atom) && hostVars.has(atom)) cut.add(atom);
  return { host, hostVars, cut: [...cut] };
}

/**
 * Lowers `closed`, whose flat arguments at `hostArgIndices` live on the host (the PRNG key).
 * The jaxpr's constants become initializers (graph side) or prelude constants (host side).
 */
export function lowerJaxpr(closed: ClosedJaxpr, hostArgIndices: readonly number[], graphName = "faceprior_step"): LoweredFunction {
  const jaxpr = closed.jaxpr.flatten().simplify();
  // Constants of a finished trace are concrete arrays.
  const consts = closed.consts as unknown as Array[];
  const constCount = consts.length;
  const constVars = jaxpr.inBinders.slice(0, constCount);
  const argVars = jaxpr.inBinders.slice(constCount);
  const hostArgs = hostArgIndices.map((i) => argVars[i]!);
  const { host, cut } = partition(jaxpr.eqns, jaxpr.outs, hostArgs, new Set(constVars));
  const ctx = new LoweredGraph();
  const primitives: Record<string, number> = {};

  const graphEqns = jaxpr.eqns.filter((eqn) => !host.has(eqn));
  const read = new Set(graphEqns.flatMap((eqn) => eqn.inputs).concat(jaxpr.outs));
  constVars.forEach((v, i) => {
    if (!read.has(v)) return;
    const type = onnxTypeOf(v.aval.dtype, `constant ${i}`);
    const name = ctx.g.constant(v.aval.shape, typedArrayOf(type, consts[i]!.ref.dataSync() as ArrayLike<number>));
    ctx.bind(v, { name, shape: [...v.aval.shape], full: [...v.aval.shape], type });
  });
  const graphInput = (v: JaxprVar, name: string): GraphTensor => {
    const tensor = { name, shape: [...v.aval.shape], type: onnxTypeOf(v.aval.dtype, `input ${name}`) };
    ctx.bind(v, { ...tensor, full: tensor.shape });
    return tensor;
  };
  const argInputs = argVars.flatMap((v, arg) => (read.has(v) && !hostArgs.includes(v) ? [{ ...graphInput(v, `arg_${arg}`), arg }] : []));
  const hostInputs = cut.map((v, k) => graphInput(v, `host_${k}`));

  for (const eqn of graphEqns) {
    const rule = PRIMITIVE_RULES[eqn.primitive];
    if (!rule) {
      throw new FacepriorError(
        "BAD_ARGUMENT",
        `onnx lowering: primitive "${eqn.primitive}" (${eqn.outBinders.map((v) => v.aval.toString()).join(", ")}) has no ONNX rule. Train with the jax engine, or write the loss without it.`,
      );
    }
    primitives[eqn.primitive] = (primitives[eqn.primitive] ?? 0) + 1;
    rule(ctx, eqn).forEach((value, i) => ctx.bind(eqn.outBinders[i]!, value, eqn.primitive));
  }

  const outputs: GraphTensor[] = jaxpr.outs.map((atom, i) => {
    const type = onnxTypeOf(atom.aval.dtype, `output ${i}`);
    const value = ctx.full(ctx.read(atom, type));
    const name = `out_${i}`;
    ctx.g.output(isLiteral(atom) ? ctx.g.op("Expand", [value.name, ctx.g.int64s(atom.aval.shape)]) : value.name, name);
    return { name, shape: [...atom.aval.shape], type };
  });
  const info = (t: GraphTensor): OnnxValueInfo => ({ name: t.name, shape: t.shape, type: t.type });
  const graph = ctx.g.build(graphName, [...argInputs, ...hostInputs].map(info), outputs.map(info));
  const model = encodeOnnxModel({ graph, producerName: "faceprior onnx-lowering" });
  const prelude =
    cut.length > 0
      ? makeHostPrelude(
          jaxpr.eqns.filter((eqn) => host.has(eqn)),
          hostArgs,
          constVars,
          consts,
          cut,
        )
      : null;
  return { model, argInputs, hostInputs, outputs, prelude, stats: { hostEqns: host.size, graphEqns: graphEqns.length, primitives } };
}
