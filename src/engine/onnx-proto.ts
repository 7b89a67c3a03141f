/**
 * A minimal protobuf writer for ONNX models: the fields of ModelProto, GraphProto, NodeProto,
 * TensorProto, ValueInfoProto and AttributeProto that our graphs need: float32 inference graphs,
 * and the lowered training steps (src/engine/onnx-lowering/), which also carry int32, int64 and
 * bool tensors.
 * Field numbers are onnx.proto's (IR version 8, opset 17).
 *
 * Protobuf wire format, as used here: every field is a key `(field << 3) | wireType` as a
 * varint, then the value: a varint (wire type 0), 4 little-endian bytes (5), or a varint length
 * and that many bytes (2, for strings, bytes and nested messages). Repeated scalars are written
 * unpacked, one key per value, proto2's default. Tensors go in `raw_data`, little-endian.
 */

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

/** The element types faceprior writes, by their names in onnxruntime's JS API. */
export type OnnxElementType = "float32" | "int32" | "uint32" | "int64" | "bool";
export type OnnxTensorData = Float32Array | Int32Array | Uint32Array | BigInt64Array | Uint8Array;

/**
 * A constant (initializer): float32 weights, int64 shapes, axes and indices, int32 or bool values.
 * `data` is a Uint8Array only for bool (one byte a value, 0 or 1).
 */
export type OnnxTensor = { name: string; dims: readonly number[]; data: OnnxTensorData };
export type OnnxAttribute = { int: number } | { ints: readonly number[] } | { float: number };
export type OnnxNode = {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, OnnxAttribute>;
};
/** A graph input or output: float32 unless `type` says otherwise; each dimension a size or a symbolic name ("N"). */
export type OnnxValueInfo = { name: string; shape: readonly (number | string)[]; type?: OnnxElementType };
export type OnnxGraph = {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
};
export type OnnxModel = { graph: OnnxGraph; producerName: string; docString?: string; metadata?: Record<string, string> };

// TensorProto.DataType and AttributeProto.AttributeType values.
export const ONNX_DATA_TYPE: Readonly<Record<OnnxElementType, number>> = { float32: 1, int32: 6, uint32: 12, int64: 7, bool: 9 };
const ATTRIBUTE_TYPE = { float: 1, int: 2, ints: 7 } as const;

const WIRE = { varint: 0, lengthDelimited: 2, fixed32: 5 } as const;
type Wire = (typeof WIRE)[keyof typeof WIRE];

/**
 * One message's bytes as a list of chunks: nested messages and raw tensors are referenced, not
 * copied, until `toBytes` joins them once.
 */
class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  byteLength = 0;

  private push(chunk: Uint8Array): this {
    this.chunks.push(chunk);
    this.byteLength += chunk.byteLength;
    return this;
  }

  private key(field: number, wire: Wire): this {
    return this.push(encodeVarint(field * 8 + wire));
  }

  /** int32, int64 or enum; negative values take ten bytes (two's complement), as protobuf's int64. */
  varint(field: number, value: number): this {
    return this.key(field, WIRE.varint).push(encodeVarint(value));
  }

  float(field: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    return this.key(field, WIRE.fixed32).push(bytes);
  }

  bytes(field: number, value: Uint8Array): this {
    return this.key(field, WIRE.lengthDelimited).push(encodeVarint(value.byteLength)).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    this.key(field, WIRE.lengthDelimited).push(encodeVarint(value.byteLength));
    for (const chunk of value.chunks) this.push(chunk);
    return this;
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}

/** Base-128 varint, low groups first; a negative integer as its 64-bit two's complement. */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new Error(`encodeVarint: ${value} is not a safe integer`);
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return Uint8Array.from(bytes);
}

function tensorProto(t: OnnxTensor): ProtoWriter {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length)
    throw new Error(`onnx tensor ${t.name}: dims [${t.dims.join(",")}] hold ${count} values, data has ${t.data.length}`);
  const w = new ProtoWriter();
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, ONNX_DATA_TYPE[elementTypeOf(t.data)]);
  w.string(8, t.name);
  // Typed arrays are little-endian on every platform Node supports, as raw_data must be.
  return w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function elementTypeOf(data: OnnxTensorData): OnnxElementType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint32Array) return "uint32";
  return data instanceof BigInt64Array ? "int64" : "bool";
}

function attributeProto(name: string, a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ("int" in a) w.varint(3, a.int).varint(20, ATTRIBUTE_TYPE.int);
  else if ("float" in a) w.float(2, a.float).varint(20, ATTRIBUTE_TYPE.float);
  else {
    for (const v of a.ints) w.varint(8, v);
    w.varint(20, ATTRIBUTE_TYPE.ints);
  }
  return w;
}

function nodeProto(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  w.string(3, n.outputs[0]!);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes ?? {})) w.message(5, attributeProto(name, a));
  return w;
}

/** ValueInfoProto { name, type: TypeProto { tensor_type: { elem_type, shape } } }. */
function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    shape.message(1, typeof d === "number" ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  }
  const tensorType = new ProtoWriter().varint(1, ONNX_DATA_TYPE[v.type ?? "float32"]).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function graphProto(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, nodeProto(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, tensorProto(t));
  for (const v of g.inputs) w.message(11, valueInfoProto(v));
  for (const v of g.outputs) w.message(12, valueInfoProto(v));
  return w;
}

/** ModelProto bytes, loadable by onnxruntime and `onnx.load`. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter().varint(1, ONNX_IR_VERSION).string(2, model.producerName);
  if (model.docString) w.string(6, model.docString);
  w.message(7, graphProto(model.graph));
  w.message(8, new ProtoWriter().string(1, "").varint(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return w.toBytes();
}
