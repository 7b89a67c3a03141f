/**
 * safetensors reading and writing on the host, with every header field bounds-checked.
 * Format: u64 little-endian header length N, N bytes of JSON, then the raw tensor bytes. As
 * the format requires, the tensors' byte ranges must tile the data exactly: no two overlap (a
 * byte read as two weights), and no byte is left over (a gap, or bytes after the last tensor).
 * F16, BF16 and F64 tensors are read as Float32Array (`dtype` remembers what was on disk); F32,
 * F16, I32, I64 and U8 can be written.
 */
import { readSync } from "node:fs";
import { FacepriorError } from "../errors.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { openRegularFile, readRegularFile } from "../io/regular-file.js";
import { float16BitsToFloat32, float32ToFloat16Bits } from "./float16.js";

export type StoredDType = "F32" | "F16" | "BF16" | "F64" | "I32" | "I64" | "U8";
export type HostTensor = { dtype: StoredDType; shape: number[]; data: Float32Array | Int32Array | Uint8Array };
export type TensorMap = Record<string, HostTensor>;
export type SafetensorsFile = { tensors: TensorMap; metadata: Record<string, string> };

const BYTES: Record<StoredDType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8, U8: 1 };
const MAX_HEADER_BYTES = 100_000_000;
/** The most bytes one read returns (Node's limit): ViT-L in float32 is 1.2 GB. */
const MAX_SAFETENSORS_BYTES = 2 ** 31 - 1;

function corrupt(source: string, problem: string): FacepriorError {
  return new FacepriorError(
    "BAD_CHECKPOINT",
    `${source}: ${problem}. The file is not a valid safetensors file; re-export or re-download it.`,
  );
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, { code: "BAD_CHECKPOINT", what: "a safetensors file", maxBytes: MAX_SAFETENSORS_BYTES });
  } catch (cause) {
    if (cause instanceof FacepriorError) throw cause;
    throw new FacepriorError("BAD_CHECKPOINT", `${path}: cannot be read (${(cause as Error).message}).`, { cause });
  }
  return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

export function parseSafetensors(bytes: Uint8Array, source = "safetensors"): SafetensorsFile {
  if (bytes.byteLength < 8) throw corrupt(source, `only ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const headerLength = headerLengthOf(bytes.subarray(0, 8), bytes.byteLength, source);
  const dataStart = 8 + headerLength;
  const { metadata, entries } = parseHeader(bytes.subarray(8, dataStart), bytes.byteLength - dataStart, source);
  const tensors: TensorMap = {};
  for (const { name, dtype, shape, begin, end } of entries) {
    tensors[name] = { dtype, shape, data: decode(bytes.slice(dataStart + begin, dataStart + end), dtype, (end - begin) / BYTES[dtype]) };
  }
  return { tensors, metadata };
}

/** The header's length from the file's first 8 bytes, checked against the file's size. */
function headerLengthOf(first8: Uint8Array, fileLength: number, source: string): number {
  const headerLength = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileLength) {
    throw corrupt(source, `header length ${headerLength} runs past the end of the file (${fileLength} bytes); it is truncated`);
  }
  return headerLength;
}

/** Where a tensor lies, in bytes from the start of the data section. */
type TensorEntry = { name: string; dtype: StoredDType; shape: number[]; begin: number; end: number };

/** The header's metadata and tensor entries, each checked, and the entries checked to tile `dataLength` bytes. */
function parseHeader(
  headerBytes: Uint8Array,
  dataLength: number,
  source: string,
): { metadata: Record<string, string>; entries: TensorEntry[] } {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(headerBytes));
  } catch {
    throw corrupt(source, "the JSON header does not parse");
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) throw corrupt(source, "the header is not a JSON object");
  const entries: TensorEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") metadata = checkMetadata(entry, source);
    else entries.push(tensorEntry(dataLength, name, entry, source));
  }
  checkTiling(entries, dataLength, source);
  return { metadata, entries };
}

/** Throws unless the entries cover [0, dataLength) exactly once: no overlap, no gap, nothing after the last. */
function checkTiling(spans: TensorEntry[], dataLength: number, source: string): void {
  let covered = 0;
  let previous: TensorEntry | undefined;
  for (const span of [...spans].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (span.begin < covered)
      throw corrupt(source, `tensors ${previous!.name} and ${span.name} share bytes ${span.begin}-${Math.min(covered, span.end)}`);
    if (span.begin > covered) throw corrupt(source, `bytes ${covered}-${span.begin} of the data belong to no tensor (before ${span.name})`);
    covered = span.end;
    previous = span;
  }
  if (covered !== dataLength) throw corrupt(source, `${dataLength - covered} bytes after the last tensor belong to no tensor`);
}

function checkMetadata(entry: unknown, source: string): Record<string, string> {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) throw corrupt(source, "__metadata__ is not an object");
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== "string") throw corrupt(source, `__metadata__.${key} is not a string`);
  }
  return entry as Record<string, string>;
}

function tensorEntry(dataLength: number, name: string, entry: unknown, source: string): TensorEntry {
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof e?.dtype !== "string" || !(e.dtype in BYTES)) {
    throw corrupt(source, `tensor ${name} has dtype ${JSON.stringify(e?.dtype)}, expected one of ${Object.keys(BYTES).join(", ")}`);
  }
  const dtype = e.dtype as StoredDType;
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw corrupt(source, `tensor ${name} has shape ${JSON.stringify(shape)}, expected a list of non-negative integers`);
  }
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw corrupt(source, `tensor ${name} has data_offsets ${JSON.stringify(offsets)}, expected [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  if (end < begin || end > dataLength)
    throw corrupt(source, `tensor ${name} spans bytes ${begin}-${end}, past the ${dataLength} data bytes; the file is truncated`);
  if (end - begin !== count * BYTES[dtype]) {
    throw corrupt(source, `tensor ${name} is [${shape.join(",")}] ${dtype} (${count * BYTES[dtype]} bytes) but holds ${end - begin} bytes`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

function decode(raw: Uint8Array, dtype: StoredDType, count: number): HostTensor["data"] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case "F32":
      return new Float32Array(raw.buffer, raw.byteOffset, count);
    case "F16":
      return Float32Array.from({ length: count }, (_, i) => float16BitsToFloat32(view.getUint16(2 * i, true)));
    case "BF16": {
      // bfloat16 is the top half of a float32.
      const widened = new Uint32Array(count);
      for (let i = 0; i < count; i++) widened[i] = view.getUint16(2 * i, true) << 16;
      return new Float32Array(widened.buffer);
    }
    case "F64":
      return Float32Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, true));
    case "I32":
      return new Int32Array(raw.buffer, raw.byteOffset, count);
    case "I64":
      return Int32Array.from({ length: count }, (_, i) => Number(view.getBigInt64(8 * i, true)));
    case "U8":
      return raw;
  }
}

/** Encodes tensors (sorted by name, like the reference writer) with string metadata. */
export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const parts = names.map((name) => {
    const t = tensors[name]!;
    const encoded = encode(t);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + encoded.byteLength] };
    offset += encoded.byteLength;
    return encoded;
  });
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8); // keep tensor data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function encode(t: HostTensor): Uint8Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.dtype === "BF16" || t.dtype === "F64") throw new Error(`encode: writing ${t.dtype} is not supported; store F32 or F16`);
  if (t.data.length !== count) throw new Error(`encode: data holds ${t.data.length} values, shape [${t.shape}] needs ${count}`);
  if (t.dtype === "F16") {
    const out = new Uint8Array(2 * count);
    const view = new DataView(out.buffer);
    t.data.forEach((v, i) => view.setUint16(2 * i, float32ToFloat16Bits(v), true));
    return out;
  }
  if (t.dtype === "I64") {
    const out = new Uint8Array(8 * count);
    const view = new DataView(out.buffer);
    t.data.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
    return out;
  }
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

