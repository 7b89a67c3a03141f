import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { rejectsWith, writeLayout } from "../../test/support/dataset-layouts.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { FacepriorError } from "../errors.js";
import type { Dataset, DatasetRow } from "./dataset.js";
import { fewShotIndices, loadFewShotSubset, makeFewShotSubset, parseProtocol, saveFewShotSubset } from "./few-shot.js";
import { loadManifestDataset } from "./manifest.js";
import { splitDataset } from "./splits.js";
import { EXPRESSION_CLASSES, type TaskName } from "./tasks.js";

function toy(task: TaskName, labelColumns: string[], labels: number[][]): Dataset {
  const rows: DatasetRow[] = labels.map((row, index) => ({
    index,
    path: `images/${index}.jpg`,
    file: `/x/images/${index}.jpg`,
    labels: row,
    meta: {},
  }));
  return { root: "/x", name: "toy", format: "manifest", task, labelColumns, rows, split: { kind: "all-train" }, warnings: [] };
}

/** 7 classes, class c has 10 + 3c rows. */
const expressions = toy(
  "expression",
  ["expression"],
  EXPRESSION_CLASSES.flatMap((_, c) => Array.from({ length: 10 + 3 * c }, () => [c])),
);
const everything = expressions.rows.map((row) => row.index);

test("protocols parse from their text, and bad ones are quoted back with the forms", () => {
  assert.deepEqual(parseProtocol("full"), { kind: "full" });
  assert.deepEqual(parseProtocol("ratio:0.01"), { kind: "ratio", ratio: 0.01 });
  assert.deepEqual(parseProtocol("ratio:1"), { kind: "ratio", ratio: 1 });
  assert.deepEqual(parseProtocol(" ratio:.2 "), { kind: "ratio", ratio: 0.2 });
  assert.deepEqual(parseProtocol("kshot:5"), { kind: "kshot", k: 5 });
  for (const bad of ["ratio:0", "ratio:1.5", "ratio:abc", "ratio:", "ratio:-0.1", "kshot:0", "kshot:2.5", "kshot:05x", "half", ""]) {
    assert.throws(
      () => parseProtocol(bad, "--protocol"),
      (error: FacepriorError) =>
        error.code === "BAD_ARGUMENT" &&
        error.message.startsWith(`--protocol: expected "full", "ratio:<f>" with 0 < f <= 1`) &&
        error.message.includes(`got "${bad}"`),
      bad,
    );
  }
});

test("kshot picks exactly k rows of each class from train, the same per seed, nested in k", () => {
  const train = everything.filter((index) => index % 5 !== 0);
  const five = fewShotIndices(expressions, train, { kind: "kshot", k: 5 }, 0);
  assert.equal(five.length, 35);
  for (let c = 0; c < 7; c++) assert.equal(five.filter((index) => expressions.rows[index].labels[0] === c).length, 5, `class ${c}`);
  assert.ok(
    five.every((index) => train.includes(index)),
    "only train rows",
  );
  assert.deepEqual(
    five,
    [...five].sort((a, b) => a - b),
  );
  assert.deepEqual(fewShotIndices(expressions, train, { kind: "kshot", k: 5 }, 0), five);
  assert.notDeepEqual(fewShotIndices(expressions, train, { kind: "kshot", k: 5 }, 1), five);
  const eight = fewShotIndices(expressions, train, { kind: "kshot", k: 8 }, 0);
  assert.ok(
    five.every((index) => eight.includes(index)),
    "kshot:5 is inside kshot:8",
  );
});

test("kshot names the class that has fewer than k training rows, and refuses non-class tasks", () => {
  assert.throws(
    () => fewShotIndices(expressions, everything, { kind: "kshot", k: 11 }, 0),
    (error: FacepriorError) =>
      error.message ===
      'protocol "kshot:11": class "angry" has 10 rows in the train split of toy, fewer than 11. Use a smaller k, or ratio:<f>.',
  );
  const ages = toy("age", ["age"], [[3], [4]]);
  assert.throws(
    () => fewShotIndices(ages, [0, 1], { kind: "kshot", k: 1 }, 0),
    /k-shot needs a class task \(expression\), toy holds age labels/,
  );
});

