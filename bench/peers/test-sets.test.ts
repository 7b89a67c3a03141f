import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
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
