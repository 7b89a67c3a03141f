/**
 * Atomic writes when the target cannot take them: the error names the file and what to do, and
 * no temporary file is left behind, whether the write failed, or the writer was killed.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { rejectsWithError } from "../../test/support/faceprior-error.js";
import { scratchDir } from "../../test/support/scratch-dir.js";
import { writeError, writeFileAtomic } from "./atomic-write.js";

const temporaries = async (dir: string) => (await readdir(dir)).filter((name) => name.endsWith(".tmp"));

test("writing over a folder, or below a file, is a CANNOT_WRITE error naming it, and leaves no temporary file", async () => {
  const dir = await scratchDir("faceprior-atomic-");
  await mkdir(join(dir, "results.json"));
  await rejectsWithError(
    writeFileAtomic(join(dir, "results.json"), "{}"),
    "CANNOT_WRITE",
    /results\.json: cannot be written \(is a folder\)\. Pass a file name, not a folder\./,
  );
  assert.deepEqual(await temporaries(dir), []);
  await writeFile(join(dir, "cache"), "a file");
  await rejectsWithError(
    writeFileAtomic(join(dir, "cache", "cache.json"), "{}"),
    "CANNOT_WRITE",
    /cache\.json: cannot be written \(a folder on its path is a file\)/,
  );
});

test("a full disk is a CANNOT_WRITE error that says so, and the partial file is removed", async (t) => {
  assert.match(
    String((writeError("out.json", Object.assign(new Error("no space"), { code: "ENOSPC" })) as Error).message),
    /^out\.json: cannot be written \(the disk is full\)\. Free some space, then run again\.$/,
  );
  const disk = await scratchDir("faceprior-full-disk-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", disk], { stdio: "ignore" });
  } catch {
    return t.skip("a small tmpfs cannot be mounted here (needs root); the errno mapping above still ran");
  }
  try {
    await rejectsWithError(
      writeFileAtomic(join(disk, "model.safetensors"), new Uint8Array(1 << 20)),
      "CANNOT_WRITE",
      /model\.safetensors: cannot be written \(the disk is full\)/,
    );
    assert.deepEqual(await readdir(disk), [], "the partial temporary file is gone");
  } finally {
    execFileSync("umount", [disk]);
  }
});

test("a temporary file left by a killed writer is removed by the next write of that file; a running writer's is kept", async () => {
  const dir = await scratchDir("faceprior-atomic-");
  const dead = spawnSync(process.execPath, ["-e", ""]).pid; // has exited, so its pid runs nothing of ours
  const abandoned = `.state.json.${dead}-1700000000000-0.tmp`;
  const running = `.state.json.${process.pid}-1700000000000-0.tmp`;
  const otherFile = `.state.json.bak.${dead}-1700000000000-0.tmp`;
  for (const name of [abandoned, running, otherFile]) await writeFile(join(dir, name), "partial");
  await writeFileAtomic(join(dir, "state.json"), "{}");
  assert.equal(await readFile(join(dir, "state.json"), "utf8"), "{}");
  assert.deepEqual((await temporaries(dir)).sort(), [otherFile, running].sort());
});