export async function writeSafetensors(path: string, tensors: TensorMap, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** A tensor of a file opened with `openSafetensors`: dtype, shape and bytes per item (along the first dimension). */
export type StoredTensor = { dtype: StoredDType; shape: number[]; itemBytes: number };

/**
 * A safetensors file opened for reading parts of its tensors: the header is read and checked
 * (as `parseSafetensors` checks it), the data stays on disk. A merge of shards reads a few
 * items from each of many files. Reads are synchronous: a merge makes millions of small ones,
 * and an asynchronous read costs a thread-pool round trip each.
 */
export type SafetensorsReader = {
  metadata: Record<string, string>;
  tensors: Record<string, StoredTensor>;
  /** The stored bytes of items [first, first + count) along the first dimension of tensor `name`. */
  readItems(name: string, first: number, count: number): Uint8Array;
  close(): Promise<void>;
};

/** `length` bytes at `position` of the open file, or an error naming it when the file ends first. */
function readExactly(fd: number, position: number, length: number, source: string): Uint8Array {
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw corrupt(source, `the file ended at byte ${position + done}, before byte ${position + length}; it is truncated`);
    done += n;
  }
  return out;
}

export async function openSafetensors(path: string): Promise<SafetensorsReader> {
  const handle = await openRegularFile(path, { code: "BAD_CHECKPOINT", what: "a safetensors file", maxBytes: Number.MAX_SAFE_INTEGER });
  try {
    const size = (await handle.stat()).size;
    if (size < 8) throw corrupt(path, `only ${size} bytes, shorter than the 8-byte header length`);
    const headerLength = headerLengthOf(readExactly(handle.fd, 0, 8, path), size, path);
    const dataStart = 8 + headerLength;
    const { metadata, entries } = parseHeader(readExactly(handle.fd, 8, headerLength, path), size - dataStart, path);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const itemBytes = ({ dtype, shape }: TensorEntry) => shape.slice(1).reduce((a, b) => a * b, BYTES[dtype]);
    const readItems = (name: string, first: number, count: number) => {
      const entry = byName.get(name);
      if (!entry) throw new Error(`readItems: ${path} has no tensor ${name}`);
      if (first < 0 || first + count > (entry.shape[0] ?? 1))
        throw new Error(`readItems: items ${first}..${first + count} of ${name} [${entry.shape}] in ${path}`);
      return readExactly(handle.fd, dataStart + entry.begin + first * itemBytes(entry), count * itemBytes(entry), path);
    };
    const tensors = Object.fromEntries(entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape, itemBytes: itemBytes(e) }]));
    return { metadata, tensors, readItems, close: () => handle.close() };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
