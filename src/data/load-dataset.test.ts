import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  attributeList,
  attributeValues,
  ferPixels,
  images,
  rejectsWith,
  writeLayout,
  type Layout,
} from "../../test/support/dataset-layouts.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { FacepriorError } from "../errors.js";
import { BP4D_AUS } from "./adapters/bp4d.js";
import { DISFA_AUS } from "./adapters/disfa.js";
import { DATASET_FORMATS, type DatasetFormat } from "./dataset.js";
import { DATASET_LAYOUTS, detectDatasetFormats, loadDataset } from "./load-dataset.js";
import { CELEBA_ATTRIBUTES, SHARED_DATA_TASKS } from "./tasks.js";

/** The smallest folder of each layout, with the task it holds. */
const LAYOUTS: Record<DatasetFormat, [Layout, string]> = {
  manifest: [{ "manifest.csv": "path,age\na.jpg,3\n" }, "age"],
  celeba: [
    {
      "list_attr_celeba.txt": attributeList(CELEBA_ATTRIBUTES, [{ name: "000001.jpg", values: attributeValues() }]),
      "list_eval_partition.txt": "000001.jpg 0\n",
    },
    "attributes",
  ],
  lfwa: [
    {
      "list_attr_lfwa.txt": attributeList(CELEBA_ATTRIBUTES, [{ name: "A/A_0001.jpg", values: attributeValues() }]),
      "list_eval_partition_lfwa.txt": "A/A_0001.jpg 2\n",
    },
    "attributes",
  ],
  rafdb: [{ "EmoLabel/list_patition_label.txt": "test_0001.jpg 2\n" }, "expression"],
  affectnet: [{ "validation.csv": "subDirectory_filePath,expression\n1/a.jpg,1\n" }, "expression"],
  "fer2013-csv": [{ "fer2013.csv": `emotion,pixels,Usage\n1,${ferPixels(0)},Training\n` }, "expression"],
  "fer2013-folders": [images("train/happy/a.jpg"), "expression"],
  utkface: [images("UTKFace/30_1_2_20170116174525125.jpg.chip.jpg"), "age"],
  agedb: [images("5_Someone_40_m.jpg"), "age"],
  morph: [{ "morph.csv": "photo,age\nAlbum2/a.JPG,40\n" }, "age"],
  bp4d: [{ "AUCoding/AU_OCC/F001_T1.csv": `Frame,${BP4D_AUS.join(",")}\n1,${BP4D_AUS.map(() => 0).join(",")}\n` }, "au"],
  disfa: [Object.fromEntries(DISFA_AUS.map((au) => [`ActionUnit_Labels/SN001/SN001_au${au}.txt`, "1,3\n"])), "au"],
  ckplus: [{ "FACS/S005/001/S005_001_00000011_facs.txt": "9 4\n" }, "au"],
};

test("the layout table lists every format once", () => {
  assert.deepEqual(DATASET_LAYOUTS.map((layout) => layout.format).sort(), [...DATASET_FORMATS].sort());
});

for (const [format, [layout, task]] of Object.entries(LAYOUTS)) {
  test(`auto-detection finds ${format}, and only it, and loads its ${task} labels`, async () => {
    const root = await writeLayout(`as-${format}`, layout);
    assert.deepEqual(await detectDatasetFormats(root), [format]);
    const dataset = await loadDataset(root);
    assert.deepEqual([dataset.format, dataset.task, dataset.rows.length], [format, task, 1]);
    assert.deepEqual(dataset.warnings, []);
    assert.equal((await loadDataset(root, format as DatasetFormat)).format, format);
  });
}

test("a folder of no known layout names every format and what it holds", async () => {
  const root = await writeLayout("stuff", { "notes.txt": "x" });
  await rejectsWith(
    loadDataset(root),
    `${root}: matches no dataset layout. Known layouts: manifest (manifest.csv`,
    "celeba (list_attr_celeba.txt",
    "disfa (ActionUnit_Labels/SN001/SN001_au1.txt",
    "Pass the folder that holds one of them",
  );
  await rejectsWith(loadDataset(join(root, "absent")), "absent: is not a folder");
  await assert.rejects(
    loadDataset(root, "imdb" as DatasetFormat),
    (error: FacepriorError) =>
      error.code === "BAD_ARGUMENT" && error.message.startsWith('format: expected "auto" or one of manifest, celeba, lfwa'),
  );
});

test("a folder that looks like two layouts is read as the first, and the warning names both", async () => {
  const root = await writeLayout("both", { ...LAYOUTS.rafdb[0], ...LAYOUTS.agedb[0] });
  const dataset = await loadDataset(root);
  assert.equal(dataset.format, "rafdb");
  assert.deepEqual(dataset.warnings, [`${root}: looks like rafdb, agedb; read as rafdb. Pass the format to choose another.`]);
  assert.equal((await loadDataset(root, "agedb")).format, "agedb");
});

for (const [folder, task] of Object.entries(SHARED_DATA_TASKS)) {
  test(`../shared/data/${folder} auto-loads as a manifest of ${task} labels`, {
    skip: skipUnlessShared(`data/${folder}/manifest.csv`),
  }, async () => {
    const dataset = await loadDataset(sharedPath("data", folder));
    assert.deepEqual([dataset.format, dataset.task, dataset.warnings], ["manifest", task, []]);
  });
}
