/** Small manifest datasets made of real CelebA-HQ photos from ../shared/data, for end-to-end tests. */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { loadCacheDataset, type CacheDataset } from "../../src/priors/cache-dataset.js";
import { runCli } from "./run-cli.js";
import { sharedPath, skipUnlessShared } from "./shared-data.js";

export const CELEBA = "data/celebahq_attr";

/**
 * Writes `root`/manifest.csv with the first `faces` CelebA-HQ photos (copied to `root`/images)
 * and their 40 attributes, plus the given extra files (name -> bytes) with all-zero labels.
 */
export async function makeCelebaSubset(root: string, faces: number, extra: Record<string, Uint8Array> = {}): Promise<string> {
  await mkdir(join(root, "images"), { recursive: true });
  const source = (await readFile(sharedPath(CELEBA, "manifest.csv"), "utf8")).trim().split("\n");
  const header = source[0]!;
  const rows = source.slice(1, 1 + faces);
  for (const row of rows) {
    const path = row.split(",")[0]!;
    await copyFile(sharedPath(CELEBA, path), join(root, path));
  }
  const zeros = header
    .split(",")
    .slice(1)
    .map(() => "0")
    .join(",");
  for (const [file, bytes] of Object.entries(extra)) {
    await writeFile(join(root, "images", file), bytes);
    rows.push(`images/${file},${zeros}`);
  }
  await writeFile(join(root, "manifest.csv"), [header, ...rows].join("\n") + "\n");
  return root;
}

/**
 * A temp folder holding a CelebA-HQ subset of `faces` photos and its prior cache made by the real
 * `faceprior prepare` (with `prepareArgs`), for tests of what comes after prepare. The caller
 * removes `dir` when done.
 */
export async function preparedCelebaCache(
  name: string,
  faces: number,
  prepareArgs: string[] = [],
): Promise<{ dir: string; cacheDir: string }> {
  const dir = await mkdtemp(join(tmpdir(), `faceprior-${name}-`));
  const cacheDir = join(dir, "cache");
  const run = await runCli(["prepare", "--data", await makeCelebaSubset(join(dir, "data"), faces), "--out", cacheDir, ...prepareArgs], dir);
  assert.equal(run.code, 0, run.stderr);
  return { dir, cacheDir };
}

export type CelebaRow = { path: string; attributes: Record<string, number> };

/** The CelebA-HQ manifest's rows in file order: the image path (relative to CELEBA) and the 40 attributes, 0 or 1. */
export async function celebaRows(): Promise<CelebaRow[]> {
  const [header, ...lines] = (await readFile(sharedPath(CELEBA, "manifest.csv"), "utf8")).trim().split("\n");
  const names = header!.split(",").slice(1);
  return lines.map((line) => {
    const [path, ...values] = line.split(",");
    return { path: path!, attributes: Object.fromEntries(names.map((name, k) => [name, Number(values[k])])) };
  });
}

export type LoadedCelebaCache = { dir: string; cacheDir: string; cache: CacheDataset };

/**
 * Registers `before`/`after` hooks on the calling test file that prepare a CelebA-HQ cache of
 * `faces` photos (skipped when ../shared is absent) and remove it; the returned object is filled
 * in `before`, so tests read its fields when they run.
 */
export function loadedCelebaCache(name: string, faces: number, prepareArgs: string[] = []): LoadedCelebaCache {
  const fixture: LoadedCelebaCache = { dir: "", cacheDir: "", cache: undefined as unknown as CacheDataset };
  before(async () => {
    if (skipUnlessShared(CELEBA)) return;
    Object.assign(fixture, await preparedCelebaCache(name, faces, prepareArgs));
    fixture.cache = await loadCacheDataset(fixture.cacheDir);
  });
  after(async () => {
    if (fixture.dir) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
