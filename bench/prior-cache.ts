/**
 * Face-prior throughput: `prepare` on real photos (images/s, both cores), and reading a prepared
 * cache into normalised training batches (images/s), which must never limit training.
 *
 *   npm run build && node dist/bench/prior-cache.js [--images 800] [--cache ../cache/celebahq_attr]
 *
 * The prepare part copies the first --images photos of ../shared/data/celebahq_attr to a temp
 * folder; the read part needs a cache that `faceprior prepare` made (skipped if absent).
 * Results also go to bench/results/prior-cache.json.
 */
import "./errors-without-stack.js";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeJsonAtomic } from "../src/io/atomic-write.js";
import { loadDataset } from "../src/data/load-dataset.js";
import { imageBatch, loadCacheDataset } from "../src/priors/cache-dataset.js";
import { prepareCache } from "../src/priors/prepare.js";
import { CacheOptionsSchema } from "../src/priors/prior-cache.js";
import { makeCelebaSubset } from "../test/support/celeba-subset.js";

const { values: args } = parseArgs({
  options: {
    // Enough photos that starting the workers (teacher load, tfjs warm-up, ~3 s) is amortised.
    images: { type: "string", default: "800" },
    cache: { type: "string", default: "../cache/celebahq_attr" },
    batch: { type: "string", default: "64" },
    workers: { type: "string", default: String(availableParallelism()) },
  },
});

async function prepareThroughput(images: number, workers: number) {
  const dir = await mkdtemp(join(tmpdir(), "faceprior-bench-"));
  try {
    const dataset = await loadDataset(await makeCelebaSubset(join(dir, "data"), images), "manifest");
    const start = performance.now();
    const report = await prepareCache(dataset, join(dir, "cache"), { ...CacheOptionsSchema.parse({}), workers });
    const seconds = (performance.now() - start) / 1000;
    return { images, workers, seconds, images_per_s: images / seconds, faces_found: report.faces_found };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readThroughput(cacheDir: string, batch: number) {
  const start = performance.now();
  const cache = await loadCacheDataset(cacheDir);
  const loadSeconds = (performance.now() - start) / 1000;
  const order = Array.from({ length: cache.count }, (_, i) => (i * 7919) % cache.count); // a fixed shuffle
  const batchStart = performance.now();
  for (let at = 0; at + batch <= order.length; at += batch)
    imageBatch(cache, order.slice(at, at + batch), [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
  const batchSeconds = (performance.now() - batchStart) / 1000;
  const batched = Math.floor(order.length / batch) * batch;
  return {
    faces: cache.count,
    load_seconds: loadSeconds,
    load_images_per_s: cache.count / loadSeconds,
    batch_images_per_s: batched / batchSeconds,
  };
}

const prepare = await prepareThroughput(Number(args.images), Number(args.workers));
console.log(
  `prepare: ${prepare.images} CelebA-HQ photos at 112 with ${prepare.workers} workers in ${prepare.seconds.toFixed(1)} s: ${prepare.images_per_s.toFixed(1)} images/s (target 20)`,
);
const read = existsSync(join(args.cache!, "cache.json")) ? await readThroughput(args.cache!, Number(args.batch)) : null;
if (read) {
  console.log(
    `cache read: ${read.faces} faces loaded in ${read.load_seconds.toFixed(2)} s (${read.load_images_per_s.toFixed(0)} images/s), then batches of ${args.batch} at ${read.batch_images_per_s.toFixed(0)} images/s (target 1000)`,
  );
} else {
  console.log(`cache read: skipped, no prepared cache at ${args.cache} (run scripts/prepare-shared-data.sh)`);
}
await writeJsonAtomic("bench/results/prior-cache.json", { prepare, read, cache: args.cache, date: new Date().toISOString() });
