import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { images, rejectsWith, writeLayout } from "../../test/support/dataset-layouts.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { findMissingImages } from "./dataset.js";
import { loadManifestDataset } from "./manifest.js";
import { CELEBA_ATTRIBUTES, EXPRESSION_CLASSES } from "./tasks.js";

test("a manifest and its meta load into typed rows, joined on path", async () => {
  const root = await writeLayout("toy_au", {
    "manifest.csv": "path,AU12,AU1\nimages/a.png,1,0\n./images/b.png,0,1\nimages/c.png,0,0\n",
    "meta.csv": "path,subject\nimages/b.png,S2\nimages/a.png,S1\n",
    ...images("images/a.png", "images/b.png"),
  });
  const dataset = await loadManifestDataset(root);
  assert.equal(dataset.name, "toy_au");
  assert.equal(dataset.task, "au");
  assert.deepEqual(dataset.labelColumns, ["AU1", "AU12"]);
  assert.deepEqual(
    dataset.rows.map((row) => [row.index, row.path, row.file, row.labels, row.meta]),
    [
      [0, "images/a.png", join(root, "images/a.png"), [0, 1], { subject: "S1" }],
      [1, "images/b.png", join(root, "images/b.png"), [1, 0], { subject: "S2" }],
      [2, "images/c.png", join(root, "images/c.png"), [0, 0], {}],
    ],
  );
  assert.deepEqual(dataset.split, { kind: "folds", source: "subjects sorted, dealt round-robin", folds: 3 });
  assert.deepEqual(dataset.warnings, [
    'toy_au/meta.csv: has no line for 1 manifest rows ("images/c.png"). Their meta is empty; splits that need a meta field will name them.',
  ]);
  assert.deepEqual(
    (await findMissingImages(dataset)).map((row) => row.path),
    ["images/c.png"],
  );
});

test("labels are read as the task's numbers: class index, years, CelebA -1 as 0", async () => {
  const expression = await loadManifestDataset(
    await writeLayout("faces", { "manifest.csv": "path,expression\na.jpg,neutral\nb.jpg,angry\n" }),
  );
  assert.deepEqual(
    expression.rows.map((row) => row.labels),
    [[EXPRESSION_CLASSES.indexOf("neutral")], [0]],
  );
  assert.deepEqual(expression.split, { kind: "hash", by: "file", fractions: [0.8, 0.1, 0.1] });
  const values = CELEBA_ATTRIBUTES.map((_, k) => (k % 2 === 0 ? "-1" : "1"));
  const attributes = await loadManifestDataset(
    await writeLayout("attrs", { "manifest.csv": `path,${CELEBA_ATTRIBUTES.join(",")}\na.jpg,${values.join(",")}\n` }),
  );
  assert.deepEqual(
    attributes.rows[0].labels,
    CELEBA_ATTRIBUTES.map((_, k) => k % 2),
  );
  const none = await loadManifestDataset(await writeLayout("pool", { "manifest.csv": "path\na.jpg\n" }));
  assert.equal(none.task, "none");
  assert.deepEqual(none.split, { kind: "all-train" });
});

