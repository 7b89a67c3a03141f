/** Temporary folders go when the CLI is interrupted: Ctrl-C (exit 130) and SIGTERM (exit 143) alike. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { access, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../../test/support/shared-data.js";
import { scratchDir } from "../../test/support/scratch-dir.js";

/** A process that handles signals as the CLI does, makes a temp folder, prints it and waits. */
async function holdingTempDir(dir: string): Promise<{ folder: string; stop(signal: NodeJS.Signals): Promise<number | null> }> {
  const module = (path: string) => JSON.stringify(join(REPO_ROOT, "dist", "src", path));
  const script = join(dir, "hold.mjs");
  await writeFile(
    script,
    `import { makeTempDir } from ${module("io/exit-cleanup.js")};
import { exitOnInterrupt } from ${module("cli/errors.js")};
exitOnInterrupt();
const temp = await makeTempDir("faceprior-held-");
console.log(temp.path);
setInterval(() => {}, 1000);`,
  );
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  const folder = await new Promise<string>((resolve) => child.stdout.once("data", (chunk) => resolve(String(chunk).trim())));
  const stop = (signal: NodeJS.Signals) =>
    new Promise<number | null>((resolve) => {
      child.once("close", resolve);
      child.kill(signal);
    });
  return { folder, stop };
}

for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  test(`${signal} ends the CLI with ${code} and removes its temporary folders`, async () => {
    const held = await holdingTempDir(await scratchDir("faceprior-exit-"));
    await access(held.folder);
    assert.equal(await held.stop(signal), code);
    await assert.rejects(access(held.folder), { code: "ENOENT" }, `${held.folder} is left behind`);
  });
}
