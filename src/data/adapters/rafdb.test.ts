import assert from "node:assert/strict";
import { test } from "node:test";
import { images, rejectsWith, writeLayout } from "../../../test/support/dataset-layouts.js";
import { splitDataset } from "../splits.js";
import { EXPRESSION_CLASSES } from "../tasks.js";
import { loadRafdb } from "./rafdb.js";

const LIST = "train_00001.jpg 5\ntrain_00002.jpg 1\ntest_0001.jpg 7\ntest_0002.jpg 6\n";

test("RAF-DB basic: label ids 1-7 map to our class names, aligned images, train/test from the name", async () => {
  const root = await writeLayout("basic", { "EmoLabel/list_patition_label.txt": LIST, ...images("Image/aligned/train_00001_aligned.jpg") });
  const dataset = await loadRafdb(root);
  assert.equal(dataset.task, "expression");
  assert.deepEqual(
    dataset.rows.map((row) => row.path),
    [
      "Image/aligned/train_00001_aligned.jpg",
      "Image/aligned/train_00002_aligned.jpg",
      "Image/aligned/test_0001_aligned.jpg",
      "Image/aligned/test_0002_aligned.jpg",
    ],
  );
  assert.deepEqual(
    dataset.rows.map((row) => EXPRESSION_CLASSES[row.labels[0]]),
    ["sad", "surprise", "neutral", "angry"],
  );
  assert.deepEqual(splitDataset(dataset), { train: [0, 1], val: [], test: [2, 3] });
});

test("RAF-DB basic: the correctly spelled list name is read too", async () => {
  const dataset = await loadRafdb(await writeLayout("basic", { "EmoLabel/list_partition_label.txt": "train_00001.jpg 4\n" }));
  assert.equal(EXPRESSION_CLASSES[dataset.rows[0].labels[0]], "happy");
});

test("RAF-DB basic: bad ids, names and a missing list are errors naming the file and line", async () => {
  const list = (text: string) => writeLayout("basic", { "EmoLabel/list_patition_label.txt": text });
  await rejectsWith(
    loadRafdb(await list("train_00001.jpg 5\ntrain_00002.jpg 8\n")),
    'basic/EmoLabel/list_patition_label.txt line 2: label "8" is not a RAF-DB basic id (1 surprise, 2 fear, 3 disgust, 4 happy, 5 sad, 6 angry, 7 neutral)',
  );
  await rejectsWith(loadRafdb(await list("val_00001.jpg 5\n")), 'line 1: "val_00001.jpg 5" is not "<train_|test_ image> <label>"');
  await rejectsWith(
    loadRafdb(await list("train_00001.jpg 5\ntrain_00001.jpg 4\n")),
    'line 2: path "Image/aligned/train_00001_aligned.jpg" repeats line 1',
  );
  await rejectsWith(loadRafdb(await writeLayout("basic", {})), "basic/EmoLabel/list_patition_label.txt: not found");
});
