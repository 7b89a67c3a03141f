/**
 * One ONNX (opset 17) rule per jax-js primitive that a training step's device part holds.
 * Each rule reads its inputs from the LoweredGraph and returns its outputs' tensors; shapes
 * follow lowered-graph.ts (implicit broadcasts stay implicit where the op allows). Primitives
 * without a rule (random_bits, bitcast, bit ops, scatter, conv, linear algebra) are refused by
 * name; the random ones run on the host instead (host-prelude.ts).
 */
import { ONNX_DATA_TYPE } from "../onnx-proto.js";
import { lowerDot } from "./dot-as-matmul.js";
import { broadcast, reshape, transpose } from "./view-rules.js";
import { broadcastDims, isLiteral, onnxTypeOf, product, type JaxprEqn, type LoweredGraph, type LoweredValue } from "./lowered-graph.js";

import { outAval, outType, result, type PrimitiveRule } from "./rule-helpers.js";

/** On bools jax-js's add and max are "or", mul and min "and". */
const BOOL_OPS: Readonly<Record<string, string>> = { Add: "Or", Max: "Or", Mul: "And", Min: "And" };

/** Elementwise over inputs in the output's type (literals written in it); numpy broadcasting. */
function elementwise(op: string): PrimitiveRule {
  return (ctx, eqn) => {
    const type = outType(eqn);
    const inputs = eqn.inputs.map((atom) => ctx.read(atom, type));
    const shape = inputs.map((v) => v.shape).reduce(broadcastDims);
    const onnxOp = type === "bool" ? BOOL_OPS[op] : op;
    if (!onnxOp) throw new Error(`onnx lowering: ${eqn.primitive} on bool is not supported`);
    return [
      result(
        ctx.g.op(
          onnxOp,
          inputs.map((v) => v.name),
        ),
        pad(shape, outAval(eqn).shape.length),
        eqn,
      ),
    ];
  };
}

const pad = (shape: number[], rank: number) => [...Array(rank - shape.length).fill(1), ...shape];

/** The type both operands of a comparison are read in: that of the first variable. */
function operandType(eqn: JaxprEqn) {
  const variable = eqn.inputs.find((atom) => !isLiteral(atom)) ?? eqn.inputs[0]!;
  return onnxTypeOf(variable.aval.dtype, `${eqn.primitive}'s input`);
}

function unary(op: string): PrimitiveRule {
  return (ctx, eqn) => {
    const x = ctx.read(eqn.inputs[0]!, outType(eqn));
    return [result(ctx.g.op(op, [x.name]), x.shape, eqn)];
  };
}

const compare: PrimitiveRule = (ctx, eqn) => {
  const type = operandType(eqn);
  const [x, y] = eqn.inputs.map((atom) => ctx.read(atom, type)) as [LoweredValue, LoweredValue];
  const shape = pad(broadcastDims(x.shape, y.shape), outAval(eqn).shape.length);
  const op = eqn.params.op as string;
  const onnxOp = { less: "Less", equal: "Equal", not_equal: "Equal", less_equal: "LessOrEqual" }[op];
  if (!onnxOp) throw new Error(`onnx lowering: compare op "${op}" is unknown`);
  const compared = ctx.g.op(onnxOp, [x.name, y.name]);
  return [result(op === "not_equal" ? ctx.g.op("Not", [compared]) : compared, shape, eqn)];
};

const where: PrimitiveRule = (ctx, eqn) => {
  const type = outType(eqn);
  const cond = ctx.read(eqn.inputs[0]!, "bool");
  const [x, y] = eqn.inputs.slice(1).map((atom) => ctx.read(atom, type)) as [LoweredValue, LoweredValue];
  const shape = [cond.shape, x.shape, y.shape].reduce(broadcastDims);
  return [result(ctx.g.op("Where", [cond.name, x.name, y.name]), pad(shape, outAval(eqn).shape.length), eqn)];
};

/**
 * Sum, max, min or product over axes. An axis broadcast implicitly holds n copies of one value:
 * its max and min are that value, its sum n times it.
 */
const reduce: PrimitiveRule = (ctx, eqn) => {
  const axis = eqn.params.axis as number[];
  const op = eqn.params.op as string;
  let x = ctx.read(eqn.inputs[0]!);
  if (axis.length === 0) return [x];
  const copies = product(axis.map((i) => (x.shape[i] === 1 ? x.full[i]! : 1)));
  if (op === "Mul" && copies > 1) x = ctx.full(x);
  const shape = x.shape.filter((_, i) => !axis.includes(i));
  let name: string;
  if (op === "Add") name = ctx.g.op("ReduceSum", [x.name, ctx.g.int64s(axis)], { keepdims: { int: 0 } });
  else {
    const onnxOp = { Max: "ReduceMax", Min: "ReduceMin", Mul: "ReduceProd" }[op];
    if (!onnxOp) throw new Error(`onnx lowering: reduce op "${op}" is unknown`);
    name = ctx.g.op(onnxOp, [x.name], { axes: { ints: axis }, keepdims: { int: 0 } });
  }
  if (op === "Add" && copies > 1) name = ctx.g.op("Mul", [name, ctx.scalar(x.type, copies)]);
  return [result(name, shape, eqn)];
};

