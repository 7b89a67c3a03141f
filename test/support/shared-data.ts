/**
 * Where tests find ../shared (the data and fixtures beside the repo, never copied into it), and
 * the skip message when it is absent.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repo root: the nearest folder above this file holding package.json (works from dist/ too). */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("shared-data: no package.json above the test file");
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
export const SHARED_DIR = resolve(REPO_ROOT, "..", "shared");

/** Absolute path inside ../shared. */
export function sharedPath(...parts: string[]): string {
  return join(SHARED_DIR, ...parts);
}

/** For `test(name, { skip: skipUnlessShared("fixtures/vit-parity") }, ...)`: false, or why it skips. */
export function skipUnlessShared(relative: string): string | false {
  return existsSync(sharedPath(relative)) ? false : `../shared/${relative} is absent (tests read shared data from beside the repo)`;
}
