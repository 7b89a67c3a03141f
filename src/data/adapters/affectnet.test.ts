import assert from "node:assert/strict";
import { test } from "node:test";
import { rejectsWith, writeLayout } from "../../../test/support/dataset-layouts.js";
import { splitDataset } from "../splits.js";
import { EXPRESSION_CLASSES } from "../tasks.js";
import { loadAffectnet } from "./affectnet.js";

const HEADER = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal";
const line = (path: string, expression: number | string) => `${path},10,12,200,201,"1.0;2.0;3.0",${expression},0.5,-0.25`;

test("AffectNet: ids 0-6 map to our classes, 7-10 are left out and counted, validation.csv is the test split", async () => {
  const root = await writeLayout("affectnet", {
    "training.csv":
      [HEADER, line("1/a.jpg", 0), line("1/b.jpg", 6), line("2/c.jpg", 7), line("2/d.jpg", 10), line("2/e.jpg", 1)].join("\n") + "\n",
    "validation.csv": [HEADER, line("3/f.jpg", 3), line("3/g.jpg", 8)].join("\n") + "\n",
  });
  const dataset = await loadAffectnet(root);
  assert.deepEqual(
    dataset.rows.map((row) => row.path),
    ["1/a.jpg", "1/b.jpg", "2/e.jpg", "3/f.jpg"].map((p) => `Manually_Annotated_Images/${p}`),
  );
  assert.deepEqual(
    dataset.rows.map((row) => EXPRESSION_CLASSES[row.labels[0]]),
    ["neutral", "angry", "happy", "surprise"],
  );
  assert.deepEqual(dataset.rows[0].meta, {
    split: "training",
    affectnet_expression: "0",
    face_x: "10",
    face_y: "12",
    face_width: "200",
    face_height: "201",
    valence: "0.5",
    arousal: "-0.25",
  });
  assert.deepEqual(splitDataset(dataset), { train: [0, 1, 2], val: [], test: [3] });
  assert.deepEqual(dataset.warnings, [
    "affectnet/training.csv: left out ids 7-10 (1 contempt, 0 none, 0 uncertain, 1 no face). The expression task has the 7 basic classes.",
    "affectnet/validation.csv: left out ids 7-10 (0 contempt, 1 none, 0 uncertain, 0 no face). The expression task has the 7 basic classes.",
  ]);
});

test("AffectNet: a bad id, a missing column or no csv is an error naming the file and line", async () => {
  await rejectsWith(
    loadAffectnet(await writeLayout("affectnet", { "training.csv": [HEADER, line("1/a.jpg", 0), line("1/b.jpg", "happy")].join("\n") })),
    'affectnet/training.csv line 3: expression is "happy", expected an AffectNet id 0-10',
  );
  await rejectsWith(
    loadAffectnet(await writeLayout("affectnet", { "validation.csv": "subDirectory_filePath,emotion\n1/a.jpg,0\n" })),
    'affectnet/validation.csv line 1: lacks "expression"',
  );
  await rejectsWith(loadAffectnet(await writeLayout("affectnet", {})), "affectnet/training.csv: not found (nor validation.csv)");
});
