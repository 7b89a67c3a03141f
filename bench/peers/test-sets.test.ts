import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadDataset } from "../../src/data/load-dataset.js";
import { subjectFolds } from "../../src/data/splits.js";
import { EXPRESSION_CLASSES } from "../../src/data/tasks.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { evenlySpread, loadTestSet, TEST_SETS } from "./test-sets.js";

test("a limit takes every (n/limit)-th item from the first, so a sorted list keeps its range", () => {
  const items = Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(evenlySpread(items, 3), [0, 3, 6]);
  assert.deepEqual(evenlySpread(items, 5), [0, 2, 4, 6, 8]);
  assert.deepEqual(evenlySpread(items, 10), items);
  assert.deepEqual(evenlySpread(items), items);
});

test("a test set whose folder is absent is skipped, not an error", async () => {
  const empty = await mkdtemp(join(tmpdir(), "faceprior-peers-"));
  try {
    assert.equal(await loadTestSet(empty, TEST_SETS[0]!), undefined);
  } finally {
    await rm(empty, { recursive: true });
  }
});

test("CK+ scores expression on subject fold 0 alone, each face by its emotion folder, contempt left out", {
  skip: skipUnlessShared("data/ckplus_au"),
}, async () => {
  const spec = TEST_SETS.find((s) => s.folder === "ckplus_au")!;
  const set = (await loadTestSet(sharedPath("data"), spec))!;
  const dataset = await loadDataset(sharedPath("data", "ckplus_au"));
  const folds = subjectFolds(dataset);
  const row = new Map(dataset.rows.map((r) => [r.file, r]));
  const subjects = new Set(set.faces.map((face) => row.get(face.file)!.meta.subject));
  assert.deepEqual([...subjects].sort(), [...folds[0]!].sort(), "every subject of fold 0, and no other");
  for (const face of set.faces) {
    const folder = row.get(face.file)!.meta.emotion_folder!;
    const expected = { anger: "angry", sadness: "sad" }[folder] ?? folder;
    assert.equal(EXPRESSION_CLASSES[face.expression!], expected, face.file);
  }
  const contempt = dataset.rows.filter((r) => r.meta.emotion_folder === "contempt" && folds[0]!.includes(r.meta.subject!));
  assert.equal(set.splitFaces, set.faces.length);
  assert.equal(
    set.faces.length + contempt.length,
    dataset.rows.filter((r) => folds[0]!.includes(r.meta.subject!)).length,
    "only contempt is left out",
  );
});
