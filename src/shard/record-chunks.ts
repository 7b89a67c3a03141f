/**
 * Chunks of JSON records, one per item (analyze's result for each image), as JSON files:
 * `{ fingerprint, entries: [{ position, key, record }] }`. Joined in input order they make the
 * JSON one unsharded run writes: `{ ...header, [list]: records }`.
 */
import { z } from "zod";
import { openFileAtomic, writeJsonAtomic } from "../io/atomic-write.js";
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
  return recordDocument(
    output,
    (await entriesInOrder(folders, readRecordEntries)).map((e) => e.record),
  );
}

/** A record document being written into its file. */
export type RecordDocumentFile = { add(record: unknown): Promise<void>; commit(): Promise<void>; abort(): Promise<void> };

/**
 * `recordDocument` written record by record into `path`, atomically: the same bytes as
 * `writeJsonAtomic(path, recordDocument(output, records))`, but a run over 100,000 images holds
 * none of its records.
 */
export async function openRecordDocument(path: string, output: RecordOutput): Promise<RecordDocumentFile> {
  const file = await openFileAtomic(path);
  const empty = JSON.stringify(recordDocument(output, []), null, 2); // ends in `"<list>": []\n}`: the list is the last key
  await file.write(empty.slice(0, empty.lastIndexOf("]")));
  let count = 0;
  return {
    // Each record indented as JSON.stringify indents an element of a list two levels down.
    add: (record) => file.write(`${count++ === 0 ? "" : ","}\n    ${JSON.stringify(record, null, 2).replace(/\n/g, "\n    ")}`),
    async commit() {
      await file.write(`${count > 0 ? "\n  " : ""}]\n}\n`);
      await file.commit();
    },
    abort: file.abort,
  };
}
