import assert from "node:assert/strict";
import { test } from "node:test";
import { rejectsWith, writeLayout } from "../../../test/support/dataset-layouts.js";
import { loadMorph } from "./morph.js";

const CSV =
  "id_num,picture_num,dob,doa,race,gender,facial_hair,age,age_diff,glasses,photo\n" +
  "003077,00,1/1/1970,1/1/1992,B,M,0,22,0,0,Album2/003077_00M22.JPG\n" +
  "003077,01,1/1/1970,1/1/1995,B,M,0,25,3,0,Album2/003077_01M25.JPG\n";

test("MORPH II: photo path, age, and the subject from id_num; other columns in meta", async () => {
  const dataset = await loadMorph(await writeLayout("morph", { "morph_2008_nonCommercial.csv": CSV, "notes.csv": "a,b\n1,2\n" }));
  assert.equal(dataset.format, "morph");
  assert.deepEqual(
    dataset.rows.map((row) => [row.path, row.labels[0], row.meta.subject, row.meta.race]),
    [
      ["Album2/003077_00M22.JPG", 22, "003077", "B"],
      ["Album2/003077_01M25.JPG", 25, "003077", "B"],
    ],
  );
  assert.deepEqual(dataset.split, { kind: "hash", by: "subject", fractions: [0.8, 0.1, 0.1] });
  const plain = await loadMorph(await writeLayout("morph", { "labels.csv": "filename,Age\na.jpg,30\n" }));
  assert.deepEqual(
    [plain.rows[0].path, plain.rows[0].labels[0], plain.split],
    ["a.jpg", 30, { kind: "hash", by: "file", fractions: [0.8, 0.1, 0.1] }],
  );
});

test("MORPH II: a bad age or path is an error naming the line; no usable csv names the columns", async () => {
  await rejectsWith(
    loadMorph(await writeLayout("morph", { "m.csv": "photo,age\na.jpg,22\nb.jpg,old\n" })),
    'morph/m.csv line 3: age is "old", expected an integer 0-120',
  );
  await rejectsWith(
    loadMorph(await writeLayout("morph", { "m.csv": "photo,age\n../a.jpg,22\n" })),
    'morph/m.csv line 2: path "../a.jpg" leaves the dataset folder',
  );
  await rejectsWith(
    loadMorph(await writeLayout("morph", { "m.csv": "photo,years\na.jpg,22\n" })),
    "has no CSV with an image path column and an age column",
    "photo/filename/file/path/image and age",
  );
});
