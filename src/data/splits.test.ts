import assert from "node:assert/strict";
import { basename } from "node:path";
import { test } from "node:test";
import { writeLayout } from "../../test/support/dataset-layouts.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { BP4D_FOLDS } from "./adapters/bp4d.js";
import { DISFA_FOLDS } from "./adapters/disfa.js";
import type { Dataset, DatasetRow } from "./dataset.js";
import { FacepriorError } from "../errors.js";
import { loadManifestDataset } from "./manifest.js";
import { describeSplit, foldCount, holdOutVal, roundRobinFolds, splitDataset, unitHash, type Split } from "./splits.js";

function toy(rows: { path: string; meta?: Record<string, string> }[], split: Dataset["split"]): Dataset {
  const made: DatasetRow[] = rows.map((row, index) => ({
    index,
    path: row.path,
    file: `/x/${row.path}`,
    labels: [0],
    meta: row.meta ?? {},
  }));
  return { root: "/x", name: "toy", format: "manifest", task: "age", labelColumns: ["age"], rows: made, split, warnings: [] };
}

/** Asserts the three parts are sorted, disjoint and together every row. */
function assertPartition(split: Split, rows: number) {
  const all = [...split.train, ...split.val, ...split.test].sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: rows }, (_, k) => k),
  );
}

const HASH = { kind: "hash", by: "file", fractions: [0.8, 0.1, 0.1] } as const;
const names = Array.from({ length: 2000 }, (_, k) => `images/${String(k).padStart(5, "0")}.jpg`);

test("unitHash is sha1 of `${seed}:${key}` read as a fraction, the same on every run", () => {
  assert.equal(unitHash(0, "00001.jpg"), 0.04009960255058331);
  assert.equal(unitHash(1, "00001.jpg"), 0.4767405890541063);
});

test("hash splits are disjoint, cover the data, near 80/10/10, stable, and change with the seed", () => {
  const dataset = toy(
    names.map((path) => ({ path })),
    HASH,
  );
  const split = splitDataset(dataset, { seed: 0 });
  assertPartition(split, names.length);
  assert.ok(
    Math.abs(split.train.length - 1600) < 80 && Math.abs(split.val.length - 200) < 50 && Math.abs(split.test.length - 200) < 50,
    JSON.stringify([split.train.length, split.val.length, split.test.length]),
  );
  assert.deepEqual(splitDataset(dataset, { seed: 0 }), split);
  const other = splitDataset(dataset, { seed: 1 });
  assertPartition(other, names.length);
  const moved = split.test.filter((index) => !other.test.includes(index)).length;
  assert.ok(moved > split.test.length / 2, `seed 1 keeps ${split.test.length - moved} of ${split.test.length} test rows`);
});

test("a row's hash split depends on its file name only, not on the other rows or its folder", () => {
  const all = toy(
    names.map((path) => ({ path })),
    HASH,
  );
  const some = toy(
    names.slice(500, 700).map((path) => ({ path: path.replace("images/", "elsewhere/") })),
    HASH,
  );
  const partOf = (dataset: Dataset, split: Split) =>
    new Map(
      dataset.rows.map((row) => [
        basename(row.path),
        split.train.includes(row.index) ? "train" : split.val.includes(row.index) ? "val" : "test",
      ]),
    );
  const full = partOf(all, splitDataset(all, { seed: 3 }));
  for (const [name, part] of partOf(some, splitDataset(some, { seed: 3 }))) assert.equal(part, full.get(name), name);
});

test("subject hash splits keep each subject in one part", () => {
  const rows = names.map((path, k) => ({ path, meta: { subject: `P${k % 97}` } }));
  const dataset = toy(rows, { kind: "hash", by: "subject", fractions: [0.8, 0.1, 0.1] });
  const split = splitDataset(dataset, { seed: 0 });
  assertPartition(split, rows.length);
  const subjects = (indices: number[]) => new Set(indices.map((index) => rows[index].meta.subject));
  const [train, val, test] = [split.train, split.val, split.test].map(subjects);
  for (const subject of train) assert.ok(!val.has(subject) && !test.has(subject), subject);
});