const BAD_MANIFESTS: [string, string, string[]][] = [
  [
    "no path column",
    "file,age\na.jpg,3\n",
    ['toy/manifest.csv line 1: has no "path" column (columns: "file", "age")', 'Name the image column "path".'],
  ],
  ["a repeated column", "path,age,age\na.jpg,3,3\n", ['toy/manifest.csv line 1: repeats columns "age"']],
  [
    "a missing label column",
    `path,${CELEBA_ATTRIBUTES.slice(1).join(",")}\n`,
    ['toy/manifest.csv line 1: misses attributes columns "5_o_Clock_Shadow"', "Add them"],
  ],
  [
    "an extra label column",
    "path,age,gender\na.jpg,3,0\n",
    ['toy/manifest.csv line 1: has columns "gender" that the age task does not have', "move them to meta.csv"],
  ],
  [
    "an age out of range",
    "path,age\na.jpg,3\nb.jpg,130\n",
    ['toy/manifest.csv line 3: age is "130", expected an integer 0-120. Fix the label.'],
  ],
  ["a non-numeric AU", "path,AU1,AU2\na.jpg,0,yes\n", ['toy/manifest.csv line 2: AU2 is "yes", expected 0 or 1.']],
  [
    "an age in hexadecimal",
    "path,age\na.jpg,0x1e\n",
    ['toy/manifest.csv line 2: age is "0x1e", expected an integer 0-120. Fix the label.'],
  ],
  ["an age in exponent form", "path,age\na.jpg,1e1\n", ['toy/manifest.csv line 2: age is "1e1", expected an integer 0-120.']],
  ["an AU in hexadecimal", "path,AU1\na.jpg,0x1\n", ['toy/manifest.csv line 2: AU1 is "0x1", expected 0 or 1.']],
  [
    "an unknown expression",
    "path,expression\na.jpg,contempt\n",
    ['toy/manifest.csv line 2: expression is "contempt", expected one of angry, disgust'],
  ],
  [
    "a duplicate path",
    "path,age\nimages/a.jpg,3\nimages/b.jpg,4\nimages/a.jpg,5\n",
    ['toy/manifest.csv line 4: path "images/a.jpg" repeats line 2. Remove one of them.'],
  ],
  ["a duplicate path spelled differently", "path,age\nimages/a.jpg,3\nimages//./a.jpg,5\n", ['line 3: path "images/a.jpg" repeats line 2']],
  [
    "an absolute path",
    "path,age\n/etc/a.jpg,3\n",
    ['toy/manifest.csv line 2: path "/etc/a.jpg" is absolute. Use a path relative to the dataset folder.'],
  ],
  [
    "a path leaving the folder",
    "path,age\nimages/../../x.jpg,3\n",
    ['toy/manifest.csv line 2: path "images/../../x.jpg" leaves the dataset folder. Use a path inside it.'],
  ],
  [
    "a path through ..",
    "path,age\nimages/../a.jpg,3\n",
    ['toy/manifest.csv line 2: path "images/../a.jpg" goes through "..". Write it without "..": "a.jpg".'],
  ],
  ["an empty path", "path,age\n,3\n", ["toy/manifest.csv line 2: path is empty"]],
  [
    "a path naming the folder itself",
    "path,age\n.,3\n",
    ['toy/manifest.csv line 2: path "." names the dataset folder itself. Give the image file\'s path inside the folder.'],
  ],
  ["a NUL byte in a path", "path,age\na\u0000.jpg,3\n", ['toy/manifest.csv line 2: path "a\\u0000.jpg" holds a control character.']],
  [
    "an over-long path",
    `path,age\n${"folder/".repeat(600)}a.jpg,3\n`,
    ['toy/manifest.csv line 2: path "folder/folder/', "is 4205 bytes long. Use a path of at most 4096 bytes, each name at most 255."],
  ],
  [
    "an over-long file name",
    `path,age\n${"n".repeat(300)}.jpg,3\n`,
    ["toy/manifest.csv line 2:", "is 304 bytes long. Use a path of at most 4096 bytes, each name at most 255."],
  ],
  ["only a header", "path,age\n", ["toy/manifest.csv: has no rows. Add one line per image after the header."]],
  ["an empty file", "", ["toy/manifest.csv: is empty (no header line)"]],
  ["a short line", "path,age\na.jpg,3\nb.jpg\n", ["toy/manifest.csv line 3: is not valid CSV (Invalid Record Length: expect 2, got 1)"]],
];

for (const [what, manifest, fragments] of BAD_MANIFESTS) {
  test(`a manifest with ${what} is an error naming the file and line`, async () => {
    await rejectsWith(loadManifestDataset(await writeLayout("toy", { "manifest.csv": manifest })), ...fragments);
  });
}

test("meta.csv lines for unknown or repeated paths are errors naming the line", async () => {
  const manifest = "path,age\na.jpg,3\nb.jpg,4\n";
  await rejectsWith(
    loadManifestDataset(await writeLayout("toy", { "manifest.csv": manifest, "meta.csv": "path,g\na.jpg,0\nz.jpg,1\n" })),
    'toy/meta.csv line 3: path "z.jpg" is not in manifest.csv',
  );
  await rejectsWith(
    loadManifestDataset(await writeLayout("toy", { "manifest.csv": manifest, "meta.csv": "path,g\na.jpg,0\n./a.jpg,1\n" })),
    'toy/meta.csv line 3: path "a.jpg" repeats line 2',
  );
  await rejectsWith(
    loadManifestDataset(await writeLayout("toy", { "manifest.csv": manifest, "meta.csv": "file,g\na.jpg,0\n" })),
    'toy/meta.csv line 1: has no "path" column',
  );
});

