import assert from "node:assert/strict";
import { test } from "node:test";
import { columnMoments } from "./column-stats.js";

const close = (got: Float64Array, want: number[]) =>
  want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) < 1e-9, `column ${i}: ${got[i]} vs ${w}`));

test("column moments are each column's mean and population variance, over all rows or the rows given", () => {
  // 3 rows x 2 columns: [1, 10], [3, 20], [5, 60].
  const table = Float32Array.from([1, 10, 3, 20, 5, 60]);
  const all = columnMoments(table, 2);
  close(all.mean, [3, 30]);
  close(all.variance, [8 / 3, 1400 / 3]);
  const subset = columnMoments(table, 2, [2, 0]);
  close(subset.mean, [3, 35]);
  close(subset.variance, [4, 625]);
});
