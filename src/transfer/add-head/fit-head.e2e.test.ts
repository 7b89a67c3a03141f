/**
 * docs/FINETUNE.md end to end on real photos: CelebA-HQ faces sorted into smiling/ and
 * not_smiling/ by their `Smiling` attribute, `faceprior add-head`, then `faceprior analyze` with
 * the new model; and the walkthrough's API snippet on a multi-label CSV of the same photos.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { CELEBA, celebaRows, type CelebaRow } from "../../../test/support/celeba-subset.js";
import { skipUnlessFaceModel, TEST_FACE_MODEL } from "../../../test/support/face-models.js";
import { assertNoStack, CLI_MAIN, runCli } from "../../../test/support/run-cli.js";
import { scratchDir } from "../../../test/support/scratch-dir.js";
import { maxAbsDiff } from "../../../test/support/numerics.js";
import { sharedPath, skipUnlessShared } from "../../../test/support/shared-data.js";
import type { HeadPrediction, ImageAnalysis } from "../../inference/face-analyzer.js";
import { readFaceModel, type ModelHead } from "../../face-model/face-model.js";

const skip = skipUnlessShared(CELEBA) || skipUnlessFaceModel();
const PER_CLASS = 10;
let dir = "";
/** Copied into dir: photos/<class>/<name>, and try/<class>.jpg, one more photo of each class that is not in photos/. */
let training: { smiling: string[]; not_smiling: string[] };
let tryPhotos: { smiling: string; not_smiling: string };
let rows: CelebaRow[];

const faceprior = (...args: string[]) => runCli(args, dir);

async function copyPhoto(row: CelebaRow, to: string): Promise<string> {
  await mkdir(join(dir, to, ".."), { recursive: true });
  await copyFile(sharedPath(CELEBA, row.path), join(dir, to));
  return to;
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), "faceprior-fit-head-"));
  rows = await celebaRows();
  const of = (smiling: number) => rows.filter((row) => row.attributes.Smiling === smiling);
  const copyClass = (name: string, picked: CelebaRow[]) =>
    Promise.all(picked.map((row) => copyPhoto(row, `photos/${name}/${basename(row.path)}`)));
  training = {
    smiling: await copyClass("smiling", of(1).slice(0, PER_CLASS)),
    not_smiling: await copyClass("not_smiling", of(0).slice(0, PER_CLASS)),
  };
  tryPhotos = {
    smiling: await copyPhoto(of(1)[PER_CLASS]!, "try/smiling.jpg"),
    not_smiling: await copyPhoto(of(0)[PER_CLASS]!, "try/not_smiling.jpg"),
  };
  // A file that only looks like a photo: it must be listed and left out, not stop the run.
  await writeFile(join(dir, "photos/smiling/notes.jpg"), "shopping list");
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A prediction's numbers: probabilities, or the value. */
const numbersOf = (p: HeadPrediction) => Float32Array.from(p.kind === "value" ? [p.value] : Object.values(p.probabilities));

/** The reference: softmax(W·x + b) of a stored head on raw features x. */
function headProbabilities(head: ModelHead, x: Float32Array): number[] {
  const logits = Array.from(head.bias, (b, k) => b + x.reduce((sum, v, d) => sum + v * head.weight[k * x.length + d]!, 0));
  const top = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - top));
  return exps.map((e) => e / exps.reduce((a, b) => a + b, 0));
}

