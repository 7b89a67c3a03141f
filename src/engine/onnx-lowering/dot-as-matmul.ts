/**
 * jax-js's `dot` is sum(x * y, axis=-1) with numpy broadcasting over the other axes; matmul,
 * einsum and their backward passes all come out as a broadcast followed by a dot. Lowered
 * naively that builds the broadcast product in memory. Here each leading axis is classed by
 * the operands' own tensor shapes (implicit broadcasts count as 1, lowered-graph.ts):
 *
 *   batch: both have it          m: only x has it          n: only y has it
 *
 * and the dot becomes one MatMul  [batch..., M, K] @ [batch..., K, N]  over the original
 * operands, reshaped back to the output's axis order. The transposes it needs are of the last
 * two axes in the common cases, which onnxruntime folds into the MatMul.
 */
import { FacepriorError } from "../../errors.js";
import { product, type LoweredGraph, type LoweredValue } from "./lowered-graph.js";

type Axes = { batch: number[]; m: number[]; n: number[] };

function classify(xs: readonly number[], ys: readonly number[]): Axes {
  const axes: Axes = { batch: [], m: [], n: [] };
  for (let i = 0; i < xs.length - 1; i++) {
    const [x, y] = [xs[i]!, ys[i]!];
    if (x > 1 && y > 1) axes.batch.push(i);
    else if (x > 1) axes.m.push(i);
    else if (y > 1) axes.n.push(i);
  }
  return axes;
}

/** An operand as a source tensor and the permutation that gives its axes (identity for a written one). */
type Operand = { source: string; sourceShape: number[]; perm: number[]; shape: number[]; type: LoweredValue["type"] };

/** Leading 1s up to `rank`: on the written tensor, or as new unit axes of a pending transpose's source. */
function operand(ctx: LoweredGraph, v: LoweredValue, rank: number): Operand {
  const pad = rank - v.shape.length;
  const shape = [...Array(pad).fill(1), ...v.shape];
  if (v.pending?.kind === "transpose") {
    const { source, sourceShape, perm } = v.pending;
    return { source, sourceShape, perm: [...Array(pad).keys()].map((k) => sourceShape.length + k).concat(perm), shape, type: v.type };
  }
  return { source: ctx.reshape(v.name, v.shape, shape), sourceShape: shape, perm: shape.map((_, i) => i), shape, type: v.type };
}

/**
 * The operand as [batch..., rows, K] (or [batch..., K, rows] with `kFirst`): one Transpose of its
 * source's axes larger than 1, then a Reshape that merges the row axes.
 */
function asMatrix(ctx: LoweredGraph, v: Operand, batch: number[], rows: number[], kFirst: boolean): string {
  const k = v.shape.length - 1;
  const order = kFirst ? [...batch, k, ...rows] : [...batch, ...rows, k];
  const sourceAxes = v.sourceShape.map((_, a) => a).filter((a) => v.sourceShape[a] !== 1);
  const squeezedDims = sourceAxes.map((a) => v.sourceShape[a]!);
  const squeezed = ctx.reshape(v.source, v.sourceShape, squeezedDims);
  const wanted = order.filter((j) => v.shape[j] !== 1).map((j) => sourceAxes.indexOf(v.perm[j]!));
  const moved = ctx.transpose(squeezed, squeezedDims, wanted);
  const rowsSize = product(rows.map((i) => v.shape[i]!));
  const dims = [...batch.map((i) => v.shape[i]!), ...(kFirst ? [v.shape[k]!, rowsSize] : [rowsSize, v.shape[k]!])];
  return ctx.reshape(
    moved,
    wanted.map((w) => squeezedDims[w]!),
    dims,
  );
}

export function lowerDot(ctx: LoweredGraph, x0: LoweredValue, y0: LoweredValue, outFull: number[]): LoweredValue {
  const rank = outFull.length + 1;
  // A contraction axis broadcast in one operand only: rare, and simplest made real.
  const mismatch = x0.shape.at(-1) !== y0.shape.at(-1);
  const [xv, yv] = mismatch ? [ctx.full(ctx.write(x0)), ctx.full(ctx.write(y0))] : [x0, y0];
  const [x, y] = [operand(ctx, xv, rank), operand(ctx, yv, rank)];
  if (x.type !== y.type || x.type === "bool") {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `onnx lowering: dot of ${x.type} and ${y.type} is not supported (float32 or int32 on both sides).`,
    );
  }
  const axes = classify(x.shape, y.shape);
  const a = asMatrix(ctx, x, axes.batch, axes.m, false);
  const b = asMatrix(ctx, y, axes.batch, axes.n, true);
  const product2d = ctx.g.op("MatMul", [a, b]);
  const sizes = (v: Operand, list: number[]) => list.map((i) => v.shape[i]!);
  const grouped = [...sizes(x, axes.batch), ...sizes(x, axes.m), ...sizes(y, axes.n)];
  const matmulDims = [...sizes(x, axes.batch), product(sizes(x, axes.m)), product(sizes(y, axes.n))];
  const split = ctx.reshape(product2d, matmulDims, grouped);
  // Back to the output's axis order, then the axes that were 1 in both operands put back.
  const order = [...axes.batch, ...axes.m, ...axes.n];
  const sorted = [...order].sort((p, q) => p - q);
  const perm = sorted.map((axis) => order.indexOf(axis));
  const ordered = ctx.transpose(split, grouped, perm);
  const shape = outFull.map((_, i) => (order.includes(i) ? Math.max(x.shape[i]!, y.shape[i]!) : 1));
  const name = ctx.reshape(
    ordered,
    sorted.map((axis) => shape[axis]!),
    shape,
  );
  return { name, shape, full: outFull, type: x.type };
}