/** Pending transposes of either operand become part of the MatMul's own layout change. */
const dot: PrimitiveRule = (ctx, eqn) => {
  const operand = (atom: JaxprEqn["inputs"][number]) => {
    const value = ctx.readLazy(atom, outType(eqn));
    return value.pending?.kind === "neg" ? ctx.read(atom, outType(eqn)) : value;
  };
  return [lowerDot(ctx, operand(eqn.inputs[0]!), operand(eqn.inputs[1]!), [...outAval(eqn).shape])];
};

/** Pending until a consumer needs it: an add takes it as a Sub, a mul passes it on, a neg cancels it. */
const neg: PrimitiveRule = (ctx, eqn) => {
  const lazy = ctx.readLazy(eqn.inputs[0]!, outType(eqn));
  if (lazy.pending?.kind === "neg") return [{ ...lazy, name: lazy.pending.source, pending: undefined }];
  const x = ctx.read(eqn.inputs[0]!, outType(eqn));
  return [{ ...x, name: "", pending: { kind: "neg", source: x.name } }];
};

/**
 * A binary op with exactly one pending-negation operand, as `build(other, negated's source)`;
 * null otherwise (no negation, two of them, or bools).
 */
function withOneNegated(
  ctx: LoweredGraph,
  eqn: JaxprEqn,
  build: (other: LoweredValue, source: string, shape: number[]) => LoweredValue,
): LoweredValue | null {
  const type = outType(eqn);
  const [x, y] = eqn.inputs.map((atom) => ctx.readLazy(atom, type)) as [LoweredValue, LoweredValue];
  const isNeg = (v: LoweredValue) => v.pending?.kind === "neg";
  if (isNeg(x) === isNeg(y) || type === "bool") return null;
  const [other, negated] = isNeg(x) ? [ctx.read(eqn.inputs[1]!, type), x] : [ctx.read(eqn.inputs[0]!, type), y];
  const shape = pad(broadcastDims(other.shape, negated.shape), outAval(eqn).shape.length);
  return build(other, negated.pending!.source, shape);
}

/** a · neg(b) as neg(a · b), so that the negation reaches an add that absorbs it. */
const mul: PrimitiveRule = (ctx, eqn) => {
  const moved = withOneNegated(ctx, eqn, (other, source, shape) => ({
    ...result("", shape, eqn),
    pending: { kind: "neg", source: ctx.g.op("Mul", [other.name, source]) },
  }));
  return moved ? [moved] : elementwise("Mul")(ctx, eqn);
};

/** a + neg(b) as Sub(a, b); otherwise an elementwise Add. */
const add: PrimitiveRule = (ctx, eqn) => {
  const sub = withOneNegated(ctx, eqn, (other, source, shape) => result(ctx.g.op("Sub", [other.name, source]), shape, eqn));
  return sub ? [sub] : elementwise("Add")(ctx, eqn);
};

const shrink: PrimitiveRule = (ctx, eqn) => {
  const x = ctx.read(eqn.inputs[0]!);
  const slice = eqn.params.slice as [number, number][];
  // An implicit axis holds one value everywhere: any slice of it is that value.
  const axes = slice.map((_, i) => i).filter((i) => x.shape[i] !== 1 && (slice[i]![0] !== 0 || slice[i]![1] !== x.shape[i]));
  const shape = x.shape.map((d, i) => (d === 1 ? 1 : slice[i]![1] - slice[i]![0]));
  if (axes.length === 0) return [result(x.name, shape, eqn)];
  const starts = ctx.g.int64s(axes.map((i) => slice[i]![0]));
  const ends = ctx.g.int64s(axes.map((i) => slice[i]![1]));
  return [result(ctx.g.op("Slice", [x.name, starts, ends, ctx.g.int64s(axes)]), shape, eqn)];
};

const padRule: PrimitiveRule = (ctx, eqn) => {
  const x = ctx.full(ctx.read(eqn.inputs[0]!));
  const width = eqn.params.width as [number, number][];
  const pads = ctx.g.int64s([...width.map((w) => w[0]), ...width.map((w) => w[1])]);
  const full = [...outAval(eqn).shape];
  return [result(ctx.g.op("Pad", [x.name, pads, ctx.scalar(x.type, 0)]), full, eqn)];
};

const concatenate: PrimitiveRule = (ctx, eqn) => {
  const type = outType(eqn);
  const inputs = eqn.inputs.map((atom) => ctx.full(ctx.read(atom, type)).name);
  return [result(ctx.g.op("Concat", inputs, { axis: { int: eqn.params.axis as number } }), [...outAval(eqn).shape], eqn)];
};

