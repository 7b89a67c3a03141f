/** Small manifest datasets made of real photos of any ../shared/data set, and their prior caches, for end-to-end tests. */
import assert from "node:assert/strict";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { runCli } from "./run-cli.js";
import { sharedPath } from "./shared-data.js";

/**
 * Writes `root` as a copy of `data/<name>` holding `faces` of its rows, evenly spaced through the
 * manifest (so the classes, ages and split values of the whole set are all likely present), with
 * their meta rows and images.
 */
export async function makeSharedSubset(name: string, root: string, faces: number): Promise<string> {
  const read = async (file: string) => (await readFile(sharedPath(`data/${name}`, file), "utf8")).trim().split("\n");
  const [header, ...rows] = await read("manifest.csv");
  const stride = rows.length / faces;
  const picked = Array.from({ length: faces }, (_, i) => rows[Math.floor(i * stride)]!);
  const paths = new Set(picked.map((row) => row.split(",")[0]!));
  for (const path of paths) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await copyFile(sharedPath(`data/${name}`, path), join(root, path));
  }
  await writeFile(join(root, "manifest.csv"), [header, ...picked].join("\n") + "\n");
  const [metaHeader, ...meta] = await read("meta.csv");
  await writeFile(join(root, "meta.csv"), [metaHeader, ...meta.filter((row) => paths.has(row.split(",")[0]!))].join("\n") + "\n");
  return root;
}

/** A subset of `data/<name>` in `dir`/<name> and its cache in `dir`/<name>-cache, made by the real `faceprior prepare`. */
export async function preparedSharedSubset(name: string, dir: string, faces: number, prepareArgs: string[] = []): Promise<string> {
  const cacheDir = join(dir, `${name}-cache`);
  const run = await runCli(
    ["prepare", "--data", await makeSharedSubset(name, join(dir, name), faces), "--out", cacheDir, ...prepareArgs],
    dir,
  );
  assert.equal(run.code, 0, run.stderr);
  return cacheDir;
}