test("the walkthrough: add-head on a folder per class, then analyze with the new model", { skip }, async (t) => {
  const run = await faceprior(
    "add-head",
    "--name",
    "smile",
    "--photos",
    "photos",
    "--model",
    TEST_FACE_MODEL!,
    "--out",
    "smile.safetensors",
  );
  assert.equal(run.code, 0, run.stderr);
  assertNoStack(run);
  assert.match(run.stderr, /^add-head: photos: 21 photos, 2 classes \(not_smiling, smiling\)$/m);
  assert.match(run.stderr, /^add-head embed: 21 photos in /m);
  assert.match(run.stdout, /^Left out 1 photo:\n {2}photos\/smiling\/notes\.jpg: is not an image sharp can read\. Use JPEG/m);
  assert.match(run.stdout, /^Fitted head "smile" \(softmax\) on 20 photos\.$/m);
  // 10 + 10 photos, 20% of each held out; the majority baseline of a 8 + 8 training set (a tie: the first class) is 0.50.
  const measured =
    /^Held-out accuracy (\d\.\d\d) on 4 photos \(95% interval \d\.\d\d-\d\.\d\d, Wilson\); majority-class baseline 0\.50\.$/m.exec(
      run.stdout,
    );
  assert.ok(measured, run.stdout);
  const table = [...run.stdout.matchAll(/^ {2}(not_smiling|smiling) +(\d+) +(\d+) +(\d+)$/gm)].map((m) =>
    m.slice(1).map((v, i) => (i === 0 ? v : Number(v))),
  );
  assert.deepEqual(
    table.map((row) => row.slice(0, 3)),
    [
      ["not_smiling", 10, 2],
      ["smiling", 10, 2],
    ],
  );
  assert.equal(Number(measured[1]), (Number(table[0]![3]) + Number(table[1]![3])) / 4, "the accuracy is the table's right answers over 4");
  assert.match(
    run.stdout,
    /^Wrote smile\.safetensors \(heads: (\w+, )*smile\)\.\nTry it: faceprior analyze photo\.jpg --model smile\.safetensors$/m,
  );
  t.diagnostic(`model ${TEST_FACE_MODEL}; ${measured[0]}`);

  // The new model is the old one plus the head: the encoder and the other heads unchanged.
  const [base, added] = [await readFaceModel(TEST_FACE_MODEL!), await readFaceModel(join(dir, "smile.safetensors"))];
  assert.deepEqual(
    added.heads.map((h) => h.name),
    [...base.heads.map((h) => h.name), "smile"],
  );
  for (const h of base.heads) assert.deepEqual(added.heads.find((a) => a.name === h.name)!.weight, h.weight, `${h.name} head unchanged`);
  for (const [name, tensor] of Object.entries(base.tensors)) assert.deepEqual(added.tensors[name]!.data, tensor.data, `${name} unchanged`);
  const smile = added.heads.at(-1)!;
  assert.deepEqual([smile.activation, smile.labels], ["softmax", ["not_smiling", "smiling"]]);

  // analyze: two photos the head never saw, and two training photos of each class.
  const trained = [training.smiling[0]!, training.smiling[1]!, training.not_smiling[0]!, training.not_smiling[1]!];
  const analyzed = await faceprior(
    "analyze",
    "--model",
    "smile.safetensors",
    "--json",
    "analysis.json",
    tryPhotos.smiling,
    tryPhotos.not_smiling,
    ...trained,
  );
  assert.equal(analyzed.code, 0, analyzed.stderr);
  assert.equal(
    [...analyzed.stdout.matchAll(/^ {4}smile: (not_smiling|smiling) \((0\.\d\d|1\.00)\)\n {6}not_smiling \d\.\d\d {2}smiling \d\.\d\d$/gm)]
      .length,
    6,
    analyzed.stdout,
  );
  const images = (JSON.parse(await readFile(join(dir, "analysis.json"), "utf8")) as { images: ImageAnalysis[] }).images;
  const smileOf = (source: string) =>
    images.find((image) => image.source === source)!.faces[0]!.predictions.smile as {
      label: string;
      probabilities: Record<string, number>;
    };
  // Sensible on training photos: a linear head fits its 20 photos, so each is given its class;
  // a head that ignored or mixed up the labels passes this for 4 photos of both classes with chance 1/16 at most.
  for (const [file, label] of trained.map((f) => [f, f.includes("not_smiling") ? "not_smiling" : "smiling"]))
    assert.equal(smileOf(file!).label, label, `${file}`);
  // Sensible on unseen photos: what analyze prints is the stored head on the model's features
  // (the standardisation folded in; an unfolded head would be far off), and the other heads are
  // what the old model gives.
  const { FaceAnalyzer } = await import("../../inference/face-analyzer.js");
  const analyzer = await FaceAnalyzer.load({ model: TEST_FACE_MODEL });
  try {
    for (const source of [tryPhotos.smiling, tryPhotos.not_smiling]) {
      const [face] = await analyzer.embed(join(dir, source));
      const expected = headProbabilities(smile, face!.embedding);
      const shown = smileOf(source).probabilities;
      assert.ok(
        Math.abs(shown.not_smiling! - expected[0]!) < 1e-4 && Math.abs(shown.smiling! - expected[1]!) < 1e-4,
        `${source}: ${JSON.stringify(shown)} vs ${expected}`,
      );
      const before = (await analyzer.analyze(join(dir, source))).faces[0]!.predictions;
      const after = images.find((image) => image.source === source)!.faces[0]!.predictions;
      for (const name of Object.keys(before))
        assert.ok(maxAbsDiff(numbersOf(after[name]!), numbersOf(before[name]!)) < 1e-5, `${source}: ${name} head`);
      t.diagnostic(`${source}: smile ${smileOf(source).label} (smiling ${shown.smiling!.toFixed(2)})`);
    }
  } finally {
    await analyzer.dispose();
  }
});

