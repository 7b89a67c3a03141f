import assert from "node:assert/strict";
import { test } from "node:test";
import { images, rejectsWith, writeLayout } from "../../../test/support/dataset-layouts.js";
import { splitDataset } from "../splits.js";
import { BP4D_AUS, loadBp4d } from "./bp4d.js";

const AUS = [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 23, 24, 27, 28];
const header = ["Frame", ...AUS.map(String)].join(",");
/** A frame line with the given AUs present (1) and the rest absent (0), or 9 for `uncoded`. */
const frame = (n: number, present: number[], uncoded: number[] = []) =>
  [n, ...AUS.map((au) => (uncoded.includes(au) ? 9 : present.includes(au) ? 1 : 0))].join(",");

test("BP4D: the 12 AUs of each coded frame, frames named as in each sequence folder, uncoded frames skipped", async () => {
  const root = await writeLayout("BP4D", {
    "AUCoding/AU_OCC/F001_T1.csv": [header, frame(12, [1, 12, 3]), frame(13, [24]), frame(14, [2], [6])].join("\n") + "\n",
    "AUCoding/AU_OCC/M011_T8.csv": [header, frame(7, [4, 23])].join("\n") + "\n",
    "AUCoding/AU_OCC/readme.csv": "x\n",
    ...images("Sequences/F001/T1/0012.jpg", "Sequences/F001/T1/0013.jpg"),
  });
  const dataset = await loadBp4d(root);
  assert.deepEqual(
    dataset.labelColumns,
    BP4D_AUS.map((au) => `AU${au}`),
  );
  assert.deepEqual(
    dataset.rows.map((row) => [row.path, row.meta.subject, row.meta.sequence, row.meta.frame]),
    [
      ["Sequences/F001/T1/0012.jpg", "F001", "F001_T1", "12"],
      ["Sequences/F001/T1/0013.jpg", "F001", "F001_T1", "13"],
      ["Sequences/M011/T8/7.jpg", "M011", "M011_T8", "7"],
    ],
  );
  const on = (row: number) => dataset.labelColumns.filter((_, k) => dataset.rows[row].labels[k] === 1);
  assert.deepEqual([on(0), on(1), on(2)], [["AU1", "AU12"], ["AU24"], ["AU4", "AU23"]]);
  assert.deepEqual(dataset.warnings, ["BP4D/AUCoding/AU_OCC: 1 frames have an AU coded 9 (not coded). They were skipped."]);
  assert.deepEqual(splitDataset(dataset, { fold: 0 }), { train: [2], val: [], test: [0, 1] }, "F001 is in fold 0, M011 in fold 1");
  assert.deepEqual(splitDataset(dataset, { fold: 1 }), { train: [0, 1], val: [], test: [2] });
});

test("BP4D: AU01-style column names and an AU_OCC folder at the root read the same", async () => {
  const root = await writeLayout("BP4D", {
    "AU_OCC/F002_T2.csv": `0,${BP4D_AUS.map((au) => `AU${String(au).padStart(2, "0")}`).join(",")}\n5,${BP4D_AUS.map((au) => (au === 17 ? 1 : 0)).join(",")}\n`,
  });
  const dataset = await loadBp4d(root);
  assert.deepEqual([dataset.rows[0].path, dataset.rows[0].labels[BP4D_AUS.indexOf(17)]], ["Sequences/F002/T2/5.jpg", 1]);
});

test("BP4D: a missing AU column or a bad value is an error naming the file and line", async () => {
  const without = (au: number) => ["Frame", ...AUS.filter((a) => a !== au)].join(",");
  await rejectsWith(
    loadBp4d(await writeLayout("BP4D", { "AU_OCC/F001_T1.csv": `${without(15)}\n` })),
    "BP4D/AU_OCC/F001_T1.csv line 1: has no column for AU15",
  );
  await rejectsWith(
    loadBp4d(await writeLayout("BP4D", { "AU_OCC/F001_T1.csv": [header, frame(1, []), frame(2, []).replace(/^2,0/, "2,x")].join("\n") })),
    'BP4D/AU_OCC/F001_T1.csv line 3: AU1 is "x", expected 0, 1 or 9 (not coded)',
  );
  await rejectsWith(
    loadBp4d(await writeLayout("BP4D", { "AU_OCC/F001_T1.csv": [header, frame(1, []).replace(/^1,/, "one,")].join("\n") })),
    'line 2: frame is "one", expected a frame number',
  );
});
