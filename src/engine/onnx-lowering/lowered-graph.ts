/**
 * The state of one jaxpr -> ONNX lowering: which ONNX tensor holds each jaxpr variable, and the
 * few moves every primitive rule needs (read an atom, materialise a broadcast, reshape, cast).
 *
 * A variable's tensor keeps the variable's rank but may hold 1 where the variable has n > 1:
 * an implicit broadcast. jax-js writes `broadcast` wherever shapes differ, and its backward pass
 * broadcasts before `dot`; resolving those as ONNX's numpy-style broadcasting (elementwise ops,
 * MatMul over the original operands) instead of copies was most of the prototype's speed
 * (METHOD.md §5). Rules that need the real shape call `full`, which adds an Expand.
 *
 * Two results are also kept pending until a consumer needs them written: a transpose (a view of
 * its source with a permutation, which a dot or reshape can absorb into its own layout change,
 * so that weight gradients become one MatMul with a transposed operand) and a negation (which
 * an add absorbs as a Sub: jax-js writes a - b as a + neg(b)). `read` writes them; `readLazy`
 * lets the rules that absorb them see them.
 */
import type { Jaxpr } from "../jax.js";
import { OnnxGraphBuilder } from "../onnx-graph.js";
import { ONNX_DATA_TYPE, type OnnxElementType, type OnnxTensorData } from "../onnx-proto.js";
import { FacepriorError } from "../../errors.js";

export type JaxprEqn = Jaxpr["eqns"][number];
export type JaxprVar = Jaxpr["inBinders"][number];
export type JaxprAtom = Jaxpr["outs"][number];
export type JaxprLit = Exclude<JaxprAtom, JaxprVar>;

export const isLiteral = (atom: JaxprAtom): atom is JaxprLit => "value" in atom;

/** A variable's ONNX tensor: `shape` is the tensor's own, `full` the variable's (see above). */
export type LoweredValue = { name: string; shape: number[]; full: number[]; type: OnnxElementType; pending?: Pending };

/**
 * Not written yet. transpose: the value is `source` [sourceShape] with axes `perm`
 * (value axis i = source axis perm[i]); neg: the value is -`source`. `name` is empty meanwhile.
 */
export type Pending = { kind: "transpose"; source: string; sourceShape: number[]; perm: number[] } | { kind: "neg"; source: string };

const JAX_TO_ONNX: Readonly<Record<string, OnnxElementType>> = { float32: "float32", int32: "int32", uint32: "uint32", bool: "bool" };

/** The ONNX element type of a jax-js dtype, or an error naming where it appeared. */
export function onnxTypeOf(dtype: string, where: string): OnnxElementType {
  const type = JAX_TO_ONNX[dtype];
  if (!type)
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `onnx lowering: ${where} has dtype ${dtype}, which the lowering does not support (float32, int32, uint32, bool).`,
    );
  return type;
}

export const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
export const sameDims = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** numpy's broadcast of two shapes, right-aligned. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[i - rank + a.length] ?? 1;
    const y = b[i - rank + b.length] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`onnx lowering: shapes [${a}] and [${b}] do not broadcast`);
    return Math.max(x, y);
  });
}