test("add-head gives the held-out estimate with its 95% interval and the majority baseline, and warns when it does not beat it", {
  skip,
}, async () => {
  // Two classes that mean nothing: each holds 5 smiling and 5 not smiling photos of the walkthrough's.
  const classes = {
    a: [...training.smiling.slice(0, 5), ...training.not_smiling.slice(0, 5)],
    b: [...training.smiling.slice(5), ...training.not_smiling.slice(5)],
  };
  for (const [name, photos] of Object.entries(classes)) {
    await mkdir(join(dir, "arbitrary", name), { recursive: true });
    for (const photo of photos) await copyFile(join(dir, photo), join(dir, "arbitrary", name, basename(photo)));
  }
  const run = await faceprior(
    "add-head",
    "--name",
    "noise",
    "--photos",
    "arbitrary",
    "--model",
    TEST_FACE_MODEL!,
    "--out",
    "noise.safetensors",
    "--holdout",
    "0.5",
  );
  assert.equal(run.code, 0, run.stderr);
  const line =
    /^Held-out accuracy (\d\.\d\d) on 10 photos \(95% interval (\d\.\d\d)-(\d\.\d\d), Wilson\); majority-class baseline (\d\.\d\d)\.$/m.exec(
      run.stdout,
    );
  assert.ok(line, run.stdout);
  const [accuracy, low, high, baseline] = line.slice(1).map(Number) as [number, number, number, number];
  assert.ok(low <= accuracy && accuracy <= high && high - low > 0.3, `10 photos give a wide interval: ${line[0]}`);
  assert.equal(baseline, 0.5, "5 + 5 training photos: a tie");
  assert.match(
    run.stderr,
    /^warning: (the head is no better than always answering the majority on the 10 held-out photos \(\d\.\d\d, baseline 0\.50\)|10 held-out photos are too few to tell the head from always answering the majority: the 95% interval of its accuracy, \d\.\d\d-\d\.\d\d, includes the baseline 0\.50)\./m,
  );
});

test("the walkthrough's API snippet: a multi-label head from a CSV of 0/1 columns", { skip }, async () => {
  const labelled = [...training.smiling, ...training.not_smiling].map((photo) => ({
    photo,
    row: rows.find((row) => basename(row.path) === basename(photo))!,
  }));
  const csv = [
    "path,smiling,male",
    ...labelled.map(({ photo, row }) => `${photo.replace(/^photos\//, "")},${row.attributes.Smiling},${row.attributes.Male}`),
  ];
  await writeFile(join(dir, "photos/labels.csv"), csv.join("\n") + "\n");
  const { startEngine, FaceAnalyzer, readLabelledPhotos, fitHead, addHead, writeFaceModel } = await import("../../index.js");
  await startEngine();
  const analyzer = await FaceAnalyzer.load({ model: TEST_FACE_MODEL });
  const photos = await readLabelledPhotos(join(dir, "photos/labels.csv"));
  const { head, report } = await fitHead(analyzer, { name: "looks", photos });
  await writeFaceModel(join(dir, "looks.safetensors"), addHead(analyzer.model, head, { about: report }));
  await analyzer.dispose();
  assert.deepEqual(
    [report.activation, report.photos, report.labels.map((l) => l.label), report.leftOut],
    ["sigmoid", 20, ["smiling", "male"], []],
  );
  assert.equal(report.heldOut?.photos, 4, "round(0.2 x 20) photos held out");
  const withLooks = await FaceAnalyzer.load({ model: join(dir, "looks.safetensors") });
  try {
    // Each label's yes/no on four training photos is the CSV's: 8 decisions a head that ignored the labels gets right with chance 1/256.
    for (const { photo, row } of [labelled[0]!, labelled[1]!, labelled.at(-1)!, labelled.at(-2)!]) {
      const { faces } = await withLooks.analyze(join(dir, photo));
      const looks = faces[0]!.predictions.looks!;
      assert.equal(looks.kind, "labels");
      const decided = Object.entries(looks.kind === "labels" ? looks.probabilities : {}).map(([label, p]) => [label, p >= 0.5 ? 1 : 0]);
      assert.deepEqual(
        decided,
        [
          ["smiling", row.attributes.Smiling],
          ["male", row.attributes.Male],
        ],
        photo,
      );
    }
  } finally {
    await withLooks.dispose();
  }
});

