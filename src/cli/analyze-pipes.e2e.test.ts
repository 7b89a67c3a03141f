/**
 * `faceprior analyze` as a Unix tool, on real CelebA-HQ photos: piped into `head`, JSON lines on
 * stdout, a summary at the end, a progress bar only on a terminal, landmarks only when asked
 * for, and an argument list of 1,000 absolute paths.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, link, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { before, test } from "node:test";
import sharp from "sharp";
import { CELEBA } from "../../test/support/celeba-subset.js";
import { assertNoStack, CLI_MAIN, runCli } from "../../test/support/run-cli.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { sharedPath, skipUnlessShared } from "../../test/support/shared-data.js";

const skip = skipUnlessShared(CELEBA);
const PHOTOS = ["00001.jpg", "00002.jpg", "00003.jpg"].map((name) => sharedPath(CELEBA, "images", name));
/** A line per image: its path, size and faces. */
const IMAGE_LINE = /^\S+ \(\d+x\d+\): (\d+ faces?|no face found.*)$/;
const SUMMARY = /^analyze: (\d+) images?, (\d+) faces? found, (\d+) images? without a face, (\d+) errors?, in \d+\.\d s\.$/m;
let dir = "";

before(async () => {
  if (skip) return;
  dir = await scratchDir("faceprior-analyze-pipes-");
});

/** Runs `script` in bash with the CLI as $CLI and node as $NODE; resolves with what it printed. */
async function bash(script: string, args: string[] = []): Promise<{ stdout: string; stderr: string }> {
  const env = { ...process.env, NODE: process.execPath, CLI: CLI_MAIN };
  return promisify(execFile)("bash", ["-c", script, "bash", ...args], { cwd: dir, env, maxBuffer: 64 << 20 });
}

test("analyze piped into head -1 ends quietly, as Unix tools do: no stack trace, exit 141 (SIGPIPE)", { skip }, async () => {
  const run = await bash(`"$NODE" "$CLI" analyze "$@" | head -1; echo "exit \${PIPESTATUS[0]}" >&2`, PHOTOS);
  assert.match(run.stdout, /^\S+00001\.jpg \(256x256\): 1 face\n$/);
  assert.doesNotMatch(run.stderr, /EPIPE|Error|^\s+at /m, run.stderr);
  assert.match(run.stderr, /^exit 141$/m);
});

test("--json - prints one JSON object per image and line on stdout, and nothing else there", { skip }, async () => {
  const broken = join(dir, "broken.jpg");
  await writeFile(broken, "not an image");
  const run = await runCli(["analyze", "--json", "-", PHOTOS[0]!, broken, PHOTOS[1]!], dir);
  assertNoStack(run);
  assert.equal(run.code, 1, "an unreadable image makes the exit status 1");
  assert.equal(existsSync(join(dir, "-")), false, "no file named -");
  const records = run.stdout
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as { source: string; faces?: { landmarks: unknown[] }[]; error?: string });
  assert.deepEqual(
    records.map((r) => r.source),
    [PHOTOS[0], broken, PHOTOS[1]],
  );
  assert.equal(records[0]!.faces![0]!.landmarks.length, 68, "the JSON has everything");
  assert.match(records[1]!.error!, /broken\.jpg/);
  assert.match(run.stderr, /broken\.jpg: cannot be analysed: /, "what could not be read is said on stderr");
  assert.match(run.stderr, SUMMARY);
});

test("a folder run ends with a one-line summary on stderr, and prints each face in a few lines, without landmarks", { skip }, async () => {
  const folder = join(dir, "mixed");
  await scratchFolder(folder);
  const run = await runCli(["analyze", folder], dir);
  assertNoStack(run);
  assert.equal(run.code, 1);
  const [, images, faces, without, errors] = SUMMARY.exec(run.stderr)!.map(Number);
  assert.deepEqual([images, faces, without, errors], [4, 2, 1, 1], run.stderr);
  assert.doesNotMatch(run.stdout, /landmarks/);
  const blocks = run.stdout.split(/^(?=\S)/m).filter((block) => IMAGE_LINE.test(block.split("\n")[0]!));
  assert.equal(blocks.length, 3);
  for (const block of blocks) assert.ok(block.trimEnd().split("\n").length <= 12, `at most 12 lines per image:\n${block}`);
  assert.doesNotMatch(run.stderr, /ETA/, "no progress bar when stderr is not a terminal");
});

test("--landmarks prints each face's 68 landmarks", { skip }, async () => {
  const run = await runCli(["analyze", "--landmarks", PHOTOS[0]!], dir);
  assert.equal(run.code, 0, run.stderr);
  const [, points] = /landmarks \(68, x,y in pixels\):\n((?: {6}.*\n)+)/.exec(run.stdout)!;
  assert.equal(points!.trim().split(/\s+/).length, 68);
});

test("on a terminal a folder run shows a progress bar with the count and an ETA on stderr", {
  skip: skip || (!existsSync("/usr/bin/script") && "util-linux script (a pseudo-terminal) is absent"),
}, async () => {
  const folder = join(dir, "tty");
  await scratchFolder(folder);
  // script(1) runs the command on a pseudo-terminal: stdout and stderr are both a TTY.
  const run = await bash(`script -qec "\\"$NODE\\" \\"$CLI\\" analyze $1" /dev/null || true`, [folder]); // exit 1: notes.png
  assert.match(run.stdout, /\ranalyze \[[#.]+\] \d\/4 images {2}.* ETA \S+/);
  // The bar is erased before each result and before the summary: no result line starts after it.
  assert.match(run.stdout, /\r\x1b\[Kanalyze: 4 images, 2 faces found, 1 image without a face, 1 error, in \d+\.\d s\.\r\n$/);
  assert.doesNotMatch(run.stdout, /ETA \S+\x1b\[K(?!\r\x1b\[K)/, "every bar is erased before the next line");
});

test("an argument list of 1,000 absolute paths is analysed: exit 0, one JSON line per path, in order", {
  skip,
  timeout: 900_000,
}, async () => {
  const folder = join(dir, "many");
  await mkdir(folder);
  // Two photos among 998 hard links to a small grey image (no face, so only the teacher runs): the list is what is tested.
  const grey = join(folder, "grey.png");
  await sharp({ create: { width: 32, height: 32, channels: 3, background: "gray" } })
    .png()
    .toFile(grey);
  const links = Array.from({ length: 998 }, (_, i) => join(folder, `grey-${String(i).padStart(4, "0")}-${"x".repeat(80)}.png`));
  for (const file of links) await link(grey, file);
  const paths = [PHOTOS[0]!, ...links, PHOTOS[1]!];
  const run = await runCli(["analyze", "--json", "-", ...paths], dir);
  assertNoStack(run);
  assert.deepEqual([run.signal, run.code], [null, 0], run.stderr);
  const sources = run.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line).source);
  assert.deepEqual(sources, paths);
  assert.match(run.stderr, /^analyze: 1000 images, 2 faces found, 998 images without a face, 0 errors, in /m);
});

/** `folder` with two real photos, a grey image without a face and a file that is not an image. */
async function scratchFolder(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (const photo of PHOTOS.slice(0, 2)) await copyFile(photo, join(folder, photo.split("/").pop()!));
  await sharp({ create: { width: 200, height: 200, channels: 3, background: "gray" } })
    .png()
    .toFile(join(folder, "wall.png"));
  await writeFile(join(folder, "notes.png"), "not an image");
}