const split: PrimitiveRule = (ctx, eqn) => {
  const axis = eqn.params.axis as number;
  const sizes = eqn.params.sizes as number[];
  let x = ctx.read(eqn.inputs[0]!);
  if (x.shape[axis] === 1 && x.full[axis]! > 1) x = ctx.full(x);
  const names = ctx.g.multiOp("Split", [x.name, ctx.g.int64s(sizes)], sizes.length, { axis: { int: axis } });
  return names.map((name, i) =>
    result(
      name,
      x.shape.map((d, k) => (k === axis ? sizes[i]! : d)),
      eqn,
      i,
    ),
  );
};

const cast: PrimitiveRule = (ctx, eqn) => {
  const x = ctx.read(eqn.inputs[0]!);
  return [result(ctx.cast(x, outType(eqn)).name, x.shape, eqn)];
};

/** 1 - erf(x): ONNX has no Erfc. Its absolute error is erf's; x > 4 gives 0 instead of < 2e-8. */
const erfc: PrimitiveRule = (ctx, eqn) => {
  const x = ctx.read(eqn.inputs[0]!, "float32");
  return [result(ctx.g.op("Sub", [ctx.scalar("float32", 1), ctx.g.op("Erf", [x.name])]), x.shape, eqn)];
};

/** Values and indices of a stable ascending sort along the last axis (TopK keeps ties in index order). */
function sortLast(ctx: LoweredGraph, eqn: JaxprEqn): [LoweredValue, string, string] {
  const x = ctx.full(ctx.read(eqn.inputs[0]!));
  const axis = x.shape.length - 1;
  const k = ctx.g.int64s([x.shape[axis]!]);
  const [values, indices] = ctx.g.multiOp("TopK", [x.name, k], 2, { axis: { int: axis }, largest: { int: 0 }, sorted: { int: 1 } });
  return [x, values!, indices!];
}

const argsort: PrimitiveRule = (ctx, eqn) => {
  const [x, values, indices] = sortLast(ctx, eqn);
  const int32 = ctx.g.op("Cast", [indices], { to: { int: ONNX_DATA_TYPE.int32 } });
  return [result(values, x.shape, eqn, 0), result(int32, x.shape, eqn, 1)];
};

const sort: PrimitiveRule = (ctx, eqn) => {
  const [x, values] = sortLast(ctx, eqn);
  return [result(values, x.shape, eqn)];
};

/** Single-axis gather with the index axes in place of the gathered one (take along one axis). */
const gather: PrimitiveRule = (ctx, eqn) => {
  const axes = eqn.params.axis as number[];
  const outDim = eqn.params.outDim as number;
  if (axes.length !== 1 || outDim !== axes[0]) {
    throw new Error(`onnx lowering: gather over axes [${axes}] into position ${outDim} is not supported (one axis, indices in its place)`);
  }
  const x = ctx.full(ctx.read(eqn.inputs[0]!));
  const indices = ctx.full(ctx.read(eqn.inputs[1]!));
  return [result(ctx.g.op("Gather", [x.name, indices.name], { axis: { int: axes[0]! } }), [...outAval(eqn).shape], eqn)];
};

const flip: PrimitiveRule = (ctx, eqn) => {
  const x = ctx.read(eqn.inputs[0]!);
  const axes = (eqn.params.axis as number[]).filter((i) => x.shape[i] !== 1);
  if (axes.length === 0) return [result(x.name, x.shape, eqn)];
  const starts = ctx.g.int64s(axes.map(() => -1));
  const ends = ctx.g.int64s(axes.map(() => Number.MIN_SAFE_INTEGER));
  const steps = ctx.g.int64s(axes.map(() => -1));
  return [result(ctx.g.op("Slice", [x.name, starts, ends, ctx.g.int64s(axes), steps]), x.shape, eqn)];
};

const identity: PrimitiveRule = (ctx, eqn) => [ctx.read(eqn.inputs[0]!)];

export const PRIMITIVE_RULES: Readonly<Record<string, PrimitiveRule>> = {
  add,
  mul,
  min: elementwise("Min"),
  max: elementwise("Max"),
  idiv: elementwise("Div"),
  mod: (ctx, eqn) => {
    const [x, y] = eqn.inputs.map((atom) => ctx.read(atom, outType(eqn))) as [LoweredValue, LoweredValue];
    // C-style: the sign of the dividend, as jax-js's mod.
    const name = ctx.g.op("Mod", [x.name, y.name], { fmod: { int: 1 } });
    return [result(name, pad(broadcastDims(x.shape, y.shape), outAval(eqn).shape.length), eqn)];
  },
  neg,
  reciprocal: unary("Reciprocal"),
  floor: unary("Floor"),
  ceil: unary("Ceil"),
  sin: unary("Sin"),
  cos: unary("Cos"),
  asin: unary("Asin"),
  atan: unary("Atan"),
  exp: unary("Exp"),
  log: unary("Log"),
  erf: unary("Erf"),
  sqrt: unary("Sqrt"),
  erfc,
  stop_gradient: identity,
  cast,
  compare,
  where,
  reduce,
  dot,
  transpose,
  broadcast,
  reshape,
  shrink,
  pad: padRule,
  concatenate,
  split,
  argsort,
  sort,
  gather,
  flip,
};
