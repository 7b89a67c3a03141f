import assert from "node:assert/strict";
import { test } from "node:test";
import type { CacheDataset } from "../priors/cache-dataset.js";
import { poolFaces, selectFaces, type SplitsFile } from "./pretraining-pool.js";

/** A cache of 8 faces from manifest rows 0, 1, 3, 4, 5, 6, 8, 9 (rows 2 and 7 had no face), one value each. */
function fakeCache(): CacheDataset {
  const rows = Int32Array.of(0, 1, 3, 4, 5, 6, 8, 9);
  return {
    index: {} as CacheDataset["index"],
    count: rows.length,
    rows,
    paths: [...rows].map((r) => `img${r}.jpg`),
    tensors: {
      rows: { dtype: "I32", shape: [8], data: rows },
      value: { dtype: "F32", shape: [8, 1], data: Float32Array.from(rows, (r) => r * 10) },
    },
  };
}
const split = (train: number[], val: number[], test: number[]) => ({ train, val, test });

test("the pool takes a labelled cache's train and val faces and never one of its test faces", () => {
  const splits: SplitsFile = { description: "hash", splits: { default: split([0, 1, 2, 3, 4], [5], [6, 7, 8, 9]) } };
  const cache = fakeCache();
  const { faces, testFaces, rule } = poolFaces(cache, splits);
  assert.deepEqual(
    faces.map((f) => cache.rows[f]),
    [0, 1, 3, 4, 5],
  );
  assert.equal(testFaces, 3);
  assert.match(rule, /test faces left out/);
  const pool = selectFaces(cache, faces);
  assert.deepEqual([...pool.tensors.value!.data], [0, 10, 30, 40, 50]);
  assert.deepEqual(pool.paths, ["img0.jpg", "img1.jpg", "img3.jpg", "img4.jpg", "img5.jpg"]);
});

test("unlabelled data gives every face; subject folds give none, since each face is tested in one fold", () => {
  const all = poolFaces(fakeCache(), { description: "all-train", splits: { default: split([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [], []) } });
  assert.equal(all.faces.length, 8);
  const folds = { fold0: split([0, 1, 3], [], [4, 5]), fold1: split([4, 5], [], [0, 1, 3]) };
  const none = poolFaces(fakeCache(), { description: "2 folds", splits: folds });
  assert.deepEqual(none.faces, []);
  assert.match(none.rule, /2 folds: every face is a test face of one fold/);
});

test("a row listed both as training and as test stays out", () => {
  const { faces } = poolFaces(fakeCache(), { description: "bad", splits: { default: split([0, 1, 3], [], [3]) } });
  assert.deepEqual(
    faces.map((f) => fakeCache().rows[f]),
    [0, 1],
  );
});