test("a symlink that resolves outside the dataset folder is an error; one inside is fine", async () => {
  const outside = await scratchDir("faceprior-outside-");
  await writeFile(join(outside, "x.jpg"), "x");
  const root = await writeLayout("linked", {
    "manifest.csv": "path,age\nimages/ok.jpg,3\nimages/alias.jpg,4\n",
    ...images("images/ok.jpg"),
  });
  await symlink(join(root, "images/ok.jpg"), join(root, "images/alias.jpg"));
  assert.equal((await loadManifestDataset(root)).rows.length, 2);

  await symlink(join(outside, "x.jpg"), join(root, "images/out.jpg"));
  await writeFile(join(root, "manifest.csv"), "path,age\nimages/ok.jpg,3\nimages/out.jpg,4\n");
  await rejectsWith(
    loadManifestDataset(root),
    'linked/manifest.csv line 3: path "images/out.jpg" resolves to',
    "outside the dataset folder",
  );

  await symlink(outside, join(root, "elsewhere"));
  await writeFile(join(root, "manifest.csv"), "path,age\nelsewhere/missing.jpg,3\n");
  await rejectsWith(loadManifestDataset(root), 'linked/manifest.csv line 2: path "elsewhere/missing.jpg" resolves to', "outside");

  await mkdir(join(root, "dangling"));
  await symlink(join(outside, "gone.jpg"), join(root, "dangling/gone.jpg"));
  await writeFile(join(root, "manifest.csv"), "path,age\ndangling/gone.jpg,3\n");
  await rejectsWith(loadManifestDataset(root), 'line 2: path "dangling/gone.jpg" resolves to', "outside");
});

test("a missing manifest, a file instead of a folder, and the wrong task are errors", async () => {
  const root = await writeLayout("empty", { "notes.txt": "x" });
  await rejectsWith(loadManifestDataset(root), "empty/manifest.csv: not found", "loadDataset");
  await rejectsWith(loadManifestDataset(join(root, "notes.txt")), "notes.txt: is not a folder");
  const ages = await writeLayout("ages", { "manifest.csv": "path,age\na.jpg,3\n" });
  await rejectsWith(
    loadManifestDataset(ages, { task: "expression" }),
    'ages/manifest.csv line 1: holds age labels ("age"), expected expression',
  );
});

const SHARED_COUNTS = { celebahq_attr: 5000, ckplus_au: 726, fer2013: 8347, unlabeled_faces: 5000, utkface: 6516 } as const;

for (const [folder, count] of Object.entries(SHARED_COUNTS)) {
  test(`../shared/data/${folder} loads with the ${count} rows of METHOD §4, meta for every row`, {
    skip: skipUnlessShared(`data/${folder}/manifest.csv`),
  }, async () => {
    const dataset = await loadManifestDataset(sharedPath("data", folder));
    assert.equal(dataset.rows.length, count);
    assert.deepEqual(dataset.warnings, []);
    assert.ok(dataset.rows.every((row) => Object.keys(row.meta).length > 0 && row.labels.length === dataset.labelColumns.length));
  });
}

test("../shared/data/fer2013 and ckplus_au have the label counts their SOURCE.md states", {
  skip: skipUnlessShared("data/fer2013/manifest.csv"),
}, async () => {
  const fer = await loadManifestDataset(sharedPath("data", "fer2013"));
  const perClass = EXPRESSION_CLASSES.map((_, c) => fer.rows.filter((row) => row.labels[0] === c).length);
  assert.deepEqual(perClass, [1300, 547, 1300, 1300, 1300, 1300, 1300]);
  const ck = await loadManifestDataset(sharedPath("data", "ckplus_au"));
  assert.equal(ck.rows.filter((row) => row.labels.some((label) => label === 1)).length, 268, "268 coded peak frames");
  assert.equal(ck.rows.filter((row) => row.labels[ck.labelColumns.indexOf("AU1")] === 1).length, 112);
});

test("a manifest.csv that is a FIFO is refused at once, not waited on", { timeout: 20_000 }, async () => {
  const root = await writeLayout("piped", images("a.jpg"));
  execFileSync("mkfifo", [join(root, "manifest.csv")]);
  await rejectsWith(loadManifestDataset(root), "piped/manifest.csv: is a FIFO (named pipe), not a label table. Pass a regular file.");
});
