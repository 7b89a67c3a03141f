/**
 * The layout primitives: transpose, reshape, broadcast. None of them writes data when it can be
 * avoided: a broadcast inserts axes of size 1 (lowered-graph.ts's implicit broadcasts), a
 * transpose stays pending, and a reshape of a pending transpose is moved onto its source when
 * every group of merged or split axes is contiguous there, so the transpose stays pending for
 * the consumer (in a training step, mostly a dot).
 */
import { sameDims, type JaxprEqn, type LoweredGraph, type LoweredValue, type Pending } from "./lowered-graph.js";
import { result, type PrimitiveRule } from "./rule-helpers.js";

type TransposePending = Extract<Pending, { kind: "transpose" }>;

/** A pending transpose, or a tensor when the permutation moves no data. */
function transposed(ctx: LoweredGraph, pending: TransposePending, base: Omit<LoweredValue, "name" | "pending">): LoweredValue {
  const { source, sourceShape, perm } = pending;
  const order = perm.filter((p) => sourceShape[p] !== 1);
  if (order.every((p, i) => i === 0 || p > order[i - 1]!)) return { ...base, name: ctx.transpose(source, sourceShape, perm) };
  return { ...base, name: "", pending };
}

export const transpose: PrimitiveRule = (ctx, eqn) => {
  const perm = eqn.params.perm as number[];
  const lazy = ctx.readLazy(eqn.inputs[0]!);
  const x = lazy.pending?.kind === "neg" ? ctx.read(eqn.inputs[0]!) : lazy;
  const shape = perm.map((p) => x.shape[p]!);
  const full = perm.map((p) => x.full[p]!);
  const pending: TransposePending =
    x.pending?.kind === "transpose"
      ? { ...x.pending, perm: perm.map((p) => (x.pending as TransposePending).perm[p]!) }
      : { kind: "transpose", source: x.name, sourceShape: x.shape, perm };
  return [transposed(ctx, pending, { shape, full, type: x.type })];
};

/** New axes of size 1 and implicit expansion: a Reshape at most, never a copy. */
export const broadcast: PrimitiveRule = (ctx, eqn) => {
  const x = ctx.read(eqn.inputs[0]!);
  const inserted = [...(eqn.params.axis as number[])].sort((a, b) => a - b);
  const shape = [...x.shape];
  for (const i of inserted) shape.splice(i, 0, 1);
  return [result(ctx.reshape(x.name, x.shape, shape), shape, eqn)];
};

type Group = { from: number[]; to: number[] };

/** Runs of axes whose sizes multiply to the same number in `from` and `to`; null if there are none. */
export function reshapeGroups(from: readonly number[], to: readonly number[]): Group[] | null {
  const groups: Group[] = [];
  let [i, j] = [0, 0];
  while (i < from.length || j < to.length) {
    const group: Group = { from: [], to: [] };
    let [a, b] = [1, 1];
    if (i < from.length) a *= from[(group.from[group.from.length] = i++)]!;
    if (j < to.length) b *= to[(group.to[group.to.length] = j++)]!;
    while (a !== b) {
      if (a < b && i < from.length) a *= from[(group.from[group.from.length] = i++)]!;
      else if (b < a && j < to.length) b *= to[(group.to[group.to.length] = j++)]!;
      else return null;
    }
    groups.push(group);
  }
  return groups;
}

/**
 * Reshape by groups: a group whose input axes are all real keeps real axes, one whose input
 * axes are all implicit broadcasts stays implicit (axes of size 1 go either way); a mixed group
 * needs the broadcast written first.
 */
function reshapeImplicit(actual: number[], full: number[], target: number[]): number[] | null {
  if (sameDims(actual, full)) return target;
  const groups = reshapeGroups(full, target);
  if (!groups) return null;
  const shape: number[] = [];
  for (const { from, to } of groups) {
    const implicit = from.some((k) => actual[k] === 1 && full[k]! > 1);
    const real = from.some((k) => actual[k] === full[k] && full[k]! > 1);
    if (implicit && real) return null;
    shape.push(...to.map((k) => (implicit ? 1 : target[k]!)));
  }
  return shape;
}

/**
 * A reshape of a pending transpose as a reshape of its source plus a new pending transpose, when
 * each group of the value's axes is a contiguous ascending run of the source's axes. Axes of
 * size 1 are left out; a group of implicit broadcasts stays implicit (size 1 in the source).
 */
function reshapeThroughTranspose(ctx: LoweredGraph, value: LoweredValue, pending: TransposePending, target: number[]) {
  const { source, sourceShape, perm } = pending;
  const sourceAxes = sourceShape.map((_, a) => a).filter((a) => sourceShape[a] !== 1);
  const position = new Map(sourceAxes.map((a, k) => [a, k]));
  const axes = value.full.map((_, j) => j).filter((j) => value.full[j] !== 1);
  const groups = reshapeGroups(
    axes.map((j) => value.full[j]!),
    target,
  );
  if (!groups) return null;
  const placed: { to: number[]; implicit: boolean; at: number }[] = [];
  for (const group of groups) {
    const implicit = group.from.map((f) => value.shape[axes[f]!] === 1);
    if (implicit.some(Boolean) && !implicit.every(Boolean)) return null;
    const runs = group.from.map((f) => position.get(perm[axes[f]!]!)!);
    const real = group.from.length > 0 && !implicit[0];
    if (real && runs.some((k, i) => i > 0 && k !== runs[i - 1]! + 1)) return null;
    placed.push({ to: group.to, implicit: !real, at: real ? runs[0]! : sourceAxes.length });
  }
  placed.sort((p, q) => p.at - q.at);
  const dims = (g: (typeof placed)[number]) => g.to.map((t) => (g.implicit ? 1 : target[t]!));
  const newShape = placed.flatMap(dims);
  const newPerm = new Array<number>(target.length);
  let offset = 0;
  for (const { to } of placed) to.forEach((t) => (newPerm[t] = offset++));
  const moved: TransposePending = {
    kind: "transpose",
    source: ctx.reshape(source, sourceShape, newShape),
    sourceShape: newShape,
    perm: newPerm,
  };
  return { moved, shape: newPerm.map((a) => newShape[a]!) };
}

export const reshape: PrimitiveRule = (ctx, eqn) => {
  const target = [...(eqn.params.shape as number[])];
  const lazy = ctx.readLazy(eqn.inputs[0]!);
  if (lazy.pending?.kind === "transpose") {
    const through = reshapeThroughTranspose(ctx, lazy, lazy.pending, target);
    if (through) return [transposed(ctx, through.moved, { shape: through.shape, full: target, type: lazy.type })];
  }
  let x = ctx.read(eqn.inputs[0]!);
  let shape = reshapeImplicit(x.shape, x.full, target);
  if (!shape) {
    x = ctx.full(x);
    shape = target;
  }
  return [result(ctx.reshape(x.name, x.shape, shape), shape, eqn satisfies JaxprEqn)];
};