test("meta splits follow the column, and an unknown or missing value names the row", () => {
  const rule = { kind: "meta", column: "fer2013_usage", train: ["Training"], val: ["PublicTest"], test: ["PrivateTest"] } as const;
  const usages = ["Training", "PrivateTest", "PublicTest", "Training"];
  assert.deepEqual(
    splitDataset(
      toy(
        usages.map((u, k) => ({ path: `${k}.jpg`, meta: { fer2013_usage: u } })),
        rule,
      ),
    ),
    { train: [0, 3], val: [2], test: [1] },
  );
  assert.throws(
    () => splitDataset(toy([{ path: "a.jpg", meta: { fer2013_usage: "Train" } }], rule)),
    (error: FacepriorError) =>
      error.code === "BAD_DATASET" &&
      error.message ===
        'toy row 0 "a.jpg": has fer2013_usage "Train", expected one of Training, PublicTest, PrivateTest. Fix the value in its meta.',
  );
  assert.throws(() => splitDataset(toy([{ path: "a.jpg" }], rule)), /toy row 0 "a.jpg": has no fer2013_usage in its meta/);
});

test("round-robin folds deal sorted subjects; fold splits put one fold in test and need a valid fold", () => {
  assert.deepEqual(roundRobinFolds(["S3", "S1", "S2", "S1", "S5", "S4"], 3), [["S1", "S4"], ["S2", "S5"], ["S3"]]);
  const rows = ["S1", "S2", "S3", "S4", "S1"].map((subject, k) => ({ path: `${k}.png`, meta: { subject } }));
  const dataset = toy(rows, { kind: "folds", source: "test", folds: 2 });
  assert.equal(foldCount(dataset), 2);
  assert.deepEqual(splitDataset(dataset, { fold: 0 }), { train: [1, 3], val: [], test: [0, 2, 4] });
  assert.deepEqual(splitDataset(dataset, { fold: 1 }), { train: [0, 2, 4], val: [], test: [1, 3] });
  assert.throws(() => splitDataset(dataset), /fold: expected the test fold, an integer 0-1/);
  assert.throws(() => splitDataset(dataset, { fold: 2 }), /got 2/);
  const listed = toy([{ path: "a.png", meta: { subject: "F099" } }], { kind: "folds", source: "BP4D", folds: BP4D_FOLDS });
  assert.throws(() => splitDataset(listed, { fold: 0 }), /toy row 0 "a.png": has subject "F099", which is in none of the 3 folds/);
});

test("the BP4D and DISFA folds are the published subject-exclusive lists", () => {
  const check = (folds: readonly (readonly string[])[], sizes: number[], pattern: RegExp) => {
    assert.deepEqual(
      folds.map((fold) => fold.length),
      sizes,
    );
    const all = folds.flat();
    assert.equal(new Set(all).size, all.length, "no subject in two folds");
    assert.ok(all.every((subject) => pattern.test(subject)));
  };
  check(BP4D_FOLDS, [14, 14, 13], /^[FM]\d{3}$/);
  assert.equal(BP4D_FOLDS.flat().filter((s) => s.startsWith("F")).length, 23, "BP4D has 23 women and 18 men");
  check(DISFA_FOLDS, [9, 9, 9], /^SN0\d{2}$/);
});

