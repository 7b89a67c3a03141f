/** Taking a safetensors file apart and putting it back, to write the damaged files tests need. */

export type SafetensorsParts = { header: Record<string, unknown>; data: Uint8Array };

export function splitSafetensors(bytes: Uint8Array): SafetensorsParts {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<string, unknown>;
  return { header, data: bytes.subarray(8 + length) };
}

export function joinSafetensors({ header, data }: SafetensorsParts): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

/** `bytes` with its header changed by `edit` (tensor entries and `__metadata__` are plain objects). */
export function editHeader(bytes: Uint8Array, edit: (header: Record<string, any>) => void): Uint8Array {
  const parts = splitSafetensors(bytes);
  edit(parts.header);
  return joinSafetensors(parts);
}