test("add-head stops with the file and the fix: not a face model, a head it has, a folder without classes, a bad --out", {
  skip,
}, async () => {
  await mkdir(join(dir, "empty"), { recursive: true });
  const cases: [string[], number, RegExp][] = [
    [
      ["--photos", "empty"],
      1,
      /^faceprior \[BAD_DATASET\]: empty: has no class folders; a head needs 2 classes or more\. Put each class's photos in its own subfolder: empty\/smiling\/, empty\/neutral\/\.\n$/,
    ],
    [
      ["--photos", "photos", "--name", "au"],
      2,
      /^faceprior \[BAD_ARGUMENT\]: --name: \S+ already has a head "au" \(its heads: (\w+, )*au(, \w+)*\)\. Choose another name, or set replace to overwrite it\.\n$/,
    ],
    [
      ["--photos", "photos", "--name", "big smile"],
      2,
      /^faceprior \[BAD_ARGUMENT\]: --name: expected a head name of letters, digits and _, starting with a letter, got "big smile" \(string\)\.\n$/,
    ],
    [["--photos", "photos", "--out", "smile.onnx"], 2, /^faceprior \[BAD_ARGUMENT\]: --out: "smile\.onnx" must end in \.safetensors\.\n$/],
  ];
  if (!skipUnlessShared("fixtures/vit-parity")) {
    const encoder = sharedPath("fixtures/vit-parity/model.safetensors");
    cases.push([
      ["--photos", "photos", "--model", encoder],
      1,
      /^faceprior \[BAD_CHECKPOINT\]: \S+model\.safetensors: not a face model \(no faceprior\.heads in its metadata\)\. Pass a face model/,
    ]);
  }
  for (const [args, code, message] of cases) {
    const run = await faceprior("add-head", "--name", "smile", "--model", TEST_FACE_MODEL!, "--out", "x.safetensors", ...args);
    assert.equal(run.code, code, `${args.join(" ")}: ${run.stderr}`);
    assert.match(
      run.stderr
        .split("\n")
        .filter((line) => !line.startsWith("add-head:"))
        .join("\n"),
      message,
    );
    assertNoStack(run);
  }
});

test("Ctrl-C during add-head's fit leaves no temporary folder behind", { skip, timeout: 120_000 }, async () => {
  const temp = await scratchDir("faceprior-add-head-tmp-");
  const args = [
    CLI_MAIN,
    "add-head",
    "--name",
    "smile",
    "--photos",
    "photos",
    "--model",
    TEST_FACE_MODEL!,
    "--out",
    "never.safetensors",
    "--epochs",
    "100000",
  ];
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, TMPDIR: temp }, stdio: "ignore" });
  const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
  const fitting = async () => (await readdir(temp)).some((name) => name.startsWith("faceprior-fit-head-"));
  while (!(await fitting())) await new Promise((resolve) => setTimeout(resolve, 50));
  child.kill("SIGINT");
  assert.equal(await closed, 130);
  assert.deepEqual(await readdir(temp), [], "the fit's scratch folder is removed");
});
