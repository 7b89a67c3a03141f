/**
 * Builds an ONNX graph op by op: each op returns the name of its output, so a graph reads like
 * the forward pass it computes. Names are unique by construction; int64 and scalar constants
 * with the same values are shared.
 */
import type { OnnxAttribute, OnnxGraph, OnnxNode, OnnxTensor, OnnxTensorData, OnnxValueInfo } from "./onnx-proto.js";

export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly names = new Set<string>();
  private readonly shared = new Map<string, string>();

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`OnnxGraphBuilder: the name "${name}" is used twice`);
    this.names.add(name);
    return name;
  }

  private fresh(stem: string): string {
    let n = this.names.size;
    while (this.names.has(`${stem}_${n}`)) n++;
    return this.claim(`${stem}_${n}`);
  }

  /** An initializer (float32 weights, or int32/int64/bool values); returns its name. */
  weight(name: string, dims: readonly number[], data: OnnxTensorData): string {
    this.initializers.push({ name: this.claim(name), dims, data });
    return name;
  }

  /** An initializer under a fresh name. */
  constant(dims: readonly number[], data: OnnxTensorData): string {
    const name = this.fresh("const");
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** A float32 scalar constant, shared between uses. */
  scalar(value: number): string {
    return this.sharedConstant(`f32:${value}`, () => ({ name: this.fresh("scalar"), dims: [], data: Float32Array.of(value) }));
  }

  /** An int64 constant (a shape, axes, starts), 1-D unless `dims` says otherwise; shared between uses. */
  int64s(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    return this.sharedConstant(`i64:${dims}:${values}`, () => ({ name: this.fresh("ints"), dims, data }));
  }

  private sharedConstant(key: string, make: () => OnnxTensor): string {
    const known = this.shared.get(key);
    if (known) return known;
    const tensor = make();
    this.initializers.push(tensor);
    this.shared.set(key, tensor.name);
    return tensor.name;
  }

  /** One node with one output, named `output` (a graph output) or fresh; returns that name. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}, output?: string): string {
    const name = output === undefined ? this.fresh(opType.toLowerCase()) : this.claim(output);
    this.nodes.push({ opType, inputs, outputs: [name], attributes });
    return name;
  }

  /** One node with several outputs (Split, TopK), fresh names; returns them in order. */
  multiOp(opType: string, inputs: readonly string[], outputCount: number, attributes: Record<string, OnnxAttribute> = {}): string[] {
    const stem = opType.toLowerCase();
    const outputs = Array.from({ length: outputCount }, () => this.fresh(stem));
    this.nodes.push({ opType, inputs, outputs, attributes });
    return outputs;
  }

  /** Renames the value `from` to the graph output `to` with an Identity node. */
  output(from: string, to: string): string {
    return this.op("Identity", [from], {}, to);
  }

  build(name: string, inputs: readonly OnnxValueInfo[], outputs: readonly OnnxValueInfo[]): OnnxGraph {
    return { name, nodes: [...this.nodes], initializers: [...this.initializers], inputs, outputs };
  }
}
