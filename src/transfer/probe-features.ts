/**
 * The frozen features a linear probe trains on, indexed like the task's joint cache
 * (task-data.ts): every face of the first cache, then, for each extra cache, the training and
 * validation faces it adds. An extra cache's test faces never go through the encoder; their rows
 * are NaN, so a face that must not train would make the loss non-finite instead of passing unseen.
 */
import {
  cachedFeatures,
  cachedFeaturesOfFaces,
  type EncoderSource,
  type ExtractOptions,
  type FeatureSet,
  type Pooling,
} from "./features.js";
import type { TaskCaches } from "./task-data.js";

export type ProbeFeatureOptions = {
  init: EncoderSource;
  /** The first cache's folder (the extras carry theirs). */
  cacheDir: string;
  pooling: Pooling;
  featureDir: string;
  extract?: ExtractOptions;
};

/** Features [cache.count, D] of the joint cache; each cache's file is extracted once and reused. */
export async function probeFeatures(
  caches: Pick<TaskCaches, "primary" | "cache" | "extras">,
  { init, cacheDir, pooling, featureDir, extract }: ProbeFeatureOptions,
): Promise<FeatureSet> {
  const first = await cachedFeatures(init, cacheDir, caches.primary, pooling, featureDir, extract);
  if (caches.extras.length === 0) return first;
  const { dim } = first;
  const features = new Float32Array(caches.cache.count * dim).fill(Number.NaN);
  features.set(first.features);
  for (const { dir, cache, offset, faces } of caches.extras) {
    const rows = await cachedFeaturesOfFaces(init, dir, cache, faces, pooling, featureDir, extract);
    faces.forEach((face, i) => features.set(rows.subarray(i * dim, (i + 1) * dim), (offset + face) * dim));
  }
  return { features, rows: Int32Array.from(caches.cache.rows), dim, count: caches.cache.count };
}
