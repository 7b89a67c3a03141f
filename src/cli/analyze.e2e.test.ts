/**
 * `faceprior analyze` with the bundled model, as a user runs it: the example photo, a photo with
 * two faces, and a folder mixing a photo, an image without a face and files that are not images.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { DEFAULT_MODEL_PATH } from "../inference/face-analyzer.js";
import { readFaceModel } from "../face-model/face-model.js";
import { assertNoStack, CLI_MAIN, runCli } from "../../test/support/run-cli.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { openToAll, runNodeUnprivileged } from "../../test/support/unprivileged.js";
import { REPO_ROOT } from "../../test/support/shared-data.js";

const EXAMPLE = join(REPO_ROOT, "examples", "astronaut.jpg");
const skip = await access(DEFAULT_MODEL_PATH).then(
  () => false,
  () => `the bundled model ${DEFAULT_MODEL_PATH} is missing (scripts/build-default-model.sh makes it)`,
);
let dir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-analyze-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("analyze prints the example photo's one face with every head, and writes JSON and an overlay", { skip }, async () => {
  const run = await runCli(["analyze", EXAMPLE, "--landmarks", "--json", join(dir, "out.json"), "--overlay", join(dir, "overlays")], dir);
  assertNoStack(run);
  assert.equal(run.code, 0, run.stderr);
  const model = await readFaceModel(DEFAULT_MODEL_PATH);
  assert.match(run.stdout, /astronaut\.jpg \(512x512\): 1 face\n  face 1: box x \d+ y \d+ w \d+ h \d+ \(score \d\.\d\d\)/);
  for (const head of model.heads) assert.match(run.stdout, new RegExp(`^    ${head.name}[ :(]`, "m"), `head ${head.name} printed`);
  assert.match(run.stdout, /landmarks \(68, x,y in pixels\)/);
  const json = JSON.parse(await readFile(join(dir, "out.json"), "utf8"));
  const face = json.images[0].faces[0];
  assert.equal(face.landmarks.length, 68);
  assert.deepEqual(Object.keys(face.predictions).sort(), model.heads.map((h) => h.name).sort());
  // Boxes and landmarks are in the photo's pixels: the face is in the upper middle of the 512x512 portrait.
  assert.ok(face.box.x > 100 && face.box.x + face.box.width < 350 && face.box.y < 150, JSON.stringify(face.box));
  assert.ok(
    face.landmarks.every(
      ([x, y]: number[]) =>
        x >= face.box.x - 20 && x <= face.box.x + face.box.width + 20 && y >= face.box.y - 20 && y <= face.box.y + face.box.height + 40,
    ),
  );
  const overlay = await sharp(join(dir, "overlays", "astronaut.jpg.overlay.png")).metadata();
  assert.equal(overlay.format, "png");
  assert.ok(overlay.width! > 512, "the photo plus a tile per face");
});

test("analyze finds both faces in a photo of two people, and the expected ones in a mixed folder", { skip }, async () => {
  const folder = join(dir, "mixed");
  await mkdir(folder, { recursive: true });
  const photo = await sharp(EXAMPLE).extract({ left: 100, top: 0, width: 256, height: 256 }).toBuffer();
  await sharp({ create: { width: 512, height: 256, channels: 3, background: "white" } })
    .composite([
      { input: photo, left: 0, top: 0 },
      { input: await sharp(photo).flop().toBuffer(), left: 256, top: 0 },
    ])
    .jpeg()
    .toFile(join(folder, "a-two.jpg"));
  await sharp({ create: { width: 200, height: 200, channels: 3, background: "gray" } })
    .png()
    .toFile(join(folder, "b-wall.png"));
  const bytes = await readFile(EXAMPLE);
  await writeFile(join(folder, "c-truncated.jpg"), bytes.subarray(0, 2000));
  await writeFile(join(folder, "d-notes.png"), "not an image");
  const run = await runCli(["analyze", folder], dir);
  assertNoStack(run);
  assert.equal(run.code, 1, "an unreadable image makes the exit status 1");
  assert.match(run.stdout, /a-two\.jpg \(512x256\): 2 faces\n  face 1:[\s\S]*  face 2:/);
  assert.match(run.stdout, /b-wall\.png \(200x200\): no face found \(for a photo cropped tight around the face, try --pad 0\.5\)/);
  assert.match(run.stdout, /c-truncated\.jpg: cannot be analysed: .*c-truncated\.jpg/);
  assert.match(run.stdout, /d-notes\.png: cannot be analysed: .*d-notes\.png/);
});

test("analyze with a file that is not a face model says so and what to pass", async () => {
  const notModel = join(dir, "x.safetensors");
  await writeFile(notModel, "nope");
  const run = await runCli(["analyze", EXAMPLE, "--model", notModel], dir);
  assertNoStack(run);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /x\.safetensors/);
});

test("analyze --overlay into the photos' own folder replaces no photo, keeps same-named photos apart, and goes on past what it cannot read", {
  skip,
  timeout: 120_000,
}, async () => {
  const photos = join(dir, "photos");
  for (const folder of ["a", "b"]) await mkdir(join(photos, folder), { recursive: true });
  const png = await sharp(EXAMPLE).png().toBuffer();
  await writeFile(join(photos, "photo.png"), png);
  for (const folder of ["a", "b"]) await writeFile(join(photos, folder, "x.jpg"), await readFile(EXAMPLE));
  execFileSync("mkfifo", [join(photos, "pipe.jpg")]);
  await writeFile(join(photos, "e\x1b[31m\nvil.png"), "not an image");
  await symlink("..", join(photos, "a", "up")); // a loop back to photos/
  const analyze = () => runCli(["analyze", photos, "--overlay", photos, "--json", join(dir, "photos.json")], dir);
  for (const round of ["first", "again"]) {
    const run = await analyze();
    assertNoStack(run);
    assert.equal(run.code, 1, `${round}: the FIFO and the text file cannot be read`);
    assert.deepEqual(await readFile(join(photos, "photo.png")), png, `${round}: the photo is untouched`);
    for (const overlay of ["photo.png.overlay.png", "a/x.jpg.overlay.png", "b/x.jpg.overlay.png"])
      assert.equal((await sharp(join(photos, overlay)).metadata()).format, "png", `${round}: ${overlay}`);
    const json = JSON.parse(await readFile(join(dir, "photos.json"), "utf8"));
    assert.equal(json.images.length, 5, `${round}: each file once, none through the link, no overlay analysed`);
    assert.match(run.stdout, /pipe\.jpg: cannot be analysed: .*pipe\.jpg: is a FIFO \(named pipe\), not an image\./);
    assert.match(run.stdout, /e\\x1b\[31m\\nvil\.png: cannot be analysed: /, "the name is printed escaped");
    assert.doesNotMatch(run.stdout, /\x1b/, "no escape code reaches the terminal");
  }
});

test("analyze --json naming a folder fails at once, before any work, and leaves nothing in it", async () => {
  const folder = join(dir, "results.json");
  await mkdir(folder);
  const run = await runCli(["analyze", EXAMPLE, "--json", folder], dir);
  assertNoStack(run);
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /^faceprior \[BAD_ARGUMENT\]: --json .*results\.json: is a folder\. Pass a file name, e\.g\. .*results\.json\/results\.json\.\n$/,
  );
  assert.deepEqual(await readdir(folder), []);
});

test("--overlay or --json under a path that is a file fails at once, before any work, naming the file", async () => {
  const file = join(dir, "notes.txt");
  await writeFile(file, "a file, not a folder");
  for (const [flag, target] of [
    ["--overlay", join(file, "overlays")],
    ["--json", join(file, "out.json")],
  ] as const) {
    const run = await runCli(["analyze", EXAMPLE, flag, target], dir);
    assertNoStack(run);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, "", "nothing analysed");
    assert.equal(
      run.stderr,
      `faceprior [BAD_ARGUMENT]: ${flag} ${target}: ${file} is a file, not a folder, so nothing can be written below it. Pass a path whose folders are folders.\n`,
    );
  }
});

test("a subfolder analyze may not read is reported, and the photos in the others are still analysed", {
  skip,
  timeout: 120_000,
}, async () => {
  const root = await scratchDir("faceprior-analyze-private-");
  for (const folder of ["open", "private"]) {
    await mkdir(join(root, "photos", folder), { recursive: true });
    await writeFile(join(root, "photos", folder, "astronaut.jpg"), await readFile(EXAMPLE));
  }
  await openToAll(root, join(root, "photos"), join(root, "photos", "open"));
  await chmod(join(root, "photos", "private"), 0o000);
  const run = await runNodeUnprivileged([CLI_MAIN, "analyze", "photos"], root).finally(() => chmod(join(root, "photos", "private"), 0o755));
  assert.doesNotMatch(run.stderr, /internal error/);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^photos\/open\/astronaut\.jpg \(512x512\): 1 face$/m);
  assert.match(run.stdout, /^photos\/private: cannot be read \(permission denied\)\. Check the folder's permissions, or leave it out\.$/m);
});

test("analyze --shard writes chunk files that merge joins into the JSON one analyze writes, byte for byte", {
  skip,
  timeout: 300_000,
}, async () => {
  const folder = join(dir, "sharded");
  await mkdir(folder, { recursive: true });
  await sharp(EXAMPLE).toFile(join(folder, "astronaut.png"));
  await sharp(EXAMPLE).flop().toFile(join(folder, "flopped.jpg"));
  await sharp({ create: { width: 200, height: 200, channels: 3, background: "gray" } })
    .png()
    .toFile(join(folder, "wall.png"));
  await writeFile(join(folder, "notes.png"), "not an image");
  const single = await runCli(["analyze", folder, "--json", join(dir, "single.json")], dir);
  assert.equal(single.code, 1, "notes.png cannot be read");
  const shards = await Promise.all(
    [0, 1].map((i) => runCli(["analyze", folder, "--shard", `${i}/2`, "--chunk-size", "1", "--out", join(dir, `analysis-${i}`)], dir)),
  );
  for (const run of shards)
    assert.match(run.stderr, /analyze: shard \d\/2 in .*analysis-\d: \d images in \d chunk files \(0 kept from an earlier run\)/);
  const merged = await runCli(["merge", join(dir, "analysis-1"), join(dir, "analysis-0"), "--out", join(dir, "merged.json")], dir);
  assert.equal(merged.code, 0, merged.stderr);
  const text = await readFile(join(dir, "merged.json"), "utf8");
  assert.equal(text, await readFile(join(dir, "single.json"), "utf8"));
  assert.deepEqual(
    JSON.parse(text).images.map((i: { source: string; faces?: unknown[] }) => [i.source.split("/").pop(), i.faces?.length]),
    [
      ["astronaut.png", 1],
      ["flopped.jpg", 1],
      ["notes.png", undefined],
      ["wall.png", 0],
    ],
  );
  const noFolder = await runCli(["analyze", folder, "--shard", "0/2"], dir);
  assert.equal(noFolder.code, 2);
  assert.match(
    noFolder.stderr,
    /--shard: needs --out <folder>, where the shard writes its results for faceprior merge\. Pass e\.g\. --out shards\/analysis-0\./,
  );
});
