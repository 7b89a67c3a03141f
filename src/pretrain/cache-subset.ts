/**
 * A small prior cache cut from a prepared one: the first `faces` faces that pretraining may use
 * (pretraining-pool.ts: never a test face), in one shard, with a splits.json that trains on all
 * of them. The GPU bundle (scripts/gpu-bundle.sh) carries one, since a full cache is 270 MB.
 */
import { join } from "node:path";
import { FacepriorError } from "../errors.js";
import { writeJsonAtomic } from "../io/atomic-write.js";
import { writeSafetensors } from "../checkpoint/safetensors.js";
import { loadPretrainingPool, selectFaces } from "./pretraining-pool.js";
import { cacheIndexPath, type CacheIndex } from "../priors/prior-cache.js";

const SHARD_FILE = "shards/shard-00000.safetensors";

/** Writes the subset to `out` (a new folder) and returns how many faces it holds. */
export async function writeCacheSubset(source: string, out: string, faces: number): Promise<number> {
  const { cache } = await loadPretrainingPool([source]);
  if (cache.count < faces) {
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `${source}: has ${cache.count} faces pretraining may use, asked for ${faces}. Ask for at most ${cache.count}.`,
    );
  }
  const subset = selectFaces(
    cache,
    Array.from({ length: faces }, (_, i) => i),
  );
  const rows = [...subset.rows];
  await writeSafetensors(join(out, SHARD_FILE), subset.tensors, { paths: JSON.stringify(subset.paths), failures: "[]", seconds: "0" });
  const index: CacheIndex = { ...cache.index, shards: [{ file: SHARD_FILE, firstRow: 0, rowCount: faces }] };
  await writeJsonAtomic(cacheIndexPath(out), index);
  const description = `the first ${faces} pretraining faces of ${source}, all training`;
  await writeJsonAtomic(join(out, "splits.json"), { description, splits: { default: { train: rows, val: [], test: [] } } });
  return faces;
}
