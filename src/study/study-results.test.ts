import assert from "node:assert/strict";
import { test } from "node:test";
import type { StudyConfig } from "./study-config.js";
import { meanStd } from "../transfer/evaluate.js";
import { contrastRows, priorEffects, resultTables, type CellResult } from "./study-results.js";

function cell(encoder: string, task: CellResult["task"], protocol: string, perSeed: number[], higherIsBetter = true): CellResult {
  return {
    mode: "probe",
    encoder,
    task,
    protocol,
    perSeed,
    headline: { name: "m", higherIsBetter, ...meanStd(perSeed) },
    baseline: { name: "trivial", value: 0.1 },
    trainFaces: 10,
    testFaces: 5,
    seconds: 1,
  };
}

test("a prior helps when it beats mae by more than two standard errors, and lower is better for age", () => {
  const results = [
    cell("mae", "au", "full", [0.3, 0.31, 0.32]),
    cell("full", "au", "full", [0.4, 0.41, 0.42]), // Δ = 0.10, SE = sqrt(2 · 0.0001 / 3) ≈ 0.0082
    cell("mae+pix", "au", "full", [0.3, 0.32, 0.34]), // Δ = 0.01, SE ≈ 0.0129: no clear effect
    cell("mae", "age", "full", [8, 8.2, 8.4], false),
    cell("full", "age", "full", [9, 9.2, 9.4], false), // one year worse
  ];
  const effects = priorEffects(results);
  const of = (encoder: string, task: string) => effects.find((e) => e.encoder === encoder && e.task === task)!;
  assert.equal(of("full", "au").verdict, "helps");
  assert.ok(Math.abs(of("full", "au").delta - 0.1) < 1e-9);
  assert.ok(Math.abs(of("full", "au").se - Math.sqrt((2 * 0.0001) / 3)) < 1e-9);
  assert.equal(of("mae+pix", "au").verdict, "no clear effect");
  assert.equal(of("full", "age").verdict, "hurts");
  assert.ok(Math.abs(of("full", "age").delta + 1) < 1e-9, "a higher age error is a negative Δ");
  assert.equal(effects.length, 3, "mae itself and cells without a mae partner are left out");
});

test("tables are one per mode and protocol, rows in the config's encoder order, tasks as columns", () => {
  const config = { encoders: { scratch: "scratch", mae: "a", full: "b" } } as unknown as StudyConfig;
  const tables = resultTables(config, [
    cell("full", "expression", "full", [0.5]),
    cell("mae", "au", "full", [0.3]),
    cell("scratch", "au", "full", [0.2]),
    cell("mae", "au", "ratio:0.1", [0.25]),
  ]);
  assert.deepEqual(
    tables.map((t) => t.protocol),
    ["ratio:0.1", "full"],
    "few-shot protocols first, by fraction",
  );
  const full = tables[1]!;
  assert.deepEqual(full.tasks, ["au", "expression"]);
  assert.deepEqual(
    full.rows.map((r) => r.encoder),
    ["scratch", "mae", "full"],
  );
  assert.equal(full.rows[2]!.values.au, undefined);
  assert.equal(full.rows[2]!.values.expression!.mean, 0.5);
  assert.deepEqual(full.baseline, { au: 0.1, expression: 0.1 });
});

test("contrasts set full − mae at two budgets side by side, with the change of Δ and its standard error", () => {
  const results = [
    cell("mae", "au", "full", [0.3, 0.31, 0.32]),
    cell("full", "au", "full", [0.4, 0.41, 0.42]), // Δ = +0.10, SE² = 2 · 0.0001 / 3
    cell("mae-2ep", "au", "full", [0.3, 0.31, 0.32]),
    cell("full-2ep", "au", "full", [0.31, 0.32, 0.33]), // Δ = +0.01, same SE
    cell("mae", "age", "full", [8, 8.2, 8.4], false),
    cell("full", "age", "full", [7, 7.2, 7.4], false), // one year better; no 2-epoch cells
    cell("full", "expression", "full", [0.5]), // no mae partner: no row
  ];
  const rows = contrastRows(results, [
    { name: "pool", encoder: "full", reference: "mae" },
    { name: "2 epochs", encoder: "full-2ep", reference: "mae-2ep" },
  ]);
  assert.deepEqual(
    rows.map((r) => r.task),
    ["au", "age"],
  );
  const [au, age] = rows as [(typeof rows)[0], (typeof rows)[0]];
  const se = Math.sqrt((2 * 0.0001) / 3);
  assert.ok(Math.abs(au.effects[0]!.delta - 0.1) < 1e-9 && Math.abs(au.effects[1]!.delta - 0.01) < 1e-9);
  assert.ok(Math.abs(au.shifts[0]!.delta - 0.09) < 1e-9);
  assert.ok(Math.abs(au.shifts[0]!.se - Math.sqrt(2) * se) < 1e-9);
  assert.equal(au.shifts[0]!.verdict, "larger", "0.09 > 2 · 0.0115");
  assert.ok(Math.abs(age.effects[0]!.delta - 1) < 1e-9, "a lower age error is a positive Δ");
  assert.equal(age.effects[1], null);
  assert.equal(age.shifts[0], null, "no change without the 2-epoch pair");
});
