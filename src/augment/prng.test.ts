import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRng } from "./prng.js";

const draws = (seed: number, name: string, n = 8) => Array.from({ length: n }, seededRng(seed, name));

test("a stream is a pure function of (seed, name); other seeds and names give other streams", () => {
  assert.deepEqual(draws(7, "flip"), draws(7, "flip"));
  assert.notDeepEqual(draws(7, "flip"), draws(8, "flip"));
  assert.notDeepEqual(draws(7, "flip"), draws(7, "affine"));
  assert.notDeepEqual(draws(2 ** 32 + 7, "flip"), draws(7, "flip"), "seeds past 2^32 keep their high bits");
});

test("draws are uniform on [0, 1)", () => {
  const values = draws(1, "uniformity", 20000);
  assert.ok(values.every((v) => v >= 0 && v < 1));
  const counts = new Array(10).fill(0);
  for (const v of values) counts[Math.floor(v * 10)]++;
  // 2000 expected per bin, standard deviation about 42; 200 is a wide margin.
  assert.ok(
    counts.every((c) => Math.abs(c - 2000) < 200),
    `bin counts ${counts}`,
  );
  const lag1 = values.slice(1).reduce((s, v, i) => s + (v - 0.5) * (values[i]! - 0.5), 0) / (values.length - 1) / (1 / 12);
  assert.ok(Math.abs(lag1) < 0.05, `lag-1 correlation ${lag1}`);
});

test("a seed that is not a non-negative safe integer is refused", () => {
  for (const seed of [-1, 1.5, Number.NaN, 2 ** 53])
    assert.throws(() => seededRng(seed, "flip"), /seed: expected a non-negative safe integer/);
});
