import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { rejectsWith, writeLayout } from "../../../test/support/dataset-layouts.js";
import { sharedPath, skipUnlessShared } from "../../../test/support/shared-data.js";
import { splitDataset } from "../splits.js";
import { CKPLUS_AUS, loadCkplus } from "./ckplus.js";

const facs = (...codes: [number, number][]) =>
  codes.map(([au, i]) => `   ${au.toExponential(7)}   ${i.toExponential(7)}`).join("\n") + "\n";

test("CK+: one row per FACS file, over the 19 AU columns, rarer AUs in meta, folds by subject", async () => {
  const root = await writeLayout("CK+", {
    "FACS/S005/001/S005_001_00000011_facs.txt": facs([9, 4], [17, 2]),
    "FACS/S010/002/S010_002_00000014_facs.txt": facs([1, 0], [2, 0], [5, 0], [25, 0], [27, 0], [43, 0]),
    "FACS/S128/004/S128_004_00000013_facs.txt": facs([4, 3], [1.7, 3]),
    "FACS/S011/001/S011_001_00000001_facs.txt": "",
  });
  const dataset = await loadCkplus(root);
  assert.deepEqual(
    dataset.labelColumns,
    CKPLUS_AUS.map((au) => `AU${au}`),
  );
  assert.deepEqual(
    dataset.rows.map((row) => [row.path, row.meta.subject, row.meta.facs_raw, row.meta.all_aus_present]),
    [
      ["cohn-kanade-images/S005/001/S005_001_00000011.png", "S005", "9(4)+17(2)", "9 17"],
      ["cohn-kanade-images/S010/002/S010_002_00000014.png", "S010", "1(0)+2(0)+5(0)+25(0)+27(0)+43(0)", "1 2 5 25 27 43"],
      ["cohn-kanade-images/S128/004/S128_004_00000013.png", "S128", "4(3)", "4"],
    ],
  );
  const on = (row: number) => dataset.labelColumns.filter((_, k) => dataset.rows[row].labels[k] === 1);
  assert.deepEqual(on(1), ["AU1", "AU2", "AU5", "AU25", "AU27"]);
  assert.deepEqual(dataset.warnings, [
    "CK+/FACS/S011/001/S011_001_00000001_facs.txt: holds no AU codes. The frame was skipped.",
    "CK+/FACS/S128/004/S128_004_00000013_facs.txt line 2: AU number 1.7 is not whole. The line was skipped.",
  ]);
  assert.deepEqual(splitDataset(dataset, { fold: 0 }).test, [0], "S005 is the first sorted subject");
});

test("CK+: a line that is not two numbers is an error naming the file and line", async () => {
  await rejectsWith(
    loadCkplus(await writeLayout("CK+", { "FACS/S005/001/S005_001_00000011_facs.txt": "9 4\nAU12\n" })),
    'CK+/FACS/S005/001/S005_001_00000011_facs.txt line 2: "AU12" is not "<AU> <intensity>"',
  );
  await rejectsWith(loadCkplus(await writeLayout("CK+", { "FACS/readme.txt": "x" })), "CK+/FACS: has no rows");
});

test("CK+: the AU columns are those of ../shared/data/ckplus_au", { skip: skipUnlessShared("data/ckplus_au/manifest.csv") }, () => {
  const header = readFileSync(sharedPath("data", "ckplus_au", "manifest.csv"), "utf8")
    .split("\n")[0]
    .trim();
  assert.equal(header, ["path", ...CKPLUS_AUS.map((au) => `AU${au}`)].join(","));
});
