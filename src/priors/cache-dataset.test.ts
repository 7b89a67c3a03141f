import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CELEBA, makeCelebaSubset } from "../../test/support/celeba-subset.js";
import { runCli } from "../../test/support/run-cli.js";
import { skipUnlessShared } from "../../test/support/shared-data.js";
import { facesOfRows, gather, imageBatch, loadCacheDataset } from "./cache-dataset.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-cache-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("a prepared cache loads whole, maps manifest rows to faces and batches images for the encoder", {
  skip: skipUnlessShared(CELEBA),
}, async () => {
  const root = await makeCelebaSubset(join(dir, "data"), 5, { "broken.jpg": new Uint8Array([0xff, 0xd8, 0xff]) });
  const out = join(dir, "cache");
  const run = await runCli(["prepare", "--data", root, "--out", out, "--shard-size", "2", "--workers", "1"], dir);
  assert.equal(run.code, 0, run.stderr);
  const cache = await loadCacheDataset(out);
  assert.equal(cache.count, 5);
  assert.deepEqual([...cache.rows], [0, 1, 2, 3, 4]); // row 5, the broken file, has no face
  assert.equal(cache.paths[3], "images/00004.jpg");
  assert.deepEqual(facesOfRows(cache, [5, 4, 1]), [1, 4]);
  // Labels travel with their face: row 1 of the manifest is CelebA-HQ 00002.jpg, Attractive = 1.
  const labels = gather(cache.tensors.labels!, [1]);
  assert.deepEqual(labels.shape, [1, 40]);
  assert.equal(labels.data[2], 1);
  const mean = [0.5, 0.4, 0.3];
  const std = [0.2, 0.25, 0.5];
  const batch = imageBatch(cache, [3, 0], mean, std);
  assert.equal(batch.length, 2 * 3 * 112 * 112);
  const bytes = cache.tensors.images!.data;
  const pixel = 3 * (112 * 50 + 60); // face 3, pixel (row 50, column 60)
  for (let c = 0; c < 3; c++) {
    const expected = (bytes[3 * 112 * 112 * 3 + pixel + c]! / 255 - mean[c]!) / std[c]!;
    assert.ok(Math.abs(batch[c * 112 * 112 + 50 * 112 + 60]! - expected) < 1e-5, `channel ${c}`);
  }
});

test("loading something that is not a cache says how to make one", async () => {
  await assert.rejects(
    loadCacheDataset(dir),
    /no cache\.json, so not a prior cache\. If it is a dataset folder, prepare a cache of it \(`faceprior prepare`\) and pass that cache folder instead\./,
  );
});
