import assert from "node:assert/strict";
import { test } from "node:test";
import { attributeList, attributeValues, images, rejectsWith, writeLayout, type Layout } from "../../../test/support/dataset-layouts.js";
import { splitDataset } from "../splits.js";
import { CELEBA_ATTRIBUTES } from "../tasks.js";
import { loadCeleba, loadLfwa } from "./celeba.js";

const ROWS = [
  { name: "000001.jpg", values: attributeValues(2, 39) },
  { name: "000002.jpg", values: attributeValues(20) },
  { name: "000003.jpg", values: attributeValues() },
];

function celeba(overrides: Layout = {}): Layout {
  return {
    "list_attr_celeba.txt": attributeList(CELEBA_ATTRIBUTES, ROWS),
    "list_eval_partition.txt": "000001.jpg 0\n000002.jpg 1\n000003.jpg 2\n",
    ...images("img_align_celeba/000001.jpg"),
    ...overrides,
  };
}

test("CelebA: attributes as 0/1 in CelebA order, the official partition in meta.split", async () => {
  const dataset = await loadCeleba(await writeLayout("celeba", celeba()));
  assert.equal(dataset.format, "celeba");
  assert.equal(dataset.task, "attributes");
  assert.deepEqual(dataset.labelColumns, [...CELEBA_ATTRIBUTES]);
  assert.deepEqual(
    dataset.rows.map((row) => row.path),
    ["img_align_celeba/000001.jpg", "img_align_celeba/000002.jpg", "img_align_celeba/000003.jpg"],
  );
  assert.deepEqual(
    dataset.rows[0].labels,
    CELEBA_ATTRIBUTES.map((_, k) => (k === 2 || k === 39 ? 1 : 0)),
  );
  assert.equal(dataset.rows[1].labels[CELEBA_ATTRIBUTES.indexOf("Male")], 1);
  assert.deepEqual(splitDataset(dataset), { train: [0], val: [1], test: [2] });
});

test("CelebA: lists in Anno/ and Eval/, images in Kaggle's nested img_align_celeba/img_align_celeba/", async () => {
  const layout = celeba({ ...images("img_align_celeba/img_align_celeba/000001.jpg") });
  const root = await writeLayout("celeba", {
    "Anno/list_attr_celeba.txt": layout["list_attr_celeba.txt"],
    "Eval/list_eval_partition.txt": layout["list_eval_partition.txt"],
    ...images("img_align_celeba/img_align_celeba/000001.jpg"),
  });
  const dataset = await loadCeleba(root);
  assert.equal(dataset.rows[2].path, "img_align_celeba/img_align_celeba/000003.jpg");
});

test("CelebA: bad lists are errors naming the file and line", async () => {
  const reordered: string[] = [...CELEBA_ATTRIBUTES];
  reordered[4] = "Bold";
  const cases: [Layout, string[]][] = [
    [
      { "list_attr_celeba.txt": attributeList(CELEBA_ATTRIBUTES, ROWS).replace(/^3/, "4") },
      ['celeba/list_attr_celeba.txt line 1: says "4" images, the file lists 3'],
    ],
    [
      { "list_attr_celeba.txt": attributeList(CELEBA_ATTRIBUTES, ROWS).replace("000002.jpg -1", "000002.jpg 2") },
      ['celeba/list_attr_celeba.txt line 4: 5_o_Clock_Shadow is "2", expected 0 or 1'],
    ],
    [
      { "list_attr_celeba.txt": attributeList(CELEBA_ATTRIBUTES, ROWS).replace("000003.jpg -1 ", "000003.jpg ") },
      ["celeba/list_attr_celeba.txt line 5: has 39 values, expected 40"],
    ],
    [
      { "list_attr_celeba.txt": attributeList(reordered, ROWS) },
      ["celeba/list_attr_celeba.txt line 2: names 40 attributes (unknown: Bold; missing: Bald)"],
    ],
    [
      { "list_eval_partition.txt": "000001.jpg 0\n000003.jpg 2\n" },
      ['celeba/list_attr_celeba.txt line 4: image "000002.jpg" has no line in list_eval_partition.txt'],
    ],
    [
      { "list_eval_partition.txt": "000001.jpg 0\n000002.jpg 3\n" },
      ['celeba/list_eval_partition.txt line 2: "000002.jpg 3" is not "<image> <0|1|2>"'],
    ],
    [
      {
        "list_attr_celeba.txt": attributeList(CELEBA_ATTRIBUTES, [{ name: "../../x.jpg", values: attributeValues() }]),
        "list_eval_partition.txt": "../../x.jpg 0\n",
      },
      ['celeba/list_attr_celeba.txt line 3: path "img_align_celeba/../../x.jpg" leaves the dataset folder'],
    ],
  ];
  for (const [overrides, fragments] of cases) await rejectsWith(loadCeleba(await writeLayout("celeba", celeba(overrides))), ...fragments);
  const { "list_eval_partition.txt": _, ...withoutPartition } = celeba();
  await rejectsWith(loadCeleba(await writeLayout("celeba", withoutPartition)), "celeba/list_eval_partition.txt: not found");
});

test("LFWA: CelebA-style lists over lfw/<person>/ images, train and test partition", async () => {
  const rows = [
    { name: "Aaron_Eckhart/Aaron_Eckhart_0001.jpg", values: attributeValues(20) },
    { name: "Zico/Zico_0002.jpg", values: attributeValues(31) },
  ];
  const root = await writeLayout("lfwa", {
    "list_attr_lfwa.txt": attributeList(CELEBA_ATTRIBUTES, rows),
    "list_eval_partition_lfwa.txt": "Aaron_Eckhart/Aaron_Eckhart_0001.jpg 0\nZico/Zico_0002.jpg 2\n",
    ...images("lfw/Aaron_Eckhart/Aaron_Eckhart_0001.jpg"),
  });
  const dataset = await loadLfwa(root);
  assert.equal(dataset.format, "lfwa");
  assert.deepEqual(
    dataset.rows.map((row) => row.path),
    ["lfw/Aaron_Eckhart/Aaron_Eckhart_0001.jpg", "lfw/Zico/Zico_0002.jpg"],
  );
  assert.equal(dataset.rows[1].labels[CELEBA_ATTRIBUTES.indexOf("Smiling")], 1);
  assert.deepEqual(splitDataset(dataset), { train: [0], val: [], test: [1] });
});
