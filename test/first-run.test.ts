/**
 * What a new user meets before any code runs (issue #14): the README's first screen states the
 * code and weights licences, and the first `npx faceprior` after `npm ci` builds nothing (npx
 * runs `prepare`, which must be an incremental `tsc -b` that finds the built tree up to date,
 * not a clean rebuild).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { REPO_ROOT } from "./support/shared-data.js";

/** What a terminal shows before scrolling. */
const FIRST_SCREEN_LINES = 30;

test("the README's first screen states the code licence and the weights' non-commercial licence", async () => {
  const firstScreen = (await readFile(join(REPO_ROOT, "README.md"), "utf8")).split("\n").slice(0, FIRST_SCREEN_LINES).join("\n");
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8"));
  assert.match(firstScreen, new RegExp(`code is ${pkg.license}`), "the code licence, as package.json states it");
  assert.match(firstScreen, /non-commercial\s+research only/, "the bundled weights' licence");
  assert.match(await readFile(join(REPO_ROOT, "LICENSE"), "utf8"), new RegExp(pkg.license));
});

test("prepare, which npx runs before the first command, is tsc -b, and tsc finds the built tree up to date", async () => {
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8"));
  assert.equal(pkg.scripts.prepare, "npm run compile");
  assert.match(pkg.scripts.compile, /^tsc -b tsconfig\.json && /, "compile starts with the incremental build, not a clean one");
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const { stdout } = await promisify(execFile)(process.execPath, [tsc, "-b", "tsconfig.json", "--dry", "--verbose"], { cwd: REPO_ROOT });
  assert.match(stdout, /Project 'tsconfig.json' is up to date/, stdout);
});