test("ratio subsets have round(f x N) train rows, are nested across ratios, and change with the seed", () => {
  const train = everything.filter((index) => index % 4 !== 0);
  const sizes = [0.01, 0.1, 0.5, 1].map((ratio) => fewShotIndices(expressions, train, { kind: "ratio", ratio }, 2));
  assert.deepEqual(
    sizes.map((subset) => subset.length),
    [Math.max(1, Math.round(0.01 * train.length)), Math.round(0.1 * train.length), Math.round(0.5 * train.length), train.length],
  );
  for (let k = 1; k < sizes.length; k++)
    assert.ok(
      sizes[k - 1].every((index) => sizes[k].includes(index)),
      `ratio ${k - 1} inside ratio ${k}`,
    );
  assert.deepEqual(sizes[3], train);
  assert.deepEqual(fewShotIndices(expressions, train, { kind: "ratio", ratio: 0.1 }, 2), sizes[1]);
  assert.notDeepEqual(fewShotIndices(expressions, train, { kind: "ratio", ratio: 0.1 }, 3), sizes[1]);
  assert.deepEqual(fewShotIndices(expressions, train, { kind: "full" }, 9), train);
});

test("a small ratio subset still holds a positive of every label that train has", () => {
  // 400 rows, 6 labels; label j is positive in rows where index % (50 * (j + 1)) == 7, so label 5 has 2 positives.
  const labels = Array.from({ length: 400 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i % (50 * (j + 1)) === 7 ? 1 : 0)));
  const attributes = toy("au", ["AU1", "AU2", "AU4", "AU6", "AU7", "AU9"], labels);
  const train = attributes.rows.map((row) => row.index);
  for (const seed of [0, 1, 2]) {
    const subset = fewShotIndices(attributes, train, { kind: "ratio", ratio: 0.02 }, seed);
    assert.equal(subset.length, 8);
    for (let j = 0; j < 6; j++)
      assert.ok(
        subset.some((index) => labels[index][j] === 1),
        `seed ${seed}: no positive of label ${j}`,
      );
  }
});

test("a saved subset reads back, and a changed dataset, bad indices or another task are errors naming the file", async () => {
  const folder = await writeLayout("subsets", {});
  const file = join(folder, "ratio-0.1-seed-0.json");
  const subset = makeFewShotSubset(expressions, everything, "ratio:0.1", 0, "toy: all-train");
  await saveFewShotSubset(file, subset);
  const saved = JSON.parse(await readFile(file, "utf8"));
  assert.deepEqual(Object.keys(saved), ["format", "dataset", "task", "protocol", "seed", "split", "indices", "paths"]);
  assert.deepEqual(
    saved.paths,
    subset.indices.map((index) => `images/${index}.jpg`),
  );
  assert.deepEqual(await loadFewShotSubset(file, expressions), subset);

  const renamed = structuredClone(expressions);
  renamed.rows[subset.indices[2]].path = "images/other.jpg";
  await rejectsWith(
    loadFewShotSubset(file, renamed),
    `${file}: row ${subset.indices[2]} is "images/${subset.indices[2]}.jpg" in the subset but "images/other.jpg" in toy (the dataset changed). Regenerate`,
  );
  const shorter = { ...expressions, rows: expressions.rows.slice(0, subset.indices[subset.indices.length - 1]) };
  await rejectsWith(loadFewShotSubset(file, shorter), `is past the last row of toy`);
  await rejectsWith(loadFewShotSubset(file, { ...expressions, task: "age" }), "is a subset for the expression task, toy holds age labels");

  await writeFile(file, JSON.stringify({ ...saved, indices: [...saved.indices].reverse() }));
  await rejectsWith(loadFewShotSubset(file, expressions), "indices are not sorted and distinct");
  await writeFile(file, JSON.stringify({ ...saved, seed: "zero" }));
  await rejectsWith(loadFewShotSubset(file, expressions), `${file}: field "seed" is invalid`);
  await writeFile(file, "{");
  await rejectsWith(loadFewShotSubset(file, expressions), "is not JSON");
});

test("../shared/data/fer2013: kshot:20 takes 20 Training rows per class", {
  skip: skipUnlessShared("data/fer2013/manifest.csv"),
}, async () => {
  const fer = await loadManifestDataset(sharedPath("data", "fer2013"));
  const subset = makeFewShotSubset(fer, splitDataset(fer).train, "kshot:20", 0, "fer2013_usage");
  assert.equal(subset.indices.length, 140);
  assert.ok(subset.indices.every((index) => fer.rows[index].meta.fer2013_usage === "Training"));
});
