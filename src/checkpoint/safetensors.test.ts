import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { encodeSafetensors, openSafetensors, parseSafetensors, type TensorMap } from "./safetensors.js";
import { float16BitsToFloat32, float32ToFloat16Bits } from "./float16.js";

const sample: TensorMap = {
  "blocks.0.attn.qkv.weight": { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-3, -7]) },
  labels: { dtype: "I32", shape: [3], data: Int32Array.from([0, -1, 7]) },
  mask: { dtype: "U8", shape: [2, 2], data: Uint8Array.from([0, 1, 1, 0]) },
  steps: { dtype: "I64", shape: [2], data: Int32Array.from([5, -3]) },
};

test("safetensors round-trips every writable dtype, shape and the metadata", () => {
  const bytes = encodeSafetensors(sample, { arch: "vit", img_size: "112" });
  const back = parseSafetensors(bytes);
  assert.deepEqual(back.metadata, { arch: "vit", img_size: "112" });
  for (const [name, t] of Object.entries(sample)) {
    assert.equal(back.tensors[name]!.dtype, t.dtype, name);
    assert.deepEqual(back.tensors[name]!.shape, t.shape, name);
    assert.deepEqual([...back.tensors[name]!.data], [...t.data], name);
  }
});

test("F16 is written with round-to-nearest-even and read back widened", () => {
  const values = [1, -2, 0.1, 65504, 70000, 1e-8, 6e-8, 2 ** -14, Infinity, -0];
  const encoded = parseSafetensors(encodeSafetensors({ x: { dtype: "F16", shape: [values.length], data: Float32Array.from(values) } }));
  const got = [...encoded.tensors.x!.data];
  // 0.1 is 0x2E66 in half precision; 70000 overflows to Infinity; 1e-8 underflows to 0;
  // 6e-8 rounds to the smallest subnormal 2^-24.
  assert.deepEqual(got, [1, -2, float16BitsToFloat32(0x2e66), 65504, Infinity, 0, 2 ** -24, 2 ** -14, Infinity, -0]);
  assert.equal(float32ToFloat16Bits(0.1), 0x2e66);
  assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
});

/** A file holding one tensor given as raw bytes, to check the decoders of read-only dtypes. */
function rawFile(dtype: string, shape: number[], raw: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ t: { dtype, shape, data_offsets: [0, raw.byteLength] } }));
  const out = new Uint8Array(8 + header.byteLength + raw.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.byteLength), true);
  out.set(header, 8);
  out.set(raw, 8 + header.byteLength);
  return out;
}

test("BF16 and F64 tensors are read as float32", () => {
  // bfloat16 1.5 is 0x3FC0 and -2 is 0xC000, little-endian.
  const bf16 = parseSafetensors(rawFile("BF16", [2], Uint8Array.from([0xc0, 0x3f, 0x00, 0xc0])));
  assert.deepEqual([...bf16.tensors.t!.data], [1.5, -2]);
  const f64 = parseSafetensors(rawFile("F64", [2], new Uint8Array(Float64Array.from([0.25, -3]).buffer)));
  assert.deepEqual([...f64.tensors.t!.data], [0.25, -3]);
});

const corrupt = (bytes: Uint8Array, pattern: RegExp) =>
  assert.throws(
    () => parseSafetensors(bytes, "model.safetensors"),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, "BAD_CHECKPOINT");
      assert.match(e.message, /^model\.safetensors: /);
      assert.match(e.message, pattern);
      return true;
    },
  );

test("a truncated file is rejected, naming the tensor that runs past the end", () => {
  const bytes = encodeSafetensors(sample);
  corrupt(bytes.subarray(0, bytes.byteLength - 4), /tensor steps spans bytes .* the file is truncated/);
  corrupt(bytes.subarray(0, 20), /header length \d+ runs past the end of the file/);
  corrupt(bytes.subarray(0, 5), /only 5 bytes/);
});

test("malformed headers are rejected with what is wrong", () => {
  corrupt(rawFile("F32", [3], new Uint8Array(8)), /tensor t is \[3\] F32 \(12 bytes\) but holds 8 bytes/);
  corrupt(rawFile("Q4", [2], new Uint8Array(8)), /tensor t has dtype "Q4"/);
  corrupt(rawFile("F32", [-1], new Uint8Array(4)), /tensor t has shape \[-1\]/);
  const notJson = new Uint8Array(8 + 3);
  new DataView(notJson.buffer).setBigUint64(0, 3n, true);
  notJson.set(new TextEncoder().encode("{x!"), 8);
  corrupt(notJson, /the JSON header does not parse/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
  corrupt(huge, /runs past the end of the file/);
});

test("openSafetensors reads items of a tensor where they lie, and refuses a truncated file by name", async () => {
  const dir = await mkdtemp(join(tmpdir(), "faceprior-safetensors-"));
  try {
    const rows = { dtype: "F32" as const, shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => i / 4) };
    const bytes = encodeSafetensors({ ...sample, rows }, { note: "kept" });
    await writeFile(join(dir, "a.safetensors"), bytes);
    const reader = await openSafetensors(join(dir, "a.safetensors"));
    try {
      assert.deepEqual(reader.metadata, { note: "kept" });
      assert.deepEqual(reader.tensors.rows, { dtype: "F32", shape: [4, 3], itemBytes: 12 });
      assert.deepEqual([...new Float32Array(reader.readItems("rows", 1, 2).buffer)], [...rows.data.subarray(3, 9)]);
      assert.deepEqual([...reader.readItems("mask", 1, 1)], [1, 0]);
      assert.equal(reader.readItems("rows", 4, 0).byteLength, 0);
    } finally {
      await reader.close();
    }
    await writeFile(join(dir, "cut.safetensors"), bytes.subarray(0, bytes.byteLength - 4));
    await assert.rejects(
      openSafetensors(join(dir, "cut.safetensors")),
      /cut\.safetensors: tensor \w+ spans bytes .* the file is truncated/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
