import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { ferPixels, images, rejectsWith, writeLayout } from "../../../test/support/dataset-layouts.js";
import { rowImageInput } from "../row-image.js";
import { splitDataset } from "../splits.js";
import { EXPRESSION_CLASSES } from "../tasks.js";
import { loadFer2013Csv, loadFer2013Folders } from "./fer2013.js";

const csv = (...lines: string[]) => ["emotion,pixels,Usage", ...lines].join("\n") + "\n";

test("FER2013 csv: rows name their line, hold their 48x48 pixels, and split by Usage", async () => {
  const root = await writeLayout("fer", {
    "fer2013.csv": csv(`0,${ferPixels(1)},Training`, `6,${ferPixels(2)},PublicTest`, `3,${ferPixels(3)},PrivateTest`),
  });
  const dataset = await loadFer2013Csv(root);
  assert.deepEqual(
    dataset.rows.map((row) => [row.path, row.file, EXPRESSION_CLASSES[row.labels[0]], row.meta.fer2013_usage]),
    [
      ["fer2013.csv#2", join(root, "fer2013.csv"), "angry", "Training"],
      ["fer2013.csv#3", join(root, "fer2013.csv"), "neutral", "PublicTest"],
      ["fer2013.csv#4", join(root, "fer2013.csv"), "happy", "PrivateTest"],
    ],
  );
  assert.deepEqual(splitDataset(dataset), { train: [0], val: [1], test: [2] });
  const pixels = dataset.rows[1].pixels!;
  assert.deepEqual([pixels.width, pixels.height, pixels.channels, pixels.data.length], [48, 48, 1, 2304]);
  assert.deepEqual([...pixels.data.subarray(0, 3)], [26, 33, 40]);

  const input = await rowImageInput(dataset.rows[1]);
  assert.ok(typeof input !== "string" && input.name === "fer2013.csv#3");
  const meta = await sharp(input.bytes).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ["png", 48, 48, 1]);
  const decoded = await sharp(input.bytes).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual(new Uint8Array(decoded.data), pixels.data, "the PNG holds the exact pixels");
});

test("FER2013 csv: Kaggle's icml_face_data.csv with spaced column names reads the same", async () => {
  const root = await writeLayout("fer", { "icml_face_data.csv": `emotion, Usage, pixels\n5,Training,${ferPixels(0)}\n` });
  const dataset = await loadFer2013Csv(root);
  assert.deepEqual([dataset.rows[0].path, EXPRESSION_CLASSES[dataset.rows[0].labels[0]]], ["icml_face_data.csv#2", "surprise"]);
});

test("FER2013 csv: bad emotion, usage or pixels are errors naming the line", async () => {
  const load = async (text: string) => loadFer2013Csv(await writeLayout("fer", { "fer2013.csv": text }));
  await rejectsWith(
    load(csv(`0,${ferPixels(1)},Training`, `7,${ferPixels(1)},Training`)),
    'fer/fer2013.csv line 3: emotion is "7", expected 0-6 (angry, disgust',
  );
  await rejectsWith(
    load(csv(`0,${ferPixels(1)},Train`)),
    'fer/fer2013.csv line 2: Usage is "Train", expected Training, PublicTest, PrivateTest',
  );
  await rejectsWith(load(csv(`0,${ferPixels(1)} 4,Training`)), "fer/fer2013.csv line 2: pixels are not 2304 values 0-255");
  await rejectsWith(load(csv(`0,${ferPixels(1).replace(/^\d+/, "256")},Training`)), "line 2: pixels are not 2304 values 0-255");
  await rejectsWith(
    load("emotion,pixel,Usage\n"),
    "fer/fer2013.csv line 1: has columns emotion, pixel, Usage, expected emotion, pixels, Usage",
  );
});

test("FER2013 folders: class folders (with their usual variants), usage from the file name or the folder", async () => {
  const root = await writeLayout(
    "fer",
    images(
      "train/angry/Training_1.jpg",
      "train/happiness/a.png",
      "train/notes.txt",
      "test/Surprise/PublicTest_9.jpg",
      "test/surprise/b.jpg",
      "val/sad/c.jpg",
    ),
  );
  const dataset = await loadFer2013Folders(root);
  assert.deepEqual(
    dataset.rows.map((row) => [row.path, EXPRESSION_CLASSES[row.labels[0]], row.meta.fer2013_usage]),
    [
      ["train/angry/Training_1.jpg", "angry", "Training"],
      ["train/happiness/a.png", "happy", "Training"],
      ["val/sad/c.jpg", "sad", "PublicTest"],
      ["test/Surprise/PublicTest_9.jpg", "surprise", "PublicTest"],
      ["test/surprise/b.jpg", "surprise", "PrivateTest"],
    ],
  );
  assert.deepEqual(splitDataset(dataset), { train: [0, 1], val: [2, 3], test: [4] });
  await rejectsWith(
    loadFer2013Folders(await writeLayout("fer", images("train/contempt/a.jpg"))),
    'fer/train/contempt: folder "contempt" is not an expression class',
  );
  await rejectsWith(loadFer2013Folders(await writeLayout("fer", images("other/a.jpg"))), "fer/train: has no rows");
});
