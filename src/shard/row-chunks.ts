/**
 * Chunks of float rows, one row per item (embeddings of images, frozen features of cached
 * faces) or one per face found in it (`embed --crop faces`), as safetensors files: tensor "rows"
 * [k, ...row shape], and in the metadata the chunk's fingerprint, its items (with their faces),
 * whose k rows it holds in order, and the items it skipped, with why. Joined in input order they
 * make the file one unsharded run writes, as `RowOutput` describes it.
 */
import { z } from "zod";
import { openSafetensors, readSafetensors, writeSafetensors, type TensorMap } from "../checkpoint/safetensors.js";
import { parseJson } from "../io/json-file.js";
import { entriesInOrder, type ItemShardFolder, type ShardItem } from "./item-shard.js";

/**
 * The file an unsharded run writes: one tensor of rows, fixed metadata, and maybe its inputs'
 * paths (`listsInputs`, a row per input) or, with `perFace`, a row per face found: metadata
 * "faces" lists each row's source, box and score, and "no_face" the inputs without one.
 */
export const RowOutputSchema = z.object({
  tensor: z.string(),
  rowShape: z.array(z.number().int()),
  metadata: z.record(z.string(), z.string()),
  listsInputs: z.boolean(),
  perFace: z.boolean().optional(),
});
export type RowOutput = z.infer<typeof RowOutputSchema>;

export type SkippedItem = { path: string; reason: string };

/** Where a face's row comes from in its image: the box in its upright pixels, and the detection score. */
export type FaceRow = { box: { x: number; y: number; width: number; height: number }; score: number };

/** An input that has rows: one, or with `faces` one per face found (none when it has no face). */
export type RowItem = { key: string; faces?: FaceRow[] };

const rowsOf = (item: RowItem) => item.faces?.length ?? 1;

/** "faces": each face's source, box and score, in row order; "no_face": the inputs without one. */
function facesMetadata(items: RowItem[]): Record<string, string> {
  const faces = items.flatMap(({ key, faces = [] }) => faces.map((face) => ({ source: key, ...face })));
  const noFace = items.filter((item) => rowsOf(item) === 0).map((item) => item.key);
  return { faces: JSON.stringify(faces), ...(noFace.length > 0 ? { no_face: JSON.stringify(noFace) } : {}) };
}

/** The output's metadata: the fixed part, where its rows come from when listed, and the skipped items. */
export function rowOutputMetadata(output: RowOutput, items: RowItem[], skipped: SkippedItem[]): Record<string, string> {
  return {
    ...output.metadata,
    ...(output.listsInputs ? { inputs: JSON.stringify(items.map((item) => item.key)) } : {}),
    ...(output.perFace ? facesMetadata(items) : {}),
    ...(skipped.length > 0 ? { skipped: JSON.stringify(skipped) } : {}),
  };
}

/** A chunk's rows, in the order of its items, each holding `rowsOf` of them. */
export type RowChunk = { rows: Float32Array; items: (ShardItem & RowItem)[]; skipped: (ShardItem & { reason: string })[] };

export async function writeRowChunk(file: string, fingerprint: string, rowShape: number[], chunk: RowChunk): Promise<void> {
  const metadata = { fingerprint, items: JSON.stringify(chunk.items), skipped: JSON.stringify(chunk.skipped) };
  const count = chunk.items.reduce((n, item) => n + rowsOf(item), 0);
  await writeSafetensors(file, { rows: { dtype: "F32", shape: [count, ...rowShape], data: chunk.rows } }, metadata);
}

/** The fingerprint a row chunk records (its header only is read), or null when it cannot be read. */
export async function rowChunkFingerprint(file: string): Promise<string | null> {
  const reader = await openSafetensors(file).catch(() => null);
  if (!reader) return null;
  await reader.close();
  return reader.metadata.fingerprint ?? null;
}

/** An item of a chunk: its rows (`size` floats each), or why it was skipped. */
type RowEntry = ShardItem & RowItem & ({ rows: Float32Array } | { reason: string });

async function readRowEntries(file: string, size: number): Promise<RowEntry[]> {
  const { tensors, metadata } = await readSafetensors(file);
  const fix = { code: "BAD_SHARDS" as const, fix: "Delete it and run its shard again." };
  const items = parseJson(metadata.items ?? "[]", `${file}: __metadata__.items`, fix) as (ShardItem & RowItem)[];
  const skipped = parseJson(metadata.skipped ?? "[]", `${file}: __metadata__.skipped`, fix) as (ShardItem & { reason: string })[];
  const data = tensors.rows!.data as Float32Array;
  let start = 0;
  const withRows = items.map((item) => {
    const end = start + rowsOf(item) * size;
    const rows = data.subarray(start, end);
    start = end;
    return { ...item, rows };
  });
  return [...withRows, ...skipped];
}

/** The joined output of row shards: rows and skipped items in input order. */
export async function joinRowShards(
  folders: ItemShardFolder[],
  output: RowOutput,
): Promise<{ tensors: TensorMap; metadata: Record<string, string> }> {
  const size = output.rowShape.reduce((a, b) => a * b, 1);
  const entries = await entriesInOrder(folders, (file) => readRowEntries(file, size));
  const kept = entries.filter((e) => "rows" in e);
  const data = new Float32Array(kept.reduce((n, e) => n + e.rows.length, 0));
  let start = 0;
  for (const { rows } of kept) {
    data.set(rows, start);
    start += rows.length;
  }
  const skipped = entries.filter((e) => "reason" in e).map(({ key, reason }) => ({ path: key, reason }));
  const tensors: TensorMap = { [output.tensor]: { dtype: "F32", shape: [data.length / size, ...output.rowShape], data } };
  return { tensors, metadata: rowOutputMetadata(output, kept, skipped) };
}
