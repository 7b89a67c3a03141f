import assert from "node:assert/strict";
import { test } from "node:test";
import { images, rejectsWith, writeLayout } from "../../../test/support/dataset-layouts.js";
import { splitDataset } from "../splits.js";
import { loadAgedb, loadUtkface } from "./age-file-names.js";

test("UTKFace: age, gender and race from the file names, in the folder and its part folders", async () => {
  const root = await writeLayout(
    "UTKFace",
    images(
      "part1/1_0_2_20161219140530307.jpg.chip.jpg",
      "part2/116_1_0_20170120134701015.jpg.chip.jpg",
      "39_1_20170116174525125.jpg.chip.jpg",
      "25_0_3_20170119153120123.jpg",
      "notes/readme.jpg",
    ),
  );
  const dataset = await loadUtkface(root);
  assert.equal(dataset.task, "age");
  assert.deepEqual(
    dataset.rows.map((row) => [row.path, row.labels[0], row.meta.gender, row.meta.race]),
    [
      ["25_0_3_20170119153120123.jpg", 25, "0", "3"],
      ["39_1_20170116174525125.jpg.chip.jpg", 39, "1", ""],
      ["part1/1_0_2_20161219140530307.jpg.chip.jpg", 1, "0", "2"],
      ["part2/116_1_0_20170120134701015.jpg.chip.jpg", 116, "1", "0"],
    ],
  );
  assert.deepEqual(dataset.warnings, [
    'UTKFace: 1 image names are not <age>_<gender>_<race>_<date&time>.jpg.chip.jpg ("notes/readme.jpg"). They were skipped.',
  ]);
  assert.deepEqual(dataset.split, { kind: "hash", by: "file", fractions: [0.8, 0.1, 0.1] });
});

test("UTKFace: an age past 120 is an error naming the file; a folder without UTKFace names has no rows", async () => {
  await rejectsWith(
    loadUtkface(await writeLayout("UTKFace", images("part1/130_0_0_20170120134701015.jpg.chip.jpg"))),
    "UTKFace/part1/130_0_0_20170120134701015.jpg.chip.jpg: age 130 in the file name is outside 0-120. Rename or remove the file.",
  );
  await rejectsWith(loadUtkface(await writeLayout("UTKFace", images("a.jpg"))), "UTKFace: has no rows");
});

test("AgeDB: id, name, age and gender from the file names; the split keeps each person in one part", async () => {
  const people = ["MariaCallas", "Albert_Einstein", "Zoe"];
  const files = people.flatMap((name, p) =>
    Array.from({ length: 30 }, (_, k) => `${p * 100 + k}_${name}_${20 + k}_${p === 1 ? "m" : "f"}.jpg`),
  );
  const dataset = await loadAgedb(await writeLayout("AgeDB", images(...files)));
  const first = dataset.rows.find((row) => row.path === "0_MariaCallas_20_f.jpg")!;
  assert.deepEqual([first.labels, first.meta], [[20], { agedb_id: "0", subject: "MariaCallas", gender: "f" }]);
  assert.equal(dataset.rows.find((row) => row.path === "101_Albert_Einstein_21_m.jpg")!.meta.subject, "Albert_Einstein");
  assert.equal(dataset.rows.length, 90);
  for (const seed of [0, 1, 2, 3]) {
    const split = splitDataset(dataset, { seed });
    for (const part of [split.train, split.val, split.test]) {
      const subjects = new Set(part.map((index) => dataset.rows[index].meta.subject));
      for (const other of [split.train, split.val, split.test].filter((p) => p !== part)) {
        assert.ok(
          other.every((index) => !subjects.has(dataset.rows[index].meta.subject)),
          `seed ${seed}`,
        );
      }
    }
  }
});
