/**
 * One shard of per-item work (`embed`, `analyze --shard`, the feature extraction of `finetune`):
 * the folder it writes.
 *
 *   <dir>/shard.json                  kind, shard i/n, settings, the whole input list's fingerprint, the chunk plan
 *   <dir>/chunks/chunk-00000.<ext>    the results of up to `chunkSize` of the shard's items, each written atomically
 *
 * Each chunk file records its fingerprint (the settings and its items' paths and positions); a
 * rerun keeps the chunks whose fingerprint matches and computes the others, so a killed shard
 * resumes at its first missing chunk, and finished work is never redone. `faceprior merge`
 * checks a set of such folders (shard-set.ts) and joins their chunks in input order.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { FacepriorError } from "../errors.js";
import { writeJsonAtomic } from "../io/atomic-write.js";
import { readJsonFileIfExists } from "../io/json-file.js";
import { itemsOfShard, shardName, type ShardSpec } from "./shard-spec.js";
import type { ShardMember } from "./shard-set.js";

export const ITEM_SHARD_KINDS = ["embeddings", "features", "analysis"] as const;
export type ItemShardKind = (typeof ITEM_SHARD_KINDS)[number];

/** One input of a sharded run: its path (what decides its shard) and its position among all inputs. */
export type ShardItem = { key: string; position: number };

const ItemShardPlanSchema = z.object({
  format: z.literal("faceprior-shard"),
  version: z.literal(1),
  kind: z.enum(ITEM_SHARD_KINDS),
  shard: z.object({ index: z.number().int(), count: z.number().int() }),
  settings: z.record(z.string(), z.unknown()),
  inputs: z.object({ count: z.number().int(), fingerprint: z.string() }),
  chunks: z.array(z.object({ file: z.string(), fingerprint: z.string(), items: z.number().int() })),
});
export type ItemShardPlan = z.infer<typeof ItemShardPlanSchema>;

export type PlannedChunk = { file: string; fingerprint: string; items: ShardItem[] };

export const shardPlanPath = (dir: string) => join(dir, "shard.json");

const sha256 = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

export type ItemShardRequest = {
  kind: ItemShardKind;
  shard: ShardSpec;
  /** Everything that decides the results and how merge writes them; every shard must have the same. */
  settings: Record<string, unknown>;
  /** The paths of all inputs, in the order the joined output keeps. */
  keys: readonly string[];
  chunkSize: number;
  /** The chunk files' extension, with its dot. */
  extension: string;
};

/** The plan of one shard: its items in chunks, each with its fingerprint. */
export function planItemShard(request: ItemShardRequest): { plan: ItemShardPlan; chunks: PlannedChunk[] } {
  const { kind, shard, settings, keys, chunkSize, extension } = request;
  const mine = itemsOfShard(keys, shard, (key) => key).map(({ item, position }) => ({ key: item, position }));
  const chunks = Array.from({ length: Math.ceil(mine.length / chunkSize) }, (_, c) => {
    const items = mine.slice(c * chunkSize, (c + 1) * chunkSize);
    return { file: `chunks/chunk-${String(c).padStart(5, "0")}${extension}`, fingerprint: sha256([settings, items]), items };
  });
  const plan: ItemShardPlan = {
    format: "faceprior-shard",
    version: 1,
    kind,
    shard,
    settings,
    inputs: { count: keys.length, fingerprint: sha256(keys) },
    chunks: chunks.map(({ file, fingerprint, items }) => ({ file, fingerprint, items: items.length })),
  };
  return { plan, chunks };
}

export async function readItemShardPlan(dir: string): Promise<ItemShardPlan | null> {
  const path = shardPlanPath(dir);
  const json = await readJsonFileIfExists(path, { code: "BAD_SHARDS", fix: "Delete the folder and run the shard again." });
  if (json === undefined) return null;
  const parsed = ItemShardPlanSchema.safeParse(json);
  if (!parsed.success)
    throw new FacepriorError(
      "BAD_SHARDS",
      `${path}: not a faceprior shard plan (${parsed.error.issues[0]?.message}). Delete the folder and run the shard again.`,
    );
  return parsed.data;
}

