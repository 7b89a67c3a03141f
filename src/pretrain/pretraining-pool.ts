/**
 * The faces pretraining may see, from prior caches: never a face that an evaluation tests on.
 *
 * The rule, per cache, from the splits.json that `prepare` wrote beside it:
 * - one split (unlabelled data, where every face trains; a meta column such as FER2013's usage;
 *   a seeded hash split): its train and val faces, never its test faces;
 * - subject folds (CK+): every subject is a test subject of one fold, so the cache adds nothing.
 *
 * `loadPretrainingPool` joins what each cache gives and says, per source, how many faces it took
 * and why the rest stayed out; pretraining writes that to the run folder as pool.json.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { FacepriorError } from "../errors.js";
import { concatCaches, facesOfRows, gather, loadCacheDataset, type CacheDataset } from "../priors/cache-dataset.js";

const SplitSchema = z.object({ train: z.array(z.number().int()), val: z.array(z.number().int()), test: z.array(z.number().int()) });
const SplitsFileSchema = z.object({ description: z.string(), splits: z.record(z.string(), SplitSchema) });
export type SplitsFile = z.infer<typeof SplitsFileSchema>;

export type PoolSource = {
  dataset: string;
  cache: string;
  /** The cache's split, in words (splits.json). */
  split: string;
  facesInCache: number;
  /** Faces taken into the pool. */
  faces: number;
  /** Faces left out because they are in a test split. */
  testFaces: number;
  rule: string;
};

/** The face positions of `cache` that pretraining may use, by the rule above, and the rule applied. */
export function poolFaces(cache: CacheDataset, splits: SplitsFile): { faces: number[]; testFaces: number; rule: string } {
  const entries = Object.values(splits.splits);
  if (entries.length !== 1) {
    return { faces: [], testFaces: cache.count, rule: `${entries.length} folds: every face is a test face of one fold, so none is used` };
  }
  const [{ train, val, test }] = entries as [z.infer<typeof SplitSchema>];
  const tested = new Set(test);
  const faces = facesOfRows(cache, [...train, ...val]).filter((face) => !tested.has(cache.rows[face]!));
  const testFaces = facesOfRows(cache, test).length;
  return { faces, testFaces, rule: test.length === 0 ? "every face (no test split)" : "train and val faces; test faces left out" };
}

/** `faces` of `cache` as a cache of their own. */
export function selectFaces(cache: CacheDataset, faces: readonly number[]): CacheDataset {
  const tensors = Object.fromEntries(Object.entries(cache.tensors).map(([name, t]) => [name, gather(t, faces)]));
  return { ...cache, count: faces.length, rows: tensors.rows!.data as Int32Array, paths: faces.map((f) => cache.paths[f]!), tensors };
}

export async function readSplitsFile(cacheDir: string): Promise<SplitsFile> {
  const path = join(cacheDir, "splits.json");
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new FacepriorError(
      "BAD_CONFIG",
      `${path}: missing or not JSON (${(cause as Error).message}). Run faceprior prepare again on the dataset to rewrite it.`,
      { cause },
    );
  }
  const parsed = SplitsFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new FacepriorError(
      "BAD_CONFIG",
      `${path}: not a splits file (${parsed.error.issues[0]?.message}). Run faceprior prepare again on the dataset to rewrite it.`,
    );
  return parsed.data;
}

/** The caches' pool faces as one dataset, with what each source gave. */
export async function loadPretrainingPool(cacheDirs: readonly string[]): Promise<{ cache: CacheDataset; sources: PoolSource[] }> {
  const parts: CacheDataset[] = [];
  const sources: PoolSource[] = [];
  for (const dir of cacheDirs) {
    const cache = await loadCacheDataset(dir);
    const splits = await readSplitsFile(dir);
    const { faces, testFaces, rule } = poolFaces(cache, splits);
    sources.push({
      dataset: cache.index.dataset.name,
      cache: dir,
      split: splits.description,
      facesInCache: cache.count,
      faces: faces.length,
      testFaces,
      rule,
    });
    if (faces.length > 0) parts.push(faces.length === cache.count ? cache : selectFaces(cache, faces));
  }
  if (parts.length === 0) {
    throw new FacepriorError(
      "BAD_CONFIG",
      `${cacheDirs.join(", ")}: no face may be used for pretraining (${sources.map((s) => `${s.dataset}: ${s.rule}`).join("; ")}). Add an unlabelled cache, or a cache with a fixed test split.`,
    );
  }
  return { cache: concatCaches(parts), sources };
}
