import assert from "node:assert/strict";
import { test } from "node:test";
import { scoredColumns } from "./task-data.js";

test("AU detection scores only the AUs with enough positives; other tasks keep every column", () => {
  // 4 faces x 3 AUs: AU1 has 3 positives, AU2 1, AU4 2.
  const labels = Float32Array.from([1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual(scoredColumns("au", labels, ["AU1", "AU2", "AU4"], 2), [0, 2]);
  assert.deepEqual(scoredColumns("attributes", labels, ["a", "b", "c"], 2), [0, 1, 2]);
  assert.throws(() => scoredColumns("au", labels, ["AU1", "AU2", "AU4"], 5), /AU labels: no AU has 5 positives \(most: 3\)/);
});