/** Reads the fingerprint a chunk file records, or null when it cannot be read. */
export type ChunkFingerprint = (file: string) => Promise<string | null>;

/**
 * Writes `plan` into `dir` after checking it against one an earlier run left there (another
 * kind, shard or settings is refused: resuming would mix two runs); returns the chunks still to
 * compute, those whose file is missing or records another fingerprint.
 */
export async function openItemShard(
  dir: string,
  plan: ItemShardPlan,
  chunks: PlannedChunk[],
  fingerprintOf: ChunkFingerprint,
): Promise<PlannedChunk[]> {
  const earlier = await readItemShardPlan(dir);
  if (earlier) {
    const same =
      earlier.kind === plan.kind &&
      shardName(earlier.shard) === shardName(plan.shard) &&
      JSON.stringify(earlier.settings) === JSON.stringify(plan.settings);
    if (!same) {
      throw new FacepriorError(
        "BAD_CONFIG",
        `${shardPlanPath(dir)}: this folder holds ${earlier.kind} shard ${shardName(earlier.shard)} made with other settings or another shard. Use another output folder, or the same options to resume.`,
      );
    }
  }
  await writeJsonAtomic(shardPlanPath(dir), plan);
  // A shard that the hash gave no items still has the folder's layout, so listing it is never an error.
  await mkdir(join(dir, "chunks"), { recursive: true });
  const pending: PlannedChunk[] = [];
  for (const chunk of chunks) {
    const file = join(dir, chunk.file);
    if (!existsSync(file) || (await fingerprintOf(file)) !== chunk.fingerprint) pending.push(chunk);
  }
  return pending;
}

/** A shard folder read back for merge, with what shard-set.ts compares. */
export type ItemShardFolder = { dir: string; plan: ItemShardPlan; member: ShardMember };

export async function readItemShardFolder(dir: string): Promise<ItemShardFolder> {
  const plan = await readItemShardPlan(dir);
  if (!plan)
    throw new FacepriorError(
      "BAD_SHARDS",
      `${dir}: has no shard.json, so it is not a shard folder. Pass the folders that the shards' runs wrote.`,
    );
  const member: ShardMember = {
    dir,
    shard: plan.shard,
    settings: plan.settings,
    inputs: plan.inputs.fingerprint,
    inputsShown: `${plan.inputs.count} inputs with fingerprint ${plan.inputs.fingerprint.slice(0, 12)}`,
  };
  return { dir, plan, member };
}

/** Throws unless every planned chunk of the folder is on disk with its fingerprint. */
export async function checkItemShardComplete(
  { dir, plan }: ItemShardFolder,
  fingerprintOf: ChunkFingerprint,
  command: string,
): Promise<void> {
  for (const chunk of plan.chunks) {
    const file = join(dir, chunk.file);
    if ((await fingerprintOf(file)) === chunk.fingerprint) continue;
    throw new FacepriorError(
      "BAD_SHARDS",
      `${dir} (shard ${shardName(plan.shard)}): is incomplete, ${chunk.file} is ${existsSync(file) ? "from another run" : "missing"}. Run ${command} shard ${shardName(plan.shard)} again to finish it, then merge.`,
    );
  }
}

/**
 * The entries of every chunk of `folders` (one or more per input: a result, or why it was
 * skipped), in input order, checked to cover each of the inputs exactly once.
 */
export async function entriesInOrder<E extends { position: number }>(
  folders: ItemShardFolder[],
  readChunk: (file: string) => Promise<E[]>,
): Promise<E[]> {
  const entries: E[] = [];
  for (const { dir, plan } of folders) {
    for (const chunk of plan.chunks) entries.push(...(await readChunk(join(dir, chunk.file))));
  }
  entries.sort((a, b) => a.position - b.position);
  const total = folders[0]!.plan.inputs.count;
  const wrong = entries.findIndex((e, i) => e.position !== i);
  if (wrong >= 0 || entries.length !== total) {
    throw new FacepriorError(
      "BAD_SHARDS",
      `the shards hold results for ${entries.length} of ${total} inputs${wrong >= 0 ? `, not input ${wrong} once` : ""}; a shard folder was changed after its run. Run the shards again.`,
    );
  }
  return entries;
}
