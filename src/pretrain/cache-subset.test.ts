/** The small cache the GPU bundle carries: cut from a real prepared cache, it trains as it is. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { FacepriorError } from "../errors.js";
import { loadPretrainingPool } from "./pretraining-pool.js";
import { CELEBA, loadedCelebaCache } from "../../test/support/celeba-subset.js";
import { skipUnlessShared } from "../../test/support/shared-data.js";
import { writeCacheSubset } from "./cache-subset.js";

const fixture = loadedCelebaCache("cache-subset", 10, ["--size", "32", "--patch-size", "4", "--workers", "1"]);

test("a subset holds the first pool faces of a cache, never a test face, and is itself a pool of them all", {
  skip: skipUnlessShared(CELEBA),
}, async () => {
  const source = await loadPretrainingPool([fixture.cacheDir]);
  assert.ok(source.sources[0]!.testFaces > 0, "the CelebA hash split should leave test faces out, or the check proves little");
  const out = join(fixture.dir, "subset");
  assert.equal(await writeCacheSubset(fixture.cacheDir, out, 3), 3);

  const subset = await loadPretrainingPool([out]);
  assert.equal(subset.cache.count, 3);
  assert.equal(subset.sources[0]!.rule, "every face (no test split)");
  assert.deepEqual(subset.cache.paths, source.cache.paths.slice(0, 3));
  const images = (c: typeof subset.cache) => c.tensors.images!.data.subarray(0, 3 * 32 * 32 * 3);
  assert.deepEqual(images(subset.cache), images(source.cache));
  assert.deepEqual([...subset.cache.tensors.landmark_patch!.data], [...source.cache.tensors.landmark_patch!.data.subarray(0, 3 * 68)]);
});

test("a subset larger than the pool is refused, saying how many faces there are", { skip: skipUnlessShared(CELEBA) }, async () => {
  const { cache } = await loadPretrainingPool([fixture.cacheDir]);
  await assert.rejects(writeCacheSubset(fixture.cacheDir, join(fixture.dir, "too-many"), cache.count + 1), (error: FacepriorError) => {
    assert.equal(error.code, "BAD_ARGUMENT");
    assert.match(
      error.message,
      new RegExp(`has ${cache.count} faces pretraining may use, asked for ${cache.count + 1}\\. Ask for at most ${cache.count}\\.`),
    );
    return true;
  });
});
