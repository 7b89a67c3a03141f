import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const peers = fileURLToPath(new URL("./peers.js", import.meta.url));

function runPeers(...args: string[]) {
  return spawnSync(process.execPath, [peers, ...args], { encoding: "utf8" });
}

test("a bad option value in a bench script prints one line naming the option and its choices, exit 2", () => {
  const run = runPeers("--sets", "nope");
  assert.equal(run.status, 2);
  assert.equal(
    run.stderr,
    'faceprior [BAD_ARGUMENT]: sets: expected a comma-separated list of fer2013, utkface, celebahq_attr, ckplus_au, got "nope" (string).\n',
  );
});

test("an unknown option in a bench script prints one line without a stack, exit 2", () => {
  const run = runPeers("--bogus");
  assert.equal(run.status, 2);
  assert.equal(run.stderr, "peers.js: Unknown option '--bogus'\n");
});
