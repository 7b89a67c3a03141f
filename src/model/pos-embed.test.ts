import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { REPO_ROOT } from "../../test/support/shared-data.js";
import { maxAbsDiff } from "../../test/support/numerics.js";
import { resamplePosEmbed, sincosPosEmbed } from "./pos-embed.js";

type Reference = { dim: number; grid: number; table: number[]; resampled: Record<string, number[]> };
const reference = JSON.parse(readFileSync(`${REPO_ROOT}/test/fixtures/pos-embed-resample.json`, "utf8")) as Reference;

for (const newGrid of ["5", "2"]) {
  test(`resamplePosEmbed matches PyTorch bicubic from grid 3 to ${newGrid}`, () => {
    const out = resamplePosEmbed(Float32Array.from(reference.table), reference.dim, Number(newGrid));
    const err = maxAbsDiff(out, reference.resampled[newGrid]!);
    assert.ok(err < 1e-5, `max abs error ${err}`);
  });
}

test("resamplePosEmbed keeps the table when the grid is unchanged", () => {
  const table = Float32Array.from(reference.table);
  assert.deepEqual(resamplePosEmbed(table, reference.dim, reference.grid), table);
});

test("sincosPosEmbed: zero class row, sin/cos of column then row positions", () => {
  const dim = 8;
  const table = sincosPosEmbed(dim, 2);
  assert.deepEqual([...table.subarray(0, dim)], new Array(dim).fill(0));
  // Token for row 1, column 0 sits at 1 + 1*2 + 0 = 3; omega = [1, 1/100] for dim 8.
  const token = [...table.subarray(3 * dim, 4 * dim)];
  const expected = [0, 0, 1, 1, Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01)];
  assert.ok(maxAbsDiff(token, expected) < 1e-6, `got ${token}`);
});
