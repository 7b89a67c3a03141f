import assert from "node:assert/strict";
import { test } from "node:test";
import { cosineSchedule } from "./schedule.js";

const close = (actual: number, expected: number, label: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-15 + 1e-12 * Math.abs(expected), `${label}: got ${actual}, expected ${expected}`);

test("warmup rises linearly from 0, then the cosine falls to the minimum at the last step", () => {
  const lr = cosineSchedule({ peakLr: 1e-3, minLr: 1e-5, warmupSteps: 10, totalSteps: 110 });
  // Hand-computed: peak 1e-3, min 1e-5, 100 decay steps after 10 of warmup.
  const expected: [number, number][] = [
    [0, 0],
    [1, 1e-4],
    [5, 5e-4],
    [10, 1e-3], // top of the cosine
    [35, 1e-5 + 0.99e-3 * 0.5 * (1 + Math.SQRT1_2)], // a quarter of the way: cos(π/4)
    [60, 1e-5 + 0.99e-3 * 0.5], // halfway: cos(π/2) = 0
    [85, 1e-5 + 0.99e-3 * 0.5 * (1 - Math.SQRT1_2)],
    [110, 1e-5],
    [500, 1e-5], // past the end it stays at the minimum
  ];
  for (const [step, value] of expected) close(lr(step), value, `step ${step}`);
  close(lr(35), 8.55017856687341e-4, "step 35 as a number"); // 1e-5 + 0.495e-3 · 1.70710678
});

test("without warmup the first step runs at the peak", () => {
  const lr = cosineSchedule({ peakLr: 0.5, minLr: 0, warmupSteps: 0, totalSteps: 4 });
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((s) => Number(lr(s).toFixed(12))),
    [0.5, 0.426776695297, 0.25, 0.073223304703, 0],
  );
});
