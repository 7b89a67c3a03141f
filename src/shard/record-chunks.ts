/**
 * Chunks of JSON records, one per item (analyze's result for each image), as JSON files:
 * `{ fingerprint, entries: [{ position, key, record }] }`. Joined in input order they make the
 * JSON one unsharded run writes: `{ ...header, [list]: records }`.
 */
import { z } from "zod";
import { writeJsonAtomic } from "../io/atomic-write.js";
import { readJsonFileIfExists } from "../io/json-file.js";
import { entriesInOrder, type ItemShardFolder, type ShardItem } from "./item-shard.js";

export const RecordOutputSchema = z.object({ header: z.record(z.string(), z.unknown()), list: z.string() });
export type RecordOutput = z.infer<typeof RecordOutputSchema>;

type RecordEntry = ShardItem & { record: unknown };

/** The joined document, built the one way an unsharded run builds it too. */
export const recordDocument = (output: RecordOutput, records: unknown[]) => ({ ...output.header, [output.list]: records });

export async function writeRecordChunk(file: string, fingerprint: string, entries: RecordEntry[]): Promise<void> {
  await writeJsonAtomic(file, { fingerprint, entries });
}

const FIX = { code: "BAD_SHARDS" as const, fix: "Delete it and run its shard again." };

/** The fingerprint a record chunk records, or null when it cannot be read. */
export async function recordChunkFingerprint(file: string): Promise<string | null> {
  const json = (await readJsonFileIfExists(file, FIX).catch(() => undefined)) as { fingerprint?: unknown } | undefined;
  return typeof json?.fingerprint === "string" ? json.fingerprint : null;
}

async function readRecordEntries(file: string): Promise<RecordEntry[]> {
  return ((await readJsonFileIfExists(file, FIX)) as { entries: RecordEntry[] }).entries;
}

export async function joinRecordShards(folders: ItemShardFolder[], output: RecordOutput): Promise<unknown> {
  return recordDocument(output, (await entriesInOrder(folders, readRecordEntries)).map((e) => e.record));
}
