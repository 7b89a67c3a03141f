import assert from "node:assert/strict";
import { symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { images, rejectsWith, writeLayout } from "../../../test/support/dataset-layouts.js";
import { checkEnoughPhotos, checkTargets, readLabelledPhotos, type LabelledPhotos } from "./labelled-photos.js";

const summary = (photos: LabelledPhotos, root: string) => ({
  activation: photos.activation,
  labels: photos.labels,
  photos: photos.photos.map((p) => [p.file.slice(root.length + 1), p.path, p.targets]),
});

test("a folder per class gives a softmax source: classes sorted, subfolders searched, other files skipped", async () => {
  const root = await writeLayout("photos", {
    ...images("smiling/a.jpg", "smiling/more/b.PNG", "neutral/c.jpg", "neutral/d.webp", "neutral/.hidden.jpg"),
    "neutral/notes.txt": "not a photo",
    ".thumbnails/x.jpg": "hidden folder",
  });
  assert.deepEqual(summary(await readLabelledPhotos(root), root), {
    activation: "softmax",
    labels: ["neutral", "smiling"],
    photos: [
      ["neutral/c.jpg", "neutral/c.jpg", [0]],
      ["neutral/d.webp", "neutral/d.webp", [0]],
      ["smiling/a.jpg", "smiling/a.jpg", [1]],
      ["smiling/more/b.PNG", "smiling/more/b.PNG", [1]],
    ],
  });
});

test("a class-folder source says what is wrong with its layout", async () => {
  const empty = await writeLayout("empty", {});
  await rejectsWith(
    readLabelledPhotos(empty),
    `${empty}: has no class folders; a head needs 2 classes or more. Put each class's photos in its own subfolder`,
  );
  const one = await writeLayout("one", images("smiling/a.jpg", "smiling/b.jpg"));
  await rejectsWith(readLabelledPhotos(one), `${one}: has one class folder (smiling)`);
  const loose = await writeLayout("loose", images("a.jpg", "smiling/b.jpg", "neutral/c.jpg"));
  await rejectsWith(
    readLabelledPhotos(loose),
    `${loose}: holds photos outside class folders ("a.jpg"). Move each photo into the folder of its class, e.g. ${join(loose, "<class>", "a.jpg")}.`,
  );
  const few = await writeLayout("few", images("smiling/a.jpg", "smiling/b.jpg", "neutral/c.jpg"));
  await rejectsWith(
    readLabelledPhotos(few),
    `${few}: photos of "neutral": 1 usable; a head needs at least 2. Add photos of "neutral", or leave "neutral" out.`,
  );
  await rejectsWith(
    readLabelledPhotos(join(few, "nowhere")),
    "nowhere: no such file or folder. Pass a folder with one subfolder of photos per class, or a CSV",
  );
  await rejectsWith(readLabelledPhotos(join(few, "smiling/a.jpg")), "a.jpg: is neither a folder nor a .csv file.");
});

test("a CSV of class names gives a softmax source; paths are relative to the CSV's folder", async () => {
  const root = await writeLayout("labelled", {
    "labels.csv": "path,label\nimg/a.jpg,smiling\n./img/b.jpg, neutral \nimg/c.jpg,smiling\nimg/d.jpg,neutral\n",
  });
  const photos = await readLabelledPhotos(join(root, "labels.csv"));
  assert.deepEqual(summary(photos, root), {
    activation: "softmax",
    labels: ["neutral", "smiling"],
    photos: [
      ["img/a.jpg", "img/a.jpg", [1]],
      ["img/b.jpg", "img/b.jpg", [0]],
      ["img/c.jpg", "img/c.jpg", [1]],
      ["img/d.jpg", "img/d.jpg", [0]],
    ],
  });
  assert.equal(photos.source, join(root, "labels.csv"));
});

test("a CSV of 0/1 columns gives a sigmoid (multi-label) source, labels in column order", async () => {
  const root = await writeLayout("multi", { "labels.csv": "path,hat,glasses\na.jpg,1,0\nb.jpg,1,1\nc.jpg,0,1\nd.jpg,0,0\n" });
  assert.deepEqual(summary(await readLabelledPhotos(join(root, "labels.csv")), root), {
    activation: "sigmoid",
    labels: ["hat", "glasses"],
    photos: [
      ["a.jpg", "a.jpg", [1, 0]],
      ["b.jpg", "b.jpg", [1, 1]],
      ["c.jpg", "c.jpg", [0, 1]],
      ["d.jpg", "d.jpg", [0, 0]],
    ],
  });
});

test("a labels CSV names the file, line and fix for wrong columns, labels and paths", async () => {
  const csv = async (text: string) => join(await writeLayout("bad", { "labels.csv": text }), "labels.csv");
  const cases: [string, string][] = [
    ["file,label\na.jpg,x\n", 'labels.csv line 1: has no "path" column (columns: "file", "label"). Name the photo column "path"'],
    ["path\na.jpg\n", "labels.csv line 1: has no label columns. Write path,label (one class per photo) or path,<label>,... (0 or 1 each)."],
    ["path,label,hat\na.jpg,x,1\n", 'labels.csv line 1: has a "label" column and others ("hat"). Use path,label'],
    ["path,hat,hat\na.jpg,1,1\n", 'labels.csv line 1: repeats columns "hat"'],
    ["path,label\na.jpg,smiling\nb.jpg,\n", "labels.csv line 3: label is empty. Give each photo its class name."],
    [
      "path,label\na.jpg,smiling\nb.jpg,smiling\n",
      "labels.csv: names one class (smiling); a head needs 2 classes or more. Add photos of the other classes.",
    ],
    ["path,hat\na.jpg,1\nb.jpg,yes\n", 'labels.csv line 3: hat is "yes", expected 0 or 1. Mark each label 1 (present) or 0 (absent).'],
    [
      "path,hat\na.jpg,1\nb.jpg,1\nc.jpg,0\n",
      'labels.csv: photos without "hat": 1 usable; a head needs at least 2. Add photos without "hat", or leave "hat" out.',
    ],
    ["path,label\n../a.jpg,smiling\n", 'labels.csv line 2: path "../a.jpg" leaves the dataset folder. Use a path inside it.'],
    ["path,label\n/etc/a.jpg,smiling\n", 'labels.csv line 2: path "/etc/a.jpg" is absolute. Use a path relative to the dataset folder.'],
    ["path,label\na.jpg,x\nb.jpg,y\n./a.jpg,y\n", 'labels.csv line 4: path "a.jpg" repeats line 2. Remove one of them.'],
    ["path,label\n", "labels.csv: has no rows. Add one line per photo after the header."],
  ];
  for (const [text, message] of cases) await rejectsWith(readLabelledPhotos(await csv(text)), message);
});

test("a CSV path that leaves the folder through a symlink is refused", async () => {
  const root = await writeLayout("linked", { "labels.csv": "path,label\nout/a.jpg,x\nb.jpg,y\n" });
  await symlink(dirname(root), join(root, "out"));
  await rejectsWith(
    readLabelledPhotos(join(root, "labels.csv")),
    'labels.csv line 2: path "out/a.jpg" resolves to',
    "outside the dataset folder (a symlink)",
  );
});

test("too few usable photos after some are left out: the error says why those were left out", () => {
  const photo = (name: string, k: number) => ({ file: `p/${name}`, path: name, targets: [k] });
  const photos: LabelledPhotos = {
    source: "p",
    activation: "softmax",
    labels: ["a", "b"],
    photos: [photo("1.jpg", 0), photo("2.jpg", 0), photo("3.jpg", 1)],
  };
  const leftOut = [
    { ...photo("4.jpg", 1), reason: "p/4.jpg: no face found" },
    { ...photo("5.jpg", 0), reason: "p/5.jpg: is empty" },
  ];
  assert.throws(() => checkEnoughPhotos(photos, leftOut), {
    message: 'p: photos of "b": 1 usable (left out: p/4.jpg: no face found); a head needs at least 2. Add photos of "b", or leave "b" out.',
  });
  assert.equal(checkEnoughPhotos({ ...photos, photos: [...photos.photos, photo("6.jpg", 1)] }).photos.length, 4);
});

test("photos built by hand are checked: a class index in range, or one 0/1 per label", () => {
  const photo = (targets: number[]) => ({ file: "a.jpg", path: "a.jpg", targets });
  const softmax: LabelledPhotos = { source: "mine", activation: "softmax", labels: ["a", "b"], photos: [photo([1]), photo([2])] };
  assert.throws(() => checkTargets(softmax), {
    message: "photos.photos[1].targets (a.jpg): expected [a class index 0-1], got [2] (object).",
  });
  const sigmoid: LabelledPhotos = {
    source: "mine",
    activation: "sigmoid",
    labels: ["hat", "glasses"],
    photos: [photo([1, 0]), photo([1])],
  };
  assert.throws(() => checkTargets(sigmoid), {
    message: "photos.photos[1].targets (a.jpg): expected 2 values, each 0 or 1, got [1] (object).",
  });
  checkTargets({ ...sigmoid, photos: [photo([1, 0])] });
});