test("holdOutVal moves a seeded share of train to val, by subject where rows have one", () => {
  const rows = names.map((path, k) => ({ path, meta: { subject: `P${k % 50}` } }));
  const dataset = toy(rows, { kind: "folds", source: "test", folds: 2 });
  const split = splitDataset(dataset, { fold: 0 });
  const held = holdOutVal(dataset, split, 0.2, 7);
  assertPartition(held, rows.length);
  assert.deepEqual(held.test, split.test);
  const valSubjects = new Set(held.val.map((index) => rows[index].meta.subject));
  assert.ok(
    held.train.every((index) => !valSubjects.has(rows[index].meta.subject)),
    "val subjects are not in train",
  );
  assert.ok(valSubjects.size >= 1 && valSubjects.size < 25);
  assert.deepEqual(holdOutVal(dataset, split, 0.2, 7), held);
  assert.throws(() => holdOutVal(dataset, split, 1.5), /fraction: expected a number between 0 and 1/);
});

test("describeSplit says the rule, with the seed or fold that matters", () => {
  assert.equal(describeSplit(toy([{ path: "a" }], HASH), { seed: 4 }), "toy: 80/10/10 by hash of file name, seed 4");
  assert.equal(describeSplit(toy([{ path: "a" }], { kind: "all-train" })), "toy: all-train");
});

test("../shared/data/ckplus_au: 3 subject-exclusive folds covering every row once", {
  skip: skipUnlessShared("data/ckplus_au/meta.csv"),
}, async () => {
  const dataset = await loadManifestDataset(sharedPath("data", "ckplus_au"));
  assert.equal(foldCount(dataset), 3);
  const tests: number[] = [];
  for (let fold = 0; fold < 3; fold++) {
    const split = splitDataset(dataset, { fold });
    assertPartition(split, dataset.rows.length);
    const subjects = (indices: number[]) => new Set(indices.map((index) => dataset.rows[index].meta.subject));
    const testSubjects = subjects(split.test);
    for (const subject of subjects(split.train)) assert.ok(!testSubjects.has(subject), `fold ${fold}: ${subject} in train and test`);
    assert.ok(testSubjects.size >= 33 && testSubjects.size <= 34, `fold ${fold} has ${testSubjects.size} of the 100 subjects`);
    tests.push(...split.test);
  }
  assert.deepEqual(
    tests.sort((a, b) => a - b),
    dataset.rows.map((row) => row.index),
    "each row is tested in exactly one fold",
  );
});

test("../shared/data/fer2013 splits by its original usage", { skip: skipUnlessShared("data/fer2013/meta.csv") }, async () => {
  const split = splitDataset(await loadManifestDataset(sharedPath("data", "fer2013")));
  assert.deepEqual([split.train.length, split.val.length, split.test.length], [6 * 1000 + 436, 6 * 150 + 56, 6 * 150 + 55]);
});

test("../shared/data/utkface and celebahq_attr split 80/10/10 by file-name hash, the same on every run", {
  skip: skipUnlessShared("data/utkface/manifest.csv"),
}, async () => {
  const utk = await loadManifestDataset(sharedPath("data", "utkface"));
  const split = splitDataset(utk, { seed: 0 });
  assertPartition(split, utk.rows.length);
  assert.deepEqual([split.train.length, split.val.length, split.test.length], [5213, 654, 649]);
  const celeba = await loadManifestDataset(sharedPath("data", "celebahq_attr"));
  const parts = splitDataset(celeba, { seed: 0 });
  assert.deepEqual([parts.train.length, parts.val.length, parts.test.length], [3995, 508, 497]);
  const unlabeled = await loadManifestDataset(sharedPath("data", "unlabeled_faces"));
  assert.equal(splitDataset(unlabeled).train.length, 5000);
});

test("an AU manifest folder with subjects in meta.csv splits into subject folds", async () => {
  const root = await writeLayout("aus", {
    "manifest.csv": "path,AU1\na.png,1\nb.png,0\nc.png,1\n",
    "meta.csv": "path,subject\na.png,S1\nb.png,S2\nc.png,S1\n",
  });
  const dataset = await loadManifestDataset(root);
  assert.deepEqual(splitDataset(dataset, { fold: 0 }), { train: [1], val: [], test: [0, 2] });
});
