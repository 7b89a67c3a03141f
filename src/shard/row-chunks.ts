/**
 * Chunks of float rows, one row per item (embeddings of images, frozen features of cached
 * faces), as safetensors files: tensor "rows" [k, ...row shape], and in the metadata the
 * chunk's fingerprint, the items of its k rows and the items it skipped, with why. Joined in
 * input order they make the file one unsharded run writes, as `RowOutput` describes it.
 */
import { z } from "zod";
import { openSafetensors, readSafetensors, writeSafetensors, type TensorMap } from "../checkpoint/safetensors.js";
import { parseJson } from "../io/json-file.js";
import { entriesInOrder, type ItemShardFolder, type ShardItem } from "./item-shard.js";

/** The file an unsharded run writes: one tensor of rows, fixed metadata, and maybe its inputs' paths. */
export const RowOutputSchema = z.object({
  tensor: z.string(),
  rowShape: z.array(z.number().int()),
  metadata: z.record(z.string(), z.string()),
  listsInputs: z.boolean(),
});
export type RowOutput = z.infer<typeof RowOutputSchema>;

export type SkippedItem = { path: string; reason: string };

/** The output's metadata: the fixed part, the paths of its rows when listed, and the skipped items. */
export function rowOutputMetadata(output: RowOutput, paths: string[], skipped: SkippedItem[]): Record<string, string> {
  return {
    ...output.metadata,
    ...(output.listsInputs ? { inputs: JSON.stringify(paths) } : {}),
    ...(skipped.length > 0 ? { skipped: JSON.stringify(skipped) } : {}),
  };
}

export type RowChunk = { rows: Float32Array; items: ShardItem[]; skipped: (ShardItem & { reason: string })[] };

export async function writeRowChunk(file: string, fingerprint: string, rowShape: number[], chunk: RowChunk): Promise<void> {
  const metadata = { fingerprint, items: JSON.stringify(chunk.items), skipped: JSON.stringify(chunk.skipped) };
  await writeSafetensors(file, { rows: { dtype: "F32", shape: [chunk.items.length, ...rowShape], data: chunk.rows } }, metadata);
}

/** The fingerprint a row chunk records (its header only is read), or null when it cannot be read. */
export async function rowChunkFingerprint(file: string): Promise<string | null> {
  const reader = await openSafetensors(file).catch(() => null);
  if (!reader) return null;
  await reader.close();
  return reader.metadata.fingerprint ?? null;
}

type RowEntry = { position: number; key: string; row?: Float32Array; reason?: string };

async function readRowEntries(file: string): Promise<RowEntry[]> {
  const { tensors, metadata } = await readSafetensors(file);
  const fix = { code: "BAD_SHARDS" as const, fix: "Delete it and run its shard again." };
  const items = parseJson(metadata.items ?? "[]", `${file}: __metadata__.items`, fix) as ShardItem[];
  const skipped = parseJson(metadata.skipped ?? "[]", `${file}: __metadata__.skipped`, fix) as (ShardItem & { reason: string })[];
  const data = tensors.rows!.data as Float32Array;
  const size = items.length === 0 ? 0 : data.length / items.length;
  return [...items.map((item, i) => ({ ...item, row: data.subarray(i * size, (i + 1) * size) })), ...skipped];
}

/** The joined output of row shards: rows and skipped items in input order. */
export async function joinRowShards(
  folders: ItemShardFolder[],
  output: RowOutput,
): Promise<{ tensors: TensorMap; metadata: Record<string, string> }> {
  const entries = await entriesInOrder(folders, readRowEntries);
  const kept = entries.filter((e) => e.row);
  const size = output.rowShape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(kept.length * size);
  kept.forEach((e, i) => data.set(e.row!, i * size));
  const skipped = entries.filter((e) => !e.row).map(({ key, reason }) => ({ path: key, reason: reason! }));
  const tensors: TensorMap = { [output.tensor]: { dtype: "F32", shape: [kept.length, ...output.rowShape], data } };
  return {
    tensors,
    metadata: rowOutputMetadata(
      output,
      kept.map((e) => e.key),
      skipped,
    ),
  };
}
