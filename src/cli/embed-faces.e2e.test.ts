/**
 * `faceprior embed` from photos to face features, as a researcher runs it: the bundled model by
 * default, each face found and aligned as `analyze` finds it, one row per face with its source
 * and box; sharded over real photos and merged; and the old `--checkpoint` spelling, which still
 * embeds whole images.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { before, test } from "node:test";
import sharp from "sharp";
import { CELEBA } from "../../test/support/celeba-subset.js";
import { assertNoStack, runCli } from "../../test/support/run-cli.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";
import { readSafetensors } from "../checkpoint/safetensors.js";
import { listImageFiles } from "../data/image-files.js";
import { DEFAULT_MODEL_PATH, type ImageAnalysis } from "../inference/face-analyzer.js";
import { readFaceModel } from "../face-model/face-model.js";

const skip = skipUnlessShared(CELEBA);
const PHOTO = sharedPath(CELEBA, "images", "00001.jpg");
let dir = "";
let twoFaces = "";
let wall = "";

before(async () => {
  if (skip) return;
  dir = await scratchDir("faceprior-embed-faces-");
  // Two people side by side: the photo and its mirror image.
  twoFaces = join(dir, "two.jpg");
  const photo = await sharp(PHOTO).toBuffer();
  await sharp({ create: { width: 512, height: 256, channels: 3, background: "white" } })
    .composite([
      { input: photo, left: 0, top: 0 },
      { input: await sharp(photo).flop().toBuffer(), left: 256, top: 0 },
    ])
    .jpeg()
    .toFile(twoFaces);
  wall = join(dir, "wall.png");
  await sharp({ create: { width: 200, height: 200, channels: 3, background: "gray" } })
    .png()
    .toFile(wall);
});

type FaceRow = { source: string; box: ImageAnalysis["faces"][number]["box"]; score: number };

test("embed with the bundled model writes one row per face, found and aligned as analyze finds it, with its source and box", {
  skip,
}, async () => {
  const out = join(dir, "faces.safetensors");
  const run = await runCli(["embed", "--out", out, PHOTO, twoFaces, wall], dir);
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Wrote .*faces\.safetensors: "embeddings", one row per face, for 3 faces in 3 images;/m);
  const { tensors, metadata } = await readSafetensors(out);
  const model = await readFaceModel(DEFAULT_MODEL_PATH);
  assert.deepEqual(tensors.embeddings!.shape, [3, model.cfg.embedDim]);
  const faces = JSON.parse(metadata.faces!) as FaceRow[];
  assert.deepEqual(
    faces.map((f) => f.source),
    [PHOTO, twoFaces, twoFaces],
  );
  assert.deepEqual(JSON.parse(metadata.no_face!), [wall]);

  // The same faces analyze finds, and rows that are the features its heads read: a head applied to a row gives what analyze prints.
  const analyzed = await runCli(["analyze", "--json", join(dir, "analysis.json"), PHOTO, twoFaces], dir);
  assert.equal(analyzed.code, 0, analyzed.stderr);
  const images = (JSON.parse(await readFile(join(dir, "analysis.json"), "utf8")) as { images: ImageAnalysis[] }).images;
  const analysedFaces = images.flatMap((image) => image.faces);
  assert.deepEqual(
    faces.map((f) => f.box),
    analysedFaces.map((f) => f.box),
  );
  const head = model.heads.find((h) => h.activation === "sigmoid" && !h.greyInput)!;
  const rows = tensors.embeddings!.data as Float32Array;
  const dim = model.cfg.embedDim;
  analysedFaces.forEach((face, f) => {
    const row = rows.subarray(f * dim, (f + 1) * dim);
    const shown = Object.values((face.predictions[head.name] as { probabilities: Record<string, number> }).probabilities);
    head.labels.forEach((_, k) => {
      const logit = head.bias[k]! + row.reduce((sum, v, d) => sum + v * head.weight[k * dim + d]!, 0);
      assert.ok(Math.abs(1 / (1 + Math.exp(-logit)) - shown[k]!) < 1e-4, `face ${f}, ${head.name} ${head.labels[k]}`);
    });
  });
});

test("the old --checkpoint spelling still embeds whole images, as --model <file> --crop center does, and says it is deprecated", {
  skip,
}, async () => {
  const old = await runCli(["embed", "--checkpoint", DEFAULT_MODEL_PATH, "--out", join(dir, "old.safetensors"), PHOTO], dir);
  assert.equal(old.code, 0, old.stderr);
  assert.match(
    old.stderr,
    /^note: --checkpoint is deprecated: write --model .* --crop center for what it did \(whole images\), or --model .* alone to embed each face found\.$/m,
  );
  const now = await runCli(["embed", "--model", DEFAULT_MODEL_PATH, "--crop", "center", "--out", join(dir, "now.safetensors"), PHOTO], dir);
  assert.equal(now.code, 0, now.stderr);
  assert.doesNotMatch(now.stderr, /deprecated/);
  assert.deepEqual(await readFile(join(dir, "old.safetensors")), await readFile(join(dir, "now.safetensors")));
  assert.deepEqual(JSON.parse((await readSafetensors(join(dir, "now.safetensors"))).metadata.inputs!), [PHOTO]);
});

test("embed --shard over real photos: each shard a disjoint set of files, and merge joins them into the file one embed writes, byte for byte", {
  skip,
  timeout: 600_000,
}, async () => {
  const photos = join(dir, "shard-photos");
  await mkdir(photos);
  for (const name of ["00002.jpg", "00003.jpg", "00004.jpg", "00005.jpg"])
    await copyFile(sharedPath(CELEBA, "images", name), join(photos, name));
  for (const file of [PHOTO, twoFaces, wall]) await copyFile(file, join(photos, basename(file)));
  await writeFile(join(photos, "notes.jpg"), "not an image");
  const embed = (args: string[]) => runCli(["embed", "--skip-bad", ...args, photos], dir);

  const single = join(dir, "single-faces.safetensors");
  const whole = await embed(["--out", single]);
  assert.equal(whole.code, 0, whole.stderr);
  const shardDirs = [0, 1, 2].map((i) => join(dir, `face-shard-${i}`));
  for (const [i, out] of shardDirs.entries()) {
    const run = await embed(["--shard", `${i}/3`, "--chunk-size", "2", "--out", out]);
    assert.equal(run.code, 0, run.stderr);
  }

  const filesOf = async (out: string) =>
    (
      await Promise.all(
        (
          await readdir(join(out, "chunks"))
        ).map(async (chunk) => {
          const { metadata } = await readSafetensors(join(out, "chunks", chunk));
          return [...JSON.parse(metadata.items!), ...JSON.parse(metadata.skipped!)].map((item: { key: string }) => item.key);
        }),
      )
    ).flat();
  const perShard = await Promise.all(shardDirs.map(filesOf));
  assert.deepEqual(perShard.flat().sort(), (await listImageFiles([photos])).sort(), "every file in exactly one shard");

  const merged = join(dir, "merged-faces.safetensors");
  const run = await runCli(["merge", ...shardDirs, "--out", merged], dir);
  assert.equal(run.code, 0, run.stderr);
  assert.ok((await readFile(merged)).equals(await readFile(single)), "the merged file differs from the single run's");
  const { metadata } = await readSafetensors(merged);
  const faces = JSON.parse(metadata.faces!) as FaceRow[];
  assert.ok(faces.length >= 6 && faces.every((f) => f.source.startsWith(photos) && f.box.width > 0), metadata.faces);
  assert.deepEqual(JSON.parse(metadata.no_face!), [join(photos, "wall.png")]);
  assert.deepEqual(
    JSON.parse(metadata.skipped!).map((s: { path: string }) => s.path),
    [join(photos, "notes.jpg")],
  );
});