/** Values as the typed array that holds an ONNX tensor of `type` (bool: one byte each). */
export function typedArrayOf(type: OnnxElementType, values: ArrayLike<number>): OnnxTensorData {
  switch (type) {
    case "float32":
      return Float32Array.from(values);
    case "int32":
      return Int32Array.from(values);
    case "uint32":
      return Uint32Array.from(values);
    case "int64":
      return BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
    case "bool":
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}

export class LoweredGraph {
  readonly g = new OnnxGraphBuilder();
  private readonly values = new Map<JaxprVar, LoweredValue>();
  private readonly scalars = new Map<string, string>();

  /** Binds a variable to its tensor, checking the tensor's shape and type against the variable's aval. */
  bind(v: JaxprVar, value: LoweredValue, producer = "input"): void {
    if (this.values.has(v)) throw new Error(`onnx lowering: variable ${v} is bound twice`);
    const full = v.aval.shape;
    const fits = sameDims(value.full, full) && value.shape.length === full.length && value.shape.every((d, i) => d === full[i] || d === 1);
    if (!fits || value.type !== onnxTypeOf(v.aval.dtype, producer)) {
      throw new Error(`onnx lowering: ${producer} gave [${value.shape}] of [${value.full}] ${value.type} for ${v.aval.toString()}`);
    }
    this.values.set(v, value);
  }

  /** A scalar constant of this type, shared between uses. */
  scalar(type: OnnxElementType, value: number): string {
    const key = `${type}:${value}`;
    let name = this.scalars.get(key);
    if (!name) {
      name = this.g.constant([], typedArrayOf(type, [value]));
      this.scalars.set(key, name);
    }
    return name;
  }

  /** An atom's tensor, written; a literal in `type` (its own by default), a variable cast to it. */
  read(atom: JaxprAtom, type?: OnnxElementType): LoweredValue {
    const value = this.readLazy(atom, type);
    if (!value.pending || isLiteral(atom)) return value;
    const written = this.write(value);
    // Written once: later reads of the variable get the tensor.
    if (value.type === this.values.get(atom)!.type) this.values.set(atom, written);
    return written;
  }

  /** An atom's value, possibly pending; only rules that absorb pending values call this. */
  readLazy(atom: JaxprAtom, type?: OnnxElementType): LoweredValue {
    if (isLiteral(atom)) {
      const own = type ?? onnxTypeOf(atom.aval.dtype, "a literal");
      return { name: this.scalar(own, atom.value), shape: [], full: [], type: own };
    }
    const value = this.values.get(atom);
    if (!value) throw new Error(`onnx lowering: variable ${atom} is read before it is bound`);
    return type === undefined || type === value.type ? value : this.cast(this.write(value), type);
  }

  /** A pending value as a tensor. */
  write(value: LoweredValue): LoweredValue {
    const { pending, ...rest } = value;
    if (!pending) return value;
    const name =
      pending.kind === "neg" ? this.g.op("Neg", [pending.source]) : this.transpose(pending.source, pending.sourceShape, pending.perm);
    return { ...rest, name };
  }

  cast(value: LoweredValue, type: OnnxElementType): LoweredValue {
    if (value.type === type) return value;
    if (value.pending) throw new Error("onnx lowering: cast of a pending value");
    return { ...value, name: this.g.op("Cast", [value.name], { to: { int: ONNX_DATA_TYPE[type] } }), type };
  }

  /** The tensor with every implicit broadcast made real (an Expand), as ops that need the full shape take it. */
  full(value: LoweredValue): LoweredValue {
    if (value.pending) throw new Error("onnx lowering: expand of a pending value");
    if (sameDims(value.shape, value.full)) return value;
    return { ...value, name: this.g.op("Expand", [value.name, this.g.int64s(value.full)]), shape: [...value.full] };
  }

  /** A Reshape to `dims`, or the tensor itself when it has them already. */
  reshape(name: string, from: readonly number[], dims: readonly number[]): string {
    return sameDims(from, dims) ? name : this.g.op("Reshape", [name, this.g.int64s(dims)]);
  }

  /** A Transpose, or a Reshape when only axes of size 1 move (no data moves then). */
  transpose(name: string, dims: readonly number[], perm: readonly number[]): string {
    if (perm.every((p, i) => p === i)) return name;
    const moved = perm.map((p) => dims[p]!);
    const order = perm.filter((p) => dims[p] !== 1);
    const keepsOrder = order.every((p, i) => i === 0 || p > order[i - 1]!);
    return keepsOrder ? this.reshape(name, dims, moved) : this.g.op("Transpose", [name], { perm: { ints: perm } });
  }
}
