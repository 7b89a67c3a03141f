/**
 * Finding image files in folders a careless or hostile user hands over: links that loop back,
 * pipes and devices named like images, subfolders nobody may read.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { FacepriorError } from "../errors.js";
import { REPO_ROOT } from "../../test/support/shared-data.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { openToAll, runNodeUnprivileged } from "../../test/support/unprivileged.js";
import { decodeImage } from "./image.js";
import { listImageFiles } from "./image-files.js";

const HALF = { size: 8, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

const rejectsImage = (promise: Promise<unknown>, message: RegExp) =>
  assert.rejects(promise, (error: unknown) => error instanceof FacepriorError && error.code === "BAD_IMAGE" && message.test(error.message));

test("links to folders are not followed: a link to the parent lists each photo once, and two such links end", {
  timeout: 20_000,
}, async () => {
  const root = await scratchDir("faceprior-walk-");
  await mkdir(join(root, "sub"));
  for (const name of ["a.png", "sub/b.png"]) await writeFile(join(root, name), "x");
  await symlink("..", join(root, "sub", "up"));
  await symlink(".", join(root, "sub", "here"));
  await symlink("a.png", join(root, "alias.png")); // a link to a file is a photo like any other
  assert.deepEqual(await listImageFiles([root]), [join(root, "a.png"), join(root, "alias.png"), join(root, "sub", "b.png")]);
});

test("a FIFO or a device named like an image is refused at once, never waited on or read to the end", { timeout: 20_000 }, async () => {
  const root = await scratchDir("faceprior-walk-");
  execFileSync("mkfifo", [join(root, "x.jpg")]);
  assert.deepEqual(await listImageFiles([root]), [join(root, "x.jpg")], "listed, so that reading it reports it");
  await rejectsImage(decodeImage(join(root, "x.jpg"), HALF), /x\.jpg: is a FIFO \(named pipe\), not an image\. Pass a regular file\./);
  await rejectsImage(decodeImage("/dev/zero", HALF), /^\/dev\/zero: is a character device, not an image\. Pass a regular file\./);
});

test("a subfolder that cannot be read is reported and the others are still listed", async () => {
  const root = await scratchDir("faceprior-walk-");
  for (const folder of ["open", "private"]) await mkdir(join(root, "photos", folder), { recursive: true });
  for (const name of ["open/a.png", "private/b.png", "z.png"]) await writeFile(join(root, "photos", name), "x");
  await openToAll(root, join(root, "photos"), join(root, "photos", "open"));
  await chmod(join(root, "photos", "private"), 0o000);
  const script = join(root, "walk.mjs");
  const module = join(REPO_ROOT, "dist", "src", "data", "image-files.js");
  await writeFile(
    script,
    `import { imageFiles } from ${JSON.stringify(module)};
const skipped = [];
const files = [];
for await (const file of imageFiles(["photos"], (s) => skipped.push(s))) files.push(file);
console.log(JSON.stringify({ files, skipped }));`,
  );
  await chmod(script, 0o644);
  const run = await runNodeUnprivileged([script], root).finally(() => chmod(join(root, "photos", "private"), 0o755));
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), {
    files: ["photos/open/a.png", "photos/z.png"],
    skipped: [
      { folder: "photos/private", problem: "cannot be read (permission denied)", fix: "Check the folder's permissions, or leave it out." },
    ],
  });
});
